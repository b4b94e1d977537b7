package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/geojson"
)

var (
	// onsCodeKeys and onsNameKeys are the ONS property names of each
	// level's codes and names (LSOA21CD, WD24CD ...); a custom set takes
	// any of them. A LAD column is never a boundary's own code.
	onsCodeKeys = map[string]*regexp.Regexp{
		"lsoa":   regexp.MustCompile(`(?i)^lsoa\d{2}cd$`),
		"msoa":   regexp.MustCompile(`(?i)^msoa\d{2}cd$`),
		"ward":   regexp.MustCompile(`(?i)^(wd|ward)\d{2}cd$`),
		"custom": regexp.MustCompile(`(?i)^(lsoa|msoa|wd|ward)\d{2}cd$`),
	}
	onsNameKeys = map[string]*regexp.Regexp{
		"lsoa":   regexp.MustCompile(`(?i)^lsoa\d{2}nm$`),
		"msoa":   regexp.MustCompile(`(?i)^msoa\d{2}nm$`),
		"ward":   regexp.MustCompile(`(?i)^(wd|ward)\d{2}nm$`),
		"custom": regexp.MustCompile(`(?i)^(lsoa|msoa|wd|ward)\d{2}nm$`),
	}
	codeKey   = regexp.MustCompile(`(?i)^(area_?code|code|geo_?code|id)$`)
	nameKey   = regexp.MustCompile(`(?i)^(area_?name|name|geo_?name)$`)
	yearInKey = regexp.MustCompile(`(?i)^(?:lsoa|msoa|wd|ward|lad)(\d{2})cd$`)
	// ladKey and ladNameKey are a boundary's borough properties.
	ladKey     = regexp.MustCompile(`(?i)^(lad\d{2}cd|lad_code|local_authority(_area)?_code)$`)
	ladNameKey = regexp.MustCompile(`(?i)^(lad\d{2}nm|lad_name|local_authority(_area)?_name)$`)
)

func init() {
	register("boundaries", &importer{
		summary: "ONS boundary GeoJSON: small areas (--level lsoa) or a neighbourhood set (--level msoa|ward|custom --set ID)",
		formats: `A GeoJSON FeatureCollection of polygons in WGS 84 longitude/latitude, as the ONS Open
Geography Portal publishes boundaries (LSOA21CD/LSOA21NM, WD22CD/WD22NM ...; other names with
--code-field and --name-field). --level lsoa loads the small areas every statistic hangs on
(re-importing updates them in place); a LADyyCD or lad_code property, or --la naming one borough,
says which borough each is in. --level msoa, ward or custom loads a neighbourhood set, whose year
(--vintage) is read from the code property (WD24CD is 2024): each small area joins the
neighbourhood the --lookup CSV (an ONS best-fit lookup, e.g. LSOA21CD, WD24CD, WD24NM, LAD24CD)
names, else the one it overlaps most (at least 10% of its area). Polygons that touch themselves
are repaired when that changes no area; other invalid ones are refused.`,
		example: "nbhd import boundaries Wards_December_2022_Boundaries_UK_BGC.geojson --level ward --set ward --set-title \"Electoral wards (2022)\" --lookup LSOA21_WD22_LAD22_EW_LU.csv",
		options: []accepts{
			{opt: optLevel},
			{opt: optVintage, help: "--level lsoa: LSOA vintage, 2011 or 2021 (read from the code property's name when it says, e.g. LSOA21CD)"},
			{opt: optSet, help: "other levels: the neighbourhood set's id (e.g. ward); re-importing a set replaces it"},
			{opt: optSetTitle},
			{opt: optCodeField},
			{opt: optNameField},
			{opt: optLookup, help: "other levels: a best-fit lookup CSV giving each small area's neighbourhood (ONS LSOA to ward or MSOA)"},
			{opt: optLA, help: "keep the features of these boroughs (by a LADyyCD or lad_code property); at --level lsoa, one code with no such property says every small area is in that borough"},
		},
		ident: func(j Job) (string, string, error) {
			level := j.Options.text(optLevel)
			if _, ok := levels[level]; !ok {
				return "", "", fmt.Errorf("--level must be lsoa, msoa, ward or custom, got %q", level)
			}
			if level != "lsoa" {
				return setIdent(j)
			}
			for _, o := range []option{optSet, optSetTitle, optLookup} {
				if j.Options.text(o) != "" {
					return "", "", fmt.Errorf("--%s names a neighbourhood set: it goes with --level msoa, ward or custom, not lsoa", o.name)
				}
			}
			return "small_areas", "lsoa", nil
		},
		run: importBoundaries,
	})
}

