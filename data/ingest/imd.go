package ingest

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
)

// domain is one of the English Indices of Deprivation 2019 domains, by its
// tidy column prefix and its title in the published files' headers.
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
}

// englandLSOAs2011 is the number of LSOAs the 2019 indices rank.
const englandLSOAs2011 = 32844

func init() {
	register("imd", &importer{
		summary: "English Indices of Deprivation 2019 CSV (File 1, 2, 5 or 7 with their verbatim headers, or the tidy joined CSV)",
		formats: `The IoD2019 CSVs as published: File 1 (IMD rank and decile), File 2 (ranks and deciles of the
IMD and its seven domains), File 5 (scores), File 7 (scores, ranks and deciles), or the tidy joined
CSV (lsoa11cd, imd_rank, imd_decile, income_score ...). Each file is its own dataset, keyed by what
it holds (imd2019-file2, imd2019-file5 ...), and their values combine per small area. The indices
are on 2011 LSOAs: when the loaded small areas are 2021 LSOAs whose codes changed, --lookup gives
the ONS LSOA (2011) to LSOA (2021) lookup; each 2021 area takes its most deprived parent's values.`,
		example: "nbhd import imd File_2_-_IoD2019_Domains_of_Deprivation.csv --la E08000010,E08000001",
		options: []accepts{
			{opt: optKey, help: "dataset key (default: imd2019-fileN, from the columns the file has)"},
			{opt: optLA, help: "keep these local authorities' rows (Local Authority District code (2019)), e.g. E08000010"},
			{opt: optLookup, help: "the ONS LSOA (2011) to LSOA (2021) lookup CSV, to carry 2011 values to 2021 small areas"},
		},
		ident: func(j Job) (string, string, error) {
			return "deprivation", keyOr(j, "imd2019"), nil
		},
		run: importIMD,
	})
}

// imdLACols are the local-authority columns IoD2019 files have had.
var imdLACols = []string{"Local Authority District code (2019)", "lad19cd", "lad_code", "Local Authority District code"}

// imdColumns maps each domain to its rank, decile and score columns (-1 when
// the file does not have it).
type imdColumns struct {
	code                int
	rank, decile, score [8]int
}

func findIMDColumns(t *table) (imdColumns, error) {
	var c imdColumns
	var err error
	if c.code, err = t.need("LSOA code (2011)", "lsoa11cd", "lsoa21cd", "lsoa_code", "LSOA code"); err != nil {
		return c, err
	}
	for i, d := range domains {
		c.rank[i], c.decile[i], c.score[i] = -1, -1, -1
		for j, h := range t.header {
			h = strings.TrimSpace(h)
			switch {
			case strings.EqualFold(h, d.key+"_rank") || strings.HasPrefix(h, d.title+" Rank"):
				c.rank[i] = j
			case strings.EqualFold(h, d.key+"_decile") || strings.HasPrefix(h, d.title+" Decile"):
				c.decile[i] = j
			case strings.EqualFold(h, d.key+"_score") || strings.HasPrefix(h, d.title+" Score"):
				c.score[i] = j
			}
		}
		// A rank without its decile (or the reverse) is a damaged file.
		if (c.rank[i] < 0) != (c.decile[i] < 0) {
			missing, has := d.title+" Decile (where 1 is most deprived 10% of LSOAs)", "rank"
			if c.rank[i] < 0 {
				missing, has = d.title+" Rank (where 1 is most deprived)", "decile"
			}
			return c, &InputError{File: t.file, Line: 1, Field: missing,
				Err: fmt.Errorf("missing column: the file has the %s domain's %s but not this", d.title, has)}
		}
	}
	if c.rank[0] < 0 && c.score[0] < 0 {
		return c, &InputError{File: t.file, Line: 1, Field: "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
			Err: fmt.Errorf("missing column: no IMD rank or score column (is this an IoD2019 file?)")}
	}
	return c, nil
}

// imdKey names a file's dataset by what it holds, so File 2 (ranks and
// deciles) and File 5 (scores) of one release are two datasets whose values
// combine, and re-importing either replaces only its own.
func imdKey(c imdColumns) string {
	ranks, scores, domainsRanked := false, false, 0
	for i := range domains {
		if c.rank[i] >= 0 {
			ranks = true
			domainsRanked++
		}
		if c.score[i] >= 0 {
			scores = true
		}
	}
	switch {
	case ranks && scores:
		return "imd2019-file7"
	case scores:
		return "imd2019-file5"
	case domainsRanked > 1:
		return "imd2019-file2"
	}
	return "imd2019-file1"
}

// imdSource streams an IoD2019 file's rows: n, code, then rank, decile and
// score for each domain.
type imdSource struct {
	t      *table
	c      imdColumns
	filter *laFilter
}

func newIMD(file string, r io.Reader, opts Options) (*imdSource, error) {
	t, err := newTable(file, r)
	if err != nil {
		return nil, err
	}
	c, err := findIMDColumns(t)
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
	return &imdSource{t: t, c: c, filter: f}, nil
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
		row := []any{t.line, code}
		for i := range domains {
			rank, err := intIn(t, rec, c.rank[i], 1, englandLSOAs2011)
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
	key := keyOr(job, imdKey(src.c))
	measures := measureColumns()
	cols := append([]string{"n", "code"}, measures...)
	defs := []string{"n integer", "code text"}
	for _, d := range domains {
		defs = append(defs, d.key+"_rank integer", d.key+"_decile smallint", d.key+"_score double precision")
	}
	if err := stage(ctx, tx, "imd_stage", strings.Join(defs, ", "), cols, src.next); err != nil {
		return Result{}, err
	}
	codeField := src.t.header[src.c.code]
	loc := at{file: job.File}
	if err := firstBad(ctx, tx, loc, codeField, `SELECT n, code || ' already appears on line ' || first
		FROM (SELECT n, code, min(n) OVER (PARTITION BY code) AS first FROM imd_stage) s WHERE n > first ORDER BY n LIMIT 1`); err != nil {
		return Result{}, err
	}
	var notes []string
	if job.Options.text(optLookup) != "" {
		if notes, err = mapLSOA11(ctx, tx, job, codeField); err != nil {
			return Result{}, err
		}
	} else {
		if err := firstBad(ctx, tx, loc, codeField, `SELECT n, 'unknown small-area code ' || code ||
			' (not in the loaded LSOA boundaries; give --lookup with the ONS LSOA 2011 to 2021 lookup when the boundaries are 2021 LSOAs)'
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
		SELECT target, source, method, %[1]s, $1, 2019 FROM imd_mapped`, list), ds)
	if err != nil {
		return Result{}, fmt.Errorf("write deprivation: %w", err)
	}
	res := Result{Rows: int(tag.RowsAffected()), Key: key, Notes: append(src.filter.note(), notes...)}
	var missing int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM nbhd.small_areas sa
		WHERE NOT EXISTS (SELECT 1 FROM imd_mapped m WHERE m.target = sa.code)`).Scan(&missing); err != nil {
		return Result{}, fmt.Errorf("count small areas without deprivation: %w", err)
	}
	if missing > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d loaded small areas have no value in this file", missing))
	}
	return res, nil
}
