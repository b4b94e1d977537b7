package cql2

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// ParseJSON reads a cql2-json filter. Positions in its errors point into
// the JSON text.
func ParseJSON(src []byte) (Expr, error) {
	if err := checkInput(src); err != nil {
		return nil, err
	}
	r := &jsonReader{src: src, dec: json.NewDecoder(bytes.NewReader(src)), at: Pos{Line: 1, Column: 1}}
	r.dec.UseNumber()
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	if _, err := r.dec.Token(); err != io.EOF {
		return nil, &Error{Pos: r.start(), Problem: "unexpected data after the filter", Hint: "a cql2-json filter is one JSON value"}
	}
	e, err := r.expr(v)
	if err != nil {
		return nil, err
	}
	if err := validate(e); err != nil {
		return nil, err
	}
	return e, nil
}

// jval is a decoded JSON value with its position.
type jval struct {
	kind  byte // '{', '[', 's' string, 'n' number, 'b' boolean, 'z' null
	pos   Pos
	str   string
	num   json.Number
	bool  bool
	keys  []string // an object's keys, in order
	items []*jval  // an object's values (aligned with keys) or an array's items
}

func (v *jval) get(key string) *jval {
	for i, k := range v.keys {
		if k == key {
			return v.items[i]
		}
	}
	return nil
}

// jsonReader decodes JSON token by token to learn where each value starts.
type jsonReader struct {
	src []byte
	dec *json.Decoder
	at  Pos // position of the last value started, for moving forward
}

// maxJSONDepth allows for the arrays and objects each operator and each
// geometry's coordinates take.
const maxJSONDepth = 2*MaxDepth + 8

// start is the position of the next token: past whitespace and the ',' and
// ':' the decoder consumes silently.
func (r *jsonReader) start() Pos {
	off := int(r.dec.InputOffset())
	for off < len(r.src) && strings.IndexByte(" \t\r\n,:", r.src[off]) >= 0 {
		off++
	}
	r.at = position(r.src, off, r.at)
	return r.at
}

func (r *jsonReader) value(depth int) (*jval, error) {
	at := r.start()
	tok, err := r.dec.Token()
	if err != nil {
		return nil, r.syntax(err, at)
	}
	v := &jval{pos: at}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxJSONDepth {
			return nil, &Error{Pos: at, Problem: "filter is nested too deeply", Hint: "at most " + strconv.Itoa(MaxDepth) + " levels of operators"}
		}
		v.kind = byte(t)
		for r.dec.More() {
			if t == '{' {
				kat := r.start()
				k, err := r.dec.Token()
				if err != nil {
					return nil, r.syntax(err, kat)
				}
				key := k.(string)
				if v.get(key) != nil {
					return nil, &Error{Pos: kat, Problem: "duplicate key " + strconv.Quote(clip(key))}
				}
				v.keys = append(v.keys, key)
			}
			item, err := r.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v.items = append(v.items, item)
		}
		end := r.start()
		if _, err := r.dec.Token(); err != nil {
			return nil, r.syntax(err, end)
		}
	case string:
		v.kind, v.str = 's', t
	case json.Number:
		v.kind, v.num = 'n', t
	case bool:
		v.kind, v.bool = 'b', t
	case nil:
		v.kind = 'z'
	}
	return v, nil
}

func (r *jsonReader) syntax(err error, at Pos) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &Error{Pos: position(r.src, int(se.Offset)-1, r.at), Problem: "invalid JSON", Hint: se.Error()}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Pos: position(r.src, len(r.src), r.at), Problem: "unexpected end of JSON", Hint: "a bracket or brace is not closed"}
	}
	return &Error{Pos: at, Problem: "invalid JSON", Hint: err.Error()}
}

func jsonErr(v *jval, problem, hint string) error {
	return &Error{Pos: v.pos, Problem: problem, Hint: hint}
}

