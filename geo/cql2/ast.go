package cql2

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/paulmach/orb/geojson"
)

// Expr is a node of a filter's syntax tree: one of the types below. Its
// String is the node in cql2-text, with every compound part in parentheses.
// Its Pos is where it is in the filter's text: its first character, or the
// operator of a comparison, LIKE, BETWEEN, IN, IS NULL or arithmetic (in
// cql2-json, the object that holds it).
type Expr interface {
	Pos() Pos
	String() string
	// json is the node as a cql2-json value for encoding/json.
	json() any
}

// Logical is AND or OR over two or more conditions.
type Logical struct {
	At   Pos
	Op   string // "and" or "or"
	Args []Expr
}

// Not negates a condition.
type Not struct {
	At  Pos
	Arg Expr
}

// Comparison is a binary comparison of two scalar values.
type Comparison struct {
	At          Pos
	Op          string // "=", "<>", "<", ">", "<=" or ">="
	Left, Right Expr
}

// Like matches a string against a pattern: % is any run of characters, _
// one character, and \ escapes the next one.
type Like struct {
	At             Pos
	Not            bool
	Value, Pattern Expr
}

// Between tests Low <= Value <= High.
type Between struct {
	At               Pos
	Not              bool
	Value, Low, High Expr
}

// In tests whether Value equals one of List.
type In struct {
	At    Pos
	Not   bool
	Value Expr
	List  []Expr
}

// IsNull tests whether a value is null (unset).
type IsNull struct {
	At    Pos
	Not   bool
	Value Expr
}

// Spatial is a spatial comparison function such as S_INTERSECTS.
type Spatial struct {
	At   Pos
	Op   string // lower case: "s_intersects", "s_within", ...
	A, B Expr
}

// SpatialOps are the spatial comparison functions, lower case.
var SpatialOps = []string{"s_intersects", "s_equals", "s_disjoint", "s_touches", "s_within", "s_overlaps", "s_crosses", "s_contains"}

// Arithmetic is a binary arithmetic operation on numbers. A unary minus on
// anything but a literal number is read as 0 - x.
type Arithmetic struct {
	At          Pos
	Op          string // "+", "-", "*", "/", "%", "div" or "^"
	Left, Right Expr
}

// CaseI is CASEI(x): x with its case folded, for case-insensitive
// comparison.
type CaseI struct {
	At  Pos
	Arg Expr
}

// AccentI is ACCENTI(x): x without its accents (combining marks), for
// accent-insensitive comparison.
type AccentI struct {
	At  Pos
	Arg Expr
}

// Property names a queryable property of the filtered items.
type Property struct {
	At   Pos
	Name string
}

// String is a character string literal.
type String struct {
	At    Pos
	Value string
}

// Number is a numeric literal.
type Number struct {
	At    Pos
	Value float64
}

// Bool is TRUE or FALSE.
type Bool struct {
	At    Pos
	Value bool
}

// Date is a calendar day, DATE('2024-05-01'), as midnight UTC.
type Date struct {
	At    Pos
	Value time.Time
}

// Timestamp is an instant, TIMESTAMP('2024-05-01T09:30:00Z'), in UTC.
type Timestamp struct {
	At    Pos
	Value time.Time
}

// Geometry is a geometry literal (WKT in text, GeoJSON in JSON): an
// orb.Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon
// or Collection, with closed rings of four or more points and lines of two
// or more.
type Geometry struct {
	At    Pos
	Value orb.Geometry
}

// BBox is a bounding box literal, BBOX(minx, miny, maxx, maxy).
type BBox struct {
	At    Pos
	Value orb.Bound
}

// Pos is the Logical's position in the filter (see Expr).
func (e *Logical) Pos() Pos { return e.At }

// Pos is the Not's position in the filter (see Expr).
func (e *Not) Pos() Pos { return e.At }

// Pos is the Comparison's position in the filter (see Expr).
func (e *Comparison) Pos() Pos { return e.At }

// Pos is the Like's position in the filter (see Expr).
func (e *Like) Pos() Pos { return e.At }

// Pos is the Between's position in the filter (see Expr).
func (e *Between) Pos() Pos { return e.At }

// Pos is the In's position in the filter (see Expr).
func (e *In) Pos() Pos { return e.At }

// Pos is the IsNull's position in the filter (see Expr).
func (e *IsNull) Pos() Pos { return e.At }

// Pos is the Spatial's position in the filter (see Expr).
func (e *Spatial) Pos() Pos { return e.At }

// Pos is the Arithmetic's position in the filter (see Expr).
func (e *Arithmetic) Pos() Pos { return e.At }

// Pos is the CaseI's position in the filter (see Expr).
func (e *CaseI) Pos() Pos { return e.At }

// Pos is the AccentI's position in the filter (see Expr).
func (e *AccentI) Pos() Pos { return e.At }

// Pos is the Property's position in the filter (see Expr).
func (e *Property) Pos() Pos { return e.At }

// Pos is the String's position in the filter (see Expr).
func (e *String) Pos() Pos { return e.At }

// Pos is the Number's position in the filter (see Expr).
func (e *Number) Pos() Pos { return e.At }

// Pos is the Bool's position in the filter (see Expr).
func (e *Bool) Pos() Pos { return e.At }

// Pos is the Date's position in the filter (see Expr).
func (e *Date) Pos() Pos { return e.At }

// Pos is the Timestamp's position in the filter (see Expr).
func (e *Timestamp) Pos() Pos { return e.At }

