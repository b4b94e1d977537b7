package api

import (
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"

	"nbhd/data"
	"nbhd/geo"
)

var testLayer = &data.Layer{
	ID: "things", View: pgx.Identifier{"api", "things"}, Key: "code", GeometryType: "Point",
	Fields: []data.Field{
		{Name: "code", Type: data.String, Queryable: true},
		{Name: "population", Type: data.Integer, Queryable: true},
		{Name: "decile", Type: data.Integer, Bits: 16, Queryable: true},
		{Name: "size", Type: data.Integer, Bits: 32, Queryable: true},
		{Name: "share", Type: data.Number, Queryable: true},
		{Name: "opened", Type: data.Date, Queryable: true},
		{Name: "address", Type: data.String},
	},
}

func TestParseItems(t *testing.T) {
	cases := []struct {
		query string
		ok    bool
		check func(data.FeatureQuery) bool
	}{
		{"", true, func(q data.FeatureQuery) bool {
			return q.Limit == defaultLimit && q.Offset == 0 && q.CRS == geo.CRS84 && q.Properties == nil
		}},
		{"limit=50000", true, func(q data.FeatureQuery) bool { return q.Limit == maxLimit }},
		{"limit=0&offset=7", true, func(q data.FeatureQuery) bool { return q.Limit == 0 && q.Offset == 7 }},
		{"crs=EPSG:27700&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/27700&bbox=1,2,3,4", true, func(q data.FeatureQuery) bool {
			return q.CRS == geo.BNG && q.BBoxCRS == geo.BNG && len(q.BBox) == 1
		}},
		{"bbox=170,-20,-170,-10", true, func(q data.FeatureQuery) bool {
			return len(q.BBox) == 2 && q.BBox[0].Max[0] == 180 && q.BBox[1].Min[0] == -180
		}},
		{"offset=9223372036854775807", true, func(q data.FeatureQuery) bool { return q.Offset == 9223372036854775807 }},
		{"population=12&code=E01&opened=2020-01-02&share=0.5", true, func(q data.FeatureQuery) bool {
			return len(q.Filters) == 4 && q.Filters[0].Field == "code" && q.Filters[3].Field == "share" && q.Filters[2].Value == int64(12)
		}},
		{"sortby=-population,+code", true, func(q data.FeatureQuery) bool {
			return len(q.SortBy) == 2 && q.SortBy[0].Desc && !q.SortBy[1].Desc
		}},
		{"properties=address,code", true, func(q data.FeatureQuery) bool { return len(q.Properties) == 2 }},
		{"properties=", true, func(q data.FeatureQuery) bool { return q.Properties != nil && len(q.Properties) == 0 }},
		{"limit=-1", false, nil},
		{"limit=1e3", false, nil},
		{"offset=x", false, nil},
		{"bbox=1,2,3", false, nil},
		{"bbox-crs=EPSG:27700", false, nil},
		{"crs=EPSG:4326", false, nil},
		{"sortby=address", false, nil},
		{"sortby=-", false, nil},
		{"properties=nope", false, nil},
		{"address=1 High St", false, nil},
		{"nope=1", false, nil},
		{"population=lots", false, nil},
		{"opened=yesterday", false, nil},
		{"share=NaNa", false, nil},
		{"share=NaN", false, nil},
		{"share=-Inf", false, nil},
		{"share=1e400", false, nil},
		{"decile=32767", true, func(q data.FeatureQuery) bool { return q.Filters[0].Value == int64(32767) }},
		{"decile=40000", false, nil},
		{"decile=-32769", false, nil},
		{"size=2147483647", true, func(q data.FeatureQuery) bool { return q.Filters[0].Value == int64(2147483647) }},
		{"size=2147483648", false, nil},
		{"population=9223372036854775808", false, nil},
		{"offset=9223372036854775808", false, nil},
		{"bbox=170,-10,-170,-20", false, nil},
	}
	for _, c := range cases {
		v, _ := url.ParseQuery(c.query)
		q, err := parseItems(v, testLayer)
		if c.ok != (err == nil) {
			t.Errorf("%q: error %v, want ok=%v", c.query, err, c.ok)
			continue
		}
		if err != nil {
			if e, isErr := err.(*Error); !isErr || e.Status != 400 { //nolint:errorlint // parseItems returns *Error itself
				t.Errorf("%q: %v is not a 400", c.query, err)
			}
			continue
		}
		if !c.check(q) {
			t.Errorf("%q: parsed %+v", c.query, q)
		}
	}
}

func FuzzParseItems(f *testing.F) {
	for _, s := range []string{"", "limit=10&offset=20", "bbox=-2.7,53.4,-2.4,53.6", "sortby=-population,code",
		"properties=code,address", "population=5", "crs=EPSG:27700&bbox=0,0,1,1&bbox-crs=EPSG:27700", "limit=99999999999999999999",
		"opened=2020-02-30", "f=csv&share=1e-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseItems(v, testLayer)
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Status != 400 { //nolint:errorlint // parseItems returns *Error itself
				t.Fatalf("%q: %v is not a 400", raw, err)
			}
			return
		}
		if q.Limit < 0 || q.Limit > maxLimit || q.Offset < 0 {
			t.Fatalf("%q: limit %d offset %d", raw, q.Limit, q.Offset)
		}
		for _, b := range q.BBox {
			if b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
				t.Fatalf("%q: inverted bbox %v", raw, q.BBox)
			}
		}
		for _, flt := range q.Filters {
			if fd, ok := testLayer.Field(flt.Field); !ok || !fd.Queryable {
				t.Fatalf("%q: filter on %q", raw, flt.Field)
			}
		}
	})
}

func FuzzNegotiateAccept(f *testing.F) {
	for _, s := range []string{"text/html,application/xhtml+xml,*/*;q=0.8", "application/geo+json", "*/*;q=0", ";;;,", "text/csv;q=abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		for _, mt := range parseAccept(h) {
			if mt == "" {
				t.Fatalf("%q: empty media type", h)
			}
		}
	})
}
