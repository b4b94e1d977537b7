-- Definitions are re-applied whole whenever any of them changes (data/migrate.go):
-- schemas logic, api and staff are dropped and made again from these files, in
-- name order. Tables live in versioned migrations; rules live here.
CREATE SCHEMA logic;
CREATE SCHEMA api;
CREATE SCHEMA staff;

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
-- keeps its own rows here (one per small area and dataset), so re-importing
-- or dropping one file touches only its values. nbhd.deprivation, which the
-- views read, stays one row per small area: each measure is taken from the
-- newest dataset that has it. Triggers keep it in step, including when a
-- dataset is dropped and its parts go by cascade.
CREATE FUNCTION logic.combine_deprivation(codes text[]) RETURNS void LANGUAGE sql AS $$
  DELETE FROM nbhd.deprivation WHERE code = ANY(codes);
  INSERT INTO nbhd.deprivation (code, source_code, method,
    imd_rank, imd_decile, imd_score, income_rank, income_decile, income_score,
    employment_rank, employment_decile, employment_score, education_rank, education_decile, education_score,
    health_rank, health_decile, health_score, crime_rank, crime_decile, crime_score,
    barriers_rank, barriers_decile, barriers_score, living_env_rank, living_env_decile, living_env_score,
    dataset_id)
  SELECT code,
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
    max(dataset_id)
  FROM nbhd.deprivation_parts WHERE code = ANY(codes) GROUP BY code;
$$;

-- Statement-level with transition tables: one recombination per import or
-- drop, of the small areas it touched only.
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


-- Periods order by the date they end, never as text ("mid-2024" comes
-- before "2025"). Accepted forms (docs/importing.md):
--   mid-YYYY        a mid-year estimate: 30 June YYYY
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
