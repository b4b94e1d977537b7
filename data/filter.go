package data

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"nbhd/geo"
	"nbhd/geo/cql2"
)

// GeometryProperty is the name a filter uses for a layer's geometry; "geom"
// is accepted too.
const GeometryProperty = "geometry"

// Predicate is a CQL2 filter compiled against one layer: a boolean SQL
// expression over the layer's view in which every column name comes from
// the catalogue and every value is a bind argument. Set it as
// FeatureQuery.Where; vector tiles can AND it into their query with SQL.
type Predicate struct {
	parts []sqlPart
	key   string
}

// Key is the filter in a canonical form (cql2-text with every operator in
// parentheses) with its CRS: equal for requests that differ only in how
// they spell the same filter, for cache keys such as a filtered tile's.
func (p *Predicate) Key() string { return p.key }

// sqlPart is SQL text, a column of the filtered view, or an argument.
type sqlPart struct {
	kind byte // 't' text, 'c' column (text is its quoted name), 'a' argument
	text string
	arg  any
}

// SQL renders the predicate with its columns qualified by alias, appending
// its arguments to args (numbered from len(args)+1). It never fails:
// everything that could was checked when the predicate was compiled.
func (p *Predicate) SQL(alias string, args []any) (string, []any) {
	var b strings.Builder
	qualifier := pgx.Identifier{alias}.Sanitize() + "."
	for _, part := range p.parts {
		switch part.kind {
		case 'c':
			b.WriteString(qualifier + part.text)
		case 'a':
			args = append(args, part.arg)
			b.WriteString("$" + strconv.Itoa(len(args)))
		default:
			b.WriteString(part.text)
		}
	}
	return b.String(), args
}

