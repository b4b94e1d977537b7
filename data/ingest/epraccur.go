package ingest

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
)

// epraccurColumns are the 27 fields of NHS ODS epraccur.csv (GP practices),
// which is published without a header row.
var epraccurColumns = []string{"Organisation Code", "Name", "National Grouping", "High Level Health Geography",
	"Address Line 1", "Address Line 2", "Address Line 3", "Address Line 4", "Address Line 5", "Postcode",
	"Open Date", "Close Date", "Status Code", "Organisation Sub-Type Code", "Commissioner",
	"Join Provider/Purchaser Date", "Left Provider/Purchaser Date", "Contact Telephone Number",
	"Null 19", "Null 20", "Null 21", "Amended Record Indicator", "Null 23", "Provider/Purchaser", "Null 25",
	"Prescribing Setting", "Null 27"}

const (
	epCode, epName, epAddress, epPostcode, epStatus, epPhone, epSetting = 0, 1, 4, 9, 12, 17, 25
	// gpPrescribingSetting is the setting of a GP practice (others are
	// out-of-hours services, walk-in centres, prisons ...).
	gpPrescribingSetting = "4"
)

func init() {
	register("epraccur", &importer{
		summary: "NHS ODS epraccur.csv (headerless): GP practices, placed at their postcode",
		formats: `NHS ODS epraccur.csv, published without a header: 27 columns (Organisation Code, Name, National
Grouping, High Level Health Geography, Address Line 1-5, Postcode, Open Date, Close Date, Status Code,
..., Prescribing Setting in the 26th). Kept: prescribing setting 4 (GP practices) with status A;
--include-closed keeps closed (C), dormant (D) and proposed (P) ones too. Each practice is placed at
its postcode from the loaded postcodes, so load Code-Point Open or ONSPD first. Without --la every
practice's postcode must be loaded; with --la, practices are kept when their postcode lies in one of
those authorities and practices whose postcode is not loaded are skipped and named.`,
		example: "nbhd import epraccur epraccur.csv --la E08000010",
		options: []accepts{
			{opt: optKey, help: "dataset key (default epraccur)"},
			{opt: optLA, help: "keep practices whose postcode lies in these local authorities (from the loaded postcodes)"},
			{opt: optIncludeClosed, help: "keep closed, dormant and proposed practices too"},
		},
		ident: func(j Job) (string, string, error) {
			return "gp_practices", keyOr(j, "epraccur"), nil
		},
		run: importEpraccur,
	})
}

// epraccurSource streams practices: n, code, name, status, address,
// postcode, phone.
type epraccurSource struct {
	t                         *table
	includeClosed             bool
	read, inactive, otherKind int
}

func newEpraccur(file string, r io.Reader, opts Options) *epraccurSource {
	return &epraccurSource{t: newHeaderless(file, r, epraccurColumns), includeClosed: opts.flag(optIncludeClosed)}
}

func (s *epraccurSource) next() ([]any, error) {
	t := s.t
	for {
		rec, err := t.next()
		if err != nil {
			return nil, err
		}
		s.read++
		if field(rec, epSetting) != gpPrescribingSetting {
			s.otherKind++
			continue
		}
		status := field(rec, epStatus)
		switch status {
		case "A":
		case "C", "D", "P":
			if !s.includeClosed {
				s.inactive++
				continue
			}
		default:
			return nil, t.errf(epStatus, "%q is not an ODS status (A active, C closed, D dormant, P proposed)", status)
		}
		code := field(rec, epCode)
		if !odsPractice.MatchString(code) {
			return nil, t.errf(epCode, "%q is not an ODS practice code (a letter and five digits)", code)
		}
		name := field(rec, epName)
		if name == "" {
			return nil, t.errf(epName, "name is empty")
		}
		postcode := normalisePostcode(field(rec, epPostcode))
		if !postcodeRe.MatchString(postcode) {
			return nil, t.errf(epPostcode, "%q is not a postcode", field(rec, epPostcode))
		}
		var parts []string
		for i := epAddress; i < epAddress+5; i++ {
			if v := field(rec, i); v != "" {
				parts = append(parts, v)
			}
		}
		return []any{t.line, code, name, status, strings.Join(parts, ", "), postcode, field(rec, epPhone)}, nil
	}
}

