-- Neighbourhood insight: settings, the demand model, derived statistics,
-- disclosure-controlled demand, profiles' indicators, staff keys and audit.
-- docs/methodology.md explains every rule here in words.

-- Per-borough settings, with safe defaults.
CREATE TABLE nbhd.settings (
  key   text PRIMARY KEY,
  value jsonb NOT NULL
);
INSERT INTO nbhd.settings VALUES
 ('demand_model', '{
    "method": "nbhd-demand-1: deprivation-weighted apportionment of borough totals",
    "shares": {"chaotic": 0.03, "just_coping": 0.22},
    "steepness": {"chaotic": 2.0, "just_coping": 1.0},
    "weights": {
      "chaotic": {"health": 0.35, "crime": 0.25, "income": 0.2, "employment": 0.2},
      "just_coping": {"income": 0.5, "employment": 0.3, "education": 0.2}
    }
  }'),
 ('disclosure', '{"min_count": 10, "rounding": 5, "min_neighbourhood_population": 3000}'),
 ('access', '{"distance_m": 800}'),
 ('priority', '{"weights": {"just_coping_rate": 0.4, "chaotic_rate": 0.2, "access_shortfall": 0.2, "deprivation": 0.2}}');

-- Estimates have no dataset of their own: their provenance is the model,
-- its parameters and the datasets it reads, stored on every row.
ALTER TABLE nbhd.demand ALTER COLUMN dataset_id DROP NOT NULL;
ALTER TABLE nbhd.demand ADD CONSTRAINT demand_estimates_have_no_dataset
  CHECK ((kind = 'estimated') = (dataset_id IS NULL));
ALTER TABLE nbhd.demand ADD CONSTRAINT demand_period_format
  CHECK (period ~ '^(mid-)?[0-9]{4}([-/][0-9A-Za-z]{1,4})?$');

-- refresh_estimates rewrites the estimated demand of every small area that
-- has a population and deprivation ranks. See docs/methodology.md.
CREATE FUNCTION nbhd.refresh_estimates() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  model jsonb := (SELECT value FROM nbhd.settings WHERE key = 'demand_model');
  n integer;
BEGIN
  DELETE FROM nbhd.demand WHERE kind = 'estimated';
  WITH base AS (
    SELECT sa.code, p.population, p.period,
           -- deprivation percentile per domain: 1 = most deprived in England, 0 = least
           (32844 - d.imd_rank)::float8 / 32843        AS imd,
           (32844 - coalesce(d.income_rank, d.imd_rank))::float8 / 32843     AS income,
           (32844 - coalesce(d.employment_rank, d.imd_rank))::float8 / 32843 AS employment,
           (32844 - coalesce(d.education_rank, d.imd_rank))::float8 / 32843  AS education,
           (32844 - coalesce(d.health_rank, d.imd_rank))::float8 / 32843     AS health,
           (32844 - coalesce(d.crime_rank, d.imd_rank))::float8 / 32843      AS crime,
           (32844 - coalesce(d.barriers_rank, d.imd_rank))::float8 / 32843   AS barriers,
           (32844 - coalesce(d.living_env_rank, d.imd_rank))::float8 / 32843 AS living_env
    FROM nbhd.small_areas sa
    JOIN nbhd.small_area_population p ON p.code = sa.code
    JOIN nbhd.deprivation d ON d.code = sa.code
    WHERE d.imd_rank IS NOT NULL
  ), segment AS (
    SELECT s AS segment,
           (model->'shares'->>s)::float8 AS share,
           (model->'steepness'->>s)::float8 AS steepness,
           model->'weights'->s AS w
    FROM jsonb_object_keys(model->'shares') AS s
  ), scored AS (
    SELECT b.code, b.population, b.period, g.segment, g.share,
           -- the segment's deprivation index: a weighted mean of domain percentiles
           (coalesce((g.w->>'imd')::float8, 0) * b.imd
            + coalesce((g.w->>'income')::float8, 0) * b.income
            + coalesce((g.w->>'employment')::float8, 0) * b.employment
            + coalesce((g.w->>'education')::float8, 0) * b.education
            + coalesce((g.w->>'health')::float8, 0) * b.health
            + coalesce((g.w->>'crime')::float8, 0) * b.crime
            + coalesce((g.w->>'barriers')::float8, 0) * b.barriers
            + coalesce((g.w->>'living_env')::float8, 0) * b.living_env)
           / nullif((SELECT sum(v::float8) FROM jsonb_each_text(g.w) AS e(k, v)), 0) AS deprivation,
           g.steepness
    FROM base b CROSS JOIN segment g
  ), weighted AS (
    SELECT *, population * exp(steepness * deprivation) AS weight FROM scored
  )
  INSERT INTO nbhd.demand (small_area_code, segment, period, kind, count, method, params, source)
  SELECT code, segment, max(period) OVER (),
         'estimated',
         share * sum(population) OVER (PARTITION BY segment) * weight / sum(weight) OVER (PARTITION BY segment),
         model->>'method',
         jsonb_build_object('model', model, 'deprivation_index', round(deprivation::numeric, 6),
                            'population', population, 'inputs', 'IoD2019 domain ranks; small-area population ' || period),
         'nbhd model'
  FROM weighted;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

