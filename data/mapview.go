package data

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// What the map viewer reads beyond the public layers: one indicator's
// values across a neighbourhood set (so it can colour neighbourhoods by any
// indicator the profiles have, including one added later in SQL alone),
// the indicators a set has, and where each borough lies.

// NeighbourhoodValue is one neighbourhood's published value of one
// indicator, at its default (latest) vintage.
type NeighbourhoodValue struct {
	Code       string   `json:"code"`
	Value      *float64 `json:"value"`
	Suppressed bool     `json:"suppressed,omitempty"`
	Source     string   `json:"source,omitempty"`
	Method     string   `json:"method,omitempty"`
	Period     string   `json:"period,omitempty"`
}

// SetValues reads an indicator's value for every neighbourhood of a set
// (of the given boroughs only, when any are given), in code order. A
// neighbourhood without a value has a null one, except for a family member
// (asset:library), which is zero there, as in the profile.
func (s *Store) SetValues(ctx context.Context, set, indicator string, boroughs []string) ([]NeighbourhoodValue, error) {
	rows, err := s.public.Query(ctx, `SELECT n.code,
		  CASE WHEN v.code IS NULL AND $3 THEN 0 ELSE v.value::float8 END,
		  coalesce(v.suppressed, false), coalesce(v.source, ''), coalesce(v.method, ''), coalesce(v.period, '')
		FROM api.neighbourhoods n
		LEFT JOIN api.neighbourhood_indicators v ON v.set_id = n.set_id AND v.code = n.code AND v.indicator = $2 AND v.vintage = ''
		WHERE n.set_id = $1 AND (coalesce(cardinality($4::text[]), 0) = 0 OR n.lad_code = ANY($4))
		ORDER BY n.code COLLATE "C"`, set, indicator, strings.Contains(indicator, ":"), boroughs)
	if err != nil {
		return nil, fmt.Errorf("read set values: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NeighbourhoodValue, error) {
		var v NeighbourhoodValue
		err := r.Scan(&v.Code, &v.Value, &v.Suppressed, &v.Source, &v.Method, &v.Period)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("read set values: %w", err)
	}
	return out, nil
}

// SetIndicators lists the indicators a set's neighbourhoods (of the given
// boroughs, when any are given) have values for, by id: the members of
// families (asset:library, school:primary) among them.
func (s *Store) SetIndicators(ctx context.Context, set string, boroughs []string) ([]string, error) {
	rows, err := s.public.Query(ctx, `SELECT DISTINCT indicator COLLATE "C" FROM api.neighbourhood_indicators
		WHERE set_id = $1 AND (coalesce(cardinality($2::text[]), 0) = 0 OR lad_code = ANY($2))
		ORDER BY 1`, set, boroughs)
	if err != nil {
		return nil, fmt.Errorf("list set indicators: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list set indicators: %w", err)
	}
	return out, nil
}

// BoroughExtent is the lon/lat bounding box of a borough's small areas:
// [west, south, east, north].
type BoroughExtent struct {
	Code string     `json:"code"`
	BBox [4]float64 `json:"bbox"`
}

// BoroughExtents is where each loaded borough lies, in code order.
func (s *Store) BoroughExtents(ctx context.Context) ([]BoroughExtent, error) {
	rows, err := s.public.Query(ctx, `SELECT lad_code,
		  round(ST_XMin(e)::numeric, 6)::float8, round(ST_YMin(e)::numeric, 6)::float8,
		  round(ST_XMax(e)::numeric, 6)::float8, round(ST_YMax(e)::numeric, 6)::float8
		FROM (SELECT lad_code, ST_Extent(geom) AS e FROM api.small_areas WHERE lad_code IS NOT NULL GROUP BY lad_code) x
		ORDER BY lad_code COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("borough extents: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BoroughExtent, error) {
		var b BoroughExtent
		err := r.Scan(&b.Code, &b.BBox[0], &b.BBox[1], &b.BBox[2], &b.BBox[3])
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("borough extents: %w", err)
	}
	return out, nil
}
