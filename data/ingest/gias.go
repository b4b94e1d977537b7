package ingest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

var urnRe = regexp.MustCompile(`^\d{5,7}$`)

func init() {
	register("gias", &importer{
		summary: "DfE Get Information About Schools edubasealldata*.csv: schools, Easting/Northing transformed in PostGIS",
		formats: `DfE Get Information About Schools, edubasealldata*.csv, Windows-1252 as published (a file
re-saved as UTF-8 is detected). Columns used: URN, EstablishmentName, TypeOfEstablishment (name),
PhaseOfEducation (name), EstablishmentStatus (name), NumberOfPupils, SchoolCapacity, PercentageFSM
(SUPP and empty are NULL), Postcode, Easting and Northing (British National Grid). Closed
establishments are left out unless --include-closed; one without coordinates is placed at its
postcode when that is loaded, else skipped and named.`,
		example: "nbhd import gias edubasealldata20260401.csv --la E08000010 --licence \"Open Government Licence v3.0\"",
		options: []accepts{
			{opt: optKey, help: "dataset key (default gias)"},
			{opt: optLA, help: "keep these local authorities' schools: ONS codes (DistrictAdministrative (code), e.g. E08000010) or DfE LA codes (LA (code), e.g. 359)"},
			{opt: optIncludeClosed, help: "keep closed establishments too"},
			{opt: optEncoding},
		},
		ident: func(j Job) (string, string, error) {
			return "schools", keyOr(j, "gias"), nil
		},
		run: importGIAS,
	})
}

// giasSource streams an edubasealldata file's establishments: n, id, urn,
// name, phase, kind, status, pupils, capacity, fsm, postcode, x, y.
type giasSource struct {
	t                                                *table
	key                                              string
	urn, name, kind, phase, status, pupils, capacity int
	fsm, postcode, x, y                              int
	filter                                           *laFilter
	includeClosed                                    bool
	closed                                           int
}

func newGIAS(file string, r io.Reader, opts Options, key string) (_ *giasSource, err error) {
	t, err := readTable(file, r, tableOpts{decode: true, encoding: opts.text(optEncoding)})
	if err != nil {
		return nil, err
	}
	defer closeOnError(t, &err)
	s := &giasSource{t: t, key: key, includeClosed: opts.flag(optIncludeClosed)}
	for _, c := range []struct {
		dst  *int
		name string
	}{
		{&s.urn, "URN"}, {&s.name, "EstablishmentName"}, {&s.status, "EstablishmentStatus (name)"},
		{&s.x, "Easting"}, {&s.y, "Northing"},
	} {
		if *c.dst, err = t.need(c.name); err != nil {
			return nil, err
		}
	}
	s.kind = t.col("TypeOfEstablishment (name)")
	s.phase = t.col("PhaseOfEducation (name)")
	s.pupils = t.col("NumberOfPupils")
	s.capacity = t.col("SchoolCapacity")
	s.fsm = t.col("PercentageFSM")
	s.postcode = t.col("Postcode")
	if s.filter, err = newLAFilter(file, opts, true); err != nil {
		return nil, err
	}
	if err := s.filter.byColumn(t, []string{"DistrictAdministrative (code)"}, []string{"LA (code)"}); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *giasSource) next() ([]any, error) {
	t := s.t
	for {
		rec, err := t.next()
		if err != nil {
			return nil, err
		}
		if !s.filter.keep(rec) {
			continue
		}
		status := field(rec, s.status)
		if strings.EqualFold(status, "Closed") && !s.includeClosed {
			s.closed++
			continue
		}
		urn := field(rec, s.urn)
		if !urnRe.MatchString(urn) {
			return nil, t.errf(s.urn, "%q is not a URN (a number of 5 to 7 digits)", urn)
		}
		name := field(rec, s.name)
		if name == "" {
			return nil, t.errf(s.name, "name is empty")
		}
		pupils, err := intIn(t, rec, s.pupils, 0, 100_000)
		if err != nil {
			return nil, err
		}
		capacity, err := intIn(t, rec, s.capacity, 0, 100_000)
		if err != nil {
			return nil, err
		}
		fsm, err := percentage(t, rec, s.fsm)
		if err != nil {
			return nil, err
		}
		// Some establishments (most of them closed or not yet open) have
		// no coordinates; they are placed by postcode when it is loaded.
		var x, y any
		if field(rec, s.x) != "" || field(rec, s.y) != "" {
			xv, yv, err := eastingNorthing(t, rec, s.x, s.y)
			if err != nil {
				return nil, err
			}
			x, y = xv, yv
		}
		return []any{t.line, s.key + ":" + urn, urn, name, field(rec, s.phase), field(rec, s.kind), strings.ToLower(status),
			pupils, capacity, fsm, normalisePostcode(field(rec, s.postcode)), x, y}, nil
	}
}

