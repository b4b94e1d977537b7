-- Staleness: triggers note in nbhd.stale what each change to the loaded
-- data affects, so logic.refresh recomputes only that. New points and
-- postcodes need no note: they arrive unplaced (small_area_code NULL),
-- which is itself the note. While logic.refresh runs (nbhd.refreshing is
-- set for its transaction) its own writes are not noted.

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
    PERFORM logic.note('boundary', ARRAY(SELECT n.code FROM new_rows n JOIN old_rows o USING (code)
                                         WHERE NOT ST_Equals(n.geom, o.geom)));
    PERFORM logic.note('borough', ARRAY(SELECT lad_code FROM old_rows));
  ELSE
    PERFORM logic.note('boundary', ARRAY(SELECT code FROM old_rows));
    PERFORM logic.note('borough', ARRAY(SELECT lad_code FROM old_rows));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER small_areas_inserted AFTER INSERT ON nbhd.small_areas
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION logic.small_areas_changed();
CREATE TRIGGER small_areas_updated AFTER UPDATE ON nbhd.small_areas
  REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION logic.small_areas_changed();
CREATE TRIGGER small_areas_deleted AFTER DELETE ON nbhd.small_areas
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION logic.small_areas_changed();

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
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['small_area_population', 'deprivation'] LOOP
    EXECUTE format('CREATE TRIGGER %1$s_inserted AFTER INSERT ON nbhd.%1$s REFERENCING NEW TABLE AS new_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION logic.small_area_rows_changed()', t);
    EXECUTE format('CREATE TRIGGER %1$s_updated AFTER UPDATE ON nbhd.%1$s REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION logic.small_area_rows_changed()', t);
    EXECUTE format('CREATE TRIGGER %1$s_deleted AFTER DELETE ON nbhd.%1$s REFERENCING OLD TABLE AS old_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION logic.small_area_rows_changed()', t);
  END LOOP;
END $$;
CREATE TRIGGER demand_inserted AFTER INSERT ON nbhd.demand REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.demand_changed();
CREATE TRIGGER demand_updated AFTER UPDATE ON nbhd.demand REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.demand_changed();
CREATE TRIGGER demand_deleted AFTER DELETE ON nbhd.demand REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.demand_changed();

-- Points (assets, GP practices, schools): a removed or moved point makes
-- its small area and its surroundings stale; a moved one is placed again.
-- Other edits (a name, a category) only change its small area's figures.
CREATE FUNCTION logic.points_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  layer text := CASE TG_TABLE_NAME WHEN 'community_assets' THEN 'asset' WHEN 'gp_practices' THEN 'gp' ELSE 'school' END;
  key text := CASE TG_TABLE_NAME WHEN 'gp_practices' THEN 'code' ELSE 'id' END;
BEGIN
  IF NOT logic.noting() THEN RETURN NULL; END IF;
  IF TG_OP = 'DELETE' THEN
    PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT small_area_code FROM old_rows));
    PERFORM logic.note_around(ARRAY(SELECT geom_bng FROM old_rows), layer);
    RETURN NULL;
  END IF;
  -- UPDATE
  PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT small_area_code FROM old_rows));
  PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT small_area_code FROM new_rows));
  EXECUTE format($q$
    SELECT logic.note_around(ARRAY(SELECT o.geom_bng FROM old_rows o JOIN new_rows n ON n.%1$I = o.%1$I
                                   WHERE NOT ST_Equals(n.geom, o.geom)), $1)$q$, key) USING layer;
  EXECUTE format($q$
    UPDATE nbhd.%1$I t SET small_area_code = NULL
    FROM old_rows o JOIN new_rows n ON n.%2$I = o.%2$I
    WHERE t.%2$I = n.%2$I AND NOT ST_Equals(n.geom, o.geom)$q$, TG_TABLE_NAME, key);
  RETURN NULL;
END $$;
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['community_assets', 'gp_practices', 'schools'] LOOP
    EXECUTE format('CREATE TRIGGER %1$s_updated AFTER UPDATE ON nbhd.%1$s REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION logic.points_changed()', t);
    EXECUTE format('CREATE TRIGGER %1$s_deleted AFTER DELETE ON nbhd.%1$s REFERENCING OLD TABLE AS old_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION logic.points_changed()', t);
  END LOOP;
END $$;

-- List sizes change their practices' small areas' patient counts.
CREATE FUNCTION logic.list_sizes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT logic.noting() THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT g.small_area_code FROM new_rows n JOIN nbhd.gp_practices g ON g.code = n.practice_code));
  ELSE
    PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT g.small_area_code FROM old_rows o JOIN nbhd.gp_practices g ON g.code = o.practice_code));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER gp_list_sizes_inserted AFTER INSERT ON nbhd.gp_list_sizes REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.list_sizes_changed();
CREATE TRIGGER gp_list_sizes_deleted AFTER DELETE ON nbhd.gp_list_sizes REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.list_sizes_changed();

-- Postcodes: a removed one changes its small area's access figures; a
-- moved one is placed again.
CREATE FUNCTION logic.postcodes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT logic.noting() THEN RETURN NULL; END IF;
  PERFORM logic.note('small_area', ARRAY(SELECT DISTINCT small_area_code FROM old_rows));
  IF TG_OP = 'UPDATE' THEN
    UPDATE nbhd.postcodes t SET small_area_code = NULL
    FROM old_rows o JOIN new_rows n USING (postcode)
    WHERE t.postcode = n.postcode AND NOT ST_Equals(n.geom, o.geom);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER postcodes_updated AFTER UPDATE ON nbhd.postcodes REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.postcodes_changed();
CREATE TRIGGER postcodes_deleted AFTER DELETE ON nbhd.postcodes REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.postcodes_changed();

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
  RETURN NULL;
END $$;
CREATE TRIGGER neighbourhoods_inserted AFTER INSERT ON nbhd.neighbourhoods REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.neighbourhoods_changed();
CREATE TRIGGER neighbourhoods_updated AFTER UPDATE ON nbhd.neighbourhoods REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.neighbourhoods_changed();
CREATE TRIGGER neighbourhoods_deleted AFTER DELETE ON nbhd.neighbourhoods REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.neighbourhoods_changed();

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
CREATE TRIGGER members_inserted AFTER INSERT ON nbhd.neighbourhood_members REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.members_changed();
CREATE TRIGGER members_deleted AFTER DELETE ON nbhd.neighbourhood_members REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION logic.members_changed();

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
    JOIN nbhd.small_areas s ON s.lad_code = n.borough JOIN nbhd.postcodes p ON p.small_area_code = s.code
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
  IF logic.noting() THEN
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
CREATE FUNCTION logic.lad_lookup_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF logic.noting() THEN
    PERFORM logic.note('borough', ARRAY['*']);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER borough_regions_changed AFTER INSERT OR UPDATE OR DELETE ON nbhd.borough_regions
  FOR EACH STATEMENT EXECUTE FUNCTION logic.lad_lookup_changed();
CREATE TRIGGER borough_cauths_changed AFTER INSERT OR UPDATE OR DELETE ON nbhd.borough_cauths
  FOR EACH STATEMENT EXECUTE FUNCTION logic.lad_lookup_changed();
