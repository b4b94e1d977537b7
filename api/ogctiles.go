package api

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"nbhd/data"
	"nbhd/geo"
	"nbhd/tiles"
)

// OGC API – Tiles 1.0 over the same tiles and cache as /tiles/{layer}/...:
// the tile matrix set (WebMercatorQuad only), the dataset's tilesets (the
// composite, "all") and each collection's, with their tileset metadata.
// tileRow is the XYZ y and tileCol the x.

// tilesConformance are the OGC API – Tiles classes nbhd implements, and
// those of the Two Dimensional Tile Matrix Set and Tile Set Metadata
// standard (2.0) its documents follow.
var tilesConformance = []string{
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/collections-selection",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
	"http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
	"http://www.opengis.net/spec/tms/2.0/conf/tilesetmetadata",
	"http://www.opengis.net/spec/tms/2.0/conf/json-tilesetmetadata",
	"http://www.opengis.net/spec/tms/2.0/conf/tilematrixsetlimits",
	"http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixsetlimits",
}

// OGC link relations of OGC API – Tiles.
const (
	relTilesetsVector = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
	relTilingSchemes  = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
	relTilingScheme   = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
	relGeodata        = "http://www.opengis.net/def/rel/ogc/1.0/geodata"
)

// ogcTileParams are what an OGC API – Tiles tile request may carry: f and
// a CQL2 filter (for one collection's tiles).
var ogcTileParams = append([]string{"f", "borough"}, filterParams...)

// ogcTilesRoutes adds the OGC API – Tiles routes. /tiles/WebMercatorQuad
// and the composite's tiles below it share the routes of /tiles/{layer}
// (tileJSON and tile in tiles.go).
func (s *Server) ogcTilesRoutes(get func(path string, h handlerFunc)) {
	get("/tileMatrixSets", s.tileMatrixSets)
	get("/tileMatrixSets/:tms", s.tileMatrixSet)
	get("/tiles", func(c *gin.Context) error { return s.tilesets(c, data.AllLayers) })
	get("/collections/:collection/tiles", func(c *gin.Context) error {
		id, err := collectionID(c)
		if err != nil {
			return err
		}
		return s.tilesets(c, id)
	})
	get("/collections/:collection/tiles/:tms", func(c *gin.Context) error {
		id, err := collectionID(c)
		if err != nil {
			return err
		}
		if c.Param("tms") != tiles.WebMercatorQuadID {
			return noTileMatrixSet(c.Param("tms"))
		}
		return s.tileset(c, id)
	})
	get("/collections/:collection/tiles/:tms/:tileMatrix/:tileRow/:tileCol", func(c *gin.Context) error {
		id, err := collectionID(c)
		if err != nil {
			return err
		}
		return s.ogcTile(c, id, c.Param("tms"), c.Param("tileMatrix"), c.Param("tileRow"), c.Param("tileCol"))
	})
}

// collectionID is the collection a tiles path names; the composite's
// name is not a collection.
func collectionID(c *gin.Context) (string, error) {
	id := c.Param("collection")
	if id == data.AllLayers {
		return "", notFound("no collection %q; see /collections (the composite of every collection is at /tiles)", id)
	}
	return id, nil
}

func noTileMatrixSet(id string) error {
	return notFound("no tile matrix set %q: nbhd tiles in %s (see /tileMatrixSets)", id, tiles.WebMercatorQuadID)
}

// tileSetName resolves a tile set to its layers: a collection's id, or
// data.AllLayers for the dataset's composite.
func tileSetName(cat *data.Catalogue, name string) ([]*data.Layer, tiles.Source, error) {
	layers, src, ok := cat.TileSet(name)
	if !ok || (name == data.AllLayers && len(layers) == 0) {
		return nil, src, notFound("no collection %q; see /collections", name)
	}
	return layers, src, nil
}

// tilesetPath is the path of a tile set's WebMercatorQuad tileset: the
// dataset's for a composite.
func tilesetPath(name string) string {
	if composite(name) {
		return "/tiles/" + tiles.WebMercatorQuadID
	}
	return "/collections/" + name + "/tiles/" + tiles.WebMercatorQuadID
}

const tileTemplate = "/{tileMatrix}/{tileRow}/{tileCol}"

