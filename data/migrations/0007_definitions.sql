-- From here on, views, functions and triggers (the domain rules) live in
-- data/migrations/definitions/ and are re-applied whole whenever they
-- change; versioned migrations hold tables and data only. This drops the
-- rules 0001-0006 created, so the definitions can make them again in their
-- own schemas (logic, api, staff).
DROP SCHEMA api CASCADE;
DROP SCHEMA staff CASCADE;
DROP MATERIALIZED VIEW IF EXISTS nbhd.small_area_stats, nbhd.postcode_access, nbhd.point_small_area CASCADE;
DROP FUNCTION nbhd.refresh_derived(), nbhd.refresh_estimates(), nbhd.data_changed(),
  nbhd.bump_data_version(), nbhd.deprivation_parts_changed(), nbhd.combine_deprivation(text[]) CASCADE;
