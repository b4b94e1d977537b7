package data

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Place is a search result: a postcode, neighbourhood or small area, with
// where to show it.
type Place struct {
	Kind  string     `json:"kind"` // postcode, neighbourhood or small_area
	Label string     `json:"label"`
	Set   string     `json:"set,omitempty"`
	Code  string     `json:"code"`
	Lon   float64    `json:"lon"`
	Lat   float64    `json:"lat"`
	BBox  [4]float64 `json:"bbox"`
}

// searchSQL finds postcodes by prefix (spaces ignored), neighbourhoods by
// name or code and small areas by code or name prefix; score 0 is exact.
// Prefixes are byte ranges [$2, $2 || U+10FFFF) read from an index
// (0011_search.sql, 48_publish.sql) rather than LIKE, which a generic plan
// cannot read from one. Neighbourhood names match anywhere, through a
// trigram index (0012_search_names.sql), with LIKE's wildcards escaped.
const searchSQL = `(
	  SELECT 'postcode' AS kind, postcode AS label, '' AS set_id, postcode AS code, geom,
	         CASE WHEN replace(postcode, ' ', '') = $2 THEN 0 ELSE 1 END AS score
	  FROM api.postcodes WHERE length($2) >= 2
	    AND replace(postcode, ' ', '') COLLATE "C" >= $2 AND replace(postcode, ' ', '') COLLATE "C" < $2 || chr(1114111)
	  ORDER BY replace(postcode, ' ', '') COLLATE "C" LIMIT $3)
	UNION ALL (
	  SELECT 'neighbourhood', n.name || ' (' || s.title || ')', n.set_id, n.code, n.geom,
	         CASE WHEN lower(n.name) = lower($1) OR n.code = $2 THEN 0
	              WHEN starts_with(lower(n.name), lower($1)) THEN 1 ELSE 2 END
	  FROM api.neighbourhoods n JOIN api.neighbourhood_sets s ON s.id = n.set_id
	  WHERE lower(n.name) LIKE '%' || replace(replace(replace(lower($1), '\', '\\'), '%', '\%'), '_', '\_') || '%'
	     OR n.code = $2
	  ORDER BY 6, 2 LIMIT $3)
	UNION ALL (
	  SELECT 'small_area', name || ' (' || code || ')', '', code, geom, CASE WHEN code = $2 THEN 0 ELSE 3 END
	  FROM api.small_areas WHERE code = $2
	     OR (lower(name) COLLATE "C" >= lower($1) AND lower(name) COLLATE "C" < lower($1) || chr(1114111))
	  ORDER BY 6, 4 LIMIT $3)`

// Search finds up to limit places matching q, best matches first.
func (s *Store) Search(ctx context.Context, q string, limit int) ([]Place, error) {
	q = strings.TrimSpace(q)
	compact := strings.ToUpper(strings.ReplaceAll(q, " ", ""))
	rows, err := s.public.Query(ctx, `SELECT kind, label, set_id, code,
		  ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)),
		  ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)
		FROM (`+searchSQL+`) x ORDER BY score, kind, label LIMIT $3`, q, compact, limit)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Place, error) {
		var p Place
		err := r.Scan(&p.Kind, &p.Label, &p.Set, &p.Code, &p.Lon, &p.Lat, &p.BBox[0], &p.BBox[1], &p.BBox[2], &p.BBox[3])
		return p, err
	})
}
