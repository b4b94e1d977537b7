-- The derived statistics, refreshed for what nbhd.stale says changed.
-- logic.refresh runs at the end of every import, drop and settings change,
-- in its transaction; logic.refresh_all recomputes everything (after a
-- migration, and in tests that prove the two agree). Every step is
-- set-based; docs/methodology.md says what each figure means.

-- Points (assets, practices, schools) and postcodes are counted in the small
-- area that holds them ('' for none), kept in the place tables. place()
-- places what was noted: the rows of datasets that brought new or moved
-- points, and whatever lay in (or, unplaced, falls inside) a boundary that
-- changed. It notes the small areas they join and, for points, what lies
-- around them, and new postcodes to be measured (refresh_access).
CREATE FUNCTION logic.place() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  -- Boundaries changed since the last placing (set_id ''); once their
  -- points are placed again they are kept as set_id 'placed', which the
  -- refresh still reads for shapes, so a batch of imports (load-sample)
  -- does not re-place every postcode of England with each file.
  changed text[] := ARRAY(SELECT code FROM nbhd.stale WHERE what = 'boundary' AND set_id = '');
  l record;
  joined text[];
  codes text[];
  pts geometry[];
  layer text;
BEGIN
  FOR l IN SELECT t.tbl, x.* FROM unnest(ARRAY['community_assets', 'gp_practices', 'schools', 'postcodes']) t(tbl),
                                  LATERAL logic.layer_of(t.tbl) x LOOP
    IF cardinality(changed) > 0 THEN
      EXECUTE format($q$
        WITH gone AS (
          DELETE FROM nbhd.%2$I p USING nbhd.%1$I x
          WHERE p.%3$I = x.%3$I
            AND (p.small_area_code = ANY($1)
                 OR (p.small_area_code = '' AND EXISTS (SELECT 1 FROM nbhd.small_areas s
                                                        WHERE s.code = ANY($1) AND ST_Intersects(s.geom, x.geom))))
          RETURNING x.dataset_id
        )
        INSERT INTO nbhd.stale (what, set_id, code)
        SELECT DISTINCT 'place', $2, dataset_id::text FROM gone ON CONFLICT DO NOTHING$q$, l.tbl, l.places, l.key)
      USING changed, l.tbl;
    END IF;
    IF l.layer <> '' THEN
      EXECUTE format($q$
        WITH todo AS (
          SELECT x.%3$I AS key, x.geom, x.geom_bng FROM nbhd.%1$I x
          JOIN nbhd.stale s ON s.what = 'place' AND s.set_id = $1 AND s.code = x.dataset_id::text
          WHERE NOT EXISTS (SELECT 1 FROM nbhd.%2$I p WHERE p.%3$I = x.%3$I)
        ), placed AS (
          INSERT INTO nbhd.%2$I (%3$I, small_area_code)
          SELECT t.key, coalesce((SELECT sa.code FROM nbhd.small_areas sa WHERE ST_Intersects(sa.geom, t.geom)
                                  ORDER BY sa.code COLLATE "C" LIMIT 1), '')
          FROM todo t
          RETURNING small_area_code
        )
        SELECT (SELECT array_agg(DISTINCT small_area_code) FROM placed WHERE small_area_code <> ''),
               (SELECT array_agg(geom_bng) FROM todo)$q$, l.tbl, l.places, l.key)
      USING l.tbl INTO joined, pts;
      PERFORM logic.note('small_area', joined);
      PERFORM logic.note_around(coalesce(pts, '{}'), l.layer);
    ELSE
      -- Postcodes: placed; measured to each layer by refresh_access (once,
      -- however many layers a batch of imports changes).
      WITH todo AS (
        SELECT x.postcode, x.geom_bng FROM nbhd.postcodes x
        JOIN nbhd.stale s ON s.what = 'place' AND s.set_id = 'postcodes' AND s.code = x.dataset_id::text
        WHERE NOT EXISTS (SELECT 1 FROM nbhd.postcode_places p WHERE p.postcode = x.postcode)
      ), placed AS (
        INSERT INTO nbhd.postcode_places (postcode, small_area_code)
        SELECT t.postcode,
               coalesce((SELECT sa.code FROM nbhd.small_areas sa WHERE ST_Intersects(sa.geom_bng, t.geom_bng)
                         ORDER BY sa.code COLLATE "C" LIMIT 1), '')
        FROM todo t
        RETURNING postcode, small_area_code
      )
      SELECT array_agg(DISTINCT small_area_code) FILTER (WHERE small_area_code <> ''), array_agg(postcode)
      INTO joined, codes FROM placed;
      PERFORM logic.note('small_area', joined);
      FOREACH layer IN ARRAY ARRAY['asset', 'gp', 'school'] LOOP
        IF cardinality(codes) > 1000 THEN
          PERFORM logic.note('access', ARRAY['*'], layer);
        ELSE
          PERFORM logic.note('access', codes, layer);
        END IF;
      END LOOP;
    END IF;
    -- Every row of these datasets is placed now (in no small area at
    -- worst): forget them, or each later import in a batch would look
    -- over all the rows before it again (Code-Point's 98 files for
    -- England took seconds more with each file).
    DELETE FROM nbhd.stale WHERE what = 'place' AND set_id = l.tbl;
  END LOOP;
  INSERT INTO nbhd.stale (what, set_id, code)
  SELECT 'boundary', 'placed', c FROM unnest(changed) c ON CONFLICT DO NOTHING;
  DELETE FROM nbhd.stale WHERE what = 'boundary' AND set_id = '' AND code = ANY(changed);
END $$;

-- Boroughs: a small area no file has placed in a borough takes the one
-- most of its postcodes are in (Code-Point Open and ONSPD name each
-- postcode's district). Then every small area whose borough changed since
-- its figures were made is noted, with its neighbourhoods.
CREATE FUNCTION logic.settle_lads() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- from the small areas that may need it (no borough yet, or changed),
  -- not from every postcode of England; a table of their own, analysed, so
  -- a few are looked up by index and a whole country is hashed
  DROP TABLE IF EXISTS pg_temp.lad_cand;
  CREATE TEMP TABLE lad_cand ON COMMIT DROP AS
  SELECT sa.code FROM nbhd.small_areas sa WHERE sa.lad_code IS NULL
  UNION SELECT sa.code FROM nbhd.stale s JOIN nbhd.small_areas sa ON sa.code = s.code WHERE s.what = 'small_area';
  ANALYZE lad_cand;
  INSERT INTO nbhd.small_area_lads (code, lad_code, trust, dataset_id)
  SELECT DISTINCT ON (pp.small_area_code) pp.small_area_code, p.la_code, 4, p.dataset_id
  FROM pg_temp.lad_cand cand JOIN nbhd.postcode_places pp ON pp.small_area_code = cand.code
  JOIN nbhd.postcodes p ON p.postcode = pp.postcode
  WHERE p.la_code ~ '^[EWSN][0-9]{8}$'
    AND NOT EXISTS (SELECT 1 FROM nbhd.small_area_lads l WHERE l.code = pp.small_area_code AND l.trust < 4)
  GROUP BY pp.small_area_code, p.la_code, p.dataset_id
  ORDER BY pp.small_area_code, count(*) DESC, p.la_code
  ON CONFLICT (code, dataset_id) DO UPDATE SET lad_code = EXCLUDED.lad_code, trust = EXCLUDED.trust;
  -- small_area_lads' trigger has set small_areas.lad_code; find what moved.
  DROP TABLE IF EXISTS pg_temp.lad_moves;
  CREATE TEMP TABLE lad_moves ON COMMIT DROP AS
  SELECT sa.code, st.lad_code AS old_lad, sa.lad_code AS new_lad
  FROM nbhd.small_areas sa JOIN nbhd.small_area_stats st ON st.code = sa.code
  WHERE st.lad_code IS DISTINCT FROM sa.lad_code
  UNION ALL
  SELECT sa.code, NULL, sa.lad_code FROM nbhd.small_areas sa
  WHERE sa.lad_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM nbhd.small_area_stats st WHERE st.code = sa.code);
  IF NOT EXISTS (SELECT 1 FROM lad_moves) THEN RETURN; END IF;
  -- Their postcodes now keep distances within another borough's reach:
  -- noted one by one for a few small areas, as every postcode past a
  -- thousand (a national load gave 5.1 million notes, 36 s), and not at
  -- all for a layer already measured whole.
  IF (SELECT count(*) FROM lad_moves) > 1000 THEN
    PERFORM logic.note('access', ARRAY['*'], l) FROM unnest(ARRAY['asset', 'gp', 'school']) l;
  END IF;
  INSERT INTO nbhd.stale (what, set_id, code)
  SELECT 'small_area', '', code FROM lad_moves
  UNION SELECT 'borough', '', old_lad FROM lad_moves WHERE old_lad IS NOT NULL
  UNION SELECT 'neighbourhood', m.set_id, m.neighbourhood_code FROM lad_moves x
        JOIN nbhd.neighbourhood_members m ON m.small_area_code = x.code
  UNION SELECT 'access', l, p.postcode FROM lad_moves x JOIN nbhd.postcode_places p ON p.small_area_code = x.code
        CROSS JOIN unnest(ARRAY(SELECT y FROM unnest(ARRAY['asset', 'gp', 'school']) y
                                WHERE NOT EXISTS (SELECT 1 FROM nbhd.stale s WHERE s.what = 'access' AND s.set_id = y AND s.code = '*'))) l
  ON CONFLICT DO NOTHING;
