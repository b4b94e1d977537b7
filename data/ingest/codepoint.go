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
	register("codepoint", &importer{
		summary: "OS Code-Point Open CSV (headerless, one postcode area per file, e.g. wn.csv)",
		formats: `OS Code-Point Open's Data/CSV/xx.csv files, published without a header: 10 columns (Postcode,
Positional_quality_indicator, Eastings, Northings, Country_code, NHS_regional_HA_code, NHS_HA_code,
Admin_county_code, Admin_district_code, Admin_ward_code). Eastings/Northings are transformed in
PostGIS; postcodes with quality 90 (no coordinates) are skipped and counted. Admin_district_code is
kept as the postcode's local authority, which places files that have none (epraccur --la). Each
file is its own dataset, keyed by its postcode area, so a newer wn.csv replaces only wn.csv.`,
		example: "nbhd import codepoint codepo_gb/Data/CSV/wn.csv --la E08000010",
		options: []accepts{
			{opt: optKey, help: "dataset key (default codepoint-AREA, from the file name)"},
			{opt: optLA, help: "keep these local authorities' postcodes (Admin_district_code)"},
		},
		ident: func(j Job) (string, string, error) {
			return "postcodes", keyOr(j, codePointKey(j.File)), nil
		},
		run: func(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
			src, err := newCodePoint(job.File, r, job.Options)
			if err != nil {
				return Result{}, err
			}
			return loadPostcodes(ctx, tx, job, ds, keyOr(job, codePointKey(job.File)), src)
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

func newCodePoint(file string, r io.Reader, opts Options) (*postcodeSource, error) {
	t := newHeaderless(file, r, codePointColumns)
	s := &postcodeSource{t: t, pc: 0, quality: 1, x: 2, y: 3, la: 8, lon: -1, lat: -1, terminated: -1, ctry: -1,
		srid: geo.BNG.SRID, qualityScale: 1}
	var err error
	if s.filter, err = newLAFilter(file, opts, false); err != nil {
		return nil, err
	}
	if err := s.filter.byColumn(t, []string{"Admin_district_code"}, nil); err != nil {
		return nil, err
	}
	return s, nil
}
