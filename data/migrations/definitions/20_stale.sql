-- Staleness: triggers note in nbhd.stale what each change to the loaded
-- data affects, so logic.refresh recomputes only that. While logic.refresh
-- runs (nbhd.refreshing is set for its transaction) its own writes are not
-- noted.

CREATE FUNCTION logic.noting() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('nbhd.refreshing', true), '') <> 'on'
$$;

CREATE FUNCTION logic.note(what text, codes text[], set_id text DEFAULT '') RETURNS void LANGUAGE sql AS $$
  INSERT INTO nbhd.stale (what, set_id, code)
  SELECT DISTINCT what, set_id, c FROM unnest(codes) c WHERE c IS NOT NULL
  ON CONFLICT DO NOTHING
$$;

-- Around changed points of a layer ('asset', 'gp' or 'school'): the
-- postcodes whose nearest point of that layer may have changed, and (for
-- assets) the small areas whose assets within reach may have. Past a
-- thousand points, everything is simpler.
CREATE FUNCTION logic.note_around(pts geometry[], layer text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE cap float8 := logic.access_cap();
BEGIN
  IF cardinality(pts) = 0 THEN RETURN; END IF;
  IF cardinality(pts) > 1000 THEN
    PERFORM logic.note('access', ARRAY['*'], layer);
    IF layer = 'asset' THEN PERFORM logic.note('reach', ARRAY['*']); END IF;
    RETURN;
  END IF;
  INSERT INTO nbhd.stale (what, set_id, code)
  SELECT DISTINCT 'access', layer, p.postcode FROM unnest(pts) g JOIN nbhd.postcodes p ON ST_DWithin(p.geom_bng, g, cap)
  ON CONFLICT DO NOTHING;
  IF layer = 'asset' THEN
    INSERT INTO nbhd.stale (what, code)
    SELECT DISTINCT 'reach', s.code FROM unnest(pts) g JOIN nbhd.small_areas s ON ST_DWithin(s.geom_bng, g, cap)
    ON CONFLICT DO NOTHING;
  END IF;
END $$;

-- Small areas: a new or moved boundary re-places what lies in it; any
-- change makes its figures and its boroughs stale.
CREATE FUNCTION logic.small_areas_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT logic.noting() THEN RETURN NULL; END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM logic.note('small_area', ARRAY(SELECT code FROM new_rows));
    PERFORM logic.note('borough', ARRAY(SELECT lad_code FROM new_rows));
  END IF;
  IF TG_OP = 'INSERT' THEN
    PERFORM logic.note('boundary', ARRAY(SELECT code FROM new_rows));
  ELSIF TG_OP = 'UPDATE' THEN
    -- Planned afresh on every call (EXECUTE): PL/pgSQL caches its plans,
    -- and one made for a few rows joined 33,755 new rows to 33,755 old
    -- ones by nested loop from disk in England's load (minutes).
    EXECUTE $q$SELECT logic.note('boundary', ARRAY(SELECT n.code FROM new_rows n JOIN old_rows o USING (code)
                                                  WHERE NOT ST_Equals(n.geom, o.geom)))$q$;
    PERFORM logic.note('borough', ARRAY(SELECT lad_code FROM old_rows));
  ELSE
    PERFORM logic.note('boundary', ARRAY(SELECT code FROM old_rows));
    PERFORM logic.note('borough', ARRAY(SELECT lad_code FROM old_rows));
  END IF;
  RETURN NULL;
END $$;
SELECT logic.watch_rows('small_areas', 'small_areas_changed');

-- Tables keyed by small area (population, deprivation, demand): their
-- small areas' figures are stale.
CREATE FUNCTION logic.small_area_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT logic.noting() THEN RETURN NULL; END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT code FROM new_rows));
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT code FROM old_rows));
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION logic.demand_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT logic.noting() THEN RETURN NULL; END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT small_area_code FROM new_rows WHERE kind = 'recorded'));
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT small_area_code FROM old_rows WHERE kind = 'recorded'));
  END IF;
  RETURN NULL;
END $$;
SELECT logic.watch_rows('small_area_population', 'small_area_rows_changed');
SELECT logic.watch_rows('deprivation', 'small_area_rows_changed');
SELECT logic.watch_rows('demand', 'demand_changed');