END $$;

-- The distance to the nearest point of each layer within cap metres of g
-- (BNG), NULL beyond. Functions, not subqueries, so a national measure
-- runs in parallel workers: PostgreSQL never hands a subquery with LIMIT
-- to a worker, but a parallel-safe function call it does.
-- Whether the postcode is noted for a layer's access measure.
CREATE FUNCTION logic.access_noted(layer text, postcode text) RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT EXISTS (SELECT 1 FROM nbhd.stale s WHERE s.what = 'access' AND s.set_id = layer AND s.code = postcode)
$$;
CREATE FUNCTION logic.nearest_asset(g geometry, cap float8) RETURNS float8 LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT ST_Distance(g, a.geom_bng) FROM nbhd.community_assets a
  WHERE ST_DWithin(a.geom_bng, g, cap) ORDER BY a.geom_bng <-> g LIMIT 1
$$;
CREATE FUNCTION logic.nearest_gp(g geometry, cap float8) RETURNS float8 LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT ST_Distance(g, a.geom_bng) FROM nbhd.gp_practices a
  WHERE ST_DWithin(a.geom_bng, g, cap) ORDER BY a.geom_bng <-> g LIMIT 1
$$;
CREATE FUNCTION logic.nearest_school(g geometry, cap float8) RETURNS float8 LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT ST_Distance(g, a.geom_bng) FROM nbhd.schools a
  WHERE ST_DWithin(a.geom_bng, g, cap) ORDER BY a.geom_bng <-> g LIMIT 1
$$;

-- Nearest distances for the postcodes noted as stale, layer by layer ('*'
-- is every postcode); small areas whose postcodes moved in or out of reach
-- are noted. A distance is kept only within the access distance of the
-- postcode's borough (NULL beyond it): that is all the figures use, and a
-- change farther away than the widest access distance can then never make
-- a kept distance wrong. The nearest point is looked for within that
-- widest distance only, and every layer is measured in one pass and one
-- update of each postcode (England's 1.7 million postcodes took 9 minutes
-- as three unbounded passes).
CREATE FUNCTION logic.refresh_access() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  touched text[];
  cap float8 := logic.access_cap();
  all_asset boolean;
  all_gp boolean;
  all_school boolean;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM nbhd.stale WHERE what = 'access') THEN
    RETURN;
  END IF;
  SELECT coalesce(bool_or(set_id = 'asset'), false), coalesce(bool_or(set_id = 'gp'), false),
         coalesce(bool_or(set_id = 'school'), false)
  INTO all_asset, all_gp, all_school
  FROM nbhd.stale WHERE what = 'access' AND code = '*';
  -- keyed by borough code, '' for a small area of no known borough, so the
  -- join below hashes instead of comparing every postcode with every borough
  DROP TABLE IF EXISTS pg_temp.access_distances;
  CREATE TEMP TABLE access_distances ON COMMIT DROP AS
  SELECT b.code AS lad, coalesce((logic.setting(b.code, 'access')->>'distance_m')::float8, 800) AS dist FROM nbhd.boroughs b
  UNION ALL SELECT '', coalesce((logic.setting(NULL, 'access')->>'distance_m')::float8, 800);
  -- With a layer to measure for every postcode, every postcode is read
  -- from the tables alone (no temporary table, which a worker cannot
  -- read), so both cores share the searches: 41 s for England's 1.7
  -- million postcodes instead of 82. A layer not measured everywhere is
  -- measured where its postcode is noted. Otherwise only the noted
  -- postcodes are: a one-row import's few hundred.
  DROP TABLE IF EXISTS pg_temp.access_measured;
  IF all_asset OR all_gp OR all_school THEN
    CREATE TEMP TABLE access_measured ON COMMIT DROP AS
    SELECT x.postcode, x.small_area_code, x.asset, x.gp, x.school,
           CASE WHEN x.asset THEN logic.nearest_asset(x.g, cap) END AS d_asset,
           CASE WHEN x.gp THEN logic.nearest_gp(x.g, cap) END AS d_gp,
           CASE WHEN x.school THEN logic.nearest_school(x.g, cap) END AS d_school
    FROM (
      SELECT pp.postcode, pp.small_area_code, p.geom_bng AS g,
             all_asset OR logic.access_noted('asset', pp.postcode) AS asset,
             all_gp OR logic.access_noted('gp', pp.postcode) AS gp,
             all_school OR logic.access_noted('school', pp.postcode) AS school
      FROM nbhd.postcode_places pp JOIN nbhd.postcodes p ON p.postcode = pp.postcode
    ) x; -- not fenced with OFFSET 0: a fenced subquery is never parallel
  ELSE
    CREATE TEMP TABLE access_measured ON COMMIT DROP AS
    SELECT x.postcode, pp.small_area_code, x.asset, x.gp, x.school,
           CASE WHEN x.asset THEN logic.nearest_asset(p.geom_bng, cap) END AS d_asset,
           CASE WHEN x.gp THEN logic.nearest_gp(p.geom_bng, cap) END AS d_gp,
           CASE WHEN x.school THEN logic.nearest_school(p.geom_bng, cap) END AS d_school
    FROM (
      SELECT s.code AS postcode, bool_or(s.set_id = 'asset') AS asset, bool_or(s.set_id = 'gp') AS gp,
             bool_or(s.set_id = 'school') AS school
      FROM nbhd.stale s WHERE s.what = 'access' AND s.code <> '*' GROUP BY s.code
    ) x
    JOIN nbhd.postcode_places pp ON pp.postcode = x.postcode
    JOIN nbhd.postcodes p ON p.postcode = x.postcode;
  END IF;
  ANALYZE pg_temp.access_measured;
  WITH updated AS (
    UPDATE nbhd.postcode_places p SET
      d_asset = CASE WHEN k.asset THEN k.d_asset ELSE p.d_asset END,
      d_gp = CASE WHEN k.gp THEN k.d_gp ELSE p.d_gp END,
      d_school = CASE WHEN k.school THEN k.d_school ELSE p.d_school END
    FROM (
      SELECT m.postcode, m.asset, m.gp, m.school,
             CASE WHEN m.d_asset <= ad.dist THEN m.d_asset END AS d_asset,
             CASE WHEN m.d_gp <= ad.dist THEN m.d_gp END AS d_gp,
             CASE WHEN m.d_school <= ad.dist THEN m.d_school END AS d_school
      FROM pg_temp.access_measured m
      LEFT JOIN nbhd.small_areas sa ON sa.code = m.small_area_code
      JOIN pg_temp.access_distances ad ON ad.lad = coalesce(sa.lad_code, '')
    ) k
    WHERE p.postcode = k.postcode
      AND ((k.asset AND p.d_asset IS DISTINCT FROM k.d_asset) OR (k.gp AND p.d_gp IS DISTINCT FROM k.d_gp)
           OR (k.school AND p.d_school IS DISTINCT FROM k.d_school))
    RETURNING p.small_area_code
  )
  SELECT array_agg(DISTINCT small_area_code) INTO touched FROM updated;
  PERFORM logic.note('small_area', touched);
END $$;

