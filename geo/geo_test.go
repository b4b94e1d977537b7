package geo

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestParseBBox(t *testing.T) {
	cases := []struct {
		in      string
		crs     CRS
		want    orb.Bound
		wantErr string
	}{
		{"-2.7,53.4,-2.4,53.6", CRS84, orb.Bound{Min: orb.Point{-2.7, 53.4}, Max: orb.Point{-2.4, 53.6}}, ""},
		{" -2.7 , 53.4 , -2.4 , 53.6 ", CRS84, orb.Bound{Min: orb.Point{-2.7, 53.4}, Max: orb.Point{-2.4, 53.6}}, ""},
		{"-2.7,53.4,0,-2.4,53.6,100", CRS84, orb.Bound{Min: orb.Point{-2.7, 53.4}, Max: orb.Point{-2.4, 53.6}}, ""},
		{"350000,395000,375000,415000", BNG, orb.Bound{Min: orb.Point{350000, 395000}, Max: orb.Point{375000, 415000}}, ""},
		{"1,2,3", CRS84, orb.Bound{}, "4 comma-separated numbers"},
		{"", CRS84, orb.Bound{}, "4 comma-separated numbers"},
		{"a,2,3,4", CRS84, orb.Bound{}, "not a finite number"},
		{"NaN,2,3,4", CRS84, orb.Bound{}, "not a finite number"},
		{"1,2,Inf,4", CRS84, orb.Bound{}, "not a finite number"},
		{"3,2,1,4", CRS84, orb.Bound{}, "must not exceed"},
		{"350000,395000,375000,415000", CRS84, orb.Bound{}, "outside longitude"},
	}
	for _, c := range cases {
		got, err := ParseBBox(c.in, c.crs)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseBBox(%q) error %v, want one containing %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseBBox(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestParseCRS(t *testing.T) {
	for in, want := range map[string]CRS{
		"": CRS84, "http://www.opengis.net/def/crs/OGC/1.3/CRS84": CRS84, "https://www.opengis.net/def/crs/OGC/1.3/CRS84": CRS84,
		"[http://www.opengis.net/def/crs/OGC/1.3/CRS84]": CRS84, "EPSG:27700": BNG, "http://www.opengis.net/def/crs/EPSG/0/27700": BNG,
		"urn:ogc:def:crs:EPSG::27700": BNG, "OGC:CRS84": CRS84,
	} {
		got, err := ParseCRS(in)
		if err != nil || got != want {
			t.Errorf("ParseCRS(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"EPSG:3857", "http://www.opengis.net/def/crs/EPSG/0/4326", "nonsense"} {
		if _, err := ParseCRS(in); err == nil {
			t.Errorf("ParseCRS(%q) succeeded; want an error", in)
		}
	}
}

func TestCheckLonLat(t *testing.T) {
	square := orb.Polygon{{{-2.6, 53.5}, {-2.5, 53.5}, {-2.5, 53.6}, {-2.6, 53.5}}}
	cases := []struct {
		name string
		g    orb.Geometry
		want string
	}{
		{"Wigan point", orb.Point{-2.63, 53.54}, ""},
		{"polygon", square, ""},
		{"nil", nil, "empty"},
		{"British National Grid", orb.Point{357680, 399170}, "not lon/lat"},
		{"swapped", orb.Point{53.54, -2.63}, "swapped"},
		{"open ring", orb.Polygon{{{-2.6, 53.5}, {-2.5, 53.5}, {-2.5, 53.6}, {-2.6, 53.6}}}, "not closed"},
		{"short ring", orb.Polygon{{{-2.6, 53.5}, {-2.5, 53.5}, {-2.6, 53.5}}}, "at least 4"},
		{"empty multipolygon", orb.MultiPolygon{}, "empty"},
	}
	for _, c := range cases {
		err := CheckLonLat(c.g, BritishIsles)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: CheckLonLat = %v, want %q", c.name, err, c.want)
		}
	}
}

func readAll(s string) (int, error) {
	fr, err := NewFeatureReader(strings.NewReader(s))
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		_, _, err := fr.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

func TestFeatureReader(t *testing.T) {
	f := `{"type":"Feature","properties":{"a":1},"geometry":{"type":"Point","coordinates":[-2.6,53.5]}}`
	cases := []struct {
		name, in string
		n        int
		want     string
	}{
		{"two features", `{"type":"FeatureCollection","features":[` + f + `,` + f + `]}`, 2, ""},
		{"members after features", `{"features":[` + f + `],"type":"FeatureCollection","name":"x","crs":{"a":[1]}}`, 1, ""},
		{"cut inside a feature", `{"type":"FeatureCollection","features":[` + f + `,` + f[:30], 1, "feature 2: file is truncated"},
		{"cut after the array", `{"type":"FeatureCollection","features":[` + f + `]`, 1, "truncated"},
		{"cut before the array ends", `{"type":"FeatureCollection","features":[` + f, 1, "truncated"},
		{"not an object", `[1,2]`, 0, "not a GeoJSON FeatureCollection"},
		{"a Feature", f, 0, "FeatureCollection"},
		{"no features", `{"type":"FeatureCollection"}`, 0, "not a GeoJSON FeatureCollection"},
		{"features not an array", `{"features":{}}`, 0, "not an array"},
		{"syntax error", `{"type":"FeatureCollection","features":[{"type":"Feature",,}]}`, 0, "feature 1: invalid JSON"},
	}
	for _, c := range cases {
		n, err := readAll(c.in)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
		if n != c.n {
			t.Errorf("%s: read %d features, want %d", c.name, n, c.n)
		}
	}
}

func TestEmptyCoordinatesAreEmptyGeometry(t *testing.T) {
	fr, err := NewFeatureReader(strings.NewReader(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[ ]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := fr.Next()
	if err != nil || f.Geometry != nil {
		t.Fatalf("got %v, %v; want a feature with no geometry", f, err)
	}
}

func TestEWKBRoundTrip(t *testing.T) {
	for _, g := range []orb.Geometry{
		orb.Point{-2.6, 53.5},
		orb.MultiPoint{{-2.6, 53.5}, {-2.5, 53.4}},
		orb.LineString{{-2.6, 53.5}, {-2.5, 53.4}},
		orb.MultiLineString{{{-2.6, 53.5}, {-2.5, 53.4}}},
		orb.Polygon{{{-2.6, 53.5}, {-2.5, 53.5}, {-2.5, 53.6}, {-2.6, 53.5}}},
		orb.MultiPolygon{{{{-2.6, 53.5}, {-2.5, 53.5}, {-2.5, 53.6}, {-2.6, 53.5}}}},
	} {
		b, err := EWKB(g, 4326)
		if err != nil {
			t.Fatalf("%T: %v", g, err)
		}
		back, srid, err := FromEWKB(b)
		if err != nil || srid != 4326 || !orb.Equal(back, g) {
			t.Errorf("%T round trip: %v srid %d err %v", g, back, srid, err)
		}
	}
}

func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{"-2.7,53.4,-2.4,53.6", "1,2,3", "a,b,c,d", "1e308,1e308,1e309,1", "0,0,0,0,0,0", ",,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, crs := range SupportedCRS {
			b, err := ParseBBox(s, crs)
			if err == nil && (b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1]) {
				t.Fatalf("ParseBBox(%q) accepted an inverted box %v", s, b)
			}
		}
	})
}

func FuzzParseCRS(f *testing.F) {
	for _, s := range []string{"", "EPSG:27700", CRS84.URI, "[" + BNG.URI + "]", "https://x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCRS(s)
		if err == nil && c != CRS84 && c != BNG {
			t.Fatalf("ParseCRS(%q) = %v", s, c)
		}
	})
}

func FuzzFeatureReader(f *testing.F) {
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[-2.6,53.5]}}]}`)
	f.Add(`{"features":[{"geometry":null}]}`)
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}}`)
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = readAll(s) // must not panic or loop
	})
}

