-- Many boroughs and England in one database, on this year's releases.
--
-- Every small area knows its local authority district (borough); every row
-- that describes a place knows it too, so a dataset can be replaced or
-- dropped for one borough without touching another. Statistics keep their
-- release (IoD 2019, 2025) and period (mid-2022 ...) side by side. Derived
-- statistics move from materialized views, recomputed whole on every
-- import, into tables that imports refresh for what they touch
-- (definitions/40_refresh.sql).

-- Boroughs and the areas above them (ONS region, combined authority).
CREATE TABLE nbhd.boroughs (
  code text PRIMARY KEY CHECK (code ~ '^[EWSN][0-9]{8}$'),
  name text NOT NULL
);
CREATE TABLE nbhd.borough_regions (
  lad_code    text PRIMARY KEY,
  region_code text NOT NULL,
  region_name text NOT NULL,
  dataset_id  bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE
);
CREATE INDEX ON nbhd.borough_regions (dataset_id);
CREATE TABLE nbhd.borough_cauths (
  lad_code   text PRIMARY KEY,
  cauth_code text NOT NULL,
  cauth_name text NOT NULL,
  dataset_id bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE
);
CREATE INDEX ON nbhd.borough_cauths (dataset_id);

-- What each file says about which borough a small area is in, and how far
-- to trust it (1 = given on import or a column of the boundaries, 2 = an
-- ONS lookup, 3 = the IoD's own column, 4 = where most of its postcodes
-- are). small_areas.lad_code is the most trusted, newest statement.
CREATE TABLE nbhd.small_area_lads (
  code       text NOT NULL,
  lad_code   text NOT NULL CHECK (lad_code ~ '^[EWSN][0-9]{8}$'),
  trust      smallint NOT NULL CHECK (trust BETWEEN 1 AND 4),
  dataset_id bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE,
  PRIMARY KEY (code, dataset_id)
);
CREATE INDEX ON nbhd.small_area_lads (dataset_id);

ALTER TABLE nbhd.small_areas ADD COLUMN lad_code text;
CREATE INDEX ON nbhd.small_areas (lad_code);

