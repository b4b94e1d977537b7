-- The asset register: community assets that council staff add, correct and
-- close through the API (OGC API – Features Part 4 on community-assets).
--
-- Staff changes are written through to nbhd.community_assets, so places,
-- counts, tiles and features keep reading one table and always agree. What
-- staff set is kept here, beside the imported row, and put back over it
-- whenever an import writes the row again (definitions/55_asset_register.sql),
-- so the next import does not undo a correction. A closed asset leaves
-- community_assets (it is no longer counted or drawn) and stays here, with
-- every version in nbhd.asset_history.

-- Assets staff create are numbered register-1, register-2 ...: imported ids
-- are always KEY:ref, so the two can never collide.
CREATE SEQUENCE nbhd.asset_register_ids;

CREATE TABLE nbhd.asset_register (
  id            text PRIMARY KEY,
  -- register: created by staff (its row belongs to the borough's
  -- asset_register dataset); import: an imported asset staff corrected.
  origin        text NOT NULL CHECK (origin IN ('register', 'import')),
  -- The fields staff set (name, category, address, postcode, phone,
  -- email, url, opening_hours), as text; an import's value for any other
  -- field still shows.
  edits         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(edits) = 'object'),
  -- Where staff put it, when they moved it.
  geom          geometry(Point, 4326),
  -- What the source said when it last wrote the row (origin import), so
  -- history can show it and a changed source is recorded as a version.
  imported      jsonb,
  imported_geom geometry(Point, 4326),
  lad_code      text NOT NULL DEFAULT '',
  revision      integer NOT NULL DEFAULT 0 CHECK (revision >= 0),
  closed_on     date,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  updated_by    bigint REFERENCES nbhd.api_keys
);
CREATE INDEX ON nbhd.asset_register (lad_code);

-- Every version of a register asset: who (the key, and its name then),
-- when, why, and the asset as it was after the change (a GeoJSON Feature).
-- Imports that change what staff corrected are versions too (key NULL).
CREATE TABLE nbhd.asset_history (
  asset_id text NOT NULL REFERENCES nbhd.asset_register ON DELETE CASCADE,
  revision integer NOT NULL CHECK (revision > 0),
  action   text NOT NULL CHECK (action IN ('import', 'create', 'replace', 'update', 'close')),
  at       timestamptz NOT NULL DEFAULT now(),
  key_id   bigint REFERENCES nbhd.api_keys,
  key_name text NOT NULL DEFAULT '',
  note     text NOT NULL DEFAULT '',
  lad_code text NOT NULL DEFAULT '',
  changed  text[] NOT NULL DEFAULT '{}',
  feature  jsonb NOT NULL,
  PRIMARY KEY (asset_id, revision)
);

GRANT SELECT ON nbhd.asset_register, nbhd.asset_history TO nbhd_staff;
