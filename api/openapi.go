package api

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"nbhd/data"
	"nbhd/geo"
	"nbhd/geo/cql2"
	"nbhd/tiles"
)

type obj = map[string]any

func ref(kind, name string) obj { return obj{"$ref": "#/components/" + kind + "/" + name} }

func param(name string) obj { return ref("parameters", name) }

// jsonContent is a response body of the given media types with one schema.
func content(schema obj, types ...string) obj {
	out := obj{}
	for _, t := range types {
		out[t] = obj{"schema": schema}
	}
	return out
}

func okResponse(desc string, c obj) obj { return obj{"description": desc, "content": c} }

var errorResponses = obj{
	"400": ref("responses", "InvalidParameter"),
	"404": ref("responses", "NotFound"),
	"406": ref("responses", "NotAcceptable"),
	"500": ref("responses", "ServerError"),
	"503": ref("responses", "Unavailable"),
}

func operation(id, summary string, params []obj, ok obj) obj {
	resp := obj{"200": ok, "304": obj{"description": "Not modified since the ETag given in If-None-Match"}}
	for k, v := range errorResponses {
		resp[k] = v
	}
	if params == nil {
		params = []obj{}
	}
	return obj{"get": obj{"operationId": id, "summary": summary, "parameters": params, "responses": resp}}
}

// fieldSchema is a queryable's JSON Schema in OpenAPI 3.0 form.
func fieldSchema(f data.Field) obj {
	if f.Type == data.Date {
		return obj{"type": "string", "format": "date"}
	}
	return obj{"type": string(f.Type)}
}

