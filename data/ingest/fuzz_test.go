package ingest

// Fuzz targets for every parser of a publisher's format. They need no
// database: each parser is the row source an importer stages from. The
// property: any input ends in io.EOF or an *InputError naming the file, and
// every row has the staging table's width. Seeds are the fixtures in
// testdata/ plus edge cases; run one with, e.g.,
//
//	go test -run '^$' -fuzz '^FuzzGIAS$' -fuzztime 60s ./data/ingest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

const fuzzFile = "fuzz.csv"

// seed adds the named fixtures and a few generic edge cases.
func seed(f *testing.F, fixtures ...string) {
	f.Helper()
	for _, name := range fixtures {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
		// A file cut short, mid-record.
		f.Add(b[:len(b)*2/3], false)
	}
	for _, s := range []string{"", "\n", "\xef\xbb\xbf", "a,b\n\"unterminated", "\x00\x92\xff,\r\n,,,", `{"type":"FeatureCollection","features":[`} {
		f.Add([]byte(s), false)
	}
}

// drain reads every row of next, checking the fuzz property.
func drain(t *testing.T, width int, next func() ([]any, error)) {
	t.Helper()
	for i := 0; ; i++ {
		row, err := next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			checkInputError(t, err)
			return
		}
		if len(row) != width {
			t.Fatalf("row %d has %d values, want %d: %v", i+1, len(row), width, row)
		}
	}
}

func checkInputError(t *testing.T, err error) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error is not an *InputError: %v", err)
	}
	if ie.File == "" || ie.Err == nil || ie.Error() == "" {
		t.Fatalf("input error without file or cause: %#v", ie)
	}
}

func fuzzOptions(la bool) Options {
	if la {
		return Options{"la": "E08000010", "include-closed": "true"}
	}
	return Options{}
}

func FuzzGIAS(f *testing.F) {
	seed(f, "edubasealldata20260401.csv")
	f.Fuzz(func(t *testing.T, b []byte, la bool) {
		s, err := newGIAS(fuzzFile, bytes.NewReader(b), fuzzOptions(la), "gias")
		if err != nil {
			checkInputError(t, err)
			return
		}
		drain(t, 13, s.next)
	})
}

func FuzzEpraccur(f *testing.F) {
	seed(f, "epraccur.csv")
	f.Fuzz(func(t *testing.T, b []byte, la bool) {
		drain(t, 7, newEpraccur(fuzzFile, bytes.NewReader(b), fuzzOptions(la)).next)
	})
}

func FuzzListSizes(f *testing.F) {
	seed(f, "gp-reg-pat-prac-all.csv")
	f.Fuzz(func(t *testing.T, b []byte, _ bool) {
		s, err := newListSizes(fuzzFile, bytes.NewReader(b))
		if err != nil {
			checkInputError(t, err)
			return
		}
		drain(t, 4, s.next)
	})
}

func FuzzCodePoint(f *testing.F) {
	seed(f, "wn.csv")
	f.Fuzz(func(t *testing.T, b []byte, la bool) {
		s, err := newCodePoint(fuzzFile, bytes.NewReader(b), fuzzOptions(la))
		if err != nil {
			checkInputError(t, err)
			return
		}
		drain(t, 7, s.next)
	})
}

func FuzzONSPD(f *testing.F) {
	seed(f, "ONSPD_FEB_2026_UK.csv")
	f.Fuzz(func(t *testing.T, b []byte, la bool) {
		s, err := newONSPD(fuzzFile, bytes.NewReader(b), fuzzOptions(la))
		if err != nil {
			checkInputError(t, err)
			return
		}
		drain(t, 7, s.next)
	})
}

func FuzzPostcodeCSV(f *testing.F) {
	seed(f, "ONSPD_FEB_2026_UK.csv")
	f.Add([]byte("postcode,positional_quality,easting,northing,admin_district_code\nWN1 1AA,10,358016,405780,E08000010\n"), true)
	f.Add([]byte("postcode,lon,lat\nWN1 1AA,-2.6,53.5\n"), false)
	f.Fuzz(func(t *testing.T, b []byte, la bool) {
		s, err := newPostcodeCSV(fuzzFile, bytes.NewReader(b), fuzzOptions(la))
		if err != nil {
			checkInputError(t, err)
			return
		}
		drain(t, 7, s.next)
	})
}

func FuzzIMD(f *testing.F) {
	seed(f, "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv", "File_5_-_IoD2019_Scores.csv",
		"File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators.csv")
	f.Fuzz(func(t *testing.T, b []byte, la bool) {
		s, err := newIMD(fuzzFile, bytes.NewReader(b), fuzzOptions(la))
		if err != nil {
			checkInputError(t, err)
			return
		}
		defer s.t.close()
		drain(t, 4+3*len(domains), s.next)
	})
}