// ogcTile serves tile tileMatrix/tileRow/tileCol (or tileCol.mvt) of a
// tile set in WebMercatorQuad: the same bytes, cache and validators as
// /tiles/{layer}/{z}/{x}/{y}.mvt. A tile outside the tileset's limits
// (tileMatrixSetLimits: zooms 0 to tiles.DetailZoom, the tiles over the
// data) is a 404, as OGC API – Tiles asks; a value that is not a whole
// number is a 400.
//
// A dataset tile takes collections (collections-selection): the ids of the
// collections it is to hold, the composite /tiles/{id},{id}... serves.
func (s *Server) ogcTile(c *gin.Context, name, tms, tileMatrix, tileRow, tileCol string) error {
	params := ogcTileParams
	if name == data.AllLayers {
		params = append([]string{"collections"}, ogcTileParams...)
	}
	if err := noParams(c, params...); err != nil {
		return err
	}
	if err := negotiateTile(c); err != nil {
		return err
	}
	cat, err := s.store.Catalogue(c.Request.Context())
	if err != nil {
		return err
	}
	layers, ok := cat.TileLayers(name)
	if !ok {
		return notFound("no collection %q; see /collections", name)
	}
	if chosen, ok := c.GetQuery("collections"); ok && name == data.AllLayers {
		if name, layers, err = selectCollections(cat, chosen); err != nil {
			return err
		}
	}
	if tms != tiles.WebMercatorQuadID {
		return noTileMatrixSet(tms)
	}
	// {tileCol}.mvt is the same tile: GDAL's MVT driver, for one, knows a
	// tile by its extension.
	tileCol = strings.TrimSuffix(tileCol, ".mvt")
	t, ok, inRange := tiles.ParseTileMatrix(tileMatrix, tileRow, tileCol)
	if !ok {
		return badRequest("tileMatrix, tileRow and tileCol must be whole numbers, got %q, %q and %q", tileMatrix, tileRow, tileCol)
	}
	if !inRange {
		return notFound("no tile %s/%s/%s in %s: tile matrices are 0 to 24, and rows and columns 0 to 2^tileMatrix-1",
			tileMatrix, tileRow, tileCol, tiles.WebMercatorQuadID)
	}
	extent, hasData := cat.Extent(layers)
	if int(t.Z) > tiles.DetailZoom || !tiles.Within(tiles.Limits(extent, hasData, int(t.Z), int(t.Z)), t) {
		return notFound("tile %s/%s/%s is outside the tileset's limits (tileMatrixSetLimits at %s): tile matrices 0 to %d, over the data",
			tileMatrix, tileRow, tileCol, s.baseURL(c)+tilesetPath(name), tiles.DetailZoom)
	}
	where, err := tileFilter(c.Request.URL.Query(), name, layers)
	if err != nil {
		return err
	}
	return s.serveTile(c, cat, name, layers, t, where)
}

// selectCollections resolves a dataset tile's collections parameter to
// its tile set's key and layers; a parameter naming no collection, or one
// twice, is a 400 (it is a query parameter, not a path).
func selectCollections(cat *data.Catalogue, chosen string) (string, []*data.Layer, error) {
	if chosen == "" || chosen == data.AllLayers {
		return "", nil, badRequest("collections: give collection ids joined by commas (see /collections), or leave it out for every collection")
	}
	layers, key, err := cat.Tiles(chosen)
	if err != nil {
		return "", nil, badRequest("collections: %v; see /collections", err)
	}
	return key, layers, nil
}

// negotiateTile accepts f=mvt or an Accept header that admits a Mapbox
// Vector Tile; anything else is a 406.
func negotiateTile(c *gin.Context) error {
	refuse := &Error{Status: http.StatusNotAcceptable, Code: "NotAcceptable",
		Description: "tiles are available as Mapbox Vector Tiles only: f=mvt, or Accept: " + mvtType}
	if f, ok := c.GetQuery("f"); ok {
		if !strings.EqualFold(strings.TrimSpace(f), "mvt") {
			return refuse
		}
		return nil
	}
	accept := c.GetHeader("Accept")
	if strings.TrimSpace(accept) == "" {
		return nil
	}
	for _, mt := range parseAccept(accept) {
		if mt == mvtType || mt == "*/*" || mt == "application/*" {
			return nil
		}
	}
	return refuse
}

