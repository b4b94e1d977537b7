package cql2

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// Eval evaluates a filter for one item, with CQL2's three-valued logic: it
// reports whether the filter is TRUE for the item (FALSE and NULL both
// exclude it). props holds the item's properties as nil (unset), string,
// float64 or another Go number, bool or time.Time; the property "geometry"
// is geom. A property missing from props is an error, not a null, so a
// mistyped name is noticed.
//
// Eval is an independent reference for tests of the SQL that the data
// package compiles. Its spatial functions are exact for a point against any
// geometry; between lines and polygons they assume general position (no
// vertex of one on the boundary of the other) and return an error, rather
// than guess, when that does not hold.
func Eval(e Expr, props map[string]any, geom orb.Geometry) (bool, error) {
	v, err := (&evaluator{props: props, geom: geom}).eval(e)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if v != nil && !ok {
		return false, fmt.Errorf("filter is not a condition: it gives %v", v)
	}
	return b, nil
}

type evaluator struct {
	props map[string]any
	geom  orb.Geometry
}

func (v *evaluator) eval(e Expr) (any, error) {
	switch e := e.(type) {
	case *Logical:
		return v.logical(e)
	case *Not:
		x, err := v.boolean(e.Arg)
		if x == nil || err != nil {
			return nil, err
		}
		return !*x, nil
	case *Comparison:
		return v.comparison(e)
	case *Like:
		return v.like(e)
	case *Between:
		x, err := v.values(e.Value, e.Low, e.High)
		if err != nil || x == nil {
			return nil, err
		}
		lo, err1 := compare(x[1], x[0])
		hi, err2 := compare(x[0], x[2])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("BETWEEN at column %d: %w", e.At.Column, firstErr(err1, err2))
		}
		return (lo <= 0 && hi <= 0) != e.Not, nil
	case *In:
		return v.in(e)
	case *IsNull:
		x, err := v.eval(e.Value)
		if err != nil {
			return nil, err
		}
		return (x == nil) != e.Not, nil
	case *Spatial:
		x, err := v.values(e.A, e.B)
		if err != nil || x == nil {
			return nil, err
		}
		a, okA := x[0].(orb.Geometry)
		b, okB := x[1].(orb.Geometry)
		if !okA || !okB {
			return nil, fmt.Errorf("%s at column %d needs two geometries", e.Op, e.At.Column)
		}
		return Relate(e.Op, a, b)
	case *Arithmetic:
		return v.arithmetic(e)
	case *CaseI, *AccentI:
		var arg Expr
		f := FoldCase
		if c, ok := e.(*CaseI); ok {
			arg = c.Arg
		} else {
			arg, f = e.(*AccentI).Arg, StripAccents
		}
		x, err := v.eval(arg)
		if x == nil || err != nil {
			return nil, err
		}
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("CASEI or ACCENTI at column %d needs a string, got %T", e.Pos().Column, x)
		}
		return f(s), nil
	case *Property:
		return v.property(e)
	case *String:
		return e.Value, nil
	case *Number:
		return e.Value, nil
	case *Bool:
		return e.Value, nil
	case *Date:
		return e.Value, nil
	case *Timestamp:
		return e.Value, nil
	case *Geometry:
		return e.Value, nil
	case *BBox:
		return e.Value, nil
	}
	return nil, fmt.Errorf("cannot evaluate %T", e)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (v *evaluator) property(e *Property) (any, error) {
	if e.Name == "geometry" {
		if v.geom == nil {
			return nil, nil
		}
		return v.geom, nil
	}
	x, ok := v.props[e.Name]
	if !ok {
		return nil, fmt.Errorf("unknown property %q", e.Name)
	}
	switch n := x.(type) {
	case int:
		return float64(n), nil
	case int32:
		return float64(n), nil
	case int64:
		return float64(n), nil
	case float32:
		return float64(n), nil
	}
	return x, nil
}