type boundaryFields struct {
	code, name   string
	lad, ladName string // borough properties ("" when absent)
	vintage      int
}

// boundaryFields finds the code, name and borough properties from the
// first feature.
func detectBoundaryFields(job Job, n int, f *geojson.Feature) (boundaryFields, error) {
	var bf boundaryFields
	var ok bool
	level := job.Options.text(optLevel)
	if bf.code, ok = findProp(f, job.Options.text(optCodeField), onsCodeKeys[level], codeKey); !ok {
		return bf, &InputError{File: job.File, Feature: n, Field: job.Options.text(optCodeField),
			Err: fmt.Errorf("no code property found (properties: %s); name it with --code-field", propKeys(f))}
	}
	bf.lad, _ = findProp(f, "", ladKey)
	bf.ladName, _ = findProp(f, "", ladNameKey)
	if bf.name, ok = findProp(f, job.Options.text(optNameField), onsNameKeys[level], nameKey); !ok {
		return bf, &InputError{File: job.File, Feature: n, Field: job.Options.text(optNameField),
			Err: fmt.Errorf("no name property found (properties: %s); name it with --name-field", propKeys(f))}
	}
	bf.vintage = job.Options.number(optVintage)
	if m := yearInKey.FindStringSubmatch(bf.code); bf.vintage == 0 && m != nil {
		yy, _ := strconv.Atoi(m[1])
		bf.vintage = 2000 + yy
	}
	return bf, nil
}

func importBoundaries(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	src, err := newFeatureSource(job.File, r, polygonal)
	if err != nil {
		return Result{}, err
	}
	level := job.Options.text(optLevel)
	pattern := levels[level]
	var bf boundaryFields
	seen := map[string]int{}
	loc := at{file: job.File, feature: true}
	la, err := newLAFilter(job.File, job.Options, false)
	if err != nil {
		return Result{}, err
	}
	given := "" // the one borough --la names, for a file that names none
	err = stage(ctx, tx, "boundary_stage", "n integer, code text, name text, lad text, lad_name text, wkb bytea",
		[]string{"n", "code", "name", "lad", "lad_name", "wkb"},
		func() ([]any, error) {
			for {
				n, f, wkb, err := src.next()
				if err != nil {
					return nil, err
				}
				if n == 1 {
					if bf, err = detectBoundaryFields(job, n, f); err != nil {
						return nil, err
					}
					if level == "lsoa" && bf.vintage != 2011 && bf.vintage != 2021 {
						return nil, &InputError{File: job.File, Err: fmt.Errorf("cannot tell the LSOA vintage from property %q: give --vintage 2011 or 2021", bf.code)}
					}
					if la.active() && bf.lad == "" {
						if level != "lsoa" || len(la.codes) != 1 {
							return nil, &InputError{File: job.File, Feature: n, Field: "--la", Err: fmt.Errorf(
								"the features have no borough property (LADyyCD, lad_code) to keep those of %s by; at --level lsoa, --la may name the one borough every small area is in",
								strings.Join(la.codes, ","))}
						}
						given = la.codes[0]
					}
				}
				code, name := prop(f, bf.code), prop(f, bf.name)
				lad, ladName := given, ""
				if bf.lad != "" {
					lad, ladName = prop(f, bf.lad), prop(f, bf.ladName)
					if lad != "" && !onsLACode.MatchString(lad) {
						return nil, loc.err(n, bf.lad, "%q is not a local authority district code (such as E08000010)", lad)
					}
					if !la.keepCode(lad) {
						continue
					}
				}
				if !pattern.MatchString(code) {
					return nil, loc.err(n, bf.code, "%q is not a %s code", code, strings.ToUpper(level))
				}
				if name == "" {
					return nil, loc.err(n, bf.name, "name is empty")
				}
				if first, dup := seen[code]; dup {
					return nil, loc.err(n, bf.code, "code %s already appears in feature %d", code, first)
				}
				seen[code] = n
				return []any{n, code, name, lad, ladName, wkb}, nil
			}
		})
	if err != nil {
		return Result{}, err
	}
	note, err := repairPolygons(ctx, tx, loc, "boundary_stage")
	if err != nil {
		return Result{}, err
	}
	var res Result
	if level == "lsoa" {
		res, err = upsertSmallAreas(ctx, tx, ds, bf.vintage)
	} else {
		res, err = replaceSet(ctx, tx, job, ds, bf.vintage)
	}
	if err != nil {
		return Result{}, err
	}
	res.Notes = append(res.Notes, la.note()...)
	if note != "" {
		res.Notes = append(res.Notes, note)
	}
	return res, nil
}