// readsOnly reports whether every column the predicate reads is one of
// fields: whether it can filter a table that has only those.
func (p *Predicate) readsOnly(fields []Field) bool {
	for _, part := range p.parts {
		if part.kind != 'c' {
			continue
		}
		found := false
		for _, f := range fields {
			if part.text == (pgx.Identifier{f.Name}).Sanitize() {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// ParseFilter reads a filter in lang (cql2.LangText or cql2.LangJSON; empty
// means text) and compiles it for the layer, with geometry literals in crs
// (the filter-crs parameter). Every error is a *cql2.Error with the
// position of the problem, for a 400 response.
func (l *Layer) ParseFilter(lang, src string, crs geo.CRS) (*Predicate, error) {
	e, err := cql2.Parse(lang, src)
	if err != nil {
		return nil, err
	}
	return l.CompileFilter(e, crs)
}

// CompileFilter checks a parsed filter against the layer's queryables and
// the types of its fields and compiles it to SQL. Geometry literals are in
// crs (CRS84 when zero), and the layer's geometry column in that CRS is
// compared with them. Errors are *cql2.Error.
func (l *Layer) CompileFilter(e cql2.Expr, crs geo.CRS) (*Predicate, error) {
	if crs.SRID == 0 {
		crs = geo.CRS84 // the default filter-crs
	}
	c := &compiler{l: l, crs: crs}
	if err := c.condition(e); err != nil {
		return nil, err
	}
	return &Predicate{parts: c.parts, key: e.String() + " @" + crs.URI}, nil
}

// kind is the type of a filter value.
type kind int

const (
	kString kind = iota
	kNumber
	kBool
	kDate
	kTimestamp
	kGeometry
)

var kindNames = map[kind]string{kString: "a string", kNumber: "a number", kBool: "a boolean",
	kDate: "a date", kTimestamp: "a timestamp", kGeometry: "a geometry"}

var fieldKinds = map[FieldType]kind{String: kString, Integer: kNumber, Number: kNumber, Boolean: kBool, Date: kDate}

// icu is the collation CASEI folds case in, for the same full Unicode case
// mappings as cql2.FoldCase: the database's default collation may be "C",
// which folds ASCII only.
const icu = `"und-x-icu"`

type compiler struct {
	l     *Layer
	crs   geo.CRS
	parts []sqlPart
}

func (c *compiler) text(s ...string) {
	for _, t := range s {
		c.parts = append(c.parts, sqlPart{kind: 't', text: t})
	}
}

func (c *compiler) arg(v any, cast string) {
	c.parts = append(c.parts, sqlPart{kind: 'a', arg: v}, sqlPart{kind: 't', text: "::" + cast})
}

func (c *compiler) column(name string) {
	c.parts = append(c.parts, sqlPart{kind: 'c', text: pgx.Identifier{name}.Sanitize()})
}

// queryables lists the names a filter may use, for error messages.
func (c *compiler) queryables() string {
	var names []string
	for _, f := range c.l.Fields {
		if f.Queryable {
			names = append(names, f.Name)
		}
	}
	return "queryables of " + c.l.ID + ": " + strings.Join(append(names, GeometryProperty), ", ")
}

// property resolves a property to its column and kind.
func (c *compiler) property(p *cql2.Property) (string, kind, error) {
	if p.Name == GeometryProperty || p.Name == "geom" {
		return geomColumn(c.crs), kGeometry, nil
	}
	if f, ok := c.l.Field(p.Name); ok && f.Queryable {
		return f.Name, fieldKinds[f.Type], nil
	}
	if f, ok := c.l.Field(p.Name); ok {
		return "", 0, cql2.Errorf(p.At, c.queryables(), "property %q of %s cannot be used in a filter", f.Name, c.l.ID)
	}
	for _, f := range c.l.Fields {
		if f.Queryable && strings.EqualFold(f.Name, p.Name) {
			return "", 0, cql2.Errorf(p.At, "did you mean "+f.Name+"? ("+c.queryables()+")", "unknown property %q", p.Name)
		}
	}
	return "", 0, cql2.Errorf(p.At, c.queryables(), "unknown property %q", p.Name)
}

// kindOf type-checks a value without writing SQL.
func (c *compiler) kindOf(e cql2.Expr) (kind, error) {
	switch e := e.(type) {
	case *cql2.Property:
		_, k, err := c.property(e)
		return k, err
	case *cql2.String:
		return kString, nil
	case *cql2.Number:
		return kNumber, nil
	case *cql2.Bool:
		return kBool, nil
	case *cql2.Date:
		return kDate, nil
	case *cql2.Timestamp:
		return kTimestamp, nil
	case *cql2.Geometry, *cql2.BBox:
		return kGeometry, nil
	case *cql2.Arithmetic:
		for _, o := range []cql2.Expr{e.Left, e.Right} {
			if err := c.want(o, kNumber, "arithmetic needs numbers"); err != nil {
				return 0, err
			}
		}
		return kNumber, nil
	case *cql2.CaseI:
		return kString, c.want(e.Arg, kString, "CASEI needs a string")
	case *cql2.AccentI:
		return kString, c.want(e.Arg, kString, "ACCENTI needs a string")
	}
	return kBool, nil // a condition
}

// want checks that e has kind k.
func (c *compiler) want(e cql2.Expr, k kind, why string) error {
	got, err := c.kindOf(e)
	if err != nil {
		return err
	}
	if got != k {
		return cql2.Errorf(e.Pos(), why, "%s is %s, not %s", e, kindNames[got], kindNames[k][2:])
	}
	return nil
}

// same checks that es all have one kind, among allowed, and returns it.
func (c *compiler) same(op string, at cql2.Pos, allowed []kind, es ...cql2.Expr) (kind, error) {
	first, err := c.kindOf(es[0])
	if err != nil {
		return 0, err
	}
	if !slices.Contains(allowed, first) {
		return 0, cql2.Errorf(at, "", "%s does not apply to %s, which is %s", op, es[0], kindNames[first])
	}
	for _, e := range es[1:] {
		k, err := c.kindOf(e)
		if err != nil {
			return 0, err
		}
		if k != first {
			hint := ""
			if first == kDate && k == kTimestamp || first == kTimestamp && k == kDate {
				hint = "compare a date with DATE('YYYY-MM-DD') and a timestamp with TIMESTAMP('YYYY-MM-DDThh:mm:ssZ')"
			}
			return 0, cql2.Errorf(at, hint, "%s cannot compare %s, which is %s, with %s, which is %s", op, es[0], kindNames[first], e, kindNames[k])
		}
	}
	return first, nil
}

var sqlComparison = map[string]string{"=": " = ", "<>": " <> ", "<": " < ", ">": " > ", "<=": " <= ", ">=": " >= "}

var spatialFunctions = map[string]string{"s_intersects": "ST_Intersects", "s_equals": "ST_Equals", "s_disjoint": "ST_Disjoint",
	"s_touches": "ST_Touches", "s_within": "ST_Within", "s_overlaps": "ST_Overlaps", "s_crosses": "ST_Crosses", "s_contains": "ST_Contains"}

func notSQL(b bool) string {
	if b {
		return " NOT"
	}
	return ""
}

// condition writes a boolean SQL expression for e.
func (c *compiler) condition(e cql2.Expr) error {
	switch e := e.(type) {
	case *cql2.Logical:
		c.text("(")
		for i, a := range e.Args {
			if i > 0 {
				c.text(" " + strings.ToUpper(e.Op) + " ")
			}
			if err := c.condition(a); err != nil {
				return err
			}
		}
		c.text(")")
		return nil
	case *cql2.Not:
		c.text("(NOT ")
		if err := c.condition(e.Arg); err != nil {
			return err
		}
		c.text(")")
		return nil
	case *cql2.Comparison:
		allowed := []kind{kString, kNumber, kBool, kDate, kTimestamp}
		k, err := c.same(e.Op, e.At, allowed, e.Left, e.Right)
		if err != nil {
			return err
		}
		c.text("(")
		c.value(e.Left, k)
		c.text(sqlComparison[e.Op])
		c.value(e.Right, k)
		c.text(")")
		return nil
	case *cql2.Like:
		if err := c.want(e.Value, kString, "LIKE matches strings"); err != nil {
			return err
		}
		c.text("(")
		c.value(e.Value, kString)
		c.text(notSQL(e.Not) + " LIKE ")
		c.value(e.Pattern, kString)
		c.text(")")
		return nil
	case *cql2.Between:
		k, err := c.same("BETWEEN", e.At, []kind{kString, kNumber, kDate, kTimestamp}, e.Value, e.Low, e.High)
		if err != nil {
			return err
		}
		c.text("(")
		c.value(e.Value, k)
		c.text(notSQL(e.Not) + " BETWEEN ")
		c.value(e.Low, k)
		c.text(" AND ")
		c.value(e.High, k)
		c.text(")")
		return nil
	case *cql2.In:
		k, err := c.same("IN", e.At, []kind{kString, kNumber, kBool, kDate, kTimestamp}, append([]cql2.Expr{e.Value}, e.List...)...)
		if err != nil {
			return err
		}
		c.text("(")
		c.value(e.Value, k)
		c.text(notSQL(e.Not) + " IN (")
		for i, item := range e.List {
			if i > 0 {
				c.text(", ")
			}
			c.value(item, k)
		}
		c.text("))")
		return nil
	case *cql2.IsNull:
		c.text("(")
		if err := c.any(e.Value); err != nil {
			return err
		}
		c.text(" IS" + notSQL(e.Not) + " NULL)")
		return nil
	case *cql2.Spatial:
		if _, err := c.same(strings.ToUpper(e.Op), e.At, []kind{kGeometry}, e.A, e.B); err != nil {
			return err
		}
		c.text(spatialFunctions[e.Op] + "(")
		if err := c.geometry(e.A); err != nil {
			return err
		}
		c.text(", ")
		if err := c.geometry(e.B); err != nil {
			return err
		}
		c.text(")")
		return nil
	case *cql2.Bool:
		c.arg(e.Value, "boolean")
		return nil
	case *cql2.Property:
		if err := c.want(e, kBool, "a property used as a condition must be a boolean"); err != nil {
			return err
		}
		col, _, _ := c.property(e)
		c.text("(")
		c.column(col)
		c.text(")")
		return nil
	}
	return cql2.Errorf(e.Pos(), "", "%s is not a condition", e)
}

// any writes the operand of IS NULL, which may be of any kind.
func (c *compiler) any(e cql2.Expr) error {
	switch e.(type) {
	case *cql2.Geometry, *cql2.BBox:
		return c.geometry(e)
	}
	k, err := c.kindOf(e)
	if err != nil {
		return err
	}
	switch {
	case k == kGeometry:
		return c.geometry(e)
	case k == kBool && !isValue(e):
		return c.condition(e)
	}
	c.value(e, k)
	return nil
}

// isValue reports whether e is a value rather than a condition.
func isValue(e cql2.Expr) bool {
	switch e.(type) {
	case *cql2.Property, *cql2.String, *cql2.Number, *cql2.Bool, *cql2.Date, *cql2.Timestamp, *cql2.Arithmetic, *cql2.CaseI, *cql2.AccentI:
		return true
	}
	return false
}

// value writes a type-checked scalar of kind k. Strings are compared in
// the "C" collation (byte order), whatever the database's default, so a
// filter selects the same rows everywhere.
func (c *compiler) value(e cql2.Expr, k kind) {
	c.scalar(e)
	if k == kString {
		c.text(` COLLATE "C"`)
	}
}

// scalar writes a type-checked scalar.
func (c *compiler) scalar(e cql2.Expr) {
	switch e := e.(type) {
	case *cql2.Property:
		col, _, _ := c.property(e)
		c.column(col)
	case *cql2.String:
		c.arg(e.Value, "text")
	case *cql2.Number:
		c.arg(e.Value, "numeric")
	case *cql2.Bool:
		c.arg(e.Value, "boolean")
	case *cql2.Date:
		c.arg(e.Value, "date")
	case *cql2.Timestamp:
		c.arg(e.Value, "timestamptz")
	case *cql2.Arithmetic:
		c.arithmetic(e)
	case *cql2.CaseI:
		c.text("lower(upper((")
		c.scalar(e.Arg)
		c.text(") COLLATE " + icu + "))")
	case *cql2.AccentI:
		c.text("regexp_replace(normalize(") //nolint:misspell // PostgreSQL's function
		c.scalar(e.Arg)
		c.text(", NFD), ")
		c.arg(accentClass, "text")
		c.text(", '', 'g')")
	}
}

// accentClass is a regular expression matching the characters ACCENTI
// removes, the same as cql2.StripAccents.
var accentClass = func() string {
	var b strings.Builder
	b.WriteByte('[')
	esc := func(r rune) string {
		if r > 0xFFFF {
			return fmt.Sprintf(`\U%08X`, r)
		}
		return fmt.Sprintf(`\u%04X`, r)
	}
	for _, r := range cql2.AccentMarks() {
		b.WriteString(esc(r[0]))
		if r[1] > r[0] {
			b.WriteString("-" + esc(r[1]))
		}
	}
	b.WriteByte(']')
	return b.String()
}()

// arithmetic writes numeric arithmetic: a division by zero is null, not an
// error, and so is a power that is undefined or larger than
// 10^cql2.MaxPowerDigits. The parser's limits on literals and operators keep
// everything else inside numeric's range.
func (c *compiler) arithmetic(e *cql2.Arithmetic) {
	operand := func(o cql2.Expr) {
		if p, ok := o.(*cql2.Property); ok {
			c.scalar(p)
			c.text("::numeric")
			return
		}
		c.scalar(o)
	}
	switch e.Op {
	case "+", "-", "*":
		c.text("(")
		operand(e.Left)
		c.text(" " + e.Op + " ")
		operand(e.Right)
		c.text(")")
	case "/":
		c.text("(")
		operand(e.Left)
		c.text(" / NULLIF(")
		operand(e.Right)
		c.text(", 0))")
	case "%", "div":
		fn := map[string]string{"%": "mod", "div": "div"}[e.Op]
		c.text(fn + "(")
		operand(e.Left)
		c.text(", NULLIF(")
		operand(e.Right)
		c.text(", 0))")
	case "^":
		// Each operand is written once, in a sub-select, so nested powers
		// do not multiply the statement's size.
		c.text("(SELECT CASE WHEN p.b = 0 THEN CASE WHEN p.e > 0 THEN 0::numeric WHEN p.e = 0 THEN 1::numeric END" +
			" WHEN p.b < 0 AND p.e <> trunc(p.e) THEN NULL" +
			" WHEN p.e * log(abs(p.b)) > " + strconv.Itoa(cql2.MaxPowerDigits) + " THEN NULL" +
			" ELSE power(p.b, p.e) END FROM (SELECT ")
		operand(e.Left)
		c.text(" AS b, ")
		operand(e.Right)
		c.text(" AS e) p)")
	}
}

// geometry writes a geometry: the layer's geometry column in the filter's
// CRS, or a literal as a bound GeoJSON or envelope argument. Polygonal
// literals pass through ST_MakeValid, so a self-intersecting polygon drawn
// in a client is read as PostGIS repairs it, never as an error.
func (c *compiler) geometry(e cql2.Expr) error {
	srid := strconv.Itoa(c.crs.SRID)
	switch e := e.(type) {
	case *cql2.Property:
		col, _, err := c.property(e)
		if err != nil {
			return err
		}
		c.column(col)
	case *cql2.BBox:
		b := e.Value
		if err := c.inCRS(e.At, orb.MultiPoint{b.Min, b.Max}); err != nil {
			return err
		}
		c.text("ST_MakeEnvelope(")
		for i, v := range []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]} {
			if i > 0 {
				c.text(", ")
			}
			c.arg(v, "float8")
		}
		c.text(", " + srid + ")")
	case *cql2.Geometry:
		if err := c.inCRS(e.At, e.Value); err != nil {
			return err
		}
		gj, err := geojson.NewGeometry(e.Value).MarshalJSON()
		if err != nil {
			return cql2.Errorf(e.At, "", "cannot encode the geometry: %v", err)
		}
		valid := false
		switch e.Value.(type) {
		case orb.Polygon, orb.MultiPolygon, orb.Collection:
			valid = true
		}
		if valid {
			c.text("ST_MakeValid(")
		}
		c.text("ST_SetSRID(ST_GeomFromGeoJSON(")
		c.arg(string(gj), "text")
		c.text("), " + srid + ")")
		if valid {
			c.text(")")
		}
	}
	return nil
}

// inCRS checks that a literal's coordinates can be in the filter's CRS:
// longitude and latitude for CRS84.
func (c *compiler) inCRS(at cql2.Pos, g orb.Geometry) error {
	if c.crs.SRID != geo.CRS84.SRID {
		return nil
	}
	var bad *orb.Point
	eachPoint(g, func(p orb.Point) {
		if bad == nil && (math.Abs(p[0]) > 180 || math.Abs(p[1]) > 90) {
			bad = &p
		}
	})
	if bad != nil {
		return cql2.Errorf(at, "for British National Grid coordinates give filter-crs="+geo.BNG.URI,
			"coordinate (%g %g) is not a longitude and latitude (CRS84)", bad[0], bad[1])
	}
	return nil
}

func eachPoint(g orb.Geometry, f func(orb.Point)) {
	switch g := g.(type) {
	case orb.Point:
		f(g)
	case orb.MultiPoint:
		for _, p := range g {
			f(p)
		}
	case orb.LineString:
		eachPoint(orb.MultiPoint(g), f)
	case orb.MultiLineString:
		for _, l := range g {
			eachPoint(orb.MultiPoint(l), f)
		}
	case orb.Polygon:
		for _, r := range g {
			eachPoint(orb.MultiPoint(r), f)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			eachPoint(p, f)
		}
	case orb.Collection:
		for _, m := range g {
			eachPoint(m, f)
		}
	}
}

// boroughCode is a local authority district code (E08000010).
var boroughCode = regexp.MustCompile(`^[EWSN][0-9]{8}$`)

// ErrBadBorough means a borough code is not a local authority district
// code.
var ErrBadBorough = errors.New("a borough is a local authority district code, such as E08000010")

// BoroughPredicate selects the features of the given boroughs (every layer
// has lad_code), for ?borough= on items, tiles and lists.
func BoroughPredicate(codes []string) (*Predicate, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	for _, c := range codes {
		if !boroughCode.MatchString(c) {
			return nil, fmt.Errorf("%w: %q", ErrBadBorough, c)
		}
	}
	sorted := append([]string(nil), codes...)
	sort.Strings(sorted)
	return &Predicate{
		parts: []sqlPart{{kind: 'c', text: pgx.Identifier{"lad_code"}.Sanitize()}, {kind: 't', text: " = ANY("},
			{kind: 'a', arg: sorted}, {kind: 't', text: ")"}},
		key: "borough:" + strings.Join(sorted, ","),
	}, nil
}

// And is both predicates (either may be nil).
func And(a, b *Predicate) *Predicate {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	parts := append([]sqlPart{{kind: 't', text: "("}}, a.parts...)
	parts = append(parts, sqlPart{kind: 't', text: ") AND ("})
	parts = append(parts, b.parts...)
	parts = append(parts, sqlPart{kind: 't', text: ")"})
	return &Predicate{parts: parts, key: a.key + " AND " + b.key}
}
