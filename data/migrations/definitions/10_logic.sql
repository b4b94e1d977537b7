-- Definitions are re-applied whole whenever any of them changes (data/migrate.go):
-- schemas logic, api and staff are dropped and made again from these files, in
-- name order. Tables live in versioned migrations; rules live here.
CREATE SCHEMA logic;
CREATE SCHEMA api;
CREATE SCHEMA staff;

-- in_lads says whether a row with borough lad is in the boroughs lads,
-- where '' stands for rows of no borough. Written so that PostgreSQL
-- inlines it as lad = ANY(lads) OR (lad IS NULL AND '' = ANY(lads)), which
-- the lad_code indexes serve; coalesce(lad, '') = ANY(lads), which none
-- serves, read whole tables in a one-row import's refresh.
CREATE FUNCTION logic.in_lads(lad text, lads text[]) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT lad = ANY(lads) OR (lad IS NULL AND '' = ANY(lads))
$$;

-- One counter that every change to datasets bumps, with a notification that
-- every server sharing the database listens for to drop cached output.
CREATE FUNCTION logic.data_changed() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  UPDATE nbhd.data_version SET version = version + 1, changed_at = clock_timestamp() RETURNING version INTO v;
  PERFORM pg_notify('nbhd_data_version', v::text);
  RETURN v;
END $$;

CREATE FUNCTION logic.bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM logic.data_changed();
  RETURN NULL;
END $$;
CREATE TRIGGER datasets_changed AFTER INSERT OR UPDATE OR DELETE ON nbhd.datasets
  FOR EACH STATEMENT EXECUTE FUNCTION logic.bump_data_version();

