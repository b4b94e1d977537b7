package data

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"nbhd/geo"
)

// ErrNotFound means the requested feature does not exist.
var ErrNotFound = errors.New("not found")

// Parse converts a request value to the field's type, so filters bind typed
// arguments and a malformed value is the caller's error, not the database's.
func (f Field) Parse(s string) (any, error) {
	switch f.Type {
	case Integer:
		bits := f.bits()
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, bits)
		if err != nil {
			lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
			return nil, fmt.Errorf("%s must be a whole number from %d to %d, got %q", f.Name, lo, hi, s)
		}
		return v, nil
	case Number:
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s must be a finite number, got %q", f.Name, s)
		}
		return v, nil
	case Boolean:
		v, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%s must be true or false, got %q", f.Name, s)
		}
		return v, nil
	case Date:
		v, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%s must be a date (YYYY-MM-DD), got %q", f.Name, s)
		}
		return v, nil
	}
	return s, nil
}

// bits is the size of an integer field's column: a filter value outside
// it is refused before it reaches PostgreSQL.
func (f Field) bits() int {
	if f.Bits == 0 {
		return 64
	}
	return f.Bits
}

// Filter is an equality test on a queryable field, with a typed value.
type Filter struct {
	Field string
	Value any
}

// Sort orders features by a queryable field.
type Sort struct {
	Field string
	Desc  bool
}

// FeatureQuery selects features of one layer. The caller has checked every
// field name against the layer; unknown names are ignored here.
type FeatureQuery struct {
	// BBox is empty, or one box, or two for a box across the antimeridian
	// (geo.ParseBBoxes): features intersecting any of them.
	BBox       []orb.Bound
	BBoxCRS    geo.CRS
	CRS        geo.CRS
	Filters    []Filter
	Where      *Predicate // a compiled CQL2 filter, or nil
	Properties []string   // nil selects every field
	SortBy     []Sort
	Limit      int
	Offset     int
}

// Shape is the form each streamed row takes.
type Shape int

const (
	// GeoJSONRows gives one column: the feature as GeoJSON text.
	GeoJSONRows Shape = iota
	// TableRows gives the id, then each selected property as text, then
	// lon and lat (x, y) for points or WKT for other geometries.
	TableRows
)

// geomColumn is the view column holding geometry in crs.
func geomColumn(crs geo.CRS) string {
	if crs.SRID == geo.BNG.SRID {
		return "geom_bng"
	}
	return "geom"
}

