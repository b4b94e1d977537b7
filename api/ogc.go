package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"nbhd/data"
	"nbhd/geo"
	"nbhd/geo/cql2"
	"nbhd/tiles"
)

// link is an OGC API / RFC 8288 link.
type link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
	// Templated marks an href with {variables} to fill in (OGC API – Tiles).
	Templated bool `json:"templated,omitempty"`
}

// Conformance classes nbhd implements: OGC API – Features Parts 1 to 3
// with CQL2 (cql2.Conformance), OGC API – Tiles with the tile matrix set
// and tileset metadata classes it builds on (tilesConformance), and
// Features Part 4 on community-assets (registerConformance).
var conformance = slices.Concat([]string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
}, cql2.Conformance, tilesConformance, registerConformance)

// baseURL is the scheme and host links are built on.
func (s *Server) baseURL(c *gin.Context) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimSuffix(s.cfg.BaseURL, "/")
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	if p := c.GetHeader("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + c.Request.Host
}

// href builds an absolute link to path with query q (sorted, so identical
// requests give identical links).
func (s *Server) href(c *gin.Context, path string, q url.Values) string {
	u := s.baseURL(c) + path
	if enc := q.Encode(); enc != "" {
		u += "?" + enc
	}
	return u
}

// with returns a copy of q with key set to value (or removed when empty).
func with(q url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return out
}

// selfLinks are self plus the alternates of a resource in other formats.
func (s *Server) selfLinks(c *gin.Context, current format, offers ...format) []link {
	q := c.Request.URL.Query()
	var out []link
	titles := map[format]string{fJSON: "JSON", fGeoJSON: "GeoJSON", fHTML: "HTML", fCSV: "CSV", fOpenAPI: "OpenAPI 3.0 JSON"}
	fv := map[format]string{fJSON: "json", fGeoJSON: "json", fHTML: "html", fCSV: "csv", fOpenAPI: "json"}
	for _, f := range offers {
		rel := "alternate"
		if f == current {
			rel = "self"
		}
		out = append(out, link{Href: s.href(c, c.Request.URL.Path, with(q, "f", fv[f])), Rel: rel,
			Type: strings.Split(mediaTypes[f], ";")[0], Title: "This document as " + titles[f]})
	}
	return out
}

// formatLinks are the non-self links, for an HTML page's "Also as".
func formatLinks(ls []link) []link {
	var out []link
	for _, l := range ls {
		if l.Rel == "alternate" {
			out = append(out, link{Href: l.Href, Type: l.Type, Title: strings.TrimPrefix(l.Title, "This document as ")})
		}
	}
	return out
}

// writeJSON writes v as the response after the caching checks.
func writeJSON(c *gin.Context, f format, v any) error {
	b := newBody(c, f)
	if err := encodeJSON(b, v); err != nil {
		return err
	}
	return b.Close()
}

// encodeJSON writes v to w as every JSON answer is written: without
// escaping <, > and & (names and URLs keep them as they are).
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// serve negotiates, applies conditional GET and writes JSON or HTML.
func (s *Server) serve(c *gin.Context, offers []format, doc func(f format) any, html func(links []link) *page) error {
	f, err := negotiate(c, offers...)
	if err != nil {
		return err
	}
	if s.conditional(c, f) {
		return nil
	}
	links := s.selfLinks(c, f, offers...)
	if f == fHTML {
		return s.writeHTML(c, html(links))
	}
	return writeJSON(c, f, withLinks(doc(f), links))
}

// withLinks adds self/alternate links in front of a document's own links.
func withLinks(doc any, links []link) any {
	switch d := doc.(type) {
	case *landingDoc:
		d.Links = append(links, d.Links...)
	case *collectionsDoc:
		d.Links = append(links, d.Links...)
	case *collectionDoc:
		d.Links = append(links, d.Links...)
	}
	return doc
}

type landingDoc struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Attribution string `json:"attribution,omitempty"`
	Links       []link `json:"links"`
}

