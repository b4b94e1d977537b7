package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/geojson"

	"nbhd/geo"
)

// osmShapes are the geometries an OSM export gives assets: nodes, closed
// ways and multipolygons, and the odd open way (all become one point).
var osmShapes = []string{"Point", "MultiPoint", "Polygon", "MultiPolygon", "LineString", "MultiLineString"}

var (
	osmTypedID = regexp.MustCompile(`^(node|way|relation)/(\d+)$`)
	osmShortID = regexp.MustCompile(`^([nwr])(\d+)$`)
	osmNumber  = regexp.MustCompile(`^\d+$`)
	osmTypes   = map[string]string{"n": "node", "w": "way", "r": "relation", "node": "node", "way": "way", "relation": "relation"}
)

func init() {
	register("osm", &importer{
		summary: "OpenStreetMap GeoJSON export: tagged features become community assets (ODbL attribution recorded)",
		formats: `A GeoJSON export of OpenStreetMap from overpass turbo ("@id": "node/123", tags as properties),
osmtogeojson (tags under "tags"), osmium export (id n123/w45) or ogr2ogr (osm_id with osm_type).
Features whose tags match a category rule become assets keeping their OSM id (osm:node/123); ways
and multipolygons become a point on their surface; others are skipped and counted. The dataset's
licence and attribution default to the ODbL and "© OpenStreetMap contributors", shown by every
layer that uses them.`,
		example: "nbhd import osm wigan-amenities.geojson --categories categories.csv",
		options: []accepts{
			{opt: optKey, help: "dataset key (default osm); asset ids are KEY:node/123"},
			{opt: optCategories},
		},
		refuses: map[string]string{optLA.name: "an OpenStreetMap export has no local-authority field: export the area you need (an overpass area or osmium extract)"},
		ident: func(j Job) (string, string, error) {
			return "community_assets", keyOr(j, "osm"), nil
		},
		run: importOSM,
		provenance: Dataset{
			Source:      "OpenStreetMap contributors",
			SourceURL:   "https://www.openstreetmap.org/copyright",
			Licence:     "Open Database License (ODbL) 1.0",
			LicenceURL:  "https://opendatacommons.org/licenses/odbl/1-0/",
			Attribution: "© OpenStreetMap contributors, ODbL",
		},
	})
}

// osmSource streams the matching features of an OSM export: n, ref, name,
// named, category, address, postcode, phone, email, url, opening, gtype, wkb.
type osmSource struct {
	file      string
	fr        *geo.FeatureReader
	rules     []categoryRule
	unmatched int
	counted   int
}

func newOSM(file string, r io.Reader, rules []categoryRule) (*osmSource, error) {
	fr, err := geo.NewFeatureReader(r)
	if err != nil {
		return nil, &InputError{File: file, Err: err}
	}
	return &osmSource{file: file, fr: fr, rules: rules}, nil
}

func (s *osmSource) next() ([]any, error) {
	for {
		f, n, err := s.fr.Next()
		s.counted = n
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return nil, &InputError{File: s.file, Err: errors.New("the FeatureCollection has no features")}
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, &InputError{File: s.file, Err: err}
		}
		tags := osmTags(f)
		cat, ok := categorise(s.rules, tags)
		if !ok {
			s.unmatched++
			continue
		}
		ref, err := osmID(f)
		if err != nil {
			return nil, &InputError{File: s.file, Feature: n, Field: "@id", Err: err}
		}
		if f.Geometry == nil {
			return nil, &InputError{File: s.file, Feature: n, Field: "geometry", Err: geo.ErrEmptyGeometry}
		}
		if !allowedType(f.Geometry, osmShapes) {
			return nil, &InputError{File: s.file, Feature: n, Field: "geometry",
				Err: fmt.Errorf("geometry is a %s; expected %s", f.Geometry.GeoJSONType(), strings.Join(osmShapes, ", "))}
		}
		if err := geo.CheckLonLat(f.Geometry, geo.BritishIsles); err != nil {
			return nil, &InputError{File: s.file, Feature: n, Field: "geometry", Err: err}
		}
		wkb, err := geo.EWKB(f.Geometry, geo.CRS84.SRID)
		if err != nil {
			return nil, &InputError{File: s.file, Feature: n, Field: "geometry", Err: err}
		}
		name := tags["name"]
		named := !unnamed(name)
		if !named {
			name = categoryTitle(cat)
		}
		return []any{n, ref, name, named, cat, osmAddress(tags), normalisePostcode(tags["addr:postcode"]),
			firstTag(tags, "phone", "contact:phone"), firstTag(tags, "email", "contact:email"),
			firstTag(tags, "website", "contact:website", "url"), tags["opening_hours"], f.Geometry.GeoJSONType(), wkb}, nil
	}
}

