package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
)

func init() {
	register("grants", &importer{
		summary: "grants in the 360Giving Data Standard (CSV, xlsx or JSON), placed by beneficiary area or recipient postcode",
		formats: `A 360Giving file in any of its forms: the spreadsheet as CSV or xlsx (the sheet "grants", else the
first) with the standard's column titles (Identifier, Title, Description, Currency, Amount Awarded,
Award Date, Recipient Org:Identifier, Recipient Org:Name, Recipient Org:Postal Code, Beneficiary
Location:Name, Beneficiary Location:Geographic Code (also numbered, Beneficiary Location:0:Geographic
Code ...), Funding Org:Identifier, Funding Org:Name, Grant Programme:Code, Grant Programme:Title), or
the JSON package {"grants": [...]}. Each grant is placed by its beneficiary locations' LSOA, MSOA or
ward codes (shared among their small areas by population), else at its recipient's postcode;
grants that cannot be placed are kept, unplaced, and listed in the notes. Amounts must be in GBP:
a file with grants in another currency is refused, naming them. Load boundaries, population,
neighbourhood sets and postcodes first.`,
		example: "nbhd import grants wigan-council-grants.json --from 2023-04-01 --to 2024-03-31",
		options: []accepts{
			{opt: optKey, help: "dataset key (default: 360giving:FUNDER when the grants have one funder, else 360giving)"},
			{opt: optFunder},
			{opt: optProgramme},
			{opt: optFrom},
			{opt: optTo},
			{opt: optEncoding, help: "text encoding of a CSV: utf-8 or windows-1252 (default: detected)"},
		},
		refuses: map[string]string{optLA.name: "a grant's borough is where it is placed: grants placed outside the loaded boroughs are kept as unplaced"},
		ident: func(j Job) (string, string, error) {
			if from, to := j.Options.text(optFrom), j.Options.text(optTo); from != "" && to != "" && from > to {
				return "", "", fmt.Errorf("--from %s is after --to %s", from, to)
			}
			return "grants", keyOr(j, "360giving"), nil
		},
		run: importGrants,
	})
}

// grantFilter keeps the grants the options ask for and counts the rest.
type grantFilter struct {
	funder, programme, from, to string
	left                        map[string]int // by option, grants left out
}

func newGrantFilter(o Options) *grantFilter {
	return &grantFilter{funder: strings.ToLower(o.text(optFunder)), programme: strings.ToLower(o.text(optProgramme)),
		from: o.text(optFrom), to: o.text(optTo), left: map[string]int{}}
}

// keep reports whether g passes every filter (date: its award date, read).
func (f *grantFilter) keep(g grantRecord, date string) bool {
	switch {
	case f.funder != "" && strings.ToLower(g.funderID) != f.funder && strings.ToLower(g.funderName) != f.funder:
		f.left["--funder"]++
	case f.programme != "" && strings.ToLower(g.programmeCode) != f.programme && strings.ToLower(g.programmeTitle) != f.programme:
		f.left["--programme"]++
	case f.from != "" && date < f.from:
		f.left["--from"]++
	case f.to != "" && date > f.to:
		f.left["--to"]++
	default:
		return true
	}
	return false
}

func (f *grantFilter) notes() []string {
	var out []string
	for _, o := range []string{"--funder", "--programme", "--from", "--to"} {
		if n := f.left[o]; n > 0 {
			out = append(out, fmt.Sprintf("%s left out by %s", grants(n), o))
		}
	}
	return out
}

// grants is "1 grant", "2 grants".
func grants(n int) string {
	if n == 1 {
		return "1 grant"
	}
	return fmt.Sprintf("%d grants", n)
}

// grantRows turns records into staged rows: checked, filtered, with the
// funders seen (for the dataset key) and the rows in other currencies,
// which refuse the whole file once it has been read.
type grantRows struct {
	r        grantReader
	filter   *grantFilter
	funders  map[string]bool
	foreign  []string // "line 7 (USD)"
	firstBad *InputError
}

