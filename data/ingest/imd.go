package ingest

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// domain is one of the measures of the English Indices of Deprivation
// (the IMD, its seven domains, the two supplementary indices and the six
// sub-domains), by its tidy column prefix and its title in the published
// files' headers ("Income Rank (where 1 is most deprived)").
type domain struct{ key, title string }

var domains = []domain{
	{"imd", "Index of Multiple Deprivation (IMD)"},
	{"income", "Income"},
	{"employment", "Employment"},
	{"education", "Education, Skills and Training"},
	{"health", "Health Deprivation and Disability"},
	{"crime", "Crime"},
	{"barriers", "Barriers to Housing and Services"},
	{"living_env", "Living Environment"},
	{"idaci", "Income Deprivation Affecting Children Index (IDACI)"},
	{"idaopi", "Income Deprivation Affecting Older People (IDAOPI)"},
	{"cyp", "Children and Young People Sub-domain"},
	{"adult_skills", "Adult Skills Sub-domain"},
	{"geo_barriers", "Geographical Barriers Sub-domain"},
	{"wider_barriers", "Wider Barriers Sub-domain"},
	{"indoors", "Indoors Sub-domain"},
	{"outdoors", "Outdoors Sub-domain"},
}

// The seven domains follow the IMD in domains; the supplementary indices
// and sub-domains follow them.
const (
	domainsEnd       = 8
	supplementaryEnd = 10
)

// iodAreas is the number of LSOAs each release ranks.
var iodAreas = map[int]int64{2019: 32844, 2025: 33755}

// imdCodeCols are the small-area code columns the releases have had.
var imdCodeCols = []string{"LSOA code (2011)", "LSOA code (2021)", "lsoa11cd", "lsoa21cd", "lsoa_code", "LSOA code"}

func init() {
	register("imd", &importer{
		summary: "English Indices of Deprivation 2019 or 2025, File 1, 2, 5 or 7 (CSV or the published .xlsx), or the tidy joined CSV",
		formats: `The IoD2019 and IoD2025 files as published, in CSV or .xlsx: File 1 (IMD rank and decile),
File 2 (ranks and deciles of the IMD and its seven domains), File 5 (scores), File 7 (scores, ranks
and deciles of everything, with the supplementary indices IDACI and IDAOPI and the six
sub-domains), or the tidy joined CSV (lsoa11cd, imd_rank, imd_decile, income_score ...). The
release is read from the header (LSOA code (2011) is IoD2019, LSOA code (2021) IoD2025) or given
with --release; the two are kept side by side. Each file is its own dataset, keyed by release and
what it holds (imd2019-file2, imd2025-file7 ...), and values of one release combine per small
area. IoD2019 is on 2011 LSOAs: when the loaded small areas are 2021 LSOAs whose codes changed,
--lookup gives the ONS LSOA (2011) to LSOA (2021) lookup; each 2021 area takes its most deprived
parent's values. IoD2025 is on 2021 LSOAs. The file's Local Authority District columns say which
borough each small area is in.`,
		example: "nbhd import imd File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv --la E08000010,E08000001",
		options: []accepts{
			{opt: optKey, help: "dataset key (default: imdRELEASE-fileN, from the columns the file has)"},
			{opt: optLA, help: "keep these local authorities' rows (Local Authority District code (2019) or (2024)), e.g. E08000010"},
			{opt: optLookup, help: "IoD2019: the ONS LSOA (2011) to LSOA (2021) lookup CSV, to carry 2011 values to 2021 small areas"},
			{opt: optRelease},
			{opt: optSheet, help: "the .xlsx sheet (default: the first with an LSOA code column, e.g. IMD25)"},
		},
		ident: func(j Job) (string, string, error) {
			return "deprivation", keyOr(j, "imd"), nil
		},
		run: importIMD,
	})
}

// imdLACols are the local-authority columns the releases have had.
var imdLACols = []string{"Local Authority District code (2019)", "Local Authority District code (2024)", "lad19cd", "lad24cd",
	"lad_code", "Local Authority District code"}

// imdColumns maps each measure to its rank, decile and score columns (-1
// when the file does not have it).
type imdColumns struct {
	code                int
	lad, ladName        int
	rank, decile, score []int
}

