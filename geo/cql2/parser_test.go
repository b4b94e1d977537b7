package cql2

import (
	"errors"
	"strings"
	"testing"
)

func TestParseTextGivesTheTree(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a = 1", "(a = 1)"},
		{"a=1 and b=2 or c=3", "(((a = 1) AND (b = 2)) OR (c = 3))"},
		{"a=1 or b=2 and c=3", "((a = 1) OR ((b = 2) AND (c = 3)))"},
		{"a=1 AND (b=2 OR c=3)", "((a = 1) AND ((b = 2) OR (c = 3)))"},
		{"a=1 and b=2 and c=3", "((a = 1) AND (b = 2) AND (c = 3))"},
		{"NOT a = 1 AND b = 2", "(NOT (a = 1) AND (b = 2))"},
		{"not not a", "NOT NOT a"},
		{"a <> 'it''s' OR a <= 'x\\'y'", "((a <> 'it''s') OR (a <= 'it''s'))"[:0] + "((a <> 'it''s') OR (a <= 'x''y'))"},
		{`a = 'tab\there\\ and \% kept'`, `(a = 'tab\there\\ and \\% kept')`},
		{"a >= -1.5e3 and b < +.5 and c > 7.", "((a >= -1500) AND (b < 0.5) AND (c > 7))"},
		{`"and" = TRUE and "Name with space" = false`, `(("and" = TRUE) AND ("Name with space" = FALSE))`},
		{"eo:cloud_cover < 10 AND prop.x = 1", "((eo:cloud_cover < 10) AND (prop.x = 1))"},
		{"name like 'a%' and name NOT LIKE '_b'", "((name LIKE 'a%') AND (name NOT LIKE '_b'))"},
		{"x between 1 and 2 and y not between -1 and 1", "((x BETWEEN 1 AND 2) AND (y NOT BETWEEN -1 AND 1))"},
		{"x in (1, 2) and y not in ('a')", "((x IN (1, 2)) AND (y NOT IN ('a')))"},
		{"x is null or y IS NOT NULL", "((x IS NULL) OR (y IS NOT NULL))"},
		{"CASEI(name) = casei('ÄB') and accenti(name) like accenti(CASEI('é%'))", "((CASEI(name) = CASEI('ÄB')) AND (ACCENTI(name) LIKE ACCENTI(CASEI('é%'))))"},
		{"a + b * c - d / e > 1", "(((a + (b * c)) - (d / e)) > 1)"},
		{"a % 2 = 0 and a div 2 = 1 and a ^ 2 = 4", "(((a % 2) = 0) AND ((a div 2) = 1) AND ((a ^ 2) = 4))"},
		{"(a + b) * c > -d", "(((a + b) * c) > (0 - d))"},
		{"d = DATE('2024-02-29') and t < timestamp('2024-02-29T10:00:00.5Z')", "((d = DATE('2024-02-29')) AND (t < TIMESTAMP('2024-02-29T10:00:00.5Z')))"},
		{"S_INTERSECTS(geometry, POINT(-2.5 53.5))", "S_INTERSECTS(geometry, POINT(-2.5 53.5))"},
		{"s_within(geometry, point z (1 2 3))", "S_WITHIN(geometry, POINT(1 2))"},
		{"S_CONTAINS(BBOX(1, 2, 3, 4), geometry)", "S_CONTAINS(BBOX(1, 2, 3, 4), geometry)"},
		{"S_DISJOINT(geometry, BBOX(1, 2, 0, 3, 4, 9))", "S_DISJOINT(geometry, BBOX(1, 2, 3, 4))"},
		{"S_TOUCHES(geometry, LINESTRING(0 0, 1 1))", "S_TOUCHES(geometry, LINESTRING(0 0,1 1))"},
		{"S_OVERLAPS(geometry, POLYGON((0 0, 1 0, 1 1, 0 0), (0.2 0.1, 0.3 0.1, 0.3 0.2, 0.2 0.1)))", "S_OVERLAPS(geometry, POLYGON((0 0,1 0,1 1,0 0),(0.2 0.1,0.3 0.1,0.3 0.2,0.2 0.1)))"},
		{"S_CROSSES(geometry, MULTIPOINT(0 0, (1 1)))", "S_CROSSES(geometry, MULTIPOINT((0 0),(1 1)))"},
		{"S_EQUALS(geometry, MULTILINESTRING((0 0, 1 1), (2 2, 3 3)))", "S_EQUALS(geometry, MULTILINESTRING((0 0,1 1),(2 2,3 3)))"},
		{"S_INTERSECTS(geometry, MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0))))", "S_INTERSECTS(geometry, MULTIPOLYGON(((0 0,1 0,1 1,0 0))))"},
		{"S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(0 0), LINESTRING(0 0, 1 1)))", "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(0 0),LINESTRING(0 0,1 1)))"},
		{"TRUE", "TRUE"},
		{"flag", "flag"},
		{"(a = 1) IS NULL", "((a = 1) IS NULL)"},
		{"1 = a", "(1 = a)"},
		{"a\n  = 1", "(a = 1)"},
	} {
		e, err := ParseText(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := e.String(); got != c.want {
			t.Errorf("%q\n got %s\nwant %s", c.in, got, c.want)
		}
		// The text form reads back to itself, and so does the JSON.
		again, err := ParseText(e.String())
		if err != nil || again.String() != e.String() {
			t.Errorf("%q: reading %s back gives %v, %v", c.in, e, again, err)
		}
		j, err := JSON(e)
		if err != nil {
			t.Fatal(err)
		}
		fromJSON, err := ParseJSON(j)
		if err != nil {
			t.Errorf("%q: reading its JSON %s: %v", c.in, j, err)
			continue
		}
		if j2, _ := JSON(fromJSON); string(j2) != string(j) {
			t.Errorf("%q: JSON %s reads back as %s", c.in, j, j2)
		}
	}
}

