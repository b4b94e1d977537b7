package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Readers of the 360Giving Data Standard's three forms: the spreadsheet
// (CSV or xlsx, one grant a row, under the standard's column titles) and
// the JSON package ({"grants": [...]}). Each yields grantRecords numbered
// as the file numbers them: CSV line or spreadsheet row (the header is 1),
// or the grant's place in the JSON array (from 1).

// grantRecord is one grant as read, before filters and checks.
type grantRecord struct {
	n                                          int
	id, title, description, currency, url      string
	amount, awardDate                          string // as written; checked by grantRow
	recipientID, recipientName, recipientPcode string
	beneficiaryCodes, beneficiaryNames         []string
	funderID, funderName                       string
	programmeCode, programmeTitle              string
	// dateSerial is an xlsx date cell's raw serial number, when it has one.
	dateSerial bool
}

// grantReader yields grants; next returns io.EOF after the last.
type grantReader interface {
	next() (grantRecord, error)
	// locate places an error in the file: the record's line, row or
	// position, and the field (a column title or a JSON member).
	locate(n int, field string, err error) *InputError
	// unit names what the file numbers: "line", "row" or "grant".
	unit() string
}

// grantFormat says which form a file is in, from its first bytes: a JSON
// package starts with "{", an xlsx workbook is a zip ("PK"); anything else
// is read as CSV. An Excel 97-2003 .xls is refused by name.
func grantFormat(file string, br *bufio.Reader) (string, error) {
	head, _ := br.Peek(512)
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(head, []byte{0xEF, 0xBB, 0xBF}), " \t\r\n")
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "xlsx", nil
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return "", &InputError{File: file, Err: errors.New("an Excel 97-2003 workbook (.xls) is not read: save it as .xlsx or CSV")}
	case bytes.HasPrefix(trimmed, []byte("{")), bytes.HasPrefix(trimmed, []byte("[")):
		return "json", nil
	}
	return "csv", nil
}

// grantColumns are the spreadsheet's columns, found by the standard's
// titles (Recipient Org:Postal Code) or the flattened JSON paths some
// tools write (recipientOrganization/0/postalCode), in any case.
var grantColumns = []struct {
	field    string
	required bool
	re       *regexp.Regexp
}{
	{"id", true, regexp.MustCompile(`^(identifier|id)$`)},
	{"title", false, regexp.MustCompile(`^title$`)},
	{"description", false, regexp.MustCompile(`^description$`)},
	{"currency", true, regexp.MustCompile(`^currency$`)},
	{"amount", true, regexp.MustCompile(`^(amount awarded|amountawarded)$`)},
	{"date", true, regexp.MustCompile(`^(award date|awarddate)$`)},
	{"url", false, regexp.MustCompile(`^(url|web address)$`)},
	{"recipient_id", false, regexp.MustCompile(`^(recipient org(:0)?:identifier|recipientorganization/0/id)$`)},
	{"recipient_name", false, regexp.MustCompile(`^(recipient org(:0)?:name|recipientorganization/0/name)$`)},
	{"recipient_postcode", false, regexp.MustCompile(`^(recipient org(:0)?:postal code|recipientorganization/0/postalcode)$`)},
	{"funder_id", false, regexp.MustCompile(`^(funding org(:0)?:identifier|fundingorganization/0/id)$`)},
	{"funder_name", false, regexp.MustCompile(`^(funding org(:0)?:name|fundingorganization/0/name)$`)},
	{"programme_code", false, regexp.MustCompile(`^(grant programme(:0)?:code|grantprogramme/0/code)$`)},
	{"programme_title", false, regexp.MustCompile(`^(grant programme(:0)?:title|grantprogramme/0/title)$`)},
}

// A grant may have several beneficiary locations: Beneficiary Location:0:
// Geographic Code, Beneficiary Location:1:Geographic Code ... (or the
// unnumbered title for one).
var (
	beneficiaryCodeRe = regexp.MustCompile(`^(beneficiary location(:(\d+))?:geographic code|beneficiarylocation/(\d+)/geocode)$`)
	beneficiaryNameRe = regexp.MustCompile(`^(beneficiary location(:(\d+))?:name|beneficiarylocation/(\d+)/name)$`)
	// codeSplit separates several codes written in one cell.
	codeSplit = regexp.MustCompile(`[;,\s]+`)
)

// grantSheet maps a spreadsheet's header to the grant's fields.
type grantSheet struct {
	header []string
	col    map[string]int
	// beneficiary code and name columns (one or numbered)
	benCodes, benNames []int
}