func (s *Server) landing(c *gin.Context) error {
	base := s.baseURL(c)
	own := []link{
		{Href: base + "/api", Rel: "service-desc", Type: "application/vnd.oai.openapi+json;version=3.0", Title: "The API definition (OpenAPI 3.0)"},
		{Href: base + "/api?f=html", Rel: "service-doc", Type: "text/html", Title: "The API documentation"},
		{Href: base + "/conformance", Rel: "conformance", Type: "application/json", Title: "Conformance classes implemented"},
		{Href: base + "/collections", Rel: "data", Type: "application/json", Title: "The public collections"},
		{Href: base + "/collections", Rel: "http://www.opengis.net/def/rel/ogc/1.0/data", Type: "application/json", Title: "The public collections"},
		{Href: base + "/tiles", Rel: relTilesetsVector, Type: "application/json", Title: "Vector tilesets of the dataset (every collection in one tile, OGC API – Tiles)"},
		{Href: base + "/tileMatrixSets", Rel: relTilingSchemes, Type: "application/json", Title: "The tile matrix sets of the tiles"},
		{Href: base + "/tiles/all.json", Rel: "related", Type: "application/json", Title: "TileJSON 3.0.0 of every collection"},
		{Href: base + "/map/", Rel: "related", Type: "text/html", Title: "Map viewer"},
		{Href: base + "/neighbourhoods", Rel: "related", Type: "application/json", Title: "Neighbourhood profiles"},
	}
	doc := &landingDoc{
		Title:       "nbhd: neighbourhood insight",
		Description: "Small areas, neighbourhoods, deprivation, community assets, GP practices and schools, as OGC API – Features and OGC API – Tiles.",
		Links:       own,
	}
	return s.serve(c, []format{fJSON, fHTML}, func(format) any { return doc }, func(links []link) *page {
		return &page{Base: base, Title: doc.Title, Description: doc.Description, Crumbs: s.crumbs(c),
			Formats: formatLinks(links), Links: own}
	})
}

func (s *Server) conformance(c *gin.Context) error {
	doc := map[string][]string{"conformsTo": conformance}
	return s.serve(c, []format{fJSON, fHTML}, func(format) any { return doc }, func(links []link) *page {
		p := &page{Base: s.baseURL(c), Title: "Conformance", Description: "The OGC API standards this service implements.",
			Crumbs: s.crumbs(c, crumb{"Conformance", ""}), Formats: formatLinks(links)}
		for _, cc := range conformance {
			p.Links = append(p.Links, link{Href: cc, Title: cc})
		}
		return p
	})
}

// extent is an OGC collection extent.
type extent struct {
	Spatial struct {
		BBox [][4]float64 `json:"bbox"`
		CRS  string       `json:"crs"`
	} `json:"spatial"`
}

type collectionDoc struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Keywords    []string `json:"keywords,omitempty"`
	Attribution string   `json:"attribution,omitempty"`
	Extent      *extent  `json:"extent,omitempty"`
	ItemType    string   `json:"itemType"`
	CRS         []string `json:"crs"`
	StorageCRS  string   `json:"storageCrs"`
	Updated     string   `json:"updated,omitempty"`
	Count       int64    `json:"numberOfFeatures"`
	// Writable says how staff change the collection (community-assets).
	Writable *writable `json:"writable,omitempty"`
	Links    []link    `json:"links"`
	info     *data.LayerInfo
}

type collectionsDoc struct {
	Links       []link           `json:"links"`
	Collections []*collectionDoc `json:"collections"`
}

// attribution is every statement of a layer's dataset attributions, once.
func attribution(info data.LayerInfo) string {
	texts := make([]string, 0, len(info.Datasets))
	for _, d := range info.Datasets {
		texts = append(texts, d.Attribution)
	}
	st := tiles.Statements(texts)
	if len(st) == 0 {
		return ""
	}
	return strings.Join(st, ". ") + "."
}