func findIMDColumns(t *table) (imdColumns, error) {
	c := imdColumns{rank: make([]int, len(domains)), decile: make([]int, len(domains)), score: make([]int, len(domains))}
	var err error
	if c.code, err = t.need(imdCodeCols...); err != nil {
		return c, err
	}
	c.lad, c.ladName = ladColumns(t)
	for i, d := range domains {
		c.rank[i], c.decile[i], c.score[i] = -1, -1, -1
		title := normHeader(d.title)
		for j, h := range t.header {
			h = normHeader(h)
			switch {
			case h == d.key+"_rank" || strings.HasPrefix(h, title+" rank"):
				c.rank[i] = j
			case h == d.key+"_decile" || strings.HasPrefix(h, title+" decile"):
				c.decile[i] = j
			case h == d.key+"_score" || strings.HasPrefix(h, title+" score"):
				c.score[i] = j
			}
		}
		// A rank without its decile (or the reverse) is a damaged file.
		if (c.rank[i] < 0) != (c.decile[i] < 0) {
			missing, has := d.title+" Decile (where 1 is most deprived 10% of LSOAs)", "rank"
			if c.rank[i] < 0 {
				missing, has = d.title+" Rank (where 1 is most deprived)", "decile"
			}
			e := t.errf(-1, "missing column: the file has the %s's %s but not this", d.title, has)
			e.Line, e.Field = max(t.headerLine, 1), missing
			return c, e
		}
	}
	if c.rank[0] < 0 && c.score[0] < 0 && !c.any(1, len(domains)) {
		e := t.errf(-1, "missing column: no rank or score of the IMD or any domain (is this an Indices of Deprivation file?)")
		e.Line, e.Field = max(t.headerLine, 1), "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)"
		return c, e
	}
	return c, nil
}

// any reports whether the file ranks or scores any measure in [from, to).
func (c imdColumns) any(from, to int) bool {
	for i := from; i < to; i++ {
		if c.rank[i] >= 0 || c.score[i] >= 0 {
			return true
		}
	}
	return false
}

// imdRelease tells the release from the header (its code, LAD and
// population columns name their years) or the sheet's name, checked
// against --release; a file that says nothing is IoD2019 unless --release
// says otherwise.
func imdRelease(t *table, given string) (int, error) {
	said, by := 0, ""
	for i, h := range t.header {
		h := normHeader(h)
		switch {
		case strings.Contains(h, "(2011)") || h == "lsoa11cd" || strings.Contains(h, "(2019)") || strings.Contains(h, "mid 2015"):
			said, by = 2019, t.header[i]
		case strings.Contains(h, "(2021)") || strings.Contains(h, "(2024)") || strings.Contains(h, "mid 2022"):
			said, by = 2025, t.header[i]
		}
		if said != 0 {
			break
		}
	}
	if said == 0 && t.sheet != nil {
		name := strings.ToLower(t.sheet.name)
		switch {
		case strings.Contains(name, "2019") || strings.Contains(name, "imd19"):
			said, by = 2019, "sheet "+t.sheet.name
		case strings.Contains(name, "2025") || strings.Contains(name, "imd25") || strings.Contains(name, "iod25"):
			said, by = 2025, "sheet "+t.sheet.name
		}
	}
	if given != "" {
		r, _ := strconv.Atoi(given)
		if said != 0 && said != r {
			e := t.errf(-1, "--release %d, but %q is IoD%d's", r, by, said)
			e.Line, e.Field = max(t.headerLine, 1), by
			return 0, e
		}
		return r, nil
	}
	if said == 0 {
		said = 2019
	}
	return said, nil
}

// imdKey names a file's dataset by its release and what it holds, so File
// 2 (ranks and deciles) and File 5 (scores) of one release are two datasets
// whose values combine, re-importing either replaces only its own, and
// IoD2025 never replaces IoD2019.
func imdKey(release int, c imdColumns) string {
	ranks, scores, domainsRanked := false, false, 0
	for i := range domains {
		if c.rank[i] >= 0 {
			ranks = true
			if i < domainsEnd {
				domainsRanked++
			}
		}
		if c.score[i] >= 0 {
			scores = true
		}
	}
	file := 1
	switch {
	case ranks && scores:
		file = 7
	case scores:
		file = 5
	case domainsRanked > 1:
		file = 2
	case domainsRanked == 0 && c.any(domainsEnd, supplementaryEnd):
		file = 3
	case domainsRanked == 0 && c.any(supplementaryEnd, len(domains)):
		file = 4
	}
	return fmt.Sprintf("imd%d-file%d", release, file)
}

// imdSource streams an IoD file's rows: n, code, LAD code, LAD name, then
// rank, decile and score of each measure.
type imdSource struct {
	t       *table
	c       imdColumns
	release int
	filter  *laFilter
}

func newIMD(file string, r io.Reader, opts Options) (_ *imdSource, err error) {
	t, err := readTable(file, r, tableOpts{sheet: opts.text(optSheet), header: imdCodeCols})
	if err != nil {
		return nil, err
	}
	defer closeOnError(t, &err)
	c, err := findIMDColumns(t)
	if err != nil {
		return nil, err
	}
	release, err := imdRelease(t, opts.text(optRelease))
	if err != nil {
		return nil, err
	}
	f, err := newLAFilter(file, opts, false)
	if err != nil {
		return nil, err
	}
	if err := f.byColumn(t, imdLACols, nil); err != nil {
		return nil, err
	}
	return &imdSource{t: t, c: c, release: release, filter: f}, nil
}

