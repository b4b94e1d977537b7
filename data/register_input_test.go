package data_test

import (
	"errors"
	"strings"
	"testing"

	"nbhd/data"
	"nbhd/geo"
)

const goodAsset = `{"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.63, 53.545]},
  "properties": {"name": " Leigh Warm Space ", "category": "warm_space", "postcode": "wn7 1aa",
  "phone": "+44 (0)1942 828000", "email": "warm@example.org", "url": "https://example.org/warm",
  "source": "ignored", "edited": true, "revision": 9}}`

func TestParseAssetFeatureReadsAWholeFeature(t *testing.T) {
	in, err := data.ParseAssetFeature([]byte(goodAsset), data.AssetCreate, geo.CRS84)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"name": "Leigh Warm Space", "category": "warm_space", "postcode": "WN7 1AA", "phone": "+44 (0)1942 828000",
		"email": "warm@example.org", "url": "https://example.org/warm", "address": "", "opening_hours": ""}
	if len(in.Fields) != len(want) {
		t.Errorf("fields %v, want %v", in.Fields, want)
	}
	for k, v := range want {
		if in.Fields[k] != v {
			t.Errorf("%s = %q, want %q", k, in.Fields[k], v)
		}
	}
	if in.Point == nil || in.Point[0] != -2.63 || in.Point[1] != 53.545 {
		t.Errorf("point %v", in.Point)
	}
}

func TestParseAssetFeatureReadsAMergePatch(t *testing.T) {
	in, err := data.ParseAssetFeature([]byte(`{"properties": {"name": "New name", "phone": null}}`), data.AssetUpdate, geo.CRS84)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Fields) != 2 || in.Fields["name"] != "New name" || in.Fields["phone"] != "" || in.Point != nil {
		t.Errorf("patch read as %+v", in)
	}
	in, err = data.ParseAssetFeature([]byte(`{"geometry": {"type": "Point", "coordinates": [358000, 405000]}}`), data.AssetUpdate, geo.BNG)
	if err != nil || in.Point == nil || len(in.Fields) != 0 {
		t.Errorf("a move in British National Grid: %+v %v", in, err)
	}
}