-- Which small area each asset, practice and school lies in.
CREATE MATERIALIZED VIEW nbhd.point_small_area AS
SELECT 'asset'::text AS kind, a.id, a.category AS detail, s.code AS small_area_code
FROM nbhd.community_assets a
JOIN LATERAL (SELECT code FROM nbhd.small_areas x WHERE ST_Intersects(x.geom, a.geom) ORDER BY code LIMIT 1) s ON true
UNION ALL
SELECT 'gp', g.code, NULL, s.code
FROM nbhd.gp_practices g
JOIN LATERAL (SELECT code FROM nbhd.small_areas x WHERE ST_Intersects(x.geom, g.geom) ORDER BY code LIMIT 1) s ON true
UNION ALL
SELECT 'school', c.id, c.phase, s.code
FROM nbhd.schools c
JOIN LATERAL (SELECT code FROM nbhd.small_areas x WHERE ST_Intersects(x.geom, c.geom) ORDER BY code LIMIT 1) s ON true;
CREATE UNIQUE INDEX ON nbhd.point_small_area (kind, id);

-- Each postcode's small area and straight-line distance (metres, British
-- National Grid) to the nearest community asset, GP practice and school.
CREATE MATERIALIZED VIEW nbhd.postcode_access AS
SELECT p.postcode, s.code AS small_area_code, p.geom_bng,
       (SELECT ST_Distance(p.geom_bng, a.geom_bng) FROM nbhd.community_assets a ORDER BY a.geom_bng <-> p.geom_bng LIMIT 1) AS d_asset,
       (SELECT ST_Distance(p.geom_bng, g.geom_bng) FROM nbhd.gp_practices g ORDER BY g.geom_bng <-> p.geom_bng LIMIT 1) AS d_gp,
       (SELECT ST_Distance(p.geom_bng, c.geom_bng) FROM nbhd.schools c ORDER BY c.geom_bng <-> p.geom_bng LIMIT 1) AS d_school
FROM nbhd.postcodes p
JOIN LATERAL (SELECT code FROM nbhd.small_areas x WHERE ST_Intersects(x.geom_bng, p.geom_bng) ORDER BY code LIMIT 1) s ON true;
CREATE UNIQUE INDEX ON nbhd.postcode_access (postcode);
CREATE INDEX ON nbhd.postcode_access (small_area_code);

-- Per small area: population, deprivation, what lies in it, and access.
CREATE MATERIALIZED VIEW nbhd.small_area_stats AS
WITH dist AS (SELECT (value->>'distance_m')::float8 AS m FROM nbhd.settings WHERE key = 'access')
SELECT sa.code,
       coalesce(p.population, 0) AS population,
       d.imd_rank, d.imd_decile,
       (32844 - d.imd_rank)::float8 / 32843 AS imd_percentile,
       (SELECT count(*) FROM nbhd.point_small_area x WHERE x.kind = 'asset' AND x.small_area_code = sa.code) AS assets,
       (SELECT count(*) FROM nbhd.point_small_area x WHERE x.kind = 'gp' AND x.small_area_code = sa.code) AS gp_practices,
       (SELECT coalesce(sum(g.list_size), 0) FROM nbhd.point_small_area x JOIN api.gp_practices g ON g.code = x.id
         WHERE x.kind = 'gp' AND x.small_area_code = sa.code) AS gp_patients,
       (SELECT count(*) FROM nbhd.point_small_area x WHERE x.kind = 'school' AND x.small_area_code = sa.code) AS schools,
       (SELECT count(*) FROM nbhd.postcode_access a WHERE a.small_area_code = sa.code) AS postcodes,
       (SELECT count(*) FROM nbhd.postcode_access a, dist WHERE a.small_area_code = sa.code AND a.d_asset <= dist.m) AS postcodes_near_asset,
       (SELECT count(*) FROM nbhd.postcode_access a, dist WHERE a.small_area_code = sa.code AND a.d_gp <= dist.m) AS postcodes_near_gp,
       (SELECT count(*) FROM nbhd.postcode_access a, dist WHERE a.small_area_code = sa.code AND a.d_school <= dist.m) AS postcodes_near_school,
       (SELECT count(*) FROM nbhd.community_assets a, dist WHERE ST_DWithin(a.geom_bng, sa.geom_bng, dist.m)) AS assets_within_reach,
       -- where people live: the mean of the small area's postcodes, else a point inside it
       coalesce((SELECT ST_Centroid(ST_Collect(a.geom_bng)) FROM nbhd.postcode_access a WHERE a.small_area_code = sa.code),
                ST_PointOnSurface(sa.geom_bng)) AS centre_bng,
       -- domain deprivation percentiles (1 = most deprived)
       (32844 - d.income_rank)::float8 / 32843 AS income, (32844 - d.employment_rank)::float8 / 32843 AS employment,
       (32844 - d.education_rank)::float8 / 32843 AS education, (32844 - d.health_rank)::float8 / 32843 AS health,
       (32844 - d.crime_rank)::float8 / 32843 AS crime, (32844 - d.barriers_rank)::float8 / 32843 AS barriers,
       (32844 - d.living_env_rank)::float8 / 32843 AS living_env
