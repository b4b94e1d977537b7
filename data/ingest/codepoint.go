package ingest

import (
	"context"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"nbhd/geo"
)

// codePointColumns are OS Code-Point Open's CSV columns, as its
// Doc/Code-Point_Open_Column_Headers.csv names them; the data files
// themselves have no header row.
var codePointColumns = []string{"Postcode", "Positional_quality_indicator", "Eastings", "Northings", "Country_code",
	"NHS_regional_HA_code", "NHS_HA_code", "Admin_county_code", "Admin_district_code", "Admin_ward_code"}

func init() {
	register("codepoint", importer{
		help: "OS Code-Point Open CSV (headerless, 10 columns; one postcode area per file, e.g. wn.csv): eastings/northings transformed in PostGIS; --la keeps one Admin_district_code; each file is its own dataset (key codepoint-AREA)",
		ident: func(j Job) (string, string, error) {
			return "postcodes", keyOr(j, codePointKey(j.File)), nil
		},
		run: func(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
			src, err := newCodePoint(job.File, r, job.Spec)
			if err != nil {
				return Result{}, err
			}
			return loadPostcodes(ctx, tx, job, ds, keyOr(job, codePointKey(job.File)), src)
		},
	})
	register("onspd", importer{
		help: "ONS Postcode Directory CSV (pcds, oseast1m, osnrth1m, osgrdind, lat, long, oslaua, doterm ...): terminated postcodes left out unless --include-closed; --la keeps one oslaua",
		ident: func(j Job) (string, string, error) {
			return "postcodes", keyOr(j, "onspd"), nil
		},
		run: func(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
			src, err := newONSPD(job.File, r, job.Spec)
			if err != nil {
				return Result{}, err
			}
			return loadPostcodes(ctx, tx, job, ds, keyOr(job, "onspd"), src)
		},
	})
}

// codePointKey names a Code-Point file's dataset by its postcode area, so
// the national release loads file by file and a newer wn.csv replaces the
// older one only.
func codePointKey(file string) string {
	name := strings.ToLower(baseName(file))
	name = strings.TrimSuffix(name, ".csv")
	return "codepoint-" + name
}

func newCodePoint(file string, r io.Reader, spec Spec) (*postcodeSource, error) {
	t := newHeaderless(file, r, codePointColumns)
	s := &postcodeSource{t: t, pc: 0, quality: 1, x: 2, y: 3, la: 8, lon: -1, lat: -1, terminated: -1, ctry: -1,
		srid: geo.BNG.SRID, qualityScale: 1}
	var err error
	if s.filter, err = newLAFilter(t, spec.LA, []string{"Admin_district_code"}, nil); err != nil {
		return nil, err
	}
	return s, nil
}

func newONSPD(file string, r io.Reader, spec Spec) (*postcodeSource, error) {
	t, err := newTable(file, r)
	if err != nil {
		return nil, err
	}
	s := &postcodeSource{t: t, srid: geo.BNG.SRID, qualityScale: 10, includeTerminated: spec.IncludeClosed}
	// Column names of the ONSPD releases before and after its 2025 renaming.
	for _, c := range []struct {
		dst   *int
		names []string
	}{
		{&s.pc, []string{"pcds", "pcd", "pcd7", "pcd8"}},
		{&s.x, []string{"oseast1m", "east1m"}},
		{&s.y, []string{"osnrth1m", "north1m"}},
		{&s.lat, []string{"lat"}},
		{&s.lon, []string{"long", "lon"}},
		{&s.terminated, []string{"doterm"}},
	} {
		if *c.dst, err = t.need(c.names...); err != nil {
			return nil, err
		}
	}
	s.quality = t.col("osgrdind", "gridind")
	s.ctry = t.col("ctry", "ctry25cd")
	laCols := []string{"oslaua", "lad25cd", "lad24cd", "lad23cd"}
	s.la = t.col(laCols...)
	if s.filter, err = newLAFilter(t, spec.LA, laCols, nil); err != nil {
		return nil, err
	}
	return s, nil
}