func newGrantSheet(header []string, locate func(int, string, error) *InputError) (*grantSheet, error) {
	s := &grantSheet{header: header, col: map[string]int{}}
	for i, h := range header {
		k := strings.ToLower(strings.Join(strings.Fields(h), " "))
		for _, c := range grantColumns {
			if _, seen := s.col[c.field]; !seen && c.re.MatchString(k) {
				s.col[c.field] = i
			}
		}
		if beneficiaryCodeRe.MatchString(k) {
			s.benCodes = append(s.benCodes, i)
		}
		if beneficiaryNameRe.MatchString(k) {
			s.benNames = append(s.benNames, i)
		}
	}
	for _, c := range grantColumns {
		if _, ok := s.col[c.field]; c.required && !ok {
			title := requiredTitles[c.field]
			return nil, locate(1, title, fmt.Errorf("missing column: a 360Giving spreadsheet has %q (this one has %s)", title, quoteList(header)))
		}
	}
	return s, nil
}

// requiredTitles are the standard's titles of the columns nbhd needs.
var requiredTitles = map[string]string{"id": "Identifier", "currency": "Currency", "amount": "Amount Awarded", "date": "Award Date"}

func (s *grantSheet) get(rec []string, field string) string {
	i, ok := s.col[field]
	if !ok {
		return ""
	}
	return field0(rec, i)
}

// field0 is field without trimming surprises: cells may hold line breaks.
func field0(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

func (s *grantSheet) record(n int, rec []string) grantRecord {
	g := grantRecord{n: n,
		id: s.get(rec, "id"), title: s.get(rec, "title"), description: s.get(rec, "description"),
		currency: s.get(rec, "currency"), amount: s.get(rec, "amount"), awardDate: s.get(rec, "date"), url: s.get(rec, "url"),
		recipientID: s.get(rec, "recipient_id"), recipientName: s.get(rec, "recipient_name"),
		recipientPcode: s.get(rec, "recipient_postcode"),
		funderID:       s.get(rec, "funder_id"), funderName: s.get(rec, "funder_name"),
		programmeCode: s.get(rec, "programme_code"), programmeTitle: s.get(rec, "programme_title")}
	for _, i := range s.benCodes {
		for _, c := range codeSplit.Split(field0(rec, i), -1) {
			if c != "" {
				g.beneficiaryCodes = append(g.beneficiaryCodes, strings.ToUpper(c))
			}
		}
	}
	for _, i := range s.benNames {
		if v := field0(rec, i); v != "" {
			g.beneficiaryNames = append(g.beneficiaryNames, v)
		}
	}
	return g
}

// fieldTitle is the column title of a grant field, for errors.
func (s *grantSheet) fieldTitle(field string) string {
	if i, ok := s.col[field]; ok {
		return s.header[i]
	}
	return field
}

// csvGrants reads the CSV form.
type csvGrants struct {
	t     *table
	sheet *grantSheet
}

func newCSVGrants(file string, r io.Reader, encoding string) (*csvGrants, error) {
	dec, err := decodeText(r, encoding)
	if err != nil {
		return nil, &InputError{File: file, Field: "--encoding", Err: err}
	}
	t, err := newTable(file, dec)
	if err != nil {
		return nil, err
	}
	g := &csvGrants{t: t}
	if g.sheet, err = newGrantSheet(t.header, g.locate); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *csvGrants) next() (grantRecord, error) {
	for {
		rec, err := g.t.next()
		if err != nil {
			return grantRecord{}, err
		}
		if blank(rec) {
			continue
		}
		return g.sheet.record(g.t.line, rec), nil
	}
}

func (g *csvGrants) locate(n int, field string, err error) *InputError {
	return &InputError{File: g.t.file, Line: n, Field: g.titleOf(field), Err: err}
}

func (g *csvGrants) titleOf(field string) string {
	if g.sheet == nil {
		return field
	}
	return g.sheet.fieldTitle(field)
}

func (g *csvGrants) unit() string { return "line" }

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// xlsxGrants reads the xlsx form: the sheet named "grants" (any case),
// else the first, row by row as excelize streams it. Cells are read raw,
// so amounts are numbers as stored and dates are Excel serial numbers
// unless they are text.
type xlsxGrants struct {
	file  string
	wb    *excelize.File
	rows  *excelize.Rows
	sheet *grantSheet
	row   int
}

func newXLSXGrants(file string, r io.Reader) (*xlsxGrants, error) {
	wb, err := excelize.OpenReader(r, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, &InputError{File: file, Err: fmt.Errorf("not a readable xlsx workbook: %w", err)}
	}
	g := &xlsxGrants{file: file, wb: wb}
	sheets := wb.GetSheetList()
	if len(sheets) == 0 {
		return nil, &InputError{File: file, Err: errors.New("the workbook has no sheets")}
	}
	name := sheets[0]
	for _, s := range sheets {
		if strings.EqualFold(strings.TrimSpace(s), "grants") {
			name = s
			break
		}
	}
	if g.rows, err = wb.Rows(name); err != nil {
		return nil, &InputError{File: file, Err: fmt.Errorf("sheet %q: %w", name, err)}
	}
	header, err := g.read()
	if err != nil {
		return nil, err
	}
	if header == nil {
		return nil, &InputError{File: file, Line: 1, Err: fmt.Errorf("sheet %q is empty: expected a header row", name)}
	}
	if g.sheet, err = newGrantSheet(header, g.locate); err != nil {
		return nil, err
	}
	return g, nil
}

// read returns the next row's cells (nil at the end).
func (g *xlsxGrants) read() ([]string, error) {
	if !g.rows.Next() {
		if err := g.rows.Error(); err != nil {
			return nil, &InputError{File: g.file, Line: g.row + 1, Err: err}
		}
		return nil, nil
	}
	g.row++
	cells, err := g.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, &InputError{File: g.file, Line: g.row, Err: err}
	}
	return cells, nil
}