func FuzzLSOALookup(f *testing.F) {
	seed(f, "LSOA_(2011)_to_LSOA_(2021)_to_Local_Authority_District_(2022)_Lookup.csv")
	f.Fuzz(func(t *testing.T, b []byte, _ bool) {
		s, err := newLSOALookup(fuzzFile, bytes.NewReader(b))
		if err != nil {
			checkInputError(t, err)
			return
		}
		defer s.t.close()
		drain(t, 6, s.next)
	})
}

func FuzzOSM(f *testing.F) {
	seed(f, "osm_overpass.geojson", "osm_osmtogeojson.geojson", "osm_osmium.geojson")
	f.Fuzz(func(t *testing.T, b []byte, _ bool) {
		s, err := newOSM(fuzzFile, bytes.NewReader(b), defaultOSMCategories)
		if err != nil {
			checkInputError(t, err)
			return
		}
		drain(t, 13, s.next)
	})
}

func FuzzCategoryRules(f *testing.F) {
	seed(f, "osm_categories.csv", "osm_categories.json")
	f.Fuzz(func(t *testing.T, b []byte, _ bool) {
		rules, err := readCategoryRules(fuzzFile, bytes.NewReader(b))
		if err != nil {
			checkInputError(t, err)
			return
		}
		for _, r := range rules {
			if r.check() != nil {
				t.Fatalf("accepted a bad rule %+v", r)
			}
		}
		categorise(rules, map[string]string{"amenity": "library;community_centre", "leisure": "park"})
	})
}

func FuzzAssetsCSV(f *testing.F) {
	seed(f, "council_assets.csv")
	f.Fuzz(func(t *testing.T, b []byte, la bool) {
		spec := Options{"key": "x"}
		if la {
			spec["category"] = "community_group"
		}
		s, err := newAssetCSV(fuzzFile, bytes.NewReader(b), spec)
		if err != nil {
			checkInputError(t, err)
			return
		}
		drain(t, 14, s.next)
	})
}

func FuzzFootprints(f *testing.F) {
	seed(f, "footprints_duplicate.csv")
	f.Add([]byte("lsoa21cd,neighbourhood_code,neighbourhood\nE01006212,N1,North\n"), false)
	f.Fuzz(func(t *testing.T, b []byte, _ bool) {
		s, err := newFootprints(fuzzFile, bytes.NewReader(b), Options{})
		if err != nil {
			checkInputError(t, err)
			return
		}
		drain(t, 4, s.next)
	})
}

func FuzzIoD2025(f *testing.F) {
	seed(f, "File_1_IoD2025_Index_of_Multiple_Deprivation.csv", "File_2_IoD2025_Domains_of_Deprivation.csv",
		"File_5_IoD2025_Scores_for_the_Indices_of_Deprivation.csv")
	f.Fuzz(func(t *testing.T, b []byte, la bool) {
		s, err := newIMD(fuzzFile, bytes.NewReader(b), fuzzOptions(la))
		if err != nil {
			checkInputError(t, err)
			return
		}
		defer s.t.close()
		drain(t, 4+3*len(domains), s.next)
	})
}

func FuzzSetLookup(f *testing.F) {
	seed(f, "LSOA21_WD24_LAD24_EW_LU.csv", "LSOA21_WD25_LAD25_EW_LU.csv")
	loaded := map[string]struct{}{"E01006212": {}, "E01006213": {}, "E01006219": {}}
	f.Fuzz(func(t *testing.T, b []byte, la bool) {
		opts := Options{}
		if la {
			opts["la"] = "E08000010"
		}
		s, err := newSetLookup(fuzzFile, bytes.NewReader(b), opts, loaded)
		if err != nil {
			checkInputError(t, err)
			return
		}
		defer s.t.close()
		drain(t, 6, s.next)
	})
}

func FuzzLADLookup(f *testing.F) {
	seed(f, "LAD24_RGN24_EN_LU.csv", "LAD24_CAUTH24_EN_LU.csv")
	f.Fuzz(func(t *testing.T, b []byte, _ bool) {
		s, err := newLADLookup(fuzzFile, bytes.NewReader(b), Options{})
		if err != nil {
			checkInputError(t, err)
			return
		}
		defer s.t.close()
		drain(t, 5, s.next)
	})
}

func FuzzPopulation(f *testing.F) {
	seed(f, "census2021-ts001-lsoa.csv")
	f.Add([]byte("LSOA 2021 Code,Total,F0-15,F16-64,F65+\nE01006212,3,1,1,1\n"), false)
	f.Fuzz(func(t *testing.T, b []byte, la bool) {
		tb, err := newTable(fuzzFile, bytes.NewReader(b))
		if err != nil {
			checkInputError(t, err)
			return
		}
		defer tb.close()
		sh := &popShared{seen: map[string]int{}, loaded: map[string]struct{}{"E01006212": {}}}
		s, err := newPopSource(tb, 1, fuzzOptions(la), "", "mid-2024", sh)
		if err != nil {
			checkInputError(t, err)
			return
		}
		drain(t, 10, s.next)
	})
}
