-- refresh_estimates rewrites the estimated demand of every small area in
-- the given boroughs ('' stands for small areas whose borough is not yet
-- known) that has a population and deprivation ranks, calibrated to each
-- borough's own shares (its demand_model setting, merged over England's).
-- Inputs are the latest population period and the latest release of the
-- indices each small area has; both are recorded on every estimate. See
-- docs/methodology.md.
CREATE FUNCTION logic.refresh_estimates(lads text[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  DELETE FROM nbhd.demand d USING nbhd.small_areas sa
  WHERE d.kind = 'estimated' AND sa.code = d.small_area_code AND logic.in_lads(sa.lad_code, lads);
  WITH areas AS (
    SELECT code, coalesce(lad_code, '') AS lad FROM nbhd.small_areas WHERE logic.in_lads(lad_code, lads)
  ), pop AS (
    SELECT DISTINCT ON (p.code) p.code, p.population, p.period
    FROM nbhd.small_area_population p JOIN areas a USING (code)
    ORDER BY p.code, logic.period_end(p.period) DESC NULLS LAST, p.period DESC
  ), dep AS (
    SELECT DISTINCT ON (d.code) d.*
    FROM nbhd.deprivation d JOIN areas a USING (code)
    WHERE d.imd_rank IS NOT NULL
    ORDER BY d.code, d.release DESC
  ), base AS (
    SELECT a.code, a.lad, pop.population, pop.period, dep.release,
           -- deprivation percentile per domain: 1 = most deprived in England, 0 = least
           logic.iod_percentile(dep.imd_rank, dep.release) AS imd,
           logic.iod_percentile(coalesce(dep.income_rank, dep.imd_rank), dep.release) AS income,
           logic.iod_percentile(coalesce(dep.employment_rank, dep.imd_rank), dep.release) AS employment,
           logic.iod_percentile(coalesce(dep.education_rank, dep.imd_rank), dep.release) AS education,
           logic.iod_percentile(coalesce(dep.health_rank, dep.imd_rank), dep.release) AS health,
           logic.iod_percentile(coalesce(dep.crime_rank, dep.imd_rank), dep.release) AS crime,
           logic.iod_percentile(coalesce(dep.barriers_rank, dep.imd_rank), dep.release) AS barriers,
           logic.iod_percentile(coalesce(dep.living_env_rank, dep.imd_rank), dep.release) AS living_env
    FROM areas a JOIN pop USING (code) JOIN dep USING (code)
  ), models AS MATERIALIZED (
    -- once per borough: inlined, the setting was read again for every
    -- small area and weight (110 s for England)
    SELECT l AS lad, logic.setting(nullif(l, ''), 'demand_model') AS model FROM unnest(lads) l
  ), segment AS MATERIALIZED (
    SELECT m.lad, m.model, s AS segment,
           (m.model->'shares'->>s)::float8 AS share,
           (m.model->'steepness'->>s)::float8 AS steepness,
           m.model->'weights'->s AS w
    FROM models m CROSS JOIN LATERAL jsonb_object_keys(m.model->'shares') AS s
  ), scored AS (
    SELECT b.code, b.lad, b.population, b.period, b.release, g.segment, g.share, g.model,
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
    FROM base b JOIN segment g ON g.lad = b.lad
  ), weighted AS (
    SELECT *, population * exp(steepness * deprivation) AS weight FROM scored
  ), totals AS (
    -- summed in a fixed order, so the same inputs give the same bits
    SELECT lad, segment, sum(population ORDER BY code) AS population, sum(weight ORDER BY code) AS weight
    FROM weighted GROUP BY lad, segment
  ), periods AS (
    SELECT lad, logic.latest_period(period) AS period FROM base GROUP BY lad
  )
  INSERT INTO nbhd.demand (small_area_code, segment, period, kind, count, method, params, source)
  SELECT w.code, w.segment, p.period, 'estimated',
         w.share * t.population * w.weight / t.weight,
         w.model->>'method',
         jsonb_build_object('model', w.model, 'deprivation_index', round(w.deprivation::numeric, 6),
                            'population', w.population, 'borough', w.lad,
                            'inputs', 'IoD' || w.release || ' domain ranks; small-area population ' || w.period),
         'nbhd model'
  FROM weighted w JOIN totals t USING (lad, segment) JOIN periods p USING (lad);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
ALTER FUNCTION logic.refresh_estimates(text[]) SET jit = off;
