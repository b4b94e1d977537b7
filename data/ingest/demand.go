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
	// personal marks columns that only person-level files have.
	personal = regexp.MustCompile(`(?i)^(name|full[ _]?name|first[ _]?name|forenames?|surname|last[ _]?name|client[ _]?name|person[ _]?name|` +
		`nhs[ _]?(no|num|number)?|nhs[ _]?id|date[ _]?of[ _]?birth|dob|birth[ _]?date|address.*|.*_address|postcode|post[ _]?code|` +
		`person[ _]?id|client[ _]?id|patient[ _]?id)$`)
	periodRe   = regexp.MustCompile(`^(mid-)?[0-9]{4}([-/][0-9A-Za-z]{1,4})?$`)
	segmentsRe = regexp.MustCompile(`^(chaotic|just_coping)$`)
)

func init() {
	register("demand", &importer{
		summary: "recorded demand: aggregated counts per small area, segment and period (never person-level data)",
		formats: `A CSV with a header: small-area code (small_area_code, lsoa_code, lsoa21cd ...), segment
(chaotic or just_coping), count (a whole number), period (2025, 2025-26, 2025-Q3 or mid-2024) and
source. Aggregated counts only: a file with a person-level column (name, NHS number, date of
birth, address, postcode ...) is refused, as is a second row for the same area, segment and period.
Recorded counts are published for neighbourhoods only, rounded and with small counts withheld.
Once a period's figures are published they stay as published, whatever a corrected file for
that period says, unless --revise publishes a new release of it (docs/methodology.md, Releases).`,
		example: "nbhd import demand early_help_2025-26.csv --key early-help",
		options: []accepts{
			{opt: optKey, help: "dataset key (default recorded)"},
			{opt: optRevise},
		},
		ident: func(j Job) (string, string, error) {
			return "demand", keyOr(j, "recorded"), nil
		},
		run: importDemand,
	})
}