func importEpraccur(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	src := newEpraccur(job.File, r, job.Options)
	la, err := newLAFilter(job.File, job.Options, false)
	if err != nil {
		return Result{}, err
	}
	err = stage(ctx, tx, "epraccur_stage", "n integer, code text, name text, status text, address text, postcode text, phone text",
		[]string{"n", "code", "name", "status", "address", "postcode", "phone"}, src.next)
	if err != nil {
		return Result{}, err
	}
	// A file of other organisations in the same layout (egpcur,
	// epharmacyhq ...) would otherwise import nothing and say nothing.
	if src.read > 0 && src.otherKind == src.read {
		return Result{}, &InputError{File: job.File, Field: epraccurColumns[epSetting], Err: fmt.Errorf(
			"none of the %d rows is a GP practice (prescribing setting 4): is this NHS ODS epraccur.csv?", src.read)}
	}
	loc := at{file: job.File}
	if err := firstBad(ctx, tx, loc, "Organisation Code", `SELECT n, code || ' already appears on line ' || first
		FROM (SELECT n, code, min(n) OVER (PARTITION BY code) AS first FROM epraccur_stage) s WHERE n > first ORDER BY n LIMIT 1`); err != nil {
		return Result{}, err
	}
	var notes []string
	if la.active() {
		if notes, err = la.byPostcode(ctx, tx, "epraccur_stage", "practices", "s.postcode", "s.code"); err != nil {
			return Result{}, err
		}
	} else if err := firstBad(ctx, tx, loc, "Postcode", `SELECT n, 'postcode ' || postcode || ' of practice ' || code ||
		' is not in the loaded postcodes (load Code-Point Open or ONSPD first; --la filters a national file)'
		FROM epraccur_stage s WHERE NOT EXISTS (SELECT 1 FROM nbhd.postcodes p WHERE p.postcode = s.postcode) ORDER BY n LIMIT 1`); err != nil {
		return Result{}, err
	}
	if err := firstBad(ctx, tx, loc, "Organisation Code", `SELECT s.n, 'practice ' || s.code || ' is already loaded by dataset ' || d.id ||
		' (' || d.key || '): drop that dataset first (nbhd datasets drop ' || d.id || ')'
		FROM epraccur_stage s JOIN nbhd.gp_practices g USING (code) JOIN nbhd.datasets d ON d.id = g.dataset_id
		WHERE NOT EXISTS (SELECT 1 FROM nbhd.datasets nd WHERE nd.id = $1 AND nd.kind = d.kind AND nd.key = d.key)
		ORDER BY s.n LIMIT 1`, ds); err != nil {
		return Result{}, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.gp_practices (code, name, status, address, postcode, phone, geom, dataset_id)
		SELECT s.code, s.name, s.status, s.address, s.postcode, s.phone, p.geom AS geom, $1
		FROM epraccur_stage s JOIN nbhd.postcodes p USING (postcode)
		`+inPlaceOrder+takeOver("code", "name", "status", "address", "postcode", "phone", "geom", "dataset_id"), ds)
	if err != nil {
		return Result{}, fmt.Errorf("write GP practices: %w", err)
	}
	res := Result{Rows: int(tag.RowsAffected()), Notes: notes}
	if src.inactive > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("skipped %d closed, dormant or proposed practices (--include-closed keeps them)", src.inactive))
	}
	if src.otherKind > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("skipped %d organisations whose prescribing setting is not a GP practice (4)", src.otherKind))
	}
	return res, nil
}
