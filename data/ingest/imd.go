package ingest

import (
	"context"
	"fmt"
	"io"
	"strconv"
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
	register("imd", importer{
		help: "English Indices of Deprivation 2019 CSV: a published file with its verbatim headers (File 1, 2, 5 or 7) or the tidy joined CSV (lsoa11cd, imd_rank, ...); --la CODE keeps one local authority",
		ident: func(j Job) (string, string, error) {
			return "deprivation", keyOr(j, "imd2019"), nil
		},
		run: importIMD,
	})
}

func keyOr(j Job, def string) string {
	if j.Spec.Key != "" {
		return j.Spec.Key
	}
	return def
}

// imdColumns maps each domain to its rank, decile and score columns (-1 when
// the file does not have it).
type imdColumns struct {
	code, la            int
	rank, decile, score [8]int
}

func findIMDColumns(t *table) (imdColumns, error) {
	var c imdColumns
	var err error
	if c.code, err = t.need("LSOA code (2011)", "lsoa11cd", "lsoa21cd", "lsoa_code", "LSOA code"); err != nil {
		return c, err
	}
	c.la = t.col("Local Authority District code (2019)", "lad19cd", "lad_code", "Local Authority District code")
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

func importIMD(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	t, err := newTable(job.File, r)
	if err != nil {
		return Result{}, err
	}
	c, err := findIMDColumns(t)
	if err != nil {
		return Result{}, err
	}
	cols := []string{"n", "code"}
	defs := []string{"n integer", "code text"}
	for _, d := range domains {
		cols = append(cols, d.key+"_rank", d.key+"_decile", d.key+"_score")
		defs = append(defs, d.key+"_rank integer", d.key+"_decile smallint", d.key+"_score double precision")
	}
	seen := map[string]int{}
	skipped := 0
	err = stage(ctx, tx, "imd_stage", strings.Join(defs, ", "), cols, func() ([]any, error) {
		for {
			rec, err := t.next()
			if err != nil {
				return nil, err
			}
			if job.Spec.LA != "" && c.la >= 0 && field(rec, c.la) != job.Spec.LA {
				skipped++
				continue
			}
			code := field(rec, c.code)
			if !levels["lsoa"].MatchString(code) {
				return nil, t.errf(c.code, "%q is not an LSOA code", code)
			}
			if first, dup := seen[code]; dup {
				return nil, t.errf(c.code, "%s already appears on line %d", code, first)
			}
			seen[code] = t.line
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
	})
	if err != nil {
		return Result{}, err
	}
	loc := at{file: job.File}
	if err := unknownSmallArea(ctx, tx, loc, t.header[c.code], "imd_stage"); err != nil {
		return Result{}, err
	}
	if err := clearPrevious(ctx, tx, "deprivation", "deprivation", keyOr(job, "imd2019"), ds); err != nil {
		return Result{}, err
	}
	var set []string
	for _, d := range domains {
		set = append(set, d.key+"_rank", d.key+"_decile", d.key+"_score")
	}
	tag, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO nbhd.deprivation (code, source_code, %[1]s, dataset_id)
		SELECT code, code, %[1]s, $1 FROM imd_stage`, strings.Join(set, ", ")), ds)
	if err != nil {
		return Result{}, fmt.Errorf("write deprivation: %w", err)
	}
	res := Result{Rows: int(tag.RowsAffected())}
	if skipped > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("skipped %d rows of other local authorities", skipped))
	}
	return res, nil
}

// unknownSmallArea fails on the first staged row whose code is not a loaded
// small area.
func unknownSmallArea(ctx context.Context, tx pgx.Tx, loc at, field, table string) error {
	return firstBad(ctx, tx, loc, field, fmt.Sprintf(`SELECT n, 'unknown small-area code ' || code || ' (not in the loaded LSOA boundaries)'
		FROM %s s WHERE NOT EXISTS (SELECT 1 FROM nbhd.small_areas sa WHERE sa.code = s.code) ORDER BY n LIMIT 1`,
		pgx.Identifier{table}.Sanitize()))
}

// clearPrevious deletes a keyed table's rows that belong to earlier imports
// of the same dataset, before the new rows take their keys.
func clearPrevious(ctx context.Context, tx pgx.Tx, table, kind, key string, current int64) error {
	old, err := previous(ctx, tx, kind, key, current)
	if err != nil || len(old) == 0 {
		return err
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("DELETE FROM nbhd.%s WHERE dataset_id = ANY($1)", pgx.Identifier{table}.Sanitize()), old); err != nil {
		return fmt.Errorf("clear earlier %s: %w", table, err)
	}
	return nil
}

// intIn parses column i as an integer in [lo, hi]; absent columns and empty
// cells are NULL. Thousands separators are accepted.
func intIn(t *table, rec []string, i int, lo, hi int64) (any, error) {
	s := strings.ReplaceAll(field(rec, i), ",", "")
	if i < 0 || s == "" {
		return nil, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, t.errf(i, "%q is not a whole number", s)
	}
	if v < lo || v > hi {
		return nil, t.errf(i, "%d is outside %d..%d", v, lo, hi)
	}
	return v, nil
}

// number parses column i as a number; absent columns and empty cells are NULL.
func number(t *table, rec []string, i int) (any, error) {
	s := strings.ReplaceAll(field(rec, i), ",", "")
	if i < 0 || s == "" {
		return nil, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, t.errf(i, "%q is not a number", s)
	}
	return v, nil
}
