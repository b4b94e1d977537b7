-- Derived statistics: materialized views refreshed by logic.refresh_derived.

-- Which small area each asset, practice and school lies in.
CREATE MATERIALIZED VIEW logic.point_small_area AS
SELECT 'asset'::text AS kind, a.id, a.category AS detail, s.code AS small_area_code
FROM nbhd.community_assets a
JOIN LATERAL (SELECT code FROM nbhd.small_areas x WHERE ST_Intersects(x.geom, a.geom) ORDER BY code LIMIT 1) s ON true
UNION ALL
SELECT 'gp', g.code, NULL, s.code
FROM nbhd.gp_practices g
JOIN LATERAL (SELECT code FROM nbhd.small_areas x WHERE ST_Intersects(x.geom, g.geom) ORDER BY code LIMIT 1) s ON true
UNION ALL
SELECT 'school', c.id, c.phase, s.code
FROM nbhd.schools c
JOIN LATERAL (SELECT code FROM nbhd.small_areas x WHERE ST_Intersects(x.geom, c.geom) ORDER BY code LIMIT 1) s ON true;
CREATE UNIQUE INDEX ON logic.point_small_area (kind, id);

-- Each postcode's small area and straight-line distance (metres, British
-- National Grid) to the nearest community asset, GP practice and school.
CREATE MATERIALIZED VIEW logic.postcode_access AS
SELECT p.postcode, s.code AS small_area_code, p.geom_bng,
       (SELECT ST_Distance(p.geom_bng, a.geom_bng) FROM nbhd.community_assets a ORDER BY a.geom_bng <-> p.geom_bng LIMIT 1) AS d_asset,
       (SELECT ST_Distance(p.geom_bng, g.geom_bng) FROM nbhd.gp_practices g ORDER BY g.geom_bng <-> p.geom_bng LIMIT 1) AS d_gp,
       (SELECT ST_Distance(p.geom_bng, c.geom_bng) FROM nbhd.schools c ORDER BY c.geom_bng <-> p.geom_bng LIMIT 1) AS d_school
FROM nbhd.postcodes p
JOIN LATERAL (SELECT code FROM nbhd.small_areas x WHERE ST_Intersects(x.geom_bng, p.geom_bng) ORDER BY code LIMIT 1) s ON true;
CREATE UNIQUE INDEX ON logic.postcode_access (postcode);
CREATE INDEX ON logic.postcode_access (small_area_code);

-- Per small area: population, deprivation, what lies in it, and access.
CREATE MATERIALIZED VIEW logic.small_area_stats AS
WITH dist AS (SELECT (value->>'distance_m')::float8 AS m FROM nbhd.settings WHERE key = 'access')
SELECT sa.code,
       coalesce(p.population, 0) AS population,
       d.imd_rank, d.imd_decile,
       (32844 - d.imd_rank)::float8 / 32843 AS imd_percentile,
       (SELECT count(*) FROM logic.point_small_area x WHERE x.kind = 'asset' AND x.small_area_code = sa.code) AS assets,
       (SELECT count(*) FROM logic.point_small_area x WHERE x.kind = 'gp' AND x.small_area_code = sa.code) AS gp_practices,
       (SELECT coalesce(sum(g.list_size), 0) FROM logic.point_small_area x JOIN api.gp_practices g ON g.code = x.id
         WHERE x.kind = 'gp' AND x.small_area_code = sa.code) AS gp_patients,
       (SELECT count(*) FROM logic.point_small_area x WHERE x.kind = 'school' AND x.small_area_code = sa.code) AS schools,
       (SELECT count(*) FROM logic.postcode_access a WHERE a.small_area_code = sa.code) AS postcodes,
       (SELECT count(*) FROM logic.postcode_access a, dist WHERE a.small_area_code = sa.code AND a.d_asset <= dist.m) AS postcodes_near_asset,
       (SELECT count(*) FROM logic.postcode_access a, dist WHERE a.small_area_code = sa.code AND a.d_gp <= dist.m) AS postcodes_near_gp,
       (SELECT count(*) FROM logic.postcode_access a, dist WHERE a.small_area_code = sa.code AND a.d_school <= dist.m) AS postcodes_near_school,
       (SELECT count(*) FROM nbhd.community_assets a, dist WHERE ST_DWithin(a.geom_bng, sa.geom_bng, dist.m)) AS assets_within_reach,
       -- where people live: the mean of the small area's postcodes, else a point inside it
       coalesce((SELECT ST_Centroid(ST_Collect(a.geom_bng)) FROM logic.postcode_access a WHERE a.small_area_code = sa.code),
                ST_PointOnSurface(sa.geom_bng)) AS centre_bng,
       -- domain deprivation percentiles (1 = most deprived)
       (32844 - d.income_rank)::float8 / 32843 AS income, (32844 - d.employment_rank)::float8 / 32843 AS employment,
       (32844 - d.education_rank)::float8 / 32843 AS education, (32844 - d.health_rank)::float8 / 32843 AS health,
       (32844 - d.crime_rank)::float8 / 32843 AS crime, (32844 - d.barriers_rank)::float8 / 32843 AS barriers,
       (32844 - d.living_env_rank)::float8 / 32843 AS living_env
FROM nbhd.small_areas sa
LEFT JOIN nbhd.small_area_population p ON p.code = sa.code
LEFT JOIN nbhd.deprivation d ON d.code = sa.code;
CREATE UNIQUE INDEX ON logic.small_area_stats (code);
