package api

import (
	"net/http"
	"strconv"

	"nbhd/data"
)

// openAPIRegister adds the asset register's operations (OGC API – Features
// Part 4) to the community-assets paths.
func openAPIRegister(paths obj) {
	base := "/collections/" + registerLayer
	items, _ := paths[base+"/items"].(obj)
	item, _ := paths[base+"/items/{featureId}"].(obj)
	if items == nil || item == nil {
		return
	}
	props := obj{}
	for _, f := range data.AssetFields {
		props[f] = obj{"type": "string", "description": registerFieldDocs[f]}
	}
	point := obj{"type": "object", "required": []string{"type", "coordinates"}, "properties": obj{
		"type":        obj{"type": "string", "enum": []string{"Point"}},
		"coordinates": obj{"type": "array", "minItems": 2, "maxItems": 3, "items": obj{"type": "number"}},
	}}
	feature := obj{"type": "object", "required": []string{"type", "geometry", "properties"}, "properties": obj{
		"type": obj{"type": "string", "enum": []string{"Feature"}}, "geometry": point,
		"properties": obj{"type": "object", "required": []string{"name", "category"}, "properties": props,
			"description": "The writable properties; source, lad_code, origin, edited, edited_fields, edited_at, status, closed_on and revision may be sent back and are ignored; any other property is refused."},
	}}
	patchProps := obj{}
	for k, v := range props {
		p := obj{"nullable": true}
		for kk, vv := range v.(obj) {
			p[kk] = vv
		}
		patchProps[k] = p
	}
	patch := obj{"type": "object", "description": "A JSON merge patch (RFC 7396) of the feature: the properties given are set (null clears an optional one), a geometry moves the asset.",
		"properties": obj{"geometry": point, "properties": obj{"type": "object", "properties": patchProps}}}
	note := obj{"name": "note", "in": "query", "required": true, "description": "Why: recorded with the change, its key and time (at most 500 characters)",
		"schema": obj{"type": "string", "minLength": 1, "maxLength": 500}}
	ifMatch := obj{"name": "If-Match", "in": "header", "required": true,
		"description": "The asset's ETag, from GET of the item with a staff key or from the last change's answer; a stale one is refused (412)",
		"schema":      obj{"type": "string"}}
	contentCrs := obj{"name": "Content-Crs", "in": "header", "required": false,
		"description": "CRS of the body's coordinates: longitude, latitude (CRS84) by default, or <http://www.opengis.net/def/crs/EPSG/0/27700>",
		"schema":      obj{"type": "string"}}
	featureOut := content(ref("schemas", "featureGeoJSON"), "application/geo+json")
	etag := obj{"ETag": obj{"description": "The asset's new ETag, for the next If-Match", "schema": obj{"type": "string"}}}
	errs := func(codes ...int) obj {
		out := obj{
			"401": ref("responses", "Unauthorized"), "403": okResponse("The key has no assets:write scope, or may not write where the asset is (or goes)", content(ref("schemas", "exception"), "application/json")),
			"429": ref("responses", "TooManyRequests"), "500": ref("responses", "ServerError"), "503": ref("responses", "Unavailable"),
			"400": okResponse("A value is refused: the description names the field and says why", content(ref("schemas", "exception"), "application/json")),
		}
		for _, code := range codes {
			out[strconv.Itoa(code)] = okResponse(registerStatusDocs[code], content(ref("schemas", "exception"), "application/json"))
		}
		return out
	}
	security := []obj{{"staffKey": []string{}}}
	body := func(schema obj, types ...string) obj {
		return obj{"required": true, "content": content(schema, types...)}
	}
	created := errs(http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
	created["201"] = obj{"description": "Created: Location names the new asset", "content": featureOut,
		"headers": obj{"Location": obj{"description": "The new asset's URL", "schema": obj{"type": "string"}}, "ETag": etag["ETag"]}}
	items["post"] = obj{"operationId": "createAsset", "summary": "Staff: add a community asset (source: council register)",
		"security": security, "parameters": []obj{note, contentCrs},
		"requestBody": body(feature, "application/geo+json", "application/json"), "responses": created}
	changed := func() obj {
		r := errs(http.StatusNotFound, http.StatusGone, http.StatusPreconditionFailed, http.StatusRequestEntityTooLarge,
			http.StatusUnsupportedMediaType, http.StatusPreconditionRequired)
		r["200"] = obj{"description": "Changed: the asset as it now is", "content": featureOut, "headers": etag}
		return r
	}
	itemParams := []obj{param("featureId"), note, ifMatch, contentCrs}
	item["put"] = obj{"operationId": "replaceAsset", "summary": "Staff: replace a community asset (every writable property and its position)",
		"security": security, "parameters": itemParams,
		"requestBody": body(feature, "application/geo+json", "application/json"), "responses": changed()}
	item["patch"] = obj{"operationId": "updateAsset", "summary": "Staff: correct or move a community asset (JSON merge patch); corrections of imported assets survive re-import",
		"security": security, "parameters": itemParams,
		"requestBody": body(patch, "application/merge-patch+json", "application/json", "application/geo+json"), "responses": changed()}
	closed := errs(http.StatusNotFound, http.StatusGone, http.StatusPreconditionFailed, http.StatusPreconditionRequired)
	closed["204"] = obj{"description": "Closed: the asset leaves the public register and counts, and stays in its history"}
	item["delete"] = obj{"operationId": "closeAsset", "summary": "Staff: close a community asset (kept in history)",
		"security": security, "parameters": []obj{param("featureId"), note, ifMatch,
			{"name": "closed_on", "in": "query", "required": false, "description": "The date it closed (default today; not in the future)",
				"schema": obj{"type": "string", "format": "date"}}},
		"responses": closed}
	getItem, _ := item["get"].(obj)
	if getItem != nil {
		getItem["description"] = "With a staff key (Authorization: Bearer), the asset as staff see it, open or closed, with its strong ETag for If-Match " +
			"(and email, origin, edited_fields, status, revision); without one, the public feature."
	}
	history := operation("assetHistory", "Staff: every version of a community asset, with who, when and why", []obj{param("featureId")},
		okResponse("The versions, oldest first; an imported asset staff never changed has one, its import",
			content(obj{"type": "object", "properties": obj{"id": obj{"type": "string"}, "status": obj{"type": "string", "enum": []string{"open", "closed", "removed"}},
				"versions": obj{"type": "array", "items": obj{"type": "object"}}}}, "application/json")))
	get := history["get"].(obj)
	get["security"] = security
	resp := get["responses"].(obj)
	resp["401"] = ref("responses", "Unauthorized")
	resp["403"] = ref("responses", "Forbidden")
	resp["429"] = ref("responses", "TooManyRequests")
	paths[base+"/items/{featureId}/history"] = history
}

var registerFieldDocs = map[string]string{
	"name":          "Required; at most 200 characters",
	"category":      "Required; lower-case letters, digits and _, starting with a letter (e.g. warm_space)",
	"address":       "At most 500 characters, one line",
	"postcode":      "A UK postcode (normalised, e.g. WN1 1LU)",
	"phone":         "7 to 15 digits, with spaces, brackets, - or a leading +",
	"email":         "An email address",
	"url":           "A web address starting http:// or https://",
	"opening_hours": "Opening times as published, at most 500 characters",
}

var registerStatusDocs = map[int]string{
	http.StatusNotFound:              "No such asset",
	http.StatusGone:                  "The asset was closed: it stays in history and can no longer be changed",
	http.StatusPreconditionFailed:    "The asset changed since the ETag given in If-Match was read: GET it again",
	http.StatusPreconditionRequired:  "If-Match is required",
	http.StatusRequestEntityTooLarge: "The body is over 64 KiB",
	http.StatusUnsupportedMediaType:  "The body is not GeoJSON or JSON (Content-Type)",
}
