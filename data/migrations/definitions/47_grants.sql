-- Grants (360Giving data): where each grant goes, and what that makes of
-- each neighbourhood's investment. docs/methodology.md, "Placing grants"
-- and "Investment against need".

-- place_grants places the grants of one dataset in small areas, replacing
-- any places they had:
--   1. by beneficiary location: every code of the grant that is an LSOA
--      (E01/W01: that small area), an MSOA (E02/W02) or a ward (E05/W05:
--      the small areas of the loaded neighbourhood with that code in sets of
--      that level, or in sets of no stated level, 'custom', when none of
--      that level holds it); the grant is shared among the union of those small areas
--      in proportion to their population (latest period), equally when none
--      of them has a population;
--   2. failing that, by the recipient's postcode: the small area that holds
--      the postcode, whole;
--   3. failing both, not at all: the grant stays, unplaced, with the reason.
-- The GSS code's own entity prefix says what it is; Geographic Code Type is
-- not needed to read it. Placement uses what is loaded when the grants are
-- imported (boundaries, population, neighbourhood sets, postcodes).
CREATE FUNCTION logic.place_grants(ds bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM nbhd.grant_places p USING nbhd.grants g WHERE g.id = p.grant_id AND g.dataset_id = ds;
  DROP TABLE IF EXISTS pg_temp.grant_targets;
  CREATE TEMP TABLE grant_targets ON COMMIT DROP AS
  WITH g AS (
    SELECT id, beneficiary_codes, recipient_postcode FROM nbhd.grants WHERE dataset_id = ds
  ), by_code AS (
    SELECT DISTINCT g.id, s.code AS small_area_code
    FROM g CROSS JOIN LATERAL unnest(g.beneficiary_codes) AS c(code)
    JOIN nbhd.small_areas s ON s.code = c.code
    WHERE c.code ~ '^[EW]01[0-9]{6}$'
    UNION
    SELECT DISTINCT g.id, m.small_area_code
    FROM g CROSS JOIN LATERAL unnest(g.beneficiary_codes) AS c(code)
    CROSS JOIN LATERAL (SELECT CASE WHEN c.code ~ '^[EW]02[0-9]{6}$' THEN 'msoa' ELSE 'ward' END AS level) want
    JOIN nbhd.neighbourhood_members m ON m.neighbourhood_code = c.code
    JOIN nbhd.neighbourhood_sets st ON st.id = m.set_id
    WHERE c.code ~ '^[EW]0[25][0-9]{6}$'
      AND st.level = CASE WHEN EXISTS (SELECT 1 FROM nbhd.neighbourhoods n JOIN nbhd.neighbourhood_sets s2 ON s2.id = n.set_id
                                       WHERE n.code = c.code AND s2.level = want.level)
                          THEN want.level ELSE 'custom' END
  ), by_postcode AS (
    SELECT g.id, (SELECT s.code FROM nbhd.small_areas s WHERE ST_Intersects(s.geom, p.geom)
                  ORDER BY s.code COLLATE "C" LIMIT 1) AS small_area_code
    FROM g JOIN nbhd.postcodes p ON p.postcode = g.recipient_postcode
    WHERE NOT EXISTS (SELECT 1 FROM by_code b WHERE b.id = g.id)
  )
  SELECT id, small_area_code, 'beneficiary'::text AS placed_by FROM by_code
  UNION ALL
  SELECT id, small_area_code, 'postcode' FROM by_postcode WHERE small_area_code IS NOT NULL;

  WITH pop AS (
    SELECT DISTINCT ON (p.code) p.code, p.population
    FROM nbhd.small_area_population p WHERE p.code IN (SELECT small_area_code FROM pg_temp.grant_targets)
    ORDER BY p.code, logic.period_end(p.period) DESC NULLS LAST, p.period DESC
  ), weighted AS (
    SELECT t.id, t.small_area_code, coalesce(pop.population, 0)::numeric AS w,
           sum(coalesce(pop.population, 0)) OVER (PARTITION BY t.id)::numeric AS total,
           count(*) OVER (PARTITION BY t.id) AS n
    FROM pg_temp.grant_targets t LEFT JOIN pop ON pop.code = t.small_area_code
  ), shared AS (
    SELECT id, small_area_code, CASE WHEN total > 0 THEN w / total ELSE 1.0 / n END AS share FROM weighted
  )
  INSERT INTO nbhd.grant_places (grant_id, small_area_code, share, amount)
  SELECT s.id, s.small_area_code, s.share, g.amount * s.share
  FROM shared s JOIN nbhd.grants g ON g.id = s.id
  WHERE s.share > 0;

  UPDATE nbhd.grants g SET
    placed_by = coalesce((SELECT min(t.placed_by) FROM pg_temp.grant_targets t WHERE t.id = g.id), ''),
    unplaced_reason = CASE WHEN EXISTS (SELECT 1 FROM pg_temp.grant_targets t WHERE t.id = g.id) THEN ''
      ELSE concat_ws('; ',
        CASE WHEN cardinality(g.beneficiary_codes) = 0 THEN 'no beneficiary location code'
             WHEN NOT EXISTS (SELECT 1 FROM unnest(g.beneficiary_codes) c WHERE c ~ '^[EW]0[125][0-9]{6}$')
               THEN 'beneficiary location ' || array_to_string(g.beneficiary_codes, ', ') || ' is not an LSOA, MSOA or ward code'
             ELSE 'beneficiary location ' || array_to_string(g.beneficiary_codes, ', ') || ' is not a loaded small area, MSOA or ward' END,
        CASE WHEN g.recipient_postcode = '' THEN 'no recipient postcode'
             WHEN NOT EXISTS (SELECT 1 FROM nbhd.postcodes p WHERE p.postcode = g.recipient_postcode)
               THEN 'recipient postcode ' || g.recipient_postcode || ' is not loaded'
             ELSE 'recipient postcode ' || g.recipient_postcode || ' lies in no loaded small area' END) END
  WHERE g.dataset_id = ds;
END $$;

-- Staleness: grants moving in or out of small areas make those small areas'
-- figures (and so their neighbourhoods' and borough's) stale.
CREATE FUNCTION logic.grant_places_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT logic.noting() THEN RETURN NULL; END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT small_area_code FROM new_rows));
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT small_area_code FROM old_rows));
  END IF;
  RETURN NULL;
