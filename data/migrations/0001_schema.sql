-- nbhd schema: private raw data in schema nbhd, public disclosure-controlled
-- views in schema api, staff-only views in schema staff.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE SCHEMA IF NOT EXISTS nbhd;
CREATE SCHEMA api;
CREATE SCHEMA staff;

-- Login-less roles. The server's connections SET ROLE to one of them, so a
-- public request runs with no grant on schema nbhd at all.
-- Roles are cluster-wide: databases migrating at once (parallel test
-- processes, replicas) may race to create them, so losing the race is fine.
DO $$
BEGIN
  BEGIN
    CREATE ROLE nbhd_public NOLOGIN;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  BEGIN
    CREATE ROLE nbhd_staff NOLOGIN;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  -- The schema owner's connections SET ROLE to these; a superuser needs no grant.
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    BEGIN
      EXECUTE format('GRANT nbhd_public, nbhd_staff TO %I', current_user);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
END $$;

-- Every import is a dataset; rows of every table belong to one and go with it.
-- (kind, key) names a dataset: re-importing it replaces it in one transaction.
CREATE TABLE nbhd.datasets (
  id           bigserial PRIMARY KEY,
  kind         text NOT NULL,
  key          text NOT NULL,
  title        text NOT NULL,
  source       text NOT NULL DEFAULT '',
  source_url   text NOT NULL DEFAULT '',
  licence      text NOT NULL DEFAULT '',
  licence_url  text NOT NULL DEFAULT '',
  attribution  text NOT NULL DEFAULT '',
  vintage      text NOT NULL DEFAULT '',
  file_name    text NOT NULL DEFAULT '',
  file_sha256  text NOT NULL DEFAULT '',
  rows         integer NOT NULL DEFAULT 0,
  imported_at  timestamptz NOT NULL DEFAULT now(),
  imported_by  text NOT NULL DEFAULT current_user,
  CONSTRAINT datasets_kind_key UNIQUE (kind, key) DEFERRABLE INITIALLY DEFERRED
);

-- One counter that every change to datasets bumps, with a notification that
-- every server sharing the database listens for to drop cached output.
CREATE TABLE nbhd.data_version (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version    bigint NOT NULL,
  changed_at timestamptz NOT NULL
);
INSERT INTO nbhd.data_version VALUES (true, 1, now());

CREATE FUNCTION nbhd.bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  UPDATE nbhd.data_version SET version = version + 1, changed_at = clock_timestamp()
  RETURNING version INTO v;
  PERFORM pg_notify('nbhd_data_version', v::text);
  RETURN NULL;
END $$;
CREATE TRIGGER datasets_changed AFTER INSERT OR UPDATE OR DELETE ON nbhd.datasets
  FOR EACH STATEMENT EXECUTE FUNCTION nbhd.bump_data_version();

-- Small areas: LSOAs, the statistical unit.
CREATE TABLE nbhd.small_areas (
  code       text PRIMARY KEY CHECK (code ~ '^[EW]01[0-9]{6}$'),
  name       text NOT NULL,
  vintage    smallint NOT NULL CHECK (vintage IN (2011, 2021)),
  geom       geometry(MultiPolygon, 4326) NOT NULL,
  geom_bng   geometry(MultiPolygon, 27700) GENERATED ALWAYS AS (ST_Transform(geom, 27700)) STORED,
  geom_3857  geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
  dataset_id bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE
);
CREATE INDEX ON nbhd.small_areas USING gist (geom);
CREATE INDEX ON nbhd.small_areas USING gist (geom_bng);
CREATE INDEX ON nbhd.small_areas USING gist (geom_3857);
CREATE INDEX ON nbhd.small_areas (dataset_id);

CREATE TABLE nbhd.small_area_population (
  code       text PRIMARY KEY REFERENCES nbhd.small_areas ON DELETE CASCADE,
  population integer NOT NULL CHECK (population >= 0),
  period     text NOT NULL,
  dataset_id bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE
);
CREATE INDEX ON nbhd.small_area_population (dataset_id);

-- English Indices of Deprivation 2019: rank 1 and decile 1 are most deprived.
CREATE TABLE nbhd.deprivation (
  code        text PRIMARY KEY REFERENCES nbhd.small_areas ON DELETE CASCADE,
  source_code text NOT NULL, -- the LSOA code as published (2011 geography)
  imd_rank integer, imd_decile smallint, imd_score numeric,
  income_rank integer, income_decile smallint, income_score numeric,
  employment_rank integer, employment_decile smallint, employment_score numeric,
  education_rank integer, education_decile smallint, education_score numeric,
  health_rank integer, health_decile smallint, health_score numeric,
  crime_rank integer, crime_decile smallint, crime_score numeric,
  barriers_rank integer, barriers_decile smallint, barriers_score numeric,
  living_env_rank integer, living_env_decile smallint, living_env_score numeric,
  dataset_id bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE
);
CREATE INDEX ON nbhd.deprivation (dataset_id);

