-- /search (data/search.go): postcodes by prefix (spaces ignored),
-- neighbourhoods by name or code, small areas by code or name prefix;
-- score 0 is an exact match.
--
-- A function so that its statements keep one generic plan per session:
-- sent as a prepared statement, PostgreSQL judged the generic plan dearer
-- and planned every search again (0.5 ms of planning to 0.1 ms of work,
-- four fifths of a search's database time on England).
--
-- Prefixes are byte ranges [p, p || U+10FFFF) read from an index (a
-- generic plan cannot read LIKE 'p%' from one). Names match anywhere
-- through the trigram index (0012_search_names.sql) only when the query
-- has three letters or digits in a row: with fewer, pg_trgm has no
-- trigram to look up and reads the whole index, so a two-character query
-- ("M1") matches neighbourhood names by prefix instead. The arm not taken
-- gets a NULL key, which its index answers with nothing at once.
CREATE FUNCTION api.search(q text, compact text, lim integer)
RETURNS TABLE (kind text, label text, set_id text, code text,
               lon float8, lat float8, xmin float8, ymin float8, xmax float8, ymax float8)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
  anywhere boolean := q ~ '[[:alnum:]]{3}';
  prefix text := lower(q);
  pattern text := CASE WHEN anywhere THEN '%' || replace(replace(replace(prefix, '\', '\\'), '%', '\%'), '_', '\_') || '%' END;
  name_prefix text := CASE WHEN NOT anywhere THEN prefix END;
BEGIN
  -- The matches are ranked and cut to lim first; only then are points and
  -- boxes read: neighbourhoods' from the label point and bbox kept on
  -- publish, a small area's point from its geometry (a postcode's is itself).
  RETURN QUERY
  SELECT x.kind, x.label, x.set_id, x.code,
         coalesce(x.lon, ST_X(p.pt)), coalesce(x.lat, ST_Y(p.pt)),
         ST_XMin(x.box), ST_YMin(x.box), ST_XMax(x.box), ST_YMax(x.box)
  FROM ((
    SELECT 'postcode' AS kind, p.postcode AS label, '' AS set_id, p.postcode AS code,
           CASE WHEN replace(p.postcode, ' ', '') = compact THEN 0 ELSE 1 END AS score,
           ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat, p.geom::box2d AS box, NULL::geometry AS geom
    FROM api.postcodes p WHERE length(compact) >= 2
      AND replace(p.postcode, ' ', '') COLLATE "C" >= compact
      AND replace(p.postcode, ' ', '') COLLATE "C" < compact || chr(1114111)
    ORDER BY replace(p.postcode, ' ', '') COLLATE "C" LIMIT lim)
  UNION ALL (
    SELECT 'neighbourhood', m.name || ' (' || s.title || ')', m.set_id, m.code, m.score,
           m.label_lon::float8, m.label_lat::float8, m.bbox, NULL::geometry
    FROM (SELECT n.name, n.set_id, n.code, n.label_lon, n.label_lat, n.bbox,
                 CASE WHEN lower(n.name) = prefix OR n.code = compact THEN 0
                      WHEN starts_with(lower(n.name), prefix) THEN 1 ELSE 2 END AS score
          FROM api.neighbourhoods n
          WHERE lower(n.name) LIKE pattern
             OR (lower(n.name) COLLATE "C" >= name_prefix AND lower(n.name) COLLATE "C" < name_prefix || chr(1114111))
             OR n.code = compact
          OFFSET 0) m -- the matches first: joined to the sets, a generic plan read a set's every row
    JOIN api.neighbourhood_sets s ON s.id = m.set_id
    ORDER BY 5, 2 LIMIT lim)
  UNION ALL (
    SELECT 'small_area', a.name || ' (' || a.code || ')', '', a.code, CASE WHEN a.code = compact THEN 0 ELSE 3 END,
           NULL::float8, NULL::float8, a.bbox, a.geom
    FROM api.small_areas a WHERE a.code = compact
       OR (lower(a.name) COLLATE "C" >= prefix AND lower(a.name) COLLATE "C" < prefix || chr(1114111))
    ORDER BY 5, 4 LIMIT lim)
  ORDER BY 5, 1, 2 LIMIT lim OFFSET 0) x
  CROSS JOIN LATERAL (SELECT CASE WHEN x.lon IS NULL THEN ST_PointOnSurface(x.geom) END AS pt) p
  ORDER BY x.score, x.kind, x.label;
END $$;