END $$;
SELECT logic.watch_rows('grant_places', 'grant_places_changed');

-- investment_values gives logic.unit_values the investment indicators of
-- the units in pg_temp.units (neighbourhoods or boroughs), for units in a
-- borough where at least one grant is placed (elsewhere nothing is known,
-- which is not the same as nothing given). Rates per resident carry the
-- amount in thousands so that the catalogue's 'rate' (1,000 × num ÷ den)
-- reads as pounds per resident, and sums over boroughs still add up.
-- Neighbourhoods are measured against their just-coping count as published
-- (nbhd.neighbourhood_demand: rounded where recorded, null where withheld);
-- boroughs in logic.investment_comparators, once their published count is
-- known.
CREATE FUNCTION logic.investment_values()
RETURNS TABLE (scope text, set_id text, code text, indicator text, vintage text, num numeric, den numeric)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH u AS (SELECT * FROM pg_temp.units),
  funded AS (
    SELECT DISTINCT sa.lad_code FROM nbhd.grant_places p JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
  ), unit AS (
    SELECT u.scope, u.set_id, u.code, sum(s.population) AS population, min(s.lad_code) AS lad
    FROM u JOIN nbhd.small_area_stats s ON s.code = u.small_area_code
    GROUP BY u.scope, u.set_id, u.code
  ), given AS (
    SELECT u.scope, u.set_id, u.code, count(DISTINCT p.grant_id) AS grants, round(sum(p.amount), 2) AS amount
    FROM u JOIN nbhd.grant_places p ON p.small_area_code = u.small_area_code
    GROUP BY u.scope, u.set_id, u.code
  )
  SELECT x.scope, x.set_id, x.code, v.indicator, ''::text, v.num::numeric, v.den::numeric
  FROM unit x
  LEFT JOIN given g ON g.scope = x.scope AND g.set_id = x.set_id AND g.code = x.code
  LEFT JOIN nbhd.neighbourhood_demand jc
    ON x.scope = 'neighbourhood' AND jc.set_id = x.set_id AND jc.code = x.code AND jc.segment = 'just_coping'
  CROSS JOIN LATERAL (VALUES
    ('grants', coalesce(g.grants, 0)::numeric, NULL::numeric),
    ('grant_amount', coalesce(g.amount, 0), NULL),
    ('grants_per_1000', coalesce(g.grants, 0), x.population),
    ('grant_amount_per_resident', coalesce(g.amount, 0) / 1000, x.population),
    ('grants_per_1000_just_coping', coalesce(g.grants, 0), jc.count),
    ('grant_amount_per_just_coping', coalesce(g.amount, 0) / 1000, jc.count)
  ) AS v(indicator, num, den)
  WHERE x.lad IN (SELECT lad_code FROM funded)
    AND (x.scope = 'neighbourhood' OR v.indicator NOT LIKE '%just_coping');
