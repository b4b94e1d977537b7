package ingest

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"nbhd/geo"
)

func init() {
	register("postcodes", &importer{
		summary: "postcode centroids CSV with a header: postcode and easting/northing or lon/lat",
		formats: `A CSV with a header: postcode (or pcds, pcd) and easting/northing (British National Grid,
transformed in PostGIS) or lon/lat (WGS 84); positional_quality and admin_district_code (the
postcode's local authority) are kept where present. For the published national files use codepoint
or onspd. One postcode has one point: a postcode another dataset holds is an error.`,
		example: "nbhd import postcodes postcodes.csv --la E08000010",
		options: []accepts{
			{opt: optKey, help: "dataset key (default postcodes)"},
			{opt: optLA, help: "keep these local authorities' postcodes (admin_district_code, oslaua, lad_code or la_code)"},
		},
		ident: func(j Job) (string, string, error) {
			return "postcodes", keyOr(j, "postcodes"), nil
		},
		run: func(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
			src, err := newPostcodeCSV(job.File, r, job.Options)
			if err != nil {
				return Result{}, err
			}
			defer src.t.close()
			return loadPostcodes(ctx, tx, job, ds, keyOr(job, "postcodes"), src)
		},
	})
}

// postcodeSource streams one postcode file's rows: n, postcode, quality,
// la_code, srid, x, y. Postcodes without coordinates (Code-Point quality 90,
// ONSPD grid indicator 9) cannot be placed and are counted, not loaded.
type postcodeSource struct {
	t                    *table
	pc, quality, x, y    int
	lon, lat             int // lon/lat columns used when x/y are absent or empty
	la, terminated, ctry int
	srid                 int
	qualityScale         int64 // ONSPD's osgrdind 1..9 times 10 is Code-Point's 10..90
	filter               *laFilter
	includeTerminated    bool
	ungridded, ended     int
}

// newPostcodeCSV reads the generic header-based layout.
func newPostcodeCSV(file string, r io.Reader, opts Options) (_ *postcodeSource, err error) {
	t, err := newTable(file, r)
	if err != nil {
		return nil, err
	}
	defer closeOnError(t, &err)
	s := &postcodeSource{t: t, quality: t.col("positional_quality", "positional_quality_indicator"), qualityScale: 1,
		terminated: -1, ctry: -1, lon: -1, lat: -1, la: t.col("admin_district_code", "oslaua", "lad_code", "la_code")}
	if s.pc, err = t.need("postcode", "pcds", "pcd"); err != nil {
		return nil, err
	}
	s.x, s.y, s.srid = t.col("easting", "eastings", "oseast1m"), t.col("northing", "northings", "osnrth1m"), geo.BNG.SRID
	if s.x < 0 || s.y < 0 {
		if s.x, err = t.need("lon", "longitude", "long"); err != nil {
			return nil, err
		}
		if s.y, err = t.need("lat", "latitude"); err != nil {
			return nil, err
		}
		s.srid = geo.CRS84.SRID
	}
	if s.filter, err = newLAFilter(file, opts, false); err != nil {
		return nil, err
	}
	if err := s.filter.byColumn(t, []string{"admin_district_code", "oslaua", "lad_code", "la_code"}, nil); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *postcodeSource) next() ([]any, error) {
	t := s.t
	for {
		rec, err := t.next()
		if err != nil {
			return nil, err
		}
		if !s.filter.keep(rec) {
			continue
		}
		p := normalisePostcode(field(rec, s.pc))
		if !postcodeRe.MatchString(p) {
			return nil, t.errf(s.pc, "%q is not a postcode", field(rec, s.pc))
		}
		if s.terminated >= 0 && field(rec, s.terminated) != "" && !s.includeTerminated {
			s.ended++
			continue
		}
		q, err := intIn(t, rec, s.quality, 0, 99)
		if err != nil {
			return nil, err
		}
		if q != nil {
			q = q.(int64) * s.qualityScale
			if q.(int64) >= 90 {
				s.ungridded++
				continue
			}
		}
		srid, x, y := s.srid, s.x, s.y
		if s.lon >= 0 && (field(rec, x) == "" || strings.HasPrefix(field(rec, s.ctry), "N92")) {
			// Northern Ireland's grid references are on the Irish Grid:
			// ONSPD's own lon/lat place them.
			srid, x, y = geo.CRS84.SRID, s.lon, s.lat
		}
		if field(rec, x) == "" && field(rec, y) == "" {
			s.ungridded++
			continue
		}
		var xv, yv float64
		if srid == geo.BNG.SRID {
			if xv, yv, err = eastingNorthing(t, rec, x, y); err != nil {
				return nil, err
			}
			if xv == 0 && yv == 0 {
				s.ungridded++
				continue
			}
		} else {
			if field(rec, y) == "99.999999" { // ONSPD: no location
				s.ungridded++
				continue
			}
			pt, err := lonLat(t, rec, x, y)
			if err != nil {
				return nil, err
			}
			xv, yv = pt[0], pt[1]
		}
		return []any{t.line, p, q, field(rec, s.la), srid, xv, yv}, nil
	}
}

