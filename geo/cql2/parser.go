package cql2

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// Filter languages, as the filter-lang query parameter names them.
const (
	LangText = "cql2-text"
	LangJSON = "cql2-json"
)

// Parse reads a filter in the given language: LangText (also when lang is
// empty, the default of OGC API – Features Part 3) or LangJSON.
func Parse(lang, src string) (Expr, error) {
	switch lang {
	case "", LangText:
		return ParseText(src)
	case LangJSON:
		return ParseJSON([]byte(src))
	}
	return nil, &Error{Pos: Pos{Line: 1, Column: 1}, Problem: "unknown filter language " + strconv.Quote(clip(lang)), Hint: "use cql2-text or cql2-json"}
}

// ParseText reads a cql2-text filter.
func ParseText(src string) (e Expr, err error) {
	if err := checkInput([]byte(src)); err != nil {
		return nil, err
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	defer p.recover(&err)
	e = p.expr()
	if t := p.peek(); t.kind != tEOF {
		hint := "expected AND, OR or the end of the filter"
		if t.kind == tRParen {
			hint = "this ')' has no matching '('"
		}
		p.fail(t.pos, "unexpected "+describe(t), hint)
	}
	if err := validate(e); err != nil {
		return nil, err
	}
	return e, nil
}

// checkInput refuses input that is empty, too long or not UTF-8.
func checkInput(src []byte) error {
	start := Pos{Line: 1, Column: 1}
	if len(src) > MaxLength {
		return &Error{Pos: start, Problem: "filter is too long (" + strconv.Itoa(len(src)) + " bytes)", Hint: "at most " + strconv.Itoa(MaxLength) + " bytes are accepted"}
	}
	if strings.TrimSpace(string(src)) == "" {
		return &Error{Pos: start, Problem: "empty filter", Hint: "give a condition such as name = 'x'"}
	}
	if !utf8.Valid(src) {
		i := 0
		for i < len(src) {
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return &Error{Pos: position(src, i, Pos{Line: 1, Column: 1}), Problem: "filter is not valid UTF-8"}
	}
	return nil
}

// position advances from, a position at or before offset, to offset.
func position(src []byte, offset int, from Pos) Pos {
	p := from
	for p.Offset < offset && p.Offset < len(src) {
		r, n := utf8.DecodeRune(src[p.Offset:])
		p.Offset += n
		if r == '\n' {
			p.Line++
			p.Column = 1
		} else {
			p.Column++
		}
	}
	return p
}

type parser struct {
	toks  []token
	i     int
	depth int
}

// bail carries an *Error up the parser's recursion to recover.
type bail struct{ err *Error }

func (p *parser) fail(at Pos, problem, hint string) {
	panic(bail{&Error{Pos: at, Problem: problem, Hint: hint}})
}

func (p *parser) recover(err *error) {
	if r := recover(); r != nil {
		b, ok := r.(bail)
		if !ok {
			panic(r)
		}
		*err = b.err
	}
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isKw reports whether the next token is the keyword kw (upper case).
func (p *parser) isKw(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) isOp(ops ...string) bool {
	t := p.peek()
	if t.kind != tOp {
		return false
	}
	for _, o := range ops {
		if t.text == o {
			return true
		}
	}
	return false
}

func (p *parser) expect(k tokKind, what, hint string) token {
	t := p.peek()
	if t.kind != k {
		p.fail(t.pos, "unexpected "+describe(t), "expected "+what+hint)
	}
	return p.next()
}

func (p *parser) expectKw(kw, hint string) {
	if !p.isKw(kw) {
		t := p.peek()
		p.fail(t.pos, "unexpected "+describe(t), "expected "+kw+hint)
	}
	p.next()
}

func (p *parser) enter(at Pos) {
	p.depth++
	if p.depth > MaxDepth {
		p.fail(at, "filter is nested too deeply", "at most "+strconv.Itoa(MaxDepth)+" levels of operators and parentheses")
	}
}

func (p *parser) leave() { p.depth-- }

// expr is booleanExpression: terms joined by OR.
func (p *parser) expr() Expr {
	p.enter(p.peek().pos)
	defer p.leave()
	return p.logical("OR", p.and)
}

func (p *parser) and() Expr { return p.logical("AND", p.not) }

func (p *parser) logical(kw string, operand func() Expr) Expr {
	first := operand()
	if !p.isKw(kw) {
		return first
	}
	args := []Expr{first}
	for p.isKw(kw) {
		p.next()
		args = append(args, operand())
	}
	return &Logical{At: first.Pos(), Op: strings.ToLower(kw), Args: args}
}

func (p *parser) not() Expr {
	if !p.isKw("NOT") {
		return p.predicate()
	}
	t := p.next()
	p.enter(t.pos)
	defer p.leave()
	return &Not{At: t.pos, Arg: p.not()}
}

var comparisons = map[string]bool{"=": true, "<>": true, "<": true, ">": true, "<=": true, ">=": true}

// predicate is a scalar expression, optionally followed by a comparison,
// LIKE, BETWEEN, IN or IS NULL.
func (p *parser) predicate() Expr {
	left := p.arith()
	t := p.peek()
	if t.kind == tOp && comparisons[t.text] {
		p.next()
		return &Comparison{At: t.pos, Op: t.text, Left: left, Right: p.arith()}
	}
	negated := false
	if p.isKw("NOT") {
		p.next()
		if !p.isKw("LIKE") && !p.isKw("BETWEEN") && !p.isKw("IN") {
			n := p.peek()
			p.fail(n.pos, "unexpected "+describe(n), "expected LIKE, BETWEEN or IN after NOT")
		}
		negated = true
	}
	switch {
	case p.isKw("LIKE"):
		p.next()
		return &Like{At: t.pos, Not: negated, Value: left, Pattern: p.arith()}
	case p.isKw("BETWEEN"):
		p.next()
		low := p.arith()
		p.expectKw("AND", " between the two bounds of BETWEEN")
		return &Between{At: t.pos, Not: negated, Value: left, Low: low, High: p.arith()}
	case p.isKw("IN"):
		p.next()
		p.expect(tLParen, "'('", " to open the IN list")
		if r := p.peek(); r.kind == tRParen {
			p.fail(r.pos, "empty IN list", "give one or more values")
		}
		list := []Expr{p.arith()}
		for p.peek().kind == tComma {
			p.next()
			list = append(list, p.arith())
		}
		p.expect(tRParen, "',' or ')'", " in the IN list")
		return &In{At: t.pos, Not: negated, Value: left, List: list}
	case p.isKw("IS"):
		p.next()
		not := false
		if p.isKw("NOT") {
			p.next()
			not = true
		}
		p.expectKw("NULL", " after IS")
		return &IsNull{At: t.pos, Not: not, Value: left}
	}
	return left
}

// arith, term and power are the arithmetic precedence levels.
func (p *parser) arith() Expr {
	e := p.term()
	for p.isOp("+", "-") {
		t := p.next()
		e = &Arithmetic{At: t.pos, Op: t.text, Left: e, Right: p.term()}
	}
	return e
}

func (p *parser) term() Expr {
	e := p.power()
	for p.isOp("*", "/", "%") || p.isKw("DIV") {
		t := p.next()
		e = &Arithmetic{At: t.pos, Op: strings.ToLower(t.text), Left: e, Right: p.power()}
	}
	return e
}

func (p *parser) power() Expr {
	e := p.unary()
	if p.isOp("^") {
		t := p.next()
		e = &Arithmetic{At: t.pos, Op: "^", Left: e, Right: p.unary()}
	}
	return e
}

func (p *parser) unary() Expr {
	if !p.isOp("-", "+") {
		return p.primary()
	}
	t := p.next()
	p.enter(t.pos)
	defer p.leave()
	x := p.unary()
	if t.text == "+" {
		return x
	}
	if n, ok := x.(*Number); ok {
		return &Number{At: t.pos, Value: -n.Value}
	}
	return &Arithmetic{At: t.pos, Op: "-", Left: &Number{At: t.pos}, Right: x}
}

const functionsHint = "nbhd knows CASEI, ACCENTI, DATE, TIMESTAMP, BBOX, WKT geometries and the spatial functions S_INTERSECTS, S_EQUALS, S_DISJOINT, S_TOUCHES, S_WITHIN, S_OVERLAPS, S_CROSSES and S_CONTAINS"

func (p *parser) primary() Expr {
	t := p.peek()
	switch t.kind {
	case tNumber:
		p.next()
		return &Number{At: t.pos, Value: t.num}
	case tString:
		p.next()
		return &String{At: t.pos, Value: t.val}
	case tQuoted:
		p.next()
		return &Property{At: t.pos, Name: t.val}
	case tLParen:
		p.next()
		e := p.expr()
		p.expect(tRParen, "')'", " to close the '(' at column "+strconv.Itoa(t.pos.Column))
		return e
	case tIdent:
		return p.word()
	}
	p.fail(t.pos, "unexpected "+describe(t), "expected a value")
	return nil
}

// word is a primary that starts with a name: a keyword-led literal or
// function, or a property.
func (p *parser) word() Expr {
	t := p.next()
	kw := strings.ToUpper(t.text)
	switch {
	case kw == "TRUE" || kw == "FALSE":
		return &Bool{At: t.pos, Value: kw == "TRUE"}
	case kw == "CASEI" || kw == "ACCENTI":
		p.expect(tLParen, "'('", " after "+kw)
		arg := p.expr()
		p.expect(tRParen, "')'", " to close "+kw+"(")
		if kw == "CASEI" {
			return &CaseI{At: t.pos, Arg: arg}
		}
		return &AccentI{At: t.pos, Arg: arg}
	case kw == "DATE" || kw == "TIMESTAMP":
		return p.instant(t, kw)
	case strings.HasPrefix(kw, "S_") && keywords[kw]:
		p.expect(tLParen, "'('", " after "+kw)
		a := p.expr()
		p.expect(tComma, "','", " between the two geometries of "+kw)
		b := p.expr()
		p.expect(tRParen, "')'", " to close "+kw+"(")
		return &Spatial{At: t.pos, Op: strings.ToLower(kw), A: a, B: b}
	case kw == "INTERVAL" || strings.HasPrefix(kw, "T_") && keywords[kw]:
		p.fail(t.pos, kw+" is not supported", "nbhd's layers have no temporal properties, so it does not offer temporal functions; compare dates with = < > and BETWEEN")
	case strings.HasPrefix(kw, "A_") && keywords[kw]:
		p.fail(t.pos, kw+" is not supported", "nbhd's layers have no array properties")
	case kw == "BBOX":
		return p.bbox(t)
	case geometryWords[kw]:
		return &Geometry{At: t.pos, Value: p.geometry(t, true)}
	case kw == "NULL":
		p.fail(t.pos, "unexpected NULL", "test for null with IS NULL or IS NOT NULL")
	case keywords[kw]:
		p.fail(t.pos, "unexpected "+kw, "expected a value")
	case p.peek().kind == tLParen:
		p.fail(t.pos, "unknown function "+strconv.Quote(clip(t.text)), functionsHint)
	}
	return &Property{At: t.pos, Name: t.text}
}

func (p *parser) instant(t token, kw string) Expr {
	p.expect(tLParen, "'('", " after "+kw)
	s := p.expect(tString, "a quoted "+strings.ToLower(kw), " such as '2024-05-01'")
	p.expect(tRParen, "')'", " to close "+kw+"(")
	if kw == "DATE" {
		d, err := time.Parse(time.DateOnly, s.val)
		if err != nil {
			p.fail(s.pos, "invalid date "+s.text, "write a date as 'YYYY-MM-DD'")
		}
		return &Date{At: t.pos, Value: d}
	}
	ts, err := time.Parse(time.RFC3339Nano, s.val)
	if err != nil {
		p.fail(s.pos, "invalid timestamp "+s.text, "write a timestamp as 'YYYY-MM-DDThh:mm:ssZ'")
	}
	return &Timestamp{At: t.pos, Value: ts.UTC()}
}

var geometryWords = map[string]bool{"POINT": true, "LINESTRING": true, "POLYGON": true, "MULTIPOINT": true,
	"MULTILINESTRING": true, "MULTIPOLYGON": true, "GEOMETRYCOLLECTION": true}

// geometry reads WKT after its tag t.
func (p *parser) geometry(t token, collection bool) orb.Geometry {
	kw := strings.ToUpper(t.text)
	if n := p.peek(); n.kind == tIdent {
		switch strings.ToUpper(n.text) {
		case "Z", "M", "ZM":
			p.next()
		case "EMPTY":
			p.fail(n.pos, "empty geometries are not supported", "give coordinates")
		}
	}
	switch kw {
	case "POINT":
		p.expect(tLParen, "'('", " after POINT")
		pt := p.coords()
		p.expect(tRParen, "')'", " after the point's coordinates")
		return pt
	case "LINESTRING":
		return p.line()
	case "POLYGON":
		return p.polygon()
	case "MULTIPOINT":
		var mp orb.MultiPoint
		p.list("points", func() {
			if p.peek().kind == tLParen {
				p.next()
				mp = append(mp, p.coords())
				p.expect(tRParen, "')'", " after the point's coordinates")
				return
			}
			mp = append(mp, p.coords())
		})
		return mp
	case "MULTILINESTRING":
		var ml orb.MultiLineString
		p.list("lines", func() { ml = append(ml, p.line()) })
		return ml
	case "MULTIPOLYGON":
		var mp orb.MultiPolygon
		p.list("polygons", func() { mp = append(mp, p.polygon()) })
		return mp
	}
	if !collection {
		p.fail(t.pos, "a GEOMETRYCOLLECTION cannot hold another", "list its members' geometries directly")
	}
	var c orb.Collection
	p.list("geometries", func() {
		g := p.peek()
		if g.kind != tIdent || !geometryWords[strings.ToUpper(g.text)] {
			p.fail(g.pos, "unexpected "+describe(g), "expected a geometry such as POINT(...)")
		}
		p.next()
		c = append(c, p.geometry(g, false))
	})
	return c
}

// list reads "(" item {"," item} ")".
func (p *parser) list(what string, item func()) {
	p.expect(tLParen, "'('", " to open the "+what)
	item()
	for p.peek().kind == tComma {
		p.next()
		item()
	}
	p.expect(tRParen, "',' or ')'", " in the "+what)
}

func (p *parser) points() (orb.LineString, Pos) {
	open := p.peek().pos
	var ls orb.LineString
	p.list("coordinates", func() { ls = append(ls, p.coords()) })
	return ls, open
}

func (p *parser) line() orb.LineString {
	ls, at := p.points()
	if len(ls) < 2 {
		p.fail(at, "a line needs at least 2 points, found 1", "")
	}
	return ls
}

func (p *parser) polygon() orb.Polygon {
	var poly orb.Polygon
	p.list("rings", func() {
		r, at := p.points()
		if err := checkRing(r); err != "" {
			p.fail(at, err, "")
		}
		poly = append(poly, orb.Ring(r))
	})
	return poly
}

// checkRing says what is wrong with a polygon ring, if anything.
func checkRing(r []orb.Point) string {
	if len(r) < 4 {
		return "a polygon ring needs at least 4 points (the first repeated last), found " + strconv.Itoa(len(r))
	}
	if r[0] != r[len(r)-1] {
		return "polygon ring is not closed: its last point must repeat its first (" + num(r[0][0]) + " " + num(r[0][1]) + ")"
	}
	return ""
}

// coords reads "x y [z [m]]" and keeps x and y.
func (p *parser) coords() orb.Point {
	pt := orb.Point{p.signed("coordinate"), p.signed("coordinate")}
	for range 2 {
		if t := p.peek(); t.kind == tNumber || p.isOp("-", "+") {
			p.signed("coordinate")
		}
	}
	return pt
}

// signed reads a number with an optional sign.
func (p *parser) signed(what string) float64 {
	sign := 1.0
	if p.isOp("-", "+") {
		if p.next().text == "-" {
			sign = -1
		}
	}
	t := p.peek()
	if t.kind != tNumber {
		p.fail(t.pos, "unexpected "+describe(t), "expected a number ("+what+")")
	}
	p.next()
	return sign * t.num
}

// bbox reads BBOX(minx, miny, maxx, maxy), or six numbers with heights.
func (p *parser) bbox(t token) Expr {
	p.expect(tLParen, "'('", " after BBOX")
	v := []float64{p.signed("BBOX edge")}
	for p.peek().kind == tComma {
		p.next()
		v = append(v, p.signed("BBOX edge"))
	}
	end := p.expect(tRParen, "',' or ')'", " in BBOX")
	if len(v) != 4 && len(v) != 6 {
		p.fail(end.pos, "BBOX needs 4 numbers (minx, miny, maxx, maxy) or 6 with heights, found "+strconv.Itoa(len(v)), "")
	}
	if len(v) == 6 {
		v = []float64{v[0], v[1], v[3], v[4]}
	}
	b, problem := bound(v)
	if problem != "" {
		p.fail(t.pos, problem, "")
	}
	return &BBox{At: t.pos, Value: b}
}

// bound makes a box of minx, miny, maxx, maxy, or says why it cannot.
func bound(v []float64) (orb.Bound, string) {
	if v[0] > v[2] {
		return orb.Bound{}, "BBOX's minimum x (" + num(v[0]) + ") exceeds its maximum x (" + num(v[2]) + "); boxes across the antimeridian are not supported"
	}
	if v[1] > v[3] {
		return orb.Bound{}, "BBOX's minimum y (" + num(v[1]) + ") exceeds its maximum y (" + num(v[3]) + ")"
	}
	return orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}, ""
}