-- Deprivation comes in several files of one release: File 2 has ranks and
-- deciles, File 5 scores, File 7 both, File 1 the IMD alone. Each import
-- keeps its own rows in deprivation_parts (one per small area and
-- dataset), so re-importing or dropping one file touches only its values.
-- nbhd.deprivation, which everything reads, has one row per small area and
-- release: each measure from the newest dataset of that release that has
-- it. Triggers keep it in step, including when a dataset is dropped.
CREATE FUNCTION logic.combine_deprivation(codes text[]) RETURNS void LANGUAGE sql AS $$
  DELETE FROM nbhd.deprivation WHERE code = ANY(codes);
  INSERT INTO nbhd.deprivation (code, release, source_code, method,
    imd_rank, imd_decile, imd_score, income_rank, income_decile, income_score,
    employment_rank, employment_decile, employment_score, education_rank, education_decile, education_score,
    health_rank, health_decile, health_score, crime_rank, crime_decile, crime_score,
    barriers_rank, barriers_decile, barriers_score, living_env_rank, living_env_decile, living_env_score,
    idaci_rank, idaci_decile, idaci_score, idaopi_rank, idaopi_decile, idaopi_score,
    cyp_rank, cyp_decile, cyp_score, adult_skills_rank, adult_skills_decile, adult_skills_score,
    geo_barriers_rank, geo_barriers_decile, geo_barriers_score, wider_barriers_rank, wider_barriers_decile, wider_barriers_score,
    indoors_rank, indoors_decile, indoors_score, outdoors_rank, outdoors_decile, outdoors_score,
    dataset_id)
  SELECT code, release,
    (array_agg(source_code ORDER BY dataset_id DESC))[1],
    (array_agg(method ORDER BY dataset_id DESC))[1],
    (array_agg(imd_rank ORDER BY dataset_id DESC) FILTER (WHERE imd_rank IS NOT NULL))[1],
    (array_agg(imd_decile ORDER BY dataset_id DESC) FILTER (WHERE imd_decile IS NOT NULL))[1],
    (array_agg(imd_score ORDER BY dataset_id DESC) FILTER (WHERE imd_score IS NOT NULL))[1],
    (array_agg(income_rank ORDER BY dataset_id DESC) FILTER (WHERE income_rank IS NOT NULL))[1],
    (array_agg(income_decile ORDER BY dataset_id DESC) FILTER (WHERE income_decile IS NOT NULL))[1],
    (array_agg(income_score ORDER BY dataset_id DESC) FILTER (WHERE income_score IS NOT NULL))[1],
    (array_agg(employment_rank ORDER BY dataset_id DESC) FILTER (WHERE employment_rank IS NOT NULL))[1],
    (array_agg(employment_decile ORDER BY dataset_id DESC) FILTER (WHERE employment_decile IS NOT NULL))[1],
    (array_agg(employment_score ORDER BY dataset_id DESC) FILTER (WHERE employment_score IS NOT NULL))[1],
    (array_agg(education_rank ORDER BY dataset_id DESC) FILTER (WHERE education_rank IS NOT NULL))[1],
    (array_agg(education_decile ORDER BY dataset_id DESC) FILTER (WHERE education_decile IS NOT NULL))[1],
    (array_agg(education_score ORDER BY dataset_id DESC) FILTER (WHERE education_score IS NOT NULL))[1],
    (array_agg(health_rank ORDER BY dataset_id DESC) FILTER (WHERE health_rank IS NOT NULL))[1],
    (array_agg(health_decile ORDER BY dataset_id DESC) FILTER (WHERE health_decile IS NOT NULL))[1],
    (array_agg(health_score ORDER BY dataset_id DESC) FILTER (WHERE health_score IS NOT NULL))[1],
    (array_agg(crime_rank ORDER BY dataset_id DESC) FILTER (WHERE crime_rank IS NOT NULL))[1],
    (array_agg(crime_decile ORDER BY dataset_id DESC) FILTER (WHERE crime_decile IS NOT NULL))[1],
    (array_agg(crime_score ORDER BY dataset_id DESC) FILTER (WHERE crime_score IS NOT NULL))[1],
    (array_agg(barriers_rank ORDER BY dataset_id DESC) FILTER (WHERE barriers_rank IS NOT NULL))[1],
    (array_agg(barriers_decile ORDER BY dataset_id DESC) FILTER (WHERE barriers_decile IS NOT NULL))[1],
    (array_agg(barriers_score ORDER BY dataset_id DESC) FILTER (WHERE barriers_score IS NOT NULL))[1],
    (array_agg(living_env_rank ORDER BY dataset_id DESC) FILTER (WHERE living_env_rank IS NOT NULL))[1],
    (array_agg(living_env_decile ORDER BY dataset_id DESC) FILTER (WHERE living_env_decile IS NOT NULL))[1],
    (array_agg(living_env_score ORDER BY dataset_id DESC) FILTER (WHERE living_env_score IS NOT NULL))[1],
    (array_agg(idaci_rank ORDER BY dataset_id DESC) FILTER (WHERE idaci_rank IS NOT NULL))[1],
    (array_agg(idaci_decile ORDER BY dataset_id DESC) FILTER (WHERE idaci_decile IS NOT NULL))[1],
    (array_agg(idaci_score ORDER BY dataset_id DESC) FILTER (WHERE idaci_score IS NOT NULL))[1],
    (array_agg(idaopi_rank ORDER BY dataset_id DESC) FILTER (WHERE idaopi_rank IS NOT NULL))[1],
    (array_agg(idaopi_decile ORDER BY dataset_id DESC) FILTER (WHERE idaopi_decile IS NOT NULL))[1],
    (array_agg(idaopi_score ORDER BY dataset_id DESC) FILTER (WHERE idaopi_score IS NOT NULL))[1],
    (array_agg(cyp_rank ORDER BY dataset_id DESC) FILTER (WHERE cyp_rank IS NOT NULL))[1],
    (array_agg(cyp_decile ORDER BY dataset_id DESC) FILTER (WHERE cyp_decile IS NOT NULL))[1],
    (array_agg(cyp_score ORDER BY dataset_id DESC) FILTER (WHERE cyp_score IS NOT NULL))[1],
    (array_agg(adult_skills_rank ORDER BY dataset_id DESC) FILTER (WHERE adult_skills_rank IS NOT NULL))[1],
    (array_agg(adult_skills_decile ORDER BY dataset_id DESC) FILTER (WHERE adult_skills_decile IS NOT NULL))[1],
    (array_agg(adult_skills_score ORDER BY dataset_id DESC) FILTER (WHERE adult_skills_score IS NOT NULL))[1],
    (array_agg(geo_barriers_rank ORDER BY dataset_id DESC) FILTER (WHERE geo_barriers_rank IS NOT NULL))[1],
    (array_agg(geo_barriers_decile ORDER BY dataset_id DESC) FILTER (WHERE geo_barriers_decile IS NOT NULL))[1],
    (array_agg(geo_barriers_score ORDER BY dataset_id DESC) FILTER (WHERE geo_barriers_score IS NOT NULL))[1],
    (array_agg(wider_barriers_rank ORDER BY dataset_id DESC) FILTER (WHERE wider_barriers_rank IS NOT NULL))[1],
    (array_agg(wider_barriers_decile ORDER BY dataset_id DESC) FILTER (WHERE wider_barriers_decile IS NOT NULL))[1],
    (array_agg(wider_barriers_score ORDER BY dataset_id DESC) FILTER (WHERE wider_barriers_score IS NOT NULL))[1],
    (array_agg(indoors_rank ORDER BY dataset_id DESC) FILTER (WHERE indoors_rank IS NOT NULL))[1],
    (array_agg(indoors_decile ORDER BY dataset_id DESC) FILTER (WHERE indoors_decile IS NOT NULL))[1],
    (array_agg(indoors_score ORDER BY dataset_id DESC) FILTER (WHERE indoors_score IS NOT NULL))[1],
    (array_agg(outdoors_rank ORDER BY dataset_id DESC) FILTER (WHERE outdoors_rank IS NOT NULL))[1],
    (array_agg(outdoors_decile ORDER BY dataset_id DESC) FILTER (WHERE outdoors_decile IS NOT NULL))[1],
    (array_agg(outdoors_score ORDER BY dataset_id DESC) FILTER (WHERE outdoors_score IS NOT NULL))[1],
    max(dataset_id)
  FROM nbhd.deprivation_parts WHERE code = ANY(codes) GROUP BY code, release;
