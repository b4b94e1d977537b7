package ingest

import (
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
)

func init() {
	register("neighbourhoods", &importer{
		summary: "a council's own neighbourhoods as a CSV of small-area code -> neighbourhood, --set ID",
		formats: `A CSV with a header: the small-area (LSOA) code (lsoa21cd, lsoa11cd, small_area_code, code ...),
the neighbourhood's name (neighbourhood, footprint, name ...) and optionally its code
(neighbourhood_code, footprint_code; otherwise the name is the code). Each neighbourhood's geometry
is the union of its small areas. The set must partition the loaded small areas: a small area
listed twice or unknown is an error naming the line, and loaded small areas in no neighbourhood
are an error listing them unless --allow-gaps. Windows-1252 files saved from Excel are read as such.`,
		example: "nbhd import neighbourhoods footprints.csv --set footprints --set-title \"Service footprints\"",
		options: []accepts{
			{opt: optSet, help: "the neighbourhood set's id (e.g. footprints); re-importing a set replaces it"},
			{opt: optSetTitle},
			{opt: optAllowGaps},
			{opt: optEncoding},
		},
		refuses: map[string]string{optLA.name: "a neighbourhood list partitions the loaded small areas, whatever their authority"},
		ident:   setIdent,
		run:     importNeighbourhoods,
	})
}

// footprintSource streams membership rows: n, small-area code,
// neighbourhood code, neighbourhood name.
type footprintSource struct {
	t                *table
	area, name, code int
}

func newFootprints(file string, r io.Reader, opts Options) (_ *footprintSource, err error) {
	t, err := readTable(file, r, tableOpts{decode: true, encoding: opts.text(optEncoding)})
	if err != nil {
		return nil, err
	}
	defer closeOnError(t, &err)
	s := &footprintSource{t: t}
	if s.area, err = t.need("lsoa21cd", "lsoa11cd", "lsoa_code", "small_area_code", "small_area", "area_code", "code"); err != nil {
		return nil, err
	}
	if s.name, err = t.need("neighbourhood", "neighbourhood_name", "footprint", "footprint_name", "name"); err != nil {
		return nil, err
	}
	s.code = t.col("neighbourhood_code", "footprint_code")
	return s, nil
}

func (s *footprintSource) next() ([]any, error) {
	t := s.t
	rec, err := t.next()
	if err != nil {
		return nil, err
	}
	area := field(rec, s.area)
	if !levels["lsoa"].MatchString(area) {
		return nil, t.errf(s.area, "%q is not an LSOA code", area)
	}
	name := field(rec, s.name)
	if name == "" {
		return nil, t.errf(s.name, "neighbourhood name is empty")
	}
	code, codeCol := name, s.name
	if s.code >= 0 {
		code, codeCol = field(rec, s.code), s.code
	}
	if !levels["custom"].MatchString(code) {
		return nil, t.errf(codeCol, "neighbourhood code %q must be 1 to 64 characters, not starting with a space", code)
	}
	return []any{t.line, area, code, name}, nil
}

func importNeighbourhoods(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	src, err := newFootprints(job.File, r, job.Options)
	if err != nil {
		return Result{}, err
	}
	defer src.t.close()
	if err := stage(ctx, tx, "footprint_stage", "n integer, area text, code text, name text",
		[]string{"n", "area", "code", "name"}, src.next); err != nil {
		return Result{}, err
	}
	loc, areaField, nameField := at{file: job.File}, src.t.header[src.area], src.t.header[src.name]
	// A partition: each small area in one neighbourhood, named on both lines.
	if err := firstBad(ctx, tx, loc, areaField, `SELECT s.n, 'small area ' || s.area || ' is in ' || s.name || ' here and in ' ||
		f.name || ' on line ' || f.n || ': each small area belongs to one neighbourhood'
		FROM (SELECT n, area, name, min(n) OVER (PARTITION BY area) AS first FROM footprint_stage) s
		JOIN footprint_stage f ON f.n = s.first WHERE s.n > s.first ORDER BY s.n LIMIT 1`); err != nil {
		return Result{}, err
	}
	if err := firstBad(ctx, tx, loc, nameField, `SELECT s.n, 'neighbourhood ' || s.code || ' is named ' || s.name || ' here but ' ||
		f.name || ' on line ' || f.n
		FROM (SELECT n, code, name, min(n) OVER (PARTITION BY code) AS first FROM footprint_stage) s
		JOIN footprint_stage f ON f.n = s.first WHERE s.name <> f.name ORDER BY s.n LIMIT 1`); err != nil {
		return Result{}, err
	}
	if err := firstBad(ctx, tx, loc, areaField, `SELECT n, 'unknown small-area code ' || area || ' (not in the loaded LSOA boundaries)'
		FROM footprint_stage s WHERE NOT EXISTS (SELECT 1 FROM nbhd.small_areas sa WHERE sa.code = s.area) ORDER BY n LIMIT 1`); err != nil {
		return Result{}, err
	}
	rows, err := tx.Query(ctx, `SELECT code FROM nbhd.small_areas sa
		WHERE NOT EXISTS (SELECT 1 FROM footprint_stage s WHERE s.area = sa.code) ORDER BY code`)
	if err != nil {
		return Result{}, fmt.Errorf("find small areas in no neighbourhood: %w", err)
	}
	missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return Result{}, fmt.Errorf("find small areas in no neighbourhood: %w", err)
	}
	var notes []string
	if len(missing) > 0 {
		msg := fmt.Sprintf("%d loaded small areas are in no neighbourhood: %s", len(missing), someOf(missing))
		if !job.Options.flag(optAllowGaps) {
			return Result{}, &InputError{File: job.File, Field: areaField, Err: fmt.Errorf("%s (--allow-gaps accepts a set that leaves them out)", msg)}
		}
		notes = append(notes, msg)
	}
	n, err := writeSet(ctx, tx, job, ds, `SELECT s.code, min(s.name) AS name, ST_Multi(ST_CollectionExtract(ST_Union(sa.geom), 3)) AS geom
		FROM footprint_stage s JOIN nbhd.small_areas sa ON sa.code = s.area GROUP BY s.code`)
	if err != nil {
		return Result{}, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO nbhd.neighbourhood_members (set_id, small_area_code, neighbourhood_code, method)
		SELECT $1, area, code, 'list' FROM footprint_stage
		ON CONFLICT (set_id, small_area_code) DO UPDATE SET neighbourhood_code = EXCLUDED.neighbourhood_code, method = EXCLUDED.method`,
		job.Options.text(optSet)); err != nil {
		return Result{}, fmt.Errorf("write neighbourhood members: %w", err)
	}
	return Result{Rows: n, Notes: notes}, nil
}
