package data

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// GrantFilter narrows the grants an investment figure counts: a funder
// (its 360Giving identifier or name) and a programme (code or title), in
// any case, and an award-date period, both ends included. The zero value
// counts every grant loaded.
type GrantFilter struct {
	Funder, Programme string
	From, To          time.Time
}

// args are the filter's query arguments $3..$6.
func (f GrantFilter) args() []any {
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	return []any{strings.ToLower(strings.TrimSpace(f.Funder)), strings.ToLower(strings.TrimSpace(f.Programme)), from, to}
}

// grantsWhere picks the filtered grants from api.grants (alias g) by the
// arguments $3..$6.
const grantsWhere = `($3 = '' OR lower(g.funder_id) = $3 OR lower(g.funder_name) = $3)
	AND ($4 = '' OR lower(g.programme_code) = $4 OR lower(g.programme_title) = $4)
	AND ($5::date IS NULL OR g.award_date >= $5::date) AND ($6::date IS NULL OR g.award_date <= $6::date)`

// investmentSQL lists a set's neighbourhoods (of the given boroughs) with
// the filtered grants placed in them, per resident and per just-coping
// resident as published, and ranks them: rank 1 is the lowest investment
// per just-coping resident, ties broken by the higher just-coping rate
// (demand high, investment low). Neighbourhoods whose just-coping count is
// withheld or zero are not ranked.
const investmentSQL = `WITH g AS (
	  SELECT g.id FROM api.grants g WHERE ` + grantsWhere + `
	), given AS (
	  SELECT m.neighbourhood_code AS code, count(DISTINCT p.grant_id) AS grants, round(sum(p.amount), 2) AS amount
	  FROM g JOIN api.grant_places p ON p.grant_id = g.id
	  JOIN api.neighbourhood_members m ON m.small_area_code = p.small_area_code AND m.set_id = $1
	  GROUP BY m.neighbourhood_code
	), n AS (
	  SELECT n.code, n.name, n.lad_code, n.borough, n.population, n.just_coping, n.just_coping_per_1000,
	         n.just_coping_suppressed, n.demand_source,
	         coalesce(v.grants, 0) AS grants, coalesce(v.amount, 0) AS amount,
	         round(coalesce(v.amount, 0) / nullif(n.just_coping, 0), 2) AS amount_per_just_coping
	  FROM api.neighbourhoods n LEFT JOIN given v ON v.code = n.code
	  WHERE n.set_id = $1 AND (coalesce(cardinality($2::text[]), 0) = 0 OR n.lad_code = ANY($2))
	)
	SELECT code, name, lad_code, borough, population,
	       just_coping::float8 AS just_coping, just_coping_per_1000::float8 AS just_coping_per_1000,
	       just_coping_suppressed, demand_source,
	       grants, amount::float8 AS amount,
	       round(1000.0 * grants / nullif(population, 0), 2)::float8 AS grants_per_1000,
	       round(amount / nullif(population, 0), 2)::float8 AS amount_per_resident,
	       round(1000.0 * grants / nullif(just_coping, 0), 2)::float8 AS grants_per_1000_just_coping,
	       amount_per_just_coping::float8 AS amount_per_just_coping,
	       CASE WHEN amount_per_just_coping IS NOT NULL THEN
	         rank() OVER (ORDER BY amount_per_just_coping NULLS LAST, just_coping_per_1000 DESC NULLS LAST) END AS rank
	FROM n ORDER BY rank NULLS LAST, code`

// comparatorSQL gives the same figures for each borough of the listed
// neighbourhoods and for England (the loaded boroughs), against the
// borough's published just-coping count; England's is shown only where
// every borough's count is estimated (recorded demand is compared within
// its own borough only).
const investmentComparatorSQL = `WITH g AS (
	  SELECT g.id FROM api.grants g WHERE ` + grantsWhere + `
	), lads AS (
	  SELECT DISTINCT n.lad_code FROM api.neighbourhoods n
	  WHERE n.set_id = $1 AND n.lad_code IS NOT NULL AND (coalesce(cardinality($2::text[]), 0) = 0 OR n.lad_code = ANY($2))
	), given AS (
	  SELECT p.lad_code, count(DISTINCT p.grant_id) AS grants, round(sum(p.amount), 2) AS amount
	  FROM g JOIN api.grant_places p ON p.grant_id = g.id GROUP BY p.lad_code
	), b AS (
	  SELECT 'borough' AS scope, b.code, b.name, b.population, jc.value AS just_coping, jc.source AS demand_source,
	         coalesce(v.grants, 0) AS grants, coalesce(v.amount, 0) AS amount
	  FROM api.boroughs b
	  LEFT JOIN given v ON v.lad_code = b.code
	  LEFT JOIN api.comparators jc ON jc.scope = 'borough' AND jc.scope_code = b.code AND jc.indicator = 'just_coping' AND jc.vintage = ''
	), e AS (
	  SELECT 'england' AS scope, 'E92000001' AS code, 'England (loaded boroughs)' AS name, sum(b.population) AS population,
	         CASE WHEN bool_and(b.demand_source = 'estimated') THEN sum(b.just_coping) END AS just_coping,
	         CASE WHEN bool_and(b.demand_source = 'estimated') THEN 'estimated' ELSE 'not shown: recorded demand is compared within its own borough only' END,
	         (SELECT count(DISTINCT p.grant_id) FROM g JOIN api.grant_places p ON p.grant_id = g.id WHERE p.lad_code LIKE 'E%') AS grants,
	         sum(b.amount) AS amount
	  FROM b WHERE b.code LIKE 'E%'
	)
	SELECT scope, code, name, population, just_coping::float8 AS just_coping, demand_source, grants, amount::float8 AS amount,
	       round(1000.0 * grants / nullif(population, 0), 2)::float8 AS grants_per_1000,
	       round(amount / nullif(population, 0), 2)::float8 AS amount_per_resident,
	       round(1000.0 * grants / nullif(just_coping, 0), 2)::float8 AS grants_per_1000_just_coping,
	       round(amount / nullif(just_coping, 0), 2)::float8 AS amount_per_just_coping
	FROM (SELECT * FROM b WHERE b.code IN (SELECT lad_code FROM lads) UNION ALL SELECT * FROM e WHERE e.population IS NOT NULL) x
	ORDER BY scope, code`

// Investment streams a set's neighbourhoods (of the given boroughs; all
// when none) with the grants placed in them and their rank (investmentSQL)
// to hood, then the boroughs and England to comparator, on one connection.
func (s *Store) Investment(ctx context.Context, set string, boroughs []string, f GrantFilter, hood, comparator RowFunc) error {
	c, err := s.public.acquire(ctx)
	if err != nil {
		return fmt.Errorf("investment: %w", err)
	}
	defer c.Release()
	args := append([]any{set, boroughs}, f.args()...)
	rows, err := c.Query(ctx, investmentSQL, args...)
	if err != nil {
		return fmt.Errorf("read investment: %w", err)
	}
	if err := eachRow(rows, hood); err != nil {
		return fmt.Errorf("read investment: %w", err)
	}
	rows, err = c.Query(ctx, investmentComparatorSQL, args...)
	if err != nil {
		return fmt.Errorf("read investment comparators: %w", err)
	}
	if err := eachRow(rows, comparator); err != nil {
		return fmt.Errorf("read investment comparators: %w", err)
	}
	return nil
}
