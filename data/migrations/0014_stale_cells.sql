-- Clustering cells of the point layers (api.point_cells, definitions/
-- 48_publish.sql) are recounted on refresh where points changed: stale
-- rows with what = 'cells' name the layer (set_id) and the zoom-12 cell
-- ('cx,cy', or '*' for all of the layer's cells).
ALTER TABLE nbhd.stale DROP CONSTRAINT IF EXISTS stale_what_check;
ALTER TABLE nbhd.stale ADD CONSTRAINT stale_what_check
  CHECK (what IN ('small_area', 'boundary', 'place', 'access', 'reach', 'borough', 'neighbourhood', 'all', 'cells'));