// openAPIDoc describes every path and parameter nbhd serves, with each
// collection's own filter parameters.
func (s *Server) openAPIDoc(c *gin.Context, cat *data.Catalogue) obj {
	paths := obj{
		"/": operation("getLandingPage", "Landing page", []obj{param("f-metadata")},
			okResponse("Links to the API definition, conformance and collections", content(ref("schemas", "landingPage"), "application/json", "text/html"))),
		"/conformance": operation("getConformanceDeclaration", "Conformance classes implemented", []obj{param("f-metadata")},
			okResponse("The conformance classes", content(ref("schemas", "confClasses"), "application/json", "text/html"))),
		"/api": operation("getAPIDefinition", "This API definition", []obj{param("f-metadata")},
			okResponse("The OpenAPI 3.0 document", content(obj{"type": "object"}, "application/vnd.oai.openapi+json;version=3.0", "text/html"))),
		"/collections": operation("getCollections", "The public collections", []obj{param("f-metadata")},
			okResponse("Collections with their extents, licences and links", content(ref("schemas", "collections"), "application/json", "text/html"))),
		"/healthz": obj{"get": obj{"operationId": "getHealth", "summary": "The process is up", "responses": obj{"200": obj{"description": "Up"}}}},
		"/readyz": obj{"get": obj{"operationId": "getReadiness", "summary": "The database answers and migrations are current",
			"responses": obj{"200": obj{"description": "Ready"}, "503": ref("responses", "Unavailable")}}},
	}
	q := func(name, desc string, required bool, schema obj) obj {
		return obj{"name": name, "in": "query", "required": required, "style": "form", "explode": false, "description": desc, "schema": schema}
	}
	str := obj{"type": "string"}
	fJSONCSV := q("f", "Representation", false, obj{"type": "string", "enum": []string{"json", "csv"}, "default": "json"})
	tableJSON := content(obj{"type": "object"}, "application/json", "text/csv")
	paths["/neighbourhoods"] = operation("getNeighbourhoodSets", "The neighbourhood sets", nil,
		okResponse("The sets, with their neighbourhood counts", content(obj{"type": "object"}, "application/json")))
	paths["/neighbourhoods/{set}"] = operation("getNeighbourhoods", "Every neighbourhood of a set with headline indicators",
		[]obj{{"name": "set", "in": "path", "required": true, "schema": str}, fJSONCSV}, okResponse("Headline indicators", tableJSON))
	paths["/neighbourhoods/{set}/{code}"] = operation("getProfile", "A neighbourhood's profile against the borough",
		[]obj{{"name": "set", "in": "path", "required": true, "schema": str}, {"name": "code", "in": "path", "required": true, "schema": str}, fJSONCSV},
		okResponse("Every indicator with the borough value, difference, index and rank", tableJSON))
	paths["/insights/asset-gaps"] = operation("getAssetGaps", "Neighbourhoods and small areas ranked by demand per community asset and access shortfall",
		[]obj{q("set", "Neighbourhood set, e.g. ward", true, str), fJSONCSV}, okResponse("Rankings with their components", tableJSON))
	// The Deal (api/grants.go, api/doorstep.go).
	date := obj{"type": "string", "format": "date"}
	paths["/insights/investment"] = operation("getInvestment", "Neighbourhoods ranked where demand is high and grant investment low (360Giving grants)",
		[]obj{q("set", "Neighbourhood set, e.g. ward", true, str), q("borough", "Borough codes, comma-separated", false, str),
			q("funder", "Funder identifier or name", false, str), q("programme", "Grant programme code or title", false, str),
			q("from", "First award date", false, date), q("to", "Last award date", false, date), fJSONCSV},
		okResponse("Neighbourhoods with grants, amounts, per-resident figures and rank, and their boroughs and England", tableJSON))
	fDoorstep := q("f", "Representation", false, obj{"type": "string", "enum": []string{"json", "csv", "html"}, "default": "json"})
	doorstep := content(obj{"type": "object"}, "application/json", "text/csv", "text/html")
	paths["/gp-practices/{code}/doorstep"] = operation("getPracticeDoorstep", "Community assets within the access distance of a GP practice",
		[]obj{{"name": "code", "in": "path", "required": true, "schema": str}, fDoorstep},
		okResponse("The circle and the assets in it by category, nearest first; html is a printable A4 page", doorstep))
	paths["/schools/{id}/doorstep"] = operation("getSchoolDoorstep", "Community assets within the access distance of a school",
		[]obj{{"name": "id", "in": "path", "required": true, "schema": str}, fDoorstep},
		okResponse("The circle and the assets in it by category, nearest first; html is a printable A4 page", doorstep))
	paths["/search"] = operation("search", "Find neighbourhoods, small areas and postcodes",
		[]obj{q("q", "A name, small-area code or postcode (prefix)", true, obj{"type": "string", "minLength": 1, "maxLength": 100})},
		okResponse("Up to 10 places with a point and a bounding box", content(obj{"type": "array", "items": obj{"type": "object"}}, "application/json")))
	outreach := operation("getOutreach", "Staff only: a neighbourhood's small areas ranked by outreach priority",
		[]obj{q("set", "Neighbourhood set", true, str), q("neighbourhood", "Neighbourhood code", true, str), fJSONCSV},
		okResponse("Ranked small areas with the score's components and what is nearby", tableJSON))
	get := outreach["get"].(obj)
	get["security"] = []obj{{"staffKey": []string{}}}
	resp := get["responses"].(obj)
	resp["401"] = ref("responses", "Unauthorized")
	resp["403"] = ref("responses", "Forbidden")
	resp["429"] = ref("responses", "TooManyRequests")
	paths["/outreach"] = outreach

	itemsParams := []obj{param("f-items"), param("bbox"), param("bbox-crs"), param("crs"), param("limit"), param("offset"), param("properties"), param("sortby"),
		param("filter"), param("filter-lang"), param("filter-crs")}
	s.openAPITiles(paths, cat)
	for _, l := range cat.Layers {
		base := "/collections/" + l.ID
		id := strings.ReplaceAll(l.ID, "-", "_")
		paths[base] = operation("describe_"+id, "Metadata of "+l.Title, []obj{param("f-metadata")},
			okResponse("The collection", content(ref("schemas", "collection"), "application/json", "text/html")))
		paths[base+"/queryables"] = operation("queryables_"+id, "Queryable properties of "+l.Title, []obj{param("f-metadata")},
			okResponse("A JSON Schema of the queryable properties", content(obj{"type": "object"}, "application/schema+json", "text/html")))
		ps := append([]obj(nil), itemsParams...)
		for _, f := range l.Fields {
			if f.Queryable {
				ps = append(ps, obj{"name": f.Name, "in": "query", "required": false, "style": "form", "explode": false,
					"description": f.Description + " (equality filter; filter= takes any CQL2 condition on it)", "schema": fieldSchema(f)})
			}
		}
		paths[base+"/items"] = operation("items_"+id, "Features of "+l.Title, ps,
			okResponse("A page of features", content(ref("schemas", "featureCollectionGeoJSON"), "application/geo+json", "text/html", "text/csv")))
		paths[base+"/items/{featureId}"] = operation("item_"+id, "One feature of "+l.Title,
			[]obj{param("featureId"), param("f-feature"), param("crs"), param("properties")},
			okResponse("The feature", content(ref("schemas", "featureGeoJSON"), "application/geo+json", "text/html")))
	}
	openAPIRegister(paths) // writes to community-assets (api/register_openapi.go)
	crsEnum := []string{}
	for _, c := range geo.SupportedCRS {
		crsEnum = append(crsEnum, c.URI)
	}
	fParam := func(values ...string) obj {
		return obj{"name": "f", "in": "query", "required": false, "style": "form", "explode": false,
			"description": "Representation (instead of the Accept header)", "schema": obj{"type": "string", "enum": values, "default": values[0]}}
	}
	linkSchema := obj{"type": "object", "required": []string{"href"}, "properties": obj{
		"href": obj{"type": "string"}, "rel": obj{"type": "string"}, "type": obj{"type": "string"}, "title": obj{"type": "string"}}}
	links := obj{"type": "array", "items": ref("schemas", "link")}
	doc := obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":   "nbhd: neighbourhood insight",
			"version": s.cfg.Version,
			"description": fmt.Sprintf("OGC API – Features (with Part 3 filtering in CQL2) and OGC API – Tiles over a council's public layers. "+
				"limit defaults to %d and at most %d features are returned per page: larger limits are clamped to %d, and rel=next links page on. "+
				"Vector tiles are Mapbox Vector Tiles in WebMercatorQuad (tileRow is the XYZ y, tileCol the x), at /collections/{id}/tiles/... and, "+
				"the same tiles, at /tiles/{layer}/{z}/{x}/{y}.mvt with TileJSON at /tiles/{layer}.json, where {layer} is a collection's id, "+
				"all for every collection, or collection ids joined by commas for just those (e.g. small-areas,schools).", defaultLimit, maxLimit, maxLimit),
		},
		"servers": []obj{{"url": s.baseURL(c)}},
		"paths":   paths,
		"components": obj{
			"parameters": obj{
				"f-metadata": fParam("json", "html"),
				"f-items":    fParam("json", "html", "csv"),
				"f-feature":  fParam("json", "html"),
				"bbox": obj{"name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
					"description": "Only features intersecting minx,miny,maxx,maxy (in bbox-crs; lon/lat by default). Six numbers (with heights) are accepted; heights are ignored.",
					"schema":      obj{"type": "array", "minItems": 4, "maxItems": 6, "items": obj{"type": "number"}}},
				"bbox-crs": obj{"name": "bbox-crs", "in": "query", "required": false, "style": "form", "explode": false,
					"description": "CRS of bbox", "schema": obj{"type": "string", "format": "uri", "enum": crsEnum, "default": geo.CRS84.URI}},
				"crs": obj{"name": "crs", "in": "query", "required": false, "style": "form", "explode": false,
					"description": "CRS of the returned geometries; the response's Content-Crs header names it", "schema": obj{"type": "string", "format": "uri", "enum": crsEnum, "default": geo.CRS84.URI}},
				"limit": obj{"name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
					"description": fmt.Sprintf("Features per page; values above %d are clamped to %d", maxLimit, maxLimit),
					"schema":      obj{"type": "integer", "minimum": 0, "maximum": maxLimit, "default": defaultLimit}},
				"offset": obj{"name": "offset", "in": "query", "required": false, "style": "form", "explode": false,
					"description": "Features to skip (the rel=next link sets it)", "schema": obj{"type": "integer", "minimum": 0, "default": 0}},
				"properties": obj{"name": "properties", "in": "query", "required": false, "style": "form", "explode": false,
					"description": "Comma-separated properties to return (default: all)", "schema": obj{"type": "array", "items": obj{"type": "string"}}},
				"sortby": obj{"name": "sortby", "in": "query", "required": false, "style": "form", "explode": false,
					"description": "Comma-separated queryable properties to sort by; prefix - for descending", "schema": obj{"type": "array", "items": obj{"type": "string"}}},
				"featureId": obj{"name": "featureId", "in": "path", "required": true, "description": "Feature id", "schema": obj{"type": "string"}},
				"filter": obj{"name": "filter", "in": "query", "required": false, "style": "form", "explode": false,
					"description": "A CQL2 filter on the collection's queryables (/collections/{id}/queryables) and geometry, in filter-lang: " +
						"comparisons, LIKE, BETWEEN, IN, IS NULL, CASEI, ACCENTI, arithmetic and the spatial functions S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, S_EQUALS, S_TOUCHES, S_OVERLAPS, S_CROSSES; " +
						"e.g. imd_decile <= 2 AND S_INTERSECTS(geometry, POLYGON((...))). A filter that cannot be read, or that does not fit the collection, is a 400 naming the line and column.",
					"schema": obj{"type": "string", "maxLength": cql2.MaxLength}},
				"filter-lang": obj{"name": "filter-lang", "in": "query", "required": false, "style": "form", "explode": false,
					"description": "Encoding of filter", "schema": obj{"type": "string", "enum": []string{cql2.LangText, cql2.LangJSON}, "default": cql2.LangText}},
				"filter-crs": obj{"name": "filter-crs", "in": "query", "required": false, "style": "form", "explode": false,
					"description": "CRS of the geometry literals in filter (longitude, latitude by default)", "schema": obj{"type": "string", "format": "uri", "enum": crsEnum, "default": geo.CRS84.URI}},
				"tileMatrixSetId": obj{"name": "tileMatrixSetId", "in": "path", "required": true, "description": "Identifier of the tile matrix set",
					"schema": obj{"type": "string", "enum": []string{tiles.WebMercatorQuadID}}},
				"tileMatrix": obj{"name": "tileMatrix", "in": "path", "required": true, "description": fmt.Sprintf("Tile matrix (zoom): 0 to %d are served; the tileset's tileMatrixSetLimits give the rows and columns with data", tiles.DetailZoom),
					"schema": obj{"type": "string", "pattern": "^[0-9]+$"}, "example": "12"},
				"tileRow": obj{"name": "tileRow", "in": "path", "required": true, "description": "Row of the tile (the XYZ y, counted from the north)",
					"schema": obj{"type": "integer", "minimum": 0}, "example": 1323},
				"tileCol": obj{"name": "tileCol", "in": "path", "required": true, "description": "Column of the tile (the XYZ x, counted from the west); {tileCol}.mvt is the same tile",
					"schema": obj{"type": "string", "pattern": "^[0-9]+(\\.mvt)?$"}, "example": "2018"},
				"f-tile": obj{"name": "f", "in": "query", "required": false, "style": "form", "explode": false,
					"description": "Representation (instead of the Accept header)", "schema": obj{"type": "string", "enum": []string{"mvt"}, "default": "mvt"}},
			},
			"responses": obj{
				"InvalidParameter": okResponse("A parameter is malformed or unknown", content(ref("schemas", "exception"), "application/json")),
				"NotFound":         okResponse("No such collection or feature", content(ref("schemas", "exception"), "application/json")),
				"NotAcceptable":    okResponse("The requested representation is not available", content(ref("schemas", "exception"), "application/json")),
				"ServerError":      okResponse("An internal error; the body names the request id to quote", content(ref("schemas", "exception"), "application/json")),
				"EmptyTile":        obj{"description": "The tile has no features"},
				"Unauthorized":     okResponse("No staff key, or an invalid or revoked one", content(ref("schemas", "exception"), "application/json")),
				"Forbidden":        okResponse("The key does not reach this neighbourhood, borough or asset (its scopes)", content(ref("schemas", "exception"), "application/json")),
				"TooManyRequests":  okResponse("Too many failed key checks from this client; see Retry-After", content(ref("schemas", "exception"), "application/json")),
				"Unavailable": obj{"description": "The database cannot serve the request now (unreachable, not answering in time, or every connection busy); retry after Retry-After seconds",
					"headers": obj{"Retry-After": obj{"description": "Seconds to wait before retrying", "schema": obj{"type": "integer"}}},
					"content": content(ref("schemas", "exception"), "application/json")},
			},
			"securitySchemes": obj{
				"staffKey": obj{"type": "http", "scheme": "bearer", "description": "A staff key from `nbhd keys create`; its scopes say where it reaches (borough:, set:, set:code) and whether it may change community assets (assets:write)"},
			},
			"schemas": obj{
				"exception": obj{"type": "object", "required": []string{"code"}, "properties": obj{
					"code": obj{"type": "string"}, "description": obj{"type": "string"}}},
				"link":        linkSchema,
				"landingPage": obj{"type": "object", "required": []string{"links"}, "properties": obj{"title": obj{"type": "string"}, "description": obj{"type": "string"}, "links": links}},
				"confClasses": obj{"type": "object", "required": []string{"conformsTo"}, "properties": obj{"conformsTo": obj{"type": "array", "items": obj{"type": "string"}}}},
				"collections": obj{"type": "object", "required": []string{"links", "collections"}, "properties": obj{"links": links, "collections": obj{"type": "array", "items": ref("schemas", "collection")}}},
				"collection":  obj{"type": "object", "required": []string{"id", "links"}, "properties": obj{"id": obj{"type": "string"}, "title": obj{"type": "string"}, "description": obj{"type": "string"}, "links": links, "crs": obj{"type": "array", "items": obj{"type": "string"}}, "storageCrs": obj{"type": "string"}}},
				"featureGeoJSON": obj{"type": "object", "required": []string{"type", "geometry", "properties"}, "properties": obj{
					"type": obj{"type": "string", "enum": []string{"Feature"}}, "id": obj{"type": "string"},
					"geometry": obj{"type": "object", "nullable": true}, "properties": obj{"type": "object", "nullable": true}, "links": links}},
				"featureCollectionGeoJSON": obj{"type": "object", "required": []string{"type", "features"}, "properties": obj{
					"type": obj{"type": "string", "enum": []string{"FeatureCollection"}}, "features": obj{"type": "array", "items": ref("schemas", "featureGeoJSON")},
					"links": links, "numberMatched": obj{"type": "integer", "minimum": 0}, "numberReturned": obj{"type": "integer", "minimum": 0}}},
			},
		},
	}
	maps.Copy(doc["components"].(obj)["schemas"].(obj), tilesSchemas())
	return doc
}

