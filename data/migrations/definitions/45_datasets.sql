-- Datasets and boroughs. An import replaces the earlier imports of the same
-- dataset (kind and key) only in the boroughs its own rows describe, so
-- Bolton's GP practices never replace Wigan's, and a national file loaded
-- after a borough's own replaces it there. A row's borough is its small
-- area's (logic.row_boroughs); '' stands for rows no loaded small area
-- holds.

-- delete_rows deletes a dataset's rows in the given boroughs, from every
-- table that keeps rows of datasets. Deletes are noted as stale by the
-- tables' triggers, as any change is.
CREATE FUNCTION logic.delete_rows(ds bigint, lads text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM nbhd.neighbourhoods WHERE dataset_id = ds AND logic.in_lads(lad_code, lads);
  DELETE FROM nbhd.small_area_population t USING nbhd.small_areas sa
  WHERE t.dataset_id = ds AND sa.code = t.code AND logic.in_lads(sa.lad_code, lads);
  DELETE FROM nbhd.deprivation_parts t USING nbhd.small_areas sa
  WHERE t.dataset_id = ds AND sa.code = t.code AND logic.in_lads(sa.lad_code, lads);
  DELETE FROM nbhd.small_area_lads t USING nbhd.small_areas sa
  WHERE t.dataset_id = ds AND sa.code = t.code AND logic.in_lads(sa.lad_code, lads);
  DELETE FROM nbhd.demand t USING nbhd.small_areas sa
  WHERE t.dataset_id = ds AND sa.code = t.small_area_code AND logic.in_lads(sa.lad_code, lads);
  DELETE FROM nbhd.gp_list_sizes t
  WHERE t.dataset_id = ds AND coalesce((SELECT sa.lad_code FROM nbhd.gp_places p JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
                                         WHERE p.code = t.practice_code), '') = ANY(lads);
  DELETE FROM nbhd.community_assets t
  WHERE t.dataset_id = ds AND coalesce((SELECT sa.lad_code FROM nbhd.asset_places p JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
                                         WHERE p.id = t.id), '') = ANY(lads);
  DELETE FROM nbhd.gp_practices t
  WHERE t.dataset_id = ds AND coalesce((SELECT sa.lad_code FROM nbhd.gp_places p JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
                                         WHERE p.code = t.code), '') = ANY(lads);
  DELETE FROM nbhd.schools t
  WHERE t.dataset_id = ds AND coalesce((SELECT sa.lad_code FROM nbhd.school_places p JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
                                         WHERE p.id = t.id), '') = ANY(lads);
  DELETE FROM nbhd.postcodes t
  WHERE t.dataset_id = ds AND coalesce((SELECT coalesce(sa.lad_code, nullif(t.la_code, '')) FROM nbhd.postcode_places p
                                         LEFT JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
                                         WHERE p.postcode = t.postcode), '') = ANY(lads);
  DELETE FROM nbhd.borough_regions WHERE dataset_id = ds AND lad_code = ANY(lads);
  DELETE FROM nbhd.borough_cauths WHERE dataset_id = ds AND lad_code = ANY(lads);
  -- grants: those placed in one of the boroughs, or unplaced when '' is one
  DELETE FROM nbhd.grants t
  WHERE t.dataset_id = ds
    AND (EXISTS (SELECT 1 FROM nbhd.grant_places p JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
                 WHERE p.grant_id = t.id AND logic.in_lads(sa.lad_code, lads))
         OR ('' = ANY(lads) AND NOT EXISTS (SELECT 1 FROM nbhd.grant_places p WHERE p.grant_id = t.id)));
  -- Small areas last: what refers to them has gone first.
  DELETE FROM nbhd.small_areas WHERE dataset_id = ds AND logic.in_lads(lad_code, lads);
END $$;

-- settle_dataset keeps a dataset row true to its rows: gone when it has
-- none left, else with its boroughs and row count.
CREATE FUNCTION logic.settle_dataset(ds bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
  lads text[];
BEGIN
  -- Its rows are what it loaded: not the boroughs it stated for small areas
  -- (facts), and not list sizes beside the practices they came with.
  WITH r AS (SELECT * FROM logic.row_boroughs() r WHERE r.dataset_id = ds)
  SELECT count(*) FILTER (WHERE tbl <> 'small_area_lads'
                            AND NOT (tbl = 'gp_list_sizes' AND EXISTS (SELECT 1 FROM r r2 WHERE r2.tbl = 'gp_practices'))),
         coalesce(array_agg(DISTINCT lad ORDER BY lad) FILTER (WHERE lad IS NOT NULL), '{}')
  INTO n, lads FROM r;
  IF NOT EXISTS (SELECT 1 FROM logic.row_boroughs() r WHERE r.dataset_id = ds) THEN
    DELETE FROM nbhd.datasets WHERE id = ds;
  ELSE
    UPDATE nbhd.datasets SET boroughs = lads, rows = n
    WHERE id = ds AND (boroughs IS DISTINCT FROM lads OR rows <> n);
  END IF;
  -- A set lives while it has neighbourhoods.
  DELETE FROM nbhd.neighbourhood_sets s WHERE NOT EXISTS (SELECT 1 FROM nbhd.neighbourhoods n WHERE n.set_id = s.id);
END $$;

-- assign_by_overlap places each small area not yet in a set into the
-- neighbourhood of one import it overlaps most (by area in British National
-- Grid), when at least min_share of the small area lies in it, so boundary
-- slivers from generalisation never place an area outside the set.
CREATE FUNCTION logic.assign_by_overlap(set_id text, ds bigint, min_share float8) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  INSERT INTO nbhd.neighbourhood_members (set_id, small_area_code, neighbourhood_code, method)
  SELECT DISTINCT ON (sa.code) assign_by_overlap.set_id, sa.code, h.code, 'overlap'
  FROM nbhd.neighbourhoods h
  -- Lateral from each new neighbourhood through the small areas' index,
  -- skipping those a lookup placed before any geometry is cut: the new
  -- rows have no statistics for the planner to choose this by itself.
  CROSS JOIN LATERAL (
    SELECT s.code, s.geom_bng FROM nbhd.small_areas s
    WHERE s.geom && h.geom
      AND NOT EXISTS (SELECT 1 FROM nbhd.neighbourhood_members m WHERE m.set_id = assign_by_overlap.set_id AND m.small_area_code = s.code)
      AND ST_Intersects(s.geom, h.geom)) sa
  WHERE h.set_id = assign_by_overlap.set_id AND h.dataset_id = ds
    AND ST_Area(ST_Intersection(sa.geom_bng, h.geom_bng)) >= min_share * ST_Area(sa.geom_bng)
  ORDER BY sa.code, ST_Area(ST_Intersection(sa.geom_bng, h.geom_bng)) DESC, h.code;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

-- replace_earlier makes a new import replace the earlier imports of the
-- same dataset in the boroughs the new one describes: their rows there go,
-- and an earlier import left with no rows goes.
CREATE FUNCTION logic.replace_earlier(new_id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  d nbhd.datasets;
  scope text[];
  earlier bigint;
BEGIN
  SELECT * INTO d FROM nbhd.datasets WHERE id = new_id;
  -- New points and postcodes learn their small area, so their borough; new
  -- neighbourhoods the borough most of their small areas are in.
  PERFORM logic.place();
  UPDATE nbhd.neighbourhoods n SET lad_code = x.lad
  FROM (SELECT DISTINCT ON (m.set_id, m.neighbourhood_code) m.set_id, m.neighbourhood_code AS code, sa.lad_code AS lad
        FROM nbhd.neighbourhoods h
        JOIN nbhd.neighbourhood_members m ON m.set_id = h.set_id AND m.neighbourhood_code = h.code
        JOIN nbhd.small_areas sa ON sa.code = m.small_area_code
        WHERE h.dataset_id = new_id AND sa.lad_code IS NOT NULL
        GROUP BY m.set_id, m.neighbourhood_code, sa.lad_code
        ORDER BY m.set_id, m.neighbourhood_code, count(*) DESC, sa.lad_code) x
  WHERE n.set_id = x.set_id AND n.code = x.code AND n.lad_code IS DISTINCT FROM x.lad;
  scope := ARRAY(SELECT DISTINCT coalesce(r.lad, '') FROM logic.row_boroughs() r WHERE r.dataset_id = new_id);
  FOR earlier IN SELECT id FROM nbhd.datasets WHERE kind = d.kind AND key = d.key AND id <> new_id ORDER BY id LOOP
    PERFORM logic.delete_rows(earlier, scope);
    -- A neighbourhood the new import took all the members of has gone too.
    DELETE FROM nbhd.neighbourhoods h WHERE h.dataset_id = earlier
      AND NOT EXISTS (SELECT 1 FROM nbhd.neighbourhood_members m WHERE m.set_id = h.set_id AND m.neighbourhood_code = h.code);
    PERFORM logic.settle_dataset(earlier);
  END LOOP;
  -- Small areas an earlier neighbourhood held go to the new import's by
  -- overlap.
  IF d.kind = 'neighbourhood_set' THEN
    PERFORM logic.assign_by_overlap(d.key, new_id, 0.10);
  END IF;
  UPDATE nbhd.datasets SET boroughs = ARRAY(SELECT b FROM unnest(scope) b WHERE b <> '' ORDER BY b) WHERE id = new_id;
END $$;

-- drop_borough removes a borough's rows, and only those, from every
-- dataset; datasets left with no rows go. Its published demand releases
-- go with them. Settings and the borough's name stay.
CREATE FUNCTION logic.drop_borough(borough text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  ds bigint;
  touched integer := 0;
BEGIN
  -- Boundaries last: until they go, every row still knows its borough.
  FOR ds IN SELECT r.dataset_id FROM logic.row_boroughs() r WHERE r.lad = borough
            GROUP BY r.dataset_id ORDER BY bool_or(r.tbl = 'small_areas'), r.dataset_id LOOP
    PERFORM logic.delete_rows(ds, ARRAY[borough]);
    PERFORM logic.settle_dataset(ds);
    touched := touched + 1;
  END LOOP;
  DELETE FROM nbhd.demand_releases WHERE lad_code = borough;
  DELETE FROM nbhd.demand_release_log WHERE lad_code = borough;
  RETURN touched;
END $$;