-- Per small area: population (latest period), deprivation (latest
-- release), what lies in it, and access. Counts come from GROUP BY over
-- the small areas asked for.
CREATE FUNCTION logic.refresh_small_area_stats(codes text[]) RETURNS void LANGUAGE sql AS $$
  WITH c AS (SELECT DISTINCT code FROM unnest(codes) code),
  sa0 AS MATERIALIZED (SELECT s.code, s.lad_code, s.geom_bng FROM nbhd.small_areas s JOIN c USING (code)),
  dists AS MATERIALIZED (
    SELECT l.lad_code, coalesce((logic.setting(l.lad_code, 'access')->>'distance_m')::float8, 800) AS dist
    FROM (SELECT DISTINCT lad_code FROM sa0) l
  ), sa AS (
    SELECT sa0.*, d.dist FROM sa0 JOIN dists d ON d.lad_code IS NOT DISTINCT FROM sa0.lad_code
  ), pop AS (
    SELECT DISTINCT ON (p.code) p.* FROM nbhd.small_area_population p JOIN c USING (code)
    ORDER BY p.code, logic.period_end(p.period) DESC NULLS LAST, p.period DESC
  ), dep AS (
    SELECT DISTINCT ON (d.code) d.* FROM nbhd.deprivation d JOIN c USING (code)
    WHERE d.imd_rank IS NOT NULL ORDER BY d.code, d.release DESC
  ), assets AS (
    SELECT a.small_area_code AS code, count(*) AS n FROM nbhd.asset_places a JOIN c ON c.code = a.small_area_code GROUP BY 1
  ), gps AS (
    SELECT g.small_area_code AS code, count(*) AS n, coalesce(sum(l.patients), 0) AS patients
    FROM nbhd.gp_places g JOIN c ON c.code = g.small_area_code
    LEFT JOIN LATERAL (SELECT patients FROM nbhd.gp_list_sizes s WHERE s.practice_code = g.code
                       ORDER BY extract_date DESC LIMIT 1) l ON true
    GROUP BY 1
  ), schools AS (
    SELECT x.small_area_code AS code, count(*) AS n FROM nbhd.school_places x JOIN c ON c.code = x.small_area_code GROUP BY 1
  ), pcs AS (
    SELECT p.small_area_code AS code, count(*) AS n,
           count(*) FILTER (WHERE p.d_asset <= sa.dist) AS near_asset,
           count(*) FILTER (WHERE p.d_gp <= sa.dist) AS near_gp,
           count(*) FILTER (WHERE p.d_school <= sa.dist) AS near_school,
           -- where people live: the mean of the small area's postcodes
           ST_Centroid(ST_Collect(x.geom_bng)) AS centre
    FROM nbhd.postcode_places p JOIN sa ON sa.code = p.small_area_code
    JOIN nbhd.postcodes x ON x.postcode = p.postcode GROUP BY 1
  ), reach AS (
    SELECT sa.code, count(a.id) AS n
    FROM sa JOIN nbhd.community_assets a ON ST_DWithin(a.geom_bng, sa.geom_bng, sa.dist) GROUP BY 1
  )
  INSERT INTO nbhd.small_area_stats AS t (code, lad_code, population, population_period, age_0_15, age_16_64, age_65_plus,
    imd_release, imd_rank, imd_decile, imd_percentile,
    income, employment, education, health, crime, barriers, living_env,
    assets, gp_practices, gp_patients, schools, postcodes, postcodes_near_asset, postcodes_near_gp, postcodes_near_school,
    assets_within_reach, centre_bng)
  SELECT sa.code, sa.lad_code, coalesce(pop.population, 0), pop.period, pop.age_0_15, pop.age_16_64, pop.age_65_plus,
         dep.release, dep.imd_rank, dep.imd_decile, logic.iod_percentile(dep.imd_rank, dep.release),
         logic.iod_percentile(dep.income_rank, dep.release), logic.iod_percentile(dep.employment_rank, dep.release),
         logic.iod_percentile(dep.education_rank, dep.release), logic.iod_percentile(dep.health_rank, dep.release),
         logic.iod_percentile(dep.crime_rank, dep.release), logic.iod_percentile(dep.barriers_rank, dep.release),
         logic.iod_percentile(dep.living_env_rank, dep.release),
         coalesce(assets.n, 0), coalesce(gps.n, 0), coalesce(gps.patients, 0), coalesce(schools.n, 0),
         coalesce(pcs.n, 0), coalesce(pcs.near_asset, 0), coalesce(pcs.near_gp, 0), coalesce(pcs.near_school, 0),
         coalesce(reach.n, 0),
         coalesce(pcs.centre, ST_PointOnSurface(sa.geom_bng))
  FROM sa
  LEFT JOIN pop USING (code) LEFT JOIN dep USING (code) LEFT JOIN assets USING (code) LEFT JOIN gps USING (code)
  LEFT JOIN schools USING (code) LEFT JOIN pcs USING (code) LEFT JOIN reach USING (code)
  ON CONFLICT (code) DO UPDATE SET
    lad_code = EXCLUDED.lad_code, population = EXCLUDED.population, population_period = EXCLUDED.population_period,
    age_0_15 = EXCLUDED.age_0_15, age_16_64 = EXCLUDED.age_16_64, age_65_plus = EXCLUDED.age_65_plus,
    imd_release = EXCLUDED.imd_release, imd_rank = EXCLUDED.imd_rank, imd_decile = EXCLUDED.imd_decile,
    imd_percentile = EXCLUDED.imd_percentile, income = EXCLUDED.income, employment = EXCLUDED.employment,
    education = EXCLUDED.education, health = EXCLUDED.health, crime = EXCLUDED.crime, barriers = EXCLUDED.barriers,
    living_env = EXCLUDED.living_env, assets = EXCLUDED.assets, gp_practices = EXCLUDED.gp_practices,
    gp_patients = EXCLUDED.gp_patients, schools = EXCLUDED.schools, postcodes = EXCLUDED.postcodes,
    postcodes_near_asset = EXCLUDED.postcodes_near_asset, postcodes_near_gp = EXCLUDED.postcodes_near_gp,
    postcodes_near_school = EXCLUDED.postcodes_near_school, assets_within_reach = EXCLUDED.assets_within_reach,
    centre_bng = EXCLUDED.centre_bng
$$;

-- What is served for a neighbourhood is the union of its member small
-- areas; its borough is the one holding most of them. The official
-- boundary it was fitted to stays in nbhd.neighbourhoods, and the share of
-- it the union covers (by area, and by postcodes as a proxy for people) is
-- kept to say how well the fit matches.
CREATE FUNCTION logic.refresh_shapes(sets text[], codes text[]) RETURNS void LANGUAGE sql AS $$
  WITH k AS (SELECT DISTINCT s AS set_id, c AS code FROM unnest(sets, codes) AS u(s, c)),
  shape AS (
    SELECT k.set_id, k.code,
           ST_Multi(ST_CollectionExtract(ST_Union(sa.geom), 3)) AS geom,
           (SELECT l FROM (SELECT sa2.lad_code AS l, count(*) AS n FROM nbhd.neighbourhood_members m2
                           JOIN nbhd.small_areas sa2 ON sa2.code = m2.small_area_code
                           WHERE m2.set_id = k.set_id AND m2.neighbourhood_code = k.code AND sa2.lad_code IS NOT NULL
                           GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1) x) AS lad_code
    FROM k JOIN nbhd.neighbourhood_members m ON m.set_id = k.set_id AND m.neighbourhood_code = k.code
    JOIN nbhd.small_areas sa ON sa.code = m.small_area_code
    GROUP BY k.set_id, k.code
  ), fitted AS (
    SELECT s.*, ST_Transform(s.geom, 27700) AS geom_bng, n.geom_bng AS official
    FROM shape s JOIN nbhd.neighbourhoods n ON n.set_id = s.set_id AND n.code = s.code
  ), lad AS (
    UPDATE nbhd.neighbourhoods n SET lad_code = f.lad_code FROM fitted f
    WHERE n.set_id = f.set_id AND n.code = f.code AND n.lad_code IS DISTINCT FROM f.lad_code
  ), gone AS (
    DELETE FROM nbhd.neighbourhood_areas a USING k
    WHERE a.set_id = k.set_id AND a.code = k.code
      AND NOT EXISTS (SELECT 1 FROM shape s WHERE s.set_id = k.set_id AND s.code = k.code)
  )
  INSERT INTO nbhd.neighbourhood_areas AS t (set_id, code, lad_code, geom, geom_bng, geom_3857,
    official_area_share, official_population_share)
  SELECT f.set_id, f.code, f.lad_code, f.geom, f.geom_bng, ST_Transform(f.geom, 3857),
         round((ST_Area(ST_Intersection(f.geom_bng, f.official)) / nullif(ST_Area(f.official), 0))::numeric, 4),
         (SELECT round(count(*) FILTER (WHERE m.small_area_code IS NOT NULL)::numeric / nullif(count(*), 0), 4)
          FROM nbhd.postcodes p JOIN nbhd.postcode_places pp ON pp.postcode = p.postcode
          LEFT JOIN nbhd.neighbourhood_members m
            ON m.set_id = f.set_id AND m.neighbourhood_code = f.code AND m.small_area_code = pp.small_area_code
          WHERE ST_Intersects(p.geom_bng, f.official))
  FROM fitted f
  ON CONFLICT (set_id, code) DO UPDATE SET lad_code = EXCLUDED.lad_code, geom = EXCLUDED.geom,
    geom_bng = EXCLUDED.geom_bng, geom_3857 = EXCLUDED.geom_3857,
    official_area_share = EXCLUDED.official_area_share, official_population_share = EXCLUDED.official_population_share
$$;