-- A dataset may now exist once per borough (Bolton's GP practices beside
-- Wigan's): boroughs lists those its rows describe.
ALTER TABLE nbhd.datasets DROP CONSTRAINT datasets_kind_key;
CREATE INDEX ON nbhd.datasets (kind, key);
ALTER TABLE nbhd.datasets ADD COLUMN boroughs text[] NOT NULL DEFAULT '{}';

-- Population by period, with broad age bands where the source has them.
ALTER TABLE nbhd.small_area_population DROP CONSTRAINT small_area_population_pkey;
ALTER TABLE nbhd.small_area_population ADD PRIMARY KEY (code, period);
ALTER TABLE nbhd.small_area_population
  ADD COLUMN age_0_15 integer CHECK (age_0_15 >= 0),
  ADD COLUMN age_16_64 integer CHECK (age_16_64 >= 0),
  ADD COLUMN age_65_plus integer CHECK (age_65_plus >= 0);
ALTER TABLE nbhd.small_area_population ADD CONSTRAINT population_period_format
  CHECK (period ~ '^(mid-|census-)?[0-9]{4}$');

-- Deprivation by release: IoD 2019 (ranks of 32,844 LSOA 2011s, carried to
-- 2021 codes) and IoD 2025 (33,755 LSOA 2021s) side by side, with the
-- supplementary indices and sub-domains where a file has them.
ALTER TABLE nbhd.deprivation_parts ADD COLUMN release smallint NOT NULL DEFAULT 2019
  CHECK (release IN (2019, 2025));
ALTER TABLE nbhd.deprivation_parts ALTER COLUMN release DROP DEFAULT;
ALTER TABLE nbhd.deprivation ADD COLUMN release smallint NOT NULL DEFAULT 2019;
ALTER TABLE nbhd.deprivation ALTER COLUMN release DROP DEFAULT;
ALTER TABLE nbhd.deprivation DROP CONSTRAINT deprivation_pkey;
ALTER TABLE nbhd.deprivation ADD PRIMARY KEY (code, release);
ALTER TABLE nbhd.deprivation_parts
  ADD COLUMN idaci_rank integer, ADD COLUMN idaci_decile smallint, ADD COLUMN idaci_score numeric,
  ADD COLUMN idaopi_rank integer, ADD COLUMN idaopi_decile smallint, ADD COLUMN idaopi_score numeric,
  ADD COLUMN cyp_rank integer, ADD COLUMN cyp_decile smallint, ADD COLUMN cyp_score numeric,
  ADD COLUMN adult_skills_rank integer, ADD COLUMN adult_skills_decile smallint, ADD COLUMN adult_skills_score numeric,
  ADD COLUMN geo_barriers_rank integer, ADD COLUMN geo_barriers_decile smallint, ADD COLUMN geo_barriers_score numeric,
  ADD COLUMN wider_barriers_rank integer, ADD COLUMN wider_barriers_decile smallint, ADD COLUMN wider_barriers_score numeric,
  ADD COLUMN indoors_rank integer, ADD COLUMN indoors_decile smallint, ADD COLUMN indoors_score numeric,
  ADD COLUMN outdoors_rank integer, ADD COLUMN outdoors_decile smallint, ADD COLUMN outdoors_score numeric;
ALTER TABLE nbhd.deprivation
  ADD COLUMN idaci_rank integer, ADD COLUMN idaci_decile smallint, ADD COLUMN idaci_score numeric,
  ADD COLUMN idaopi_rank integer, ADD COLUMN idaopi_decile smallint, ADD COLUMN idaopi_score numeric,
  ADD COLUMN cyp_rank integer, ADD COLUMN cyp_decile smallint, ADD COLUMN cyp_score numeric,
  ADD COLUMN adult_skills_rank integer, ADD COLUMN adult_skills_decile smallint, ADD COLUMN adult_skills_score numeric,
  ADD COLUMN geo_barriers_rank integer, ADD COLUMN geo_barriers_decile smallint, ADD COLUMN geo_barriers_score numeric,
  ADD COLUMN wider_barriers_rank integer, ADD COLUMN wider_barriers_decile smallint, ADD COLUMN wider_barriers_score numeric,
  ADD COLUMN indoors_rank integer, ADD COLUMN indoors_decile smallint, ADD COLUMN indoors_score numeric,
  ADD COLUMN outdoors_rank integer, ADD COLUMN outdoors_decile smallint, ADD COLUMN outdoors_score numeric;

-- Neighbourhood sets span boroughs: each neighbourhood comes from its own
-- borough's dataset; a set lives while it has neighbourhoods.
ALTER TABLE nbhd.neighbourhood_sets DROP CONSTRAINT neighbourhood_sets_dataset_id_fkey;
ALTER TABLE nbhd.neighbourhood_sets DROP COLUMN dataset_id;
ALTER TABLE nbhd.neighbourhood_sets
  ADD COLUMN level text NOT NULL DEFAULT 'custom' CHECK (level IN ('ward', 'msoa', 'custom')),
  ADD COLUMN vintage text NOT NULL DEFAULT '';
ALTER TABLE nbhd.neighbourhoods
  ADD COLUMN dataset_id bigint REFERENCES nbhd.datasets ON DELETE CASCADE,
  ADD COLUMN lad_code text;
UPDATE nbhd.neighbourhoods n SET dataset_id = (
  SELECT d.id FROM nbhd.datasets d WHERE d.kind = 'neighbourhood_set' AND d.key = n.set_id ORDER BY d.id DESC LIMIT 1);
DELETE FROM nbhd.neighbourhoods WHERE dataset_id IS NULL;
ALTER TABLE nbhd.neighbourhoods ALTER COLUMN dataset_id SET NOT NULL;
CREATE INDEX ON nbhd.neighbourhoods (dataset_id);
CREATE INDEX ON nbhd.neighbourhoods (lad_code);
CREATE INDEX ON nbhd.neighbourhoods USING gist (geom_bng);

-- Where each point (asset, GP practice, school) and postcode is: the small
-- area that holds it ('' for none), so a dot is counted in the neighbourhood
-- whose drawn polygon holds it, and (postcodes) the distance to the nearest
-- asset, practice and school (metres, British National Grid). Kept beside
-- the source rows, not in them, so placing a million postcodes writes
-- narrow rows without touching the source tables' spatial indexes.
CREATE TABLE nbhd.asset_places (
  id text PRIMARY KEY REFERENCES nbhd.community_assets ON DELETE CASCADE,
  small_area_code text NOT NULL
);
CREATE TABLE nbhd.gp_places (
  code text PRIMARY KEY REFERENCES nbhd.gp_practices ON DELETE CASCADE,
  small_area_code text NOT NULL
);
CREATE TABLE nbhd.school_places (
  id text PRIMARY KEY REFERENCES nbhd.schools ON DELETE CASCADE,
  small_area_code text NOT NULL
);
CREATE TABLE nbhd.postcode_places (
  postcode text PRIMARY KEY REFERENCES nbhd.postcodes ON DELETE CASCADE,
  small_area_code text NOT NULL,
  d_asset double precision,
  d_gp double precision,
  d_school double precision
);
CREATE INDEX ON nbhd.asset_places (small_area_code);
CREATE INDEX ON nbhd.gp_places (small_area_code);
CREATE INDEX ON nbhd.school_places (small_area_code);
CREATE INDEX ON nbhd.postcode_places (small_area_code);

-- Settings per borough: borough '' holds England-wide defaults; a
-- borough's own value is merged over them key by key.
ALTER TABLE nbhd.settings ADD COLUMN borough text NOT NULL DEFAULT '';
ALTER TABLE nbhd.settings DROP CONSTRAINT settings_pkey;
ALTER TABLE nbhd.settings ADD PRIMARY KEY (borough, key);

-- Audit rows name the borough a request concerned.
ALTER TABLE nbhd.audit_log ADD COLUMN lad_code text NOT NULL DEFAULT '';

-- Derived statistics, refreshed for what each import touches.
CREATE TABLE nbhd.small_area_stats (
  code             text PRIMARY KEY REFERENCES nbhd.small_areas ON DELETE CASCADE,
  lad_code         text,
  population       integer NOT NULL DEFAULT 0,
  population_period text,
  age_0_15 integer, age_16_64 integer, age_65_plus integer,
  imd_release      smallint,
  imd_rank         integer,
  imd_decile       smallint,
  imd_percentile   double precision,
  income double precision, employment double precision, education double precision, health double precision,
  crime double precision, barriers double precision, living_env double precision,
  assets           integer NOT NULL DEFAULT 0,
  gp_practices     integer NOT NULL DEFAULT 0,
  gp_patients      integer NOT NULL DEFAULT 0,
  schools          integer NOT NULL DEFAULT 0,
  postcodes        integer NOT NULL DEFAULT 0,
  postcodes_near_asset  integer NOT NULL DEFAULT 0,
  postcodes_near_gp     integer NOT NULL DEFAULT 0,
  postcodes_near_school integer NOT NULL DEFAULT 0,
  assets_within_reach   integer NOT NULL DEFAULT 0,
  centre_bng       geometry(Point, 27700)
);
CREATE INDEX ON nbhd.small_area_stats (lad_code);

-- What is served for each neighbourhood: the union of its member small
-- areas (the area its figures describe), and how well that matches the
-- official boundary.
CREATE TABLE nbhd.neighbourhood_areas (
  set_id    text NOT NULL,
  code      text NOT NULL,
  lad_code  text,
  geom      geometry(MultiPolygon, 4326),
  geom_bng  geometry(MultiPolygon, 27700),
  geom_3857 geometry(MultiPolygon, 3857),
  official_area_share double precision,
  official_population_share double precision,
  PRIMARY KEY (set_id, code),
  FOREIGN KEY (set_id, code) REFERENCES nbhd.neighbourhoods ON DELETE CASCADE
);
CREATE INDEX ON nbhd.neighbourhood_areas USING gist (geom);
CREATE INDEX ON nbhd.neighbourhood_areas USING gist (geom_bng);
CREATE INDEX ON nbhd.neighbourhood_areas USING gist (geom_3857);

CREATE TABLE nbhd.neighbourhood_stats (
  set_id text NOT NULL,
  code   text NOT NULL,
  lad_code text,
  small_areas integer NOT NULL,
  population  integer NOT NULL,
  age_0_15 integer, age_16_64 integer, age_65_plus integer,
  deprived_10pct integer NOT NULL, deprived_20pct integer NOT NULL,
  assets integer NOT NULL, gp_practices integer NOT NULL, gp_patients integer NOT NULL, schools integer NOT NULL,
  postcodes integer NOT NULL, postcodes_near_asset integer NOT NULL, postcodes_near_gp integer NOT NULL,
  postcodes_near_school integer NOT NULL,
  income double precision, employment double precision, education double precision, health double precision,
  crime double precision, barriers double precision, living_env double precision,
  worst_domain text,
  PRIMARY KEY (set_id, code),
  FOREIGN KEY (set_id, code) REFERENCES nbhd.neighbourhoods ON DELETE CASCADE
);
CREATE INDEX ON nbhd.neighbourhood_stats (set_id, lad_code);

-- Demand per neighbourhood as the public may see it (disclosure-controlled).
CREATE TABLE nbhd.neighbourhood_demand (
  set_id text NOT NULL,
  code   text NOT NULL,
  segment text NOT NULL,
  period text,
  source text NOT NULL,
  method text NOT NULL,
  suppressed boolean NOT NULL,
  count numeric,
  per_1000 numeric,
  PRIMARY KEY (set_id, code, segment),
  FOREIGN KEY (set_id, code) REFERENCES nbhd.neighbourhoods ON DELETE CASCADE
);

-- Published recorded counts, kept per period: once a period is out, a
-- corrected file for it cannot change what was withheld or shown (see
-- docs/methodology.md, "Releases"); --revise publishes a new release. A
-- neighbourhood's cell holds while its membership (members, a digest of
-- its small areas) is unchanged; set_id '' holds borough totals.
CREATE TABLE nbhd.demand_releases (
  set_id    text NOT NULL,
  code      text NOT NULL,
  segment   text NOT NULL,
  period    text NOT NULL,
  lad_code  text NOT NULL,
  release   integer NOT NULL,
  members   text NOT NULL,
  suppressed boolean NOT NULL,
  count     numeric,
  published_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (set_id, code, segment, period)
);
CREATE INDEX ON nbhd.demand_releases (period, lad_code);
CREATE TABLE nbhd.demand_release_log (
  period   text NOT NULL,
  lad_code text NOT NULL,
  release  integer NOT NULL,
  reason   text NOT NULL,
  at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (period, lad_code, release)
);

