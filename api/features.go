package api

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"nbhd/data"
	"nbhd/geo"
)

// layer finds the collection named in the path.
func (s *Server) layer(c *gin.Context) (*data.Layer, *data.Catalogue, error) {
	cat, err := s.store.Catalogue(c.Request.Context())
	if err != nil {
		return nil, nil, err
	}
	id := c.Param("collection")
	l, ok := cat.Layer(id)
	if !ok {
		return nil, nil, notFound("no collection %q; see /collections", id)
	}
	return l, cat, nil
}

// legacyCRS is the GeoJSON 2008 "crs" member, written only for output not
// in CRS84, so that GDAL and QGIS read British National Grid coordinates
// as such (RFC 7946 GeoJSON is always CRS84 and has no such member).
func legacyCRS(crs geo.CRS) string {
	if crs.SRID == geo.CRS84.SRID {
		return ""
	}
	return fmt.Sprintf(`"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::%d"}},`, crs.SRID)
}

// items serves a page of a collection's features, streamed from the
// database row by row as GeoJSON, CSV or HTML.
func (s *Server) items(c *gin.Context) error {
	l, _, err := s.layer(c)
	if err != nil {
		return err
	}
	f, err := negotiate(c, fGeoJSON, fHTML, fCSV)
	if err != nil {
		return err
	}
	q := c.Request.URL.Query()
	fq, err := parseItems(q, l)
	if err != nil {
		return err
	}
	if s.conditional(c, f) {
		return nil
	}
	ctx := c.Request.Context()
	matched, err := s.store.CountFeatures(ctx, data.Public, l, fq)
	if err != nil {
		return err
	}
	links := s.pageLinks(c, f, q, fq, matched)
	for _, ln := range links {
		if ln.Rel == "next" || ln.Rel == "prev" {
			c.Writer.Header().Add("Link", fmt.Sprintf("<%s>; rel=%q; type=%q", ln.Href, ln.Rel, ln.Type))
		}
	}
	c.Header("Content-Crs", "<"+fq.CRS.URI+">")
	switch f {
	case fCSV:
		return s.itemsCSV(c, l, fq)
	case fHTML:
		return s.itemsHTML(c, l, fq, matched, links)
	}
	b := newBody(c, fGeoJSON)
	_, _ = b.WriteString(`{"type":"FeatureCollection",` + legacyCRS(fq.CRS) + `"features":[`)
	n := 0
	err = s.store.Features(ctx, data.Public, l, fq, data.GeoJSONRows, func(row [][]byte) error {
		if n > 0 {
			_, _ = b.WriteString(",")
		}
		n++
		_, err := b.Write(row[0])
		return err
	})
	if err != nil {
		return err
	}
	lj, err := json.Marshal(links)
	if err != nil {
		return err
	}
	fmt.Fprintf(b, `],"numberMatched":%d,"numberReturned":%d,"links":%s}`, matched, n, lj)
	return b.Close()
}

// pageLinks are self, alternates, collection, and next/prev when there are
// more features either side of this page.
func (s *Server) pageLinks(c *gin.Context, f format, q url.Values, fq data.FeatureQuery, matched int64) []link {
	links := s.selfLinks(c, f, fGeoJSON, fHTML, fCSV)
	path := c.Request.URL.Path
	coll := strings.TrimSuffix(path, "/items")
	links = append(links, link{Href: s.href(c, coll, nil), Rel: "collection", Type: "application/json", Title: "The collection"})
	typ := strings.Split(mediaTypes[f], ";")[0]
	limit := strconv.Itoa(fq.Limit)
	// Written so that no sum can overflow, whatever offset is asked for.
	if fq.Limit > 0 && int64(fq.Offset) < matched && matched-int64(fq.Offset) > int64(fq.Limit) {
		links = append(links, link{Href: s.href(c, path, with(q, "offset", strconv.Itoa(fq.Offset+fq.Limit), "limit", limit)),
			Rel: "next", Type: typ, Title: "Next page"})
	}
	if fq.Offset > 0 {
		prev := max(0, fq.Offset-fq.Limit)
		po := strconv.Itoa(prev)
		if prev == 0 {
			po = ""
		}
		links = append(links, link{Href: s.href(c, path, with(q, "offset", po, "limit", limit)),
			Rel: "prev", Type: typ, Title: "Previous page"})
	}
	return links
}

