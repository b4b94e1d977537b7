package ingest

import (
	"context"
	"io"

	"github.com/jackc/pgx/v5"

	"nbhd/geo"
)

func init() {
	register("onspd", &importer{
		summary: "ONS Postcode Directory CSV: postcodes with their local authority, terminated ones left out",
		formats: `The ONS Postcode Directory (ONSPD_*.csv, with a header): pcds (or pcd), oseast1m/osnrth1m (or the
2025 names east1m/north1m), osgrdind, lat, long, oslaua (or lad25cd ...), doterm, ctry. Great
Britain is placed from the grid reference (transformed in PostGIS), Northern Ireland from lat/long.
Postcodes with no grid reference are skipped; terminated ones (doterm set) are left out unless
--include-closed. The grid indicator is stored x10, on Code-Point's positional-quality scale.`,
		example: "nbhd import onspd ONSPD_FEB_2026_UK.csv --la E08000010,E08000001",
		options: []accepts{
			{opt: optKey, help: "dataset key (default onspd)"},
			{opt: optLA, help: "keep these local authorities' postcodes (oslaua or ladNNcd)"},
			{opt: optIncludeClosed, help: "keep terminated postcodes too"},
		},
		ident: func(j Job) (string, string, error) {
			return "postcodes", keyOr(j, "onspd"), nil
		},
		run: func(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
			src, err := newONSPD(job.File, r, job.Options)
			if err != nil {
				return Result{}, err
			}
			defer src.t.close()
			return loadPostcodes(ctx, tx, job, ds, keyOr(job, "onspd"), src)
		},
	})
}

func newONSPD(file string, r io.Reader, opts Options) (_ *postcodeSource, err error) {
	t, err := newTable(file, r)
	if err != nil {
		return nil, err
	}
	defer closeOnError(t, &err)
	s := &postcodeSource{t: t, srid: geo.BNG.SRID, qualityScale: 10, includeTerminated: opts.flag(optIncludeClosed)}
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
	if s.filter, err = newLAFilter(file, opts, false); err != nil {
		return nil, err
	}
	if err := s.filter.byColumn(t, laCols, nil); err != nil {
		return nil, err
	}
	return s, nil
}
