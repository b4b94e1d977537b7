-- Importers for councils' real downloads (GIAS, ODS, Code-Point Open, ONSPD,
-- IoD2019 Files 1/2/5/7, OpenStreetMap, own footprints).

-- GIAS publishes the share of pupils eligible for free school meals.
ALTER TABLE nbhd.schools ADD COLUMN fsm_percent numeric CHECK (fsm_percent BETWEEN 0 AND 100);

-- The local authority a postcode lies in (Code-Point Open Admin_district_code,
-- ONSPD oslaua): files without their own LA column (epraccur) are filtered
-- to one authority through it.
ALTER TABLE nbhd.postcodes ADD COLUMN la_code text NOT NULL DEFAULT '';
CREATE INDEX ON nbhd.postcodes (la_code);

-- Deprivation comes in several files of one release: File 2 has ranks and
-- deciles, File 5 scores, File 7 both, File 1 the IMD alone. Each import
-- keeps its own rows here (one per small area and dataset), so re-importing
-- or dropping one file touches only its values. nbhd.deprivation, which the
-- views read, stays one row per small area: each measure is taken from the
-- newest dataset that has it. Triggers keep it in step, including when a
-- dataset is dropped and its parts go by cascade.
CREATE TABLE nbhd.deprivation_parts (
  code        text NOT NULL REFERENCES nbhd.small_areas ON DELETE CASCADE,
  source_code text NOT NULL, -- the LSOA 2011 code(s) the values came from
  method      text NOT NULL CHECK (method IN ('direct', 'unchanged', 'split', 'merged', 'complex')),
  imd_rank integer, imd_decile smallint, imd_score numeric,
  income_rank integer, income_decile smallint, income_score numeric,
  employment_rank integer, employment_decile smallint, employment_score numeric,
  education_rank integer, education_decile smallint, education_score numeric,
  health_rank integer, health_decile smallint, health_score numeric,
  crime_rank integer, crime_decile smallint, crime_score numeric,
  barriers_rank integer, barriers_decile smallint, barriers_score numeric,
  living_env_rank integer, living_env_decile smallint, living_env_score numeric,
  dataset_id  bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE,
  PRIMARY KEY (code, dataset_id)
);
CREATE INDEX ON nbhd.deprivation_parts (dataset_id);

INSERT INTO nbhd.deprivation_parts
SELECT code, source_code, 'direct',
       imd_rank, imd_decile, imd_score, income_rank, income_decile, income_score,
       employment_rank, employment_decile, employment_score, education_rank, education_decile, education_score,
       health_rank, health_decile, health_score, crime_rank, crime_decile, crime_score,
       barriers_rank, barriers_decile, barriers_score, living_env_rank, living_env_decile, living_env_score,
       dataset_id
FROM nbhd.deprivation;

-- nbhd.deprivation is now derived from the parts: its dataset_id names the
-- newest contributing dataset, and its rows go when their parts go.
ALTER TABLE nbhd.deprivation DROP CONSTRAINT deprivation_dataset_id_fkey;
ALTER TABLE nbhd.deprivation ADD COLUMN method text NOT NULL DEFAULT 'direct';

CREATE FUNCTION nbhd.combine_deprivation(codes text[]) RETURNS void LANGUAGE sql AS $$
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
CREATE FUNCTION nbhd.deprivation_parts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM nbhd.combine_deprivation(ARRAY(SELECT DISTINCT code FROM new_parts));
  ELSE
    PERFORM nbhd.combine_deprivation(ARRAY(SELECT DISTINCT code FROM old_parts));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER deprivation_parts_inserted AFTER INSERT ON nbhd.deprivation_parts
  REFERENCING NEW TABLE AS new_parts FOR EACH STATEMENT EXECUTE FUNCTION nbhd.deprivation_parts_changed();
CREATE TRIGGER deprivation_parts_deleted AFTER DELETE ON nbhd.deprivation_parts
  REFERENCING OLD TABLE AS old_parts FOR EACH STATEMENT EXECUTE FUNCTION nbhd.deprivation_parts_changed();

GRANT SELECT ON nbhd.deprivation_parts TO nbhd_staff;