func (s *Server) collection(c *gin.Context, l *data.Layer, info data.LayerInfo) *collectionDoc {
	base := s.baseURL(c) + "/collections/" + l.ID
	d := &collectionDoc{
		ID: l.ID, Title: l.Title, Description: l.Description, Keywords: l.Keywords, Attribution: attribution(info),
		ItemType: "feature", CRS: []string{geo.CRS84.URI, geo.BNG.URI}, StorageCRS: geo.CRS84.URI, Count: info.Count, info: &info,
	}
	if info.Count > 0 {
		d.Extent = &extent{}
		d.Extent.Spatial.BBox = [][4]float64{{round6(info.Extent.Min[0]), round6(info.Extent.Min[1]), round6(info.Extent.Max[0]), round6(info.Extent.Max[1])}}
		d.Extent.Spatial.CRS = geo.CRS84.URI
	}
	if !info.Updated.IsZero() {
		d.Updated = timestamp(info.Updated)
	}
	d.Links = []link{
		{Href: base, Rel: "collection", Type: "application/json", Title: l.Title},
		{Href: base + "/items", Rel: "items", Type: "application/geo+json", Title: "Features as GeoJSON"},
		{Href: base + "/items?f=html", Rel: "items", Type: "text/html", Title: "Features as HTML"},
		{Href: base + "/items?f=csv", Rel: "items", Type: "text/csv", Title: "Features as CSV"},
		{Href: base + "/queryables", Rel: "http://www.opengis.net/def/rel/ogc/1.0/queryables", Type: "application/schema+json", Title: "Queryable properties"},
		{Href: base + "/tiles", Rel: relTilesetsVector, Type: "application/json", Title: "Vector tilesets (OGC API – Tiles)"},
		{Href: s.baseURL(c) + "/tiles/" + l.ID + ".json", Rel: "related", Type: "application/json", Title: "TileJSON 3.0.0 of the vector tiles"},
	}
	if l.ID == registerLayer {
		d.Writable = registerWritable()
	}
	seen := map[string]bool{}
	for _, p := range info.Datasets {
		if p.LicenceURL != "" && !seen[p.LicenceURL] {
			seen[p.LicenceURL] = true
			d.Links = append(d.Links, link{Href: p.LicenceURL, Rel: "license", Type: "text/html", Title: p.Licence})
		}
	}
	return d
}

func round6(v float64) float64 {
	var out float64
	fmt.Sscanf(fmt.Sprintf("%.6f", v), "%g", &out) //nolint:errcheck // formatting a float always parses
	return out
}

func (s *Server) collections(c *gin.Context) error {
	cat, err := s.store.Catalogue(c.Request.Context())
	if err != nil {
		return err
	}
	doc := &collectionsDoc{}
	for _, l := range cat.Layers {
		d := s.collection(c, l, cat.Info[l.ID])
		// Listed here, the collection's own link is its self link (GDAL's
		// OGCAPI driver opens each collection by it), with its HTML page.
		d.Links[0].Rel = "self"
		d.Links = slices.Insert(d.Links, 1, link{Href: d.Links[0].Href + "?f=html", Rel: "alternate", Type: "text/html", Title: l.Title + " (HTML)"})
		doc.Collections = append(doc.Collections, d)
	}
	return s.serve(c, []format{fJSON, fHTML}, func(format) any { return doc }, func(links []link) *page {
		p := &page{Base: s.baseURL(c), Title: "Collections", Description: "The public layers. Each is read from a view that applies disclosure control.",
			Crumbs: s.crumbs(c, crumb{"Collections", ""}), Formats: formatLinks(links),
			Table: &table{Head: []string{"Collection", "Features", "Description", "Licence"}}}
		for _, d := range doc.Collections {
			lic := ""
			for _, ln := range d.Links {
				if ln.Rel == "license" {
					lic = ln.Title
				}
			}
			p.Table.Rows = append(p.Table.Rows, []cell{
				{Value: d.Title, Href: s.baseURL(c) + "/collections/" + d.ID + "?f=html"},
				{Value: fmt.Sprint(d.Count)}, {Value: d.Description}, {Value: lic},
			})
		}
		return p
	})
}

func (s *Server) collectionOne(c *gin.Context) error {
	l, cat, err := s.layer(c)
	if err != nil {
		return err
	}
	doc := s.collection(c, l, cat.Info[l.ID])
	return s.serve(c, []format{fJSON, fHTML}, func(format) any { return doc }, func(links []link) *page {
		base := s.baseURL(c) + "/collections/" + l.ID
		p := &page{Base: s.baseURL(c), Title: l.Title, Description: l.Description, Formats: formatLinks(links),
			Crumbs: s.crumbs(c, crumb{"Collections", s.baseURL(c) + "/collections?f=html"}, crumb{l.Title, ""}),
			Facts: []fact{
				{Key: "Features", Value: fmt.Sprint(doc.Count), Href: base + "/items?f=html"},
				{Key: "Attribution", Value: doc.Attribution},
				{Key: "Updated", Value: doc.Updated},
				{Key: "Storage CRS", Value: doc.StorageCRS},
				{Key: "Keywords", Value: strings.Join(doc.Keywords, ", ")},
			}}
		if doc.Writable != nil {
			p.Facts = append(p.Facts, fact{Key: "Writable", Value: doc.Writable.Description})
		}
		if doc.Extent != nil {
			b := doc.Extent.Spatial.BBox[0]
			p.Facts = append(p.Facts, fact{Key: "Extent (lon/lat)", Value: fmt.Sprintf("%g, %g to %g, %g", b[0], b[1], b[2], b[3])})
		}
		for _, ds := range doc.info.Datasets {
			p.Facts = append(p.Facts, fact{Key: "Source", Value: ds.Title + " (" + ds.Source + "; " + ds.Licence + ")", Href: ds.SourceURL})
		}
		p.Links = doc.Links
		return p
	})
}