// values evaluates es; it returns nil when any of them is null.
func (v *evaluator) values(es ...Expr) ([]any, error) {
	out := make([]any, len(es))
	for i, e := range es {
		x, err := v.eval(e)
		if err != nil || x == nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

// boolean evaluates a condition: nil for NULL.
func (v *evaluator) boolean(e Expr) (*bool, error) {
	x, err := v.eval(e)
	if x == nil || err != nil {
		return nil, err
	}
	b, ok := x.(bool)
	if !ok {
		return nil, fmt.Errorf("%s at column %d is not a condition", e, e.Pos().Column)
	}
	return &b, nil
}

func (v *evaluator) logical(e *Logical) (any, error) {
	decisive := e.Op == "or" // the value that settles the result
	null := false
	for _, a := range e.Args {
		b, err := v.boolean(a)
		if err != nil {
			return nil, err
		}
		switch {
		case b == nil:
			null = true
		case *b == decisive:
			return decisive, nil
		}
	}
	if null {
		return nil, nil
	}
	return !decisive, nil
}

// compare orders two values of one type: strings by bytes (PostgreSQL's C
// collation), numbers, booleans (false first) and instants.
func compare(a, b any) (int, error) {
	switch a := a.(type) {
	case float64:
		if b, ok := b.(float64); ok {
			switch {
			case a < b:
				return -1, nil
			case a > b:
				return 1, nil
			}
			return 0, nil
		}
	case string:
		if b, ok := b.(string); ok {
			return strings.Compare(a, b), nil
		}
	case bool:
		if b, ok := b.(bool); ok {
			switch {
			case a == b:
				return 0, nil
			case b:
				return -1, nil
			}
			return 1, nil
		}
	case time.Time:
		if b, ok := b.(time.Time); ok {
			return a.Compare(b), nil
		}
	}
	return 0, fmt.Errorf("cannot compare %T with %T", a, b)
}

func (v *evaluator) comparison(e *Comparison) (any, error) {
	x, err := v.values(e.Left, e.Right)
	if err != nil || x == nil {
		return nil, err
	}
	c, err := compare(x[0], x[1])
	if err != nil {
		return nil, fmt.Errorf("%s at column %d: %w", e.Op, e.At.Column, err)
	}
	switch e.Op {
	case "=":
		return c == 0, nil
	case "<>":
		return c != 0, nil
	case "<":
		return c < 0, nil
	case ">":
		return c > 0, nil
	case "<=":
		return c <= 0, nil
	}
	return c >= 0, nil
}

func (v *evaluator) in(e *In) (any, error) {
	x, err := v.eval(e.Value)
	if x == nil || err != nil {
		return nil, err
	}
	null := false
	for _, item := range e.List {
		y, err := v.eval(item)
		if err != nil {
			return nil, err
		}
		if y == nil {
			null = true
			continue
		}
		c, err := compare(x, y)
		if err != nil {
			return nil, fmt.Errorf("IN at column %d: %w", e.At.Column, err)
		}
		if c == 0 {
			return !e.Not, nil
		}
	}
	if null {
		return nil, nil
	}
	return e.Not, nil
}

func (v *evaluator) like(e *Like) (any, error) {
	x, err := v.values(e.Value, e.Pattern)
	if err != nil || x == nil {
		return nil, err
	}
	s, ok1 := x[0].(string)
	p, ok2 := x[1].(string)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("LIKE at column %d needs strings", e.At.Column)
	}
	return MatchLike(s, p) != e.Not, nil
}

// MatchLike matches s against a LIKE pattern: % matches any run of characters,
// _ one character, and \ makes the next character literal.
func MatchLike(s, pattern string) bool {
	type item struct {
		r    rune
		kind byte // 'l' literal, '%' any run, '_' any one
	}
	var pat []item
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '%', '_':
			pat = append(pat, item{kind: byte(rs[i])})
		case '\\':
			if i+1 < len(rs) {
				i++
			}
			pat = append(pat, item{r: rs[i], kind: 'l'})
		default:
			pat = append(pat, item{r: rs[i], kind: 'l'})
		}
	}
	str := []rune(s)
	// Greedy matching that backtracks to the last %.
	si, pi, star, mark := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case pi < len(pat) && (pat[pi].kind == '_' || pat[pi].kind == 'l' && pat[pi].r == str[si]):
			si++
			pi++
		case pi < len(pat) && pat[pi].kind == '%':
			star, mark = pi, si
			pi++
		case star >= 0:
			mark++
			si, pi = mark, star+1
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi].kind == '%' {
		pi++
	}
	return pi == len(pat)
}

// arithmetic follows the SQL the data package writes: division by zero and
// powers that would overflow give null.
func (v *evaluator) arithmetic(e *Arithmetic) (any, error) {
	x, err := v.values(e.Left, e.Right)
	if err != nil || x == nil {
		return nil, err
	}
	a, ok1 := x[0].(float64)
	b, ok2 := x[1].(float64)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s at column %d needs numbers", e.Op, e.At.Column)
	}
	switch e.Op {
	case "+":
		return a + b, nil
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	}
	if b == 0 && e.Op != "^" {
		return nil, nil
	}
	switch e.Op {
	case "/":
		return a / b, nil
	case "%":
		return math.Mod(a, b), nil
	case "div":
		return math.Trunc(a / b), nil
	}
	switch {
	case a == 0 && b < 0, a < 0 && b != math.Trunc(b), a != 0 && b*math.Log10(math.Abs(a)) > MaxPowerDigits:
		return nil, nil
	}
	return math.Pow(a, b), nil
}

// MaxPowerDigits bounds the result of ^: a power with more digits than this
// before the decimal point is null rather than an overflow.
const MaxPowerDigits = 1000
