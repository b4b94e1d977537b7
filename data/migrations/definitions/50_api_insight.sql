-- Neighbourhood insight: per-neighbourhood statistics, disclosure-controlled
-- demand, borough figures and every profile indicator. docs/methodology.md
-- explains every rule here in words.

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
  FROM nbhd.neighbourhood_members m JOIN logic.small_area_stats s ON s.code = m.small_area_code
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
FROM nbhd.neighbourhood_members m JOIN logic.point_small_area x ON x.small_area_code = m.small_area_code
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
  SELECT segment, logic.latest_period(period) AS period FROM nbhd.demand WHERE kind = 'recorded' GROUP BY segment
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
  SELECT m.set_id, m.neighbourhood_code AS code, d.segment, logic.latest_period(d.period) AS period, 'estimated'::text AS source,
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
      FROM logic.small_area_stats),
latest AS (SELECT segment, logic.latest_period(period) AS period FROM nbhd.demand WHERE kind = 'recorded' GROUP BY segment),
dem AS (
  SELECT g.segment,
         CASE WHEN l.segment IS NULL THEN 'estimated' ELSE 'recorded' END AS source,
         coalesce(l.period, (SELECT logic.latest_period(period) FROM nbhd.demand WHERE kind = 'estimated' AND segment = g.segment)) AS period,
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
         (SELECT count(*) FROM logic.point_small_area x WHERE x.kind = k.kind AND coalesce(x.detail, '') = k.detail),
         false, '', '', ''
  FROM api.neighbourhood_stats st
  CROSS JOIN (SELECT DISTINCT kind, coalesce(detail, '') AS detail FROM logic.point_small_area WHERE kind IN ('asset', 'school')) k
  LEFT JOIN api.neighbourhood_counts c ON c.set_id = st.set_id AND c.code = st.code AND c.kind = k.kind AND c.detail = k.detail
  UNION ALL
  SELECT st.set_id, st.code, 'asset_per_1000:' || k.detail, 'rate',
         round(1000.0 * coalesce(c.n, 0) / nullif(st.population, 0), 2),
         round(1000.0 * (SELECT count(*) FROM logic.point_small_area x WHERE x.kind = 'asset' AND x.detail = k.detail) / nullif(b1.population, 0), 2),
         false, '', '', ''
  FROM api.neighbourhood_stats st CROSS JOIN b1
  CROSS JOIN (SELECT DISTINCT detail FROM logic.point_small_area WHERE kind = 'asset') k
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
LEFT JOIN logic.small_area_stats st ON st.code = sa.code
LEFT JOIN nbhd.demand ch ON ch.small_area_code = sa.code AND ch.kind = 'estimated' AND ch.segment = 'chaotic'
LEFT JOIN nbhd.demand jc ON jc.small_area_code = sa.code AND jc.kind = 'estimated' AND jc.segment = 'just_coping';

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