FROM nbhd.small_areas sa
LEFT JOIN nbhd.small_area_population p ON p.code = sa.code
LEFT JOIN nbhd.deprivation d ON d.code = sa.code;
CREATE UNIQUE INDEX ON nbhd.small_area_stats (code);

-- The same per neighbourhood, for every set, plus the domain in which each
-- neighbourhood is most deprived (population-weighted mean percentile).
CREATE MATERIALIZED VIEW api.neighbourhood_stats AS
WITH agg AS (
  SELECT m.set_id, m.neighbourhood_code AS code,
         count(*) AS small_areas, sum(s.population) AS population,
         count(*) FILTER (WHERE s.imd_decile = 1) AS deprived_10pct,
         count(*) FILTER (WHERE s.imd_decile <= 2) AS deprived_20pct,
         sum(s.assets) AS assets, sum(s.gp_practices) AS gp_practices, sum(s.gp_patients) AS gp_patients,
         sum(s.schools) AS schools, sum(s.postcodes) AS postcodes,
         sum(s.postcodes_near_asset) AS postcodes_near_asset, sum(s.postcodes_near_gp) AS postcodes_near_gp,
         sum(s.postcodes_near_school) AS postcodes_near_school,
         sum(s.income * s.population) / nullif(sum(s.population), 0) AS income,
         sum(s.employment * s.population) / nullif(sum(s.population), 0) AS employment,
         sum(s.education * s.population) / nullif(sum(s.population), 0) AS education,
         sum(s.health * s.population) / nullif(sum(s.population), 0) AS health,
         sum(s.crime * s.population) / nullif(sum(s.population), 0) AS crime,
         sum(s.barriers * s.population) / nullif(sum(s.population), 0) AS barriers,
         sum(s.living_env * s.population) / nullif(sum(s.population), 0) AS living_env
  FROM nbhd.neighbourhood_members m JOIN nbhd.small_area_stats s ON s.code = m.small_area_code
  GROUP BY m.set_id, m.neighbourhood_code
)
SELECT a.*,
       (SELECT d FROM (VALUES ('income', a.income), ('employment', a.employment), ('education', a.education),
                              ('health', a.health), ('crime', a.crime), ('barriers', a.barriers), ('living_env', a.living_env)) v(d, x)
        WHERE x IS NOT NULL ORDER BY x DESC, d LIMIT 1) AS worst_domain
FROM agg a;
CREATE UNIQUE INDEX ON api.neighbourhood_stats (set_id, code);

-- Counts by asset category and school phase, per neighbourhood.
CREATE MATERIALIZED VIEW api.neighbourhood_counts AS
SELECT m.set_id, m.neighbourhood_code AS code, x.kind, coalesce(x.detail, '') AS detail, count(*) AS n
FROM nbhd.neighbourhood_members m JOIN nbhd.point_small_area x ON x.small_area_code = m.small_area_code
WHERE x.kind IN ('asset', 'school')
GROUP BY 1, 2, 3, 4;
CREATE UNIQUE INDEX ON api.neighbourhood_counts (set_id, code, kind, detail);