// metadata negotiates JSON or HTML for an OGC API – Tiles document and
// answers a conditional request; done reports that a 304 was sent.
func (s *Server) metadata(c *gin.Context) (f format, done bool, err error) {
	if err := noParams(c, "f"); err != nil {
		return "", false, err
	}
	if f, err = negotiate(c, fJSON, fHTML); err != nil {
		return "", false, err
	}
	return f, s.conditional(c, f), nil
}

// tileMatrixSetRef lists a tile matrix set in /tileMatrixSets.
type tileMatrixSetRef struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	URI   string `json:"uri"`
	Links []link `json:"links"`
}

func (s *Server) tileMatrixSets(c *gin.Context) error {
	f, done, err := s.metadata(c)
	if err != nil || done {
		return err
	}
	tms := tiles.WebMercatorQuad()
	href := s.baseURL(c) + "/tileMatrixSets/" + tms.ID
	ref := tileMatrixSetRef{ID: tms.ID, Title: tms.Title, URI: tms.URI, Links: []link{
		{Href: href, Rel: "self", Type: "application/json", Title: tms.Title + " (JSON)"},
		{Href: href + "?f=html", Rel: "alternate", Type: "text/html", Title: tms.Title + " (HTML)"},
	}}
	links := s.selfLinks(c, f, fJSON, fHTML)
	if f == fHTML {
		return s.writeHTML(c, &page{Base: s.baseURL(c), Title: "Tile matrix sets",
			Description: "The tiling schemes nbhd's vector tiles use.",
			Crumbs:      s.crumbs(c, crumb{"Tile matrix sets", ""}), Formats: formatLinks(links),
			Table: &table{Head: []string{"Tile matrix set", "URI"},
				Rows: [][]cell{{{Value: tms.ID + ": " + tms.Title, Href: href + "?f=html"}, {Value: tms.URI}}}}})
	}
	return writeJSON(c, fJSON, map[string]any{"links": links, "tileMatrixSets": []tileMatrixSetRef{ref}})
}

func (s *Server) tileMatrixSet(c *gin.Context) error {
	if c.Param("tms") != tiles.WebMercatorQuadID {
		return noTileMatrixSet(c.Param("tms"))
	}
	f, done, err := s.metadata(c)
	if err != nil || done {
		return err
	}
	tms := tiles.WebMercatorQuad()
	if f != fHTML {
		return writeJSON(c, fJSON, tms)
	}
	base := s.baseURL(c)
	p := &page{Base: base, Title: tms.ID + ": " + tms.Title, Formats: formatLinks(s.selfLinks(c, f, fJSON, fHTML)),
		Crumbs: s.crumbs(c, crumb{"Tile matrix sets", base + "/tileMatrixSets?f=html"}, crumb{tms.ID, ""}),
		Facts: []fact{{Key: "URI", Value: tms.URI}, {Key: "CRS", Value: tms.CRS}, {Key: "Well-known scale set", Value: tms.WellKnownScaleSet},
			{Key: "Corner of origin", Value: fmt.Sprintf("top left, %.7f, %.7f", tms.TileMatrices[0].PointOfOrigin[0], tms.TileMatrices[0].PointOfOrigin[1])}},
		Table: &table{Head: []string{"Tile matrix", "Scale denominator", "Cell size (m)", "Tile size (pixels)", "Matrix size (tiles)"}}}
	for _, m := range tms.TileMatrices {
		p.Table.Rows = append(p.Table.Rows, []cell{{Value: m.ID}, {Value: strconv.FormatFloat(m.ScaleDenominator, 'f', 3, 64)},
			{Value: strconv.FormatFloat(m.CellSize, 'g', 9, 64)}, {Value: fmt.Sprintf("%d × %d", m.TileWidth, m.TileHeight)},
			{Value: fmt.Sprintf("%d × %d", m.MatrixWidth, m.MatrixHeight)}})
	}
	return s.writeHTML(c, p)
}

