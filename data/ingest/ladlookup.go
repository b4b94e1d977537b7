package ingest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The areas above a borough, for its comparators: the ONS "Local Authority
// District to Region" and "Local Authority District to Combined Authority"
// lookups (LAD24CD, LAD24NM, RGN24CD, RGN24NM; LAD24CD, LAD24NM,
// CAUTH24CD, CAUTH24NM; any year). They are loaded whole, for every
// borough, so a region's comparator can say how many of its boroughs are
// loaded.

var (
	ladLookupCode = regexp.MustCompile(`(?i)^lad\d{2}cd$`)
	ladLookupName = regexp.MustCompile(`(?i)^lad\d{2}nm$`)
	regionCode    = regexp.MustCompile(`(?i)^rgn\d{2}cd$`)
	regionName    = regexp.MustCompile(`(?i)^rgn\d{2}nm$`)
	cauthCode     = regexp.MustCompile(`(?i)^cauth\d{2}cd$`)
	cauthName     = regexp.MustCompile(`(?i)^cauth\d{2}nm$`)
)

func init() {
	register("lad-lookup", &importer{
		summary: "ONS Local Authority District to Region, or to Combined Authority, lookup (LAD24CD, RGN24CD ... / CAUTH24CD ...)",
		formats: `The ONS lookups of local authority districts to the areas above them, CSV (or .xlsx) with their
own field names of any year: "LAD to Region" (LAD24CD, LAD24NM, RGN24CD, RGN24NM) or "LAD to
Combined Authority" (LAD24CD, LAD24NM, CAUTH24CD, CAUTH24NM). A region or combined authority
comparator is then shown beside the borough and England in every profile. The lookup is loaded
whole (a region's comparator says how many of its boroughs are loaded), and names every borough
it lists. Each is its own dataset (lad-region, lad-cauth): a newer lookup replaces the older.`,
		example: "nbhd import lad-lookup LAD24_RGN24_EN_LU.csv",
		options: []accepts{
			{opt: optKey, help: "dataset key (default lad-region or lad-cauth, from the columns)"},
			{opt: optSheet},
		},
		refuses: map[string]string{optLA.name: "the lookup is loaded whole, so a region's comparator can say how many of its boroughs are loaded"},
		ident: func(j Job) (string, string, error) {
			return "lad_lookup", keyOr(j, "lad-lookup"), nil
		},
		run: importLADLookup,
	})
}

// ladLookupSource streams n, LAD code, LAD name, area code, area name.
type ladLookupSource struct {
	t                         *table
	lad, ladName, area, aName int
	target                    string // "region" or "cauth"
}

func newLADLookup(file string, r io.Reader, opts Options) (_ *ladLookupSource, err error) {
	t, err := readTable(file, r, tableOpts{sheet: opts.text(optSheet), header: []string{"LAD24CD", "LAD25CD", "LAD23CD", "LAD22CD", "LAD21CD"}})
	if err != nil {
		return nil, err
	}
	defer closeOnError(t, &err)
	s := &ladLookupSource{t: t, lad: -1, ladName: -1, area: -1, aName: -1}
	find := func(re *regexp.Regexp) int {
		for i, h := range t.header {
			if re.MatchString(strings.TrimSpace(h)) {
				return i
			}
		}
		return -1
	}
	missing := func(field, what string) error {
		e := t.errf(-1, "missing column (looked for %s)", what)
		e.Line, e.Field = max(t.headerLine, 1), field
		return e
	}
	if s.lad = find(ladLookupCode); s.lad < 0 {
		return nil, missing("LAD24CD", "LADyyCD")
	}
	if s.ladName = find(ladLookupName); s.ladName < 0 {
		return nil, missing("LAD24NM", "LADyyNM")
	}
	switch {
	case find(regionCode) >= 0:
		s.target, s.area, s.aName = "region", find(regionCode), find(regionName)
		if s.aName < 0 {
			return nil, missing("RGN24NM", "RGNyyNM")
		}
	case find(cauthCode) >= 0:
		s.target, s.area, s.aName = "cauth", find(cauthCode), find(cauthName)
		if s.aName < 0 {
			return nil, missing("CAUTH24NM", "CAUTHyyNM")
		}
	default:
		return nil, missing("RGN24CD", "a region (RGNyyCD) or combined authority (CAUTHyyCD) column")
	}
	return s, nil
}