-- Points (assets, GP practices, schools) and postcodes: new ones are noted
-- to be placed, by table and dataset; a moved one loses its place and is
-- placed again; a removed one makes its surroundings stale (its place row
-- goes with it, and the place tables note its small area). Other edits (a
-- name, a category) change its small area's figures.
CREATE FUNCTION logic.places_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF logic.noting() THEN
    PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT small_area_code FROM old_rows WHERE small_area_code <> ''));
  END IF;
  RETURN NULL;
END $$;
SELECT logic.watch_rows(t, 'places_changed', ARRAY['DELETE'])
FROM unnest(ARRAY['asset_places', 'gp_places', 'school_places', 'postcode_places']) t;

-- layer_of names a point table's layer and its place table and key.
CREATE FUNCTION logic.layer_of(tbl text, OUT layer text, OUT places text, OUT key text) LANGUAGE sql IMMUTABLE AS $$
  SELECT l, p, k FROM (VALUES ('community_assets', 'asset', 'asset_places', 'id'), ('gp_practices', 'gp', 'gp_places', 'code'),
                        ('schools', 'school', 'school_places', 'id'), ('postcodes', '', 'postcode_places', 'postcode')) v(t, l, p, k)
  WHERE t = tbl
$$;

-- note_cells notes the zoom-12 clustering cells of a layer's changed
-- points (logic.publish_point_cells counts them again, with every cell
-- over them at lower zooms); past 5,000 points, all of the layer's.
CREATE FUNCTION logic.note_cells(pts geometry[], layer text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(pts) > 5000 THEN
    PERFORM logic.note('cells', ARRAY['*'], layer);
  ELSE
    PERFORM logic.note('cells', ARRAY(SELECT floor(ST_X(g) / logic.cell_size(12))::bigint || ',' || floor(ST_Y(g) / logic.cell_size(12))::bigint
                                      FROM unnest(pts) g WHERE g IS NOT NULL), layer);
  END IF;
END $$;

CREATE FUNCTION logic.points_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  l record := logic.layer_of(TG_TABLE_NAME);
BEGIN
  IF NOT logic.noting() THEN RETURN NULL; END IF;
  IF l.layer <> '' AND TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM logic.note_cells(ARRAY(SELECT geom_3857 FROM new_rows), l.layer);
  END IF;
  IF l.layer <> '' AND TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM logic.note_cells(ARRAY(SELECT geom_3857 FROM old_rows), l.layer);
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO nbhd.stale (what, set_id, code)
    SELECT DISTINCT 'place', TG_TABLE_NAME, dataset_id::text FROM new_rows ON CONFLICT DO NOTHING;
    RETURN NULL;
  END IF;
  IF l.layer <> '' THEN
    PERFORM logic.note_around(ARRAY(SELECT geom_bng FROM old_rows), l.layer);
  END IF;
  IF TG_OP = 'UPDATE' THEN
    -- Moved: placed again. Otherwise its small area's figures are stale.
    EXECUTE format($q$
      WITH moved AS (
        SELECT n.%2$I AS key, n.dataset_id FROM new_rows n JOIN old_rows o ON o.%2$I = n.%2$I
        WHERE NOT ST_Equals(n.geom, o.geom) OR n.dataset_id <> o.dataset_id
      ), gone AS (
        DELETE FROM nbhd.%1$I p USING moved m WHERE p.%2$I = m.key
      )
      INSERT INTO nbhd.stale (what, set_id, code)
      SELECT DISTINCT 'place', $1, dataset_id::text FROM moved ON CONFLICT DO NOTHING$q$, l.places, l.key)
    USING TG_TABLE_NAME;
    EXECUTE format($q$
      SELECT logic.note('small_area', ARRAY(SELECT DISTINCT p.small_area_code FROM new_rows n
        JOIN nbhd.%1$I p ON p.%2$I = n.%2$I WHERE p.small_area_code <> ''))$q$, l.places, l.key);
  END IF;
  RETURN NULL;
END $$;
SELECT logic.watch_rows(t, 'points_changed') FROM unnest(ARRAY['community_assets', 'gp_practices', 'schools', 'postcodes']) t;

-- List sizes change their practices' small areas' patient counts.
CREATE FUNCTION logic.list_sizes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT logic.noting() THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT g.small_area_code FROM new_rows n JOIN nbhd.gp_places g ON g.code = n.practice_code));
  ELSE
    PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT g.small_area_code FROM old_rows o JOIN nbhd.gp_places g ON g.code = o.practice_code));
  END IF;
  RETURN NULL;
END $$;
SELECT logic.watch_rows('gp_list_sizes', 'list_sizes_changed', ARRAY['INSERT', 'DELETE']);