// describeJSON names a JSON value for an error message.
func describeJSON(v *jval) string {
	switch v.kind {
	case '{':
		return "object"
	case '[':
		return "array"
	case 's':
		return "string " + strconv.Quote(clip(v.str))
	case 'n':
		return "number " + v.num.String()
	case 'b':
		return strconv.FormatBool(v.bool)
	}
	return "null"
}

func (r *jsonReader) expr(v *jval) (Expr, error) {
	switch v.kind {
	case 's':
		if strings.IndexByte(v.str, 0) >= 0 {
			return nil, jsonErr(v, "string contains a NUL character", "")
		}
		return &String{At: v.pos, Value: v.str}, nil
	case 'n':
		f, err := number(v)
		if err != nil {
			return nil, err
		}
		return &Number{At: v.pos, Value: f}, nil
	case 'b':
		return &Bool{At: v.pos, Value: v.bool}, nil
	case 'z':
		return nil, jsonErr(v, "unexpected null", `test for null with {"op": "isNull", "args": [...]}`)
	case '[':
		return nil, jsonErr(v, "unexpected array", `arrays hold an operator's "args" and the list of "in"`)
	}
	switch {
	case v.get("op") != nil:
		return r.operation(v)
	case v.get("property") != nil:
		p := v.get("property")
		if p.kind != 's' || p.str == "" {
			return nil, jsonErr(p, "property must be a non-empty string, found "+describeJSON(p), "")
		}
		return &Property{At: v.pos, Name: p.str}, nil
	case v.get("date") != nil, v.get("timestamp") != nil:
		return instantJSON(v)
	case v.get("interval") != nil:
		return nil, jsonErr(v, "intervals are not supported", "nbhd's layers have no temporal properties, so it does not offer temporal functions")
	case v.get("bbox") != nil && v.get("type") == nil:
		return bboxJSON(v)
	case v.get("type") != nil:
		g, err := geometryJSON(v, true)
		if err != nil {
			return nil, err
		}
		return &Geometry{At: v.pos, Value: g}, nil
	}
	return nil, jsonErr(v, "unknown object", `expected {"op": ..., "args": [...]}, {"property": ...}, {"date": ...}, {"timestamp": ...}, {"bbox": [...]} or a GeoJSON geometry`)
}

func number(v *jval) (float64, error) {
	f, err := strconv.ParseFloat(v.num.String(), 64)
	if err != nil || math.IsInf(f, 0) || math.Abs(f) > maxNumber {
		return 0, jsonErr(v, "number "+v.num.String()+" is out of range", "numbers must lie within ±1e300")
	}
	return f, nil
}

// arity is each operator's number of arguments (-2: two or more).
var arity = map[string]int{"and": -2, "or": -2, "not": 1, "=": 2, "<>": 2, "<": 2, ">": 2, "<=": 2, ">=": 2,
	"like": 2, "between": 3, "in": 2, "isnull": 1, "casei": 1, "accenti": 1,
	"+": 2, "-": 2, "*": 2, "/": 2, "%": 2, "div": 2, "^": 2}

func init() {
	for _, o := range SpatialOps {
		arity[o] = 2
	}
}

