package ingest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

var (
	populationCol = regexp.MustCompile(`(?i)^(all[ _]?ages|population|total[ _]population|total|persons)`)
	midYear       = regexp.MustCompile(`(?i)mid[ _-]?(\d{4})`)
)

func init() {
	register("population", &importer{
		summary: "small-area population CSV: an LSOA code column and an all-ages column",
		formats: `A CSV with a header: the small-area code (area_code, lsoa21cd, lsoa11cd, "LSOA Code" ...) and an
all-ages count (the first column named all_ages..., population, total or persons). Rows for larger
areas (a borough total, as ONS tables include) are skipped and counted. The estimate's period comes
from --period, else from the column name (all_ages_mid2017 is mid-2017).`,
		example: "nbhd import population sapelsoasyoa20222024.csv --period mid-2024",
		options: []accepts{
			{opt: optKey, help: "dataset key (default population)"},
			{opt: optPeriod},
		},
		ident: func(j Job) (string, string, error) {
			return "population", keyOr(j, "population"), nil
		},
		run: importPopulation,
	})
}

func importPopulation(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	t, err := newTable(job.File, r)
	if err != nil {
		return Result{}, err
	}
	code, err := t.need("area_code", "lsoa21cd", "lsoa11cd", "LSOA 2021 Code", "LSOA Code", "LSOA code (2011)", "code")
	if err != nil {
		return Result{}, err
	}
	value := -1
	for i, h := range t.header {
		if populationCol.MatchString(strings.TrimSpace(h)) {
			value = i
			break
		}
	}
	if value < 0 {
		return Result{}, &InputError{File: job.File, Line: 1, Field: "all_ages",
			Err: fmt.Errorf("missing column: no population column (all_ages..., population, total)")}
	}
	period := job.Options.text(optPeriod)
	if m := midYear.FindStringSubmatch(t.header[value]); period == "" && m != nil {
		period = "mid-" + m[1]
	}
	if period == "" {
		return Result{}, &InputError{File: job.File, Err: fmt.Errorf("cannot tell the estimate's period from column %q: give --period (e.g. mid-2021)", t.header[value])}
	}
	seen := map[string]int{}
	aggregates := 0
	err = stage(ctx, tx, "population_stage", "n integer, code text, population integer", []string{"n", "code", "population"},
		func() ([]any, error) {
			for {
				rec, err := t.next()
				if err != nil {
					return nil, err
				}
				c := field(rec, code)
				if c == "" {
					return nil, t.errf(code, "code is empty")
				}
				if !levels["lsoa"].MatchString(c) {
					aggregates++ // a total for a larger area, as ONS tables include
					continue
				}
				if first, dup := seen[c]; dup {
					return nil, t.errf(code, "%s already appears on line %d", c, first)
				}
				seen[c] = t.line
				v, err := intIn(t, rec, value, 0, 1_000_000)
				if err != nil {
					return nil, err
				}
				if v == nil {
					return nil, t.errf(value, "population is empty")
				}
				return []any{t.line, c, v}, nil
			}
		})
	if err != nil {
		return Result{}, err
	}
	if err := unknownSmallArea(ctx, tx, at{file: job.File}, t.header[code], "population_stage"); err != nil {
		return Result{}, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.small_area_population (code, population, period, dataset_id)
		SELECT code, population, $1, $2 FROM population_stage
		`+takeOver("code, period", "population", "dataset_id"), period, ds)
	if err != nil {
		return Result{}, fmt.Errorf("write population: %w", err)
	}
	res := Result{Rows: int(tag.RowsAffected())}
	if aggregates > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("skipped %d rows for areas larger than an LSOA", aggregates))
	}
	return res, nil
}
