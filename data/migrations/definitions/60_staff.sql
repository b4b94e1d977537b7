-- Staff: small-area demand including recorded counts, unsuppressed, and a
-- documented priority score for outreach (docs/methodology.md). Staff keys
-- may be scoped; the API checks the scope before reading these.
CREATE VIEW staff.small_area_demand AS
WITH latest AS (
  SELECT sa.lad_code, d.segment, logic.latest_period(d.period) AS period
  FROM nbhd.demand d JOIN nbhd.small_areas sa ON sa.code = d.small_area_code
  WHERE d.kind = 'recorded' GROUP BY 1, 2
)
SELECT sa.code, sa.lad_code, g.segment,
       CASE WHEN l.segment IS NULL THEN 'estimated' ELSE 'recorded' END AS source,
       coalesce(l.period, e.period) AS period,
       CASE WHEN l.segment IS NULL THEN e.count ELSE coalesce(r.count, 0) END AS count,
       CASE WHEN l.segment IS NULL THEN e.method ELSE 'council records: ' || coalesce(r.source, '') END AS method
FROM nbhd.small_areas sa
CROSS JOIN (VALUES ('chaotic'), ('just_coping')) g(segment)
LEFT JOIN latest l ON l.lad_code IS NOT DISTINCT FROM sa.lad_code AND l.segment = g.segment
LEFT JOIN nbhd.demand e ON e.small_area_code = sa.code AND e.segment = g.segment AND e.kind = 'estimated'
LEFT JOIN nbhd.demand r ON r.small_area_code = sa.code AND r.segment = g.segment AND r.kind = 'recorded' AND r.period = l.period;

-- The priority score: each component scaled to 0..1 within the borough
-- (the highest rate in the borough is 1), weighted by the borough's
-- priority setting.
CREATE VIEW staff.small_area_priority AS
WITH base AS (
  SELECT s.code, s.lad_code, s.population, s.imd_decile, s.imd_percentile, s.postcodes, s.postcodes_near_asset,
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
         coalesce(b.just_coping_rate / nullif(max(b.just_coping_rate) OVER (PARTITION BY b.lad_code), 0), 0) AS just_coping_component,
         coalesce(b.chaotic_rate / nullif(max(b.chaotic_rate) OVER (PARTITION BY b.lad_code), 0), 0) AS chaotic_component,
         coalesce(b.access_shortfall, 0) AS access_component,
         coalesce(b.imd_percentile, 0) AS deprivation_component
  FROM base b
), weighted AS (
  SELECT n.*, logic.setting(n.lad_code, 'priority')->'weights' AS w FROM norm n
)
SELECT n.code, n.lad_code, n.population, n.imd_decile,
       n.just_coping, n.just_coping_rate, n.just_coping_source, n.just_coping_period,
       n.chaotic, n.chaotic_rate, n.chaotic_source, n.chaotic_period,
       n.access_shortfall, n.postcodes, n.postcodes_near_asset,
       n.just_coping_component, n.chaotic_component, n.access_component, n.deprivation_component,
       round((100 * ((n.w->>'just_coping_rate')::float8 * n.just_coping_component
                   + (n.w->>'chaotic_rate')::float8 * n.chaotic_component
                   + (n.w->>'access_shortfall')::float8 * n.access_component
                   + (n.w->>'deprivation')::float8 * n.deprivation_component))::numeric, 2) AS score,
       n.w AS weights, n.centre_bng
FROM weighted n;