func (r *jsonReader) operation(v *jval) (Expr, error) {
	o := v.get("op")
	if o.kind != 's' {
		return nil, jsonErr(o, "op must be a string, found "+describeJSON(o), "")
	}
	name := strings.ToLower(o.str)
	n, ok := arity[name]
	if !ok {
		switch {
		case name == "interval" || strings.HasPrefix(name, "t_"):
			return nil, jsonErr(o, o.str+" is not supported", "nbhd's layers have no temporal properties, so it does not offer temporal functions")
		case strings.HasPrefix(name, "a_"):
			return nil, jsonErr(o, o.str+" is not supported", "nbhd's layers have no array properties")
		}
		return nil, jsonErr(o, "unknown operator "+strconv.Quote(clip(o.str)), functionsHint)
	}
	a := v.get("args")
	if a == nil {
		return nil, jsonErr(v, "operator "+o.str+" has no args", `give its operands as "args": [...]`)
	}
	if a.kind != '[' {
		return nil, jsonErr(a, "args must be an array, found "+describeJSON(a), "")
	}
	if (n > 0 && len(a.items) != n) || (n < 0 && len(a.items) < -n) {
		want := strconv.Itoa(n)
		if n < 0 {
			want = strconv.Itoa(-n) + " or more"
		}
		return nil, jsonErr(a, "operator "+o.str+" takes "+want+" args, found "+strconv.Itoa(len(a.items)), "")
	}
	if name == "in" {
		list := a.items[1]
		if list.kind != '[' || len(list.items) == 0 {
			return nil, jsonErr(list, "the second arg of in must be a non-empty array of values, found "+describeJSON(list), "")
		}
		val, err := r.expr(a.items[0])
		if err != nil {
			return nil, err
		}
		in := &In{At: v.pos, Value: val}
		for _, item := range list.items {
			e, err := r.expr(item)
			if err != nil {
				return nil, err
			}
			in.List = append(in.List, e)
		}
		return in, nil
	}
	args := make([]Expr, len(a.items))
	for i, item := range a.items {
		e, err := r.expr(item)
		if err != nil {
			return nil, err
		}
		args[i] = e
	}
	at := v.pos
	switch name {
	case "and", "or":
		return &Logical{At: at, Op: name, Args: args}, nil
	case "not":
		return &Not{At: at, Arg: args[0]}, nil
	case "like":
		return &Like{At: at, Value: args[0], Pattern: args[1]}, nil
	case "between":
		return &Between{At: at, Value: args[0], Low: args[1], High: args[2]}, nil
	case "isnull":
		return &IsNull{At: at, Value: args[0]}, nil
	case "casei":
		return &CaseI{At: at, Arg: args[0]}, nil
	case "accenti":
		return &AccentI{At: at, Arg: args[0]}, nil
	case "+", "-", "*", "/", "%", "div", "^":
		return &Arithmetic{At: at, Op: name, Left: args[0], Right: args[1]}, nil
	}
	if comparisons[name] {
		return &Comparison{At: at, Op: name, Left: args[0], Right: args[1]}, nil
	}
	return &Spatial{At: at, Op: name, A: args[0], B: args[1]}, nil
}

func instantJSON(v *jval) (Expr, error) {
	if s := v.get("date"); s != nil {
		if s.kind == 's' {
			if d, err := time.Parse(time.DateOnly, s.str); err == nil {
				return &Date{At: v.pos, Value: d}, nil
			}
		}
		return nil, jsonErr(s, "invalid date "+describeJSON(s), `write a date as "YYYY-MM-DD"`)
	}
	s := v.get("timestamp")
	if s.kind == 's' {
		if t, err := time.Parse(time.RFC3339Nano, s.str); err == nil {
			return &Timestamp{At: v.pos, Value: t.UTC()}, nil
		}
	}
	return nil, jsonErr(s, "invalid timestamp "+describeJSON(s), `write a timestamp as "YYYY-MM-DDThh:mm:ssZ"`)
}