// itemsCSV writes one row per feature: id, the properties, then lon and lat
// (x and y in other CRSs) for points, or WKT for other geometries.
func (s *Server) itemsCSV(c *gin.Context, l *data.Layer, fq data.FeatureQuery) error {
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="%s.csv"`, l.ID))
	b := newBody(c, fCSV)
	w := newCSVWriter(b)
	head := []string{"id"}
	for _, f := range l.Columns(fq.Properties) {
		head = append(head, f.Name)
	}
	switch {
	case l.GeometryType != "Point":
		head = append(head, "wkt")
	case fq.CRS.SRID == geo.CRS84.SRID:
		head = append(head, "lon", "lat")
	default:
		head = append(head, "easting", "northing")
	}
	if err := w.Write(head); err != nil {
		return err
	}
	rec := make([]string, len(head))
	err := s.store.Features(c.Request.Context(), data.Public, l, fq, data.TableRows, func(row [][]byte) error {
		for i, v := range row {
			rec[i] = string(v)
		}
		return w.Write(rec)
	})
	if err != nil {
		return err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return b.Close()
}

// itemsHTML writes a table of the page's features.
func (s *Server) itemsHTML(c *gin.Context, l *data.Layer, fq data.FeatureQuery, matched int64, links []link) error {
	base := s.baseURL(c)
	cols := l.Columns(fq.Properties)
	summary := fmt.Sprintf("Features %d to %d of %d", min(int64(fq.Offset), matched-1)+1, min(int64(fq.Offset), matched-int64(fq.Limit))+int64(fq.Limit), matched)
	if matched == 0 || int64(fq.Offset) >= matched || fq.Limit == 0 {
		summary = fmt.Sprintf("No features on this page; %d in all", matched)
	}
	if fq.Where != nil {
		summary += " matching the filter " + c.Query("filter")
	}
	p := &page{Base: base, Title: l.Title, Formats: formatLinks(links),
		Crumbs:  s.crumbs(c, crumb{"Collections", base + "/collections?f=html"}, crumb{l.Title, base + "/collections/" + l.ID + "?f=html"}, crumb{"Items", ""}),
		Summary: summary + "."}
	for _, f := range cols {
		p.Columns = append(p.Columns, f.Name)
	}
	for _, ln := range links {
		if ln.Rel == "next" || ln.Rel == "prev" {
			p.Paging = append(p.Paging, ln)
		}
	}
	b := newBody(c, fHTML)
	if err := pages.ExecuteTemplate(b, "items-head", p); err != nil {
		return err
	}
	itemBase := base + "/collections/" + l.ID + "/items/"
	r := itemRow{Values: make([]string, len(cols))}
	err := s.store.Features(c.Request.Context(), data.Public, l, fq, data.TableRows, func(row [][]byte) error {
		r.ID = string(row[0])
		r.Href = itemBase + url.PathEscape(r.ID) + "?f=html"
		for i := range cols {
			r.Values[i] = string(row[i+1])
		}
		return pages.ExecuteTemplate(b, "items-row", r)
	})
	if err != nil {
		return err
	}
	if err := pages.ExecuteTemplate(b, "items-foot", p); err != nil {
		return err
	}
	return b.Close()
}

// item serves one feature as GeoJSON or HTML.
func (s *Server) item(c *gin.Context) error {
	l, _, err := s.layer(c)
	if err != nil {
		return err
	}
	f, err := negotiate(c, fGeoJSON, fHTML)
	if err != nil {
		return err
	}
	fq, err := parseFeature(c.Request.URL.Query(), l)
	if err != nil {
		return err
	}
	id := c.Param("feature")
	if s.conditional(c, f) {
		return nil
	}
	c.Header("Content-Crs", "<"+fq.CRS.URI+">")
	base := s.baseURL(c) + "/collections/" + l.ID
	links := append(s.selfLinks(c, f, fGeoJSON, fHTML),
		link{Href: base, Rel: "collection", Type: "application/json", Title: l.Title})
	if f == fHTML {
		var row []string
		err := s.store.Feature(c.Request.Context(), data.Public, l, id, fq, data.TableRows, func(r [][]byte) error {
			for _, v := range r {
				row = append(row, string(v))
			}
			return nil
		})
		if err != nil {
			return featureErr(err, l, id)
		}
		p := &page{Base: s.baseURL(c), Title: l.Title + ": " + id, Formats: formatLinks(links),
			Crumbs: s.crumbs(c, crumb{"Collections", s.baseURL(c) + "/collections?f=html"}, crumb{l.Title, base + "?f=html"}, crumb{"Items", base + "/items?f=html"}, crumb{id, ""})}
		for i, fd := range l.Columns(fq.Properties) {
			p.Facts = append(p.Facts, fact{Key: fd.Name, Value: row[i+1]})
		}
		return s.writeHTML(c, p)
	}
	var feature []byte
	err = s.store.Feature(c.Request.Context(), data.Public, l, id, fq, data.GeoJSONRows, func(r [][]byte) error {
		feature = append(feature, r[0]...)
		return nil
	})
	if err != nil {
		return featureErr(err, l, id)
	}
	lj, err := json.Marshal(links)
	if err != nil {
		return err
	}
	b := newBody(c, fGeoJSON)
	// The feature object ends with "}": add the links inside it.
	_, _ = b.Write(feature[:len(feature)-1])
	fmt.Fprintf(b, `,%s"links":%s}`, legacyCRS(fq.CRS), lj)
	return b.Close()
}

func featureErr(err error, l *data.Layer, id string) error {
	if err == data.ErrNotFound { //nolint:errorlint // Feature returns the sentinel itself
		return notFound("no feature %q in collection %s", id, l.ID)
	}
	return err
}
