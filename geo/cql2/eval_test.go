package cql2

import (
	"errors"
	"testing"

	"github.com/paulmach/orb"
)

func eval(t *testing.T, filter string, props map[string]any, g orb.Geometry) bool {
	t.Helper()
	e, err := ParseText(filter)
	if err != nil {
		t.Fatalf("%s: %v", filter, err)
	}
	ok, err := Eval(e, props, g)
	if err != nil {
		t.Fatalf("%s: %v", filter, err)
	}
	return ok
}

// TestEvalFollowsCQL2TruthTables: NULL (an unset property) is neither true
// nor false, and only TRUE selects.
func TestEvalFollowsCQL2TruthTables(t *testing.T) {
	props := map[string]any{"t": 1, "f": 0, "n": nil, "s": "x"}
	for filter, want := range map[string]bool{
		"t = 1 AND n = 1":         false, // TRUE AND NULL is NULL
		"t = 1 OR n = 1":          true,  // TRUE OR NULL is TRUE
		"f = 1 OR n = 1":          false, // FALSE OR NULL is NULL
		"NOT (n = 1)":             false, // NOT NULL is NULL
		"NOT (f = 1 AND n = 1)":   true,  // FALSE AND NULL is FALSE
		"(n = 1) IS NULL":         true,
		"n IS NULL":               true,
		"t IS NOT NULL":           true,
		"n IN (1, 2)":             false,
		"n NOT IN (1, 2)":         false,
		"t NOT IN (2, 3)":         true,
		"n BETWEEN 0 AND 2":       false,
		"n NOT BETWEEN 0 AND 2":   false,
		"n LIKE '%'":              false,
		"n + 1 = 1 OR n + 1 <> 1": false,
		"t / 0 IS NULL":           true,
		"t % 0 IS NULL":           true,
		"t div 0 IS NULL":         true,
		"f ^ -1 IS NULL":          true,
		"(0 - 8) ^ 0.5 IS NULL":   true,
		"10 ^ 1001 IS NULL":       true,
		"2 ^ 10 = 1024":           true,
		"7 div 2 = 3 AND (0 - 7) div 2 = -3 AND (0 - 7) % 2 = -1": true,
		"s > 'W' AND s < 'y'": true, // byte order: 'W' < 'x' < 'y'
	} {
		if got := eval(t, filter, props, nil); got != want {
			t.Errorf("%s = %v, want %v", filter, got, want)
		}
	}
}

func TestEvalRefusesWhatItCannotDecide(t *testing.T) {
	for _, filter := range []string{
		"missing = 1",    // a property the item does not have
		"s = 1",          // a string compared with a number
		"CASEI(t) = 'x'", // CASEI of a number
		"s + 1 = 2",      // arithmetic on a string
		"S_WITHIN(geometry, GEOMETRYCOLLECTION(POINT(0 0), POINT(1 1)))",
	} {
		e, err := ParseText(filter)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Eval(e, map[string]any{"t": 1, "s": "x"}, orb.Point{0, 0}); err == nil {
			t.Errorf("%s: no error", filter)
		}
	}
}

func TestMatchLike(t *testing.T) {
	for _, c := range []struct {
		s, pattern string
		want       bool
	}{
		{"St Mary's", "St%", true},
		{"St Mary's", "%Mary%", true},
		{"St Mary's", "st%", false},
		{"abc", "a_c", true},
		{"abbc", "a_c", false},
		{"abc", "%", true},
		{"", "%", true},
		{"", "_", false},
		{"50%", `50\%`, true},
		{"500", `50\%`, false},
		{"a_b", `a\_b`, true},
		{"axb", `a\_b`, false},
		{`a\b`, `a\\b`, true},
		{"Ωμέγα", "Ω_έ%", true},
		{"aaa", "%a%a%a%", true},
		{"aa", "%a%a%a%", false},
	} {
		if got := MatchLike(c.s, c.pattern); got != c.want {
			t.Errorf("%q LIKE %q = %v, want %v", c.s, c.pattern, got, c.want)
		}
	}
}