func numbers(v *jval) ([]float64, error) {
	if v.kind != '[' {
		return nil, jsonErr(v, "expected an array of numbers, found "+describeJSON(v), "")
	}
	out := make([]float64, len(v.items))
	for i, n := range v.items {
		if n.kind != 'n' {
			return nil, jsonErr(n, "expected a number, found "+describeJSON(n), "")
		}
		f, err := number(n)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

func bboxJSON(v *jval) (Expr, error) {
	b := v.get("bbox")
	n, err := numbers(b)
	if err != nil {
		return nil, err
	}
	switch len(n) {
	case 4:
	case 6:
		n = []float64{n[0], n[1], n[3], n[4]}
	default:
		return nil, jsonErr(b, "bbox needs 4 numbers (minx, miny, maxx, maxy) or 6 with heights, found "+strconv.Itoa(len(n)), "")
	}
	bb, problem := bound(n)
	if problem != "" {
		return nil, jsonErr(b, problem, "")
	}
	return &BBox{At: v.pos, Value: bb}, nil
}

// geometryJSON reads a GeoJSON geometry object.
func geometryJSON(v *jval, collection bool) (orb.Geometry, error) {
	t := v.get("type")
	if t == nil || t.kind != 's' {
		return nil, jsonErr(v, "expected a GeoJSON geometry", `give its "type"`)
	}
	if t.str == "GeometryCollection" {
		gs := v.get("geometries")
		if !collection {
			return nil, jsonErr(v, "a GeometryCollection cannot hold another", "")
		}
		if gs == nil || gs.kind != '[' || len(gs.items) == 0 {
			return nil, jsonErr(v, `a GeometryCollection needs a non-empty "geometries" array`, "")
		}
		var c orb.Collection
		for _, g := range gs.items {
			if g.kind != '{' {
				return nil, jsonErr(g, "expected a GeoJSON geometry, found "+describeJSON(g), "")
			}
			m, err := geometryJSON(g, false)
			if err != nil {
				return nil, err
			}
			c = append(c, m)
		}
		return c, nil
	}
	c := v.get("coordinates")
	if c == nil {
		if t.str == "Feature" || t.str == "FeatureCollection" {
			return nil, jsonErr(v, "expected a GeoJSON geometry, found a "+t.str, "give the feature's geometry only")
		}
		return nil, jsonErr(v, "unknown geometry type "+strconv.Quote(clip(t.str)), "")
	}
	switch t.str {
	case "Point":
		return position2(c)
	case "MultiPoint":
		var mp orb.MultiPoint
		err := eachJSON(c, func(p *jval) error {
			pt, err := position2(p)
			mp = append(mp, pt)
			return err
		})
		return mp, err
	case "LineString":
		return lineJSON(c)
	case "MultiLineString":
		var ml orb.MultiLineString
		err := eachJSON(c, func(l *jval) error {
			ls, err := lineJSON(l)
			ml = append(ml, ls)
			return err
		})
		return ml, err
	case "Polygon":
		return polygonJSON(c)
	case "MultiPolygon":
		var mp orb.MultiPolygon
		err := eachJSON(c, func(p *jval) error {
			poly, err := polygonJSON(p)
			mp = append(mp, poly)
			return err
		})
		return mp, err
	}
	return nil, jsonErr(t, "unknown geometry type "+strconv.Quote(clip(t.str)), "")
}

// eachJSON calls f on each item of a non-empty array.
func eachJSON(v *jval, f func(*jval) error) error {
	if v.kind != '[' || len(v.items) == 0 {
		return jsonErr(v, "expected a non-empty array of coordinates, found "+describeJSON(v), "")
	}
	for _, item := range v.items {
		if err := f(item); err != nil {
			return err
		}
	}
	return nil
}

// position2 reads a GeoJSON position [x, y, ...] and keeps x and y.
func position2(v *jval) (orb.Point, error) {
	n, err := numbers(v)
	if err != nil {
		return orb.Point{}, err
	}
	if len(n) < 2 || len(n) > 4 {
		return orb.Point{}, jsonErr(v, "a position needs 2 or 3 numbers [x, y] or [x, y, z], found "+strconv.Itoa(len(n)), "")
	}
	return orb.Point{n[0], n[1]}, nil
}

func pointsJSON(v *jval) ([]orb.Point, error) {
	var out []orb.Point
	err := eachJSON(v, func(p *jval) error {
		pt, err := position2(p)
		out = append(out, pt)
		return err
	})
	return out, err
}

func lineJSON(v *jval) (orb.LineString, error) {
	ps, err := pointsJSON(v)
	if err == nil && len(ps) < 2 {
		err = jsonErr(v, "a line needs at least 2 points, found 1", "")
	}
	return ps, err
}

func polygonJSON(v *jval) (orb.Polygon, error) {
	var poly orb.Polygon
	err := eachJSON(v, func(r *jval) error {
		ps, err := pointsJSON(r)
		if err != nil {
			return err
		}
		if problem := checkRing(ps); problem != "" {
			return jsonErr(r, problem, "")
		}
		poly = append(poly, ps)
		return nil
	})
	return poly, err
}
