-- The public polygon layers — small areas, neighbourhoods and the official
-- boundaries — are tables, published by logic.refresh for what changed:
-- features and tiles read one row per feature with every attribute in
-- place, no joins, and the geometry ready for each use: GeoJSON text for
-- the features API (CRS84, 6 decimals) and Web Mercator generalised for
-- bands of tile zooms (geom_zN: simplified to 4 tile units at zoom N and
-- drawn on its grid, logic.tile_band, so a tile at zoom z reads the band at
-- or above z). Below zoom 8 small areas
-- are drawn as groups of a borough's small areas in the same IMD decile
-- (api.small_area_groups): an England map at those zooms would otherwise
-- carry every LSOA's attributes for shapes smaller than a pixel. Up to zoom
-- 10 so is a tile that would hold more than 2,500 small areas (London).

-- world_width is the Web Mercator square's width in metres, and unit_size
-- one tile unit at zoom z (4096 a tile), as tiles.UnitSize computes it:
-- every grid below is a power-of-two multiple of it, so each double is the
-- one the Go side computes.
CREATE FUNCTION logic.world_width() RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 2 * 20037508.342789244::double precision
$$;
CREATE FUNCTION logic.unit_size(z integer) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT logic.world_width() / 2 ^ z / 4096
$$;

-- tile_tolerance is 4 tile units at zoom z, in Web Mercator metres.
CREATE FUNCTION logic.tile_tolerance(z integer) RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
  SELECT 4 * logic.unit_size(z)
$$;

-- generalise simplifies a Web Mercator geometry for zoom z, keeping
-- polygons that would collapse (their outline stays visible).
CREATE FUNCTION logic.generalise(g geometry, z integer) RETURNS geometry LANGUAGE sql IMMUTABLE AS $$
  SELECT ST_Simplify(g, logic.tile_tolerance(z), true)
$$;

-- tile_band is a geometry generalised for zoom z as ST_AsMVTGeom draws it
-- on that zoom's grid (4096 units a tile, one grid for every tile of the
-- zoom): snapped, made valid and wound as MVT wants, by ST_AsMVTGeom
-- itself in a frame of the grid around the geometry, then put back in Web
-- Mercator on the grid's points. A tile at zoom z then draws a band
-- feature that lies inside it by moving and scaling alone (data/tiles.go,
-- onGrid): clipping and validation were most of a polygon's database time
-- per tile on England. NULL when nothing is left of the geometry at zoom z,
-- as ST_AsMVTGeom would draw it there.
CREATE FUNCTION logic.tile_band(g geometry, z integer) RETURNS geometry LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  half constant double precision := logic.world_width() / 2;
  u double precision := logic.unit_size(z);
  s geometry := logic.generalise(g, z);
  x0 double precision := -half + floor((ST_XMin(s) + half) / u) * u;
  y1 double precision := half - floor((half - ST_YMax(s)) / u) * u;
  k integer := greatest(ceil((ST_XMax(s) - x0) / u), ceil((y1 - ST_YMin(s)) / u))::integer + 1;
BEGIN
  RETURN ST_SetSRID(ST_Affine(ST_AsMVTGeom(s, ST_MakeEnvelope(x0, y1 - k * u, x0 + k * u, y1)::box2d, k, 0, false),
                              u, 0, 0, -u, x0, y1), 3857);
END $$;

CREATE VIEW logic.small_areas_src AS
SELECT sa.code, sa.name, sa.vintage, sa.lad_code, b.name AS borough,
       st.population, st.population_period,
       st.imd_release, d.imd_rank, d.imd_decile,
       d.income_decile, d.employment_decile, d.education_decile, d.health_decile,
       d.crime_decile, d.barriers_decile, d.living_env_decile,
       d19.imd_decile AS imd_decile_2019, d25.imd_decile AS imd_decile_2025,
       d25.imd_decile - d19.imd_decile AS imd_decile_change,
       round(ch.count) AS chaotic_estimate,
       round(1000 * ch.count / nullif(st.population, 0), 2) AS chaotic_estimate_per_1000,
       round(jc.count) AS just_coping_estimate,
       round(1000 * jc.count / nullif(st.population, 0), 2) AS just_coping_estimate_per_1000,
       CASE WHEN ch.count IS NOT NULL THEN 'estimated' END AS demand_source,
       ch.period AS demand_period,
       round(100.0 * st.postcodes_near_asset / nullif(st.postcodes, 0), 2) AS access_asset_pct,
       st.assets_within_reach,
       sa.geom, sa.geom_bng, sa.geom_3857,
       d.imd_score
