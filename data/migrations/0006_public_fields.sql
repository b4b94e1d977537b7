-- Publish the GIAS free-school-meal percentages the official importers
-- (0005) load. New columns go at the end, as CREATE OR REPLACE VIEW requires.
CREATE OR REPLACE VIEW api.schools AS
SELECT id, urn, name, phase, kind, status, pupils, capacity, postcode, geom, geom_bng, geom_3857,
       fsm_percent
FROM nbhd.schools;

GRANT SELECT ON api.schools TO nbhd_public, nbhd_staff;