// TestTextAndJSONAgree reads filters written by hand in both encodings.
func TestTextAndJSONAgree(t *testing.T) {
	for _, c := range []struct{ text, json string }{
		{"imd_decile <= 2", `{"op": "<=", "args": [{"property": "imd_decile"}, 2]}`},
		{"name LIKE 'St%' AND NOT status = 'closed'",
			`{"op": "and", "args": [{"op": "like", "args": [{"property": "name"}, "St%"]}, {"op": "not", "args": [{"op": "=", "args": [{"property": "status"}, "closed"]}]}]}`},
		{"pupils BETWEEN 100 AND 300", `{"op": "between", "args": [{"property": "pupils"}, 100, 300]}`},
		{"phase IN ('Primary', 'Secondary')", `{"op": "in", "args": [{"property": "phase"}, ["Primary", "Secondary"]]}`},
		{"list_size IS NULL", `{"op": "isNull", "args": [{"property": "list_size"}]}`},
		{"CASEI(name) = CASEI('x')", `{"op": "=", "args": [{"op": "casei", "args": [{"property": "name"}]}, {"op": "casei", "args": ["x"]}]}`},
		{"ACCENTI(name) = ACCENTI('é')", `{"op": "=", "args": [{"op": "accenti", "args": [{"property": "name"}]}, {"op": "accenti", "args": ["é"]}]}`},
		{"S_INTERSECTS(geometry, POINT(-2.6 53.5))", `{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [-2.6, 53.5]}]}`},
		{"S_WITHIN(geometry, BBOX(-2.7, 53.4, -2.5, 53.6))", `{"op": "s_within", "args": [{"property": "geometry"}, {"bbox": [-2.7, 53.4, -2.5, 53.6]}]}`},
		{"S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 0)))", `{"op": "S_INTERSECTS", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}]}`},
		{"S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(0 0), MULTIPOINT((1 1))))", `{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [0, 0, 9]}, {"type": "MultiPoint", "coordinates": [[1, 1]]}]}]}`},
		{"population * 2 + 1 > 10", `{"op": ">", "args": [{"op": "+", "args": [{"op": "*", "args": [{"property": "population"}, 2]}, 1]}, 10]}`},
		{"d >= DATE('2024-01-31') OR t < TIMESTAMP('2024-01-31T12:00:00Z')",
			`{"op": "or", "args": [{"op": ">=", "args": [{"property": "d"}, {"date": "2024-01-31"}]}, {"op": "<", "args": [{"property": "t"}, {"timestamp": "2024-01-31T12:00:00Z"}]}]}`},
		{"TRUE", `true`},
	} {
		te, err := ParseText(c.text)
		if err != nil {
			t.Errorf("%s: %v", c.text, err)
			continue
		}
		je, err := ParseJSON([]byte(c.json))
		if err != nil {
			t.Errorf("%s: %v", c.json, err)
			continue
		}
		if te.String() != je.String() {
			t.Errorf("text %s\nand JSON %s\ndiffer", te, je)
		}
	}
}

