package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

var (
	populationCol = regexp.MustCompile(`(?i)^(all[ _]?ages|population|total[ _]population|total|persons)`)
	// census2021Total is the Nomis bulk Census 2021 TS001 count of usual
	// residents ("Residence type: Total; measures: Value").
	censusTotal = regexp.MustCompile(`(?i)^residence type: total; measures: value$`)
	midYear     = regexp.MustCompile(`(?i)mid[ _-]?(\d{4})`)
	censusYear  = regexp.MustCompile(`(?i)census[ _-]?(\d{4})`)
	// periodSheet is a sheet of an ONS estimates workbook: "Mid-2022 LSOA 2021".
	periodSheet = regexp.MustCompile(`(?i)^mid[ -]?(\d{4})\b`)
	// periodForm is what nbhd.small_area_population keeps.
	periodForm = regexp.MustCompile(`^(mid-|census-)?\d{4}$`)
	yearForm   = regexp.MustCompile(`^\d{4}$`)
	// ageCol is a count by sex and age: F0 ... F90 (single years, 90 for 90
	// and over) or F0-15, F65+ (broad ages).
	ageCol = regexp.MustCompile(`^([FM])(\d{1,3})(?:-(\d{1,3})|(\+))?$`)
)

// popCodeCols are the small-area code columns population files have had.
var popCodeCols = []string{"area_code", "lsoa21cd", "lsoa11cd", "LSOA 2021 Code", "LSOA Code", "LSOA code (2011)", "geography code", "code"}

func init() {
	register("population", &importer{
		summary: "small-area population: ONS estimates workbooks (single year or broad ages, every period sheet), Census 2021 TS001, or a CSV",
		formats: `ONS "Lower layer Super Output Area population estimates" workbooks as published
(sapelsoasyoa20222024.xlsx by single year of age, sapelsoabroadage20222024.xlsx by broad age): every
sheet named "Mid-YYYY LSOA 2021" is one period, all loaded in one import, the header found below
the title rows (LSOA 2021 Code, Total, F0 ... F90 and M0 ... M90, or F0-15 ... F65+ and M0-15 ...
M65+). One such sheet saved as CSV (with --period). The Census 2021 TS001 bulk CSV from Nomis
(census2021-ts001-lsoa.csv: geography code, "Residence type: Total; measures: Value"), period
census-YYYY from its date column. Or any CSV of a small-area code (area_code, lsoa21cd ...) and an
all-ages count (all_ages..., population, total or persons). Ages by sex give the bands 0-15, 16-64
and 65+, and must add up to the total. Periods are mid-YYYY or census-YYYY: from --period, the
sheet's name, the column's (all_ages_mid2017) or the file's. Every period is kept beside the
others; re-importing a period replaces that period only. Rows for larger areas (a borough total)
are skipped and counted.`,
		example: "nbhd import population sapelsoasyoa20222024.xlsx --la E08000010",
		options: []accepts{
			{opt: optKey, help: "dataset key (default population-PERIOD, e.g. population-mid-2022-to-mid-2024)"},
			{opt: optPeriod, help: "period of the estimate, mid-YYYY or census-YYYY (read from the sheet, column or file name when they say)"},
			{opt: optSheet, help: "read this sheet of a workbook only (default: every Mid-YYYY sheet)"},
			{opt: optLA, help: "keep these boroughs' rows (by the file's LAD column, else by the loaded small areas' borough), e.g. E08000010"},
		},
		ident: func(j Job) (string, string, error) {
			return "population", keyOr(j, "population"), nil
		},
		run: importPopulation,
	})
}

// ageBand is which broad band (0: 0-15, 1: 16-64, 2: 65+) an age column
// counts, or -1 when it straddles two.
func ageBand(lo, hi int) int {
	switch {
	case hi <= 15:
		return 0
	case lo >= 16 && hi <= 64:
		return 1
	case lo >= 65:
		return 2
	}
	return -1
}

// popSource streams one table (a CSV, or one sheet) of a population file:
// n, sheet number, code, period, population, ages 0-15, 16-64, 65+, LAD
// code and name.
type popSource struct {
	t          *table
	sheetNo    int
	code, tot  int
	ages       []int // columns counting ages by sex
	bands      []int // each one's band
	date       int   // TS001's date column, -1 elsewhere
	lad, ladNm int
	period     string
	census     bool
	filter     *laFilter
	shared     *popShared
}