func (g *xlsxGrants) next() (grantRecord, error) {
	for {
		cells, err := g.read()
		if err != nil {
			return grantRecord{}, err
		}
		if cells == nil {
			return grantRecord{}, io.EOF
		}
		if blank(cells) {
			continue
		}
		rec := g.sheet.record(g.row, cells)
		// A date cell holds a serial number of days.
		if _, err := strconv.ParseFloat(rec.awardDate, 64); err == nil {
			rec.dateSerial = true
		}
		return rec, nil
	}
}

func (g *xlsxGrants) locate(n int, field string, err error) *InputError {
	title := field
	if g.sheet != nil {
		title = g.sheet.fieldTitle(field)
	}
	return &InputError{File: g.file, Line: n, Field: title, Err: err}
}

func (g *xlsxGrants) unit() string { return "row" }

func (g *xlsxGrants) close() {
	if g.rows != nil {
		_ = g.rows.Close()
	}
	_ = g.wb.Close()
}

// jsonGrants reads the JSON package, one grant at a time.
type jsonGrants struct {
	file string
	dec  *json.Decoder
	n    int
	done bool
}

// jsonGrant is the part of a 360Giving grant nbhd reads.
type jsonGrant struct {
	ID                    string          `json:"id"`
	Title                 string          `json:"title"`
	Description           string          `json:"description"`
	Currency              string          `json:"currency"`
	AmountAwarded         json.RawMessage `json:"amountAwarded"`
	AwardDate             string          `json:"awardDate"`
	URL                   string          `json:"url"`
	RecipientOrganization []struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		PostalCode string `json:"postalCode"`
	} `json:"recipientOrganization"`
	BeneficiaryLocation []struct {
		Name    string `json:"name"`
		GeoCode string `json:"geoCode"`
	} `json:"beneficiaryLocation"`
	FundingOrganization []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"fundingOrganization"`
	GrantProgramme []struct {
		Code  string `json:"code"`
		Title string `json:"title"`
	} `json:"grantProgramme"`
}

func newJSONGrants(file string, r io.Reader) (*jsonGrants, error) {
	g := &jsonGrants{file: file, dec: json.NewDecoder(r)}
	g.dec.UseNumber()
	tok, err := g.dec.Token()
	if err != nil {
		return nil, &InputError{File: file, Err: fmt.Errorf("not JSON: %w", err)}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &InputError{File: file, Err: errors.New(`not a 360Giving JSON package: want an object with a "grants" array`)}
	}
	for g.dec.More() {
		tok, err := g.dec.Token()
		if err != nil {
			return nil, &InputError{File: file, Err: fmt.Errorf("bad JSON: %w", err)}
		}
		if key, _ := tok.(string); key == "grants" {
			tok, err := g.dec.Token()
			if d, ok := tok.(json.Delim); err != nil || !ok || d != '[' {
				return nil, &InputError{File: file, Field: "grants", Err: errors.New("grants must be an array")}
			}
			return g, nil
		}
		var skip json.RawMessage
		if err := g.dec.Decode(&skip); err != nil {
			return nil, &InputError{File: file, Err: fmt.Errorf("bad JSON: %w", err)}
		}
	}
	return nil, &InputError{File: file, Err: errors.New(`not a 360Giving JSON package: no "grants" array`)}
}

func (g *jsonGrants) next() (grantRecord, error) {
	if g.done || !g.dec.More() {
		g.done = true
		return grantRecord{}, io.EOF
	}
	g.n++
	var j jsonGrant
	if err := g.dec.Decode(&j); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return grantRecord{}, g.locate(g.n, te.Field, fmt.Errorf("%s is a JSON %s, want a %s", te.Field, te.Value, te.Type))
		}
		return grantRecord{}, g.locate(g.n, "", fmt.Errorf("bad JSON: %w", err))
	}
	rec := grantRecord{n: g.n, id: strings.TrimSpace(j.ID), title: j.Title, description: j.Description,
		currency: strings.TrimSpace(j.Currency), awardDate: strings.TrimSpace(j.AwardDate), url: j.URL}
	amount := strings.TrimSpace(string(j.AmountAwarded))
	if s, err := strconv.Unquote(amount); err == nil {
		amount = strings.TrimSpace(s)
	}
	if amount == "null" {
		amount = ""
	}
	rec.amount = amount
	if len(j.RecipientOrganization) > 0 {
		o := j.RecipientOrganization[0]
		rec.recipientID, rec.recipientName, rec.recipientPcode = strings.TrimSpace(o.ID), strings.TrimSpace(o.Name), o.PostalCode
	}
	for _, l := range j.BeneficiaryLocation {
		for _, c := range codeSplit.Split(strings.TrimSpace(l.GeoCode), -1) {
			if c != "" {
				rec.beneficiaryCodes = append(rec.beneficiaryCodes, strings.ToUpper(c))
			}
		}
		if n := strings.TrimSpace(l.Name); n != "" {
			rec.beneficiaryNames = append(rec.beneficiaryNames, n)
		}
	}
	if len(j.FundingOrganization) > 0 {
		rec.funderID, rec.funderName = strings.TrimSpace(j.FundingOrganization[0].ID), strings.TrimSpace(j.FundingOrganization[0].Name)
	}
	if len(j.GrantProgramme) > 0 {
		rec.programmeCode, rec.programmeTitle = strings.TrimSpace(j.GrantProgramme[0].Code), strings.TrimSpace(j.GrantProgramme[0].Title)
	}
	return rec, nil
}

// jsonMember names a grant field as the JSON package does.
var jsonMember = map[string]string{"id": "id", "currency": "currency", "amount": "amountAwarded", "date": "awardDate"}

func (g *jsonGrants) locate(n int, field string, err error) *InputError {
	if m, ok := jsonMember[field]; ok {
		field = m
	}
	return &InputError{File: fmt.Sprintf("%s: grant %d", g.file, n), Field: field, Err: err}
}

func (g *jsonGrants) unit() string { return "grant" }

// grantAmount reads an amount in pounds: a number, thousands separators
// allowed, not negative. It returns the shortest decimal that is the value.
func grantAmount(s string) (string, error) {
	v, err := strconv.ParseFloat(strings.ReplaceAll(strings.ReplaceAll(s, ",", ""), " ", ""), 64)
	switch {
	case s == "":
		return "", errors.New("no amount given")
	case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
		return "", fmt.Errorf("%q is not a number of pounds", s)
	case v < 0:
		return "", fmt.Errorf("%q is negative", s)
	}
	return strconv.FormatFloat(v, 'f', -1, 64), nil
}

// grantDate reads an award date: YYYY-MM-DD, a full date-time (its date
// as written), DD/MM/YYYY as UK spreadsheets write it, or (xlsx) an Excel
// serial number.
func grantDate(s string, serial bool) (string, error) {
	if s == "" {
		return "", errors.New("no award date given")
	}
	if serial {
		v, _ := strconv.ParseFloat(s, 64)
		t, err := excelize.ExcelDateToTime(v, false)
		if err != nil || t.Year() < 1900 || t.Year() > 2200 {
			return "", fmt.Errorf("%s is not a date", s)
		}
		return t.Format(time.DateOnly), nil
	}
	if len(s) >= 10 {
		if t, err := time.Parse(time.DateOnly, s[:10]); err == nil && (len(s) == 10 || s[10] == 'T' || s[10] == ' ') {
			return t.Format(time.DateOnly), nil
		}
	}
	if t, err := time.Parse("02/01/2006", s); err == nil {
		return t.Format(time.DateOnly), nil
	}
	return "", fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
}

// isoDate checks an option's date.
func isoDate(s string) error {
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return fmt.Errorf("%q is not a date: give YYYY-MM-DD", s)
	}
	return nil
}
