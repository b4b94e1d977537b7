package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"nbhd/geo"
)

// featureSource reads a GeoJSON FeatureCollection one feature at a time,
// checking each geometry is lon/lat in the British Isles and of an allowed
// type. Errors name the feature.
type featureSource struct {
	file    string
	fr      *geo.FeatureReader
	allowed []string
}

func newFeatureSource(file string, r io.Reader, allowed []string) (*featureSource, error) {
	fr, err := geo.NewFeatureReader(r)
	if err != nil {
		return nil, &InputError{File: file, Err: err}
	}
	return &featureSource{file: file, fr: fr, allowed: allowed}, nil
}

// next returns the next feature, its 1-based number and its geometry as
// EWKB, or io.EOF after the last one. An empty collection is an error.
func (s *featureSource) next() (int, *geojson.Feature, []byte, error) {
	f, n, err := s.fr.Next()
	if errors.Is(err, io.EOF) {
		if n == 0 {
			return 0, nil, nil, &InputError{File: s.file, Err: fmt.Errorf("the FeatureCollection has no features")}
		}
		return n, nil, nil, io.EOF
	}
	if err != nil {
		return n, nil, nil, &InputError{File: s.file, Err: err}
	}
	if f.Geometry == nil {
		return n, nil, nil, &InputError{File: s.file, Feature: n, Field: "geometry", Err: geo.ErrEmptyGeometry}
	}
	if !allowedType(f.Geometry, s.allowed) {
		return n, nil, nil, &InputError{File: s.file, Feature: n, Field: "geometry",
			Err: fmt.Errorf("geometry is a %s; expected %s", f.Geometry.GeoJSONType(), strings.Join(s.allowed, " or "))}
	}
	if err := geo.CheckLonLat(f.Geometry, geo.BritishIsles); err != nil {
		return n, nil, nil, &InputError{File: s.file, Feature: n, Field: "geometry", Err: err}
	}
	wkb, err := geo.EWKB(f.Geometry, geo.CRS84.SRID)
	if err != nil {
		return n, nil, nil, &InputError{File: s.file, Feature: n, Field: "geometry", Err: err}
	}
	return n, f, wkb, nil
}

var (
	polygonal = []string{"Polygon", "MultiPolygon"}
	anyShape  = []string{"Point", "MultiPoint", "Polygon", "MultiPolygon"}
)

func allowedType(g orb.Geometry, allowed []string) bool {
	for _, t := range allowed {
		if g.GeoJSONType() == t {
			return true
		}
	}
	return false
}

// prop returns a feature property as trimmed text ("" when absent or null).
func prop(f *geojson.Feature, key string) string {
	if key == "" {
		return ""
	}
	v, ok := f.Properties[key]
	if !ok || v == nil {
		return ""
	}
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(strings.ReplaceAll(v, "\x00", "")) // PostgreSQL text holds no NUL
	case float64:
		return strings.TrimSpace(fmt.Sprintf("%.15g", v))
	default:
		return strings.TrimSpace(fmt.Sprint(v))
	}
}

// findProp picks the property key to read: the override if given, else the
// first key (in sorted order, for determinism) that matches a pattern, trying
// patterns in order. ok is false when nothing matches.
func findProp(f *geojson.Feature, override string, patterns ...*regexp.Regexp) (string, bool) {
	if override != "" {
		_, ok := f.Properties[override]
		return override, ok
	}
	keys := make([]string, 0, len(f.Properties))
	for k := range f.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, p := range patterns {
		for _, k := range keys {
			if p.MatchString(k) {
				return k, true
			}
		}
	}
	return "", false
}

func sortedKeys(f *geojson.Feature) []string {
	keys := make([]string, 0, len(f.Properties))
	for k := range f.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func propKeys(f *geojson.Feature) string {
	keys := make([]string, 0, len(f.Properties))
	for k := range f.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// maxRepairChange is how much ST_MakeValid may change a polygon's area, as a
// share, for the repair to be accepted. Generalised boundaries often have
// rings that touch themselves at a point; repairing those changes nothing.
const maxRepairChange = 0.001

// repairPolygons checks the polygons in a staging table (columns n, wkb).
// Invalid ones that ST_MakeValid repairs without changing their area are
// repaired; any other invalid polygon fails the import. It returns a note
// naming the repaired features.
func repairPolygons(ctx context.Context, tx pgx.Tx, loc at, table string) (string, error) {
	t := pgx.Identifier{table}.Sanitize()
	if err := firstBad(ctx, tx, loc, "geometry", fmt.Sprintf(`SELECT n, 'invalid polygon: ' || ST_IsValidReason(g)
		FROM (SELECT n, g, ST_CollectionExtract(ST_MakeValid(g), 3) AS fixed
		      FROM (SELECT n, ST_GeomFromEWKB(wkb) AS g FROM %s) s
		      WHERE ST_Dimension(g) = 2 AND NOT ST_IsValid(g)) x
		WHERE ST_IsEmpty(fixed)
		   OR abs(ST_Area(fixed::geography) - ST_Area(g::geography)) > $1 * ST_Area(fixed::geography)
		ORDER BY n LIMIT 1`, t), maxRepairChange); err != nil {
		return "", err
	}
	rows, err := tx.Query(ctx, fmt.Sprintf(`UPDATE %s SET wkb = ST_AsEWKB(ST_CollectionExtract(ST_MakeValid(ST_GeomFromEWKB(wkb)), 3))
		WHERE ST_Dimension(ST_GeomFromEWKB(wkb)) = 2 AND NOT ST_IsValid(ST_GeomFromEWKB(wkb)) RETURNING n`, t))
	if err != nil {
		return "", fmt.Errorf("repair polygons: %w", err)
	}
	fixed, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil || len(fixed) == 0 {
		return "", err
	}
	return fmt.Sprintf("repaired %d self-touching polygon(s) without changing their area: feature(s) %s", len(fixed), joinInts(fixed)), nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
