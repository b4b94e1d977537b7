package data_test

import (
	"errors"
	"testing"

	"nbhd/data"
)

func TestParseScope(t *testing.T) {
	good := map[string]data.Scope{
		"borough:E08000010":              {Kind: data.ScopeBorough, Borough: "E08000010"},
		"set:ward":                       {Kind: data.ScopeSet, Set: "ward"},
		"ward:E05000840":                 {Kind: data.ScopeNeighbourhood, Set: "ward", Code: "E05000840"},
		"leigh-footprints:Leigh West":    {Kind: data.ScopeNeighbourhood, Set: "leigh-footprints", Code: "Leigh West"},
		"assets:write":                   {Write: true},
		"assets:write:borough:E08000010": {Write: true, Kind: data.ScopeBorough, Borough: "E08000010"},
		"assets:write:set:msoa":          {Write: true, Kind: data.ScopeSet, Set: "msoa"},
		"assets:write:ward:E05000840":    {Write: true, Kind: data.ScopeNeighbourhood, Set: "ward", Code: "E05000840"},
	}
	for s, want := range good {
		got, err := data.ParseScope(s)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "E05000840", "ward:", ":E05000840", "borough:Wigan", "borough:E0800001", "set:Ward", "set:",
		"assets:read", "assets:write:", "assets:write:assets:write", "assets:write:E08000010", "assets", "Ward:E05000840", "ward: x"} {
		if _, err := data.ParseScope(s); !errors.Is(err, data.ErrBadScope) {
			t.Errorf("%q: %v, want ErrBadScope", s, err)
		}
	}
}

// The scopes' meaning, case by case: reach reads, capabilities write, and
// a capability never writes where the key does not reach.
func TestKeyReachAndWrites(t *testing.T) {
	wiganWard := data.Location{Borough: "E08000010", Neighbourhoods: map[string]string{"ward": "E05000840", "msoa": "E02001234"}}
	otherWard := data.Location{Borough: "E08000010", Neighbourhoods: map[string]string{"ward": "E05000841", "msoa": "E02001235"}}
	bolton := data.Location{Borough: "E08000001", Neighbourhoods: map[string]string{"ward": "E05000650"}}
	nowhere := data.Location{}
	type want struct{ reachWigan, reachOther, reachBolton, writeWigan, writeOther, writeBolton bool }
	cases := []struct {
		scopes []string
		want   want
	}{
		{nil, want{true, true, true, false, false, false}},
		{[]string{"assets:write"}, want{true, true, true, true, true, true}},
		{[]string{"borough:E08000010"}, want{true, true, false, false, false, false}},
		{[]string{"borough:E08000010", "assets:write"}, want{true, true, false, true, true, false}},
		{[]string{"assets:write:borough:E08000010"}, want{true, true, true, true, true, false}},
		{[]string{"borough:E08000010", "assets:write:ward:E05000840"}, want{true, true, false, true, false, false}},
		{[]string{"set:ward"}, want{true, true, true, false, false, false}},
		{[]string{"set:msoa", "assets:write"}, want{true, true, false, true, true, false}},
		{[]string{"ward:E05000840", "assets:write"}, want{true, false, false, true, false, false}},
		{[]string{"ward:E05000840", "assets:write:borough:E08000001"}, want{true, false, false, false, false, false}},
		{[]string{"borough:E08000001", "assets:write"}, want{false, false, true, false, false, true}},
		{[]string{"not a scope"}, want{false, false, false, false, false, false}},
	}
	for _, c := range cases {
		k := data.Key{Scopes: c.scopes}
		got := want{k.Reaches(wiganWard), k.Reaches(otherWard), k.Reaches(bolton),
			k.MayWriteAssets(wiganWard), k.MayWriteAssets(otherWard), k.MayWriteAssets(bolton)}
		if got != c.want {
			t.Errorf("%v: %+v, want %+v", c.scopes, got, c.want)
		}
		if k.Reaches(nowhere) != (len(c.scopes) == 0 || c.scopes[0] == "assets:write" || c.scopes[0] == "assets:write:borough:E08000010") {
			t.Errorf("%v: reach of a place in no borough %v", c.scopes, k.Reaches(nowhere))
		}
		if k.MayWriteAssets(nowhere) && c.scopes[0] != "assets:write" {
			t.Errorf("%v: may write in no borough", c.scopes)
		}
	}
	if (data.Key{}).WritesAssets() || !(data.Key{Scopes: []string{"ward:E05000840", "assets:write:ward:E05000840"}}).WritesAssets() {
		t.Error("WritesAssets")
	}
}