// tilesetRef lists a tileset in a tilesets list.
type tilesetRef struct {
	Title            string `json:"title"`
	DataType         string `json:"dataType"`
	CRS              string `json:"crs"`
	TileMatrixSetURI string `json:"tileMatrixSetURI"`
	Links            []link `json:"links"`
}

// tilesets serves the tilesets list of a collection, or of the dataset
// (the composite) for data.AllLayers: one tileset, in WebMercatorQuad.
func (s *Server) tilesets(c *gin.Context, name string) error {
	cat, err := s.store.Catalogue(c.Request.Context())
	if err != nil {
		return err
	}
	_, src, err := tileSetName(cat, name)
	if err != nil {
		return err
	}
	f, done, err := s.metadata(c)
	if err != nil || done {
		return err
	}
	base := s.baseURL(c)
	href := base + tilesetPath(name)
	ref := tilesetRef{Title: src.Name + " (" + tiles.WebMercatorQuadID + ")", DataType: "vector", CRS: tiles.WebMercatorCRS,
		TileMatrixSetURI: tiles.WebMercatorQuadURI, Links: []link{
			{Href: href, Rel: "self", Type: "application/json", Title: "Tileset metadata (JSON)"},
			{Href: href + "?f=html", Rel: "alternate", Type: "text/html", Title: "Tileset metadata (HTML)"},
			{Href: base + "/tileMatrixSets/" + tiles.WebMercatorQuadID, Rel: relTilingScheme, Type: "application/json", Title: "The tile matrix set"},
			{Href: href + tileTemplate, Rel: "item", Type: mvtType, Title: "Mapbox Vector Tiles", Templated: true},
		}}
	links := s.selfLinks(c, f, fJSON, fHTML)
	crumbs := s.crumbs(c, crumb{"Tiles", ""})
	if name == data.AllLayers {
		links = append(links, link{Href: base + "/", Rel: "dataset", Type: "application/json", Title: "The dataset (landing page)"})
	} else {
		links = append(links, link{Href: base + "/collections/" + name, Rel: "collection", Type: "application/json", Title: src.Name})
		crumbs = s.crumbs(c, crumb{"Collections", base + "/collections?f=html"}, crumb{src.Name, base + "/collections/" + name + "?f=html"}, crumb{"Tiles", ""})
	}
	if f == fHTML {
		return s.writeHTML(c, &page{Base: base, Title: "Vector tilesets of " + src.Name, Description: src.Description,
			Crumbs: crumbs, Formats: formatLinks(links),
			Table: &table{Head: []string{"Tileset", "Tile matrix set", "Data type"},
				Rows: [][]cell{{{Value: ref.Title, Href: href + "?f=html"}, {Value: tiles.WebMercatorQuadURI}, {Value: "vector (Mapbox Vector Tiles)"}}}}})
	}
	return writeJSON(c, fJSON, map[string]any{"links": links, "tilesets": []tilesetRef{ref}})
}

// bbox2D is a TMS 2.0 bounding box.
type bbox2D struct {
	LowerLeft  [2]float64 `json:"lowerLeft"`
	UpperRight [2]float64 `json:"upperRight"`
	CRS        string     `json:"crs"`
}

// tilePoint is a TMS 2.0 centre point.
type tilePoint struct {
	Coordinates      [2]float64 `json:"coordinates"`
	CRS              string     `json:"crs"`
	TileMatrix       string     `json:"tileMatrix"`
	ScaleDenominator float64    `json:"scaleDenominator"`
}

// tilesetLayer is one MVT layer of a tileset, with the schema of its
// features' properties.
type tilesetLayer struct {
	ID                string  `json:"id"`
	Title             string  `json:"title"`
	Description       string  `json:"description"`
	DataType          string  `json:"dataType"`
	GeometryDimension int     `json:"geometryDimension"`
	FeatureType       string  `json:"featureType"`
	MinTileMatrix     string  `json:"minTileMatrix"`
	MaxTileMatrix     string  `json:"maxTileMatrix"`
	BoundingBox       *bbox2D `json:"boundingBox,omitempty"`
	PropertiesSchema  obj     `json:"propertiesSchema"`
	Links             []link  `json:"links"`
}

