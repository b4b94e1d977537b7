package ingest

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"nbhd/geo"
)

// Helpers every kind of import shares: dataset keys and earlier rows,
// codes, numbers, coordinates, postcodes and names.

// levels are the ONS geographies a boundary file can hold, with the code
// pattern each one's codes follow; "lsoa" is the small area.
var levels = map[string]*regexp.Regexp{
	"lsoa":   regexp.MustCompile(`^[EW]01\d{6}$`),
	"msoa":   regexp.MustCompile(`^[EW]02\d{6}$`),
	"ward":   regexp.MustCompile(`^[EW]05\d{6}$`),
	"custom": regexp.MustCompile(`^\S.{0,63}$`),
}

var (
	// setIDRe is a neighbourhood set id (it appears in URLs).
	setIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	// categoryRe is an asset category.
	categoryRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// keyOr is the dataset key the user gave, or def.
func keyOr(j Job, def string) string {
	if k := j.Options.text(optKey); k != "" {
		return k
	}
	return def
}

// unknownSmallArea fails on the first staged row whose code is not a loaded
// small area.
func unknownSmallArea(ctx context.Context, tx pgx.Tx, loc at, field, table string) error {
	return firstBad(ctx, tx, loc, field, fmt.Sprintf(`SELECT n, 'unknown small-area code ' || code || ' (not in the loaded LSOA boundaries)'
		FROM %s s WHERE NOT EXISTS (SELECT 1 FROM nbhd.small_areas sa WHERE sa.code = s.code) ORDER BY n LIMIT 1`,
		pgx.Identifier{table}.Sanitize()))
}

// inPlaceOrder writes a point layer's rows in the order of their places
// (PostGIS sorts geometries along a Hilbert curve), the last clause before
// takeOver of an INSERT whose SELECT names its geometry geom. A file's
// order (by name, category or code) scatters a tile's points over the
// whole table: the 1,289 assets of a dense London tile sat in 1,105 heap
// pages, and in 95 once ordered (docs/performance.md, fifth round).
const inPlaceOrder = "ORDER BY geom\n\t\t"

// takeOver is the ON CONFLICT clause by which a new row takes over the
// row with the same natural key, whatever dataset brought it: the newest
// import of a practice, a school or a postcode is the one that counts.
// Earlier imports of the same dataset lose their other rows only in the
// boroughs the new import describes (logic.replace_earlier, after the
// import), so one borough's file never removes another's rows.
func takeOver(conflict string, columns ...string) string {
	set := make([]string, len(columns))
	for i, c := range columns {
		set[i] = c + " = EXCLUDED." + c
	}
	return "ON CONFLICT (" + conflict + ") DO UPDATE SET " + strings.Join(set, ", ")
}

// intIn parses column i as an integer in [lo, hi]; absent columns and empty
// cells are NULL. Thousands separators are accepted.
func intIn(t *table, rec []string, i int, lo, hi int64) (any, error) {
	s := strings.ReplaceAll(field(rec, i), ",", "")
	if i < 0 || s == "" {
		return nil, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, t.errf(i, "%q is not a whole number", s)
	}
	if v < lo || v > hi {
		return nil, t.errf(i, "%d is outside %d..%d", v, lo, hi)
	}
	return v, nil
}

// number parses column i as a number; absent columns and empty cells are NULL.
func number(t *table, rec []string, i int) (any, error) {
	s := strings.ReplaceAll(field(rec, i), ",", "")
	if i < 0 || s == "" {
		return nil, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, t.errf(i, "%q is not a number", s)
	}
	return v, nil
}

// lonLat reads a point from a CSV's longitude and latitude columns, in WGS
// 84 degrees, and checks it lies in the British Isles. Each error names the
// column at fault and speaks of columns, not of GeoJSON.
func lonLat(t *table, rec []string, lonCol, latCol int) (orb.Point, error) {
	lon, err := degrees(t, rec, lonCol, "longitude")
	if err != nil {
		return orb.Point{}, err
	}
	lat, err := degrees(t, rec, latCol, "latitude")
	if err != nil {
		return orb.Point{}, err
	}
	b := geo.BritishIsles
	inLon := func(v float64) bool { return v >= b.Min[0] && v <= b.Max[0] }
	inLat := func(v float64) bool { return v >= b.Min[1] && v <= b.Max[1] }
	switch {
	case math.Abs(lon) > 180 || math.Abs(lat) > 90:
		col, v := lonCol, lon
		if math.Abs(lon) <= 180 {
			col, v = latCol, lat
		}
		return orb.Point{}, t.errf(col, "%g is not in degrees: a British National Grid easting or northing? Give longitude and latitude (WGS 84), or use a kind that reads eastings and northings", v)
	case !inLon(lon) && !inLat(lat) && inLon(lat) && inLat(lon):
		return orb.Point{}, t.errf(latCol, "latitude %g and longitude %g lie outside the British Isles, but swapped they would not: are the %q and %q columns the wrong way round?",
			lat, lon, t.header[latCol], t.header[lonCol])
	case !inLat(lat):
		return orb.Point{}, t.errf(latCol, "latitude %g lies outside the British Isles (%g to %g)", lat, b.Min[1], b.Max[1])
	case !inLon(lon):
		return orb.Point{}, t.errf(lonCol, "longitude %g lies outside the British Isles (%g to %g)", lon, b.Min[0], b.Max[0])
	}
	return orb.Point{lon, lat}, nil
}

// degrees parses one coordinate column as a finite number.
func degrees(t *table, rec []string, col int, what string) (float64, error) {
	s := field(rec, col)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		if s == "" {
			return 0, t.errf(col, "%s is empty", what)
		}
		return 0, t.errf(col, "%s %q is not a number", what, s)
	}
	return v, nil
}

