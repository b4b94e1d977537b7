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
	schoolName     = regexp.MustCompile(`(?i)^(name|establishmentname|school_name|distname)$`)
	schoolURN      = regexp.MustCompile(`(?i)^urn$`)
	schoolPhase    = regexp.MustCompile(`(?i)^(phaseofeducation \(name\)|phase|phase_of_education|classification)$`)
	schoolKind     = regexp.MustCompile(`(?i)^(typeofestablishment \(name\)|type|kind|establishment_type|classification)$`)
	schoolPupils   = regexp.MustCompile(`(?i)^(numberofpupils|pupils|number_of_pupils)$`)
	schoolCapacity = regexp.MustCompile(`(?i)^(schoolcapacity|capacity)$`)
	schoolRef      = regexp.MustCompile(`(?i)^(os_ids|id|ref)$`)
)

func init() {
	register("schools", &importer{
		summary: "school sites GeoJSON (points, or polygons reduced to a point): name, phase, URN where present",
		formats: `A GeoJSON FeatureCollection of school sites in WGS 84 longitude/latitude (points, or polygons
reduced to a point on their surface): a name property (name, establishmentname, school_name,
distname; or --name-field), and phase or classification, URN, pupils and capacity where present.
For the DfE's own register use gias.`,
		example: "nbhd import schools school_sites.geojson",
		options: []accepts{
			{opt: optKey, help: "dataset key (default schools)"},
			{opt: optNameField},
		},
		ident: func(j Job) (string, string, error) {
			return "schools", keyOr(j, "schools"), nil
		},
		run: importSchools,
	})
}

// phaseOf reduces a phase or classification text to a phase of education.
func phaseOf(s string) string {
	l := strings.ToLower(s)
	switch {
	case strings.Contains(l, "nursery"):
		return "Nursery"
	case strings.Contains(l, "all-through"), strings.Contains(l, "all through"):
		return "All-through"
	case strings.Contains(l, "middle"):
		return "Middle"
	case strings.Contains(l, "primary"):
		return "Primary"
	case strings.Contains(l, "secondary"):
		return "Secondary"
	case strings.Contains(l, "16 plus"), strings.Contains(l, "sixth form"):
		return "16 plus"
	case strings.Contains(l, "special"):
		return "Special"
	case l == "":
		return ""
	}
	return "Not applicable"
}

func importSchools(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	src, err := newFeatureSource(job.File, r, anyShape)
	if err != nil {
		return Result{}, err
	}
	var name, urn, phase, kind, pupils, capacity, ref, postcode string
	loc := at{file: job.File, feature: true}
	err = stage(ctx, tx, "school_stage",
		"n integer, id text, urn text, name text, phase text, kind text, pupils integer, capacity integer, postcode text, wkb bytea",
		[]string{"n", "id", "urn", "name", "phase", "kind", "pupils", "capacity", "postcode", "wkb"},
		func() ([]any, error) {
			n, f, wkb, err := src.next()
			if err != nil {
				return nil, err
			}
			if n == 1 {
				var ok bool
				if name, ok = findProp(f, job.Options.text(optNameField), schoolName); !ok {
					return nil, loc.err(n, "name", "no name property (properties: %s); name it with --name-field", propKeys(f))
				}
				urn, _ = findProp(f, "", schoolURN)
				phase, _ = findProp(f, "", schoolPhase)
				kind, _ = findProp(f, "", schoolKind)
				pupils, _ = findProp(f, "", schoolPupils)
				capacity, _ = findProp(f, "", schoolCapacity)
				ref, _ = findProp(f, "", schoolRef)
				postcode, _ = findProp(f, "", assetPost)
			}
			nm := prop(f, name)
			if unnamed(nm) {
				return nil, loc.err(n, name, "school name is empty")
			}
			pu, err := optionalInt(prop(f, pupils))
			if err != nil {
				return nil, loc.err(n, pupils, "%v", err)
			}
			ca, err := optionalInt(prop(f, capacity))
			if err != nil {
				return nil, loc.err(n, capacity, "%v", err)
			}
			u := prop(f, urn)
			id := u
			if id == "" {
				id, _, _ = strings.Cut(prop(f, ref), ";")
			}
			if id == "" {
				id = fmt.Sprint(n)
			}
			return []any{n, keyOr(job, "schools") + ":" + id, u, nm, phaseOf(prop(f, phase)), prop(f, kind), pu, ca,
				normalisePostcode(prop(f, postcode)), wkb}, nil
		})
	if err != nil {
		return Result{}, err
	}
	if err := firstBad(ctx, tx, loc, "id", `SELECT n, 'school ' || id || ' appears twice' FROM
		(SELECT n, id, row_number() OVER (PARTITION BY id ORDER BY n) AS k FROM school_stage) s WHERE k > 1 ORDER BY n LIMIT 1`); err != nil {
		return Result{}, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.schools (id, urn, name, phase, kind, pupils, capacity, postcode, geom, dataset_id)
		SELECT id, urn, name, phase, kind, pupils, capacity, postcode, ST_PointOnSurface(ST_GeomFromEWKB(wkb)) AS geom, $1 FROM school_stage
		`+inPlaceOrder+takeOver("id", "urn", "name", "phase", "kind", "pupils", "capacity", "postcode", "geom", "dataset_id"), ds)
	if err != nil {
		return Result{}, fmt.Errorf("write schools: %w", err)
	}
	return Result{Rows: int(tag.RowsAffected())}, nil
}

func optionalInt(s string) (any, error) {
	s = strings.ReplaceAll(s, ",", "")
	if s == "" {
		return nil, nil
	}
	var v int64
	if _, err := fmt.Sscanf(s, "%d", &v); err != nil || v < 0 || fmt.Sprint(v) != s {
		return nil, fmt.Errorf("%q is not a whole number", s)
	}
	return v, nil
}