$$;

CREATE FUNCTION logic.deprivation_parts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM logic.combine_deprivation(ARRAY(SELECT DISTINCT code FROM new_parts));
  ELSE
    PERFORM logic.combine_deprivation(ARRAY(SELECT DISTINCT code FROM old_parts));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER deprivation_parts_inserted AFTER INSERT ON nbhd.deprivation_parts
  REFERENCING NEW TABLE AS new_parts FOR EACH STATEMENT EXECUTE FUNCTION logic.deprivation_parts_changed();
CREATE TRIGGER deprivation_parts_deleted AFTER DELETE ON nbhd.deprivation_parts
  REFERENCING OLD TABLE AS old_parts FOR EACH STATEMENT EXECUTE FUNCTION logic.deprivation_parts_changed();

-- The number of small areas each release of the indices ranks: rank r is
-- the percentile (N - r) / (N - 1), 1 = most deprived in England.
CREATE FUNCTION logic.iod_areas(release smallint) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE release WHEN 2019 THEN 32844 WHEN 2025 THEN 33755 END
$$;
CREATE FUNCTION logic.iod_percentile(rank integer, release smallint) RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
  SELECT (logic.iod_areas(release) - rank)::float8 / (logic.iod_areas(release) - 1)
$$;

-- Settings: borough '' holds the England-wide defaults; a borough's own
-- value is merged over them, object by object (jsonb_merge).
CREATE FUNCTION logic.jsonb_merge(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN jsonb_typeof(a) = 'object' AND jsonb_typeof(b) = 'object' THEN
      (SELECT coalesce(jsonb_object_agg(k,
         CASE WHEN a ? k AND b ? k THEN logic.jsonb_merge(a->k, b->k) WHEN b ? k THEN b->k ELSE a->k END), '{}'::jsonb)
       FROM (SELECT jsonb_object_keys(a) UNION SELECT jsonb_object_keys(b)) AS keys(k))
    WHEN b IS NULL THEN a
    ELSE b END
$$;
CREATE FUNCTION logic.setting(lad text, setting text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT logic.jsonb_merge(
    (SELECT value FROM nbhd.settings WHERE borough = '' AND key = setting),
    (SELECT value FROM nbhd.settings WHERE borough = coalesce(lad, '') AND borough <> '' AND key = setting))
$$;
-- The widest access distance any borough uses: postcodes farther than it
-- from a changed asset keep their nearest distances (they only ever stand
-- for "beyond reach").
CREATE FUNCTION logic.access_cap() RETURNS double precision LANGUAGE sql STABLE AS $$
  SELECT coalesce(max((logic.setting(nullif(borough, ''), 'access')->>'distance_m')::float8), 800)
  FROM (SELECT DISTINCT borough FROM nbhd.settings WHERE key = 'access') s
$$;

-- Each small area's borough is the most trusted, newest statement about it
-- (nbhd.small_area_lads); with no statement left it keeps the last one. A
-- borough code nobody has named yet is named by its code until a file
-- names it.
CREATE FUNCTION logic.resolve_lads(codes text[]) RETURNS void LANGUAGE sql AS $$
  UPDATE nbhd.small_areas sa SET lad_code = best.lad_code
  FROM (SELECT c.code, (SELECT l.lad_code FROM nbhd.small_area_lads l WHERE l.code = c.code
                        ORDER BY l.trust, l.dataset_id DESC LIMIT 1) AS lad_code
        FROM unnest(codes) AS c(code)) best
  WHERE sa.code = best.code AND best.lad_code IS NOT NULL AND sa.lad_code IS DISTINCT FROM best.lad_code;
  INSERT INTO nbhd.boroughs (code, name)
  SELECT DISTINCT lad_code, lad_code FROM nbhd.small_areas WHERE code = ANY(codes) AND lad_code IS NOT NULL
  ON CONFLICT (code) DO NOTHING;
$$;

CREATE FUNCTION logic.small_area_lads_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM logic.resolve_lads(ARRAY(SELECT DISTINCT code FROM new_facts));
  ELSE
    PERFORM logic.resolve_lads(ARRAY(SELECT DISTINCT code FROM old_facts));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER small_area_lads_inserted AFTER INSERT ON nbhd.small_area_lads
  REFERENCING NEW TABLE AS new_facts FOR EACH STATEMENT EXECUTE FUNCTION logic.small_area_lads_changed();
CREATE TRIGGER small_area_lads_deleted AFTER DELETE ON nbhd.small_area_lads
  REFERENCING OLD TABLE AS old_facts FOR EACH STATEMENT EXECUTE FUNCTION logic.small_area_lads_changed();

-- Periods order by the date they end, never as text ("mid-2024" comes
-- before "2025"). Accepted forms (docs/importing.md):
--   mid-YYYY        a mid-year estimate: 30 June YYYY
--   census-YYYY     a census: census day, 21 March YYYY
--   YYYY            a calendar year: 31 December YYYY
--   YYYY-MM         a month: its last day
--   YYYY-QN         a quarter: its last day
--   YYYY/YY, YYYY-YY, YYYY/YYYY   a financial year: 31 March of the second year
-- Anything else has no end date and sorts first.
CREATE FUNCTION logic.period_end(p text) RETURNS date LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE m text[];
BEGIN
  IF p ~ '^mid-[0-9]{4}$' THEN
    RETURN make_date(substr(p, 5, 4)::int, 6, 30);
  ELSIF p ~ '^census-[0-9]{4}$' THEN
    RETURN make_date(substr(p, 8, 4)::int, 3, 21);
  ELSIF p ~ '^[0-9]{4}$' THEN
    RETURN make_date(p::int, 12, 31);
  ELSIF p ~ '^[0-9]{4}-(0[1-9]|1[0-2])$' THEN
    RETURN (make_date(substr(p, 1, 4)::int, substr(p, 6, 2)::int, 1) + interval '1 month - 1 day')::date;
  ELSIF p ~ '^[0-9]{4}-Q[1-4]$' THEN
    RETURN (make_date(substr(p, 1, 4)::int, substr(p, 7, 1)::int * 3 - 2, 1) + interval '3 months - 1 day')::date;
  END IF;
  m := regexp_match(p, '^([0-9]{4})[-/]([0-9]{2}|[0-9]{4})$');
  IF m IS NOT NULL THEN
    RETURN make_date(m[1]::int + 1, 3, 31);
  END IF;
  RETURN NULL;
END $$;

-- later_period keeps whichever period ends later (text breaks ties), so
-- logic.latest_period(period) replaces max(period) wherever the latest
-- period is meant.
CREATE FUNCTION logic.later_period(a text, b text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a
              WHEN (coalesce(logic.period_end(b), '-infinity'), b) > (coalesce(logic.period_end(a), '-infinity'), a) THEN b ELSE a END
$$;
CREATE AGGREGATE logic.latest_period(text) (SFUNC = logic.later_period, STYPE = text);

-- utc is a moment as RFC 3339 text in UTC, the same whatever the session's
-- time zone.
CREATE FUNCTION logic.utc(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- watch_rows runs fn, a statement trigger function that reads the
-- transition tables new_rows and old_rows, after each of ops on nbhd.tbl
-- (triggers tbl_inserted, tbl_updated, tbl_deleted): how every table that
-- makes derived figures stale is watched (20_stale.sql).
CREATE FUNCTION logic.watch_rows(tbl text, fn text, ops text[] DEFAULT ARRAY['INSERT', 'UPDATE', 'DELETE'])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF 'INSERT' = ANY(ops) THEN
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON nbhd.%I REFERENCING NEW TABLE AS new_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION logic.%I()', tbl || '_inserted', tbl, fn);
  END IF;
  IF 'UPDATE' = ANY(ops) THEN
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON nbhd.%I REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION logic.%I()', tbl || '_updated', tbl, fn);
  END IF;
  IF 'DELETE' = ANY(ops) THEN
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON nbhd.%I REFERENCING OLD TABLE AS old_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION logic.%I()', tbl || '_deleted', tbl, fn);
  END IF;
END $$;