// tilesetDoc is a tileset's metadata (TMS 2.0 JSON encoding).
type tilesetDoc struct {
	Title               string                   `json:"title"`
	Description         string                   `json:"description"`
	DataType            string                   `json:"dataType"`
	CRS                 string                   `json:"crs"`
	TileMatrixSetURI    string                   `json:"tileMatrixSetURI"`
	TileMatrixSetLimits []tiles.TileMatrixLimits `json:"tileMatrixSetLimits"`
	Version             string                   `json:"version"`
	Attribution         string                   `json:"attribution,omitempty"`
	MediaTypes          []string                 `json:"mediaTypes"`
	BoundingBox         *bbox2D                  `json:"boundingBox,omitempty"`
	CenterPoint         *tilePoint               `json:"centerPoint,omitempty"`
	Layers              []tilesetLayer           `json:"layers"`
	Links               []link                   `json:"links"`
}

// propertiesSchema is the JSON Schema of a layer's tile properties.
func propertiesSchema(l *data.Layer) obj {
	props := obj{}
	for _, f := range l.TileFields() {
		p := obj{"title": f.Name, "description": f.Description, "type": string(f.Type)}
		if f.Type == data.Date {
			p["type"], p["format"] = "string", "date"
		}
		props[f.Name] = p
	}
	return obj{"type": "object", "properties": props}
}

// geometryDimension is 0 for points, 1 for lines and 2 for polygons.
func geometryDimension(l *data.Layer) int {
	switch {
	case strings.HasSuffix(l.GeometryType, "Point"):
		return 0
	case strings.HasSuffix(l.GeometryType, "LineString"):
		return 1
	}
	return 2
}

// tileset serves the WebMercatorQuad tileset metadata of a collection, or
// of the composite for data.AllLayers.
func (s *Server) tileset(c *gin.Context, name string) error {
	cat, err := s.store.Catalogue(c.Request.Context())
	if err != nil {
		return err
	}
	layers, src, err := tileSetName(cat, name)
	if err != nil {
		return err
	}
	f, done, err := s.metadata(c)
	if err != nil || done {
		return err
	}
	base := s.baseURL(c)
	path := tilesetPath(name)
	bounds, centre := tiles.BoundsCentre(src, 0, tiles.DetailZoom)
	doc := &tilesetDoc{
		Title: src.Name, Description: src.Description, DataType: "vector", CRS: tiles.WebMercatorCRS,
		TileMatrixSetURI: tiles.WebMercatorQuadURI, TileMatrixSetLimits: tiles.Limits(src.Extent, src.HasData, 0, tiles.DetailZoom),
		Version: src.Version, Attribution: tiles.Attribution(src.Attributions), MediaTypes: []string{mvtType},
		BoundingBox: &bbox2D{LowerLeft: [2]float64{bounds[0], bounds[1]}, UpperRight: [2]float64{bounds[2], bounds[3]}, CRS: geo.CRS84.URI},
		CenterPoint: &tilePoint{Coordinates: [2]float64{centre[0], centre[1]}, CRS: geo.CRS84.URI,
			TileMatrix: strconv.Itoa(int(centre[2])), ScaleDenominator: tiles.ScaleDenominator(int(centre[2]))},
	}
	for _, l := range layers {
		tl := tilesetLayer{ID: l.ID, Title: l.Title, Description: l.Description, DataType: "vector",
			GeometryDimension: geometryDimension(l), FeatureType: l.ID, MinTileMatrix: "0", MaxTileMatrix: strconv.Itoa(tiles.DetailZoom),
			PropertiesSchema: propertiesSchema(l),
			Links:            []link{{Href: base + "/collections/" + l.ID, Rel: "collection", Type: "application/json", Title: l.Title}}}
		if info := cat.Info[l.ID]; info.Count > 0 {
			e := info.Extent
			tl.BoundingBox = &bbox2D{LowerLeft: [2]float64{round6(e.Min[0]), round6(e.Min[1])}, UpperRight: [2]float64{round6(e.Max[0]), round6(e.Max[1])}, CRS: geo.CRS84.URI}
		}
		doc.Layers = append(doc.Layers, tl)
	}
	tileJSON := "/tiles/" + name + ".json"
	doc.Links = append(s.selfLinks(c, f, fJSON, fHTML),
		link{Href: base + "/tileMatrixSets/" + tiles.WebMercatorQuadID, Rel: relTilingScheme, Type: "application/json", Title: "The tile matrix set: " + tiles.WebMercatorQuadID},
		link{Href: base + path + tileTemplate, Rel: "item", Type: mvtType, Title: "Mapbox Vector Tiles (filter=... takes a CQL2 filter on a collection's tiles)", Templated: true},
		link{Href: base + tileJSON, Rel: "alternate", Type: "application/json", Title: "TileJSON 3.0.0 (tiles at /tiles/" + name + "/{z}/{x}/{y}.mvt)"})
	if name == data.AllLayers {
		doc.Links = append(doc.Links, link{Href: base + "/", Rel: "dataset", Type: "application/json", Title: "The dataset (landing page)"})
	} else {
		doc.Links = append(doc.Links, link{Href: base + "/collections/" + name, Rel: relGeodata, Type: "application/json", Title: src.Name},
			link{Href: base + "/collections/" + name + "/queryables", Rel: "http://www.opengis.net/def/rel/ogc/1.0/queryables", Type: "application/schema+json",
				Title: "Queryables of the filter parameter"})
	}
	if f != fHTML {
		return writeJSON(c, fJSON, doc)
	}
	return s.writeHTML(c, s.tilesetPage(c, name, doc))
}