// Columns are the selected fields in layer order.
func (l *Layer) Columns(names []string) []Field {
	if names == nil {
		return l.Fields
	}
	var out []Field
	for _, f := range l.Fields {
		for _, n := range names {
			if n == f.Name {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// where builds the scope, bbox and filter conditions.
func (l *Layer) where(q FeatureQuery, args []any) (string, []any) {
	where, args := l.scope(args)
	var b strings.Builder
	b.WriteString(where)
	for i, box := range q.BBox {
		args = append(args, box.Min[0], box.Min[1], box.Max[0], box.Max[1])
		n := len(args)
		switch {
		case len(q.BBox) == 1:
			b.WriteString(" AND ")
		case i == 0:
			b.WriteString(" AND (")
		default:
			b.WriteString(" OR ")
		}
		fmt.Fprintf(&b, "ST_Intersects(t.%s, ST_MakeEnvelope($%d, $%d, $%d, $%d, %d))",
			pgx.Identifier{geomColumn(q.BBoxCRS)}.Sanitize(), n-3, n-2, n-1, n, q.BBoxCRS.SRID)
		if len(q.BBox) > 1 && i == len(q.BBox)-1 {
			b.WriteString(")")
		}
	}
	for _, f := range q.Filters {
		fd, ok := l.Field(f.Field)
		if !ok || !fd.Queryable {
			continue
		}
		args = append(args, f.Value)
		fmt.Fprintf(&b, " AND t.%s = $%d", pgx.Identifier{fd.Name}.Sanitize(), len(args))
	}
	if q.Where != nil {
		var sql string
		sql, args = q.Where.SQL("t", args)
		b.WriteString(" AND " + sql)
	}
	return b.String(), args
}

func (l *Layer) orderBy(q FeatureQuery) string {
	var parts []string
	for _, s := range q.SortBy {
		fd, ok := l.Field(s.Field)
		if !ok || !fd.Queryable {
			continue
		}
		dir := "ASC NULLS LAST"
		if s.Desc {
			dir = "DESC NULLS LAST"
		}
		parts = append(parts, "t."+pgx.Identifier{fd.Name}.Sanitize()+" "+dir)
	}
	parts = append(parts, "t."+pgx.Identifier{l.Key}.Sanitize())
	return "ORDER BY " + strings.Join(parts, ", ")
}

// selectList is the SELECT expression list for a shape.
func (l *Layer) selectList(shape Shape, q FeatureQuery, args []any) (string, []any) {
	cols := l.Columns(q.Properties)
	g := "t." + pgx.Identifier{geomColumn(q.CRS)}.Sanitize()
	key := "t." + pgx.Identifier{l.Key}.Sanitize()
	if shape == TableRows {
		parts := []string{key + "::text"}
		for _, f := range cols {
			parts = append(parts, "t."+pgx.Identifier{f.Name}.Sanitize()+"::text")
		}
		if l.GeometryType == "Point" {
			parts = append(parts,
				fmt.Sprintf("round(ST_X(%s)::numeric, %d)::text", g, q.CRS.Decimals),
				fmt.Sprintf("round(ST_Y(%s)::numeric, %d)::text", g, q.CRS.Decimals))
		} else {
			parts = append(parts, fmt.Sprintf("ST_AsText(%s, %d)", g, q.CRS.Decimals))
		}
		return strings.Join(parts, ", "), args
	}
	// GeoJSON assembled by PostgreSQL as compact text in field order (the
	// geometries without a crs member of their own: options 0), with
	// property keys as bound arguments, so output bytes are stable.
	var props strings.Builder
	props.WriteString(`'{'`)
	for i, f := range cols {
		args = append(args, f.Name)
		sep := ""
		if i > 0 {
			sep = ","
		}
		fmt.Fprintf(&props, ` || '%s' || to_json($%d::text)::text || ':' || coalesce(to_json(t.%s)::text, 'null')`,
			sep, len(args), pgx.Identifier{f.Name}.Sanitize())
	}
	props.WriteString(` || '}'`)
	geometry := fmt.Sprintf("ST_AsGeoJSON(%s, %d, 0)", g, q.CRS.Decimals)
	if l.StoredGeoJSON && q.CRS == geo.CRS84 {
		geometry = "t.geojson"
	}
	return fmt.Sprintf(`'{"type":"Feature","id":' || to_json(%s)::text || ',"geometry":' || %s || ',"properties":' || %s || '}'`,
		key, geometry, props.String()), args
}

// Features streams the features q selects, one row at a time, to emit. The
// row's values alias pgx's buffer and are valid only during the call. The
// query runs under ctx: a client that goes away cancels it.
func (s *Store) Features(ctx context.Context, a Access, l *Layer, q FeatureQuery, shape Shape, emit func(row [][]byte) error) error {
	sel, args := l.selectList(shape, q, nil)
	scope, _ := l.scope(args) // the same placeholders as where's own scope
	where, args := l.where(q, args)
	args = append(args, q.Limit, q.Offset)
	view, order := l.View.Sanitize(), l.orderBy(q)
	sql := fmt.Sprintf("SELECT %s FROM %s t %s %s LIMIT $%d OFFSET $%d",
		sel, view, where, order, len(args)-1, len(args))
	if l.StoredGeoJSON {
		// A published table's rows are wide (GeoJSON and geometry per
		// zoom band): page by key first, from the index alone, then read
		// only the rows of the page. Asked in one, the planner read and
		// sorted the whole table for every page of England's small areas.
		key := pgx.Identifier{l.Key}.Sanitize()
		sql = fmt.Sprintf("SELECT %s FROM %s t JOIN (SELECT t.%s AS page_key FROM %s t %s %s LIMIT $%d OFFSET $%d) k ON t.%s = k.page_key %s %s",
			sel, view, key, view, where, order, len(args)-1, len(args), key, scope, order)
	}
	return s.stream(ctx, a, sql, args, emit)
}

// Feature streams the one feature with the given id, or returns ErrNotFound.
func (s *Store) Feature(ctx context.Context, a Access, l *Layer, id string, q FeatureQuery, shape Shape, emit func(row [][]byte) error) error {
	sel, args := l.selectList(shape, q, nil)
	where, args := l.scope(args)
	args = append(args, id)
	sql := fmt.Sprintf("SELECT %s FROM %s t %s AND t.%s = $%d", sel, l.View.Sanitize(), where,
		pgx.Identifier{l.Key}.Sanitize(), len(args))
	found := false
	err := s.stream(ctx, a, sql, args, func(row [][]byte) error {
		found = true
		return emit(row)
	})
	if err == nil && !found {
		return ErrNotFound
	}
	return err
}

// CountFeatures counts the features q matches, ignoring limit and offset.
func (s *Store) CountFeatures(ctx context.Context, a Access, l *Layer, q FeatureQuery) (int64, error) {
	where, args := l.where(q, nil)
	var n int64
	err := s.pool(a).QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM %s t %s", l.View.Sanitize(), where), args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", l.ID, err)
	}
	return n, nil
}

func (s *Store) stream(ctx context.Context, a Access, sql string, args []any, emit func([][]byte) error) error {
	rows, err := s.pool(a).Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("query features: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := emit(rows.RawValues()); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read features: %w", err)
	}
	return nil
}