func (s *ladLookupSource) next() ([]any, error) {
	t := s.t
	rec, err := t.next()
	if err != nil {
		return nil, err
	}
	lad := field(rec, s.lad)
	if !onsLACode.MatchString(lad) {
		return nil, t.errf(s.lad, "%q is not a local authority district code (such as E08000010)", lad)
	}
	area := field(rec, s.area)
	if !onsLACode.MatchString(area) {
		return nil, t.errf(s.area, "%q is not an ONS area code (such as E12000002)", area)
	}
	for _, i := range []int{s.ladName, s.aName} {
		if field(rec, i) == "" {
			return nil, t.errf(i, "name is empty")
		}
	}
	return []any{t.line, lad, field(rec, s.ladName), area, field(rec, s.aName)}, nil
}

func importLADLookup(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	src, err := newLADLookup(job.File, r, job.Options)
	if err != nil {
		return Result{}, err
	}
	defer src.t.close()
	if err := stage(ctx, tx, "lad_lookup_stage", "n integer, lad text, lad_name text, area text, area_name text",
		[]string{"n", "lad", "lad_name", "area", "area_name"}, src.next); err != nil {
		return Result{}, err
	}
	t := src.t
	if err := firstBad(ctx, tx, t.at(), t.header[src.area], `SELECT s.n, s.lad || ' is in ' || s.area || ' here but in ' || f.area ||
		' on `+t.unit()+` ' || f.n
		FROM (SELECT n, lad, area, min(n) OVER (PARTITION BY lad) AS first FROM lad_lookup_stage) s
		JOIN lad_lookup_stage f ON f.n = s.first WHERE s.n > s.first AND s.area <> f.area ORDER BY s.n LIMIT 1`); err != nil {
		return Result{}, err
	}
	key := keyOr(job, "lad-"+src.target)
	table, codeCol, nameCol := "borough_regions", "region_code", "region_name"
	if src.target == "cauth" {
		table, codeCol, nameCol = "borough_cauths", "cauth_code", "cauth_name"
	}
	tag, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO nbhd.%[1]s (lad_code, %[2]s, %[3]s, dataset_id)
		SELECT DISTINCT ON (lad) lad, area, area_name, $1 FROM lad_lookup_stage ORDER BY lad, n
		ON CONFLICT (lad_code) DO UPDATE SET %[2]s = EXCLUDED.%[2]s, %[3]s = EXCLUDED.%[3]s, dataset_id = EXCLUDED.dataset_id`,
		pgx.Identifier{table}.Sanitize(), pgx.Identifier{codeCol}.Sanitize(), pgx.Identifier{nameCol}.Sanitize()), ds)
	if err != nil {
		return Result{}, fmt.Errorf("write %s: %w", table, err)
	}
	if err := nameBoroughs(ctx, tx, `SELECT lad, lad_name FROM lad_lookup_stage`); err != nil {
		return Result{}, err
	}
	var areas int
	if err := tx.QueryRow(ctx, `SELECT count(DISTINCT area) FROM lad_lookup_stage`).Scan(&areas); err != nil {
		return Result{}, fmt.Errorf("count areas: %w", err)
	}
	what := map[string]string{"region": "regions", "cauth": "combined authorities"}[src.target]
	return Result{Rows: int(tag.RowsAffected()), Key: key,
		Notes: []string{fmt.Sprintf("%d boroughs in %d %s", tag.RowsAffected(), areas, what)}}, nil
}
