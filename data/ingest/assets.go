package ingest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/geojson"
)

var (
	// Name properties, most specific first: area names (la_name,
	// ward_name) describe where an asset is, not what it is called.
	assetName = []*regexp.Regexp{
		regexp.MustCompile(`(?i)^name$`),
		regexp.MustCompile(`(?i)^(distname|title|name:en)$`),
		regexp.MustCompile(`(?i)^(pharmacy|practice|site|asset|organisation|organization|establishment|venue|place)_?name$`),
	}
	areaName    = regexp.MustCompile(`(?i)^(la|lad|ward|area|lsoa|msoa|district|county|region|ccg|icb|local_authority)_?name$`)
	assetRef    = regexp.MustCompile(`(?i)^(id|osm_id|@id|ref|organisation_data_service_code|ods_code|urn)$`)
	assetAddr   = regexp.MustCompile(`(?i)^(address|addr:full|full_address)$`)
	assetPost   = regexp.MustCompile(`(?i)^(postcode|post_code|addr:postcode)$`)
	assetPhone  = regexp.MustCompile(`(?i)^(telephone|phone|contact:phone)$`)
	assetEmail  = regexp.MustCompile(`(?i)^(email|contact:email)$`)
	assetURL    = regexp.MustCompile(`(?i)^(website|url|contact:website)$`)
	assetOpen   = regexp.MustCompile(`(?i)^(opening[ _]times|opening_hours)$`)
	assetOpenBy = regexp.MustCompile(`(?i)^opening_hours_(monday|tuesday|wednesday|thursday|friday|saturday|sunday)$`)
	weekdays    = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)

func init() {
	register("assets", &importer{
		summary: "community assets GeoJSON (points, or polygons reduced to a point on their surface), --key and --category",
		formats: `A GeoJSON FeatureCollection of points or polygons in WGS 84 longitude/latitude; a polygon becomes a
point on its surface. The name is found from usual properties (name, title, site_name ...; or
--name-field), as are a reference (id, ref, ods_code ...), address, postcode, phone, email, website
and opening hours. Every feature takes --category, or its own category property.`,
		example: "nbhd import assets libraries.geojson --key libraries --category library",
		options: []accepts{
			{opt: optKey, help: "dataset key, required (e.g. libraries); asset ids are KEY:ref"},
			{opt: optCategory},
			{opt: optMergeWithin, help: "merge same-named features within this many metres into one asset (a church and its hall)"},
			{opt: optNameField},
		},
		ident: func(j Job) (string, string, error) {
			if err := assetIdent(j); err != nil {
				return "", "", err
			}
			return "community_assets", j.Options.text(optKey), nil
		},
		run: importAssets,
	})
}

// assetIdent checks the key and category every asset kind needs.
func assetIdent(j Job) error {
	if j.Options.text(optKey) == "" {
		return fmt.Errorf("--key must name the asset dataset (e.g. libraries)")
	}
	if c := j.Options.text(optCategory); c != "" && !categoryRe.MatchString(c) {
		return fmt.Errorf("--category must be lower case letters, digits and _ (e.g. food_bank), got %q", c)
	}
	return nil
}

// assetFields are the property keys an asset file uses, found from its
// first feature.
type assetFields struct {
	name, ref, address, postcode, phone, email, url, opening, category string
	openingByDay                                                       map[string]string
}

func detectAssetFields(f *geojson.Feature, opts Options) assetFields {
	var a assetFields
	a.name, _ = findProp(f, opts.text(optNameField), assetName[:3]...)
	if a.name == "" {
		// Last resort: any *_name property that is not an area's name.
		for _, k := range sortedKeys(f) {
			if strings.HasSuffix(strings.ToLower(k), "_name") && !areaName.MatchString(k) {
				a.name = k
				break
			}
		}
	}
	a.ref, _ = findProp(f, "", assetRef)
	a.address, _ = findProp(f, "", assetAddr)
	a.postcode, _ = findProp(f, "", assetPost)
	a.phone, _ = findProp(f, "", assetPhone)
	a.email, _ = findProp(f, "", assetEmail)
	a.url, _ = findProp(f, "", assetURL)
	a.opening, _ = findProp(f, "", assetOpen)
	if _, ok := f.Properties["category"]; ok {
		a.category = "category"
	}
	a.openingByDay = map[string]string{}
	for k := range f.Properties {
		if m := assetOpenBy.FindStringSubmatch(k); m != nil {
			a.openingByDay[strings.ToLower(m[1])] = k
		}
	}
	return a
}

// openingHours joins per-day columns into "Mon 09:00-18:00; Tue ...".
func (a assetFields) openingHours(f *geojson.Feature) string {
	if a.opening != "" {
		return prop(f, a.opening)
	}
	var parts []string
	for _, d := range weekdays {
		if k, ok := a.openingByDay[d]; ok {
			if v := prop(f, k); v != "" {
				parts = append(parts, strings.ToUpper(d[:1])+d[1:3]+" "+v)
			}
		}
	}
	return strings.Join(parts, "; ")
}

