-- The asset register (tables in migration 0012): staff add, correct and
-- close community assets through the API. Their changes are written
-- through to nbhd.community_assets, so placing, counting (40_refresh.sql),
-- tiles and features read one table and agree; the staleness triggers of
-- 20_stale.sql note what each change touches, as for an import. What staff
-- set is kept in nbhd.asset_register and put back over an imported row
-- whenever an import writes it again; a closed asset leaves
-- community_assets and an import does not bring it back.

-- The fields staff may write, in the order they are shown.
CREATE FUNCTION logic.asset_fields() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY['name', 'category', 'address', 'postcode', 'phone', 'email', 'url', 'opening_hours']
$$;

-- asset_values is a row's writable fields as JSON text values.
CREATE FUNCTION logic.asset_values(a nbhd.community_assets) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('name', a.name, 'category', a.category, 'address', a.address, 'postcode', a.postcode,
    'phone', a.phone, 'email', a.email, 'url', a.url, 'opening_hours', a.opening_hours)
$$;

-- asset_feature is an open asset as staff see it (a GeoJSON Feature), or
-- NULL when it is not in community_assets. Its md5 is the asset's ETag:
-- any change to what it shows, by staff or by an import, changes it.
CREATE FUNCTION logic.asset_feature(asset text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('type', 'Feature', 'id', a.id,
    'geometry', ST_AsGeoJSON(a.geom, 7)::jsonb,
    'properties', logic.asset_values(a) || jsonb_build_object(
      'source', ds.title, 'lad_code', sa.lad_code,
      'origin', coalesce(r.origin, 'import'),
      'edited', coalesce(r.origin = 'import' AND (r.edits <> '{}' OR r.geom IS NOT NULL), false),
      'edited_fields', to_jsonb(ARRAY(SELECT f FROM unnest(logic.asset_fields() || ARRAY['geometry']) f
                                      WHERE r.origin = 'import' AND (r.edits ? f OR (f = 'geometry' AND r.geom IS NOT NULL)))),
      'edited_at', logic.utc(r.updated_at),
      'status', 'open', 'closed_on', NULL,
      'revision', coalesce(r.revision, 1)))
  FROM nbhd.community_assets a
  JOIN nbhd.datasets ds ON ds.id = a.dataset_id
  LEFT JOIN nbhd.asset_places p ON p.id = a.id
  LEFT JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
  LEFT JOIN nbhd.asset_register r ON r.id = a.id
  WHERE a.id = asset
$$;

-- asset_overlay puts staff's values back over a row an import writes (an
-- INSERT, or the UPDATE of its ON CONFLICT), and keeps an asset staff
-- closed out. On INSERT the row holds the source's own values: they are
-- remembered, and a change to them is a version in the asset's history.
-- The register's own writes set nbhd.register and pass straight through.
CREATE FUNCTION logic.asset_overlay() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r nbhd.asset_register;
  f text;
  src jsonb;
  changed text[];
BEGIN
  IF coalesce(current_setting('nbhd.register', true), '') = 'on' THEN
    RETURN NEW;
  END IF;
  SELECT * INTO r FROM nbhd.asset_register WHERE id = NEW.id;
  IF NOT FOUND THEN
    RETURN NEW;
  END IF;
  IF r.closed_on IS NOT NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    src := logic.asset_values(NEW);
    changed := ARRAY(SELECT e.key FROM jsonb_each(src) e WHERE r.imported->e.key IS DISTINCT FROM e.value ORDER BY e.key);
    IF r.imported_geom IS NULL OR NOT ST_Equals(r.imported_geom, NEW.geom) THEN
      changed := changed || ARRAY['geometry'];
    END IF;
    IF cardinality(changed) > 0 THEN
      UPDATE nbhd.asset_register SET imported = src, imported_geom = NEW.geom, revision = revision + 1 WHERE id = NEW.id
      RETURNING * INTO r;
      -- The version as it now stands: the source's values under staff's.
      INSERT INTO nbhd.asset_history (asset_id, revision, action, key_name, note, lad_code, changed, feature)
      SELECT r.id, r.revision, 'import', '', 'the source changed: ' || ds.title, r.lad_code, changed,
             jsonb_build_object('type', 'Feature', 'id', r.id,
               'geometry', ST_AsGeoJSON(coalesce(r.geom, NEW.geom), 7)::jsonb,
               'properties', src || r.edits || jsonb_build_object('source', ds.title, 'lad_code', r.lad_code,
                 'origin', r.origin, 'edited', r.edits <> '{}' OR r.geom IS NOT NULL, 'edited_at', logic.utc(r.updated_at),
                 'status', 'open', 'closed_on', NULL, 'revision', r.revision))
      FROM nbhd.datasets ds WHERE ds.id = NEW.dataset_id;
    END IF;
  END IF;
  FOREACH f IN ARRAY logic.asset_fields() LOOP
    IF r.edits ? f THEN
      NEW := jsonb_populate_record(NEW, jsonb_build_object(f, r.edits->>f));
    END IF;
  END LOOP;
  IF r.geom IS NOT NULL THEN
    NEW.geom := r.geom;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER community_assets_register BEFORE INSERT OR UPDATE ON nbhd.community_assets
  FOR EACH ROW EXECUTE FUNCTION logic.asset_overlay();