-- Demand per neighbourhood as the public may see it. Recorded counts (the
-- latest recorded period of each segment) take precedence over estimates;
-- they are suppressed when 1..min_count-1 or when the neighbourhood has
-- fewer than min_neighbourhood_population residents, and others are
-- rounded to the nearest `rounding`. Where a set's suppressed counts could
-- be recovered by subtracting its published counts from the published total
-- (one suppressed cell, or suppressed cells summing to less than
-- min_count), the smallest published non-zero count is suppressed too.
-- Rates use the rounded counts. Estimates are model outputs, labelled so.
CREATE MATERIALIZED VIEW api.neighbourhood_demand AS
WITH cfg AS (
  SELECT (value->>'min_count')::int AS min_count, (value->>'rounding')::int AS base,
         (value->>'min_neighbourhood_population')::int AS min_pop
  FROM nbhd.settings WHERE key = 'disclosure'
), latest AS (
  SELECT segment, max(period) AS period FROM nbhd.demand WHERE kind = 'recorded' GROUP BY segment
), recorded AS (
  SELECT n.set_id, n.code, l.segment, l.period, st.population,
         coalesce((SELECT sum(d.count) FROM nbhd.demand d JOIN nbhd.neighbourhood_members m
                   ON m.small_area_code = d.small_area_code AND m.set_id = n.set_id AND m.neighbourhood_code = n.code
                   WHERE d.kind = 'recorded' AND d.segment = l.segment AND d.period = l.period), 0) AS n,
         (SELECT string_agg(DISTINCT d.source, '; ') FROM nbhd.demand d
          WHERE d.kind = 'recorded' AND d.segment = l.segment AND d.period = l.period) AS source_text
  FROM nbhd.neighbourhoods n CROSS JOIN latest l
  LEFT JOIN api.neighbourhood_stats st ON st.set_id = n.set_id AND st.code = n.code
), primary_rule AS (
  SELECT r.*, (r.n > 0 AND r.n < c.min_count) OR coalesce(r.population, 0) < c.min_pop AS suppressed
  FROM recorded r, cfg c
), groups AS (
  SELECT set_id, segment, count(*) FILTER (WHERE suppressed) AS cells, coalesce(sum(n) FILTER (WHERE suppressed), 0) AS hidden
  FROM primary_rule GROUP BY set_id, segment
), secondary AS (
  SELECT DISTINCT ON (p.set_id, p.segment) p.set_id, p.segment, p.code
  FROM primary_rule p JOIN groups g USING (set_id, segment), cfg c
  WHERE NOT p.suppressed AND p.n > 0 AND (g.cells = 1 OR (g.cells > 1 AND g.hidden < c.min_count))
  ORDER BY p.set_id, p.segment, p.n, p.code
), published AS (
  SELECT p.set_id, p.code, p.segment, p.period, 'recorded'::text AS source,
         'council records: ' || coalesce(p.source_text, '') AS method, p.population,
         p.suppressed OR s.code IS NOT NULL AS suppressed,
         CASE WHEN p.suppressed OR s.code IS NOT NULL THEN NULL ELSE round(p.n / c.base) * c.base END AS count
  FROM primary_rule p CROSS JOIN cfg c
  LEFT JOIN secondary s ON s.set_id = p.set_id AND s.segment = p.segment AND s.code = p.code
), estimated AS (
  SELECT m.set_id, m.neighbourhood_code AS code, d.segment, max(d.period) AS period, 'estimated'::text AS source,
         max(d.method) AS method, max(st.population) AS population, false AS suppressed, round(sum(d.count), 1) AS count
  FROM nbhd.demand d
  JOIN nbhd.neighbourhood_members m ON m.small_area_code = d.small_area_code
  JOIN api.neighbourhood_stats st ON st.set_id = m.set_id AND st.code = m.neighbourhood_code
  WHERE d.kind = 'estimated' AND NOT EXISTS (SELECT 1 FROM latest l WHERE l.segment = d.segment)
  GROUP BY m.set_id, m.neighbourhood_code, d.segment
)
SELECT set_id, code, segment, period, source, method, suppressed, count,
       round(1000 * count / nullif(population, 0), 2) AS per_1000
FROM (SELECT * FROM published UNION ALL SELECT * FROM estimated) x;
CREATE UNIQUE INDEX ON api.neighbourhood_demand (set_id, code, segment);

-- Borough figures: totals and rates over every small area, with recorded
-- demand under the same rounding and suppression.
CREATE MATERIALIZED VIEW api.borough_stats AS
WITH cfg AS (SELECT (value->>'min_count')::int AS min_count, (value->>'rounding')::int AS base
             FROM nbhd.settings WHERE key = 'disclosure'),
s AS (SELECT count(*) AS small_areas, sum(population) AS population,
             count(*) FILTER (WHERE imd_decile = 1) AS deprived_10pct, count(*) FILTER (WHERE imd_decile <= 2) AS deprived_20pct,
             sum(assets) AS assets, sum(gp_practices) AS gp_practices, sum(gp_patients) AS gp_patients, sum(schools) AS schools,
             sum(postcodes) AS postcodes, sum(postcodes_near_asset) AS postcodes_near_asset,
             sum(postcodes_near_gp) AS postcodes_near_gp, sum(postcodes_near_school) AS postcodes_near_school
      FROM nbhd.small_area_stats),