func (s *Server) openAPI(c *gin.Context) error {
	cat, err := s.store.Catalogue(c.Request.Context())
	if err != nil {
		return err
	}
	f, err := negotiate(c, fOpenAPI, fHTML)
	if err != nil {
		return err
	}
	if s.conditional(c, f) {
		return nil
	}
	doc := s.openAPIDoc(c, cat)
	if f != fHTML {
		return writeJSON(c, fOpenAPI, doc)
	}
	p := &page{Base: s.baseURL(c), Title: "API", Description: doc["info"].(obj)["description"].(string),
		Crumbs: s.crumbs(c, crumb{"API", ""}), Formats: formatLinks(s.selfLinks(c, f, fOpenAPI, fHTML)),
		Table: &table{Head: []string{"Path", "Summary", "Parameters"}}}
	paths := doc["paths"].(obj)
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		op := paths[k].(obj)["get"].(obj)
		var names []string
		ps, _ := op["parameters"].([]obj)
		for _, p := range ps {
			if r, ok := p["$ref"].(string); ok {
				names = append(names, strings.TrimPrefix(r, "#/components/parameters/"))
			} else {
				names = append(names, p["name"].(string))
			}
		}
		href := ""
		if !strings.Contains(k, "{") {
			href = s.baseURL(c) + k
		}
		p.Table.Rows = append(p.Table.Rows, []cell{{Value: k, Href: href}, {Value: op["summary"].(string)}, {Value: strings.Join(names, ", ")}})
	}
	return s.writeHTML(c, p)
}
