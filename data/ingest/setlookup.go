package ingest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// A council that works with wards as unions of small areas loads the ONS
// best-fit lookup alone: no boundary file, so no official boundary to
// compare with. Each neighbourhood is the union of its small areas, as a
// council's own list is (neighbourhoods.go), and the set is recorded as
// custom (no official boundary layer) with the lookup's year.

var (
	lookupAreaCol = regexp.MustCompile(`(?i)^lsoa\d{2}cd$`)
	lookupHoodCol = regexp.MustCompile(`(?i)^(wd|ward|msoa)(\d{2})cd$`)
)

func init() {
	register("set-lookup", &importer{
		summary: "a neighbourhood set from an ONS best-fit lookup alone (LSOA21CD -> WD24CD, WD24NM), each neighbourhood the union of its small areas",
		formats: `An ONS best-fit lookup CSV (or .xlsx) of small areas to wards or MSOAs, with its own field names:
LSOA21CD, WD24CD, WD24NM, LAD24CD (2024) or lsoa21cd, wd25cd, wd25nm, lad25cd (2025), and the like
for MSOAs; other neighbourhood columns with --code-field and --name-field. Rows of small areas that
are not loaded are skipped, so the national lookup works; --la keeps the rows of those boroughs
(by the lookup's LAD column), whose LAD column also says which borough each small area is in.
Each neighbourhood's geometry is the union of its small areas: it has no official boundary, so the
set is recorded as custom, with the year read from the code column (wd25cd is 2025) or --vintage.
A small area given two neighbourhoods, or a neighbourhood given two names, is an error naming both
rows.`,
		example: "nbhd import set-lookup LSOA21_WD25_LAD25_EW_LU.csv --set ward-2025 --set-title \"Wards (2025, best fit)\" --la E08000010",
		options: []accepts{
			{opt: optSet, help: "the neighbourhood set's id (e.g. ward-2025); re-importing a set replaces it"},
			{opt: optSetTitle},
			{opt: optVintage, help: "the year of the neighbourhoods (default: from the code column, e.g. WD25CD is 2025)"},
			{opt: optLA, help: "keep the rows of these boroughs (the lookup's LADyyCD column), e.g. E08000010"},
			{opt: optCodeField, help: "column holding the neighbourhood code (found automatically for WDyyCD and MSOAyyCD)"},
			{opt: optNameField, help: "column holding the neighbourhood name (found automatically for WDyyNM and MSOAyyNM)"},
			{opt: optSheet},
		},
		ident: setIdent,
		run:   importSetLookup,
	})
}

// setLookupSource streams membership rows: n, small area, neighbourhood
// code and name, LAD code and name.
type setLookupSource struct {
	t                *table
	area, code, name int
	lad, ladName     int
	year             int
	filter           *laFilter
	skippedAreas     int
	loaded           map[string]struct{}
}

func newSetLookup(file string, r io.Reader, opts Options, loaded map[string]struct{}) (_ *setLookupSource, err error) {
	t, err := readTable(file, r, tableOpts{sheet: opts.text(optSheet), header: []string{"LSOA21CD", "LSOA11CD"}})
	if err != nil {
		return nil, err
	}
	defer closeOnError(t, &err)
	s := &setLookupSource{t: t, area: -1, code: -1, name: -1, loaded: loaded}
	for i, h := range t.header {
		h = strings.TrimSpace(h)
		if s.area < 0 && lookupAreaCol.MatchString(h) {
			s.area = i
		}
		if m := lookupHoodCol.FindStringSubmatch(h); s.code < 0 && m != nil {
			s.code = i
			yy, _ := strconv.Atoi(m[2])
			s.year = 2000 + yy
			s.name = t.col(h[:len(h)-2] + "nm")
		}
	}
	if s.area < 0 {
		if s.area, err = t.need("LSOA21CD", "LSOA11CD", "lsoa_code", "small_area_code"); err != nil {
			return nil, err
		}
	}
	if f := opts.text(optCodeField); f != "" {
		if s.code, err = t.need(f); err != nil {
			return nil, err
		}
		s.year, s.name = 0, -1
	}
	if f := opts.text(optNameField); f != "" {
		if s.name, err = t.need(f); err != nil {
			return nil, err
		}
	}
	if s.code < 0 {
		e := t.errf(-1, "missing column: no neighbourhood code column (WDyyCD, MSOAyyCD; or name it with --code-field)")
		e.Line, e.Field = max(t.headerLine, 1), "WD25CD"
		return nil, e
	}
	if s.name < 0 {
		s.name = s.code // a code-only lookup: the code names the neighbourhood
	}
	if v := opts.number(optVintage); v != 0 {
		if s.year != 0 && s.year != v {
			e := t.errf(s.code, "--vintage %d, but the lookup's neighbourhoods are of %d", v, s.year)
			e.Line = max(t.headerLine, 1)
			return nil, e
		}
		s.year = v
	}
	s.lad, s.ladName = ladColumns(t)
	if s.filter, err = newLAFilter(file, opts, false); err != nil {
		return nil, err
	}
	if s.filter.active() && s.lad < 0 {
		e := t.errf(-1, "--la needs the lookup's local-authority column (LADyyCD)")
		e.Line, e.Field = max(t.headerLine, 1), "LAD25CD"
		return nil, e
	}
	return s, nil
}