func (s *imdSource) next() ([]any, error) {
	t, c := s.t, s.c
	for {
		rec, err := t.next()
		if err != nil {
			return nil, err
		}
		if !s.filter.keep(rec) {
			continue
		}
		code := field(rec, c.code)
		if !levels["lsoa"].MatchString(code) {
			return nil, t.errf(c.code, "%q is not an LSOA code", code)
		}
		lad, err := ladCell(t, rec, c.lad)
		if err != nil {
			return nil, err
		}
		row := []any{t.line, code, lad, field(rec, c.ladName)}
		for i := range domains {
			rank, err := intIn(t, rec, c.rank[i], 1, iodAreas[s.release])
			if err != nil {
				return nil, err
			}
			decile, err := intIn(t, rec, c.decile[i], 1, 10)
			if err != nil {
				return nil, err
			}
			score, err := number(t, rec, c.score[i])
			if err != nil {
				return nil, err
			}
			row = append(row, rank, decile, score)
		}
		return row, nil
	}
}

// measureColumns lists the deprivation table's measure columns in domain
// order (rank, decile, score).
func measureColumns() []string {
	var out []string
	for _, d := range domains {
		out = append(out, d.key+"_rank", d.key+"_decile", d.key+"_score")
	}
	return out
}

func importIMD(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	src, err := newIMD(job.File, r, job.Options)
	if err != nil {
		return Result{}, err
	}
	defer src.t.close()
	lookup := job.Options.text(optLookup)
	if lookup != "" && src.release != 2019 {
		return Result{}, &OptionError{Kind: job.Kind, Option: optLookup.name,
			Err: fmt.Errorf("--lookup carries IoD2019's 2011 LSOAs to 2021 ones; IoD%d is on 2021 LSOAs already", src.release)}
	}
	key := keyOr(job, imdKey(src.release, src.c))
	measures := measureColumns()
	cols := append([]string{"n", "code", "lad", "lad_name"}, measures...)
	defs := []string{"n integer", "code text", "lad text", "lad_name text"}
	for _, d := range domains {
		defs = append(defs, d.key+"_rank integer", d.key+"_decile smallint", d.key+"_score double precision")
	}
	if err := stage(ctx, tx, "imd_stage", strings.Join(defs, ", "), cols, src.next); err != nil {
		return Result{}, err
	}
	codeField := src.t.header[src.c.code]
	loc := src.t.at()
	if err := firstBad(ctx, tx, loc, codeField, `SELECT n, code || ' already appears on `+src.t.unit()+` ' || first
		FROM (SELECT n, code, min(n) OVER (PARTITION BY code) AS first FROM imd_stage) s WHERE n > first ORDER BY n LIMIT 1`); err != nil {
		return Result{}, err
	}
	var notes []string
	ladTrust, ladFrom := trustIoD, `SELECT target, lad, lad_name FROM imd_mapped`
	if src.release == 2019 {
		ladTrust = trustIoD2019
	}
	if lookup != "" {
		var byLookup bool
		if notes, byLookup, err = mapLSOA11(ctx, tx, job, loc, codeField); err != nil {
			return Result{}, err
		}
		if byLookup {
			// The lookup's own district (2022) is newer than the IoD's (2019).
			ladTrust, ladFrom = trustLookup, `SELECT l.lsoa21, l.lad, l.lad_name FROM lsoa_lookup_stage l
				WHERE EXISTS (SELECT 1 FROM imd_mapped m WHERE m.target = l.lsoa21)`
		}
	} else {
		hint := ""
		if src.release == 2019 {
			hint = "; give --lookup with the ONS LSOA 2011 to 2021 lookup when the boundaries are 2021 LSOAs"
		}
		if err := firstBad(ctx, tx, loc, codeField, `SELECT n, 'unknown small-area code ' || code ||
			' (not in the loaded LSOA boundaries`+hint+`)'
			FROM imd_stage s WHERE NOT EXISTS (SELECT 1 FROM nbhd.small_areas sa WHERE sa.code = s.code) ORDER BY n LIMIT 1`); err != nil {
			return Result{}, err
		}
		if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.imd_mapped;
			CREATE TEMP TABLE imd_mapped ON COMMIT DROP AS SELECT code AS target, code AS source, 'direct'::text AS method, * FROM imd_stage`); err != nil {
			return Result{}, fmt.Errorf("map deprivation: %w", err)
		}
	}
	list := strings.Join(measures, ", ")
	tag, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO nbhd.deprivation_parts (code, source_code, method, %[1]s, dataset_id, release)
		SELECT target, source, method, %[1]s, $1, $2 FROM imd_mapped`, list), ds, src.release)
	if err != nil {
		return Result{}, fmt.Errorf("write deprivation: %w", err)
	}
	res := Result{Rows: int(tag.RowsAffected()), Key: key, Notes: append(src.filter.note(), notes...)}
	if _, err := writeLADFacts(ctx, tx, ds, ladTrust, ladFrom); err != nil {
		return Result{}, err
	}
	var missing int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM nbhd.small_areas sa
		WHERE NOT EXISTS (SELECT 1 FROM imd_mapped m WHERE m.target = sa.code)`).Scan(&missing); err != nil {
		return Result{}, fmt.Errorf("count small areas without deprivation: %w", err)
	}
	if missing > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d loaded small areas have no value in this file", missing))
	}
	res.Notes = append(res.Notes, fmt.Sprintf("English Indices of Deprivation %d", src.release))
	return res, nil
}