-- Every profile indicator of every neighbourhood at each vintage it has
-- ('' is the latest), as numerator and denominator so comparators can
-- add them up, and the value shown (a count, a percent, a rate per 1,000).
CREATE TABLE nbhd.indicator_values (
  set_id    text NOT NULL,
  code      text NOT NULL,
  indicator text NOT NULL,
  vintage   text NOT NULL DEFAULT '',
  num       numeric,
  den       numeric,
  value     numeric,
  suppressed boolean NOT NULL DEFAULT false,
  source    text NOT NULL DEFAULT '',
  method    text NOT NULL DEFAULT '',
  period    text NOT NULL DEFAULT '',
  lad_code  text,
  rank      integer, -- among the set's neighbourhoods in its borough, 1 = highest
  ranked    integer, -- how many of them have a value
  PRIMARY KEY (set_id, code, indicator, vintage),
  FOREIGN KEY (set_id, code) REFERENCES nbhd.neighbourhoods ON DELETE CASCADE
);
CREATE INDEX ON nbhd.indicator_values (set_id, lad_code, indicator);

-- The same indicators for the comparators: a borough, a region, a combined
-- authority and England, each with the coverage its figure rests on.
CREATE TABLE nbhd.comparator_values (
  scope      text NOT NULL CHECK (scope IN ('borough', 'region', 'cauth', 'england')),
  scope_code text NOT NULL,
  indicator  text NOT NULL,
  vintage    text NOT NULL DEFAULT '',
  num        numeric,
  den        numeric,
  value      numeric,
  suppressed boolean NOT NULL DEFAULT false,
  source     text NOT NULL DEFAULT '',
  method     text NOT NULL DEFAULT '',
  period     text NOT NULL DEFAULT '',
  coverage   text NOT NULL DEFAULT '',
  PRIMARY KEY (scope, scope_code, indicator, vintage)
);

-- What imports, drops and settings have made stale since the derived
-- statistics were last refreshed (logic.refresh empties it): small areas
-- whose figures changed, boundaries that moved (what lies in them is placed
-- again), datasets with points or postcodes to place (set_id the table,
-- code the dataset id), postcodes whose nearest asset may have changed
-- (set_id the layer), small areas whose assets within reach may have,
-- boroughs, and neighbourhoods (set_id, code) whose membership or shape
-- changed.
CREATE TABLE nbhd.stale (
  what   text NOT NULL CHECK (what IN ('small_area', 'boundary', 'place', 'access', 'reach', 'borough', 'neighbourhood', 'all')),
  set_id text NOT NULL DEFAULT '',
  code   text NOT NULL,
  PRIMARY KEY (what, set_id, code)
);