// TestErrorsSayWhereAndWhat checks bad filters' positions and messages.
func TestErrorsSayWhereAndWhat(t *testing.T) {
	for _, c := range []struct {
		lang, in string
		line     int
		column   int
		message  string
	}{
		{LangText, "imd_decile <= 2 AND (name = 'x'))", 1, 33, "unexpected ')' at column 33: this ')' has no matching '('"},
		{LangText, "imd_decile <= ", 1, 15, "unexpected end of filter at column 15: expected a value"},
		{LangText, "(a = 1 OR b = 2", 1, 16, "expected ')' to close the '(' at column 1"},
		{LangText, "a = 1 b = 2", 1, 7, "unexpected 'b' at column 7: expected AND, OR or the end of the filter"},
		{LangText, "a != 1", 1, 3, "unexpected '!=' at column 3: CQL2 writes not-equal as <>"},
		{LangText, "name = 'unclosed", 1, 8, "unterminated string at column 8"},
		{LangText, "a = 1 AND", 1, 10, "unexpected end of filter at column 10: expected a value"},
		{LangText, "a = 1 AND OR b = 2", 1, 11, "unexpected OR at column 11: expected a value"},
		{LangText, "a NOT = 1", 1, 7, "expected LIKE, BETWEEN or IN after NOT"},
		{LangText, "a BETWEEN 1 OR 2", 1, 13, "expected AND between the two bounds of BETWEEN"},
		{LangText, "a IN ()", 1, 7, "empty IN list at column 7"},
		{LangText, "a IS 5", 1, 6, "expected NULL after IS"},
		{LangText, "a = NULL", 1, 5, "unexpected NULL at column 5: test for null with IS NULL or IS NOT NULL"},
		{LangText, "5 AND a = 1", 1, 1, "expected a condition, found number 5 at column 1"},
		{LangText, "a = 1 OR 'x'", 1, 10, "expected a condition, found string 'x' at column 10"},
		{LangText, "S_INTERSECTS(geometry, 'POINT(1 2)')", 1, 24, "expected a geometry, found string 'POINT(1 2)' at column 24"},
		{LangText, "S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 1)))", 1, 32, "polygon ring is not closed"},
		{LangText, "S_INTERSECTS(geometry, LINESTRING(0 0))", 1, 34, "a line needs at least 2 points"},
		{LangText, "S_INTERSECTS(geometry, POINT(1))", 1, 31, "unexpected ')' at column 31: expected a number (coordinate)"},
		{LangText, "S_WITHIN(geometry, BBOX(3, 0, 1, 1))", 1, 20, "BBOX's minimum x (3) exceeds its maximum x (1)"},
		{LangText, "S_WITHIN(geometry, BBOX(0, 0, 1))", 1, 32, "BBOX needs 4 numbers"},
		{LangText, "S_BUFFER(geometry, 10) = 1", 1, 1, `unknown function "S_BUFFER"`},
		{LangText, "T_AFTER(built, DATE('2015-01-01'))", 1, 1, "T_AFTER is not supported"},
		{LangText, "d = DATE('2024-13-01')", 1, 10, "invalid date '2024-13-01' at column 10"},
		{LangText, "name LIKE 'ends in \\\\\\'", 1, 11, "unterminated string"},
		{LangText, "name LIKE 'ab\\'", 1, 11, "unterminated string"},
		{LangText, "name LIKE 'x\\\\y\\\\\\\\\\\\'", 1, 11, "LIKE pattern ends with an escape character"},
		{LangText, "name LIKE 5", 1, 11, "expected a LIKE pattern, found number 5"},
		{LangText, "a + 'x' > 1", 1, 5, "unexpected string 'x' in arithmetic"},
		{LangText, "a = 1e400", 1, 5, "number 1e400 is out of range"},
		{LangText, "a = 12abc", 1, 5, `malformed number "12a"`},
		{LangText, "a = 1 AND\n  b = ", 2, 7, "unexpected end of filter at line 2, column 7: expected a value"},
		{LangText, "a = 'é' AND § = 1", 1, 13, "unexpected character '§' at column 13"},
		{LangText, "   ", 1, 1, "empty filter"},
		{LangJSON, `{"op": "=", "args": [{"property": "a"}]}`, 1, 21, "operator = takes 2 args, found 1"},
		{LangJSON, `{"op": "and", "args": [{"op": "=", "args": [{"property": "a"}, 1]}, 5]}`, 1, 69, "expected a condition, found number 5"},
		{LangJSON, `{"op": "=", "args": [{"property": "a"}, null]}`, 1, 41, "unexpected null"},
		{LangJSON, `{"op": "median", "args": [1]}`, 1, 8, `unknown operator "median"`},
		{LangJSON, `{"op": "=", "args": [{"property": "a"}, 1]`, 1, 43, "unexpected end of JSON"},
		{LangJSON, `{"op": "=" "args": []}`, 1, 12, "invalid JSON"},
		{LangJSON, "{\"op\": \"s_intersects\",\n \"args\": [{\"property\": \"geometry\"}, {\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1, 0], [0, 0]]]}]}", 2, 73, "a polygon ring needs at least 4 points"},
		{LangJSON, `{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Feature", "geometry": null}]}`, 1, 59, "expected a GeoJSON geometry, found a Feature"},
		{LangJSON, `{"op": "in", "args": [{"property": "a"}, 1]}`, 1, 42, "the second arg of in must be a non-empty array"},
		{LangJSON, `{"op": "=", "args": [{"property": "a"}, 1], "op": "<"}`, 1, 45, `duplicate key "op"`},
		{LangJSON, `{"op": "=", "args": [{"property": "a"}, {"date": "yesterday"}]}`, 1, 50, "invalid date"},
		{LangJSON, `{"op": "=", "args": [{"property": "a"}, "nul\u0000"]}`, 1, 41, "string contains a NUL character"},
		{LangJSON, `[1, 2]`, 1, 1, "unexpected array"},
		{LangJSON, `{"op": "=", "args": [{"property": "a"}, 1]} {}`, 1, 46, "unexpected data after the filter"},
		{"cql-text", "a = 1", 1, 1, `unknown filter language "cql-text"`},
	} {
		_, err := Parse(c.lang, c.in)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%s %q: error %v, want an *Error", c.lang, c.in, err)
			continue
		}
		if pe.Pos.Line != c.line || pe.Pos.Column != c.column || !strings.Contains(err.Error(), c.message) {
			t.Errorf("%s %q:\n got %q (line %d, column %d)\nwant %q at line %d, column %d", c.lang, c.in, err, pe.Pos.Line, pe.Pos.Column, c.message, c.line, c.column)
		}
	}
}