func (s *setLookupSource) next() ([]any, error) {
	t := s.t
	for {
		rec, err := t.next()
		if err != nil {
			return nil, err
		}
		area := field(rec, s.area)
		if !levels["lsoa"].MatchString(area) {
			return nil, t.errf(s.area, "%q is not an LSOA code", area)
		}
		lad, err := ladCell(t, rec, s.lad)
		if err != nil {
			return nil, err
		}
		if !s.filter.keepCode(lad) {
			continue
		}
		if _, ok := s.loaded[area]; !ok {
			s.skippedAreas++
			continue
		}
		code, name := field(rec, s.code), field(rec, s.name)
		if !levels["custom"].MatchString(code) {
			return nil, t.errf(s.code, "neighbourhood code %q must be 1 to 64 characters, not starting with a space", code)
		}
		if name == "" {
			return nil, t.errf(s.name, "neighbourhood name is empty")
		}
		return []any{t.line, area, code, name, lad, field(rec, s.ladName)}, nil
	}
}

func importSetLookup(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	loaded, err := codeSet(ctx, tx, "SELECT code FROM nbhd.small_areas")
	if err != nil {
		return Result{}, err
	}
	src, err := newSetLookup(job.File, r, job.Options, loaded)
	if err != nil {
		return Result{}, err
	}
	defer src.t.close()
	if err := stage(ctx, tx, "set_lookup_stage", "n integer, area text, code text, name text, lad text, lad_name text",
		[]string{"n", "area", "code", "name", "lad", "lad_name"}, src.next); err != nil {
		return Result{}, err
	}
	t := src.t
	loc, codeField, nameField := t.at(), t.header[src.code], t.header[src.name]
	unit := t.unit()
	// One neighbourhood per small area (an output-area lookup repeats it).
	if err := firstBad(ctx, tx, loc, codeField, `SELECT s.n, 'small area ' || s.area || ' is in ' || s.code || ' here but in ' ||
		f.code || ' on `+unit+` ' || f.n || ': a best-fit lookup gives one neighbourhood per small area'
		FROM (SELECT n, area, code, min(n) OVER (PARTITION BY area) AS first FROM set_lookup_stage) s
		JOIN set_lookup_stage f ON f.n = s.first WHERE s.code <> f.code ORDER BY s.n LIMIT 1`); err != nil {
		return Result{}, err
	}
	if err := firstBad(ctx, tx, loc, nameField, `SELECT s.n, 'neighbourhood ' || s.code || ' is named ' || s.name || ' here but ' ||
		f.name || ' on `+unit+` ' || f.n
		FROM (SELECT n, code, name, min(n) OVER (PARTITION BY code) AS first FROM set_lookup_stage) s
		JOIN set_lookup_stage f ON f.n = s.first WHERE s.name <> f.name ORDER BY s.n LIMIT 1`); err != nil {
		return Result{}, err
	}
	set := job.Options.text(optSet)
	n, err := writeSet(ctx, tx, job, ds, `SELECT m.code, min(m.name) AS name, ST_Multi(ST_CollectionExtract(ST_Union(sa.geom), 3)) AS geom
		FROM (SELECT DISTINCT area, code, name FROM set_lookup_stage) m JOIN nbhd.small_areas sa ON sa.code = m.area GROUP BY m.code`)
	if err != nil {
		return Result{}, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.neighbourhood_members (set_id, small_area_code, neighbourhood_code, method)
		SELECT DISTINCT $1, area, code, 'lookup' FROM set_lookup_stage`, set)
	if err != nil {
		return Result{}, fmt.Errorf("write neighbourhood members: %w", err)
	}
	if err := recordSet(ctx, tx, set, "custom", src.year); err != nil {
		return Result{}, err
	}
	if _, err := writeLADFacts(ctx, tx, ds, trustLookup, `SELECT area, lad, lad_name FROM set_lookup_stage WHERE lad <> ''`); err != nil {
		return Result{}, err
	}
	res := Result{Rows: n}
	res.Notes = append(res.Notes, src.filter.note()...)
	res.Notes = append(res.Notes, fmt.Sprintf("set %s: %d small areas in %d neighbourhoods (best-fit lookup, no official boundaries; year %s)",
		set, tag.RowsAffected(), n, orUnknown(src.year)))
	if src.skippedAreas > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("skipped %d rows of small areas that are not loaded", src.skippedAreas))
	}
	// Gaps among the loaded small areas of the boroughs the lookup covers
	// (of every loaded small area when it names no borough).
	rows, err := tx.Query(ctx, `SELECT sa.code FROM nbhd.small_areas sa
		WHERE NOT EXISTS (SELECT 1 FROM set_lookup_stage s WHERE s.area = sa.code)
		  AND (NOT EXISTS (SELECT 1 FROM set_lookup_stage WHERE lad <> '')
		       OR sa.lad_code IN (SELECT lad FROM set_lookup_stage WHERE lad <> ''))
		ORDER BY sa.code`)
	if err != nil {
		return Result{}, fmt.Errorf("find small areas in no neighbourhood: %w", err)
	}
	gaps, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return Result{}, fmt.Errorf("find small areas in no neighbourhood: %w", err)
	}
	if len(gaps) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d loaded small areas are in no neighbourhood: %s", len(gaps), someOf(gaps)))
	}
	return res, nil
}

func orUnknown(year int) string {
	if year == 0 {
		return "not given"
	}
	return strconv.Itoa(year)
}
