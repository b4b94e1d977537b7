package cql2

import (
	"errors"
	"testing"

	"github.com/paulmach/orb"
)

var fuzzSeeds = []string{
	"imd_decile <= 2 AND S_INTERSECTS(geometry, POLYGON((-2.66 53.53, -2.60 53.52, -2.59 53.56, -2.66 53.53)))",
	"name LIKE 'St%' OR NOT (a = 1 AND b <> 'x''y\\n')",
	"population BETWEEN 1000 AND 2000 AND code NOT IN ('a', 'b')",
	"CASEI(ACCENTI(name)) = CASEI('ÄB') and x is not null",
	"a + 2 * -b ^ 2 div 3 % 4 >= -4.5e-1",
	"S_WITHIN(geometry, BBOX(-2.7, 53.4, 0, -2.5, 53.6, 9))",
	"S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT Z(1 2 3), MULTIPOINT(1 2, (3 4)), MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)))))",
	`"and" = TRUE AND d > DATE('2020-01-01') AND ts < TIMESTAMP('2020-01-01T10:00:00Z')`,
	`{"op": "and", "args": [{"op": "<=", "args": [{"property": "imd_decile"}, 2]}, {"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}]}]}`,
	`{"op": "in", "args": [{"op": "casei", "args": [{"property": "name"}]}, ["a", {"op": "accenti", "args": ["é"]}]]}`,
	`{"op": "s_within", "args": [{"bbox": [0, 0, 1, 1]}, {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [0, 0]}]}]}`,
	`{"op": "isNull", "args": [{"op": "/", "args": [{"property": "a"}, 0]}]}`,
}

// fuzzParsed checks what a parser accepted: its text form and its JSON read
// back to the same tree, and evaluating it does not panic.
func fuzzParsed(t *testing.T, e Expr) {
	s := e.String()
	again, err := ParseText(s)
	if err != nil {
		t.Fatalf("%s does not read back: %v", s, err)
	}
	if again.String() != s {
		t.Fatalf("%s reads back as %s", s, again)
	}
	j, err := JSON(e)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	fromJSON, err := ParseJSON(j)
	if err != nil {
		t.Fatalf("%s does not read back: %v", j, err)
	}
	if j2, _ := JSON(fromJSON); string(j2) != string(j) {
		t.Fatalf("%s reads back as %s", j, j2)
	}
	// Eval is a test reference with quadratic spatial functions: only
	// small filters are worth its time here.
	if len(s) < 2000 {
		_, _ = Eval(e, map[string]any{"a": 1.0, "b": "x", "name": "é"}, orb.Point{0.5, 0.5})
	}
}

func FuzzParseText(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseText(s)
		if err != nil {
			if pe := (*Error)(nil); !errors.As(err, &pe) {
				t.Fatalf("%q: error of type %T", s, err)
			}
			return
		}
		fuzzParsed(t, e)
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseJSON([]byte(s))
		if err != nil {
			if pe := (*Error)(nil); !errors.As(err, &pe) {
				t.Fatalf("%q: error of type %T", s, err)
			}
			return
		}
		fuzzParsed(t, e)
	})
}