// geometryFormats are the JSON Schema formats of OGC API – Features Part 3
// for a queryable geometry of each GeoJSON type.
var geometryFormats = map[string]string{"Point": "geometry-point", "MultiPoint": "geometry-multipoint",
	"LineString": "geometry-linestring", "MultiLineString": "geometry-multilinestring",
	"Polygon": "geometry-polygon", "MultiPolygon": "geometry-multipolygon"}

// geometryFormat is the Part 3 format of a layer's geometry.
func geometryFormat(l *data.Layer) string {
	if f, ok := geometryFormats[l.GeometryType]; ok {
		return f
	}
	return "geometry-any"
}

// queryablesDescription says how the queryables are used, in the JSON
// Schema and on the HTML page.
const queryablesDescription = "Filter items and this collection's vector tiles on these properties with " +
	"filter=<CQL2 expression> (filter-lang cql2-text, the default, or cql2-json; filter-crs for the CRS of geometry literals), " +
	"or by equality with ?property=value; sort items with sortby=property or sortby=-property. " +
	"geometry is the feature's geometry, for the spatial functions (S_INTERSECTS, S_WITHIN, ...)."

func (s *Server) queryables(c *gin.Context) error {
	l, _, err := s.layer(c)
	if err != nil {
		return err
	}
	props := map[string]any{}
	for _, f := range l.Fields {
		if !f.Queryable {
			continue
		}
		p := map[string]any{"title": f.Name, "description": f.Description, "type": string(f.Type)}
		if f.Type == data.Date {
			p["type"], p["format"] = "string", "date"
		}
		props[f.Name] = p
	}
	props[data.GeometryProperty] = map[string]any{"title": data.GeometryProperty, "description": "The feature's geometry (a " + l.GeometryType + ")",
		"format": geometryFormat(l), "x-ogc-role": "primary-geometry"}
	self := s.baseURL(c) + "/collections/" + l.ID + "/queryables"
	doc := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": self, "type": "object",
		"title": l.Title, "description": queryablesDescription, "properties": props, "additionalProperties": false,
	}
	f, err := negotiate(c, fJSON, fHTML)
	if err != nil {
		return err
	}
	if s.conditional(c, f) {
		return nil
	}
	if f == fHTML {
		p := &page{Base: s.baseURL(c), Title: "Queryables of " + l.Title,
			Description: queryablesDescription,
			Crumbs:      s.crumbs(c, crumb{"Collections", s.baseURL(c) + "/collections?f=html"}, crumb{l.Title, s.baseURL(c) + "/collections/" + l.ID + "?f=html"}, crumb{"Queryables", ""}),
			Formats:     formatLinks(s.selfLinks(c, f, fJSON, fHTML)), Table: &table{Head: []string{"Property", "Type", "Description"}}}
		for _, fd := range l.Fields {
			if fd.Queryable {
				p.Table.Rows = append(p.Table.Rows, []cell{{Value: fd.Name}, {Value: string(fd.Type)}, {Value: fd.Description}})
			}
		}
		p.Table.Rows = append(p.Table.Rows, []cell{{Value: data.GeometryProperty}, {Value: geometryFormat(l)}, {Value: "The feature's geometry (a " + l.GeometryType + ")"}})
		return s.writeHTML(c, p)
	}
	b := newBody(c, fJSON)
	c.Header("Content-Type", "application/schema+json")
	if err := encodeJSON(b, doc); err != nil {
		return err
	}
	return b.Close()
}