// tilesetPage is a tileset's metadata as an HTML page.
func (s *Server) tilesetPage(c *gin.Context, name string, doc *tilesetDoc) *page {
	base := s.baseURL(c)
	crumbs := s.crumbs(c, crumb{"Tiles", base + "/tiles?f=html"}, crumb{tiles.WebMercatorQuadID, ""})
	if name != data.AllLayers {
		crumbs = s.crumbs(c, crumb{"Collections", base + "/collections?f=html"}, crumb{doc.Title, base + "/collections/" + name + "?f=html"},
			crumb{"Tiles", base + "/collections/" + name + "/tiles?f=html"}, crumb{tiles.WebMercatorQuadID, ""})
	}
	bb := doc.BoundingBox
	lim := doc.TileMatrixSetLimits[len(doc.TileMatrixSetLimits)-1]
	p := &page{Base: base, Title: doc.Title + ": vector tiles", Description: doc.Description, Crumbs: crumbs, Formats: formatLinks(doc.Links),
		Facts: []fact{
			{Key: "Tiles", Value: base + tilesetPath(name) + tileTemplate + " (Mapbox Vector Tiles)"},
			{Key: "Tile matrix set", Value: tiles.WebMercatorQuadID, Href: base + "/tileMatrixSets/" + tiles.WebMercatorQuadID + "?f=html"},
			{Key: "Tile matrices", Value: fmt.Sprintf("0 to %d (clients zoom in further on the tiles of %d); at %d, rows %d to %d and columns %d to %d",
				tiles.DetailZoom, tiles.DetailZoom, tiles.DetailZoom, lim.MinTileRow, lim.MaxTileRow, lim.MinTileCol, lim.MaxTileCol)},
			{Key: "Extent (lon/lat)", Value: fmt.Sprintf("%g, %g to %g, %g", bb.LowerLeft[0], bb.LowerLeft[1], bb.UpperRight[0], bb.UpperRight[1])},
			{Key: "Version", Value: doc.Version},
			{Key: "Attribution", Value: doc.Attribution},
		},
		Table: &table{Head: []string{"Layer", "Geometry", "Properties"}}}
	for _, l := range doc.Layers {
		props := l.PropertiesSchema["properties"].(obj)
		names := make([]string, 0, len(props))
		for n, v := range props {
			names = append(names, n+" ("+v.(obj)["type"].(string)+")")
		}
		sort.Strings(names)
		p.Table.Rows = append(p.Table.Rows, []cell{{Value: l.Title, Href: base + "/collections/" + l.ID + "?f=html"},
			{Value: []string{"points", "lines", "polygons"}[l.GeometryDimension]}, {Value: strings.Join(names, ", ")}})
	}
	for _, ln := range doc.Links {
		if ln.Rel != "self" && ln.Rel != "alternate" && !ln.Templated {
			p.Links = append(p.Links, ln)
		}
	}
	return p
}