// popShared is what the sources of one import share.
type popShared struct {
	seen       map[string]int // period + code -> line or row
	loaded     map[string]struct{}
	aggregates int
	ladless    bool // some table has no LAD column: --la goes by the small areas' boroughs
}

// newPopSource reads a table's columns. The period is the one given, else
// the total column's (all_ages_mid2017), else fallback (the sheet's or
// file's name).
func newPopSource(t *table, sheetNo int, opts Options, period, fallback string, sh *popShared) (*popSource, error) {
	s := &popSource{t: t, sheetNo: sheetNo, tot: -1, date: -1, shared: sh}
	var err error
	if s.code, err = t.need(popCodeCols...); err != nil {
		return nil, err
	}
	for i, h := range t.header {
		h = strings.Join(strings.Fields(h), " ")
		if censusTotal.MatchString(h) {
			s.tot, s.census = i, true
			break
		}
	}
	if s.census {
		s.date = t.col("date")
	} else {
		for i, h := range t.header {
			if populationCol.MatchString(strings.TrimSpace(h)) {
				s.tot = i
				break
			}
		}
	}
	if s.tot < 0 {
		e := t.errf(-1, "missing column: no population column (all_ages..., population, total; or TS001's \"Residence type: Total; measures: Value\")")
		e.Line, e.Field = max(t.headerLine, 1), "all_ages"
		return nil, e
	}
	for i, h := range t.header {
		m := ageCol.FindStringSubmatch(strings.TrimSpace(h))
		if m == nil {
			continue
		}
		lo, _ := strconv.Atoi(m[2])
		hi := lo
		switch {
		case m[3] != "":
			hi, _ = strconv.Atoi(m[3])
		case m[4] != "" || lo == 90: // 90+: ONS's last single year
			hi = 200
		}
		b := ageBand(lo, hi)
		if b < 0 {
			e := t.errf(i, "the ages %s cannot be put in one of the bands 0-15, 16-64 and 65+", h)
			e.Line = max(t.headerLine, 1)
			return nil, e
		}
		s.ages, s.bands = append(s.ages, i), append(s.bands, b)
	}
	s.lad, s.ladNm = ladColumns(t)
	if s.filter, err = newLAFilter(t.file, opts, false); err != nil {
		return nil, err
	}
	if s.filter.active() {
		if s.lad >= 0 {
			s.filter.onsCol = s.lad
		} else {
			sh.ladless = true
		}
	}
	s.period = period
	if s.period == "" {
		if m := midYear.FindStringSubmatch(t.header[s.tot]); m != nil {
			s.period = "mid-" + m[1]
		}
	}
	if s.period == "" && (!s.census || s.date < 0) {
		s.period = fallback
	}
	return s, nil
}

func (s *popSource) next() ([]any, error) {
	t := s.t
	for {
		rec, err := t.next()
		if err != nil {
			return nil, err
		}
		c := field(rec, s.code)
		if c == "" {
			return nil, t.errf(s.code, "code is empty")
		}
		if !levels["lsoa"].MatchString(c) {
			s.shared.aggregates++ // a total for a larger area, as ONS tables include
			continue
		}
		if s.lad >= 0 && !s.filter.keep(rec) {
			continue
		}
		lad, err := ladCell(t, rec, s.lad)
		if err != nil {
			return nil, err
		}
		period := s.period
		if s.census {
			y := field(rec, s.date)
			if s.date < 0 || !yearForm.MatchString(y) {
				if period == "" {
					return nil, t.errf(s.date, "census year %q is not a year: give --period census-2021", y)
				}
			} else if period == "" {
				period = "census-" + y
			}
		}
		if period == "" {
			return nil, &InputError{File: t.file, Err: fmt.Errorf("cannot tell the estimate's period from the sheet, column %q or file name: give --period (e.g. mid-2022)", t.header[s.tot])}
		}
		if _, ok := s.shared.loaded[c]; !ok && !s.shared.ladless {
			return nil, t.errf(s.code, "unknown small-area code %s (not in the loaded LSOA boundaries)", c)
		}
		k := period + " " + c
		if first, dup := s.shared.seen[k]; dup {
			return nil, t.errf(s.code, "%s already appears on %s %d", c, t.unit(), first)
		}
		s.shared.seen[k] = t.line
		v, err := intIn(t, rec, s.tot, 0, 1_000_000)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, t.errf(s.tot, "population is empty")
		}
		row := []any{t.line, s.sheetNo, c, period, v}
		if len(s.ages) == 0 {
			row = append(row, nil, nil, nil)
		} else {
			var bands [3]int64
			var sum int64
			for i, col := range s.ages {
				n, err := intIn(t, rec, col, 0, 1_000_000)
				if err != nil {
					return nil, err
				}
				if n == nil {
					return nil, t.errf(col, "count is empty")
				}
				bands[s.bands[i]] += n.(int64)
				sum += n.(int64)
			}
			if total := v.(int64); sum != total {
				return nil, t.errf(s.tot, "the counts by sex and age add up to %d, not the total %d", sum, total)
			}
			row = append(row, bands[0], bands[1], bands[2])
		}
		return append(row, lad, field(rec, s.ladNm)), nil
	}
}