// notes describes the rows left out.
func (s *postcodeSource) notes() []string {
	out := s.filter.note()
	if s.ended > 0 {
		out = append(out, fmt.Sprintf("skipped %d terminated postcodes (--include-closed keeps them)", s.ended))
	}
	if s.ungridded > 0 {
		out = append(out, fmt.Sprintf("skipped %d postcodes without coordinates", s.ungridded))
	}
	return out
}

// loadPostcodes stages src, checks it and replaces the dataset's postcodes.
// A postcode another dataset already holds is an error: the postcode table
// has one point per postcode, and which of two sources wins is the user's
// call (drop one with `nbhd datasets drop`).
func loadPostcodes(ctx context.Context, tx pgx.Tx, job Job, ds int64, key string, src *postcodeSource) (Result, error) {
	err := stage(ctx, tx, "postcode_stage", "n integer, postcode text, quality smallint, la text, srid integer, x double precision, y double precision",
		[]string{"n", "postcode", "quality", "la", "srid", "x", "y"}, src.next)
	if err != nil {
		return Result{}, err
	}
	loc, pcField := at{file: job.File}, src.t.header[src.pc]
	if err := firstBad(ctx, tx, loc, pcField, `SELECT n, postcode || ' already appears on line ' || first
		FROM (SELECT n, postcode, min(n) OVER (PARTITION BY postcode) AS first FROM postcode_stage) s
		WHERE n > first ORDER BY n LIMIT 1`); err != nil {
		return Result{}, err
	}
	if err := firstBad(ctx, tx, loc, pcField, `SELECT s.n, s.postcode || ' is already loaded by dataset ' || d.id || ' (' || d.key ||
		'): drop that dataset first (nbhd datasets drop ' || d.id || ') or import this file under its key (--key ' || d.key || ')'
		FROM postcode_stage s JOIN nbhd.postcodes p USING (postcode) JOIN nbhd.datasets d ON d.id = p.dataset_id
		WHERE NOT EXISTS (SELECT 1 FROM nbhd.datasets nd WHERE nd.id = $1 AND nd.kind = d.kind AND nd.key = d.key)
		ORDER BY s.n LIMIT 1`, ds); err != nil {
		return Result{}, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.postcodes (postcode, quality, la_code, geom, dataset_id)
		SELECT postcode, quality, coalesce(la, ''), ST_Transform(ST_SetSRID(ST_MakePoint(x, y), srid), 4326), $1 FROM postcode_stage
		`+takeOver("postcode", "quality", "la_code", "geom", "dataset_id"), ds)
	if err != nil {
		return Result{}, fmt.Errorf("write postcodes: %w", err)
	}
	return Result{Rows: int(tag.RowsAffected()), Notes: src.notes(), Key: key}, nil
}
