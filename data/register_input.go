package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"nbhd/geo"
)

// What a staff request may say about a community asset, and how each value
// is checked. Every refusal is a *FieldError naming the field, in words.

// AssetFields are the properties staff write, in the order they are shown.
var AssetFields = []string{"name", "category", "address", "postcode", "phone", "email", "url", "opening_hours"}

// readOnlyAssetFields are properties the register shows and a client may
// send back unchanged in a PUT: they are ignored, never stored.
var readOnlyAssetFields = []string{"source", "lad_code", "origin", "edited", "edited_fields", "edited_at", "status", "closed_on", "revision"}

// Register modes: what a request body is for.
const (
	AssetCreate  = "create"  // POST: a whole feature
	AssetReplace = "replace" // PUT: a whole feature
	AssetUpdate  = "update"  // PATCH: a JSON merge patch (RFC 7396)
	AssetClose   = "close"   // DELETE: no body
)

// Limits of the values staff write.
const (
	maxNameLength  = 200
	maxTextLength  = 500
	maxNoteLength  = 500
	maxEmailLength = 254
)

// FieldError is a value staff sent that the register refuses.
type FieldError struct {
	Field   string // a property, "geometry", "note" or "body"
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// AssetInput is a request body, read and checked.
type AssetInput struct {
	// ID is the id the body gives, if any: ignored on create, and on
	// replace it must be the id of the URL.
	ID string
	// Fields are the writable properties to set, normalised; "" clears an
	// optional one. A create or replace has every field.
	Fields map[string]string
	// Point is the new position in the request's CRS, or nil to keep it.
	Point *orb.Point
}

var (
	categoryRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,49}$`)
	postcodeRe = regexp.MustCompile(`^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$`)
	phoneRe    = regexp.MustCompile(`^\+?[0-9 ()./-]+$`)
	emailRe    = regexp.MustCompile(`^[^@\s<>(),;:"\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$`)
)

// ParseAssetFeature reads a request body: a GeoJSON Feature (create,
// replace) or a JSON merge patch of one (update). Coordinates are checked
// to be in range for crs; whether the point lies in a loaded borough the
// key may write is the store's to say.
func ParseAssetFeature(body []byte, mode string, crs geo.CRS) (AssetInput, error) {
	in := AssetInput{Fields: map[string]string{}}
	if !utf8.Valid(body) {
		return in, fieldErr("body", "is not UTF-8 text")
	}
	var doc map[string]json.RawMessage
	if err := strictJSON(body, &doc); err != nil {
		return in, err
	}
	if doc == nil {
		return in, fieldErr("body", "must be a JSON object: a GeoJSON Feature")
	}
	for k := range doc {
		if !slices.Contains([]string{"type", "id", "geometry", "properties", "links"}, k) {
			return in, fieldErr(k, "is not a member of a feature here: send type, geometry and properties (id and links are ignored)")
		}
	}
	whole := mode != AssetUpdate
	if raw, ok := doc["type"]; ok || whole {
		var t string
		if err := json.Unmarshal(raw, &t); err != nil || t != "Feature" {
			return in, fieldErr("type", `must be "Feature"`)
		}
	}
	if raw, ok := doc["id"]; ok && !isNull(raw) {
		var id any
		if err := json.Unmarshal(raw, &id); err != nil {
			return in, fieldErr("id", "must be a string")
		}
		switch v := id.(type) {
		case string:
			in.ID = v
		case float64:
			in.ID = fmt.Sprint(v)
		default:
			return in, fieldErr("id", "must be a string")
		}
	}
	raw, ok := doc["geometry"]
	switch {
	case ok && !isNull(raw):
		p, err := parsePoint(raw, crs)
		if err != nil {
			return in, err
		}
		in.Point = &p
	case whole:
		return in, fieldErr("geometry", "is required: a GeoJSON Point, e.g. {\"type\": \"Point\", \"coordinates\": [-2.63, 53.54]}")
	case ok:
		return in, fieldErr("geometry", "cannot be removed: an asset is a point (close it with DELETE instead)")
	}
	props := map[string]json.RawMessage{}
	if raw, ok := doc["properties"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &props); err != nil {
			return in, fieldErr("properties", "must be an object of property names and values")
		}
	} else if whole {
		return in, fieldErr("properties", "are required: at least name and category")
	}
	for name, raw := range props {
		if slices.Contains(readOnlyAssetFields, name) {
			continue
		}
		if !slices.Contains(AssetFields, name) {
			return in, fieldErr(name, "is not a property staff may write; writable: %s (%s are shown, and ignored if sent)",
				strings.Join(AssetFields, ", "), strings.Join(readOnlyAssetFields, ", "))
		}
		if isNull(raw) {
			if !whole {
				in.Fields[name] = "" // a merge patch's null removes the value
				continue
			}
		} else {
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return in, fieldErr(name, "must be a string (text in double quotes)")
			}
			in.Fields[name] = v
		}
	}
	if whole {
		for _, f := range AssetFields {
			if _, ok := in.Fields[f]; !ok {
				in.Fields[f] = ""
			}
		}
	} else if len(in.Fields) == 0 && in.Point == nil {
		return in, fieldErr("body", "the patch changes nothing: give properties to set (null clears one) or a geometry")
	}
	for f, v := range in.Fields {
		norm, err := checkAssetField(f, v)
		if err != nil {
			return in, err
		}
		in.Fields[f] = norm
	}
	return in, nil
}

