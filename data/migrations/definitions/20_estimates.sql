-- refresh_estimates rewrites the estimated demand of every small area that
-- has a population and deprivation ranks. See docs/methodology.md.
CREATE FUNCTION logic.refresh_estimates() RETURNS integer LANGUAGE plpgsql AS $$
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
  SELECT code, segment, logic.latest_period(period) OVER (),
         'estimated',
         -- summed in a fixed order: the same inputs give the same bits
         share * sum(population) OVER w * weight / sum(weight) OVER w,
         model->>'method',
         jsonb_build_object('model', model, 'deprivation_index', round(deprivation::numeric, 6),
                            'population', population, 'inputs', 'IoD2019 domain ranks; small-area population ' || period),
         'nbhd model'
  FROM weighted
  WINDOW w AS (PARTITION BY segment ORDER BY code ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
ALTER FUNCTION logic.refresh_estimates() SET jit = off;