func importDemand(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	t, err := newTable(job.File, r)
	if err != nil {
		return Result{}, err
	}
	defer t.close()
	for i, h := range t.header {
		if personal.MatchString(strings.TrimSpace(h)) {
			return Result{}, &InputError{File: job.File, Line: 1, Field: t.header[i],
				Err: fmt.Errorf("this looks like a person-level file (a %q column): nbhd takes aggregated counts per small area only; remove personal data before import", h)}
		}
	}
	var c struct{ code, segment, count, period, source int }
	for _, need := range []struct {
		dst   *int
		names []string
	}{
		{&c.code, []string{"small_area_code", "lsoa_code", "lsoa21cd", "lsoa11cd", "area_code", "code"}},
		{&c.segment, []string{"segment"}},
		{&c.count, []string{"count", "n", "people", "residents"}},
		{&c.period, []string{"period"}},
		{&c.source, []string{"source"}},
	} {
		if *need.dst, err = t.need(need.names...); err != nil {
			return Result{}, err
		}
	}
	type key struct{ code, segment, period string }
	seen := map[key]int{}
	err = stage(ctx, tx, "demand_stage", "n integer, code text, segment text, count integer, period text, source text",
		[]string{"n", "code", "segment", "count", "period", "source"},
		func() ([]any, error) {
			rec, err := t.next()
			if err != nil {
				return nil, err
			}
			code := field(rec, c.code)
			if !levels["lsoa"].MatchString(code) {
				return nil, t.errf(c.code, "%q is not an LSOA code", code)
			}
			seg := strings.ToLower(strings.NewReplacer(" ", "_", "-", "_").Replace(field(rec, c.segment)))
			if !segmentsRe.MatchString(seg) {
				return nil, t.errf(c.segment, "segment %q must be chaotic or just_coping", field(rec, c.segment))
			}
			n, err := intIn(t, rec, c.count, 0, 1_000_000)
			if err != nil {
				return nil, err
			}
			if n == nil {
				return nil, t.errf(c.count, "count is empty")
			}
			period := field(rec, c.period)
			if !periodRe.MatchString(period) {
				return nil, t.errf(c.period, "period %q must look like 2025, 2025-26, 2025-Q3 or mid-2024", period)
			}
			k := key{code, seg, period}
			if first, dup := seen[k]; dup {
				return nil, t.errf(c.code, "%s %s %s already appears on line %d: a file of aggregated counts has one row per small area, segment and period (is this person-level data?)", code, seg, period, first)
			}
			seen[k] = t.line
			return []any{t.line, code, seg, n, period, field(rec, c.source)}, nil
		})
	if err != nil {
		return Result{}, err
	}
	if err := unknownSmallArea(ctx, tx, at{file: job.File}, t.header[c.code], "demand_stage"); err != nil {
		return Result{}, err
	}
	if err := firstBad(ctx, tx, at{file: job.File}, t.header[c.period], `SELECT s.n, s.segment || ' for ' || s.code || ' in ' || s.period ||
		' is already loaded by dataset ' || d.dataset_id || ' (drop it, or import this file with its --key)'
		FROM demand_stage s JOIN nbhd.demand d ON d.small_area_code = s.code AND d.segment = s.segment AND d.period = s.period
		AND d.kind = 'recorded' JOIN nbhd.datasets x ON x.id = d.dataset_id
		WHERE NOT EXISTS (SELECT 1 FROM nbhd.datasets nd WHERE nd.id = $1 AND nd.kind = x.kind AND nd.key = x.key)
		ORDER BY s.n LIMIT 1`, ds); err != nil {
		return Result{}, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.demand (small_area_code, segment, period, kind, count, method, params, source, dataset_id)
		SELECT code, segment, period, 'recorded', count, 'recorded', '{}', source, $1 FROM demand_stage
		`+takeOver("small_area_code, segment, period, kind", "count", "method", "params", "source", "dataset_id"), ds)
	if err != nil {
		return Result{}, fmt.Errorf("write recorded demand: %w", err)
	}
	res := Result{Rows: int(tag.RowsAffected())}
	notes, err := releases(ctx, tx, job.Options.flag(optRevise), job.File)
	res.Notes = notes
	return res, err
}

// releases keeps published periods as they were published: a re-import of
// a period whose figures are out changes the records behind them (staff
// see those) but not what the public sees, unless revise publishes a new
// release — logged with its reason — whose figures are worked out afresh.
// See docs/methodology.md, "Releases".
func releases(ctx context.Context, tx pgx.Tx, revise bool, file string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT s.period, sa.lad_code,
		  coalesce((SELECT max(l.release) FROM nbhd.demand_release_log l WHERE l.period = s.period AND l.lad_code = sa.lad_code), 1)
		FROM demand_stage s JOIN nbhd.small_areas sa ON sa.code = s.code
		WHERE EXISTS (SELECT 1 FROM nbhd.demand_releases r WHERE r.period = s.period AND r.lad_code = sa.lad_code)
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("find published periods: %w", err)
	}
	type published struct {
		Period, Lad string
		Release     int
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[published])
	if err != nil {
		return nil, fmt.Errorf("find published periods: %w", err)
	}
	var notes []string
	for _, p := range list {
		if !revise {
			notes = append(notes, fmt.Sprintf("period %s of %s is already published (release %d): its public figures stay as published; --revise publishes a new release",
				p.Period, p.Lad, p.Release))
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO nbhd.demand_release_log (period, lad_code, release, reason) VALUES ($1, $2, $3, $4)`,
			p.Period, p.Lad, p.Release+1, "revised by import of "+baseName(file)); err != nil {
			return nil, fmt.Errorf("record release: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM nbhd.demand_releases WHERE period = $1 AND lad_code = $2", p.Period, p.Lad); err != nil {
			return nil, fmt.Errorf("reopen release: %w", err)
		}
		notes = append(notes, fmt.Sprintf("period %s of %s: release %d published in place of release %d", p.Period, p.Lad, p.Release+1, p.Release))
	}
	return notes, nil
}