-- Neighbourhood sets: named partitions of the borough (wards, MSOAs, a
-- council's own footprints). Small areas belong to one neighbourhood per set.
CREATE TABLE nbhd.neighbourhood_sets (
  id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
  title       text NOT NULL,
  description text NOT NULL DEFAULT '',
  dataset_id  bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE
);
CREATE INDEX ON nbhd.neighbourhood_sets (dataset_id);

CREATE TABLE nbhd.neighbourhoods (
  set_id   text NOT NULL REFERENCES nbhd.neighbourhood_sets ON DELETE CASCADE,
  code     text NOT NULL,
  name     text NOT NULL,
  geom     geometry(MultiPolygon, 4326) NOT NULL,
  geom_bng geometry(MultiPolygon, 27700) GENERATED ALWAYS AS (ST_Transform(geom, 27700)) STORED,
  geom_3857 geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
  PRIMARY KEY (set_id, code)
);
CREATE INDEX ON nbhd.neighbourhoods USING gist (geom);
CREATE INDEX ON nbhd.neighbourhoods USING gist (geom_3857);

CREATE TABLE nbhd.neighbourhood_members (
  set_id            text NOT NULL,
  small_area_code   text NOT NULL REFERENCES nbhd.small_areas ON DELETE CASCADE,
  neighbourhood_code text NOT NULL,
  method            text NOT NULL CHECK (method IN ('lookup', 'overlap', 'list')),
  PRIMARY KEY (set_id, small_area_code),
  FOREIGN KEY (set_id, neighbourhood_code) REFERENCES nbhd.neighbourhoods ON DELETE CASCADE
);
CREATE INDEX ON nbhd.neighbourhood_members (set_id, neighbourhood_code);

-- Demand per small area and segment: recorded (aggregated counts loaded by
-- the council) or estimated (a documented model). Never individual records.
CREATE TABLE nbhd.demand (
  small_area_code text NOT NULL REFERENCES nbhd.small_areas ON DELETE CASCADE,
  segment    text NOT NULL CHECK (segment IN ('chaotic', 'just_coping')),
  period     text NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('recorded', 'estimated')),
  count      numeric NOT NULL CHECK (count >= 0),
  method     text NOT NULL,
  params     jsonb NOT NULL DEFAULT '{}',
  source     text NOT NULL DEFAULT '',
  dataset_id bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE,
  PRIMARY KEY (small_area_code, segment, period, kind)
);
CREATE INDEX ON nbhd.demand (dataset_id);

-- Community assets: points (polygons reduced to a point on their surface).
CREATE TABLE nbhd.community_assets (
  id            text PRIMARY KEY,
  source_ref    text NOT NULL DEFAULT '',
  name          text NOT NULL,
  category      text NOT NULL CHECK (category ~ '^[a-z][a-z0-9_]*$'),
  address       text NOT NULL DEFAULT '',
  postcode      text NOT NULL DEFAULT '',
  phone         text NOT NULL DEFAULT '',
  email         text NOT NULL DEFAULT '',
  url           text NOT NULL DEFAULT '',
  opening_hours text NOT NULL DEFAULT '',
  source_geometry text NOT NULL DEFAULT 'Point',
  geom          geometry(Point, 4326) NOT NULL,
  geom_bng      geometry(Point, 27700) GENERATED ALWAYS AS (ST_Transform(geom, 27700)) STORED,
  geom_3857  geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
  dataset_id    bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE
);
CREATE INDEX ON nbhd.community_assets USING gist (geom);
CREATE INDEX ON nbhd.community_assets USING gist (geom_bng);
CREATE INDEX ON nbhd.community_assets USING gist (geom_3857);
CREATE INDEX ON nbhd.community_assets (dataset_id);
CREATE INDEX ON nbhd.community_assets (category);

CREATE TABLE nbhd.gp_practices (
  code       text PRIMARY KEY,
  name       text NOT NULL,
  status     text NOT NULL DEFAULT 'A',
  address    text NOT NULL DEFAULT '',
  postcode   text NOT NULL DEFAULT '',
  phone      text NOT NULL DEFAULT '',
  geom       geometry(Point, 4326) NOT NULL,
  geom_bng   geometry(Point, 27700) GENERATED ALWAYS AS (ST_Transform(geom, 27700)) STORED,
  geom_3857  geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
  dataset_id bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE
);
CREATE INDEX ON nbhd.gp_practices USING gist (geom);
CREATE INDEX ON nbhd.gp_practices USING gist (geom_bng);
CREATE INDEX ON nbhd.gp_practices USING gist (geom_3857);
CREATE INDEX ON nbhd.gp_practices (dataset_id);

-- Registered list sizes by extract date; the latest one is published.
CREATE TABLE nbhd.gp_list_sizes (
  practice_code text NOT NULL,
  extract_date  date NOT NULL,
  patients      integer NOT NULL CHECK (patients >= 0),
  dataset_id    bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE,
  PRIMARY KEY (practice_code, extract_date, dataset_id)
);
CREATE INDEX ON nbhd.gp_list_sizes (dataset_id);