-- Neighbourhoods and their membership: the neighbourhood's shape, figures
-- and its borough's disclosure groups are stale.
CREATE FUNCTION logic.neighbourhoods_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT logic.noting() THEN RETURN NULL; END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO nbhd.stale (what, set_id, code) SELECT DISTINCT 'neighbourhood', set_id, code FROM new_rows ON CONFLICT DO NOTHING;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM logic.note('borough', ARRAY(SELECT DISTINCT lad_code FROM old_rows));
  END IF;
  IF TG_OP = 'DELETE' THEN
    -- gone: the refresh unpublishes it
    INSERT INTO nbhd.stale (what, set_id, code) SELECT DISTINCT 'neighbourhood', set_id, code FROM old_rows ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$;
SELECT logic.watch_rows('neighbourhoods', 'neighbourhoods_changed');

CREATE FUNCTION logic.members_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT logic.noting() THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO nbhd.stale (what, set_id, code)
    SELECT DISTINCT 'neighbourhood', set_id, neighbourhood_code FROM new_rows ON CONFLICT DO NOTHING;
  ELSE
    INSERT INTO nbhd.stale (what, set_id, code)
    SELECT DISTINCT 'neighbourhood', o.set_id, o.neighbourhood_code FROM old_rows o
    WHERE EXISTS (SELECT 1 FROM nbhd.neighbourhoods n WHERE n.set_id = o.set_id AND n.code = o.neighbourhood_code)
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$;
SELECT logic.watch_rows('neighbourhood_members', 'members_changed', ARRAY['INSERT', 'DELETE']);

-- Settings: a borough's own change makes that borough stale; a change to
-- the England-wide defaults makes everything stale.
CREATE FUNCTION logic.settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT logic.noting() THEN RETURN NULL; END IF;
  IF EXISTS (SELECT 1 FROM new_rows WHERE borough = '') THEN
    PERFORM logic.note('all', ARRAY['']);
  ELSE
    PERFORM logic.note('borough', ARRAY(SELECT borough FROM new_rows));
    -- A wider access distance needs postcode distances re-checked there.
    INSERT INTO nbhd.stale (what, set_id, code)
    SELECT 'access', l, p.postcode FROM new_rows n
    JOIN nbhd.small_areas s ON s.lad_code = n.borough JOIN nbhd.postcode_places p ON p.small_area_code = s.code
    CROSS JOIN unnest(ARRAY['asset', 'gp', 'school']) l
    WHERE n.key = 'access'
    ON CONFLICT DO NOTHING;
    PERFORM logic.note('reach', ARRAY(SELECT s.code FROM new_rows n JOIN nbhd.small_areas s ON s.lad_code = n.borough
      WHERE n.key = 'access'));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER settings_inserted AFTER INSERT ON nbhd.settings REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.settings_changed();
CREATE TRIGGER settings_updated AFTER UPDATE ON nbhd.settings REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.settings_changed();
CREATE FUNCTION logic.settings_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF logic.noting() AND EXISTS (SELECT 1 FROM old_rows) THEN
    PERFORM logic.note('borough', ARRAY(SELECT borough FROM old_rows WHERE borough <> ''));
    PERFORM logic.note('access', ARRAY['*'], 'asset');
    PERFORM logic.note('access', ARRAY['*'], 'gp');
    PERFORM logic.note('access', ARRAY['*'], 'school');
    PERFORM logic.note('reach', ARRAY['*']);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER settings_deleted AFTER DELETE ON nbhd.settings REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.settings_deleted();

-- Region and combined-authority lookups change their boroughs' comparators.
-- Only a statement that changed rows counts: every import replaces its
-- earlier rows table by table, and an empty delete here made every
-- borough of England stale (a one-row import on England took 87 s).
CREATE FUNCTION logic.lad_lookup_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT logic.noting() THEN RETURN NULL; END IF;
  IF TG_OP = 'DELETE' THEN
    IF EXISTS (SELECT 1 FROM old_rows) THEN
      PERFORM logic.note('borough', ARRAY['*']);
    END IF;
  ELSIF EXISTS (SELECT 1 FROM new_rows) THEN
    PERFORM logic.note('borough', ARRAY['*']);
  END IF;
  RETURN NULL;
END $$;
SELECT logic.watch_rows('borough_regions', 'lad_lookup_changed');
SELECT logic.watch_rows('borough_cauths', 'lad_lookup_changed');
