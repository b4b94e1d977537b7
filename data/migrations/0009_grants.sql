-- Grants in the 360Giving Data Standard, and what a link worker needs to
-- know about a community asset: its cost and who it is for.

-- One row per grant as published (360Giving data is open: every field
-- here is public). A grant another import already brought is taken over
-- by the newer one, as practices and schools are. placed_by says how it
-- was placed in small areas: 'beneficiary' (its beneficiary location's
-- LSOA, MSOA or ward code), 'postcode' (its recipient's postcode) or ''
-- (not placed; unplaced_reason says why). row_number is the file's own
-- (CSV line or spreadsheet row counted with the header as 1, or the
-- grant's position in a JSON package), for the import's notes.
CREATE TABLE nbhd.grants (
  id               text PRIMARY KEY,
  title            text NOT NULL DEFAULT '',
  description      text NOT NULL DEFAULT '',
  currency         text NOT NULL CHECK (currency = 'GBP'),
  amount           numeric NOT NULL CHECK (amount >= 0),
  award_date       date NOT NULL,
  recipient_id     text NOT NULL DEFAULT '',
  recipient_name   text NOT NULL DEFAULT '',
  recipient_postcode text NOT NULL DEFAULT '',
  beneficiary_codes text[] NOT NULL DEFAULT '{}',
  beneficiary_names text[] NOT NULL DEFAULT '{}',
  funder_id        text NOT NULL DEFAULT '',
  funder_name      text NOT NULL DEFAULT '',
  programme_code   text NOT NULL DEFAULT '',
  programme_title  text NOT NULL DEFAULT '',
  url              text NOT NULL DEFAULT '',
  placed_by        text NOT NULL DEFAULT '' CHECK (placed_by IN ('beneficiary', 'postcode', '')),
  unplaced_reason  text NOT NULL DEFAULT '',
  row_number       integer NOT NULL DEFAULT 0,
  dataset_id       bigint NOT NULL REFERENCES nbhd.datasets ON DELETE CASCADE
);
CREATE INDEX ON nbhd.grants (dataset_id);
CREATE INDEX ON nbhd.grants (award_date);
CREATE INDEX ON nbhd.grants (lower(funder_id));

-- Where each grant went: its small areas and the share of its amount each
-- holds (shares of one grant add up to 1; docs/methodology.md, "Placing
-- grants"). A grant placed nowhere has no rows here.
CREATE TABLE nbhd.grant_places (
  grant_id        text NOT NULL REFERENCES nbhd.grants ON DELETE CASCADE,
  small_area_code text NOT NULL REFERENCES nbhd.small_areas ON DELETE CASCADE,
  share           numeric NOT NULL CHECK (share > 0 AND share <= 1),
  amount          numeric NOT NULL CHECK (amount >= 0),
  PRIMARY KEY (grant_id, small_area_code)
);
CREATE INDEX ON nbhd.grant_places (small_area_code);

-- Cost and audience of a community asset, where its list says: cost is
-- free, low, paid or unknown; audience is free text ("older people",
-- "families with children under 5").
ALTER TABLE nbhd.community_assets
  ADD COLUMN IF NOT EXISTS cost text NOT NULL DEFAULT 'unknown' CHECK (cost IN ('free', 'low', 'paid', 'unknown')),
  ADD COLUMN IF NOT EXISTS audience text NOT NULL DEFAULT '';
