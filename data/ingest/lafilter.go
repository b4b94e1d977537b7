package ingest

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

var (
	onsLACode = regexp.MustCompile(`^[EWSN]\d{8}$`)
	dfeLACode = regexp.MustCompile(`^\d{3}$`)
)

// laFilter keeps the rows of the local authorities given with --la, a list
// of codes, so one national file can load several boroughs. A file with a
// local-authority column is filtered row by row on it (keep); a file
// without one (epraccur, list sizes) is filtered after staging, by where
// each row's postcode lies (byPostcode). Every kind that takes --la reads
// it here, so all of them filter alike.
type laFilter struct {
	file     string
	codes    []string        // as given, for messages
	ons, dfe map[string]bool // ONS codes (E08000010) and DfE LA codes (359)
	onsCol   int             // column of ONS codes, -1 when not filtering by column
	dfeCol   int
	kept     map[string]int // rows kept per code, for the note on codes that kept none
	skipped  int
}

// newLAFilter reads --la from opts. dfe says whether the kind's files also
// carry the three-digit DfE LA code (GIAS), which is then accepted too.
func newLAFilter(file string, opts Options, dfe bool) (*laFilter, error) {
	f := &laFilter{file: file, ons: map[string]bool{}, dfe: map[string]bool{}, onsCol: -1, dfeCol: -1, kept: map[string]int{}}
	for _, c := range opts.list(optLA) {
		switch {
		case onsLACode.MatchString(c):
			f.ons[c] = true
		case dfe && dfeLACode.MatchString(c):
			f.dfe[c] = true
		default:
			hint := ""
			if dfe {
				hint = ", or a three-digit DfE code such as 359"
			}
			return nil, &InputError{File: file, Field: "--la", Err: fmt.Errorf("%q is not a local authority code (an ONS code such as E08000010%s)", c, hint)}
		}
		if !contains(f.codes, c) {
			f.codes = append(f.codes, c)
		}
	}
	return f, nil
}

func (f *laFilter) active() bool { return len(f.codes) > 0 }

// byColumn finds the columns the codes are in: onsCols for ONS codes,
// dfeCols for DfE ones, each the names the publishers have used.
func (f *laFilter) byColumn(t *table, onsCols, dfeCols []string) error {
	find := func(want map[string]bool, cols []string) (int, error) {
		if len(want) == 0 {
			return -1, nil
		}
		if i := t.col(cols...); i >= 0 {
			return i, nil
		}
		return -1, &InputError{File: t.file, Line: 1, Field: cols[0],
			Err: fmt.Errorf("--la needs a local-authority column (looked for %s)", quoteList(cols))}
	}
	var err error
	if f.onsCol, err = find(f.ons, onsCols); err != nil {
		return err
	}
	f.dfeCol, err = find(f.dfe, dfeCols)
	return err
}

// keep reports whether rec belongs to one of the authorities, counting the
// rows of others.
func (f *laFilter) keep(rec []string) bool {
	if !f.active() {
		return true
	}
	if c := field(rec, f.onsCol); f.onsCol >= 0 && f.ons[c] {
		f.kept[c]++
		return true
	}
	if c := field(rec, f.dfeCol); f.dfeCol >= 0 && f.dfe[c] {
		f.kept[c]++
		return true
	}
	f.skipped++
	return false
}

// keepCode is keep for a row whose ONS code is already read (a GeoJSON
// property, a lookup's column).
func (f *laFilter) keepCode(code string) bool {
	if !f.active() {
		return true
	}
	if f.ons[code] {
		f.kept[code]++
		return true
	}
	f.skipped++
	return false
}

// note describes the rows left out, and codes that kept none (a typo, or a
// file that does not cover that authority).
func (f *laFilter) note() []string {
	if !f.active() {
		return nil
	}
	var out []string
	if f.skipped > 0 {
		out = append(out, fmt.Sprintf("skipped %d rows of other local authorities (--la %s)", f.skipped, strings.Join(f.codes, ",")))
	}
	var none []string
	for _, c := range f.codes {
		if f.kept[c] == 0 {
			none = append(none, c)
		}
	}
	if len(none) > 0 && len(none) < len(f.codes) {
		out = append(out, "no rows of "+strings.Join(none, ", "))
	}
	return out
}

// byPostcode deletes the staged rows of table whose postcode does not lie
// in one of the authorities, by the local authority of the loaded postcode.
// postcodeSQL and codeSQL are constant SQL expressions over the staged row
// s: its postcode and the code that names it in notes; noun names the rows
// ("practices"). Rows whose postcode
// is not loaded cannot be placed and go too, named in a note (a national
// file holds thousands of them; an error would be noise). A code no loaded
// postcode lies in is an error: a typo, or postcodes not loaded yet.
func (f *laFilter) byPostcode(ctx context.Context, tx pgx.Tx, table, noun, postcodeSQL, codeSQL string) ([]string, error) {
	if !f.active() {
		return nil, nil
	}
	if len(f.dfe) > 0 {
		return nil, &InputError{File: f.file, Field: "--la", Err: fmt.Errorf("this file is placed by postcode, whose local authority is an ONS code: give ONS codes (e.g. E08000010)")}
	}
	codes := make([]string, 0, len(f.ons))
	for c := range f.ons {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	rows, err := tx.Query(ctx, `SELECT c FROM unnest($1::text[]) AS c
		WHERE NOT EXISTS (SELECT 1 FROM nbhd.postcodes p WHERE p.la_code = c) ORDER BY c`, codes)
	if err != nil {
		return nil, fmt.Errorf("check postcodes: %w", err)
	}
	missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("check postcodes: %w", err)
	}
	if len(missing) > 0 {
		return nil, &InputError{File: f.file, Field: "--la", Err: fmt.Errorf(
			"no loaded postcode lies in %s: check the code, and load Code-Point Open or ONSPD (which give each postcode's local authority) first",
			strings.Join(missing, ", "))}
	}
	rows, err = tx.Query(ctx, fmt.Sprintf(`DELETE FROM %[1]s s WHERE NOT EXISTS
		(SELECT 1 FROM nbhd.postcodes p WHERE p.postcode = %[2]s AND p.la_code = ANY($1))
		RETURNING %[3]s, EXISTS (SELECT 1 FROM nbhd.postcodes p WHERE p.postcode = %[2]s)`,
		pgx.Identifier{table}.Sanitize(), postcodeSQL, codeSQL), codes)
	if err != nil {
		return nil, fmt.Errorf("filter by local authority: %w", err)
	}
	var unknown []string
	for rows.Next() {
		var code string
		var known bool
		if err := rows.Scan(&code, &known); err != nil {
			return nil, fmt.Errorf("filter by local authority: %w", err)
		}
		if known {
			f.skipped++
		} else {
			unknown = append(unknown, code)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("filter by local authority: %w", err)
	}
	var notes []string
	if f.skipped > 0 {
		notes = append(notes, fmt.Sprintf("skipped %d %s whose postcode lies outside %s", f.skipped, noun, strings.Join(f.codes, ", ")))
	}
	if len(unknown) > 0 {
		notes = append(notes, fmt.Sprintf("skipped %d %s whose postcode is not loaded: %s", len(unknown), noun, someOf(unknown)))
	}
	return notes, nil
}
