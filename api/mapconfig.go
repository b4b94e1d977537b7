package api

import (
	"strings"

	"github.com/gin-gonic/gin"

	"nbhd/data"
)

// What the map viewer reads besides the public API, under /map/ beside its
// files: where the boroughs lie (view.json), and one indicator's values
// across a neighbourhood set (values.json, with the indicators a set has in
// indicators.json), so the map colours neighbourhoods by any indicator the
// profiles carry, one added later in SQL alone included. Each is data, so
// it goes out under the API's Content-Security-Policy, not the map's, and
// is cached by data version like the rest of the API.

// mapView says where each loaded borough lies and the bounds of them all
// (the map's initial view, and where it goes when a borough is chosen), and
// which layers are drawn as groups at small zooms.
func (s *Server) mapView(c *gin.Context) error {
	c.Header("Content-Security-Policy", apiCSP)
	if err := noParams(c); err != nil {
		return err
	}
	if s.conditional(c, fJSON) {
		return nil
	}
	list, err := s.store.BoroughExtents(c.Request.Context())
	if err != nil {
		return err
	}
	var bounds *[4]float64
	for _, b := range list {
		if bounds == nil {
			bb := b.BBox
			bounds = &bb
			continue
		}
		bounds[0], bounds[1] = min(bounds[0], b.BBox[0]), min(bounds[1], b.BBox[1])
		bounds[2], bounds[3] = max(bounds[2], b.BBox[2]), max(bounds[3], b.BBox[3])
	}
	if list == nil {
		list = []data.BoroughExtent{}
	}
	cat, err := s.store.Catalogue(c.Request.Context())
	if err != nil {
		return err
	}
	return writeJSON(c, fJSON, map[string]any{"bounds": bounds, "boroughs": list, "grouped": groupedLayers(cat)})
}

// groupedLayer says that below zoom Below a layer's tiles carry its
// features merged into groups with only Fields, so the map draws a
// colouring by any other field from Below on.
type groupedLayer struct {
	Below  int      `json:"below"`
	Fields []string `json:"fields"`
	// DenseBelow and DenseAbove: below that zoom, a tile that would hold
	// more than DenseAbove features carries the groups too.
	DenseBelow int `json:"dense_below,omitempty"`
	DenseAbove int `json:"dense_above,omitempty"`
}

// groupedLayers lists the layers drawn as groups at small zooms, by id.
func groupedLayers(cat *data.Catalogue) map[string]groupedLayer {
	out := map[string]groupedLayer{}
	for _, l := range cat.Layers {
		g := l.Groups
		if g == nil || len(l.Bands) == 0 {
			continue
		}
		gl := groupedLayer{Below: int(l.Bands[0]), DenseBelow: int(g.DenseBelow), DenseAbove: g.DenseAbove}
		for _, f := range append(append([]data.Field{}, g.By...), g.Totals...) {
			gl.Fields = append(gl.Fields, f.Name)
		}
		out[l.ID] = gl
	}
	return out
}

// mapSetRequest reads the set and borough parameters of values.json and
// indicators.json; done is true when a 304 has answered.
func (s *Server) mapSetRequest(c *gin.Context, allowed ...string) (set string, boroughs []string, done bool, err error) {
	c.Header("Content-Security-Policy", apiCSP)
	if err := noParams(c, append(allowed, "set", "borough")...); err != nil {
		return "", nil, false, err
	}
	set = c.Query("set")
	if set == "" {
		return "", nil, false, badRequest("set is required, e.g. set=ward (see /neighbourhoods)")
	}
	if err := s.store.CheckSet(c.Request.Context(), set); err != nil {
		return "", nil, false, setErr(err, set)
	}
	if boroughs, err = boroughList(c); err != nil {
		return "", nil, false, err
	}
	return set, boroughs, s.conditional(c, fJSON), nil
}

// mapIndicators lists the indicators a set's neighbourhoods have values
// for: the catalogue's families (asset:*) resolved to their members.
func (s *Server) mapIndicators(c *gin.Context) error {
	set, boroughs, done, err := s.mapSetRequest(c)
	if err != nil || done {
		return err
	}
	ids, err := s.store.SetIndicators(c.Request.Context(), set, boroughs)
	if err != nil {
		return err
	}
	if ids == nil {
		ids = []string{}
	}
	return writeJSON(c, fJSON, map[string]any{"set": set, "indicators": ids})
}

// mapValues serves one indicator's value for every neighbourhood of a set.
func (s *Server) mapValues(c *gin.Context) error {
	set, boroughs, done, err := s.mapSetRequest(c, "indicator")
	if err != nil || done {
		return err
	}
	id := c.Query("indicator")
	if id == "" {
		return badRequest("indicator is required, e.g. indicator=population (see /indicators)")
	}
	ctx := c.Request.Context()
	cat, err := s.store.Indicators(ctx)
	if err != nil {
		return err
	}
	if !catalogued(cat, id) {
		return notFound("no indicator %q; /indicators lists them", id)
	}
	values, err := s.store.SetValues(ctx, set, id, boroughs)
	if err != nil {
		return err
	}
	if values == nil {
		values = []data.NeighbourhoodValue{}
	}
	return writeJSON(c, fJSON, map[string]any{"set": set, "indicator": id, "values": values})
}

// catalogued reports whether id is in the indicator catalogue, itself or
// as a member of a family (asset:library of asset:*).
func catalogued(cat []data.IndicatorInfo, id string) bool {
	for _, i := range cat {
		if i.ID == id {
			return true
		}
		if prefix, ok := strings.CutSuffix(i.ID, "*"); ok && strings.HasPrefix(id, prefix) && len(id) > len(prefix) {
			return true
		}
	}
	return false
}