// upsertSmallAreas updates small areas in place, so the population,
// deprivation and membership rows that refer to them survive a re-import;
// areas missing from the new file go with the old dataset.
// Each small area's borough, where the file or --la says, is recorded at
// the highest trust; small areas that other files placed keep their
// boroughs.
func upsertSmallAreas(ctx context.Context, tx pgx.Tx, ds int64, vintage int) (Result, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.small_areas (code, name, vintage, geom, dataset_id)
		SELECT code, name, $1, ST_Multi(ST_GeomFromEWKB(wkb)), $2 FROM boundary_stage
		ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, vintage = EXCLUDED.vintage,
			geom = EXCLUDED.geom, dataset_id = EXCLUDED.dataset_id`, vintage, ds)
	if err != nil {
		return Result{}, fmt.Errorf("write small areas: %w", err)
	}
	res := Result{Rows: int(tag.RowsAffected())}
	placed, err := writeLADFacts(ctx, tx, ds, trustGiven, `SELECT code, lad, lad_name FROM boundary_stage WHERE lad <> ''`)
	if err != nil {
		return Result{}, err
	}
	// Statements other files made before these small areas were (re)loaded.
	if _, err := tx.Exec(ctx, `SELECT logic.resolve_lads(ARRAY(SELECT code FROM boundary_stage))`); err != nil {
		return Result{}, fmt.Errorf("resolve boroughs: %w", err)
	}
	if placed > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d small areas placed in their borough by the file", placed))
	}
	return res, nil
}

// replaceSet writes a neighbourhood set from the staged boundaries, with
// its level and year (vintage: from the code property or --vintage, and
// the lookup's code column, which must agree).
func replaceSet(ctx context.Context, tx pgx.Tx, job Job, ds int64, vintage int) (Result, error) {
	set := job.Options.text(optSet)
	n, err := writeSet(ctx, tx, job, ds, "SELECT code, name, ST_Multi(ST_GeomFromEWKB(wkb)) AS geom FROM boundary_stage")
	if err != nil {
		return Result{}, err
	}
	res := Result{Rows: n}
	byLookup := 0
	if job.Options.text(optLookup) != "" {
		var lookupYear int
		if byLookup, lookupYear, err = membershipFromLookup(ctx, tx, job, ds, vintage); err != nil {
			return Result{}, err
		}
		if vintage == 0 {
			vintage = lookupYear
		}
	}
	if err := recordSet(ctx, tx, set, job.Options.text(optLevel), vintage); err != nil {
		return Result{}, err
	}
	if err := nameBoroughs(ctx, tx, `SELECT lad, lad_name FROM boundary_stage WHERE lad <> ''`); err != nil {
		return Result{}, err
	}
	byOverlap, err := membershipByOverlap(ctx, tx, set, ds)
	if err != nil {
		return Result{}, err
	}
	// Gaps near this import's neighbourhoods (other boroughs may not use
	// the set at all).
	rows, err := tx.Query(ctx, `SELECT DISTINCT c.code FROM nbhd.neighbourhoods n
		CROSS JOIN LATERAL (`+coveredBy+`) c
		WHERE n.set_id = $1 AND n.dataset_id = $2
		  AND NOT EXISTS (SELECT 1 FROM nbhd.neighbourhood_members m WHERE m.set_id = $1 AND m.small_area_code = c.code)
		ORDER BY c.code`, set, ds)
	if err != nil {
		return Result{}, fmt.Errorf("find unassigned small areas: %w", err)
	}
	outside, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return Result{}, fmt.Errorf("find unassigned small areas: %w", err)
	}
	res.Notes = append(res.Notes, fmt.Sprintf("set %s: %d small areas placed by lookup, %d by largest overlap, %d in no neighbourhood",
		set, byLookup, byOverlap, len(outside)))
	// The set should partition the loaded small areas; membership gives
	// each at most one neighbourhood, so the gaps are what to report.
	if len(outside) > 0 {
		res.Notes = append(res.Notes, "small areas in no neighbourhood: "+someOf(outside))
	}
	return res, nil
}

// minOverlap is the share of a small area's area that must fall in a
// neighbourhood for overlap to place it there, so boundary slivers from
// generalisation never place an area outside the set.
const minOverlap = 0.10

// membershipByOverlap places each small area not yet in the set into the
// neighbourhood of this import it overlaps most (logic.assign_by_overlap).
// coveredBy selects the small areas whose point on surface lies in
// neighbourhood n. Driven from each neighbourhood through the small areas'
// spatial index, it costs one index probe per neighbourhood: the same test
// asked of every small area against every neighbourhood (an EXISTS the
// planner cannot index, the new rows having no statistics yet) took
// minutes for England's wards.
const coveredBy = `SELECT sa.code FROM nbhd.small_areas sa
	WHERE sa.geom && n.geom AND ST_Intersects(n.geom, ST_PointOnSurface(sa.geom))`

func membershipByOverlap(ctx context.Context, tx pgx.Tx, set string, ds int64) (int, error) {
	var n int
	if err := tx.QueryRow(ctx, "SELECT logic.assign_by_overlap($1, $2, $3)", set, ds, minOverlap).Scan(&n); err != nil {
		return 0, fmt.Errorf("place small areas by overlap: %w", err)
	}
	return n, nil
}

// membershipFromLookup reads a best-fit lookup CSV (ONS publishes them as
// LSOA code -> ward or MSOA code, sometimes one row per output area). The
// columns are recognised by their values: one holds loaded small-area codes,
// another the set's neighbourhood codes. Rows for other areas are skipped,
// so a national lookup works. The lookup's LAD column (lad22cd, LAD24CD,
// lad25cd) says which borough each small area is in; the year of its
// neighbourhood column (WD24CD is 2024) is returned.
// A lookup whose neighbourhood column is of another year than the
// boundaries' (vintage, 0 when unknown) is refused.
func membershipFromLookup(ctx context.Context, tx pgx.Tx, job Job, ds int64, vintage int) (members, year int, err error) {
	path := job.Options.text(optLookup)
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(job.File), path)
	}
	f, err := job.Open(path)
	if err != nil {
		return 0, 0, &InputError{File: path, Err: fmt.Errorf("open lookup: %w", err)}
	}
	defer f.Close()
	smallAreas, err := codeSet(ctx, tx, "SELECT code FROM nbhd.small_areas")
	if err != nil {
		return 0, 0, err
	}
	// This import's neighbourhoods, and the small areas they cover: a
	// national lookup also names other boroughs' neighbourhoods, whose rows
	// are skipped, but a row for a small area inside this file's
	// neighbourhoods must name one of them.
	hoods, err := codeSet(ctx, tx, "SELECT code FROM nbhd.neighbourhoods WHERE set_id = $1 AND dataset_id = $2", job.Options.text(optSet), ds)
	if err != nil {
		return 0, 0, err
	}
	covered, err := codeSet(ctx, tx, `SELECT c.code FROM nbhd.neighbourhoods n CROSS JOIN LATERAL (`+coveredBy+`) c
		WHERE n.set_id = $1 AND n.dataset_id = $2`, job.Options.text(optSet), ds)
	if err != nil {
		return 0, 0, err
	}
	t, err := newTable(path, f)
	if err != nil {
		return 0, 0, err
	}
	defer t.close()
	for i, h := range t.header {
		if m := lookupHoodCol.FindStringSubmatch(strings.TrimSpace(h)); m != nil {
			yy, _ := strconv.Atoi(m[2])
			if vintage != 0 && 2000+yy != vintage {
				e := t.errf(i, "the lookup's neighbourhoods are of %d but the boundaries (%s) are of %d: use the lookup of the boundaries' year",
					2000+yy, baseName(job.File), vintage)
				e.Line = max(t.headerLine, 1)
				return 0, 0, e
			}
			break
		}
	}
	ladCol, ladNameCol := ladColumns(t)
	saCol, nCol := -1, -1
	type placed struct {
		code      string
		line      int
		lad, name string
	}
	member := map[string]placed{}
	for {
		rec, err := t.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		if saCol < 0 {
			saCol, nCol = lookupColumns(rec, smallAreas, hoods)
			if saCol < 0 {
				continue
			}
			if m := yearInKey.FindStringSubmatch(strings.TrimSpace(t.header[nCol])); m != nil {
				yy, _ := strconv.Atoi(m[1])
				year = 2000 + yy
			}
		}
		sa, nb := field(rec, saCol), field(rec, nCol)
		if _, ours := smallAreas[sa]; !ours {
			continue
		}
		if _, ok := hoods[nb]; !ok {
			if _, inside := covered[sa]; inside {
				return 0, 0, t.errf(nCol, "%s is not a neighbourhood in the boundary file %s", nb, baseName(job.File))
			}
			continue
		}
		if p, dup := member[sa]; dup && p.code != nb {
			return 0, 0, t.errf(nCol, "small area %s is placed in %s here but in %s on %s %d: a best-fit lookup gives one neighbourhood per small area",
				sa, nb, p.code, t.unit(), p.line)
		}
		lad, err := ladCell(t, rec, ladCol)
		if err != nil {
			return 0, 0, err
		}
		member[sa] = placed{code: nb, line: t.line, lad: lad, name: field(rec, ladNameCol)}
	}
	if saCol < 0 {
		return 0, 0, &InputError{File: path, Err: fmt.Errorf("no column of loaded small-area codes beside a column of %s codes", job.Options.text(optSet))}
	}
	sas := make([]string, 0, len(member))
	nbs := make([]string, 0, len(member))
	lads := make([]string, 0, len(member))
	names := make([]string, 0, len(member))
	for sa, p := range member {
		sas = append(sas, sa)
		nbs = append(nbs, p.code)
		lads = append(lads, p.lad)
		names = append(names, p.name)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.neighbourhood_members (set_id, small_area_code, neighbourhood_code, method)
		SELECT $1, sa, nb, 'lookup' FROM unnest($2::text[], $3::text[]) AS u(sa, nb)
		ON CONFLICT (set_id, small_area_code) DO UPDATE SET neighbourhood_code = EXCLUDED.neighbourhood_code, method = EXCLUDED.method`,
		job.Options.text(optSet), sas, nbs)
	if err != nil {
		return 0, 0, fmt.Errorf("write lookup membership: %w", err)
	}
	if _, err := writeLADFacts(ctx, tx, ds, trustLookup, `SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`, sas, lads, names); err != nil {
		return 0, 0, err
	}
	return int(tag.RowsAffected()), year, nil
}

// lookupColumns finds, in one record, a column holding a known small-area
// code and another holding a known neighbourhood code.
func lookupColumns(rec []string, smallAreas, hoods map[string]struct{}) (int, int) {
	sa, nb := -1, -1
	for i := range rec {
		v := field(rec, i)
		if _, ok := smallAreas[v]; ok && sa < 0 {
			sa = i
		} else if _, ok := hoods[v]; ok && nb < 0 {
			nb = i
		}
	}
	if sa < 0 || nb < 0 {
		return -1, -1
	}
	return sa, nb
}