func TestFoldCaseAndStripAccents(t *testing.T) {
	if FoldCase("Straße") != FoldCase("STRASSE") || FoldCase("ÉCOLE") != "école" {
		t.Errorf("FoldCase: %q %q %q", FoldCase("Straße"), FoldCase("STRASSE"), FoldCase("ÉCOLE"))
	}
	if got := StripAccents("Café Ωμέγα Zürich"); got != "Cafe Ωμεγα Zurich" {
		t.Errorf("StripAccents = %q", got)
	}
	// The Japanese voicing marks stay: はじめ must not become はしめ.
	if got := StripAccents("はじめ"); got == "はしめ" {
		t.Errorf("StripAccents dropped a voicing mark: %q", got)
	}
	for _, r := range AccentMarks() {
		if r[0] <= 0x3099 && 0x3099 <= r[1] || r[0] <= 0x309A && 0x309A <= r[1] {
			t.Errorf("AccentMarks includes the voicing marks: %U-%U", r[0], r[1])
		}
	}
}

func TestRelate(t *testing.T) {
	// A 4 x 4 square with a 2 x 2 hole in its middle.
	square := orb.Polygon{{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}, {{1, 1}, {3, 1}, {3, 3}, {1, 3}, {1, 1}}}
	line := orb.LineString{{-1, 0.5}, {5, 0.5}}
	for _, c := range []struct {
		op   string
		a, b orb.Geometry
		want bool
	}{
		{"s_intersects", orb.Point{0.5, 0.5}, square, true},
		{"s_within", orb.Point{0.5, 0.5}, square, true},
		{"s_contains", square, orb.Point{0.5, 0.5}, true},
		{"s_within", orb.Point{2, 2}, square, false}, // in the hole
		{"s_disjoint", orb.Point{2, 2}, square, true},
		{"s_touches", orb.Point{0, 2}, square, true},    // on the outer ring
		{"s_touches", orb.Point{1, 2}, square, true},    // on the hole's ring
		{"s_within", orb.Point{4, 4}, square, false},    // a corner
		{"s_intersects", orb.Point{4, 4}, square, true}, // a corner
		{"s_touches", orb.Point{-1, 0.5}, line, true},   // an endpoint
		{"s_touches", orb.Point{2, 0.5}, line, false},   // inside the line
		{"s_within", orb.Point{2, 0.5}, line, true},
		{"s_equals", orb.Point{1, 1}, orb.Point{1, 1}, true},
		{"s_contains", orb.Point{1, 1}, orb.Point{1, 1}, true},
		{"s_overlaps", orb.Point{1, 1}, square, false},
		{"s_crosses", orb.Point{1, 1}, square, false},
		{"s_within", orb.Point{2, 2}, orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{3, 3}}, true},
		{"s_intersects", orb.MultiPoint{{9, 9}, {0.5, 0.5}}, square, true},
		{"s_crosses", line, square, true},
		{"s_crosses", square, line, true},
		{"s_within", line, orb.Bound{Min: orb.Point{-2, -2}, Max: orb.Point{6, 6}}, true},
		{"s_overlaps", square, orb.Bound{Min: orb.Point{3.5, 3.5}, Max: orb.Point{6, 6}}, true},
		{"s_within", square, orb.Bound{Min: orb.Point{-1, -1}, Max: orb.Point{6, 6}}, true},
		{"s_contains", orb.Bound{Min: orb.Point{-1, -1}, Max: orb.Point{6, 6}}, square, true},
		{"s_within", orb.Bound{Min: orb.Point{-1, -1}, Max: orb.Point{6, 6}}, square, false},
		{"s_intersects", orb.Bound{Min: orb.Point{1.5, 1.5}, Max: orb.Point{2.5, 2.5}}, square, false}, // in the hole
		{"s_disjoint", orb.Bound{Min: orb.Point{5, 5}, Max: orb.Point{6, 6}}, square, true},
		{"s_crosses", orb.LineString{{-1, -1}, {5, 5.5}}, line, true},
	} {
		got, err := Relate(c.op, c.a, c.b)
		if err != nil || got != c.want {
			t.Errorf("%s(%v, %v) = %v, %v; want %v", c.op, c.a, c.b, got, err, c.want)
		}
	}
	// A shared edge is not general position: Relate says so.
	_, err := Relate("s_touches", square, orb.Bound{Min: orb.Point{4, 0}, Max: orb.Point{5, 4}})
	if !errors.Is(err, ErrDegenerate) {
		t.Errorf("polygons sharing an edge: %v, want ErrDegenerate", err)
	}
}