FROM nbhd.small_areas sa
LEFT JOIN nbhd.boroughs b ON b.code = sa.lad_code
LEFT JOIN nbhd.small_area_stats st ON st.code = sa.code
LEFT JOIN nbhd.deprivation d ON d.code = sa.code AND d.release = st.imd_release
LEFT JOIN nbhd.deprivation d19 ON d19.code = sa.code AND d19.release = 2019
LEFT JOIN nbhd.deprivation d25 ON d25.code = sa.code AND d25.release = 2025
LEFT JOIN nbhd.demand ch ON ch.small_area_code = sa.code AND ch.kind = 'estimated' AND ch.segment = 'chaotic'
LEFT JOIN nbhd.demand jc ON jc.small_area_code = sa.code AND jc.kind = 'estimated' AND jc.segment = 'just_coping';


-- Neighbourhoods as served: the union of their member small areas (the
-- area their figures describe), with the headline figures.
CREATE VIEW logic.neighbourhoods_src AS
SELECT n.set_id, n.code, n.name, n.lad_code, b.name AS borough,
       st.small_areas, st.population,
       ch.count AS chaotic, ch.per_1000 AS chaotic_per_1000, ch.suppressed AS chaotic_suppressed,
       jc.count AS just_coping, jc.per_1000 AS just_coping_per_1000, jc.suppressed AS just_coping_suppressed,
       CASE WHEN ch.source = jc.source THEN ch.source ELSE ch.source || '/' || jc.source END AS demand_source,
       round(100.0 * st.deprived_10pct / nullif(st.small_areas, 0), 2) AS deprived_10pct_share,
       round(100.0 * st.deprived_20pct / nullif(st.small_areas, 0), 2) AS deprived_20pct_share,
       st.worst_domain,
       st.assets,
       round(1000.0 * st.assets / nullif(st.population, 0), 2) AS assets_per_1000,
       st.gp_practices, st.gp_patients, st.schools,
       round(100.0 * st.postcodes_near_asset / nullif(st.postcodes, 0), 2) AS access_asset_pct,
       round(100.0 * st.postcodes_near_gp / nullif(st.postcodes, 0), 2) AS access_gp_pct,
       round(100.0 * st.postcodes_near_school / nullif(st.postcodes, 0), 2) AS access_school_pct,
       round(ST_X(ST_PointOnSurface(a.geom))::numeric, 6) AS label_lon,
       round(ST_Y(ST_PointOnSurface(a.geom))::numeric, 6) AS label_lat,
       a.official_area_share, a.official_population_share,
       a.geom, a.geom_bng, a.geom_3857
FROM nbhd.neighbourhoods n
JOIN nbhd.neighbourhood_areas a ON a.set_id = n.set_id AND a.code = n.code
LEFT JOIN nbhd.boroughs b ON b.code = n.lad_code
LEFT JOIN nbhd.neighbourhood_stats st ON st.set_id = n.set_id AND st.code = n.code
LEFT JOIN nbhd.neighbourhood_demand ch ON ch.set_id = n.set_id AND ch.code = n.code AND ch.segment = 'chaotic'
LEFT JOIN nbhd.neighbourhood_demand jc ON jc.set_id = n.set_id AND jc.code = n.code AND jc.segment = 'just_coping';

-- The official boundaries the neighbourhoods were fitted to: a reference
-- layer, drawn as an outline.
CREATE VIEW logic.neighbourhood_boundaries_src AS
SELECT n.set_id, n.code, n.name, n.lad_code, b.name AS borough,
       a.official_area_share, a.official_population_share,
       n.geom, n.geom_bng, n.geom_3857
FROM nbhd.neighbourhoods n
LEFT JOIN nbhd.neighbourhood_areas a ON a.set_id = n.set_id AND a.code = n.code
LEFT JOIN nbhd.boroughs b ON b.code = n.lad_code;


CREATE TABLE api.small_areas AS
SELECT s.*, NULL::geometry AS geom_z8, NULL::geometry AS geom_z10, NULL::geometry AS geom_z12,
       NULL::geometry AS geom_z13, NULL::text AS geojson, NULL::box2d AS bbox, NULL::box2d AS bbox_bng
