package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

func init() {
	register("assets-csv", importer{
		help: "community assets CSV kept by a council (name, category or --category, postcode or lon/lat, address, phone, email, website, opening_hours, id): placed at lon/lat, else at the postcode from the loaded postcodes; --key names the dataset",
		ident: func(j Job) (string, string, error) {
			if j.Spec.Key == "" {
				return "", "", errors.New("--key must name the asset dataset (e.g. council-assets)")
			}
			if j.Spec.Category != "" && !categoryRe.MatchString(j.Spec.Category) {
				return "", "", fmt.Errorf("--category must be lower case letters, digits and _ (e.g. food_bank), got %q", j.Spec.Category)
			}
			return "community_assets", j.Spec.Key, nil
		},
		run: importAssetsCSV,
	})
}

// assetCSVSource streams assets: n, ref, name, category, address, postcode,
// phone, email, url, opening, lon, lat (lon/lat NULL: place by postcode).
type assetCSVSource struct {
	t                                               *table
	category                                        string
	ref, name, cat, address, postcode, phone, email int
	url, opening, lon, lat                          int
	filter                                          *laFilter
}

func newAssetCSV(file string, r io.Reader, spec Spec) (*assetCSVSource, error) {
	dec, err := decodeText(r, spec.Encoding)
	if err != nil {
		return nil, &InputError{File: file, Field: "--encoding", Err: err}
	}
	t, err := newTable(file, dec)
	if err != nil {
		return nil, err
	}
	s := &assetCSVSource{t: t, category: spec.Category}
	if s.name, err = t.need("name", "asset_name", "organisation", "title"); err != nil {
		return nil, err
	}
	if s.cat = t.col("category", "type"); s.cat < 0 && spec.Category == "" {
		return nil, &InputError{File: file, Line: 1, Field: "category", Err: errors.New("missing column: no category column; give --category (e.g. community_centre)")}
	}
	s.ref = t.col("id", "ref", "asset_id", "reference")
	s.address = t.col("address", "full_address")
	s.postcode = t.col("postcode", "post_code")
	s.phone = t.col("phone", "telephone")
	s.email = t.col("email")
	s.url = t.col("website", "url")
	s.opening = t.col("opening_hours", "opening times", "opening_times")
	s.lon, s.lat = t.col("lon", "longitude", "long", "lng"), t.col("lat", "latitude")
	if (s.lon < 0) != (s.lat < 0) {
		return nil, &InputError{File: file, Line: 1, Field: "lat", Err: errors.New("missing column: a longitude column needs a latitude column, and the reverse")}
	}
	if s.postcode < 0 && s.lon < 0 {
		return nil, &InputError{File: file, Line: 1, Field: "postcode", Err: errors.New("missing column: need postcode or lon and lat")}
	}
	if s.filter, err = newLAFilter(t, spec.LA, []string{"la_code", "lad_code", "local_authority_code"}, nil); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *assetCSVSource) next() ([]any, error) {
	t := s.t
	for {
		rec, err := t.next()
		if err != nil {
			return nil, err
		}
		if !s.filter.keep(rec) {
			continue
		}
		name := field(rec, s.name)
		if unnamed(name) {
			return nil, t.errf(s.name, "name is empty")
		}
		cat := s.category
		if cat == "" {
			cat = strings.ToLower(strings.ReplaceAll(field(rec, s.cat), " ", "_"))
		}
		if !categoryRe.MatchString(cat) {
			return nil, t.errf(s.cat, "category %q must be lower case letters, digits and _", cat)
		}
		postcode := normalisePostcode(field(rec, s.postcode))
		var lon, lat any
		if field(rec, s.lon) != "" || field(rec, s.lat) != "" {
			var pt orb.Point
			if pt, err = lonLat(t, rec, s.lon, s.lat); err != nil {
				return nil, err
			}
			lon, lat = pt[0], pt[1]
		} else if !postcodeRe.MatchString(postcode) {
			return nil, t.errf(s.postcode, "no lon/lat and %q is not a postcode: the asset cannot be placed", field(rec, s.postcode))
		}
		ref := field(rec, s.ref)
		if ref == "" {
			ref = fmt.Sprint(t.line)
		}
		return []any{t.line, ref, name, cat, field(rec, s.address), postcode, field(rec, s.phone), field(rec, s.email),
			field(rec, s.url), field(rec, s.opening), lon, lat}, nil
	}
}

func importAssetsCSV(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	src, err := newAssetCSV(job.File, r, job.Spec)
	if err != nil {
		return Result{}, err
	}
	err = stage(ctx, tx, "asset_csv_stage",
		"n integer, ref text, name text, category text, address text, postcode text, phone text, email text, url text, opening text, lon double precision, lat double precision",
		[]string{"n", "ref", "name", "category", "address", "postcode", "phone", "email", "url", "opening", "lon", "lat"}, src.next)
	if err != nil {
		return Result{}, err
	}
	loc := at{file: job.File}
	refField := "id"
	if src.ref >= 0 {
		refField = src.t.header[src.ref]
	}
	if err := firstBad(ctx, tx, loc, refField, `SELECT n, 'id ' || ref || ' already appears on line ' || first
		FROM (SELECT n, ref, min(n) OVER (PARTITION BY ref) AS first FROM asset_csv_stage) s WHERE n > first ORDER BY n LIMIT 1`); err != nil {
		return Result{}, err
	}
	pcField := "postcode"
	if src.postcode >= 0 {
		pcField = src.t.header[src.postcode]
	}
	if err := firstBad(ctx, tx, loc, pcField, `SELECT n, 'postcode ' || postcode || ' is not in the loaded postcodes and the row has no lon/lat'
		FROM asset_csv_stage s WHERE lon IS NULL AND NOT EXISTS (SELECT 1 FROM nbhd.postcodes p WHERE p.postcode = s.postcode)
		ORDER BY n LIMIT 1`); err != nil {
		return Result{}, err
	}
	if err := clearPrevious(ctx, tx, "community_assets", "community_assets", job.Spec.Key, ds); err != nil {
		return Result{}, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.community_assets
		  (id, source_ref, name, category, address, postcode, phone, email, url, opening_hours, source_geometry, geom, dataset_id)
		SELECT $1 || ':' || s.ref, s.ref, s.name, s.category, s.address, s.postcode, s.phone, s.email, s.url, s.opening,
		       CASE WHEN s.lon IS NULL THEN 'Postcode' ELSE 'Point' END,
		       coalesce(ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), p.geom), $2
		FROM asset_csv_stage s LEFT JOIN nbhd.postcodes p ON s.lon IS NULL AND p.postcode = s.postcode`, job.Spec.Key, ds)
	if err != nil {
		return Result{}, fmt.Errorf("write community assets: %w", err)
	}
	return Result{Rows: int(tag.RowsAffected()), Notes: src.filter.note()}, nil
}