latest AS (SELECT segment, max(period) AS period FROM nbhd.demand WHERE kind = 'recorded' GROUP BY segment),
dem AS (
  SELECT g.segment,
         CASE WHEN l.segment IS NULL THEN 'estimated' ELSE 'recorded' END AS source,
         coalesce(l.period, (SELECT max(period) FROM nbhd.demand WHERE kind = 'estimated' AND segment = g.segment)) AS period,
         (SELECT sum(d.count) FROM nbhd.demand d WHERE d.segment = g.segment
            AND ((l.segment IS NULL AND d.kind = 'estimated') OR (d.kind = 'recorded' AND d.period = l.period))) AS n
  FROM (VALUES ('chaotic'), ('just_coping')) g(segment) LEFT JOIN latest l USING (segment)
)
SELECT s.*, d.segment, d.source, d.period,
       (d.source = 'recorded' AND d.n < c.min_count) AS suppressed,
       CASE WHEN d.source = 'estimated' THEN round(d.n, 1)
            WHEN d.n < c.min_count THEN NULL
            ELSE round(d.n / c.base) * c.base END AS demand
FROM s CROSS JOIN dem d CROSS JOIN cfg c;
CREATE UNIQUE INDEX ON api.borough_stats (segment);

-- Every profile indicator of every neighbourhood, with the borough value,
-- difference, index (100 = borough) and rank in the set (1 = highest).
-- Count indicators compare with the borough's average neighbourhood in the
-- set (borough total / neighbourhoods); rates and shares with the borough's.
CREATE MATERIALIZED VIEW api.neighbourhood_indicators AS
WITH sets AS (SELECT set_id, count(*) AS neighbourhoods FROM nbhd.neighbourhoods GROUP BY set_id),
b AS (SELECT * FROM api.borough_stats),
b1 AS (SELECT * FROM b LIMIT 1),
vals AS (
  SELECT st.set_id, st.code, v.indicator, v.kind, v.value, v.borough_total, false AS suppressed, ''::text AS source, ''::text AS method, ''::text AS period
  FROM api.neighbourhood_stats st CROSS JOIN b1
  CROSS JOIN LATERAL (VALUES
    ('population', 'count', st.population::numeric, b1.population::numeric),
    ('small_areas', 'count', st.small_areas::numeric, b1.small_areas::numeric),
    ('deprived_10pct_share', 'percent', round(100.0 * st.deprived_10pct / nullif(st.small_areas, 0), 2), round(100.0 * b1.deprived_10pct / nullif(b1.small_areas, 0), 2)),
    ('deprived_20pct_share', 'percent', round(100.0 * st.deprived_20pct / nullif(st.small_areas, 0), 2), round(100.0 * b1.deprived_20pct / nullif(b1.small_areas, 0), 2)),
    ('assets', 'count', st.assets::numeric, b1.assets::numeric),
    ('assets_per_1000', 'rate', round(1000.0 * st.assets / nullif(st.population, 0), 2), round(1000.0 * b1.assets / nullif(b1.population, 0), 2)),
    ('gp_practices', 'count', st.gp_practices::numeric, b1.gp_practices::numeric),
    ('gp_patients', 'count', st.gp_patients::numeric, b1.gp_patients::numeric),
    ('schools', 'count', st.schools::numeric, b1.schools::numeric),
    ('access_asset_pct', 'percent', round(100.0 * st.postcodes_near_asset / nullif(st.postcodes, 0), 2), round(100.0 * b1.postcodes_near_asset / nullif(b1.postcodes, 0), 2)),
    ('access_gp_pct', 'percent', round(100.0 * st.postcodes_near_gp / nullif(st.postcodes, 0), 2), round(100.0 * b1.postcodes_near_gp / nullif(b1.postcodes, 0), 2)),
    ('access_school_pct', 'percent', round(100.0 * st.postcodes_near_school / nullif(st.postcodes, 0), 2), round(100.0 * b1.postcodes_near_school / nullif(b1.postcodes, 0), 2))
  ) AS v(indicator, kind, value, borough_total)
  UNION ALL
  -- counts by asset category and school phase
  SELECT st.set_id, st.code, k.kind || ':' || k.detail, 'count', coalesce(c.n, 0),
         (SELECT count(*) FROM nbhd.point_small_area x WHERE x.kind = k.kind AND coalesce(x.detail, '') = k.detail),
         false, '', '', ''
  FROM api.neighbourhood_stats st
  CROSS JOIN (SELECT DISTINCT kind, coalesce(detail, '') AS detail FROM nbhd.point_small_area WHERE kind IN ('asset', 'school')) k
  LEFT JOIN api.neighbourhood_counts c ON c.set_id = st.set_id AND c.code = st.code AND c.kind = k.kind AND c.detail = k.detail
  UNION ALL
  SELECT st.set_id, st.code, 'asset_per_1000:' || k.detail, 'rate',
         round(1000.0 * coalesce(c.n, 0) / nullif(st.population, 0), 2),
         round(1000.0 * (SELECT count(*) FROM nbhd.point_small_area x WHERE x.kind = 'asset' AND x.detail = k.detail) / nullif(b1.population, 0), 2),
         false, '', '', ''
  FROM api.neighbourhood_stats st CROSS JOIN b1
  CROSS JOIN (SELECT DISTINCT detail FROM nbhd.point_small_area WHERE kind = 'asset') k
  LEFT JOIN api.neighbourhood_counts c ON c.set_id = st.set_id AND c.code = st.code AND c.kind = 'asset' AND c.detail = k.detail
  UNION ALL
  -- demand, as published
  SELECT d.set_id, d.code, d.segment, 'count', d.count, bd.demand, d.suppressed, d.source, d.method, d.period
  FROM api.neighbourhood_demand d JOIN b bd ON bd.segment = d.segment
  UNION ALL
  SELECT d.set_id, d.code, d.segment || '_per_1000', 'rate', d.per_1000,
         round(1000 * bd.demand / nullif(bd.population, 0), 2), d.suppressed, d.source, d.method, d.period
  FROM api.neighbourhood_demand d JOIN b bd ON bd.segment = d.segment
), compared AS (
  SELECT v.*, s.neighbourhoods,
         CASE WHEN v.kind = 'count' THEN round(v.borough_total / s.neighbourhoods, 2) ELSE v.borough_total END AS borough_value
  FROM vals v JOIN sets s USING (set_id)
)
SELECT set_id, code, indicator, kind, value, suppressed, source, method, period,
       borough_total, borough_value,
       round(value - borough_value, 2) AS difference,
       round(100 * value / nullif(borough_value, 0), 1) AS index,
       CASE WHEN value IS NULL THEN NULL
            ELSE rank() OVER (PARTITION BY set_id, indicator ORDER BY value DESC NULLS LAST) END AS rank,
       neighbourhoods