func importPopulation(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	period := job.Options.text(optPeriod)
	if period != "" && !periodForm.MatchString(period) {
		return Result{}, &OptionError{Kind: job.Kind, Option: optPeriod.name,
			Err: fmt.Errorf("--period %q: a period is mid-YYYY (a mid-year estimate) or census-YYYY", period)}
	}
	loaded, err := codeSet(ctx, tx, "SELECT code FROM nbhd.small_areas")
	if err != nil {
		return Result{}, err
	}
	sh := &popShared{seen: map[string]int{}, loaded: loaded}
	sources, closeAll, err := openPopulation(job, r, period, sh)
	defer closeAll()
	if err != nil {
		return Result{}, err
	}
	i := 0
	err = stage(ctx, tx, "population_stage",
		"n integer, sheet integer, code text, period text, population integer, a0 integer, a1 integer, a2 integer, lad text, lad_name text",
		[]string{"n", "sheet", "code", "period", "population", "a0", "a1", "a2", "lad", "lad_name"},
		func() ([]any, error) {
			for i < len(sources) {
				row, err := sources[i].next()
				if errors.Is(err, io.EOF) {
					i++
					continue
				}
				return row, err
			}
			return nil, io.EOF
		})
	if err != nil {
		return Result{}, err
	}
	var notes []string
	la := sources[0].filter
	for _, s := range sources[1:] {
		la.skipped += s.filter.skipped
		for c, n := range s.filter.kept {
			la.kept[c] += n
		}
	}
	if sh.ladless && la.active() {
		// No LAD column: keep the rows of loaded small areas in those boroughs.
		tag, err := tx.Exec(ctx, `DELETE FROM population_stage s WHERE NOT EXISTS
			(SELECT 1 FROM nbhd.small_areas sa WHERE sa.code = s.code AND sa.lad_code = ANY($1))`, la.codes)
		if err != nil {
			return Result{}, fmt.Errorf("filter by borough: %w", err)
		}
		la.skipped += int(tag.RowsAffected())
	}
	notes = append(notes, la.note()...)
	periods, err := stagedPeriods(ctx, tx)
	if err != nil {
		return Result{}, err
	}
	key := "population"
	switch len(periods) {
	case 0:
	case 1:
		key += "-" + periods[0]
	default:
		key += "-" + periods[0] + "-to-" + periods[len(periods)-1]
	}
	key = keyOr(job, key)
	// Each period replaces that period of the same small areas, whichever
	// dataset brought it; a dataset left with no rows goes.
	rows, err := tx.Query(ctx, `DELETE FROM nbhd.small_area_population p USING population_stage s
		WHERE p.code = s.code AND p.period = s.period AND p.dataset_id <> $1 RETURNING p.dataset_id`, ds)
	if err != nil {
		return Result{}, fmt.Errorf("replace earlier periods: %w", err)
	}
	touched, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return Result{}, fmt.Errorf("replace earlier periods: %w", err)
	}
	if len(touched) > 0 {
		if _, err := tx.Exec(ctx, `SELECT logic.settle_dataset(id) FROM (SELECT DISTINCT unnest($1::bigint[]) AS id) d`, touched); err != nil {
			return Result{}, fmt.Errorf("settle earlier population datasets: %w", err)
		}
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.small_area_population (code, period, population, age_0_15, age_16_64, age_65_plus, dataset_id)
		SELECT code, period, population, a0, a1, a2, $1 FROM population_stage`, ds)
	if err != nil {
		return Result{}, fmt.Errorf("write population: %w", err)
	}
	if _, err := writeLADFacts(ctx, tx, ds, trustLookup, `SELECT code, lad, lad_name FROM population_stage WHERE lad <> ''`); err != nil {
		return Result{}, err
	}
	res := Result{Rows: int(tag.RowsAffected()), Key: key, Notes: notes}
	if len(periods) > 0 {
		res.Notes = append(res.Notes, "periods: "+strings.Join(periods, ", "))
	}
	if sh.aggregates > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("skipped %d rows for areas larger than an LSOA", sh.aggregates))
	}
	return res, nil
}

// openPopulation opens the tables of a population file: every period sheet
// of a workbook (or the one --sheet names), or the CSV. closeAll releases
// them.
func openPopulation(job Job, r io.Reader, period string, sh *popShared) (sources []*popSource, closeAll func(), err error) {
	var tables []*table
	var book *workbook
	closeAll = func() {
		for _, t := range tables {
			t.close()
		}
		if book != nil {
			_ = book.Close()
		}
	}
	add := func(t *table, fallback string) error {
		tables = append(tables, t)
		s, err := newPopSource(t, len(tables), job.Options, period, fallback, sh)
		if err != nil {
			return err
		}
		sources = append(sources, s)
		return nil
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if sniff(br) != "xlsx" {
		t, err := readTable(job.File, br, tableOpts{header: popCodeCols})
		if err != nil {
			return nil, closeAll, err
		}
		return sources, closeAll, add(t, periodOfName(baseName(job.File)))
	}
	if book, err = openWorkbook(job.File, br); err != nil {
		return nil, closeAll, err
	}
	if sheet := job.Options.text(optSheet); sheet != "" {
		t, err := book.table(sheet, popCodeCols)
		if err != nil {
			return nil, closeAll, err
		}
		return sources, closeAll, add(t, periodOfName(t.sheet.name))
	}
	var named []string
	for _, name := range book.sheets() {
		if periodSheet.MatchString(strings.TrimSpace(name)) {
			named = append(named, name)
		}
	}
	if len(named) == 0 {
		t, err := book.table("", popCodeCols)
		if err != nil {
			return nil, closeAll, err
		}
		return sources, closeAll, add(t, periodOfName(baseName(job.File)))
	}
	if period != "" && len(named) > 1 {
		return nil, closeAll, &OptionError{Kind: job.Kind, Option: optPeriod.name, Err: fmt.Errorf(
			"--period names one period, but the workbook has a sheet for each of several (%s): give --sheet to load one, or leave --period out to load them all",
			quoteList(named))}
	}
	for _, name := range named {
		t, found, err := book.sheetTable(name, popCodeCols)
		if err != nil {
			return nil, closeAll, err
		}
		if !found {
			return nil, closeAll, &InputError{File: job.File, Sheet: name, Err: noHeader(popCodeCols)}
		}
		if err := add(t, periodOfName(name)); err != nil {
			return nil, closeAll, err
		}
	}
	return sources, closeAll, nil
}

// periodOfName reads a period from a sheet's or file's name: "Mid-2022
// LSOA 2021" and "..._mid2022.csv" are mid-2022, "census2021-ts001-lsoa.csv"
// census-2021.
func periodOfName(name string) string {
	if m := midYear.FindStringSubmatch(name); m != nil {
		return "mid-" + m[1]
	}
	if m := censusYear.FindStringSubmatch(name); m != nil {
		return "census-" + m[1]
	}
	return ""
}

// stagedPeriods lists the staged periods, oldest first.
func stagedPeriods(ctx context.Context, tx pgx.Tx) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT period FROM population_stage`)
	if err != nil {
		return nil, fmt.Errorf("list periods: %w", err)
	}
	periods, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list periods: %w", err)
	}
	sort.Slice(periods, func(i, j int) bool {
		yi, yj := periods[i][len(periods[i])-4:], periods[j][len(periods[j])-4:]
		if yi != yj {
			return yi < yj
		}
		return periods[i] < periods[j]
	})
	return periods, nil
}