-- Per neighbourhood: the sums of its small areas, and the domain in which
-- it is most deprived (population-weighted mean percentile).
CREATE FUNCTION logic.refresh_neighbourhood_stats(sets text[], codes text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM nbhd.neighbourhood_stats t USING unnest(sets, codes) AS k(set_id, code)
  WHERE t.set_id = k.set_id AND t.code = k.code;
  WITH k AS (SELECT DISTINCT s AS set_id, c AS code FROM unnest(sets, codes) AS u(s, c)),
  agg AS (
    SELECT k.set_id, k.code, n.lad_code,
           count(*) AS small_areas, sum(s.population) AS population,
           sum(s.age_0_15) AS age_0_15, sum(s.age_16_64) AS age_16_64, sum(s.age_65_plus) AS age_65_plus,
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
    FROM k JOIN nbhd.neighbourhoods n ON n.set_id = k.set_id AND n.code = k.code
    JOIN nbhd.neighbourhood_members m ON m.set_id = k.set_id AND m.neighbourhood_code = k.code
    JOIN nbhd.small_area_stats s ON s.code = m.small_area_code
    GROUP BY k.set_id, k.code, n.lad_code
  )
  INSERT INTO nbhd.neighbourhood_stats
  SELECT a.set_id, a.code, a.lad_code, a.small_areas, a.population, a.age_0_15, a.age_16_64, a.age_65_plus,
         a.deprived_10pct, a.deprived_20pct, a.assets, a.gp_practices, a.gp_patients, a.schools, a.postcodes,
         a.postcodes_near_asset, a.postcodes_near_gp, a.postcodes_near_school,
         a.income, a.employment, a.education, a.health, a.crime, a.barriers, a.living_env,
         (SELECT d FROM (VALUES ('income', a.income), ('employment', a.employment), ('education', a.education),
                                ('health', a.health), ('crime', a.crime), ('barriers', a.barriers),
                                ('living_env', a.living_env)) v(d, x)
          WHERE x IS NOT NULL ORDER BY x DESC, d LIMIT 1)
  FROM agg a;
END $$;

-- Demand per neighbourhood as the public may see it, for the given sets'
-- neighbourhoods in the given boroughs (a borough is the unit of
-- disclosure control: each borough's total is published, so its cells are
-- always recomputed together).
-- Recorded counts (the latest recorded period of the neighbourhood's
-- borough, per segment) take precedence over estimates. A recorded count
-- is withheld when it is 1..min_count-1 or the neighbourhood has fewer than
-- min_neighbourhood_population residents (its borough's disclosure
-- setting); where a group's withheld cells could be recovered by
-- subtraction from a published total (one withheld cell, or withheld cells
-- summing to less than min_count), the smallest published non-zero cell is
-- withheld too, until no group can be. Groups are each set's neighbourhoods
-- in one borough (its total is published) and, for a set spanning
-- boroughs, the whole set. Published counts are rounded to the nearest
-- `rounding`; rates use the rounded counts. Cells already published for a
-- period (nbhd.demand_releases) keep what was published while the
-- neighbourhood's membership is unchanged. Estimates are model outputs,
-- labelled so, rounded to whole people. A set whose recorded cells span
-- boroughs is also checked as a whole, so every borough with recorded
-- demand joins the given ones; estimated cells never take part in
-- suppression, so the other boroughs' are left as they are.
CREATE FUNCTION logic.refresh_demand(sets text[], lads text[]) RETURNS TABLE (set_id text, code text) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  rounds integer := 0;
  picked integer;
  recorded text[] := ARRAY(SELECT DISTINCT coalesce(sa.lad_code, '') FROM nbhd.demand d
                           JOIN nbhd.small_areas sa ON sa.code = d.small_area_code WHERE d.kind = 'recorded');
  todo text[] := lads;
BEGIN
  IF cardinality(recorded) > 1 THEN
    todo := ARRAY(SELECT unnest(lads) UNION SELECT unnest(recorded));
  END IF;
  DROP TABLE IF EXISTS pg_temp.demand_nbs;
  CREATE TEMP TABLE demand_nbs ON COMMIT DROP AS
  SELECT n.set_id, n.code FROM nbhd.neighbourhoods n
  WHERE n.set_id = ANY(sets) AND logic.in_lads(n.lad_code, todo);
  ANALYZE demand_nbs;

  DROP TABLE IF EXISTS pg_temp.demand_cells;
  CREATE TEMP TABLE demand_cells ON COMMIT DROP AS
  WITH nb AS (
    SELECT n.set_id, n.code, coalesce(n.lad_code, '') AS lad, coalesce(st.population, 0) AS population,
           md5(string_agg(m.small_area_code, ',' ORDER BY m.small_area_code)) AS members
    FROM demand_nbs k JOIN nbhd.neighbourhoods n ON n.set_id = k.set_id AND n.code = k.code
    JOIN nbhd.neighbourhood_members m ON m.set_id = n.set_id AND m.neighbourhood_code = n.code
    LEFT JOIN nbhd.neighbourhood_stats st ON st.set_id = n.set_id AND st.code = n.code
    GROUP BY n.set_id, n.code, n.lad_code, st.population
  ), latest AS (
    SELECT coalesce(sa.lad_code, '') AS lad, d.segment, logic.latest_period(d.period) AS period,
           string_agg(DISTINCT d.source, '; ') AS sources
    FROM nbhd.demand d JOIN nbhd.small_areas sa ON sa.code = d.small_area_code
    WHERE d.kind = 'recorded' GROUP BY 1, 2
  ), disclosure AS MATERIALIZED (
    SELECT l AS lad, logic.setting(nullif(l, ''), 'disclosure') AS cfg FROM unnest(todo) l
  ), cells AS (
    SELECT nb.*, g.segment, l.period AS recorded_period, l.sources, dc.cfg
    FROM nb CROSS JOIN (VALUES ('chaotic'), ('just_coping')) g(segment)
    LEFT JOIN latest l ON l.lad = nb.lad AND l.segment = g.segment
    LEFT JOIN disclosure dc ON dc.lad = nb.lad
  )
  SELECT c.set_id, c.code, c.lad, c.population, c.members, c.segment,
         CASE WHEN c.recorded_period IS NULL THEN 'estimated' ELSE 'recorded' END AS source,
         coalesce(c.recorded_period,
                  (SELECT logic.latest_period(d.period) FROM nbhd.demand d JOIN nbhd.neighbourhood_members m
                     ON m.small_area_code = d.small_area_code AND m.set_id = c.set_id AND m.neighbourhood_code = c.code
                   WHERE d.kind = 'estimated' AND d.segment = c.segment)) AS period,
         CASE WHEN c.recorded_period IS NULL
              THEN (SELECT max(d.method) FROM nbhd.demand d JOIN nbhd.neighbourhood_members m
                      ON m.small_area_code = d.small_area_code AND m.set_id = c.set_id AND m.neighbourhood_code = c.code
                    WHERE d.kind = 'estimated' AND d.segment = c.segment)
              ELSE 'council records: ' || coalesce(c.sources, '') END AS method,
         CASE WHEN c.recorded_period IS NULL
              THEN (SELECT sum(d.count) FROM nbhd.demand d JOIN nbhd.neighbourhood_members m
                      ON m.small_area_code = d.small_area_code AND m.set_id = c.set_id AND m.neighbourhood_code = c.code
                    WHERE d.kind = 'estimated' AND d.segment = c.segment)
              ELSE coalesce((SELECT sum(d.count) FROM nbhd.demand d JOIN nbhd.neighbourhood_members m
                      ON m.small_area_code = d.small_area_code AND m.set_id = c.set_id AND m.neighbourhood_code = c.code
                    WHERE d.kind = 'recorded' AND d.segment = c.segment AND d.period = c.recorded_period), 0) END AS n,
         (c.cfg->>'min_count')::int AS min_count,
         (c.cfg->>'rounding')::int AS base,
         (c.cfg->>'min_neighbourhood_population')::int AS min_pop,
         false AS suppressed, false AS frozen, NULL::numeric AS published
  FROM cells c;

  -- Cells of a period already published keep what was published.
  UPDATE demand_cells c SET frozen = true, suppressed = r.suppressed, published = r.count
  FROM nbhd.demand_releases r
  WHERE c.source = 'recorded' AND r.set_id = c.set_id AND r.code = c.code AND r.segment = c.segment
    AND r.period = c.period AND r.members = c.members;

  -- Primary suppression.
  UPDATE demand_cells SET suppressed = (n > 0 AND n < min_count) OR population < min_pop
  WHERE source = 'recorded' AND NOT frozen;

  -- Secondary suppression, until no group can be differenced.
  LOOP
    WITH groups AS (
      SELECT set_id, lad AS grp, segment, min(min_count) AS min_count,
             count(*) FILTER (WHERE suppressed) AS cells, coalesce(sum(n) FILTER (WHERE suppressed), 0) AS hidden
      FROM demand_cells WHERE source = 'recorded' GROUP BY set_id, lad, segment
      UNION ALL
      SELECT set_id, '*', segment, max(min_count), count(*) FILTER (WHERE suppressed), coalesce(sum(n) FILTER (WHERE suppressed), 0)
      FROM demand_cells WHERE source = 'recorded' GROUP BY set_id, segment HAVING count(DISTINCT lad) > 1
    ), weak AS (
      SELECT * FROM groups WHERE cells = 1 OR (cells > 1 AND hidden < min_count)
    ), pick AS (
      SELECT DISTINCT ON (w.set_id, w.grp, w.segment) c.set_id, c.code, c.segment
      FROM weak w JOIN demand_cells c ON c.set_id = w.set_id AND c.segment = w.segment AND (w.grp = '*' OR c.lad = w.grp)
      WHERE c.source = 'recorded' AND NOT c.suppressed AND NOT c.frozen AND c.n > 0
      ORDER BY w.set_id, w.grp, w.segment, c.n, c.code
    )
    UPDATE demand_cells c SET suppressed = true FROM pick p
    WHERE c.set_id = p.set_id AND c.code = p.code AND c.segment = p.segment;
    GET DIAGNOSTICS picked = ROW_COUNT;
    rounds := rounds + 1;
    EXIT WHEN picked = 0 OR rounds > 50;
  END LOOP;

  UPDATE demand_cells SET published = CASE
      WHEN source = 'estimated' THEN round(n)
      WHEN suppressed THEN NULL
      ELSE round(n / base) * base END
  WHERE NOT frozen;

  INSERT INTO nbhd.demand_releases (set_id, code, segment, period, lad_code, release, members, suppressed, count)
  SELECT c.set_id, c.code, c.segment, c.period, c.lad,
         coalesce((SELECT max(l.release) FROM nbhd.demand_release_log l WHERE l.period = c.period AND l.lad_code = c.lad), 1),
         c.members, c.suppressed, c.published
  FROM demand_cells c WHERE c.source = 'recorded' AND NOT c.frozen
  ON CONFLICT (set_id, code, segment, period) DO UPDATE SET release = EXCLUDED.release, members = EXCLUDED.members,
    suppressed = EXCLUDED.suppressed, count = EXCLUDED.count, lad_code = EXCLUDED.lad_code, published_at = now();

  DROP TABLE IF EXISTS pg_temp.demand_before;
  CREATE TEMP TABLE demand_before ON COMMIT DROP AS
  SELECT d.* FROM nbhd.neighbourhood_demand d JOIN demand_nbs k ON k.set_id = d.set_id AND k.code = d.code;
  DELETE FROM nbhd.neighbourhood_demand d USING demand_nbs k WHERE k.set_id = d.set_id AND k.code = d.code;
  INSERT INTO nbhd.neighbourhood_demand (set_id, code, segment, period, source, method, suppressed, count, per_1000)
  SELECT c.set_id, c.code, c.segment, c.period, c.source, c.method, c.suppressed, c.published,
         round(1000 * c.published / nullif(c.population, 0), 2)
  FROM demand_cells c;
  -- The neighbourhoods whose published demand changed.
  RETURN QUERY
  SELECT DISTINCT x.set_id, x.code FROM (
    (SELECT d.* FROM nbhd.neighbourhood_demand d JOIN demand_nbs k ON k.set_id = d.set_id AND k.code = d.code
     EXCEPT SELECT * FROM demand_before)
    UNION ALL
    (SELECT * FROM demand_before
     EXCEPT SELECT d.* FROM nbhd.neighbourhood_demand d JOIN demand_nbs k ON k.set_id = d.set_id AND k.code = d.code)) x
  WHERE EXISTS (SELECT 1 FROM nbhd.neighbourhoods n WHERE n.set_id = x.set_id AND n.code = x.code);
END $$;

-- unit_values computes every indicator's numerator and denominator for
-- groups of small areas (pg_temp.units: scope, set_id, code, small area):
-- neighbourhoods and boroughs alike, so a neighbourhood and its comparator
-- are always the same sum. Vintage '' is the latest each small area has;
-- population periods and IoD releases also get a row each, for the trend.
CREATE FUNCTION logic.unit_values() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DROP TABLE IF EXISTS pg_temp.unit_values;
  CREATE TEMP TABLE unit_values ON COMMIT DROP AS
  WITH u AS (SELECT * FROM pg_temp.units),
  agg AS (
    SELECT u.scope, u.set_id, u.code, count(*) AS small_areas, sum(s.population) AS population,
           sum(s.population) FILTER (WHERE s.age_0_15 IS NOT NULL) AS aged,
           sum(s.age_0_15) AS a0, sum(s.age_16_64) AS a1, sum(s.age_65_plus) AS a2,
           count(*) FILTER (WHERE s.imd_decile = 1) AS d10, count(*) FILTER (WHERE s.imd_decile <= 2) AS d20,
           count(*) FILTER (WHERE s.imd_decile IS NOT NULL) AS ranked,
           sum(s.assets) AS assets, sum(s.gp_practices) AS gps, sum(s.gp_patients) AS patients, sum(s.schools) AS schools,
           sum(s.postcodes) AS pcs, sum(s.postcodes_near_asset) AS near_asset, sum(s.postcodes_near_gp) AS near_gp,
           sum(s.postcodes_near_school) AS near_school
    FROM u JOIN nbhd.small_area_stats s ON s.code = u.small_area_code
    GROUP BY u.scope, u.set_id, u.code
  ), sizes AS (
    SELECT scope, set_id, code, count(*) AS members FROM u GROUP BY 1, 2, 3
  )
  SELECT a.scope, a.set_id, a.code, v.indicator, v.vintage, v.num::numeric AS num, v.den::numeric AS den
  FROM agg a CROSS JOIN LATERAL (VALUES
    ('population', '', a.population, NULL),
    ('small_areas', '', a.small_areas, NULL),
    ('age_0_15_pct', '', a.a0, a.aged), ('age_16_64_pct', '', a.a1, a.aged), ('age_65_plus_pct', '', a.a2, a.aged),
    ('deprived_10pct_share', '', a.d10, nullif(a.ranked, 0)), ('deprived_20pct_share', '', a.d20, nullif(a.ranked, 0)),
    ('assets', '', a.assets, NULL), ('assets_per_1000', '', a.assets, a.population),
    ('gp_practices', '', a.gps, NULL), ('gp_patients', '', a.patients, NULL),
    ('schools', '', a.schools, NULL),
    ('access_asset_pct', '', a.near_asset, a.pcs), ('access_gp_pct', '', a.near_gp, a.pcs),
    ('access_school_pct', '', a.near_school, a.pcs)
  ) AS v(indicator, vintage, num, den)
  WHERE v.num IS NOT NULL
  UNION ALL
  -- population by period, where every small area of the unit has it
  SELECT u.scope, u.set_id, u.code, 'population', p.period, sum(p.population), NULL
  FROM u JOIN nbhd.small_area_population p ON p.code = u.small_area_code
  JOIN sizes z ON z.scope = u.scope AND z.set_id = u.set_id AND z.code = u.code
  GROUP BY u.scope, u.set_id, u.code, p.period, z.members HAVING count(*) = z.members
  UNION ALL
  -- the shares in England's most deprived 10% and 20% by release
  SELECT u.scope, u.set_id, u.code, x.indicator, d.release::text,
         count(*) FILTER (WHERE d.imd_decile <= x.deciles), count(*)
  FROM u JOIN nbhd.deprivation d ON d.code = u.small_area_code AND d.imd_decile IS NOT NULL
  CROSS JOIN (VALUES ('deprived_10pct_share', 1), ('deprived_20pct_share', 2)) x(indicator, deciles)
  GROUP BY u.scope, u.set_id, u.code, x.indicator, d.release
  UNION ALL
  -- assets by category (count and per 1,000) and schools by phase
  SELECT u.scope, u.set_id, u.code, x.prefix || a.category, '', count(*), CASE WHEN x.rate THEN max(ag.population) END
  FROM u JOIN nbhd.asset_places ap ON ap.small_area_code = u.small_area_code
  JOIN nbhd.community_assets a ON a.id = ap.id
  JOIN agg ag ON ag.scope = u.scope AND ag.set_id = u.set_id AND ag.code = u.code
  CROSS JOIN (VALUES ('asset:', false), ('asset_per_1000:', true)) x(prefix, rate)
  GROUP BY u.scope, u.set_id, u.code, x.prefix, x.rate, a.category
  UNION ALL
  SELECT u.scope, u.set_id, u.code, 'school:' || coalesce(nullif(c.phase, ''), 'unknown'), '', count(*), NULL
  FROM u JOIN nbhd.school_places sp ON sp.small_area_code = u.small_area_code
  JOIN nbhd.schools c ON c.id = sp.id
  GROUP BY u.scope, u.set_id, u.code, coalesce(nullif(c.phase, ''), 'unknown')
  UNION ALL
  -- investment: grants per neighbourhood and borough (47_grants.sql)
  SELECT * FROM logic.investment_values();
END $$;

-- The value shown for an indicator of a kind: a count as it is, a percent
-- or a rate per 1,000 from its numerator and denominator.
CREATE FUNCTION logic.indicator_value(kind text, num numeric, den numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE kind
    WHEN 'percent' THEN round(100 * num / nullif(den, 0), 2)
    WHEN 'rate' THEN round(1000 * num / nullif(den, 0), 2)
    ELSE num END
$$;

-- The catalogue entry of an indicator id: its own, or its family's
-- ('asset:library' is 'asset:*').
CREATE FUNCTION logic.indicator_kind(id text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT kind FROM logic.indicators i
  WHERE i.id = $1 OR (i.id LIKE '%:*' AND $1 LIKE left(i.id, -1) || '%')
  ORDER BY i.id = $1 DESC LIMIT 1
$$;

-- Indicators of the given neighbourhoods, from their small areas and their
-- published demand. Only rows that changed are written: the values are
-- computed into a temp table, rows that differ from it (compared as text,
-- so a numeric's scale counts) or are no longer in it are deleted, and
-- rows not in the table are inserted; ranks are then updated where they
-- moved. Deleting and inserting every row of a borough's neighbourhoods,
-- and updating each inserted row's rank, was most of a one-row import's
-- refresh (docs/performance.md, eleventh round). refresh() empties the
-- table first for a full refresh, so that one computes every row afresh.
CREATE FUNCTION logic.refresh_indicators(sets text[], codes text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DROP TABLE IF EXISTS pg_temp.units;
  CREATE TEMP TABLE units ON COMMIT DROP AS
  SELECT DISTINCT 'neighbourhood'::text AS scope, m.set_id, m.neighbourhood_code AS code, m.small_area_code
  FROM unnest(sets, codes) AS k(set_id, code)
  JOIN nbhd.neighbourhood_members m ON m.set_id = k.set_id AND m.neighbourhood_code = k.code;
  PERFORM logic.unit_values();
  DROP TABLE IF EXISTS pg_temp.new_indicators;
  CREATE TEMP TABLE new_indicators ON COMMIT DROP AS
  SELECT v.set_id, v.code, v.indicator, v.vintage, v.num, v.den,
         logic.indicator_value(logic.indicator_kind(v.indicator), v.num, v.den) AS value,
         false AS suppressed, ''::text AS source, ''::text AS method, ''::text AS period
  FROM pg_temp.unit_values v
  JOIN nbhd.neighbourhoods n ON n.set_id = v.set_id AND n.code = v.code
  UNION ALL
  -- demand, as published
  SELECT d.set_id, d.code, x.indicator, '', d.count, CASE WHEN x.rate THEN s.population END,
         CASE WHEN x.rate THEN d.per_1000 ELSE d.count END, d.suppressed, d.source, d.method, coalesce(d.period, '')
  FROM (SELECT DISTINCT * FROM unnest(sets, codes)) AS k(set_id, code)
  JOIN nbhd.neighbourhood_demand d ON d.set_id = k.set_id AND d.code = k.code
  LEFT JOIN nbhd.neighbourhood_stats s ON s.set_id = d.set_id AND s.code = d.code
  CROSS JOIN LATERAL (VALUES (d.segment, false), (d.segment || '_per_1000', true)) x(indicator, rate);
  ANALYZE pg_temp.new_indicators;
  DELETE FROM nbhd.indicator_values t USING (SELECT DISTINCT * FROM unnest(sets, codes)) AS k(set_id, code)
  WHERE t.set_id = k.set_id AND t.code = k.code
    AND NOT EXISTS (
      SELECT 1 FROM pg_temp.new_indicators n
      WHERE n.set_id = t.set_id AND n.code = t.code AND n.indicator = t.indicator AND n.vintage = t.vintage
        AND ROW(n.num, n.den, n.value, n.suppressed, n.source, n.method, n.period)::text
          = ROW(t.num, t.den, t.value, t.suppressed, t.source, t.method, t.period)::text);
  INSERT INTO nbhd.indicator_values (set_id, code, indicator, vintage, num, den, value, suppressed, source, method, period)
  SELECT n.set_id, n.code, n.indicator, n.vintage, n.num, n.den, n.value, n.suppressed, n.source, n.method, n.period
  FROM pg_temp.new_indicators n
  WHERE NOT EXISTS (SELECT 1 FROM nbhd.indicator_values t
                    WHERE t.set_id = n.set_id AND t.code = n.code AND t.indicator = n.indicator AND t.vintage = n.vintage);
  -- Borough and rank within the set's neighbourhoods of that borough, read
  -- borough by borough through (set_id, lad_code): a null borough is its
  -- own arm, as an OR of the two made the plan scan the whole set's
  -- neighbourhoods for each borough.
  UPDATE nbhd.indicator_values t SET lad_code = r.lad_code, rank = r.rank, ranked = r.ranked
  FROM (
    SELECT v.set_id, v.code, v.indicator, v.vintage, n.lad_code,
           CASE WHEN v.value IS NOT NULL THEN rank() OVER w END AS rank,
           count(v.value) OVER (PARTITION BY v.set_id, n.lad_code, v.indicator, v.vintage) AS ranked
    FROM (SELECT DISTINCT n2.set_id, n2.lad_code FROM unnest(sets, codes) AS k(set_id, code)
          JOIN nbhd.neighbourhoods n2 ON n2.set_id = k.set_id AND n2.code = k.code) b
    CROSS JOIN LATERAL (
      SELECT n.set_id, n.code, n.lad_code FROM nbhd.neighbourhoods n WHERE n.set_id = b.set_id AND n.lad_code = b.lad_code
      UNION ALL
      SELECT n.set_id, n.code, n.lad_code FROM nbhd.neighbourhoods n
      WHERE b.lad_code IS NULL AND n.set_id = b.set_id AND n.lad_code IS NULL
    ) n
    JOIN nbhd.indicator_values v ON v.set_id = n.set_id AND v.code = n.code
    WINDOW w AS (PARTITION BY v.set_id, n.lad_code, v.indicator, v.vintage ORDER BY v.value DESC NULLS LAST)
  ) r
  WHERE t.set_id = r.set_id AND t.code = r.code AND t.indicator = r.indicator AND t.vintage = r.vintage
    -- only rows whose rank moved (or new rows, which have none yet)
    AND (t.lad_code, t.rank, t.ranked) IS DISTINCT FROM (r.lad_code, r.rank, r.ranked);
END $$;

-- Comparators: each given borough's own figures (its small areas, with its
-- recorded demand under the same disclosure rules as its neighbourhoods),
-- then every region, combined authority and England as the sum of the
-- boroughs loaded in it, saying so in `coverage`.
CREATE FUNCTION logic.refresh_comparators(lads text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  lsoas integer := (SELECT count(*) FROM nbhd.small_areas WHERE code LIKE 'E01%' AND vintage = 2021);
  england text;
BEGIN
  DROP TABLE IF EXISTS pg_temp.units;
  CREATE TEMP TABLE units ON COMMIT DROP AS
  SELECT 'borough'::text AS scope, ''::text AS set_id, sa.lad_code AS code, sa.code AS small_area_code
  FROM nbhd.small_areas sa WHERE sa.lad_code = ANY(lads);
  PERFORM logic.unit_values();
  DELETE FROM nbhd.comparator_values WHERE scope = 'borough' AND scope_code = ANY(lads);
  INSERT INTO nbhd.comparator_values (scope, scope_code, indicator, vintage, num, den, value, coverage)
  SELECT 'borough', v.code, v.indicator, v.vintage, v.num, v.den,
         logic.indicator_value(logic.indicator_kind(v.indicator), v.num, v.den),
         format('%s small areas of %s', (SELECT count(*) FROM pg_temp.units u WHERE u.code = v.code),
                coalesce((SELECT name FROM nbhd.boroughs b WHERE b.code = v.code), v.code))
  FROM pg_temp.unit_values v;

  -- The borough's demand: recorded totals rounded and withheld as its
  -- neighbourhoods' are, and kept once published; else the estimates.
  WITH latest AS (
    SELECT sa.lad_code AS lad, d.segment, logic.latest_period(d.period) AS period
    FROM nbhd.demand d JOIN nbhd.small_areas sa ON sa.code = d.small_area_code
    WHERE d.kind = 'recorded' AND sa.lad_code = ANY(lads) GROUP BY 1, 2
  ), cells AS (
    SELECT l.lad, g.segment, r.period,
           CASE WHEN r.period IS NULL THEN 'estimated' ELSE 'recorded' END AS source,
           (SELECT sum(d.count) FROM nbhd.demand d JOIN nbhd.small_areas sa ON sa.code = d.small_area_code
            WHERE sa.lad_code = l.lad AND d.segment = g.segment
              AND ((r.period IS NULL AND d.kind = 'estimated') OR (d.kind = 'recorded' AND d.period = r.period))) AS n,
           (SELECT logic.latest_period(d.period) FROM nbhd.demand d JOIN nbhd.small_areas sa ON sa.code = d.small_area_code
            WHERE sa.lad_code = l.lad AND d.segment = g.segment AND d.kind = 'estimated') AS estimated_period,
           logic.setting(l.lad, 'disclosure') AS cfg,
           (SELECT sum(population) FROM nbhd.small_area_stats s WHERE s.lad_code = l.lad) AS population
    FROM unnest(lads) l(lad) CROSS JOIN (VALUES ('chaotic'), ('just_coping')) g(segment)
    LEFT JOIN latest r ON r.lad = l.lad AND r.segment = g.segment
  ), published AS (
    SELECT c.*, rel.count AS kept, rel.suppressed AS kept_suppressed, rel.code IS NOT NULL AS frozen
    FROM cells c LEFT JOIN nbhd.demand_releases rel
      ON rel.set_id = '' AND rel.code = c.lad AND rel.segment = c.segment AND rel.period = c.period
  ), shown AS (
    SELECT p.*,
           CASE WHEN p.source = 'estimated' THEN false
                WHEN p.frozen THEN p.kept_suppressed
                ELSE p.n > 0 AND p.n < (p.cfg->>'min_count')::int END AS suppressed,
           CASE WHEN p.source = 'estimated' THEN round(p.n)
                WHEN p.frozen THEN p.kept
                WHEN p.n > 0 AND p.n < (p.cfg->>'min_count')::int THEN NULL
                ELSE round(p.n / (p.cfg->>'rounding')::int) * (p.cfg->>'rounding')::int END AS count
    FROM published p WHERE p.n IS NOT NULL
  ), kept AS (
    INSERT INTO nbhd.demand_releases (set_id, code, segment, period, lad_code, release, members, suppressed, count)
    SELECT '', s.lad, s.segment, s.period, s.lad,
           coalesce((SELECT max(l.release) FROM nbhd.demand_release_log l WHERE l.period = s.period AND l.lad_code = s.lad), 1),
           '', s.suppressed, s.count
    FROM shown s WHERE s.source = 'recorded' AND NOT s.frozen
    ON CONFLICT (set_id, code, segment, period) DO NOTHING
  )
  INSERT INTO nbhd.comparator_values (scope, scope_code, indicator, vintage, num, den, value, suppressed, source, method, period, coverage)
  SELECT 'borough', s.lad, x.indicator, '', s.count, CASE WHEN x.rate THEN s.population END,
         CASE WHEN x.rate THEN round(1000 * s.count / nullif(s.population, 0), 2) ELSE s.count END,
         s.suppressed, s.source,
         CASE WHEN s.source = 'estimated' THEN 'nbhd model' ELSE 'council records' END,
         coalesce(s.period, s.estimated_period, ''),
         format('all small areas of %s', coalesce((SELECT name FROM nbhd.boroughs b WHERE b.code = s.lad), s.lad))
  FROM shown s CROSS JOIN LATERAL (VALUES (s.segment, false), (s.segment || '_per_1000', true)) x(indicator, rate);

  -- Regions, combined authorities and England: sums of the loaded boroughs.
  DELETE FROM nbhd.comparator_values WHERE scope IN ('region', 'cauth', 'england');
  england := CASE WHEN lsoas = 33755 THEN 'all 33,755 LSOAs'
                  ELSE format('loaded boroughs only (%s of 33,755 LSOAs)', to_char(lsoas, 'FM999,999')) END;
  WITH scopes AS (
    SELECT 'region' AS scope, r.region_code AS code, r.region_name AS name, r.lad_code FROM nbhd.borough_regions r
    UNION ALL
    SELECT 'cauth', c.cauth_code, c.cauth_name, c.lad_code FROM nbhd.borough_cauths c
    UNION ALL
    SELECT 'england', 'E92000001', 'England', b.scope_code FROM (SELECT DISTINCT scope_code FROM nbhd.comparator_values
                                                                WHERE scope = 'borough' AND scope_code LIKE 'E%') b
  ), sized AS (
    SELECT s.*, count(*) OVER (PARTITION BY s.scope, s.code) AS boroughs,
           count(b.scope_code) OVER (PARTITION BY s.scope, s.code) AS loaded
    FROM scopes s LEFT JOIN (SELECT DISTINCT scope_code FROM nbhd.comparator_values WHERE scope = 'borough') b
      ON b.scope_code = s.lad_code
  ), summed AS (
    SELECT z.scope, z.code, v.indicator, v.vintage, sum(v.num) AS num, sum(v.den) AS den,
           bool_and(v.source <> 'recorded') AS all_estimated,
           max(z.name) AS name, max(z.boroughs) AS boroughs, max(z.loaded) AS loaded
    FROM sized z JOIN nbhd.comparator_values v ON v.scope = 'borough' AND v.scope_code = z.lad_code
    GROUP BY z.scope, z.code, v.indicator, v.vintage
  )
  INSERT INTO nbhd.comparator_values (scope, scope_code, indicator, vintage, num, den, value, suppressed, source, coverage)
  SELECT s.scope, s.code, s.indicator, s.vintage,
         CASE WHEN s.indicator ~ '^(chaotic|just_coping)' AND NOT s.all_estimated THEN NULL ELSE s.num END,
         s.den,
         CASE WHEN s.scope = 'england' AND s.indicator = 'deprived_10pct_share' THEN 10
              WHEN s.scope = 'england' AND s.indicator = 'deprived_20pct_share' THEN 20
              WHEN s.indicator ~ '^(chaotic|just_coping)' AND NOT s.all_estimated THEN NULL
              ELSE logic.indicator_value(logic.indicator_kind(s.indicator), s.num, s.den) END,
         s.indicator ~ '^(chaotic|just_coping)' AND NOT s.all_estimated,
         CASE WHEN s.indicator ~ '^(chaotic|just_coping)' THEN 'estimated' ELSE '' END,
         CASE WHEN s.indicator ~ '^deprived_' AND s.scope = 'england' THEN 'national deciles: every LSOA in England'
              WHEN s.indicator ~ '^(chaotic|just_coping)' AND NOT s.all_estimated
                THEN 'not shown: recorded demand is compared within its own borough only'
              WHEN s.scope = 'england' THEN england
              ELSE format('%s of %s boroughs of %s loaded', s.loaded, s.boroughs, s.name) END
  FROM summed s;

  -- investment per just-coping resident, against the published demand (47_grants.sql)
  PERFORM logic.investment_comparators(lads);
END $$;

-- Which boroughs each dataset's rows describe, table by table: a row's
-- borough is its small area's (or, for a postcode outside every loaded
-- small area, the one its file gave; NULL when nothing says). dataset_lads(id) reads one dataset whole;
-- dataset_boroughs(lads) finds the datasets with rows in the given boroughs.
CREATE FUNCTION logic.row_boroughs() RETURNS TABLE (dataset_id bigint, lad text, tbl text) LANGUAGE sql STABLE AS $$
  SELECT dataset_id, lad_code, 'small_areas' FROM nbhd.small_areas
  UNION ALL SELECT p.dataset_id, sa.lad_code, 'small_area_population' FROM nbhd.small_area_population p JOIN nbhd.small_areas sa USING (code)
  UNION ALL SELECT p.dataset_id, sa.lad_code, 'deprivation_parts' FROM nbhd.deprivation_parts p JOIN nbhd.small_areas sa USING (code)
  UNION ALL SELECT p.dataset_id, sa.lad_code, 'small_area_lads' FROM nbhd.small_area_lads p JOIN nbhd.small_areas sa USING (code)
  UNION ALL SELECT d.dataset_id, sa.lad_code, 'demand' FROM nbhd.demand d JOIN nbhd.small_areas sa ON sa.code = d.small_area_code
  UNION ALL SELECT dataset_id, lad_code, 'neighbourhoods' FROM nbhd.neighbourhoods
  UNION ALL SELECT x.dataset_id, sa.lad_code, 'community_assets' FROM nbhd.community_assets x JOIN nbhd.asset_places p USING (id)
            LEFT JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
  UNION ALL SELECT x.dataset_id, sa.lad_code, 'gp_practices' FROM nbhd.gp_practices x JOIN nbhd.gp_places p USING (code)
            LEFT JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
  UNION ALL SELECT l.dataset_id, sa.lad_code, 'gp_list_sizes' FROM nbhd.gp_list_sizes l LEFT JOIN nbhd.gp_places p ON p.code = l.practice_code
            LEFT JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
  UNION ALL SELECT x.dataset_id, sa.lad_code, 'schools' FROM nbhd.schools x JOIN nbhd.school_places p USING (id)
            LEFT JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
  -- postcodes: their small area's borough, else the one their file gave,
  -- in three parts so that a filter on the borough reaches an index (a
  -- coalesce over a left join read England's 1.7 million postcodes)
  UNION ALL SELECT x.dataset_id, sa.lad_code, 'postcodes' FROM nbhd.postcodes x
            JOIN nbhd.postcode_places p USING (postcode) JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
            WHERE sa.lad_code IS NOT NULL
  UNION ALL SELECT x.dataset_id, x.la_code, 'postcodes' FROM nbhd.postcodes x
            JOIN nbhd.postcode_places p USING (postcode) LEFT JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
            WHERE sa.lad_code IS NULL AND x.la_code <> ''
  UNION ALL SELECT x.dataset_id, NULL, 'postcodes' FROM nbhd.postcodes x
            JOIN nbhd.postcode_places p USING (postcode) LEFT JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
            WHERE sa.lad_code IS NULL AND x.la_code = ''
  UNION ALL SELECT dataset_id, lad_code, 'borough_regions' FROM nbhd.borough_regions
  UNION ALL SELECT dataset_id, lad_code, 'borough_cauths' FROM nbhd.borough_cauths
  -- grants: once per borough a grant is placed in; unplaced ones have none
  UNION ALL SELECT DISTINCT ON (g.id, sa.lad_code) g.dataset_id, sa.lad_code, 'grants' FROM nbhd.grants g
            LEFT JOIN nbhd.grant_places p ON p.grant_id = g.id LEFT JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
$$;

CREATE FUNCTION logic.dataset_lads(id bigint) RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(DISTINCT lad ORDER BY lad) FILTER (WHERE lad IS NOT NULL), '{}')
  FROM logic.row_boroughs() r WHERE r.dataset_id = id
$$;

CREATE FUNCTION logic.dataset_boroughs(lads text[]) RETURNS TABLE (dataset_id bigint, boroughs text[]) LANGUAGE sql STABLE AS $$
  SELECT r.dataset_id, array_agg(DISTINCT r.lad ORDER BY r.lad)
  FROM logic.row_boroughs() r WHERE r.lad = ANY(lads) GROUP BY r.dataset_id
$$;

-- timed reports how long each step of a refresh took, in the server's log, when
-- nbhd.timing is on (PGOPTIONS='-c nbhd.timing=on': the England benchmarks).
CREATE FUNCTION logic.timed(step text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  now_ts timestamptz := clock_timestamp();
  last text := current_setting('nbhd.step_at', true);
BEGIN
  IF coalesce(current_setting('nbhd.timing', true), '') = 'on' AND coalesce(last, '') <> '' THEN
    RAISE LOG 'refresh: % %', step, round(extract(epoch FROM now_ts - last::timestamptz)::numeric, 3) || ' s';
  END IF;
  PERFORM set_config('nbhd.step_at', now_ts::text, true);
END $$;

-- refresh recomputes what nbhd.stale lists, then empties it and bumps the
-- data version. Its unit of work below small areas is the borough: every
-- neighbourhood of a touched borough (or with a member in a touched small
-- area) is recomputed, so secondary suppression and estimates, which look
-- at a whole borough, are always whole.
CREATE FUNCTION logic.refresh() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  small text[];
  lads text[];
  nb_sets text[];
  nb_codes text[];
  shape_sets text[];
  shape_codes text[];
  everything boolean;
  page_cost text;
  group_lads text[];
BEGIN
  IF NOT EXISTS (SELECT 1 FROM nbhd.stale) THEN
    RETURN;
  END IF;
  everything := EXISTS (SELECT 1 FROM nbhd.stale WHERE what = 'all');
  PERFORM set_config('nbhd.refreshing', 'on', true);
  PERFORM logic.timed('start');

  IF EXISTS (SELECT 1 FROM nbhd.stale WHERE what = 'all') THEN
    DELETE FROM nbhd.asset_places;
    DELETE FROM nbhd.gp_places;
    DELETE FROM nbhd.school_places;
    DELETE FROM nbhd.postcode_places;
    INSERT INTO nbhd.stale (what, set_id, code)
    SELECT 'small_area', '', code FROM nbhd.small_areas
    UNION ALL SELECT DISTINCT 'place', t, dataset_id::text FROM (
      SELECT 'community_assets' AS t, dataset_id FROM nbhd.community_assets
      UNION SELECT 'gp_practices', dataset_id FROM nbhd.gp_practices
      UNION SELECT 'schools', dataset_id FROM nbhd.schools
      UNION SELECT 'postcodes', dataset_id FROM nbhd.postcodes) d
    UNION ALL SELECT 'borough', '', '*'
    UNION ALL SELECT 'neighbourhood', set_id, code FROM nbhd.neighbourhoods
    ON CONFLICT DO NOTHING;
    DELETE FROM nbhd.small_area_stats s WHERE NOT EXISTS (SELECT 1 FROM nbhd.small_areas a WHERE a.code = s.code);
  END IF;

  PERFORM logic.place();
  PERFORM logic.timed('place');
  PERFORM logic.settle_lads();
  PERFORM logic.timed('boroughs');
  PERFORM logic.refresh_access();
  PERFORM logic.timed('access');

  small := ARRAY(
    SELECT code FROM nbhd.stale WHERE what IN ('small_area', 'reach') AND code NOT IN ('*', '')
    UNION SELECT code FROM nbhd.small_areas WHERE EXISTS (SELECT 1 FROM nbhd.stale WHERE what = 'reach' AND code = '*'));
  PERFORM logic.refresh_small_area_stats(small);
  PERFORM logic.timed('small area stats');

  -- Shapes change with membership and member boundaries.
  SELECT array_agg(set_id), array_agg(code) INTO shape_sets, shape_codes FROM (
    SELECT set_id, code FROM nbhd.stale WHERE what = 'neighbourhood'
    UNION
    SELECT m.set_id, m.neighbourhood_code FROM nbhd.stale s JOIN nbhd.neighbourhood_members m ON m.small_area_code = s.code
    WHERE s.what = 'boundary') x;
  PERFORM logic.refresh_shapes(coalesce(shape_sets, '{}'), coalesce(shape_codes, '{}'));
  PERFORM logic.timed('shapes');

  lads := ARRAY(
    SELECT DISTINCT coalesce(sa.lad_code, '') FROM unnest(small) c JOIN nbhd.small_areas sa ON sa.code = c
    UNION SELECT code FROM nbhd.stale WHERE what = 'borough' AND code <> '*'
    UNION SELECT DISTINCT coalesce(lad_code, '') FROM nbhd.small_areas
          WHERE EXISTS (SELECT 1 FROM nbhd.stale WHERE what = 'borough' AND code = '*')
    UNION SELECT DISTINCT coalesce(n.lad_code, '') FROM nbhd.stale s
          JOIN nbhd.neighbourhoods n ON n.set_id = s.set_id AND n.code = s.code WHERE s.what = 'neighbourhood');
  PERFORM logic.refresh_estimates(lads);
  PERFORM logic.timed('estimates');

  SELECT array_agg(set_id), array_agg(code) INTO nb_sets, nb_codes FROM (
    SELECT set_id, code FROM nbhd.stale WHERE what = 'neighbourhood'
    UNION SELECT m.set_id, m.neighbourhood_code FROM unnest(small) c JOIN nbhd.neighbourhood_members m ON m.small_area_code = c
    UNION SELECT n.set_id, n.code FROM nbhd.neighbourhoods n WHERE logic.in_lads(n.lad_code, lads)) x;
  nb_sets := coalesce(nb_sets, '{}');
  nb_codes := coalesce(nb_codes, '{}');
  PERFORM logic.refresh_neighbourhood_stats(nb_sets, nb_codes);
  PERFORM logic.timed('neighbourhood stats');
  -- Demand is disclosure-controlled set by set; a neighbourhood whose
  -- published demand changed is refreshed too.
  SELECT nb_sets || coalesce(array_agg(d.set_id), '{}'), nb_codes || coalesce(array_agg(d.code), '{}') INTO nb_sets, nb_codes
  FROM logic.refresh_demand(ARRAY(SELECT DISTINCT s FROM unnest(nb_sets) s),
                            ARRAY(SELECT DISTINCT coalesce(n.lad_code, '') FROM unnest(nb_sets, nb_codes) k(s, c)
                                  JOIN nbhd.neighbourhoods n ON n.set_id = k.s AND n.code = k.c
                                  UNION SELECT unnest(lads)
                                  -- a neighbourhood of another borough holding one of their small areas
                                  UNION SELECT coalesce(n.lad_code, '') FROM nbhd.small_areas sa
                                  JOIN nbhd.neighbourhood_members m ON m.small_area_code = sa.code
                                  JOIN nbhd.neighbourhoods n ON n.set_id = m.set_id AND n.code = m.neighbourhood_code
                                  WHERE logic.in_lads(sa.lad_code, lads))) d;
  PERFORM logic.timed('demand');
  IF everything THEN
    DELETE FROM nbhd.indicator_values; -- every row computed afresh, not compared
  END IF;
  PERFORM logic.refresh_indicators(nb_sets, nb_codes);
  PERFORM logic.timed('indicators');
  PERFORM logic.refresh_comparators(ARRAY(SELECT l FROM unnest(lads) l WHERE l <> ''));
  PERFORM logic.timed('comparators');

  -- Publish: the touched small areas and every small area of a touched
  -- borough (estimates are borough-wide), and the touched neighbourhoods.
  -- Deleted small areas are noted as changed boundaries, deleted
  -- neighbourhoods as stale neighbourhoods (in nb_sets, nb_codes).
  group_lads := logic.publish_small_areas(ARRAY(
    SELECT c FROM unnest(small) c
    UNION SELECT code FROM nbhd.stale WHERE what = 'boundary'
    UNION SELECT code FROM nbhd.small_areas WHERE logic.in_lads(lad_code, lads)), everything);
  PERFORM logic.publish_groups(group_lads, everything);
  PERFORM logic.publish_neighbourhoods(nb_sets, nb_codes, everything);
  PERFORM logic.publish_point_cells();
  PERFORM logic.publish_set_sizes();
  PERFORM logic.timed('publish');

  -- Datasets learn the boroughs their rows turned out to describe. Costed
  -- for cached pages: under the default random_page_cost (4, for disks
  -- that seek) one borough's rows were found by reading every postcode's
  -- place twice, 0.4-1.0 s of a one-row import on England instead of 0.13.
  page_cost := current_setting('random_page_cost');
  PERFORM set_config('random_page_cost', '1.1', true);
  UPDATE nbhd.datasets d SET boroughs = ARRAY(SELECT DISTINCT b FROM unnest(d.boroughs || x.boroughs) b ORDER BY b)
  FROM logic.dataset_boroughs(lads) x
  WHERE d.id = x.dataset_id AND NOT d.boroughs @> x.boroughs;
  PERFORM set_config('random_page_cost', page_cost, true);

  PERFORM logic.timed('datasets');
  DELETE FROM nbhd.stale;
  PERFORM logic.data_changed();
  PERFORM set_config('nbhd.refreshing', 'off', true);
END $$;
ALTER FUNCTION logic.refresh() SET jit = off;

-- refresh_all recomputes every derived figure from the loaded data.
CREATE FUNCTION logic.refresh_all() RETURNS void LANGUAGE sql AS $$
  INSERT INTO nbhd.stale (what, code) VALUES ('all', '') ON CONFLICT DO NOTHING;
  SELECT logic.refresh();
$$;