FROM compared;
CREATE UNIQUE INDEX ON api.neighbourhood_indicators (set_id, code, indicator);

-- The public layers gain the headline indicators, so features, tiles and
-- CSVs carry them from the same views.
DROP VIEW api.small_areas;
CREATE VIEW api.small_areas AS
SELECT sa.code, sa.name, sa.vintage,
       p.population, p.period AS population_period,
       d.imd_rank, d.imd_decile,
       d.income_decile, d.employment_decile, d.education_decile, d.health_decile,
       d.crime_decile, d.barriers_decile, d.living_env_decile,
       round(ch.count, 1) AS chaotic_estimate,
       round(1000 * ch.count / nullif(p.population, 0), 2) AS chaotic_estimate_per_1000,
       round(jc.count, 1) AS just_coping_estimate,
       round(1000 * jc.count / nullif(p.population, 0), 2) AS just_coping_estimate_per_1000,
       CASE WHEN ch.count IS NOT NULL THEN 'estimated' END AS demand_source,
       ch.period AS demand_period,
       round(100.0 * st.postcodes_near_asset / nullif(st.postcodes, 0), 2) AS access_asset_pct,
       st.assets_within_reach,
       sa.geom, sa.geom_bng, sa.geom_3857,
       d.imd_score
FROM nbhd.small_areas sa
LEFT JOIN nbhd.small_area_population p ON p.code = sa.code
LEFT JOIN nbhd.deprivation d ON d.code = sa.code
LEFT JOIN nbhd.small_area_stats st ON st.code = sa.code
LEFT JOIN nbhd.demand ch ON ch.small_area_code = sa.code AND ch.kind = 'estimated' AND ch.segment = 'chaotic'
LEFT JOIN nbhd.demand jc ON jc.small_area_code = sa.code AND jc.kind = 'estimated' AND jc.segment = 'just_coping';

-- Where a neighbourhood's name goes on a map: a point inside it.
ALTER TABLE nbhd.neighbourhoods ADD COLUMN label_point geometry(Point, 4326)
  GENERATED ALWAYS AS (ST_PointOnSurface(geom)) STORED;

