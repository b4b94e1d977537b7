-- Publish what the official importers (0005) now load: GIAS free-school-
-- meal percentages and IMD 2019 scores. New columns go at the end, as
-- CREATE OR REPLACE VIEW requires.
CREATE OR REPLACE VIEW api.schools AS
SELECT id, urn, name, phase, kind, status, pupils, capacity, postcode, geom, geom_bng, geom_3857,
       fsm_percent
FROM nbhd.schools;

CREATE OR REPLACE VIEW api.small_areas AS
SELECT sa.code, sa.name, sa.vintage,
       p.population, p.period AS population_period,
       d.imd_rank, d.imd_decile,
       d.income_decile, d.employment_decile, d.education_decile, d.health_decile,
       d.crime_decile, d.barriers_decile, d.living_env_decile,
       round(ch.count, 1) AS chaotic_estimate,
       round(1000 * ch.count / nullif(p.population, 0), 2) AS chaotic_estimate_per_1000,
       round(jc.count, 1) AS just_coping_estimate,
       round(1000 * jc.count / nullif(p.population, 0), 2) AS just_coping_estimate_per_1000,
       CASE WHEN ch.count IS NOT NULL THEN 'estimated' END AS demand_source,
       ch.period AS demand_period,
       round(100.0 * st.postcodes_near_asset / nullif(st.postcodes, 0), 2) AS access_asset_pct,
       st.assets_within_reach,
       sa.geom, sa.geom_bng, sa.geom_3857,
       d.imd_score
FROM nbhd.small_areas sa
LEFT JOIN nbhd.small_area_population p ON p.code = sa.code
LEFT JOIN nbhd.deprivation d ON d.code = sa.code
LEFT JOIN nbhd.small_area_stats st ON st.code = sa.code
LEFT JOIN nbhd.demand ch ON ch.small_area_code = sa.code AND ch.kind = 'estimated' AND ch.segment = 'chaotic'
LEFT JOIN nbhd.demand jc ON jc.small_area_code = sa.code AND jc.kind = 'estimated' AND jc.segment = 'just_coping';

GRANT SELECT ON api.schools, api.small_areas TO nbhd_public, nbhd_staff;