// Pos is the Geometry's position in the filter (see Expr).
func (e *Geometry) Pos() Pos { return e.At }

// Pos is the BBox's position in the filter (see Expr).
func (e *BBox) Pos() Pos { return e.At }

func not(b bool) string {
	if b {
		return " NOT"
	}
	return ""
}

func join(es []Expr, sep string) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.String()
	}
	return strings.Join(s, sep)
}

func (e *Logical) String() string {
	return "(" + join(e.Args, " "+strings.ToUpper(e.Op)+" ") + ")"
}
func (e *Not) String() string { return "NOT " + e.Arg.String() }
func (e *Comparison) String() string {
	return "(" + e.Left.String() + " " + e.Op + " " + e.Right.String() + ")"
}
func (e *Like) String() string {
	return "(" + e.Value.String() + not(e.Not) + " LIKE " + e.Pattern.String() + ")"
}
func (e *Between) String() string {
	return "(" + e.Value.String() + not(e.Not) + " BETWEEN " + e.Low.String() + " AND " + e.High.String() + ")"
}
func (e *In) String() string {
	return "(" + e.Value.String() + not(e.Not) + " IN (" + join(e.List, ", ") + "))"
}
func (e *IsNull) String() string {
	return "(" + e.Value.String() + " IS" + not(e.Not) + " NULL)"
}
func (e *Spatial) String() string {
	return strings.ToUpper(e.Op) + "(" + e.A.String() + ", " + e.B.String() + ")"
}
func (e *Arithmetic) String() string {
	return "(" + e.Left.String() + " " + e.Op + " " + e.Right.String() + ")"
}
func (e *CaseI) String() string   { return "CASEI(" + e.Arg.String() + ")" }
func (e *AccentI) String() string { return "ACCENTI(" + e.Arg.String() + ")" }
func (e *Property) String() string {
	if plainIdentifier(e.Name) {
		return e.Name
	}
	return `"` + e.Name + `"`
}
func (e *String) String() string { return quote(e.Value) }
func (e *Number) String() string { return strconv.FormatFloat(e.Value, 'g', -1, 64) }
func (e *Bool) String() string {
	if e.Value {
		return "TRUE"
	}
	return "FALSE"
}
func (e *Date) String() string { return "DATE('" + e.Value.Format(time.DateOnly) + "')" }
func (e *Timestamp) String() string {
	return "TIMESTAMP('" + e.Value.UTC().Format(time.RFC3339Nano) + "')"
}
func (e *Geometry) String() string { return wkt.MarshalString(e.Value) }
func (e *BBox) String() string {
	b := e.Value
	return "BBOX(" + num(b.Min[0]) + ", " + num(b.Min[1]) + ", " + num(b.Max[0]) + ", " + num(b.Max[1]) + ")"
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// quote writes s as a cql2-text character literal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\v':
			b.WriteString(`\v`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// plainIdentifier reports whether name can be written without quotes.
func plainIdentifier(name string) bool {
	if name == "" || keywords[strings.ToUpper(name)] {
		return false
	}
	for i, r := range name {
		if !identStart(r) && (i == 0 || !identPart(r)) {
			return false
		}
	}
	return true
}

type op = map[string]any

func jsonArgs(es ...Expr) []any {
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = e.json()
	}
	return out
}

func negate(b bool, v any) any {
	if b {
		return op{"op": "not", "args": []any{v}}
	}
	return v
}

func (e *Logical) json() any    { return op{"op": e.Op, "args": jsonArgs(e.Args...)} }
func (e *Not) json() any        { return op{"op": "not", "args": jsonArgs(e.Arg)} }
func (e *Comparison) json() any { return op{"op": e.Op, "args": jsonArgs(e.Left, e.Right)} }
func (e *Like) json() any {
	return negate(e.Not, op{"op": "like", "args": jsonArgs(e.Value, e.Pattern)})
}
func (e *Between) json() any {
	return negate(e.Not, op{"op": "between", "args": jsonArgs(e.Value, e.Low, e.High)})
}
func (e *In) json() any {
	return negate(e.Not, op{"op": "in", "args": []any{e.Value.json(), jsonArgs(e.List...)}})
}
func (e *IsNull) json() any {
	return negate(e.Not, op{"op": "isNull", "args": jsonArgs(e.Value)})
}
func (e *Spatial) json() any    { return op{"op": e.Op, "args": jsonArgs(e.A, e.B)} }
func (e *Arithmetic) json() any { return op{"op": e.Op, "args": jsonArgs(e.Left, e.Right)} }
func (e *CaseI) json() any      { return op{"op": "casei", "args": jsonArgs(e.Arg)} }
func (e *AccentI) json() any    { return op{"op": "accenti", "args": jsonArgs(e.Arg)} }
func (e *Property) json() any   { return op{"property": e.Name} }
func (e *String) json() any     { return e.Value }
func (e *Number) json() any     { return e.Value }
func (e *Bool) json() any       { return e.Value }
func (e *Date) json() any       { return op{"date": e.Value.Format(time.DateOnly)} }
func (e *Timestamp) json() any  { return op{"timestamp": e.Value.UTC().Format(time.RFC3339Nano)} }
func (e *Geometry) json() any   { return geojson.NewGeometry(e.Value) }
func (e *BBox) json() any {
	b := e.Value
	return op{"bbox": []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}}
}

// JSON encodes e in cql2-json. Parsing the result with ParseJSON gives the
// same tree (positions aside). It fails only on numbers that are not finite,
// which the parsers never produce.
func JSON(e Expr) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e.json()); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