DROP VIEW api.neighbourhoods;
CREATE VIEW api.neighbourhoods AS
SELECT n.set_id, n.code, n.name,
       st.small_areas::integer AS small_areas,
       st.population::integer AS population,
       ch.count AS chaotic, ch.per_1000 AS chaotic_per_1000, ch.suppressed AS chaotic_suppressed,
       jc.count AS just_coping, jc.per_1000 AS just_coping_per_1000, jc.suppressed AS just_coping_suppressed,
       CASE WHEN ch.source = jc.source THEN ch.source ELSE ch.source || '/' || jc.source END AS demand_source,
       round(100.0 * st.deprived_10pct / nullif(st.small_areas, 0), 2) AS deprived_10pct_share,
       round(100.0 * st.deprived_20pct / nullif(st.small_areas, 0), 2) AS deprived_20pct_share,
       st.worst_domain,
       st.assets::integer AS assets,
       round(1000.0 * st.assets / nullif(st.population, 0), 2) AS assets_per_1000,
       st.gp_practices::integer AS gp_practices, st.gp_patients::integer AS gp_patients, st.schools::integer AS schools,
       round(100.0 * st.postcodes_near_asset / nullif(st.postcodes, 0), 2) AS access_asset_pct,
       round(100.0 * st.postcodes_near_gp / nullif(st.postcodes, 0), 2) AS access_gp_pct,
       round(100.0 * st.postcodes_near_school / nullif(st.postcodes, 0), 2) AS access_school_pct,
       round(ST_X(n.label_point)::numeric, 6) AS label_lon, round(ST_Y(n.label_point)::numeric, 6) AS label_lat,
       n.geom, n.geom_bng, n.geom_3857
FROM nbhd.neighbourhoods n
LEFT JOIN api.neighbourhood_stats st ON st.set_id = n.set_id AND st.code = n.code
LEFT JOIN api.neighbourhood_demand ch ON ch.set_id = n.set_id AND ch.code = n.code AND ch.segment = 'chaotic'
LEFT JOIN api.neighbourhood_demand jc ON jc.set_id = n.set_id AND jc.code = n.code AND jc.segment = 'just_coping';

-- Which neighbourhood each small area is in: public, as the boundaries are.
CREATE VIEW api.neighbourhood_members AS
SELECT set_id, neighbourhood_code, small_area_code, method FROM nbhd.neighbourhood_members;

-- Staff: small-area demand including recorded counts, unsuppressed, and a
-- documented priority score for outreach (docs/methodology.md).
CREATE VIEW staff.small_area_demand AS
WITH latest AS (SELECT segment, max(period) AS period FROM nbhd.demand WHERE kind = 'recorded' GROUP BY segment)
SELECT sa.code, g.segment,
       CASE WHEN l.segment IS NULL THEN 'estimated' ELSE 'recorded' END AS source,
       coalesce(l.period, e.period) AS period,
       CASE WHEN l.segment IS NULL THEN e.count ELSE coalesce(r.count, 0) END AS count,
       CASE WHEN l.segment IS NULL THEN e.method ELSE 'council records: ' || coalesce(r.source, '') END AS method
FROM nbhd.small_areas sa
CROSS JOIN (VALUES ('chaotic'), ('just_coping')) g(segment)
LEFT JOIN latest l ON l.segment = g.segment
LEFT JOIN nbhd.demand e ON e.small_area_code = sa.code AND e.segment = g.segment AND e.kind = 'estimated'
LEFT JOIN nbhd.demand r ON r.small_area_code = sa.code AND r.segment = g.segment AND r.kind = 'recorded' AND r.period = l.period;