// Every refusal names its field, in words.
func TestParseAssetFeatureRefusesWithTheFieldNamed(t *testing.T) {
	feature := func(props string, coords string) string {
		return `{"type": "Feature", "geometry": {"type": "Point", "coordinates": ` + coords + `}, "properties": {` + props + `}}`
	}
	ok := `"name": "x", "category": "library"`
	cases := []struct {
		name, mode, body, field, says string
	}{
		{"no name", data.AssetCreate, feature(`"category": "library"`, "[-2.6, 53.5]"), "name", "required"},
		{"blank name", data.AssetCreate, feature(`"name": "  ", "category": "library"`, "[-2.6, 53.5]"), "name", "required"},
		{"long name", data.AssetCreate, feature(`"name": "`+strings.Repeat("n", 201)+`", "category": "library"`, "[-2.6, 53.5]"), "name", "at most 200"},
		{"no category", data.AssetReplace, feature(`"name": "x"`, "[-2.6, 53.5]"), "category", "required"},
		{"category pattern", data.AssetCreate, feature(`"name": "x", "category": "Warm Space"`, "[-2.6, 53.5]"), "category", "lower-case"},
		{"unknown property", data.AssetCreate, feature(ok+`, "colour": "red"`, "[-2.6, 53.5]"), "colour", "not a property"},
		{"number for text", data.AssetCreate, feature(`"name": 12, "category": "library"`, "[-2.6, 53.5]"), "name", "must be a string"},
		{"object for text", data.AssetUpdate, `{"properties": {"url": {"href": "x"}}}`, "url", "must be a string"},
		{"NUL", data.AssetCreate, feature(`"name": "a\u0000b", "category": "library"`, "[-2.6, 53.5]"), "name", "control character"},
		{"line break", data.AssetCreate, feature(ok+`, "address": "1 High St\nLeigh"`, "[-2.6, 53.5]"), "address", "control character"},
		{"lone surrogate", data.AssetCreate, feature(`"name": "a\ud800", "category": "library"`, "[-2.6, 53.5]"), "name", "control character"},
		{"postcode", data.AssetCreate, feature(ok+`, "postcode": "WN1"`, "[-2.6, 53.5]"), "postcode", "UK postcode"},
		{"phone letters", data.AssetCreate, feature(ok+`, "phone": "call us"`, "[-2.6, 53.5]"), "phone", "telephone"},
		{"phone short", data.AssetCreate, feature(ok+`, "phone": "123"`, "[-2.6, 53.5]"), "phone", "telephone"},
		{"email", data.AssetCreate, feature(ok+`, "email": "not an address"`, "[-2.6, 53.5]"), "email", "email address"},
		{"url scheme", data.AssetCreate, feature(ok+`, "url": "javascript:alert(1)"`, "[-2.6, 53.5]"), "url", "web address"},
		{"url relative", data.AssetCreate, feature(ok+`, "url": "www.example.org"`, "[-2.6, 53.5]"), "url", "web address"},
		{"no geometry", data.AssetCreate, `{"type": "Feature", "properties": {` + ok + `}}`, "geometry", "required"},
		{"polygon", data.AssetCreate, `{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}, "properties": {` + ok + `}}`, "geometry", "must be a Point"},
		{"one coordinate", data.AssetCreate, feature(ok, "[-2.6]"), "geometry", "two coordinates"},
		{"text coordinate", data.AssetCreate, feature(ok, `["-2.6", 53.5]`), "geometry", "finite numbers"},
		{"huge coordinate", data.AssetCreate, feature(ok, "[1e999, 53.5]"), "geometry", "finite numbers"},
		{"out of range", data.AssetCreate, feature(ok, "[-200, 53.5]"), "geometry", "not longitude, latitude"},
		{"lat first", data.AssetCreate, feature(ok, "[53.5, -2.6]"), "geometry", "latitude, longitude"},
		{"grid metres as degrees", data.AssetCreate, feature(ok, "[358000, 405000]"), "geometry", "Content-Crs"},
		{"grid out of range", data.AssetCreate, feature(ok, "[-5, 405000]"), "geometry", "British National Grid"},
		{"patch removes geometry", data.AssetUpdate, `{"geometry": null}`, "geometry", "cannot be removed"},
		{"patch clears name", data.AssetUpdate, `{"properties": {"name": null}}`, "name", "required"},
		{"empty patch", data.AssetUpdate, `{"properties": {"source": "x"}}`, "body", "changes nothing"},
		{"not a feature", data.AssetCreate, `{"type": "FeatureCollection", "features": []}`, "features", "not a member"},
		{"wrong type", data.AssetCreate, `{"type": "Point", "coordinates": [1, 2]}`, "coordinates", "not a member"},
		{"type not Feature", data.AssetReplace, `{"type": "Point", "geometry": null, "properties": {}}`, "type", `"Feature"`},
		{"array", data.AssetCreate, `[1, 2, 3]`, "body", "JSON object"},
		{"null", data.AssetCreate, `null`, "body", "JSON object"},
		{"empty", data.AssetCreate, ``, "body", "empty"},
		{"truncated", data.AssetCreate, `{"type": "Feature", "properties": {`, "body", "ends before"},
		{"syntax", data.AssetCreate, `{"type": Feature}`, "body", "at byte"},
		{"two values", data.AssetCreate, `{} {}`, "body", "more than one"},
		{"not UTF-8", data.AssetCreate, "{\"type\": \"Feature\xff\"}", "body", "UTF-8"},
		{"properties array", data.AssetCreate, `{"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.6, 53.5]}, "properties": []}`, "properties", "object"},
	}
	for _, c := range cases {
		crs := geo.CRS84
		if strings.HasPrefix(c.name, "grid out") {
			crs = geo.BNG
		}
		_, err := data.ParseAssetFeature([]byte(c.body), c.mode, crs)
		var fe *data.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %v, want a field error", c.name, err)
			continue
		}
		if fe.Field != c.field || !strings.Contains(fe.Message, c.says) {
			t.Errorf("%s: %q, want field %s saying %q", c.name, fe.Error(), c.field, c.says)
		}
	}
}

func TestCheckNote(t *testing.T) {
	if n, err := data.CheckNote("  moved to the new hall "); err != nil || n != "moved to the new hall" {
		t.Errorf("%q %v", n, err)
	}
	for _, bad := range []string{"", "   ", "a\x00b", "two\nlines", strings.Repeat("x", 501)} {
		var fe *data.FieldError
		if _, err := data.CheckNote(bad); !errors.As(err, &fe) || fe.Field != "note" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