// strictJSON decodes one JSON value, with errors in words and its byte
// offset; numbers are checked where they are read.
func strictJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fieldErr("body", "is not valid JSON (at byte %d): %s", se.Offset, se.Error())
		case errors.As(err, &te):
			return fieldErr("body", "must be a JSON object: a GeoJSON Feature")
		case len(bytes.TrimSpace(body)) == 0:
			return fieldErr("body", "is empty: send a GeoJSON Feature")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return fieldErr("body", "is not valid JSON: it ends before its last object or array is closed")
		}
		return fieldErr("body", "is not valid JSON: %s", err.Error())
	}
	if dec.More() {
		return fieldErr("body", "holds more than one JSON value")
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// parsePoint reads a GeoJSON Point and checks its coordinates are in range
// for crs (longitude and latitude, or British National Grid metres).
func parsePoint(raw json.RawMessage, crs geo.CRS) (orb.Point, error) {
	var g struct {
		Type        string            `json:"type"`
		Coordinates []json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return orb.Point{}, fieldErr("geometry", "must be a GeoJSON Point: {\"type\": \"Point\", \"coordinates\": [x, y]}")
	}
	if g.Type != "Point" {
		return orb.Point{}, fieldErr("geometry", "must be a Point (an asset is placed at one point), not %q", g.Type)
	}
	if len(g.Coordinates) < 2 || len(g.Coordinates) > 3 {
		return orb.Point{}, fieldErr("geometry", "a Point has two coordinates (x, y), got %d", len(g.Coordinates))
	}
	var xy [2]float64
	for i := range xy {
		if err := json.Unmarshal(g.Coordinates[i], &xy[i]); err != nil || math.IsNaN(xy[i]) || math.IsInf(xy[i], 0) {
			return orb.Point{}, fieldErr("geometry", "coordinates must be finite numbers, got %.40s", string(g.Coordinates[i]))
		}
	}
	if len(g.Coordinates) == 3 {
		var z float64
		if err := json.Unmarshal(g.Coordinates[2], &z); err != nil {
			return orb.Point{}, fieldErr("geometry", "coordinates must be finite numbers, got %.40s", string(g.Coordinates[2]))
		}
	}
	p := orb.Point{xy[0], xy[1]}
	if crs.SRID == geo.BNG.SRID {
		if p[0] < 0 || p[0] > 700_000 || p[1] < 0 || p[1] > 1_300_000 {
			return p, fieldErr("geometry", "[%g, %g] is not a British National Grid easting and northing (0..700000, 0..1300000 metres)", p[0], p[1])
		}
		return p, nil
	}
	if math.Abs(p[0]) > 180 || math.Abs(p[1]) > 90 {
		return p, fieldErr("geometry", "[%g, %g] is not longitude, latitude in degrees (-180..180, -90..90); "+
			"for British National Grid metres send the header Content-Crs: <%s>", p[0], p[1], geo.BNG.URI)
	}
	b := geo.BritishIsles
	if !b.Contains(p) && b.Contains(orb.Point{p[1], p[0]}) {
		return p, fieldErr("geometry", "[%g, %g] looks like latitude, longitude: GeoJSON gives longitude first", p[0], p[1])
	}
	return p, nil
}

// checkAssetField normalises and checks one writable value.
func checkAssetField(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if i := strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }); i >= 0 {
		return "", fieldErr(field, "holds a control character (such as a line break or NUL): write it on one line")
	}
	limit := maxTextLength
	switch field {
	case "name":
		limit = maxNameLength
		if v == "" {
			return "", fieldErr(field, "is required: the asset's name, e.g. \"Leigh Library\"")
		}
	case "category":
		if v == "" {
			return "", fieldErr(field, "is required: a category such as library, food_bank or warm_space")
		}
		if !categoryRe.MatchString(v) {
			return "", fieldErr(field, "%q must be lower-case letters, digits and _, starting with a letter (e.g. warm_space), at most 50", v)
		}
	case "postcode":
		if v == "" {
			break
		}
		p := strings.ToUpper(strings.Join(strings.Fields(v), ""))
		if len(p) >= 5 {
			p = p[:len(p)-3] + " " + p[len(p)-3:]
		}
		if !postcodeRe.MatchString(p) {
			return "", fieldErr(field, "%q is not a UK postcode (e.g. WN1 1LU)", v)
		}
		v = p
	case "phone":
		digits := 0
		for _, r := range v {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if v != "" && (!phoneRe.MatchString(v) || digits < 7 || digits > 15) {
			return "", fieldErr(field, "%q is not a telephone number: 7 to 15 digits, with spaces, brackets, - or a leading + (e.g. 01942 828000)", v)
		}
	case "email":
		if v != "" && (len(v) > maxEmailLength || !emailRe.MatchString(v)) {
			return "", fieldErr(field, "%q is not an email address (e.g. library@example.org)", v)
		}
	case "url":
		if v == "" {
			break
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.Contains(u.Hostname(), ".") || u.User != nil {
			return "", fieldErr(field, "%q is not a web address: give it whole, starting http:// or https://", v)
		}
	}
	if n := utf8.RuneCountInString(v); n > limit {
		return "", fieldErr(field, "is %d characters long; at most %d", n, limit)
	}
	return v, nil
}

// CheckNote checks the reason staff give for a change.
func CheckNote(note string) (string, error) {
	note = strings.TrimSpace(note)
	switch {
	case note == "":
		return "", fieldErr("note", "say why, e.g. ?note=Opened+as+a+warm+space+this+winter: every change records who, when and why")
	case strings.IndexFunc(note, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }) >= 0:
		return "", fieldErr("note", "holds a control character (such as a line break or NUL)")
	case utf8.RuneCountInString(note) > maxNoteLength:
		return "", fieldErr("note", "is %d characters long; at most %d", utf8.RuneCountInString(note), maxNoteLength)
	}
	return note, nil
}
