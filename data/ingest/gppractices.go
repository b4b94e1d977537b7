package ingest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"nbhd/geo"
)

var (
	odsPractice   = regexp.MustCompile(`^[A-Z]\d{5}$`)
	listSizeCol   = regexp.MustCompile(`(?i)^registered_patients_(\d{4})_(\d{2})$`)
	addressColumn = regexp.MustCompile(`(?i)^address_?\d$`)
)

func init() {
	register("gp-practices", &importer{
		summary: "GP practices CSV with coordinates and registered_patients_YYYY_MM list sizes",
		formats: `A CSV with a header: practice_code (an ODS code, a letter and five digits), practice_name,
status_code (A active, C closed, D dormant, P proposed; default A), postcode, lon and lat (WGS 84),
and optionally address_1..address_5, telephone, and list sizes in registered_patients_YYYY_MM
columns (one per extract month). For the NHS's own files use epraccur and gp-list-sizes.`,
		example: "nbhd import gp-practices gp_practices.csv --active-only",
		options: []accepts{
			{opt: optKey, help: "dataset key (default gp-practices)"},
			{opt: optActiveOnly},
		},
		ident: func(j Job) (string, string, error) {
			return "gp_practices", keyOr(j, "gp-practices"), nil
		},
		run: importGPPractices,
	})
}

type listSizeColumn struct {
	col  int
	date time.Time
}

func importGPPractices(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	t, err := newTable(job.File, r)
	if err != nil {
		return Result{}, err
	}
	defer t.close()
	var c struct{ code, name, status, postcode, phone, lon, lat int }
	for _, need := range []struct {
		dst   *int
		names []string
	}{
		{&c.code, []string{"practice_code", "code", "organisation_code"}},
		{&c.name, []string{"practice_name", "name"}},
		{&c.postcode, []string{"postcode"}},
		{&c.lon, []string{"lon", "longitude", "long"}},
		{&c.lat, []string{"lat", "latitude"}},
	} {
		if *need.dst, err = t.need(need.names...); err != nil {
			return Result{}, err
		}
	}
	c.status = t.col("status_code", "status")
	c.phone = t.col("telephone", "phone", "telephone_number")
	var address []int
	var sizes []listSizeColumn
	for i, h := range t.header {
		h = strings.TrimSpace(h)
		if addressColumn.MatchString(h) {
			address = append(address, i)
		}
		if m := listSizeCol.FindStringSubmatch(h); m != nil {
			d, err := time.Parse("2006-01", m[1]+"-"+m[2])
			if err != nil {
				return Result{}, &InputError{File: job.File, Line: 1, Field: h, Err: fmt.Errorf("bad extract month: %w", err)}
			}
			sizes = append(sizes, listSizeColumn{i, d})
		}
	}
	sort.Slice(sizes, func(i, j int) bool { return sizes[i].date.After(sizes[j].date) })

	seen := map[string]int{}
	var practices, inactive int
	type size struct {
		code  string
		date  time.Time
		value int64
	}
	var lists []size
	err = stage(ctx, tx, "gp_stage", "n integer, code text, name text, status text, address text, postcode text, phone text, wkb bytea",
		[]string{"n", "code", "name", "status", "address", "postcode", "phone", "wkb"},
		func() ([]any, error) {
			for {
				rec, err := t.next()
				if err != nil {
					return nil, err
				}
				code := field(rec, c.code)
				if !odsPractice.MatchString(code) {
					return nil, t.errf(c.code, "%q is not an ODS practice code (a letter and five digits)", code)
				}
				status := field(rec, c.status)
				if status == "" {
					status = "A"
				}
				if job.Options.flag(optActiveOnly) && status != "A" {
					inactive++
					continue
				}
				if first, dup := seen[code]; dup {
					return nil, t.errf(c.code, "%s already appears on line %d", code, first)
				}
				seen[code] = t.line
				name := field(rec, c.name)
				if name == "" {
					return nil, t.errf(c.name, "name is empty")
				}
				pt, err := lonLat(t, rec, c.lon, c.lat)
				if err != nil {
					return nil, err
				}
				wkb, err := geo.EWKB(pt, geo.CRS84.SRID)
				if err != nil {
					return nil, t.errf(c.lon, "%v", err)
				}
				for _, s := range sizes {
					v, err := intIn(t, rec, s.col, 0, 10_000_000)
					if err != nil {
						return nil, err
					}
					if v != nil {
						lists = append(lists, size{code, s.date, v.(int64)})
					}
				}
				var parts []string
				for _, i := range address {
					if v := field(rec, i); v != "" {
						parts = append(parts, v)
					}
				}
				practices++
				return []any{t.line, code, name, status, strings.Join(parts, ", "), normalisePostcode(field(rec, c.postcode)), field(rec, c.phone), wkb}, nil
			}
		})
	if err != nil {
		return Result{}, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.gp_practices (code, name, status, address, postcode, phone, geom, dataset_id)
		SELECT code, name, status, address, postcode, phone, ST_GeomFromEWKB(wkb) AS geom, $1 FROM gp_stage
		`+inPlaceOrder+takeOver("code", "name", "status", "address", "postcode", "phone", "geom", "dataset_id"), ds)
	if err != nil {
		return Result{}, fmt.Errorf("write GP practices: %w", err)
	}
	codes := make([]string, len(lists))
	dates := make([]time.Time, len(lists))
	values := make([]int64, len(lists))
	for i, l := range lists {
		codes[i], dates[i], values[i] = l.code, l.date, l.value
	}
	if _, err := tx.Exec(ctx, `INSERT INTO nbhd.gp_list_sizes (practice_code, extract_date, patients, dataset_id)
		SELECT code, d, v, $4 FROM unnest($1::text[], $2::date[], $3::bigint[]) AS u(code, d, v)`, codes, dates, values, ds); err != nil {
		return Result{}, fmt.Errorf("write list sizes: %w", err)
	}
	res := Result{Rows: int(tag.RowsAffected())}
	res.Notes = append(res.Notes, fmt.Sprintf("%d list sizes from %d extract column(s)", len(lists), len(sizes)))
	if inactive > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("skipped %d practices that are not active", inactive))
	}
	return res, nil
}
