-- Public views: everything the public role may read. They are owned by the
-- migrating user, so they read schema nbhd on the owner's rights while
-- nbhd_public itself has no grant there; every figure here is already
-- disclosure-controlled.

CREATE VIEW api.datasets AS
SELECT id, kind, key, title, source, source_url, licence, licence_url, attribution,
       vintage, rows, imported_at, boroughs
FROM nbhd.datasets;

CREATE VIEW api.data_version AS SELECT version, changed_at FROM nbhd.data_version;

-- The schema the server checks in /readyz: every applied migration with
-- its checksum (version 0 is the definitions).
CREATE VIEW api.schema_migrations AS SELECT version, name, sha256 FROM nbhd.schema_migrations;
CREATE VIEW api.schema_version AS SELECT max(version) AS version FROM nbhd.schema_migrations;

-- Settings are public: they say how every published figure was made.
-- Each borough's row is England's default merged with its own.
CREATE VIEW api.settings AS
SELECT '' AS borough, key, value FROM nbhd.settings WHERE borough = ''
UNION ALL
SELECT b.code, s.key, logic.jsonb_merge(s.value, coalesce(o.value, '{}'))
FROM nbhd.boroughs b CROSS JOIN nbhd.settings s
LEFT JOIN nbhd.settings o ON o.borough = b.code AND o.key = s.key
WHERE s.borough = '';

CREATE VIEW api.indicators AS SELECT id, position, kind, label, description, grp FROM logic.indicators;

-- Boroughs with small areas loaded, and what lies above them.
CREATE VIEW api.boroughs AS
SELECT b.code, b.name, r.region_code, r.region_name, c.cauth_code, c.cauth_name,
       (SELECT count(*) FROM nbhd.small_areas sa WHERE sa.lad_code = b.code)::integer AS small_areas,
       (SELECT coalesce(sum(s.population), 0) FROM nbhd.small_area_stats s WHERE s.lad_code = b.code)::integer AS population,
       ARRAY(SELECT DISTINCT n.set_id FROM nbhd.neighbourhoods n WHERE n.lad_code = b.code ORDER BY 1) AS neighbourhood_sets
FROM nbhd.boroughs b
LEFT JOIN nbhd.borough_regions r ON r.lad_code = b.code
LEFT JOIN nbhd.borough_cauths c ON c.lad_code = b.code
WHERE EXISTS (SELECT 1 FROM nbhd.small_areas sa WHERE sa.lad_code = b.code);

CREATE VIEW api.neighbourhood_sets AS
SELECT s.id, s.title, s.description, s.level, s.vintage,
       (SELECT count(*) FROM nbhd.neighbourhoods n WHERE n.set_id = s.id) AS neighbourhoods,
       ARRAY(SELECT DISTINCT n.lad_code FROM nbhd.neighbourhoods n WHERE n.set_id = s.id AND n.lad_code IS NOT NULL ORDER BY 1) AS boroughs,
       (SELECT max(n.dataset_id) FROM nbhd.neighbourhoods n WHERE n.set_id = s.id) AS dataset_id
FROM nbhd.neighbourhood_sets s
WHERE EXISTS (SELECT 1 FROM nbhd.neighbourhoods n WHERE n.set_id = s.id);

-- Which neighbourhood each small area is in: public, as the boundaries are.
CREATE VIEW api.neighbourhood_members AS
SELECT set_id, neighbourhood_code, small_area_code, method FROM nbhd.neighbourhood_members;

-- Profile indicators and comparators (published values only).
CREATE VIEW api.neighbourhood_indicators AS
SELECT set_id, code, lad_code, indicator, vintage, value, suppressed, source, method, period, rank, ranked
FROM nbhd.indicator_values;

CREATE VIEW api.comparators AS
SELECT scope, scope_code, indicator, vintage, num, den, value, suppressed, source, method, period, coverage
FROM nbhd.comparator_values;

-- How many neighbourhoods of each set each borough has: count comparators
-- are the average neighbourhood.
-- A table the refresh rewrites (logic.publish_set_sizes), with each
-- borough's region and combined authority beside it: as a view, counting
-- England's 13,888 neighbourhoods and planning the joins cost 3 ms of every
-- profile.
CREATE TABLE api.set_sizes (
  set_id text NOT NULL,
  lad_code text,
  region_code text,
  cauth_code text,
  neighbourhoods integer NOT NULL
);
CREATE INDEX ON api.set_sizes (set_id, lad_code);
CREATE FUNCTION logic.publish_set_sizes() RETURNS void LANGUAGE sql AS $$
  DELETE FROM api.set_sizes;
  INSERT INTO api.set_sizes
  SELECT n.set_id, n.lad_code, r.region_code, c.cauth_code, count(*)::integer
  FROM nbhd.neighbourhoods n
  LEFT JOIN nbhd.borough_regions r ON r.lad_code = n.lad_code
  LEFT JOIN nbhd.borough_cauths c ON c.lad_code = n.lad_code
  GROUP BY 1, 2, 3, 4;
$$;

-- Points carry the borough of the small area that holds them; edited says
-- staff have corrected an imported asset (their values show, and survive
-- re-import; 55_asset_register.sql), edited_at when staff last changed it.
CREATE VIEW api.community_assets AS
SELECT a.id, a.name, a.category, a.address, a.postcode, a.phone, a.url, a.opening_hours,
       ds.title AS source, sa.lad_code, a.geom, a.geom_bng, a.geom_3857,
       a.cost, a.audience,
       coalesce(r.origin = 'import' AND (r.edits <> '{}' OR r.geom IS NOT NULL), false) AS edited,
       logic.utc(r.updated_at) AS edited_at
FROM nbhd.community_assets a JOIN nbhd.datasets ds ON ds.id = a.dataset_id
LEFT JOIN nbhd.asset_places p ON p.id = a.id
LEFT JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
LEFT JOIN nbhd.asset_register r ON r.id = a.id;

CREATE VIEW api.gp_practices AS
SELECT g.code, g.name, g.status, g.address, g.postcode, g.phone,
       l.patients AS list_size, l.extract_date AS list_size_date,
       sa.lad_code, g.geom, g.geom_bng, g.geom_3857
FROM nbhd.gp_practices g
LEFT JOIN LATERAL (
  SELECT patients, extract_date FROM nbhd.gp_list_sizes s
  WHERE s.practice_code = g.code ORDER BY extract_date DESC LIMIT 1
) l ON true
LEFT JOIN nbhd.gp_places p ON p.code = g.code
LEFT JOIN nbhd.small_areas sa ON sa.code = p.small_area_code;

CREATE VIEW api.schools AS
SELECT c.id, c.urn, c.name, c.phase, c.kind, c.status, c.pupils, c.capacity, c.postcode, sa.lad_code,
       c.geom, c.geom_bng, c.geom_3857, c.fsm_percent
FROM nbhd.schools c
LEFT JOIN nbhd.school_places p ON p.id = c.id
LEFT JOIN nbhd.small_areas sa ON sa.code = p.small_area_code;

CREATE VIEW api.postcodes AS
SELECT postcode, quality, geom, geom_bng, geom_3857 FROM nbhd.postcodes;
