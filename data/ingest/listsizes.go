package ingest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

func init() {
	register("gp-list-sizes", importer{
		help: "NHS Patients Registered at a GP Practice gp-reg-pat-prac-all.csv (EXTRACT_DATE, CODE, NUMBER_OF_PATIENTS; all-ages, all-sexes rows): one extract per file, kept by date (dataset key gp-list-sizes-YYYY-MM); rows for practices not loaded (with --la: not loaded in that authority) are skipped",
		ident: func(j Job) (string, string, error) {
			return "gp_list_sizes", keyOr(j, "gp-list-sizes"), nil
		},
		run: importListSizes,
	})
}

// extractDateLayouts are the ways NHS England has written EXTRACT_DATE.
var extractDateLayouts = []string{"2006-01-02", "02Jan2006", "02-Jan-2006", "02/01/2006", "2006-01-02T15:04:05"}

// listSizeSource streams practice list sizes: n, code, date, patients.
type listSizeSource struct {
	t                              *table
	date, code, patients, typ, sex int
	age                            int
	extract                        time.Time
	extractLine                    int
	otherRows                      int
}

func newListSizes(file string, r io.Reader) (*listSizeSource, error) {
	t, err := newTable(file, r)
	if err != nil {
		return nil, err
	}
	s := &listSizeSource{t: t}
	for _, c := range []struct {
		dst   *int
		names []string
	}{
		{&s.date, []string{"EXTRACT_DATE"}},
		{&s.code, []string{"CODE", "PRACTICE_CODE", "ORG_CODE"}},
		{&s.patients, []string{"NUMBER_OF_PATIENTS"}},
	} {
		if *c.dst, err = t.need(c.names...); err != nil {
			return nil, err
		}
	}
	s.typ, s.sex, s.age = t.col("TYPE", "ORG_TYPE"), t.col("SEX"), t.col("AGE")
	return s, nil
}

func (s *listSizeSource) next() ([]any, error) {
	t := s.t
	for {
		rec, err := t.next()
		if err != nil {
			return nil, err
		}
		// The all-practices file is one row per practice; its by-age and
		// by-sex siblings add breakdowns whose total row is ALL/ALL.
		if (s.typ >= 0 && !strings.EqualFold(field(rec, s.typ), "GP")) ||
			(s.sex >= 0 && !strings.EqualFold(field(rec, s.sex), "ALL")) ||
			(s.age >= 0 && !strings.EqualFold(field(rec, s.age), "ALL")) {
			s.otherRows++
			continue
		}
		d, err := parseExtractDate(field(rec, s.date))
		if err != nil {
			return nil, t.errf(s.date, "%v", err)
		}
		if s.extractLine == 0 {
			s.extract, s.extractLine = d, t.line
		} else if !d.Equal(s.extract) {
			return nil, t.errf(s.date, "extract date %s differs from line %d's %s: import one extract per file",
				d.Format(time.DateOnly), s.extractLine, s.extract.Format(time.DateOnly))
		}
		code := field(rec, s.code)
		if !odsPractice.MatchString(code) {
			return nil, t.errf(s.code, "%q is not an ODS practice code (a letter and five digits)", code)
		}
		n, err := intIn(t, rec, s.patients, 0, 10_000_000)
		if err != nil {
			return nil, err
		}
		if n == nil {
			return nil, t.errf(s.patients, "number of patients is empty")
		}
		return []any{t.line, code, d, n}, nil
	}
}

func parseExtractDate(v string) (time.Time, error) {
	for _, l := range extractDateLayouts {
		if d, err := time.Parse(l, v); err == nil {
			return d, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (e.g. 2026-04-01 or 01APR2026)", v)
}

func importListSizes(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	src, err := newListSizes(job.File, r)
	if err != nil {
		return Result{}, err
	}
	err = stage(ctx, tx, "list_size_stage", "n integer, code text, extract_date date, patients integer",
		[]string{"n", "code", "extract_date", "patients"}, src.next)
	if err != nil {
		return Result{}, err
	}
	if src.extractLine == 0 {
		return Result{}, &InputError{File: job.File, Err: fmt.Errorf("no all-ages, all-sexes GP practice rows")}
	}
	key := job.Spec.Key
	if key == "" {
		key = "gp-list-sizes-" + src.extract.Format("2006-01")
	}
	loc := at{file: job.File}
	if err := firstBad(ctx, tx, loc, src.t.header[src.code], `SELECT n, code || ' already appears on line ' || first
		FROM (SELECT n, code, min(n) OVER (PARTITION BY code) AS first FROM list_size_stage) s WHERE n > first ORDER BY n LIMIT 1`); err != nil {
		return Result{}, err
	}
	// Practices that are loaded (and, with --la, whose postcode lies in
	// that local authority) keep their list sizes.
	ours := `EXISTS (SELECT 1 FROM nbhd.gp_practices g WHERE g.code = s.code AND ($1 = '' OR EXISTS
		(SELECT 1 FROM nbhd.postcodes p WHERE p.postcode = g.postcode AND p.la_code = $1)))`
	var loaded, total int
	if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE `+ours+`), count(*) FROM list_size_stage s`, job.Spec.LA).Scan(&loaded, &total); err != nil {
		return Result{}, fmt.Errorf("match practices: %w", err)
	}
	if loaded == 0 {
		return Result{}, &InputError{File: job.File, Field: src.t.header[src.code],
			Err: fmt.Errorf("none of the %d practices is loaded%s: import the GP practices (epraccur) first", total, map[bool]string{true: " in " + job.Spec.LA}[job.Spec.LA != ""])}
	}
	if err := clearPrevious(ctx, tx, "gp_list_sizes", "gp_list_sizes", key, ds); err != nil {
		return Result{}, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.gp_list_sizes (practice_code, extract_date, patients, dataset_id)
		SELECT code, extract_date, patients, $2 FROM list_size_stage s WHERE `+ours, job.Spec.LA, ds)
	if err != nil {
		return Result{}, fmt.Errorf("write list sizes: %w", err)
	}
	res := Result{Rows: int(tag.RowsAffected()), Key: key,
		Notes: []string{fmt.Sprintf("extract of %s", src.extract.Format(time.DateOnly))}}
	if total > loaded {
		res.Notes = append(res.Notes, fmt.Sprintf("skipped %d practices that are not loaded%s", total-loaded, map[bool]string{true: " in " + job.Spec.LA}[job.Spec.LA != ""]))
	}
	if src.otherRows > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("skipped %d breakdown rows (not GP, all sexes, all ages)", src.otherRows))
	}
	return res, nil
}
