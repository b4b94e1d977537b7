package api

import (
	"strings"

	"nbhd/data"
)

// tileOperation is a GET that answers a vector tile: 200 with a Mapbox
// Vector Tile, 204 for a tile without features, and the usual errors.
func tileOperation(id, summary string, params []obj) obj {
	op := operation(id, summary, params, okResponse("A Mapbox Vector Tile (gzip-encoded when the client accepts it)",
		content(obj{"type": "string", "format": "binary"}, mvtType)))
	op["get"].(obj)["responses"].(obj)["204"] = ref("responses", "EmptyTile")
	return op
}

// openAPITiles adds the vector tile paths to the OpenAPI document: OGC API
// – Tiles for the dataset and each collection, and the XYZ tiles and
// TileJSON that share their cache.
func (s *Server) openAPITiles(paths obj, cat *data.Catalogue) {
	meta := []obj{param("f-metadata")}
	jsonHTML := func(schema string) obj { return content(ref("schemas", schema), "application/json", "text/html") }
	tileAddress := []obj{param("tileMatrixSetId"), param("tileMatrix"), param("tileRow"), param("tileCol"), param("f-tile")}
	filter := []obj{param("filter"), param("filter-lang"), param("filter-crs")}

	paths["/tileMatrixSets"] = operation("getTileMatrixSetsList", "The tile matrix sets of the vector tiles", meta,
		okResponse("The tile matrix sets, with links to their definitions", jsonHTML("tileMatrixSets")))
	paths["/tileMatrixSets/{tileMatrixSetId}"] = operation("getTileMatrixSet", "A tile matrix set's definition (TMS 2.0)",
		[]obj{param("tileMatrixSetId"), param("f-metadata")}, okResponse("The tile matrix set", jsonHTML("tileMatrixSet")))

	paths["/tiles"] = operation("dataset.getTileSetsList", "The dataset's vector tilesets: every collection in one tile", meta,
		okResponse("The tilesets, one per tile matrix set", jsonHTML("tileSets")))
	paths["/tiles/{tileMatrixSetId}"] = operation("dataset.getTileSet", "The dataset's vector tileset metadata",
		[]obj{param("tileMatrixSetId"), param("f-metadata")}, okResponse("Tileset metadata: layers and their properties, limits, links", jsonHTML("tileSet")))
	ids := data.LayerIDs(cat.Layers)
	collections := obj{"name": "collections", "in": "query", "required": false, "style": "form", "explode": false,
		"description": "The collections whose layers the tile holds (collections-selection), each once; every collection when left out",
		"schema":      obj{"type": "array", "items": obj{"type": "string", "enum": ids}}}
	paths["/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"] = tileOperation("dataset.getTile",
		"A vector tile of every collection, or of those collections selects, each its own MVT layer (no filter: a filter names one collection's queryables)",
		append(append([]obj{}, tileAddress...), collections))

	tileSet := obj{"name": "tileSet", "in": "path", "required": true,
		"description": "A collection's id, all for every collection, or collection ids joined by commas for just those (" + strings.Join(ids, ", ") + ")",
		"schema":      obj{"type": "string", "pattern": "^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$"}}
	xyz := func(name, desc string) obj {
		return obj{"name": name, "in": "path", "required": true, "description": desc, "schema": obj{"type": "integer", "minimum": 0}}
	}
	paths["/tiles/{tileSet}.json"] = operation("getTileJSON", "TileJSON 3.0.0 of a collection's vector tiles, or of all",
		[]obj{tileSet}, okResponse("The TileJSON document", content(obj{"type": "object"}, "application/json")))
	paths["/tiles/{tileSet}/{z}/{x}/{y}.mvt"] = tileOperation("getXYZTile",
		"A vector tile in the XYZ scheme: the same tile as .../tiles/WebMercatorQuad/{z}/{y}/{x} (filter on one collection's tiles only)",
		append([]obj{tileSet, xyz("z", "Zoom, 0 to 22"), xyz("x", "Column, 0 to 2^z-1"), xyz("y", "Row, 0 to 2^z-1, from the north")}, filter...))

	for _, l := range cat.Layers {
		base := "/collections/" + l.ID + "/tiles"
		id := "collection_" + strings.ReplaceAll(l.ID, "-", "_")
		paths[base] = operation(id+".getTileSetsList", "The vector tilesets of "+l.Title, meta,
			okResponse("The tilesets, one per tile matrix set", jsonHTML("tileSets")))
		paths[base+"/{tileMatrixSetId}"] = operation(id+".getTileSet", "Vector tileset metadata of "+l.Title,
			[]obj{param("tileMatrixSetId"), param("f-metadata")}, okResponse("Tileset metadata: the layer's properties, limits, links", jsonHTML("tileSet")))
		paths[base+"/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"] = tileOperation(id+".getTile",
			"A vector tile of "+l.Title+", with the features a CQL2 filter selects when one is given", append(append([]obj{}, tileAddress...), filter...))
	}
}

// tilesSchemas are the OpenAPI schemas of the OGC API – Tiles documents.
func tilesSchemas() obj {
	links := obj{"type": "array", "items": ref("schemas", "link")}
	str := obj{"type": "string"}
	return obj{
		"tileMatrixSets": obj{"type": "object", "required": []string{"tileMatrixSets"}, "properties": obj{"links": links,
			"tileMatrixSets": obj{"type": "array", "items": obj{"type": "object", "required": []string{"id", "links"},
				"properties": obj{"id": str, "title": str, "uri": str, "links": links}}}}},
		"tileMatrixSet": obj{"type": "object", "required": []string{"crs", "tileMatrices"}, "properties": obj{"id": str, "title": str,
			"uri": str, "crs": str, "orderedAxes": obj{"type": "array", "items": str}, "wellKnownScaleSet": str,
			"tileMatrices": obj{"type": "array", "items": obj{"type": "object",
				"required": []string{"id", "scaleDenominator", "cellSize", "pointOfOrigin", "tileWidth", "tileHeight", "matrixWidth", "matrixHeight"}}}}},
		"tileSets": obj{"type": "object", "required": []string{"tilesets"}, "properties": obj{"links": links,
			"tilesets": obj{"type": "array", "items": obj{"type": "object", "required": []string{"dataType", "links"},
				"properties": obj{"title": str, "dataType": str, "crs": str, "tileMatrixSetURI": str, "links": links}}}}},
		"tileSet": obj{"type": "object", "required": []string{"dataType", "crs", "links"}, "properties": obj{"title": str, "description": str,
			"dataType": obj{"type": "string", "enum": []string{"vector"}}, "crs": str, "tileMatrixSetURI": str,
			"tileMatrixSetLimits": obj{"type": "array", "items": obj{"type": "object", "required": []string{"tileMatrix", "minTileRow", "maxTileRow", "minTileCol", "maxTileCol"}}},
			"layers":              obj{"type": "array", "items": obj{"type": "object", "required": []string{"id", "dataType"}}}, "links": links}},
	}
}