END $$;

-- investment_comparators adds the per-just-coping-resident figures of the
-- given boroughs (against the borough's published just-coping count, with
-- its source, period and withholding), and of every region, combined
-- authority and England as sums of their loaded boroughs, shown only where
-- every one of those boroughs' counts is estimated: recorded demand is
-- compared within its own borough only. It runs after the other
-- comparators are made (logic.refresh_comparators).
CREATE FUNCTION logic.investment_comparators(lads text[]) RETURNS void LANGUAGE sql AS $$
  DELETE FROM nbhd.comparator_values
  WHERE indicator IN ('grants_per_1000_just_coping', 'grant_amount_per_just_coping')
    AND (scope IN ('region', 'cauth', 'england') OR (scope = 'borough' AND scope_code = ANY(lads)));
  INSERT INTO nbhd.comparator_values (scope, scope_code, indicator, vintage, num, den, value, suppressed, source, method, period, coverage)
  SELECT 'borough', g.scope_code, x.indicator, '', x.num, jc.num,
         logic.indicator_value('rate', x.num, jc.num), jc.suppressed, jc.source, jc.method, jc.period, jc.coverage
  FROM nbhd.comparator_values g
  JOIN nbhd.comparator_values a ON a.scope = 'borough' AND a.scope_code = g.scope_code AND a.indicator = 'grant_amount' AND a.vintage = ''
  JOIN nbhd.comparator_values jc ON jc.scope = 'borough' AND jc.scope_code = g.scope_code AND jc.indicator = 'just_coping' AND jc.vintage = ''
  CROSS JOIN LATERAL (VALUES ('grants_per_1000_just_coping', g.num), ('grant_amount_per_just_coping', a.num / 1000)) AS x(indicator, num)
  WHERE g.scope = 'borough' AND g.scope_code = ANY(lads) AND g.indicator = 'grants' AND g.vintage = '';
  WITH per_borough AS (
    SELECT scope_code AS lad, indicator, num, den, source FROM nbhd.comparator_values
    WHERE scope = 'borough' AND indicator IN ('grants_per_1000_just_coping', 'grant_amount_per_just_coping') AND vintage = ''
  ), scopes AS (
    SELECT 'region' AS scope, r.region_code AS code, r.lad_code FROM nbhd.borough_regions r
    UNION ALL SELECT 'cauth', c.cauth_code, c.lad_code FROM nbhd.borough_cauths c
    UNION ALL SELECT 'england', 'E92000001', b.lad FROM (SELECT DISTINCT lad FROM per_borough WHERE lad LIKE 'E%') b
  ), summed AS (
    SELECT z.scope, z.code, p.indicator, sum(p.num) AS num, sum(p.den) AS den, bool_and(p.source = 'estimated') AS estimated
    FROM scopes z JOIN per_borough p ON p.lad = z.lad_code
    GROUP BY z.scope, z.code, p.indicator
  )
  INSERT INTO nbhd.comparator_values (scope, scope_code, indicator, vintage, num, den, value, suppressed, source, coverage)
  SELECT s.scope, s.code, s.indicator, '',
         CASE WHEN s.estimated THEN s.num END, CASE WHEN s.estimated THEN s.den END,
         CASE WHEN s.estimated THEN logic.indicator_value('rate', s.num, s.den) END,
         NOT s.estimated, CASE WHEN s.estimated THEN 'estimated' ELSE '' END,
         CASE WHEN s.estimated THEN coalesce((SELECT c.coverage FROM nbhd.comparator_values c
                                              WHERE c.scope = s.scope AND c.scope_code = s.code AND c.indicator = 'grants' AND c.vintage = ''), '')
              ELSE 'not shown: recorded demand is compared within its own borough only' END
  FROM summed s;
$$;
