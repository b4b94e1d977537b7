package data

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Row is a generic result row: column names and values in order, for the
// tabular endpoints that serve both JSON and CSV.
type Row struct {
	Columns []string
	Values  []any
}

// RowFunc receives one row of a streamed result. Its Values are its own;
// Columns is shared by every row of the result.
type RowFunc func(Row) error

// columnNames are a result's column names in order.
func columnNames(rows pgx.Rows) []string {
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	return cols
}

// eachRow passes a query's rows to emit one at a time.
func eachRow(rows pgx.Rows, emit RowFunc) error {
	defer rows.Close()
	cols := columnNames(rows)
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			return err
		}
		if err := emit(Row{Columns: cols, Values: v}); err != nil {
			return err
		}
	}
	return rows.Err()
}

// rowsOf collects a query's rows with their column names (for results
// bounded by their query, such as one neighbourhood's outreach list).
func rowsOf(rows pgx.Rows) ([]Row, error) {
	var out []Row
	err := eachRow(rows, func(r Row) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// Headlines streams a set's neighbourhoods (of the given boroughs; all
// when none is given), with their headline indicators, to emit.
func (s *Store) Headlines(ctx context.Context, set string, boroughs []string, emit RowFunc) error {
	rows, err := s.public.Query(ctx, `SELECT code, name, lad_code, borough, population, chaotic::float8, chaotic_per_1000::float8, chaotic_suppressed,
		just_coping::float8, just_coping_per_1000::float8, just_coping_suppressed, demand_source,
		deprived_10pct_share::float8, deprived_20pct_share::float8, worst_domain,
		assets, assets_per_1000::float8, gp_practices, gp_patients, schools,
		access_asset_pct::float8, access_gp_pct::float8, access_school_pct::float8,
		label_lon::float8, label_lat::float8
		FROM api.neighbourhoods WHERE set_id = $1 AND (coalesce(cardinality($2::text[]), 0) = 0 OR lad_code = ANY($2)) ORDER BY code`,
		set, boroughs)
	if err != nil {
		return fmt.Errorf("read headlines: %w", err)
	}
	if err := eachRow(rows, emit); err != nil {
		return fmt.Errorf("read headlines: %w", err)
	}
	return nil
}

const hoodGapsSQL = `WITH g AS (
	  SELECT code, name, population, demand_source,
	         chaotic::float8 AS chaotic, just_coping::float8 AS just_coping,
	         (chaotic + just_coping)::float8 AS demand, assets,
	         round((chaotic + just_coping) / nullif(assets, 0), 2)::float8 AS demand_per_asset,
	         (100 - access_asset_pct)::float8 AS access_shortfall_pct
	  FROM api.neighbourhoods WHERE set_id = $1 AND (coalesce(cardinality($2::text[]), 0) = 0 OR lad_code = ANY($2)))
	SELECT *, CASE WHEN demand IS NULL THEN NULL ELSE
	         rank() OVER (ORDER BY (assets = 0) DESC, demand_per_asset DESC NULLS LAST) END AS rank_demand_per_asset,
	       rank() OVER (ORDER BY access_shortfall_pct DESC NULLS LAST) AS rank_access_shortfall
	FROM g ORDER BY rank_demand_per_asset NULLS LAST, code`

const areaGapsSQL = `WITH g AS (
	  SELECT sa.code, sa.name, m.neighbourhood_code AS neighbourhood, sa.population, sa.demand_source,
	         sa.chaotic_estimate::float8 AS chaotic, sa.just_coping_estimate::float8 AS just_coping,
	         (sa.chaotic_estimate + sa.just_coping_estimate)::float8 AS demand,
	         sa.assets_within_reach AS assets_within_reach,
	         round(((sa.chaotic_estimate + sa.just_coping_estimate) / nullif(sa.assets_within_reach, 0))::numeric, 2)::float8 AS demand_per_asset,
	         (100 - sa.access_asset_pct)::float8 AS access_shortfall_pct
	  FROM api.small_areas sa
	  LEFT JOIN api.neighbourhood_members m ON m.small_area_code = sa.code AND m.set_id = $1
	  WHERE coalesce(cardinality($2::text[]), 0) = 0 OR sa.lad_code = ANY($2))
	SELECT *, rank() OVER (ORDER BY (assets_within_reach = 0) DESC, demand_per_asset DESC NULLS LAST) AS rank_demand_per_asset,
	       rank() OVER (ORDER BY access_shortfall_pct DESC NULLS LAST) AS rank_access_shortfall
	FROM g ORDER BY rank_demand_per_asset, code`

// AssetGaps ranks a set's neighbourhoods and the borough's small areas by
// demand per community asset and by access shortfall, with the
// components. It first tells columns both results' column names (a CSV
// writer needs its header before any row), then streams the
// neighbourhoods to hood and the small areas to area, on one connection.
func (s *Store) AssetGaps(ctx context.Context, set string, boroughs []string, columns func(hoods, areas []string) error, hood, area RowFunc) error {
	c, err := s.public.acquire(ctx)
	if err != nil {
		return fmt.Errorf("asset gaps: %w", err)
	}
	defer c.Release()
	var names [2][]string
	for i, sql := range []string{hoodGapsSQL, areaGapsSQL} {
		// Named by their text, as pgx runs a prepared statement whose name
		// is the query it is given.
		sd, err := c.Conn().Prepare(ctx, sql, sql)
		if err != nil {
			return fmt.Errorf("asset gaps: %w", err)
		}
		for _, f := range sd.Fields {
			names[i] = append(names[i], f.Name)
		}
	}
	if err := columns(names[0], names[1]); err != nil {
		return err
	}
	rows, err := c.Query(ctx, hoodGapsSQL, set, boroughs)
	if err != nil {
		return fmt.Errorf("read neighbourhood gaps: %w", err)
	}
	if err := eachRow(rows, hood); err != nil {
		return fmt.Errorf("read neighbourhood gaps: %w", err)
	}
	rows, err = c.Query(ctx, areaGapsSQL, set, boroughs)
	if err != nil {
		return fmt.Errorf("read small-area gaps: %w", err)
	}
	if err := eachRow(rows, area); err != nil {
		return fmt.Errorf("read small-area gaps: %w", err)
	}
	return nil
}

// Outreach lists, for staff, the small areas of one neighbourhood ranked by
// priority score, with the score's components and the nearest community
// assets, GP practice and school. It returns ErrNotFound for an unknown
// neighbourhood.
func (s *Store) Outreach(ctx context.Context, set, code string) ([]Row, error) {
	var ok bool
	if err := s.staff.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM nbhd.neighbourhoods WHERE set_id = $1 AND code = $2)", set, code).Scan(&ok); err != nil {
		return nil, fmt.Errorf("check neighbourhood: %w", err)
	}
	if !ok {
		return nil, ErrNotFound
	}
	rows, err := s.staff.Query(ctx, `SELECT p.code, sa.name, p.score::float8 AS score, rank() OVER (ORDER BY p.score DESC) AS rank,
		  p.population, p.imd_decile,
		  round(p.just_coping::numeric, 1)::float8 AS just_coping, round(p.just_coping_rate::numeric, 2)::float8 AS just_coping_per_1000,
		  p.just_coping_source, p.just_coping_period,
		  round(p.chaotic::numeric, 1)::float8 AS chaotic, round(p.chaotic_rate::numeric, 2)::float8 AS chaotic_per_1000,
		  p.chaotic_source, p.chaotic_period,
		  round((100 * p.access_shortfall)::numeric, 2)::float8 AS access_shortfall_pct,
		  round(p.just_coping_component::numeric, 4)::float8 AS just_coping_component,
		  round(p.chaotic_component::numeric, 4)::float8 AS chaotic_component,
		  round(p.access_component::numeric, 4)::float8 AS access_component,
		  round(p.deprivation_component::numeric, 4)::float8 AS deprivation_component,
		  a.assets, gp.code AS gp_code, gp.name AS gp_name, gp.d AS gp_distance_m,
		  sc.name AS school_name, sc.phase AS school_phase, sc.d AS school_distance_m
		FROM staff.small_area_priority p
		JOIN nbhd.neighbourhood_members m ON m.small_area_code = p.code AND m.set_id = $1 AND m.neighbourhood_code = $2
		JOIN nbhd.small_areas sa ON sa.code = p.code
		LEFT JOIN LATERAL (SELECT json_agg(json_build_object('id', x.id, 'name', x.name, 'category', x.category,
		    'distance_m', x.d) ORDER BY x.d, x.id) AS assets
		  FROM (SELECT a.id, a.name, a.category, round(ST_Distance(a.geom_bng, p.centre_bng))::integer AS d
		        FROM nbhd.community_assets a ORDER BY a.geom_bng <-> p.centre_bng, a.id LIMIT 3) x) a ON true
		LEFT JOIN LATERAL (SELECT g.code, g.name, round(ST_Distance(g.geom_bng, p.centre_bng))::integer AS d
		  FROM nbhd.gp_practices g ORDER BY g.geom_bng <-> p.centre_bng, g.code LIMIT 1) gp ON true
		LEFT JOIN LATERAL (SELECT c.name, c.phase, round(ST_Distance(c.geom_bng, p.centre_bng))::integer AS d
		  FROM nbhd.schools c ORDER BY c.geom_bng <-> p.centre_bng, c.id LIMIT 1) sc ON true
		ORDER BY p.score DESC, p.code`, set, code)
	if err != nil {
		return nil, fmt.Errorf("read outreach list: %w", err)
	}
	return rowsOf(rows)
}