// contact splits a free-text contact into an email or a phone number.
func contact(f *geojson.Feature, a *assetFields) (phone, email string) {
	phone, email = prop(f, a.phone), prop(f, a.email)
	if c := prop(f, "Contact"); c != "" {
		if strings.Contains(c, "@") && email == "" {
			email = c
		} else if strings.ContainsAny(c, "0123456789") && phone == "" {
			phone = c
		}
	}
	return phone, email
}

func importAssets(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	src, err := newFeatureSource(job.File, r, anyShape)
	if err != nil {
		return Result{}, err
	}
	var a assetFields
	key, category := job.Options.text(optKey), job.Options.text(optCategory)
	loc := at{file: job.File, feature: true}
	err = stage(ctx, tx, "asset_stage",
		"n integer, ref text, name text, named boolean, category text, address text, postcode text, phone text, email text, url text, opening text, gtype text, wkb bytea",
		[]string{"n", "ref", "name", "named", "category", "address", "postcode", "phone", "email", "url", "opening", "gtype", "wkb"},
		func() ([]any, error) {
			n, f, wkb, err := src.next()
			if err != nil {
				return nil, err
			}
			if n == 1 {
				a = detectAssetFields(f, job.Options)
				if category == "" && a.category == "" {
					return nil, &InputError{File: job.File, Err: fmt.Errorf("no category: give --category (e.g. library) or a category property")}
				}
			}
			cat := category
			if cat == "" {
				cat = strings.ToLower(prop(f, a.category))
			}
			if !categoryRe.MatchString(cat) {
				return nil, loc.err(n, "category", "category %q must be lower case letters, digits and _", cat)
			}
			name := prop(f, a.name)
			named := !unnamed(name)
			if !named {
				name = categoryTitle(cat)
			}
			phone, email := contact(f, &a)
			return []any{n, prop(f, a.ref), name, named, cat, prop(f, a.address), normalisePostcode(prop(f, a.postcode)),
				phone, email, prop(f, a.url), a.openingHours(f), f.Geometry.GeoJSONType(), wkb}, nil
		})
	if err != nil {
		return Result{}, err
	}
	note, err := repairPolygons(ctx, tx, loc, "asset_stage")
	if err != nil {
		return Result{}, err
	}
	// Buildings of one named asset (a church and its hall) merge into one
	// asset when within merge_within metres of each other; the first
	// feature's reference names the merged asset, so ids are stable.
	tag, err := tx.Exec(ctx, `WITH clustered AS (
		  SELECT s.*, ST_GeomFromEWKB(wkb) AS g,
		         CASE WHEN named AND $3 > 0 THEN
		           lower(name) || '#' || ST_ClusterDBSCAN(ST_Transform(ST_GeomFromEWKB(wkb), 27700), eps := $3, minpoints := 1)
		             OVER (PARTITION BY lower(name))
		         END AS cluster
		  FROM asset_stage s
		), merged AS (
		  SELECT min(n) AS first, (array_agg(nullif(ref, '') ORDER BY n))[1] AS ref, min(n) AS n,
		         (array_agg(name ORDER BY n))[1] AS name, (array_agg(category ORDER BY n))[1] AS category,
		         (array_agg(address ORDER BY n))[1] AS address, (array_agg(postcode ORDER BY n))[1] AS postcode,
		         (array_agg(phone ORDER BY n))[1] AS phone, (array_agg(email ORDER BY n))[1] AS email,
		         (array_agg(url ORDER BY n))[1] AS url, (array_agg(opening ORDER BY n))[1] AS opening,
		         (array_agg(gtype ORDER BY n))[1] AS gtype, ST_PointOnSurface(ST_Union(g)) AS geom
		  FROM clustered GROUP BY coalesce(cluster, 'feature#' || n)
		), refs AS (
		  -- A feature without its own reference is known by what it is and
		  -- where: one library of Bolton's can never be taken for one of
		  -- Wigan's, and a file re-ordered keeps its ids.
		  SELECT m.*, coalesce(m.ref, substr(md5(lower(m.name) || '|' || m.category || '|' ||
		           ST_AsText(ST_SnapToGrid(m.geom, 0.00001))), 1, 12)) AS id_ref
		  FROM merged m
		)
		INSERT INTO nbhd.community_assets
		  (id, source_ref, name, category, address, postcode, phone, email, url, opening_hours, source_geometry, geom, dataset_id)
		SELECT $1 || ':' || id_ref || CASE WHEN count(*) OVER (PARTITION BY id_ref) > 1
		         THEN '-' || row_number() OVER (PARTITION BY id_ref ORDER BY first) ELSE '' END,
		       coalesce(ref, n::text), name, category, address, postcode, phone, email, url, opening, gtype, geom, $2
		FROM refs
		`+inPlaceOrder+takeOver("id", "source_ref", "name", "category", "address", "postcode", "phone", "email", "url", "opening_hours",
		"source_geometry", "geom", "dataset_id"), key, ds, float64(job.Options.number(optMergeWithin)))
	if err != nil {
		return Result{}, fmt.Errorf("write community assets: %w", err)
	}
	res := Result{Rows: int(tag.RowsAffected())}
	if note != "" {
		res.Notes = append(res.Notes, note)
	}
	return res, nil
}
