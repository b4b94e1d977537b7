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
	register("assets-csv", &importer{
		summary: "a council's own asset list (CSV): placed at lon/lat, else at its postcode",
		formats: `A CSV with a header: name, category (or --category for every row), postcode and/or lon and lat
(WGS 84), and optionally id, address, phone, email, website, opening_hours, cost (free, low, paid or
unknown; empty is unknown) and audience (who it is for, as text). A row with lon/lat is
placed there, otherwise at its postcode, which must be loaded. A la_code column (or lad_code,
local_authority_code) lets --la keep some authorities' rows. Windows-1252 files saved from Excel
are read as such.`,
		example: "nbhd import assets-csv council_assets.csv --key council-assets",
		options: []accepts{
			{opt: optKey, help: "dataset key, required (e.g. council-assets); asset ids are KEY:id"},
			{opt: optCategory},
			{opt: optLA, help: "keep these local authorities' rows (la_code, lad_code or local_authority_code column)"},
			{opt: optEncoding},
		},
		ident: func(j Job) (string, string, error) {
			if err := assetIdent(j); err != nil {
				return "", "", err
			}
			return "community_assets", j.Options.text(optKey), nil
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
	cost, audience                                  int
	filter                                          *laFilter
}

func newAssetCSV(file string, r io.Reader, opts Options) (_ *assetCSVSource, err error) {
	t, err := readTable(file, r, tableOpts{decode: true, encoding: opts.text(optEncoding)})
	if err != nil {
		return nil, err
	}
	defer closeOnError(t, &err)
	s := &assetCSVSource{t: t, category: opts.text(optCategory)}
	if s.name, err = t.need("name", "asset_name", "organisation", "title"); err != nil {
		return nil, err
	}
	if s.cat = t.col("category", "type"); s.cat < 0 && s.category == "" {
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
	s.cost, s.audience = t.col("cost", "price"), t.col("audience", "who_for", "suitable_for")
	switch {
	case s.lon >= 0 && s.lat < 0:
		return nil, &InputError{File: file, Line: 1, Field: "lat", Err: fmt.Errorf("missing column: column %q needs a latitude column (lat or latitude)", t.header[s.lon])}
	case s.lat >= 0 && s.lon < 0:
		return nil, &InputError{File: file, Line: 1, Field: "lon", Err: fmt.Errorf("missing column: column %q needs a longitude column (lon, longitude, long or lng)", t.header[s.lat])}
	}
	if s.postcode < 0 && s.lon < 0 {
		return nil, &InputError{File: file, Line: 1, Field: "postcode", Err: errors.New("missing column: need postcode or lon and lat")}
	}
	if s.filter, err = newLAFilter(file, opts, false); err != nil {
		return nil, err
	}
	if err := s.filter.byColumn(t, []string{"la_code", "lad_code", "local_authority_code"}, nil); err != nil {
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
		cost, ok := assetCost(field(rec, s.cost))
		if !ok {
			return nil, t.errf(s.cost, "cost %q must be free, low, paid or unknown (or empty)", field(rec, s.cost))
		}
		return []any{t.line, ref, name, cat, field(rec, s.address), postcode, field(rec, s.phone), field(rec, s.email),
			field(rec, s.url), field(rec, s.opening), lon, lat, cost, field(rec, s.audience)}, nil
	}
}

func importAssetsCSV(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	src, err := newAssetCSV(job.File, r, job.Options)
	if err != nil {
		return Result{}, err
	}
	defer src.t.close()
	err = stage(ctx, tx, "asset_csv_stage",
		"n integer, ref text, name text, category text, address text, postcode text, phone text, email text, url text, opening text, lon double precision, lat double precision, cost text, audience text",
		[]string{"n", "ref", "name", "category", "address", "postcode", "phone", "email", "url", "opening", "lon", "lat", "cost", "audience"}, src.next)
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
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.community_assets
		  (id, source_ref, name, category, address, postcode, phone, email, url, opening_hours, source_geometry, geom, dataset_id,
		   cost, audience)
		SELECT $1 || ':' || s.ref, s.ref, s.name, s.category, s.address, s.postcode, s.phone, s.email, s.url, s.opening,
		       CASE WHEN s.lon IS NULL THEN 'Postcode' ELSE 'Point' END,
		       coalesce(ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), p.geom) AS geom, $2, s.cost, s.audience
		FROM asset_csv_stage s LEFT JOIN nbhd.postcodes p ON s.lon IS NULL AND p.postcode = s.postcode
		`+inPlaceOrder+takeOver("id", "source_ref", "name", "category", "address", "postcode", "phone", "email", "url", "opening_hours",
		"source_geometry", "geom", "dataset_id", "cost", "audience"), job.Options.text(optKey), ds)
	if err != nil {
		return Result{}, fmt.Errorf("write community assets: %w", err)
	}
	return Result{Rows: int(tag.RowsAffected()), Notes: src.filter.note()}, nil
}

// assetCost reads a cost: free, low (or "low cost"), paid, unknown; empty
// is unknown.
func assetCost(s string) (string, bool) {
	switch strings.ToLower(strings.Join(strings.Fields(s), " ")) {
	case "", "unknown", "not known":
		return "unknown", true
	case "free":
		return "free", true
	case "low", "low cost", "low-cost":
		return "low", true
	case "paid":
		return "paid", true
	}
	return "", false
}
