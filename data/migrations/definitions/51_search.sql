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
  RETURN QUERY
  SELECT x.kind, x.label, x.set_id, x.code,
         ST_X(ST_PointOnSurface(x.geom)), ST_Y(ST_PointOnSurface(x.geom)),
         ST_XMin(x.geom), ST_YMin(x.geom), ST_XMax(x.geom), ST_YMax(x.geom)
  FROM ((
    SELECT 'postcode' AS kind, p.postcode AS label, '' AS set_id, p.postcode AS code, p.geom,
           CASE WHEN replace(p.postcode, ' ', '') = compact THEN 0 ELSE 1 END AS score
    FROM api.postcodes p WHERE length(compact) >= 2
      AND replace(p.postcode, ' ', '') COLLATE "C" >= compact
      AND replace(p.postcode, ' ', '') COLLATE "C" < compact || chr(1114111)
    ORDER BY replace(p.postcode, ' ', '') COLLATE "C" LIMIT lim)
  UNION ALL (
    SELECT 'neighbourhood', m.name || ' (' || s.title || ')', m.set_id, m.code, m.geom, m.score
    FROM (SELECT n.name, n.set_id, n.code, n.geom,
                 CASE WHEN lower(n.name) = prefix OR n.code = compact THEN 0
                      WHEN starts_with(lower(n.name), prefix) THEN 1 ELSE 2 END AS score
          FROM api.neighbourhoods n
          WHERE lower(n.name) LIKE pattern
             OR (lower(n.name) COLLATE "C" >= name_prefix AND lower(n.name) COLLATE "C" < name_prefix || chr(1114111))
             OR n.code = compact
          OFFSET 0) m -- the matches first: joined to the sets, a generic plan read a set's every row
    JOIN api.neighbourhood_sets s ON s.id = m.set_id
    ORDER BY 6, 2 LIMIT lim)
  UNION ALL (
    SELECT 'small_area', a.name || ' (' || a.code || ')', '', a.code, a.geom, CASE WHEN a.code = compact THEN 0 ELSE 3 END
    FROM api.small_areas a WHERE a.code = compact
       OR (lower(a.name) COLLATE "C" >= prefix AND lower(a.name) COLLATE "C" < prefix || chr(1114111))
    ORDER BY 6, 4 LIMIT lim)) x
  ORDER BY x.score, x.kind, x.label LIMIT lim;
END $$;
