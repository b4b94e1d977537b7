-- Public views of the loaded sources. They are owned by the migrating user,
-- so they read schema nbhd on the owner's rights while nbhd_public itself
-- has no grant there.
CREATE VIEW api.datasets AS
SELECT id, kind, key, title, source, source_url, licence, licence_url, attribution,
       vintage, rows, imported_at
FROM nbhd.datasets;

CREATE VIEW api.data_version AS SELECT version, changed_at FROM nbhd.data_version;

CREATE VIEW api.neighbourhood_sets AS
SELECT s.id, s.title, s.description, s.dataset_id,
       (SELECT count(*) FROM nbhd.neighbourhoods n WHERE n.set_id = s.id) AS neighbourhoods
FROM nbhd.neighbourhood_sets s;

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

CREATE VIEW api.postcodes AS
SELECT postcode, quality, geom, geom_bng, geom_3857 FROM nbhd.postcodes;

CREATE VIEW api.schools AS
SELECT id, urn, name, phase, kind, status, pupils, capacity, postcode, geom, geom_bng, geom_3857,
       fsm_percent
FROM nbhd.schools;

-- Which neighbourhood each small area is in: public, as the boundaries are.
CREATE VIEW api.neighbourhood_members AS
SELECT set_id, neighbourhood_code, small_area_code, method FROM nbhd.neighbourhood_members;

-- The schema the server checks in /readyz, readable by the public role:
-- every applied migration with its checksum (version 0 is the definitions).
CREATE VIEW api.schema_migrations AS SELECT version, name, sha256 FROM nbhd.schema_migrations;
CREATE VIEW api.schema_version AS SELECT max(version) AS version FROM nbhd.schema_migrations;