func TestLimitsRefuseHostileFilters(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth+1) + "a = 1" + strings.Repeat(")", MaxDepth+1)
	deepNot := strings.Repeat("NOT ", MaxDepth+1) + "a = 1"
	deepJSON := strings.Repeat(`{"op": "not", "args": [`, MaxDepth+1) + `true` + strings.Repeat("]}", MaxDepth+1)
	deepCaseI := strings.Repeat("CASEI(", MaxDepth+1) + "name" + strings.Repeat(")", MaxDepth+1) + " = 'x'"
	longSigns := "a = " + strings.Repeat("+", MaxDepth+5) + "1"
	manyOps := "a = 0" + strings.Repeat(" + 1", MaxArithmetic+1)
	manyNodes := "a IN (" + strings.TrimSuffix(strings.Repeat("1,", MaxNodes), ",") + ")"
	for _, c := range []struct{ lang, in, message string }{
		{LangText, deep, "nested too deeply"},
		{LangText, deepNot, "nested too deeply"},
		{LangJSON, deepJSON, "nested too deeply"},
		{LangText, deepCaseI, "nested too deeply"},
		{LangText, longSigns, "nested too deeply"},
		{LangText, manyOps, "too many arithmetic operators"},
		{LangText, manyNodes, "filter is too large"},
		{LangText, "a = '" + strings.Repeat("x", MaxLength) + "'", "filter is too long"},
		{LangText, "a = '\xff'", "not valid UTF-8"},
		{LangText, "a = 'nul\x00'", "NUL character"},
	} {
		_, err := Parse(c.lang, c.in)
		var pe *Error
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.message) {
			t.Errorf("%s %.60q...: %v, want %q", c.lang, c.in, err, c.message)
		}
	}
	// Just inside the limits is fine.
	ok := []string{
		strings.Repeat("(", MaxDepth-2) + "a = 1" + strings.Repeat(")", MaxDepth-2),
		"a = 0" + strings.Repeat(" + 1", MaxArithmetic),
		"a IN (" + strings.TrimSuffix(strings.Repeat("1,", MaxNodes-3), ",") + ")",
	}
	for _, in := range ok {
		if _, err := ParseText(in); err != nil {
			t.Errorf("%.60q...: %v", in, err)
		}
	}
}