func (g *grantRows) next() ([]any, error) {
	for {
		rec, err := g.r.next()
		if errors.Is(err, io.EOF) {
			if g.firstBad != nil {
				e := *g.firstBad
				e.Err = fmt.Errorf("%w; grants in other currencies are refused, as nbhd adds up pounds: %s (%s)",
					e.Err, grants(len(g.foreign)), someOf(g.foreign))
				return nil, &e
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		if rec.id == "" {
			return nil, g.r.locate(rec.n, "id", errors.New("the grant has no Identifier"))
		}
		date, err := grantDate(rec.awardDate, rec.dateSerial)
		if err != nil {
			return nil, g.r.locate(rec.n, "date", err)
		}
		if !g.filter.keep(rec, date) {
			continue
		}
		amount, err := grantAmount(rec.amount)
		if err != nil {
			return nil, g.r.locate(rec.n, "amount", err)
		}
		currency := strings.ToUpper(rec.currency)
		switch {
		case currency == "":
			return nil, g.r.locate(rec.n, "currency", errors.New("no currency given (the standard requires it; nbhd reads GBP)"))
		case currency != "GBP":
			g.foreign = append(g.foreign, fmt.Sprintf("%s %d (%s)", g.r.unit(), rec.n, currency))
			if g.firstBad == nil {
				g.firstBad = g.r.locate(rec.n, "currency", fmt.Errorf("currency %s is not GBP", currency))
			}
			continue
		}
		g.funders[rec.funderID] = true
		names := rec.beneficiaryNames
		if names == nil {
			names = []string{}
		}
		codes := rec.beneficiaryCodes
		if codes == nil {
			codes = []string{}
		}
		return []any{rec.n, rec.id, rec.title, rec.description, currency, amount, date,
			rec.recipientID, rec.recipientName, normalisePostcode(rec.recipientPcode),
			codes, names, rec.funderID, rec.funderName, rec.programmeCode, rec.programmeTitle, rec.url}, nil
	}
}

func openGrants(file string, r io.Reader, opts Options) (grantReader, func(), error) {
	br := bufio.NewReaderSize(r, 64<<10)
	format, err := grantFormat(file, br)
	if err != nil {
		return nil, nil, err
	}
	switch format {
	case "xlsx":
		x, err := newXLSXGrants(file, br)
		if err != nil {
			return nil, nil, err
		}
		return x, x.close, nil
	case "json":
		j, err := newJSONGrants(file, br)
		return j, func() {}, err
	}
	c, err := newCSVGrants(file, br, opts.text(optEncoding))
	return c, func() {}, err
}

func importGrants(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	rd, closeReader, err := openGrants(job.File, r, job.Options)
	if err != nil {
		return Result{}, err
	}
	defer closeReader()
	rows := &grantRows{r: rd, filter: newGrantFilter(job.Options), funders: map[string]bool{}}
	err = stage(ctx, tx, "grant_stage",
		`n integer, id text, title text, description text, currency text, amount text, award_date text,
		 recipient_id text, recipient_name text, recipient_postcode text, beneficiary_codes text[], beneficiary_names text[],
		 funder_id text, funder_name text, programme_code text, programme_title text, url text`,
		[]string{"n", "id", "title", "description", "currency", "amount", "award_date", "recipient_id", "recipient_name",
			"recipient_postcode", "beneficiary_codes", "beneficiary_names", "funder_id", "funder_name", "programme_code",
			"programme_title", "url"}, rows.next)
	if err != nil {
		return Result{}, err
	}
	unit := rd.unit()
	if err := grantFirstBad(ctx, tx, rd, "id", `SELECT n, 'Identifier ' || id || ' already appears in ' || $1 || ' ' || first
		FROM (SELECT n, id, min(n) OVER (PARTITION BY id) AS first FROM grant_stage) s WHERE n > first ORDER BY n LIMIT 1`, unit); err != nil {
		return Result{}, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.grants (id, title, description, currency, amount, award_date,
		  recipient_id, recipient_name, recipient_postcode, beneficiary_codes, beneficiary_names,
		  funder_id, funder_name, programme_code, programme_title, url, row_number, dataset_id)
		SELECT id, title, description, currency, amount::numeric, award_date::date, recipient_id, recipient_name, recipient_postcode,
		       beneficiary_codes, beneficiary_names, funder_id, funder_name, programme_code, programme_title, url, n, $1
		FROM grant_stage ORDER BY n
		`+takeOver("id", "title", "description", "currency", "amount", "award_date", "recipient_id", "recipient_name",
		"recipient_postcode", "beneficiary_codes", "beneficiary_names", "funder_id", "funder_name", "programme_code",
		"programme_title", "url", "row_number", "dataset_id"), ds)
	if err != nil {
		return Result{}, fmt.Errorf("write grants: %w", err)
	}
	if _, err := tx.Exec(ctx, "SELECT logic.place_grants($1)", ds); err != nil {
		return Result{}, fmt.Errorf("place grants: %w", err)
	}
	res := Result{Rows: int(tag.RowsAffected()), Notes: rows.filter.notes()}
	placed, err := grantPlacementNotes(ctx, tx, ds, unit)
	if err != nil {
		return Result{}, err
	}
	res.Notes = append(res.Notes, placed...)
	if job.Options.text(optKey) == "" && len(rows.funders) == 1 {
		for f := range rows.funders {
			if f != "" {
				res.Key = "360giving:" + f
			}
		}
	}
	return res, nil
}

// grantFirstBad is firstBad located by the grant reader.
func grantFirstBad(ctx context.Context, tx pgx.Tx, rd grantReader, field, sql string, args ...any) error {
	var n int
	var msg string
	err := tx.QueryRow(ctx, sql, args...).Scan(&n, &msg)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check %s: %w", field, err)
	}
	return rd.locate(n, field, fmt.Errorf("%s", msg))
}

// grantPlacementNotes says how the dataset's grants were placed, and lists
// (with their reasons) those that could not be.
func grantPlacementNotes(ctx context.Context, tx pgx.Tx, ds int64, unit string) ([]string, error) {
	var byBeneficiary, byPostcode int
	if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE placed_by = 'beneficiary'), count(*) FILTER (WHERE placed_by = 'postcode')
		FROM nbhd.grants WHERE dataset_id = $1`, ds).Scan(&byBeneficiary, &byPostcode); err != nil {
		return nil, fmt.Errorf("count placed grants: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT row_number, unplaced_reason FROM nbhd.grants
		WHERE dataset_id = $1 AND placed_by = '' ORDER BY row_number, id`, ds)
	if err != nil {
		return nil, fmt.Errorf("list unplaced grants: %w", err)
	}
	var numbers []int
	var reasons []string
	var n int
	var reason string
	if _, err := pgx.ForEachRow(rows, []any{&n, &reason}, func() error {
		numbers = append(numbers, n)
		if len(reasons) < listed {
			reasons = append(reasons, fmt.Sprintf("%s %d: %s", unit, n, reason))
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list unplaced grants: %w", err)
	}
	notes := []string{fmt.Sprintf("%s placed by beneficiary location, %d by recipient postcode", grants(byBeneficiary), byPostcode)}
	if len(numbers) > 0 {
		more := ""
		if len(numbers) > len(reasons) {
			more = fmt.Sprintf("; and %d more", len(numbers)-len(reasons))
		}
		notes = append(notes, fmt.Sprintf("%s not placed, kept as unplaced: %ss %s (%s%s)", grants(len(numbers)),
			unit, numberRanges(numbers), strings.Join(reasons, "; "), more))
	}
	return notes, nil
}

// numberRanges writes ascending numbers as "4-6, 9".
func numberRanges(ns []int) string {
	var b strings.Builder
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		if j > i {
			fmt.Fprintf(&b, "%d-%d", ns[i], ns[j])
		} else {
			fmt.Fprintf(&b, "%d", ns[i])
		}
		i = j + 1
	}
	return b.String()
}