-- register_dataset is the borough's register dataset, made on first use:
-- the provenance of the assets its staff create ("council register").
CREATE FUNCTION logic.register_dataset(lad text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  ds bigint;
  borough text := coalesce((SELECT name FROM nbhd.boroughs WHERE code = lad), lad);
BEGIN
  SELECT id INTO ds FROM nbhd.datasets WHERE kind = 'asset_register' AND key = lad ORDER BY id LIMIT 1;
  IF ds IS NULL THEN
    INSERT INTO nbhd.datasets (kind, key, title, source, licence, licence_url, attribution, boroughs)
    VALUES ('asset_register', lad, 'council register', 'Community assets recorded by ' || borough || ' council staff',
            'Open Government Licence v3.0', 'https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/',
            'Contains ' || borough || ' council register data', ARRAY[lad])
    RETURNING id INTO ds;
  END IF;
  RETURN ds;
END $$;

-- register_write makes one staff change and everything that follows from
-- it, in the caller's transaction (which holds the data lock and has
-- checked the key's scope, the ETag and the values):
--   create   a new asset (fields: all of them; geom required); returns its id
--   replace  every writable field and the position
--   update   the fields given (and the position, when geom is not NULL)
--   close    the asset leaves community_assets, closed on closed_on
-- It records the version (who, when, why), refreshes what the change
-- affects and bumps the data version. Values come validated from the API;
-- the table's constraints stand behind them.
CREATE FUNCTION logic.register_write(action text, asset text, fields jsonb, geom geometry, closed_on date,
                                     key_id bigint, key_name text, note text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  a nbhd.community_assets;
  r nbhd.asset_register;
  pt geometry := ST_Transform(geom, 4326);
  lad text;
  ds bigint;
  touched bigint[] := '{}';
  before jsonb;
  feature jsonb;
  changed text[];
  f text;
BEGIN
  IF action NOT IN ('create', 'replace', 'update', 'close') THEN
    RAISE EXCEPTION 'unknown register action %', action;
  END IF;
  IF pt IS NOT NULL THEN
    lad := (SELECT s.lad_code FROM nbhd.small_areas s WHERE ST_Intersects(s.geom, pt) ORDER BY s.code COLLATE "C" LIMIT 1);
  END IF;
  PERFORM set_config('nbhd.register', 'on', true);

  IF action = 'create' THEN
    IF lad IS NULL THEN
      RAISE EXCEPTION 'a new asset must lie in a loaded borough' USING ERRCODE = 'check_violation';
    END IF;
    asset := 'register-' || nextval('nbhd.asset_register_ids');
    ds := logic.register_dataset(coalesce(lad, ''));
    INSERT INTO nbhd.asset_register (id, origin, edits, geom, lad_code, revision, updated_by)
    VALUES (asset, 'register', fields, pt, coalesce(lad, ''), 0, key_id) RETURNING * INTO r;
    INSERT INTO nbhd.community_assets (id, source_ref, name, category, address, postcode, phone, email, url, opening_hours,
                                       source_geometry, geom, dataset_id)
    VALUES (asset, asset, fields->>'name', fields->>'category', coalesce(fields->>'address', ''), coalesce(fields->>'postcode', ''),
            coalesce(fields->>'phone', ''), coalesce(fields->>'email', ''), coalesce(fields->>'url', ''),
            coalesce(fields->>'opening_hours', ''), 'Point', pt, ds);
    touched := ARRAY[ds];
    changed := ARRAY(SELECT k FROM jsonb_each_text(fields) e(k, v) WHERE v <> '' ORDER BY k) || ARRAY['geometry'];
  ELSE
    SELECT * INTO a FROM nbhd.community_assets WHERE id = asset;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'no open asset %', asset USING ERRCODE = 'no_data_found';
    END IF;
    before := logic.asset_feature(asset);
    SELECT * INTO r FROM nbhd.asset_register WHERE id = asset;
    IF NOT FOUND THEN
      -- Staff's first change to an imported asset: its imported version
      -- becomes revision 1 of its history.
      INSERT INTO nbhd.asset_register (id, origin, imported, imported_geom, lad_code, revision, updated_at)
      VALUES (asset, 'import', logic.asset_values(a), a.geom, coalesce(before->'properties'->>'lad_code', ''), 1,
              (SELECT imported_at FROM nbhd.datasets WHERE id = a.dataset_id))
      RETURNING * INTO r;
      INSERT INTO nbhd.asset_history (asset_id, revision, action, at, key_name, note, lad_code, feature)
      SELECT asset, 1, 'import', ds.imported_at, '', 'imported from ' || ds.title, r.lad_code,
             jsonb_set(jsonb_set(before, '{properties,revision}', '1'), '{properties,origin}', '"import"')
      FROM nbhd.datasets ds WHERE ds.id = a.dataset_id;
    END IF;
    touched := ARRAY[a.dataset_id];
    IF action = 'close' THEN
      DELETE FROM nbhd.community_assets WHERE id = asset;
      UPDATE nbhd.asset_register x SET closed_on = register_write.closed_on WHERE x.id = asset;
      changed := ARRAY['status'];
    ELSE
      changed := ARRAY(SELECT k FROM jsonb_object_keys(fields) k ORDER BY k);
      IF pt IS NOT NULL AND NOT ST_Equals(pt, a.geom) THEN
        changed := changed || ARRAY['geometry'];
      END IF;
      IF action = 'replace' AND r.origin = 'import' THEN
        UPDATE nbhd.asset_register x SET edits = fields, geom = pt WHERE x.id = asset;
      ELSE
        UPDATE nbhd.asset_register x SET edits = x.edits || fields, geom = coalesce(pt, x.geom) WHERE x.id = asset;
      END IF;
      FOREACH f IN ARRAY logic.asset_fields() LOOP
        IF fields ? f THEN
          a := jsonb_populate_record(a, jsonb_build_object(f, fields->>f));
        END IF;
      END LOOP;
      IF pt IS NOT NULL THEN
        a.geom := pt;
      END IF;
      -- A created asset belongs to the register dataset of the borough it
      -- is in, so dropping a borough takes its register assets with it.
      IF r.origin = 'register' AND pt IS NOT NULL THEN
        a.dataset_id := logic.register_dataset(coalesce(lad, ''));
        touched := touched || a.dataset_id;
      END IF;
      UPDATE nbhd.community_assets c SET name = a.name, category = a.category, address = a.address, postcode = a.postcode,
        phone = a.phone, email = a.email, url = a.url, opening_hours = a.opening_hours, geom = a.geom, dataset_id = a.dataset_id
      WHERE c.id = asset;
    END IF;
  END IF;
  PERFORM set_config('nbhd.register', 'off', true);

  -- Placed, counted, drawn: what the change affects, and the data version.
  IF EXISTS (SELECT 1 FROM nbhd.stale) THEN
    PERFORM logic.refresh();
  ELSE
    PERFORM logic.data_changed();
  END IF;
  -- A register dataset counts its assets, and goes with its last.
  FOREACH ds IN ARRAY touched LOOP
    IF (SELECT kind FROM nbhd.datasets WHERE id = ds) = 'asset_register' THEN
      IF NOT EXISTS (SELECT 1 FROM nbhd.community_assets c WHERE c.dataset_id = ds) THEN
        DELETE FROM nbhd.datasets WHERE id = ds;
      ELSE
        UPDATE nbhd.datasets d SET rows = (SELECT count(*) FROM nbhd.community_assets c WHERE c.dataset_id = ds)
        WHERE d.id = ds AND d.rows IS DISTINCT FROM (SELECT count(*) FROM nbhd.community_assets c WHERE c.dataset_id = ds);
      END IF;
    END IF;
  END LOOP;

  IF action = 'close' THEN
    feature := jsonb_set(jsonb_set(jsonb_set(before, '{properties,status}', '"closed"'),
                                   '{properties,closed_on}', to_jsonb(register_write.closed_on::text)),
                         '{properties,edited_at}', to_jsonb(logic.utc(now())));
    lad := before->'properties'->>'lad_code';
  ELSE
    feature := logic.asset_feature(asset);
    lad := feature->'properties'->>'lad_code';
  END IF;
  UPDATE nbhd.asset_register x SET revision = x.revision + 1, updated_at = now(), updated_by = register_write.key_id,
    lad_code = coalesce(lad, '')
  WHERE x.id = asset RETURNING * INTO r;
  feature := jsonb_set(jsonb_set(feature, '{properties,revision}', to_jsonb(r.revision)),
                       '{properties,edited_at}', to_jsonb(logic.utc(r.updated_at)));
  INSERT INTO nbhd.asset_history (asset_id, revision, action, key_id, key_name, note, lad_code, changed, feature)
  VALUES (asset, r.revision, action, key_id, key_name, note, r.lad_code, changed, feature);
  RETURN asset;
END $$;

-- Staff write only through register_write, and read the register through
-- asset_feature; 90_grants.sql revokes every other logic function.
GRANT EXECUTE ON FUNCTION logic.register_write(text, text, jsonb, geometry, date, bigint, text, text),
  logic.asset_feature(text), logic.asset_values(nbhd.community_assets), logic.asset_fields(), logic.utc(timestamptz)
  TO nbhd_staff;
GRANT EXECUTE ON FUNCTION logic.utc(timestamptz) TO nbhd_public;
