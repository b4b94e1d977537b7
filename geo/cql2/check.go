package cql2

import "strconv"

// checker checks a parsed tree's shape, the same for both encodings: what
// may stand where (a condition, a scalar value, a geometry), and the limits.
type checker struct {
	nodes, ops int
}

func validate(e Expr) error {
	c := &checker{}
	if err := c.condition(e, 1); err != nil {
		return err
	}
	return nil
}

// count counts a node and checks the limits.
func (c *checker) count(e Expr, depth int) *Error {
	c.nodes++
	switch {
	case depth > MaxDepth:
		return &Error{Pos: e.Pos(), Problem: "filter is nested too deeply", Hint: "at most " + strconv.Itoa(MaxDepth) + " levels of operators and parentheses"}
	case c.nodes > MaxNodes:
		return &Error{Pos: e.Pos(), Problem: "filter is too large", Hint: "at most " + strconv.Itoa(MaxNodes) + " operators, properties and values"}
	}
	return nil
}

// isCondition reports whether e is a node that is a condition by its kind.
func isCondition(e Expr) bool {
	switch e.(type) {
	case *Logical, *Not, *Comparison, *Like, *Between, *In, *IsNull, *Spatial:
		return true
	}
	return false
}

func (c *checker) condition(e Expr, d int) *Error {
	if err := c.count(e, d); err != nil {
		return err
	}
	switch e := e.(type) {
	case *Logical:
		for _, a := range e.Args {
			if err := c.condition(a, d+1); err != nil {
				return err
			}
		}
		return nil
	case *Not:
		return c.condition(e.Arg, d+1)
	case *Comparison:
		return c.all(d, c.scalar, e.Left, e.Right)
	case *Like:
		if err := c.text(e.Value, d+1); err != nil {
			return err
		}
		return c.pattern(e.Pattern, d+1)
	case *Between:
		return c.all(d, c.scalar, e.Value, e.Low, e.High)
	case *In:
		if err := c.scalar(e.Value, d+1); err != nil {
			return err
		}
		return c.all(d, c.scalar, e.List...)
	case *IsNull:
		switch e.Value.(type) {
		case *Geometry, *BBox:
			return c.count(e.Value, d+1)
		}
		if isCondition(e.Value) {
			return c.condition(e.Value, d+1)
		}
		return c.scalar(e.Value, d+1)
	case *Spatial:
		return c.all(d, c.geometry, e.A, e.B)
	case *Bool, *Property:
		return nil
	}
	return &Error{Pos: e.Pos(), Problem: "expected a condition, found " + describeExpr(e),
		Hint: "a filter is made of comparisons, LIKE, BETWEEN, IN, IS NULL, spatial functions and TRUE or FALSE, joined by AND, OR and NOT"}
}

func (c *checker) all(d int, check func(Expr, int) *Error, es ...Expr) *Error {
	for _, e := range es {
		if err := check(e, d+1); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) scalar(e Expr, d int) *Error {
	if err := c.count(e, d); err != nil {
		return err
	}
	switch e := e.(type) {
	case *Number, *String, *Bool, *Date, *Timestamp, *Property:
		return nil
	case *Arithmetic:
		return c.arithmetic(e, d)
	case *CaseI:
		return c.text(e.Arg, d+1)
	case *AccentI:
		return c.text(e.Arg, d+1)
	case *Geometry, *BBox:
		return &Error{Pos: e.Pos(), Problem: "unexpected " + describeExpr(e), Hint: "compare geometries with a spatial function such as S_EQUALS or S_INTERSECTS"}
	}
	return &Error{Pos: e.Pos(), Problem: "expected a value, found " + describeExpr(e), Hint: "a condition cannot be compared; join conditions with AND, OR and NOT"}
}

func (c *checker) arithmetic(e *Arithmetic, d int) *Error {
	c.ops++
	if c.ops > MaxArithmetic {
		return &Error{Pos: e.At, Problem: "too many arithmetic operators", Hint: "at most " + strconv.Itoa(MaxArithmetic) + " are accepted"}
	}
	for _, o := range []Expr{e.Left, e.Right} {
		if err := c.count(o, d+1); err != nil {
			return err
		}
		switch o := o.(type) {
		case *Number, *Property:
		case *Arithmetic:
			if err := c.arithmetic(o, d+1); err != nil {
				return err
			}
		default:
			return &Error{Pos: o.Pos(), Problem: "unexpected " + describeExpr(o) + " in arithmetic", Hint: "arithmetic (+ - * / % div ^) works on numbers and numeric properties"}
		}
	}
	return nil
}

// text checks a string-valued operand of LIKE, CASEI or ACCENTI.
func (c *checker) text(e Expr, d int) *Error {
	if err := c.count(e, d); err != nil {
		return err
	}
	switch e := e.(type) {
	case *String, *Property:
		return nil
	case *CaseI:
		return c.text(e.Arg, d+1)
	case *AccentI:
		return c.text(e.Arg, d+1)
	}
	return &Error{Pos: e.Pos(), Problem: "expected a string or a property, found " + describeExpr(e), Hint: "LIKE, CASEI and ACCENTI work on strings"}
}

// pattern checks a LIKE pattern: a string literal, optionally wrapped in
// CASEI or ACCENTI.
func (c *checker) pattern(e Expr, d int) *Error {
	if err := c.count(e, d); err != nil {
		return err
	}
	switch e := e.(type) {
	case *String:
		if likeEndsWithEscape(e.Value) {
			return &Error{Pos: e.At, Problem: "LIKE pattern ends with an escape character", Hint: `write \\ for a backslash itself`}
		}
		return nil
	case *CaseI:
		return c.pattern(e.Arg, d+1)
	case *AccentI:
		return c.pattern(e.Arg, d+1)
	}
	return &Error{Pos: e.Pos(), Problem: "expected a LIKE pattern, found " + describeExpr(e), Hint: "a pattern is a quoted string (% matches any characters, _ one), optionally in CASEI() or ACCENTI()"}
}

// likeEndsWithEscape reports a pattern whose last character is an unpaired
// backslash, which PostgreSQL refuses.
func likeEndsWithEscape(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func (c *checker) geometry(e Expr, d int) *Error {
	if err := c.count(e, d); err != nil {
		return err
	}
	switch e.(type) {
	case *Geometry, *BBox, *Property:
		return nil
	}
	return &Error{Pos: e.Pos(), Problem: "expected a geometry, found " + describeExpr(e), Hint: "spatial functions compare the geometry property with a WKT literal such as POINT(x y), POLYGON((...)) or BBOX(minx, miny, maxx, maxy)"}
}

// describeExpr names a node for an error message.
func describeExpr(e Expr) string {
	switch e := e.(type) {
	case *Number:
		return "number " + e.String()
	case *String:
		return "string " + clip(e.String())
	case *Bool:
		return e.String()
	case *Property:
		return "property " + strconv.Quote(e.Name)
	case *Date:
		return "date " + e.String()
	case *Timestamp:
		return "timestamp " + e.String()
	case *Geometry:
		return "a geometry"
	case *BBox:
		return "a BBOX"
	case *Arithmetic:
		return "an arithmetic expression"
	case *CaseI, *AccentI:
		return "a string function"
	case *Spatial:
		return "spatial function " + e.Op
	case *Logical:
		return "an " + e.Op + " condition"
	}
	return "a condition"
}