var postcodeRe = regexp.MustCompile(`^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$`)

// normalisePostcode upper-cases a postcode and puts one space before its
// inward code ("wn11lu" -> "WN1 1LU"); other text is returned trimmed.
func normalisePostcode(s string) string {
	p := strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if len(p) < 5 || len(p) > 7 {
		return strings.TrimSpace(s)
	}
	p = p[:len(p)-3] + " " + p[len(p)-3:]
	if !postcodeRe.MatchString(p) {
		return strings.TrimSpace(s)
	}
	return p
}

// unnamed reports names that sources use for "no name".
func unnamed(s string) bool {
	switch strings.ToLower(s) {
	case "", "unknown", "n/a", "none", "unnamed":
		return true
	}
	return false
}

func categoryTitle(c string) string {
	s := strings.ReplaceAll(c, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// listed is how many codes a note or error names before "and N more".
const listed = 10

// someOf lists the first items, saying how many more there are.
func someOf(items []string) string {
	if len(items) <= listed {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:listed], ", "), len(items)-listed)
}

// eastingNorthing reads a British National Grid coordinate pair.
func eastingNorthing(t *table, rec []string, x, y int) (float64, float64, error) {
	xv, err := strconv.ParseFloat(field(rec, x), 64)
	if err != nil || xv < 0 || xv > 800_000 {
		return 0, 0, t.errf(x, "easting %q is not a British National Grid easting (0..800000 m)", field(rec, x))
	}
	yv, err := strconv.ParseFloat(field(rec, y), 64)
	if err != nil || yv < 0 || yv > 1_400_000 {
		return 0, 0, t.errf(y, "northing %q is not a British National Grid northing (0..1400000 m)", field(rec, y))
	}
	return xv, yv, nil
}

func codeSet(ctx context.Context, tx pgx.Tx, sql string, args ...any) (map[string]struct{}, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read codes: %w", err)
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read codes: %w", err)
	}
	out := make(map[string]struct{}, len(codes))
	for _, c := range codes {
		out[c] = struct{}{}
	}
	return out, nil
}

// baseName is a path's last element, / or \\ separated.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