// percentage parses a 0-100 share; "SUPP" (suppressed) and empty cells are
// NULL, as GIAS publishes them.
func percentage(t *table, rec []string, i int) (any, error) {
	s := strings.TrimSuffix(field(rec, i), "%")
	if i < 0 || s == "" || strings.EqualFold(s, "SUPP") || strings.EqualFold(s, "NA") {
		return nil, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 100 {
		return nil, t.errf(i, "%q is not a percentage (0 to 100)", s)
	}
	return v, nil
}

func importGIAS(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	key := keyOr(job, "gias")
	src, err := newGIAS(job.File, r, job.Options, key)
	if err != nil {
		return Result{}, err
	}
	defer src.t.close()
	err = stage(ctx, tx, "gias_stage",
		"n integer, id text, urn text, name text, phase text, kind text, status text, pupils integer, capacity integer, fsm numeric, postcode text, x double precision, y double precision",
		[]string{"n", "id", "urn", "name", "phase", "kind", "status", "pupils", "capacity", "fsm", "postcode", "x", "y"}, src.next)
	if err != nil {
		return Result{}, err
	}
	loc := at{file: job.File}
	if err := firstBad(ctx, tx, loc, "URN", `SELECT n, 'URN ' || urn || ' already appears on line ' || first
		FROM (SELECT n, urn, min(n) OVER (PARTITION BY urn) AS first FROM gias_stage) s WHERE n > first ORDER BY n LIMIT 1`); err != nil {
		return Result{}, err
	}
	// Place establishments without coordinates at their postcode, or leave
	// them out (with a note) when the postcode is not loaded.
	rows, err := tx.Query(ctx, `DELETE FROM gias_stage s WHERE x IS NULL
		AND NOT EXISTS (SELECT 1 FROM nbhd.postcodes p WHERE p.postcode = s.postcode) RETURNING urn`)
	if err != nil {
		return Result{}, fmt.Errorf("find unplaced schools: %w", err)
	}
	unplaced, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return Result{}, fmt.Errorf("find unplaced schools: %w", err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.schools (id, urn, name, phase, kind, status, pupils, capacity, fsm_percent, postcode, geom, dataset_id)
		SELECT s.id, s.urn, s.name, s.phase, s.kind, s.status, s.pupils, s.capacity, s.fsm, s.postcode,
		       CASE WHEN s.x IS NOT NULL THEN ST_Transform(ST_SetSRID(ST_MakePoint(s.x, s.y), 27700), 4326) ELSE p.geom END AS geom, $1
		FROM gias_stage s LEFT JOIN nbhd.postcodes p ON s.x IS NULL AND p.postcode = s.postcode
		`+inPlaceOrder+takeOver("id", "urn", "name", "phase", "kind", "status", "pupils", "capacity", "fsm_percent", "postcode", "geom", "dataset_id"), ds)
	if err != nil {
		return Result{}, fmt.Errorf("write schools: %w", err)
	}
	res := Result{Rows: int(tag.RowsAffected()), Notes: src.filter.note()}
	if src.closed > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("skipped %d closed establishments (--include-closed keeps them)", src.closed))
	}
	if len(unplaced) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("skipped %d establishments with neither coordinates nor a loaded postcode: URN %s",
			len(unplaced), someOf(unplaced)))
	}
	return res, nil
}