CREATE VIEW staff.small_area_priority AS
WITH w AS (SELECT value->'weights' AS w FROM nbhd.settings WHERE key = 'priority'),
base AS (
  SELECT s.code, s.population, s.imd_decile, s.imd_percentile, s.postcodes, s.postcodes_near_asset,
         jc.count AS just_coping, jc.source AS just_coping_source, jc.period AS just_coping_period,
         ch.count AS chaotic, ch.source AS chaotic_source, ch.period AS chaotic_period,
         1000 * jc.count / nullif(s.population, 0) AS just_coping_rate,
         1000 * ch.count / nullif(s.population, 0) AS chaotic_rate,
         1 - s.postcodes_near_asset::float8 / nullif(s.postcodes, 0) AS access_shortfall,
         s.centre_bng
  FROM nbhd.small_area_stats s
  LEFT JOIN staff.small_area_demand jc ON jc.code = s.code AND jc.segment = 'just_coping'
  LEFT JOIN staff.small_area_demand ch ON ch.code = s.code AND ch.segment = 'chaotic'
), norm AS (
  SELECT b.*,
         coalesce(b.just_coping_rate / nullif(max(b.just_coping_rate) OVER (), 0), 0) AS just_coping_component,
         coalesce(b.chaotic_rate / nullif(max(b.chaotic_rate) OVER (), 0), 0) AS chaotic_component,
         coalesce(b.access_shortfall, 0) AS access_component,
         coalesce(b.imd_percentile, 0) AS deprivation_component
  FROM base b
)
SELECT n.code, n.population, n.imd_decile,
       n.just_coping, n.just_coping_rate, n.just_coping_source, n.just_coping_period,
       n.chaotic, n.chaotic_rate, n.chaotic_source, n.chaotic_period,
       n.access_shortfall, n.postcodes, n.postcodes_near_asset,
       n.just_coping_component, n.chaotic_component, n.access_component, n.deprivation_component,
       round((100 * ((w.w->>'just_coping_rate')::float8 * n.just_coping_component
                   + (w.w->>'chaotic_rate')::float8 * n.chaotic_component
                   + (w.w->>'access_shortfall')::float8 * n.access_component
                   + (w.w->>'deprivation')::float8 * n.deprivation_component))::numeric, 2) AS score,
       w.w AS weights, n.centre_bng
FROM norm n CROSS JOIN w;

-- Staff API keys: only a hash of each token is kept. Scopes are
-- "set:code" neighbourhoods; an empty scope list means the whole borough.
CREATE TABLE nbhd.api_keys (
  id           bigserial PRIMARY KEY,
  name         text NOT NULL,
  role         text NOT NULL CHECK (role IN ('staff')),
  token_sha256 bytea NOT NULL,
  scopes       text[] NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  last_used_at timestamptz
);

-- Every staff request to outreach or recorded data: answered (200) or
-- refused for its key's scope (403). Requests without a valid key have no
-- key to record; they are logged and rate-limited instead.
CREATE TABLE nbhd.audit_log (
  id      bigserial PRIMARY KEY,
  key_id  bigint NOT NULL REFERENCES nbhd.api_keys,
  method  text NOT NULL,
  path    text NOT NULL,
  query   text NOT NULL DEFAULT '',
  rows    integer NOT NULL,
  status  integer NOT NULL DEFAULT 200,
  at      timestamptz NOT NULL DEFAULT now()
);

-- data_changed bumps the data version and tells every server, as the
-- trigger on datasets does; settings changes call it through refresh_derived.
CREATE FUNCTION nbhd.data_changed() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  UPDATE nbhd.data_version SET version = version + 1, changed_at = clock_timestamp() RETURNING version INTO v;
  PERFORM pg_notify('nbhd_data_version', v::text);
  RETURN v;
END $$;

-- refresh_derived recomputes estimates and every derived view after an
-- import or a settings change. CONCURRENTLY keeps the views readable
-- meanwhile.
CREATE FUNCTION nbhd.refresh_derived() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM nbhd.data_changed();
  PERFORM nbhd.refresh_estimates();
  REFRESH MATERIALIZED VIEW CONCURRENTLY nbhd.point_small_area;
  REFRESH MATERIALIZED VIEW CONCURRENTLY nbhd.postcode_access;
  REFRESH MATERIALIZED VIEW CONCURRENTLY nbhd.small_area_stats;
  REFRESH MATERIALIZED VIEW CONCURRENTLY api.neighbourhood_stats;
  REFRESH MATERIALIZED VIEW CONCURRENTLY api.neighbourhood_counts;
  REFRESH MATERIALIZED VIEW CONCURRENTLY api.neighbourhood_demand;
  REFRESH MATERIALIZED VIEW CONCURRENTLY api.borough_stats;
  REFRESH MATERIALIZED VIEW CONCURRENTLY api.neighbourhood_indicators;
END $$;

-- JIT compilation costs more than these short statements take.
ALTER FUNCTION nbhd.refresh_estimates() SET jit = off;
ALTER FUNCTION nbhd.refresh_derived() SET jit = off;

-- Grants. The public role reads schema api only: every object there is
-- disclosure-controlled. Staff read everything and write only the audit log
-- and their key's last use.
REVOKE ALL ON ALL TABLES IN SCHEMA nbhd FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA api TO nbhd_public, nbhd_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA nbhd TO nbhd_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA staff TO nbhd_staff;
GRANT INSERT ON nbhd.audit_log TO nbhd_staff;
GRANT USAGE ON SEQUENCE nbhd.audit_log_id_seq TO nbhd_staff;
GRANT UPDATE (last_used_at) ON nbhd.api_keys TO nbhd_staff;

-- Derive everything for data loaded before this migration.
SELECT nbhd.refresh_derived();