CREATE TABLE nbhd.schools (
  id         text PRIMARY KEY,
  urn        text NOT NULL DEFAULT '',
  name       text NOT NULL,
  phase      text NOT NULL DEFAULT '',
  kind       text NOT NULL DEFAULT '',
  status     text NOT NULL DEFAULT 'open',
  pupils     integer,
  capacity   integer,
  postcode   text NOT NULL DEFAULT '',
  geom       geometry(Point, 4326) NOT NULL,
  geom_bng   geometry(Point, 27700) GENERATED ALWAYS AS (ST_Transform(geom, 27700)) STORED,
  geom_3857  geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
  dataset_id bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE
);
CREATE INDEX ON nbhd.schools USING gist (geom);
CREATE INDEX ON nbhd.schools USING gist (geom_bng);
CREATE INDEX ON nbhd.schools USING gist (geom_3857);
CREATE INDEX ON nbhd.schools (dataset_id);

-- Postcode centroids: geocoding, access measures and the map's search.
CREATE TABLE nbhd.postcodes (
  postcode   text PRIMARY KEY,
  quality    smallint,
  geom       geometry(Point, 4326) NOT NULL,
  geom_bng   geometry(Point, 27700) GENERATED ALWAYS AS (ST_Transform(geom, 27700)) STORED,
  geom_3857  geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
  dataset_id bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE
);
CREATE INDEX ON nbhd.postcodes USING gist (geom);
CREATE INDEX ON nbhd.postcodes USING gist (geom_bng);
CREATE INDEX ON nbhd.postcodes USING gist (geom_3857);
CREATE INDEX ON nbhd.postcodes (dataset_id);

-- Public views. They are owned by the migrating user, so they read schema
-- nbhd on the owner's rights while nbhd_public itself has no grant there.
CREATE VIEW api.datasets AS
SELECT id, kind, key, title, source, source_url, licence, licence_url, attribution,
       vintage, rows, imported_at
FROM nbhd.datasets;

CREATE VIEW api.data_version AS SELECT version, changed_at FROM nbhd.data_version;

CREATE VIEW api.small_areas AS
SELECT sa.code, sa.name, sa.vintage,
       p.population, p.period AS population_period,
       d.imd_rank, d.imd_decile,
       d.income_decile, d.employment_decile, d.education_decile, d.health_decile,
       d.crime_decile, d.barriers_decile, d.living_env_decile,
       sa.geom, sa.geom_bng, sa.geom_3857
FROM nbhd.small_areas sa
LEFT JOIN nbhd.small_area_population p ON p.code = sa.code
LEFT JOIN nbhd.deprivation d ON d.code = sa.code;

CREATE VIEW api.neighbourhood_sets AS
SELECT s.id, s.title, s.description, s.dataset_id,
       (SELECT count(*) FROM nbhd.neighbourhoods n WHERE n.set_id = s.id) AS neighbourhoods
FROM nbhd.neighbourhood_sets s;

CREATE VIEW api.neighbourhoods AS
SELECT n.set_id, n.code, n.name,
       count(m.small_area_code)::integer AS small_areas,
       sum(p.population)::integer AS population,
       n.geom, n.geom_bng, n.geom_3857
FROM nbhd.neighbourhoods n
LEFT JOIN nbhd.neighbourhood_members m ON m.set_id = n.set_id AND m.neighbourhood_code = n.code
LEFT JOIN nbhd.small_area_population p ON p.code = m.small_area_code
GROUP BY n.set_id, n.code;

CREATE VIEW api.community_assets AS
SELECT a.id, a.name, a.category, a.address, a.postcode, a.phone, a.url, a.opening_hours,
       ds.title AS source, a.geom, a.geom_bng, a.geom_3857
FROM nbhd.community_assets a JOIN nbhd.datasets ds ON ds.id = a.dataset_id;

CREATE VIEW api.gp_practices AS
SELECT g.code, g.name, g.status, g.address, g.postcode, g.phone,
       l.patients AS list_size, l.extract_date AS list_size_date,
       g.geom, g.geom_bng, g.geom_3857
FROM nbhd.gp_practices g
LEFT JOIN LATERAL (
  SELECT patients, extract_date FROM nbhd.gp_list_sizes s
  WHERE s.practice_code = g.code ORDER BY extract_date DESC LIMIT 1
) l ON true;

CREATE VIEW api.schools AS
SELECT id, urn, name, phase, kind, status, pupils, capacity, postcode, geom, geom_bng, geom_3857
FROM nbhd.schools;

CREATE VIEW api.postcodes AS
SELECT postcode, quality, geom, geom_bng, geom_3857 FROM nbhd.postcodes;

-- Grants: the public role reads schema api only; staff read everything.
REVOKE ALL ON SCHEMA nbhd FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA nbhd FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO nbhd_public, nbhd_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA api TO nbhd_public, nbhd_staff;
GRANT USAGE ON SCHEMA nbhd, staff TO nbhd_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA nbhd TO nbhd_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA staff TO nbhd_staff;

-- The schema version the server checks in /readyz, readable by the public role.
CREATE VIEW api.schema_version AS SELECT max(version) AS version FROM nbhd.schema_migrations;
GRANT SELECT ON api.schema_version TO nbhd_public, nbhd_staff;