// osmTags returns a feature's tags: under "tags" (osmtogeojson) or as the
// properties themselves (overpass turbo, osmium), leaving out metadata
// ("@id", "@timestamp", "id", "type" ...).
func osmTags(f *geojson.Feature) map[string]string {
	src := map[string]any(f.Properties)
	if t, ok := f.Properties["tags"].(map[string]any); ok {
		src = t
	}
	out := make(map[string]string, len(src))
	for k, v := range src {
		if strings.HasPrefix(k, "@") || v == nil {
			continue
		}
		if s, ok := v.(string); ok {
			out[k] = strings.TrimSpace(strings.ReplaceAll(s, "\x00", "")) // PostgreSQL text holds no NUL
		}
	}
	return out
}

// osmID finds the feature's OSM object as "node/123", "way/123" or
// "relation/123" from the forms exporters use: "@id" or the feature id
// ("node/123"; osmium's "n123"), or a numeric id or osm_id beside a type or
// osm_type.
func osmID(f *geojson.Feature) (string, error) {
	for _, v := range []any{f.Properties["@id"], f.ID, f.Properties["id"]} {
		s := strings.TrimSpace(fmt.Sprint(v))
		if v == nil || s == "" {
			continue
		}
		if m := osmTypedID.FindStringSubmatch(s); m != nil {
			return m[1] + "/" + m[2], nil
		}
		if m := osmShortID.FindStringSubmatch(s); m != nil {
			return osmTypes[m[1]] + "/" + m[2], nil
		}
	}
	for _, p := range [][2]string{{"osm_id", "osm_type"}, {"id", "type"}} {
		id := prop(f, p[0])
		typ, ok := osmTypes[strings.ToLower(prop(f, p[1]))]
		if ok && osmNumber.MatchString(id) {
			return typ + "/" + id, nil
		}
	}
	return "", errors.New(`no OpenStreetMap id: expected "@id" or an id such as "node/123" (or osm_id with osm_type)`)
}

func firstTag(tags map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := tags[k]; v != "" {
			return v
		}
	}
	return ""
}

// osmAddress joins addr:* tags into one line ("12 High Street, Wigan").
func osmAddress(tags map[string]string) string {
	if v := tags["addr:full"]; v != "" {
		return v
	}
	street := strings.TrimSpace(tags["addr:housenumber"] + " " + tags["addr:street"])
	var parts []string
	for _, p := range []string{tags["addr:housename"], street, tags["addr:city"]} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

func importOSM(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	rules := defaultOSMCategories
	if job.Options.text(optCategories) != "" {
		path := job.Options.text(optCategories)
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(job.File), path)
		}
		f, err := job.Open(path)
		if err != nil {
			return Result{}, &InputError{File: path, Err: fmt.Errorf("open category mapping: %w", err)}
		}
		defer f.Close()
		if rules, err = readCategoryRules(path, f); err != nil {
			return Result{}, err
		}
	}
	src, err := newOSM(job.File, r, rules)
	if err != nil {
		return Result{}, err
	}
	key := keyOr(job, "osm")
	err = stage(ctx, tx, "asset_stage",
		"n integer, ref text, name text, named boolean, category text, address text, postcode text, phone text, email text, url text, opening text, gtype text, wkb bytea",
		[]string{"n", "ref", "name", "named", "category", "address", "postcode", "phone", "email", "url", "opening", "gtype", "wkb"}, src.next)
	if err != nil {
		return Result{}, err
	}
	loc := at{file: job.File, feature: true}
	if err := firstBad(ctx, tx, loc, "@id", `SELECT n, ref || ' already appears in feature ' || first
		FROM (SELECT n, ref, min(n) OVER (PARTITION BY ref) AS first FROM asset_stage) s WHERE n > first ORDER BY n LIMIT 1`); err != nil {
		return Result{}, err
	}
	note, err := repairPolygons(ctx, tx, loc, "asset_stage")
	if err != nil {
		return Result{}, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.community_assets
		  (id, source_ref, name, category, address, postcode, phone, email, url, opening_hours, source_geometry, geom, dataset_id)
		SELECT $1 || ':' || ref, ref, name, category, address, postcode, phone, email, url, opening, gtype,
		       ST_PointOnSurface(ST_GeomFromEWKB(wkb)) AS geom, $2
		FROM asset_stage
		`+inPlaceOrder+takeOver("id", "source_ref", "name", "category", "address", "postcode", "phone", "email", "url", "opening_hours",
		"source_geometry", "geom", "dataset_id"), key, ds)
	if err != nil {
		return Result{}, fmt.Errorf("write community assets: %w", err)
	}
	res := Result{Rows: int(tag.RowsAffected())}
	if note != "" {
		res.Notes = append(res.Notes, note)
	}
	if src.unmatched > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("skipped %d of %d features whose tags match no category", src.unmatched, src.counted))
	}
	return res, nil
}