func TestParseBBoxesAcrossTheAntimeridian(t *testing.T) {
	got, err := ParseBBoxes("170,-20,-170,-10", CRS84)
	want := []orb.Bound{{Min: orb.Point{170, -20}, Max: orb.Point{180, -10}}, {Min: orb.Point{-180, -20}, Max: orb.Point{-170, -10}}}
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ParseBBoxes across the antimeridian = %v, %v; want %v", got, err, want)
	}
	if got, err := ParseBBoxes("170,-20,0,-170,-10,5", CRS84); err != nil || len(got) != 2 || got[0] != want[0] {
		t.Errorf("six-number box across the antimeridian = %v, %v", got, err)
	}
	if got, err := ParseBBoxes("-2.7,53.4,-2.4,53.6", CRS84); err != nil || len(got) != 1 {
		t.Errorf("ordinary box = %v, %v", got, err)
	}
	for _, bad := range []string{"170,-10,-170,-20", "375000,395000,350000,415000", "190,0,-170,1", "a,1,b,2"} {
		crs := CRS84
		if strings.HasPrefix(bad, "375") {
			crs = BNG
		}
		if got, err := ParseBBoxes(bad, crs); err == nil {
			t.Errorf("ParseBBoxes(%q) = %v, want an error", bad, got)
		}
	}
}