FROM logic.small_areas_src s WITH NO DATA;
-- bbox and bbox_bng (here and in the two tables below) are each feature's
-- bounding boxes, the very boxes ST_Extent takes from geom and geom_bng.
-- The catalogue's layer extents read them from an index that carries them
-- (an index-only scan, 20 ms for England's small areas) instead of every
-- full geometry (1.8-2.2 s a layer from a cold cache on England, where the
-- whole catalogue's first read could pass the 10 s statement timeout).
-- No parallel workers for these tables: every read of them is a keyed or
-- indexed one, and starting workers took 60-80 ms of that 20 ms read.
-- Stored as the float8 that tiles carry: numeric converts to float8 through
-- text, and these six conversions were a fifth of a z12 tile's database
-- time on England.
ALTER TABLE api.small_areas ALTER COLUMN imd_score TYPE float8, ALTER COLUMN chaotic_estimate TYPE float8,
  ALTER COLUMN chaotic_estimate_per_1000 TYPE float8, ALTER COLUMN just_coping_estimate TYPE float8,
  ALTER COLUMN just_coping_estimate_per_1000 TYPE float8, ALTER COLUMN access_asset_pct TYPE float8;
ALTER TABLE api.small_areas ADD PRIMARY KEY (code);
ALTER TABLE api.small_areas SET (parallel_workers = 0);
CREATE INDEX ON api.small_areas (code) INCLUDE (bbox, bbox_bng);
CREATE INDEX ON api.small_areas USING gist (geom);
CREATE INDEX ON api.small_areas USING gist (geom_bng);
CREATE INDEX ON api.small_areas USING gist (geom_3857);
CREATE INDEX ON api.small_areas USING gist (geom_z8);
CREATE INDEX ON api.small_areas USING gist (geom_z10);
CREATE INDEX ON api.small_areas USING gist (geom_z12);
CREATE INDEX ON api.small_areas USING gist (geom_z13);
CREATE INDEX ON api.small_areas (lad_code);
-- /search reads names by prefix as a byte range (data/search.go).
CREATE INDEX ON api.small_areas ((lower(name) COLLATE "C"));

CREATE TABLE api.small_area_groups (
  lad_code   text,
  borough    text,
  imd_decile smallint,
  small_areas integer NOT NULL,
  population bigint,
  geom_z5    geometry NOT NULL,
  geom_z7    geometry NOT NULL,
  geom_z10   geometry NOT NULL,
  UNIQUE NULLS NOT DISTINCT (lad_code, imd_decile)
);
CREATE INDEX ON api.small_area_groups USING gist (geom_z5);
CREATE INDEX ON api.small_area_groups USING gist (geom_z7);
CREATE INDEX ON api.small_area_groups USING gist (geom_z10);

-- Point layers below the clustering zoom (tiles.ClusterBelowZoom, 13) are
-- drawn by cells of a grid 256 tile units wide: a lone point as it is, two
-- or more as one point at their mean (data/tiles.go). api.point_cells holds
-- every non-empty cell of zooms 0 to 12 of each point layer, counted on
-- publish from the public view a tile reads, so a tile reads its 18 × 18
-- cells by key instead of counting its points (1,289 community assets in
-- one z12 tile over London). A filtered tile counts its own.
CREATE TABLE api.point_cells (
  layer text NOT NULL,     -- 'asset', 'gp' or 'school' (logic.layer_of)
  z     smallint NOT NULL,
  cx    integer NOT NULL,  -- floor(x / logic.cell_size(z)), Web Mercator
  cy    integer NOT NULL,  -- floor(y / logic.cell_size(z))
  n     integer NOT NULL,  -- points in the cell
  mx    double precision NOT NULL, -- their mean position
  my    double precision NOT NULL,
  k     text NOT NULL,     -- their least key: the point itself when n = 1
  PRIMARY KEY (layer, z, cx, cy)
);

-- cell_size is the width of a clustering cell at zoom z in Web Mercator
-- metres, 256 tile units, as tiles.CellSize computes it.
CREATE FUNCTION logic.cell_size(z integer) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 256 * logic.unit_size(z)
$$;

-- publish_point_cells counts again the cells of each point layer that
-- nbhd.stale names: all of them after 'all' or a 'cells' row with code
-- '*', else every zoom's cell over each zoom-12 cell noted ('cx,cy').
-- Zoom-12 cells are counted from the points, their means summed in key
-- order; a cell of a lower zoom is summed from its four cells of the next
-- zoom (cell_size halves exactly from one zoom to the next, so a zoom-z
-- cell's column is cx >> 1 of its zoom-z+1 cells'), their means weighted
-- by count and added in (cx, cy) order. A cell depends only on the cells
-- below it, so one counted again is the same to the bit as in a full
-- count; and an import no longer reads every point of England for the
-- zoom-0 cell (0.6-6 s of a one-row import, docs/performance.md, tenth
-- round).
CREATE FUNCTION logic.publish_point_cells() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  l record;
  zoom integer;
BEGIN
  -- each api view is named after its table (logic.layer_of)
  FOR l IN SELECT v AS view, (logic.layer_of(v)).* FROM unnest(ARRAY['community_assets', 'gp_practices', 'schools']) v LOOP
    IF EXISTS (SELECT 1 FROM nbhd.stale WHERE what = 'all' OR (what = 'cells' AND set_id = l.layer AND code = '*')) THEN
      DELETE FROM api.point_cells WHERE layer = l.layer;
      EXECUTE format($q$
        INSERT INTO api.point_cells (layer, z, cx, cy, n, mx, my, k)
        SELECT $1, 12, floor(ST_X(t.geom_3857) / logic.cell_size(12)), floor(ST_Y(t.geom_3857) / logic.cell_size(12)),
               count(*), avg(ST_X(t.geom_3857) ORDER BY t.%1$I), avg(ST_Y(t.geom_3857) ORDER BY t.%1$I), min(t.%1$I)
        FROM api.%2$I t
        WHERE t.geom_3857 IS NOT NULL
        GROUP BY 3, 4$q$, l.key, l.view) USING l.layer;
      FOR zoom IN REVERSE 11..0 LOOP
        INSERT INTO api.point_cells (layer, z, cx, cy, n, mx, my, k)
        SELECT l.layer, zoom, c.cx >> 1, c.cy >> 1, sum(c.n),
               sum(c.n * c.mx ORDER BY c.cx, c.cy) / sum(c.n), sum(c.n * c.my ORDER BY c.cx, c.cy) / sum(c.n), min(c.k)
        FROM api.point_cells c WHERE c.layer = l.layer AND c.z = zoom + 1
        GROUP BY c.cx >> 1, c.cy >> 1;
      END LOOP;
    ELSIF EXISTS (SELECT 1 FROM nbhd.stale WHERE what = 'cells' AND set_id = l.layer) THEN
      DROP TABLE IF EXISTS pg_temp.cells_todo;
      CREATE TEMP TABLE cells_todo ON COMMIT DROP AS
      SELECT DISTINCT split_part(code, ',', 1)::integer AS cx, split_part(code, ',', 2)::integer AS cy
      FROM nbhd.stale WHERE what = 'cells' AND set_id = l.layer;
      DELETE FROM api.point_cells p USING pg_temp.cells_todo c
      WHERE p.layer = l.layer AND p.z = 12 AND p.cx = c.cx AND p.cy = c.cy;
      -- cell by cell (LATERAL ... OFFSET 0), each by the GiST index
      EXECUTE format($q$
        INSERT INTO api.point_cells (layer, z, cx, cy, n, mx, my, k)
        SELECT $1, 12, c.cx, c.cy, x.n, x.mx, x.my, x.k
        FROM pg_temp.cells_todo c CROSS JOIN LATERAL (
          SELECT count(*) AS n, avg(ST_X(t.geom_3857) ORDER BY t.%1$I) AS mx, avg(ST_Y(t.geom_3857) ORDER BY t.%1$I) AS my,
                 min(t.%1$I) AS k
          FROM api.%2$I t
          WHERE t.geom_3857 && ST_MakeEnvelope(c.cx * logic.cell_size(12), c.cy * logic.cell_size(12),
                                               (c.cx + 1) * logic.cell_size(12), (c.cy + 1) * logic.cell_size(12), 3857)
            AND floor(ST_X(t.geom_3857) / logic.cell_size(12)) = c.cx AND floor(ST_Y(t.geom_3857) / logic.cell_size(12)) = c.cy
          OFFSET 0) x
        WHERE x.n > 0$q$, l.key, l.view) USING l.layer;
      FOR zoom IN REVERSE 11..0 LOOP
        UPDATE pg_temp.cells_todo SET cx = cx >> 1, cy = cy >> 1;
        DELETE FROM api.point_cells p USING (SELECT DISTINCT cx, cy FROM pg_temp.cells_todo) c
        WHERE p.layer = l.layer AND p.z = zoom AND p.cx = c.cx AND p.cy = c.cy;
        INSERT INTO api.point_cells (layer, z, cx, cy, n, mx, my, k)
        SELECT l.layer, zoom, p.cx, p.cy, sum(c.n),
               sum(c.n * c.mx ORDER BY c.cx, c.cy) / sum(c.n), sum(c.n * c.my ORDER BY c.cx, c.cy) / sum(c.n), min(c.k)
        FROM (SELECT DISTINCT cx, cy FROM pg_temp.cells_todo) p
        JOIN api.point_cells c ON c.layer = l.layer AND c.z = zoom + 1
         AND c.cx BETWEEN 2 * p.cx AND 2 * p.cx + 1 AND c.cy BETWEEN 2 * p.cy AND 2 * p.cy + 1
        GROUP BY p.cx, p.cy;
      END LOOP;
    END IF;
  END LOOP;
END $$;

-- Polygon layers at zoom 12, where a neighbourhood fills the screen, are
-- drawn from their features cut to each tile on publish: api.tile_pieces
-- holds each feature's zoom-12 band (geom_z12) as the tile query would draw
-- it in every tile it is drawn in, in the tile's units (data/tiles.go,
-- piecesSQL, with tiles.PieceZoom). A z12 tile then reads its pieces by key
-- and clips nothing: clipping neighbourhoods that cross a tile's edge was
-- two thirds of their database time per tile on England.
CREATE TABLE api.tile_pieces (
  layer  text NOT NULL,     -- the api table: 'small_areas', 'neighbourhoods' or 'neighbourhood_boundaries'
  z      smallint NOT NULL,
  x      integer NOT NULL,
  y      integer NOT NULL,
  set_id text NOT NULL,     -- '' for small areas
  code   text NOT NULL,
  geom   geometry NOT NULL, -- in tile units, 4096 a side
  PRIMARY KEY (layer, z, x, y, set_id, code)
);
CREATE INDEX ON api.tile_pieces (layer, set_id, code);

-- tile_pieces cuts a band geometry g of zoom z to every tile of zoom z it
-- is drawn in, drawn as data/tiles.go draws a band in a tile of its own
-- zoom (onGrid): inside the tile and its buffer, moved and scaled onto the
-- tile's grid; across the edge, clipped by ST_AsMVTGeom. The tile's
-- origin and scale are computed as tiles.Origin and tiles.UnitSize compute
-- them, in the same order, so the doubles are the same.
CREATE FUNCTION logic.tile_pieces(g geometry, z integer) RETURNS TABLE (x integer, y integer, geom geometry)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT t.x, t.y, t.geom FROM (
    SELECT tx AS x, ty AS y,
           CASE WHEN g @ ST_TileEnvelope(z, tx, ty, margin => 0.015625)
                THEN ST_SnapToGrid(ST_TransScale(g, -(-w / 2 + tx * (w / 2 ^ z)), -(w / 2 - ty * (w / 2 ^ z)),
                                                 1 / logic.unit_size(z), -(1 / logic.unit_size(z))), 1)
                ELSE ST_AsMVTGeom(g, ST_TileEnvelope(z, tx, ty), 4096, 64, true) END AS geom
    FROM (SELECT logic.world_width() AS w) c,
         generate_series(greatest(0, floor((ST_XMin(g) + w / 2) / (w / 2 ^ z) - 0.015625)::integer),
                         least(2 ^ z - 1, floor((ST_XMax(g) + w / 2) / (w / 2 ^ z) + 0.015625))::integer) tx,
         generate_series(greatest(0, floor((w / 2 - ST_YMax(g)) / (w / 2 ^ z) - 0.015625)::integer),
                         least(2 ^ z - 1, floor((w / 2 - ST_YMin(g)) / (w / 2 ^ z) + 0.015625))::integer) ty
    WHERE g && ST_TileEnvelope(z, tx, ty, margin => 0.015625)
  ) t WHERE t.geom IS NOT NULL
$$;

-- publish_pieces cuts again the zoom-12 pieces of the given features of an
-- api polygon table (one no longer published loses its pieces);
-- everything sweeps for pieces of any feature gone.
CREATE FUNCTION logic.publish_pieces(tbl text, sets text[], codes text[], everything boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  set_expr text := CASE WHEN tbl = 'small_areas' THEN $s$''$s$ ELSE 't.set_id' END;
BEGIN
  DELETE FROM api.tile_pieces p USING unnest(sets, codes) k(set_id, code)
  WHERE p.layer = tbl AND p.set_id = k.set_id AND p.code = k.code;
  IF everything THEN
    EXECUTE format('DELETE FROM api.tile_pieces p WHERE p.layer = $1 AND NOT EXISTS (SELECT 1 FROM api.%I t WHERE %s = p.set_id AND t.code = p.code)',
                   tbl, set_expr) USING tbl;
  END IF;
  EXECUTE format($q$
    INSERT INTO api.tile_pieces (layer, z, x, y, set_id, code, geom)
    SELECT $1, 12, p.x, p.y, %1$s, t.code, p.geom
    FROM api.%2$I t JOIN (SELECT DISTINCT * FROM unnest($2::text[], $3::text[])) k(set_id, code) ON k.set_id = %1$s AND k.code = t.code
    CROSS JOIN LATERAL logic.tile_pieces(t.geom_z12, 12) p
    WHERE t.geom_z12 IS NOT NULL$q$, set_expr, tbl) USING tbl, sets, codes;
END $$;

CREATE TABLE api.neighbourhoods AS
SELECT s.*, NULL::geometry AS geom_z5, NULL::geometry AS geom_z7, NULL::geometry AS geom_z8, NULL::geometry AS geom_z10,
       NULL::geometry AS geom_z12, NULL::geometry AS geom_z13, NULL::text AS geojson,
       NULL::box2d AS bbox, NULL::box2d AS bbox_bng
FROM logic.neighbourhoods_src s WITH NO DATA;
ALTER TABLE api.neighbourhoods ADD PRIMARY KEY (set_id, code);
ALTER TABLE api.neighbourhoods SET (parallel_workers = 0);
CREATE INDEX ON api.neighbourhoods (set_id) INCLUDE (bbox, bbox_bng);
CREATE INDEX ON api.neighbourhoods USING gist (geom);
CREATE INDEX ON api.neighbourhoods USING gist (geom_bng);
CREATE INDEX ON api.neighbourhoods USING gist (geom_3857);
CREATE INDEX ON api.neighbourhoods USING gist (geom_z5);
CREATE INDEX ON api.neighbourhoods USING gist (geom_z7);
CREATE INDEX ON api.neighbourhoods USING gist (geom_z8);
CREATE INDEX ON api.neighbourhoods USING gist (geom_z10);
CREATE INDEX ON api.neighbourhoods USING gist (geom_z12);
CREATE INDEX ON api.neighbourhoods USING gist (geom_z13);
CREATE INDEX ON api.neighbourhoods (set_id, lad_code);
-- /search (51_search.sql): names anywhere in the name (pg_trgm,
-- 0012_search_names.sql) or, for queries too short for a trigram, by
-- prefix; codes exactly. Without fastupdate: its pending list, which
-- every search scans until a vacuum empties it, took /search on England
-- from 5,100 to 3,800 req/s after two one-row imports.
CREATE INDEX ON api.neighbourhoods USING gin (lower(name) public.gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX ON api.neighbourhoods ((lower(name) COLLATE "C"));
CREATE INDEX ON api.neighbourhoods (code);

CREATE TABLE api.neighbourhood_boundaries AS
SELECT s.*, NULL::geometry AS geom_z5, NULL::geometry AS geom_z7, NULL::geometry AS geom_z8, NULL::geometry AS geom_z10,
       NULL::geometry AS geom_z12, NULL::geometry AS geom_z13, NULL::text AS geojson,
       NULL::box2d AS bbox, NULL::box2d AS bbox_bng
FROM logic.neighbourhood_boundaries_src s WITH NO DATA;
ALTER TABLE api.neighbourhood_boundaries ADD PRIMARY KEY (set_id, code);
ALTER TABLE api.neighbourhood_boundaries SET (parallel_workers = 0);
CREATE INDEX ON api.neighbourhood_boundaries (set_id) INCLUDE (bbox, bbox_bng);
CREATE INDEX ON api.neighbourhood_boundaries USING gist (geom);
CREATE INDEX ON api.neighbourhood_boundaries USING gist (geom_bng);
CREATE INDEX ON api.neighbourhood_boundaries USING gist (geom_3857);
CREATE INDEX ON api.neighbourhood_boundaries USING gist (geom_z5);
CREATE INDEX ON api.neighbourhood_boundaries USING gist (geom_z7);
CREATE INDEX ON api.neighbourhood_boundaries USING gist (geom_z8);
CREATE INDEX ON api.neighbourhood_boundaries USING gist (geom_z10);
CREATE INDEX ON api.neighbourhood_boundaries USING gist (geom_z12);
CREATE INDEX ON api.neighbourhood_boundaries USING gist (geom_z13);

-- publish_changed brings the rows of api table tbl for the given keys
-- (set_id '' for small areas) up to date with its source view
-- (logic.<tbl>_src) without drawing again what has not moved: a row whose
-- geometries are exactly those of its source (PostGIS =, every coordinate
-- in order) keeps its bands, GeoJSON and boxes and has only the attributes
-- that differ (as text, in the table's types) updated; a row that moved is
-- deleted and drawn afresh with bands at the given zooms; one gone is
-- deleted. The tile pieces of the rows drawn afresh or gone are cut
-- again (publish_pieces). An import of one asset changes the figures of a few
-- small areas of its borough, and drawing all of the borough's again was
-- most of its refresh on England (docs/performance.md, tenth round).
CREATE FUNCTION logic.publish_changed(tbl text, bands integer[], sets text[], codes text[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  keyed text := CASE WHEN tbl = 'small_areas' THEN '%1$s.code = k.code' ELSE '%1$s.set_id = k.set_id AND %1$s.code = k.code' END;
  same_key text := CASE WHEN tbl = 'small_areas' THEN 's.code = t.code' ELSE 's.set_id = t.set_id AND s.code = t.code' END;
  keys constant text := '(SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) k(set_id, code)';
  cols text;
  was text;
  now_ text;
  drawn text;
  gone_sets text[];
  gone_codes text[];
  new_sets text[];
  new_codes text[];
BEGIN
  SELECT string_agg(format('%I', v.attname), ', ' ORDER BY v.attnum),
         string_agg(format('t.%I', v.attname), ', ' ORDER BY v.attnum),
         string_agg(format('s.%I::%s', v.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY v.attnum)
  INTO cols, was, now_
  FROM pg_attribute v JOIN pg_attribute a ON a.attrelid = format('api.%I', tbl)::regclass AND a.attname = v.attname
  WHERE v.attrelid = format('logic.%I', tbl || '_src')::regclass AND v.attnum > 0 AND NOT v.attisdropped
    AND v.attname NOT IN ('geom', 'geom_bng', 'geom_3857');
  SELECT string_agg(format('logic.tile_band(s.geom_3857, %s)', b), ', ' ORDER BY b) INTO drawn FROM unnest(bands) b;

  EXECUTE format($q$
    WITH gone AS (
      DELETE FROM api.%1$I t USING %2$s
      WHERE %3$s AND NOT EXISTS (SELECT 1 FROM logic.%4$I s WHERE %5$s AND s.geom IS NOT DISTINCT FROM t.geom
                                   AND s.geom_bng IS NOT DISTINCT FROM t.geom_bng AND s.geom_3857 IS NOT DISTINCT FROM t.geom_3857)
      RETURNING k.set_id, k.code)
    SELECT coalesce(array_agg(set_id), '{}'), coalesce(array_agg(code), '{}') FROM gone$q$,
    tbl, keys, format(keyed, 't'), tbl || '_src', same_key) INTO gone_sets, gone_codes USING sets, codes;
  -- The source view is read key by key (LATERAL ... OFFSET 0, which the
  -- planner keeps as a loop of index lookups): joined as a whole, it was
  -- read by sequential scans and hash joins over every small area of
  -- England for a borough's 95 (0.4 s a statement).
  EXECUTE format($q$
    UPDATE api.%1$I t SET (%2$s) = ROW(%5$s)
    FROM %4$s CROSS JOIN LATERAL (SELECT * FROM logic.%3$I s WHERE %9$s OFFSET 0) s
    WHERE %6$s AND %7$s AND ROW(%8$s)::text IS DISTINCT FROM ROW(%5$s)::text$q$,
    tbl, cols, tbl || '_src', keys, now_, format(keyed, 't'), same_key, was, format(keyed, 's')) USING sets, codes;
  EXECUTE format($q$
    WITH drawn AS (
      INSERT INTO api.%1$I
      SELECT s.*, %2$s, ST_AsGeoJSON(s.geom, 6, 0), s.geom::box2d, s.geom_bng::box2d
      FROM %4$s CROSS JOIN LATERAL (SELECT * FROM logic.%3$I s WHERE %5$s OFFSET 0) s
      WHERE NOT EXISTS (SELECT 1 FROM api.%1$I t WHERE %6$s)
      RETURNING %7$s AS set_id, code)
    SELECT coalesce(array_agg(set_id), '{}'), coalesce(array_agg(code), '{}') FROM drawn$q$,
    tbl, drawn, tbl || '_src', keys, format(keyed, 's'), format(keyed, 't'),
    CASE WHEN tbl = 'small_areas' THEN $s$''::text$s$ ELSE 'set_id' END) INTO new_sets, new_codes USING sets, codes;
  PERFORM logic.publish_pieces(tbl, gone_sets || new_sets, gone_codes || new_codes, false);
END $$;

-- publish_small_areas republishes the given small areas (a code no longer
-- loaded is unpublished) and returns the boroughs whose groups are to be
-- drawn again: those of small areas added, gone, moved, or changed in what
-- a group shows (borough, IMD decile, population). A refresh passes the
-- small areas it deleted; everything (a full refresh) draws every given
-- small area afresh and sweeps for any not loaded, which reads the whole
-- table.
CREATE FUNCTION logic.publish_small_areas(codes text[], everything boolean) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  group_lads text[];
BEGIN
  IF everything THEN
    DELETE FROM api.small_areas t USING unnest(codes) c(code) WHERE t.code = c.code;
    DELETE FROM api.small_areas t WHERE NOT EXISTS (SELECT 1 FROM nbhd.small_areas s WHERE s.code = t.code);
    INSERT INTO api.small_areas
    SELECT s.*, logic.tile_band(s.geom_3857, 8), logic.tile_band(s.geom_3857, 10), logic.tile_band(s.geom_3857, 12),
           logic.tile_band(s.geom_3857, 13), ST_AsGeoJSON(s.geom, 6, 0), s.geom::box2d, s.geom_bng::box2d
    FROM logic.small_areas_src s JOIN (SELECT DISTINCT c FROM unnest(codes) c) k ON k.c = s.code;
    PERFORM logic.publish_pieces('small_areas', array_fill(''::text, ARRAY[cardinality(codes)]), codes, true);
    RETURN ARRAY(SELECT DISTINCT coalesce(lad_code, '') FROM api.small_areas);
  END IF;
  group_lads := ARRAY(
    SELECT DISTINCT coalesce(l, '') FROM (
      SELECT t.code IS NOT NULL AS had, t.lad_code AS was, s.code IS NOT NULL AS has, s.lad_code AS now_
      FROM (SELECT DISTINCT c FROM unnest(codes) c) k(code)
      LEFT JOIN api.small_areas t ON t.code = k.code
      LEFT JOIN LATERAL (SELECT * FROM logic.small_areas_src s WHERE s.code = k.code OFFSET 0) s ON true
      WHERE ROW(t.code, t.lad_code, t.borough, t.imd_decile, t.population)::text
            IS DISTINCT FROM ROW(s.code, s.lad_code, s.borough, s.imd_decile, s.population)::text
         OR t.geom_3857 IS DISTINCT FROM s.geom_3857) x
    CROSS JOIN LATERAL (SELECT x.was WHERE x.had UNION ALL SELECT x.now_ WHERE x.has) v(l));
  PERFORM logic.publish_changed('small_areas', ARRAY[8, 10, 12, 13], array_fill(''::text, ARRAY[cardinality(codes)]), codes);
  RETURN group_lads;
END $$;

-- publish_groups redraws the low-zoom groups of the given boroughs: each
-- borough's small areas of one IMD decile, dissolved at three zoom bands
-- (z10 for the densest tiles up to zoom 10, data/tiles.go); everything (a
-- full refresh) also sweeps for groups of boroughs with no small area left.
-- The union snaps to a grid a quarter of the band's tolerance: simplified
-- neighbours can overlap slightly, which defeats an exact overlay.
CREATE FUNCTION logic.publish_groups(lads text[], everything boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM api.small_area_groups g USING unnest(lads) l(lad) WHERE coalesce(g.lad_code, '') = l.lad;
  IF everything THEN
    DELETE FROM api.small_area_groups g WHERE NOT EXISTS (SELECT 1 FROM api.small_areas s WHERE s.lad_code IS NOT DISTINCT FROM g.lad_code);
  END IF;
  -- lad_code itself in the condition (not coalesced), so its index is used
  INSERT INTO api.small_area_groups
  SELECT s.lad_code, max(s.borough), s.imd_decile, count(*), sum(s.population),
         ST_Multi(ST_CollectionExtract(ST_Union(ST_MakeValid(logic.generalise(s.geom_3857, 5)), logic.tile_tolerance(5) / 4), 3)),
         ST_Multi(ST_CollectionExtract(ST_Union(ST_MakeValid(logic.generalise(s.geom_3857, 7)), logic.tile_tolerance(7) / 4), 3)),
         ST_Multi(ST_CollectionExtract(ST_Union(ST_MakeValid(logic.generalise(s.geom_3857, 10)), logic.tile_tolerance(10) / 4), 3))
  FROM api.small_areas s
  WHERE logic.in_lads(s.lad_code, lads)
  GROUP BY s.lad_code, s.imd_decile;
END $$;

-- publish_neighbourhoods republishes the given neighbourhoods and their
-- official boundaries (one gone is unpublished: a refresh passes those it
-- deleted), drawing again only those that moved (publish_changed);
-- everything draws every one given afresh and sweeps for any gone, as
-- publish_small_areas does.
CREATE FUNCTION logic.publish_neighbourhoods(sets text[], codes text[], everything boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT everything THEN
    PERFORM logic.publish_changed('neighbourhoods', ARRAY[5, 7, 8, 10, 12, 13], sets, codes);
    PERFORM logic.publish_changed('neighbourhood_boundaries', ARRAY[5, 7, 8, 10, 12, 13], sets, codes);
    RETURN;
  END IF;
  DELETE FROM api.neighbourhoods t USING unnest(sets, codes) k(set_id, code) WHERE t.set_id = k.set_id AND t.code = k.code;
  DELETE FROM api.neighbourhoods t
  WHERE NOT EXISTS (SELECT 1 FROM nbhd.neighbourhood_areas a WHERE a.set_id = t.set_id AND a.code = t.code);
  INSERT INTO api.neighbourhoods
  SELECT s.*, logic.tile_band(s.geom_3857, 5), logic.tile_band(s.geom_3857, 7), logic.tile_band(s.geom_3857, 8),
         logic.tile_band(s.geom_3857, 10), logic.tile_band(s.geom_3857, 12), logic.tile_band(s.geom_3857, 13),
         ST_AsGeoJSON(s.geom, 6, 0), s.geom::box2d, s.geom_bng::box2d
  FROM logic.neighbourhoods_src s JOIN (SELECT DISTINCT * FROM unnest(sets, codes)) k(set_id, code)
    ON k.set_id = s.set_id AND k.code = s.code;
  DELETE FROM api.neighbourhood_boundaries t USING unnest(sets, codes) k(set_id, code) WHERE t.set_id = k.set_id AND t.code = k.code;
  DELETE FROM api.neighbourhood_boundaries t
  WHERE NOT EXISTS (SELECT 1 FROM nbhd.neighbourhoods n WHERE n.set_id = t.set_id AND n.code = t.code);
  INSERT INTO api.neighbourhood_boundaries
  SELECT s.*, logic.tile_band(s.geom_3857, 5), logic.tile_band(s.geom_3857, 7), logic.tile_band(s.geom_3857, 8),
         logic.tile_band(s.geom_3857, 10), logic.tile_band(s.geom_3857, 12), logic.tile_band(s.geom_3857, 13),
         ST_AsGeoJSON(s.geom, 6, 0), s.geom::box2d, s.geom_bng::box2d
  FROM logic.neighbourhood_boundaries_src s JOIN (SELECT DISTINCT * FROM unnest(sets, codes)) k(set_id, code)
    ON k.set_id = s.set_id AND k.code = s.code;
  PERFORM logic.publish_pieces('neighbourhoods', sets, codes, true);
  PERFORM logic.publish_pieces('neighbourhood_boundaries', sets, codes, true);
END $$;
