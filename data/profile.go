package data

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Comparator is an indicator's value for a wider area (the neighbourhood's
// borough, region, combined authority or England) and how the
// neighbourhood compares with it.
type Comparator struct {
	Value      *float64 `json:"value"`
	Total      *float64 `json:"total,omitempty"` // for counts: the area's total, of which Value is the average neighbourhood
	Difference *float64 `json:"difference"`
	Index      *float64 `json:"index"` // 100 × neighbourhood ÷ comparator
	Suppressed bool     `json:"suppressed,omitempty"`
}

// TrendPoint is an indicator's value at one vintage (a population period,
// an IoD release).
type TrendPoint struct {
	Vintage string   `json:"vintage"`
	Value   *float64 `json:"value"`
}

// Trend is an indicator's values at every vintage it has, oldest first,
// and the change from the first to the last.
type Trend struct {
	Points []TrendPoint `json:"values"`
	Change *float64     `json:"change"`
	// ChangePct is the change as a percent of the first value, for counts.
	ChangePct *float64 `json:"change_pct,omitempty"`
}

// Indicator is one figure of a neighbourhood profile with its comparators.
type Indicator struct {
	ID          string      `json:"id"`
	Group       string      `json:"group"`
	Label       string      `json:"label"`
	Description string      `json:"description"`
	Unit        string      `json:"unit"` // count, percent, or rate (per 1,000 residents)
	Vintage     string      `json:"vintage,omitempty"`
	Value       *float64    `json:"value"`
	Suppressed  bool        `json:"suppressed,omitempty"`
	Source      string      `json:"source,omitempty"`
	Method      string      `json:"method,omitempty"`
	Period      string      `json:"period,omitempty"`
	Rank        *int        `json:"rank"`
	Of          int         `json:"of"`
	Borough     *Comparator `json:"borough"`
	Region      *Comparator `json:"region,omitempty"`
	Cauth       *Comparator `json:"combined_authority,omitempty"`
	England     *Comparator `json:"england"`
	Trend       *Trend      `json:"trend,omitempty"`
}

// Area names a borough, region or combined authority.
type Area struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// ComparatorInfo says, in words, what a comparator column is.
type ComparatorInfo struct {
	Label string `json:"label"`
	// Counts says how count indicators are compared: with the area's
	// average neighbourhood of the same set.
	Counts string `json:"counts"`
	// Rates says how rates and percentages are compared: with the area's
	// own rate.
	Rates    string `json:"rates"`
	Coverage string `json:"coverage"`
}

// Geography says what area the profile's figures describe.
type Geography struct {
	SmallAreas  int      `json:"small_areas"`
	DrawnAs     string   `json:"drawn_as"`
	AreaShare   *float64 `json:"official_area_share"`
	PeopleShare *float64 `json:"official_population_share"`
}

// Profile is a neighbourhood's indicators with their comparators, read
// from the precomputed, disclosure-controlled tables.
type Profile struct {
	Set         string                    `json:"set"`
	Code        string                    `json:"code"`
	Name        string                    `json:"name"`
	Borough     Area                      `json:"borough"`
	Region      *Area                     `json:"region"`
	Cauth       *Area                     `json:"combined_authority"`
	Geography   Geography                 `json:"geography"`
	WorstDomain string                    `json:"worst_domain"`
	Vintage     string                    `json:"vintage,omitempty"`
	Comparators map[string]ComparatorInfo `json:"comparators"`
	Indicators  []Indicator               `json:"indicators"`
}

// ErrNoSet means the neighbourhood set does not exist.
var ErrNoSet = errors.New("no such neighbourhood set")

// CheckSet reports ErrNoSet for an unknown set. The sets are read once per
// data version, so a profile or list costs no round trip for it.
func (s *Store) CheckSet(ctx context.Context, set string) error {
	ids, err := s.setIDs.get(ctx, s.Version(), func(ctx context.Context) (map[string]bool, error) {
		rows, err := s.public.Query(ctx, "SELECT id FROM api.neighbourhood_sets")
		if err != nil {
			return nil, err
		}
		list, err := pgx.CollectRows(rows, pgx.RowTo[string])
		out := map[string]bool{}
		for _, id := range list {
			out[id] = true
		}
		return out, err
	})
	if err != nil {
		return fmt.Errorf("check set: %w", err)
	}
	if !ids[set] {
		return ErrNoSet
	}
	return nil
}

// catalogueEntry is one row of the indicator catalogue (api.indicators).
type catalogueEntry struct {
	id, kind, label, description, group string
	position                            int
}

// entry finds an indicator's catalogue entry: its own, or its family's
// ("asset:library" is "asset:*"), with {detail} the rest of the id.
func entryFor(cat []catalogueEntry, id string) (catalogueEntry, string, bool) {
	for _, e := range cat {
		if e.id == id {
			return e, "", true
		}
	}
	for _, e := range cat {
		if prefix, ok := strings.CutSuffix(e.id, "*"); ok && strings.HasPrefix(id, prefix) {
			return e, strings.TrimPrefix(id, prefix), true
		}
	}
	return catalogueEntry{}, "", false
}

type indicatorRow struct {
	id, vintage, source, method, period string
	value                               *float64
	suppressed                          bool
	rank                                *int
	ranked                              int
}

type comparatorRow struct {
	num, value *float64
	suppressed bool
}

// Profile reads one neighbourhood's profile, or ErrNotFound. vintage picks
// the vintage shown as each indicator's value where it has one ("" is the
// latest each small area has); every vintage is in the trend.
func (s *Store) Profile(ctx context.Context, set, code, vintage string) (Profile, error) {
	p, stale, err := s.profile(ctx, set, code, vintage, true)
	if stale {
		// The neighbourhood is not in the borough the kept figures were
		// kept for: the data moved under the request. Read them all.
		p, _, err = s.profile(ctx, set, code, vintage, false)
	}
	return p, err
}

// profile reads a profile; with kept, it takes what profileScopes holds
// for the neighbourhood's borough instead of reading it. stale reports
// that kept figures were used for another borough than the one read (the
// profile is then wrong, and is to be read again without them).
func (s *Store) profile(ctx context.Context, set, code, vintage string, kept bool) (p Profile, stale bool, err error) {
	cat, err := s.indicatorCatalogue(ctx)
	if err != nil {
		return Profile{}, false, fmt.Errorf("profile: %w", err)
	}
	var sc scopeFigures
	keptLad := ""
	if kept {
		scopes, err := s.scopes.get(ctx, s.Version(), s.loadProfileScopes)
		if err != nil {
			return Profile{}, false, fmt.Errorf("profile: %w", err)
		}
		var known bool
		if keptLad, known = scopes.lads[[2]string{set, code}]; known {
			sc = scopes.lookup(set, keptLad)
		}
	}
	c, err := s.public.acquire(ctx)
	if err != nil {
		return Profile{}, false, fmt.Errorf("profile: %w", err)
	}
	defer c.Release()
	p = Profile{Set: set, Code: code, Vintage: vintage}
	// Every read takes the set and code alone (the borough, region and
	// combined authority come from the neighbourhood's row in SQL), so all
	// of them go to PostgreSQL in one round trip: on England a profile is
	// five small reads, and their round trips cost more than their work.
	// The indicator catalogue is read once per data version, and what
	// depends only on the neighbourhood's borough once per data version and
	// borough (profileScopes).
	var (
		found                                                          bool
		lad, boroughName, regionCode, regionName, cauthCode, cauthName *string
		values                                                         []indicatorRow
		settingRows                                                    []settingRow
	)
	usedKept := sc.comps != nil || sc.sizes != nil || sc.settings != nil
	b := &pgx.Batch{}
	b.Queue(`SELECT n.name, coalesce(n.worst_domain, ''), n.small_areas, n.official_area_share::float8,
		n.official_population_share::float8, n.lad_code, b.name, b.region_code, b.region_name, b.cauth_code, b.cauth_name
		FROM api.neighbourhoods n LEFT JOIN api.boroughs b ON b.code = n.lad_code
		WHERE n.set_id = $1 AND n.code = $2`, set, code).QueryRow(func(r pgx.Row) error {
		err := r.Scan(&p.Name, &p.WorstDomain, &p.Geography.SmallAreas, &p.Geography.AreaShare, &p.Geography.PeopleShare,
			&lad, &boroughName, &regionCode, &regionName, &cauthCode, &cauthName)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	b.Queue(`SELECT indicator, vintage, value::float8, suppressed, source, method, period, rank, coalesce(ranked, 0)
		FROM api.neighbourhood_indicators WHERE set_id = $1 AND code = $2`, set, code).Query(func(rows pgx.Rows) (err error) {
		values, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (indicatorRow, error) {
			var v indicatorRow
			err := r.Scan(&v.id, &v.vintage, &v.value, &v.suppressed, &v.source, &v.method, &v.period, &v.rank, &v.ranked)
			return v, err
		})
		return err
	})
	// Comparators: the neighbourhood's borough, region, combined authority
	// and England.
	if sc.comps == nil {
		comps := &scopeComparators{rows: map[string]map[[2]string]comparatorRow{}, coverage: map[string]string{}}
		sc.comps = comps
		b.Queue(`SELECT s.scope, c.indicator, c.vintage, c.num::float8, c.value::float8, c.suppressed, c.coverage
		FROM api.neighbourhoods n LEFT JOIN api.boroughs b ON b.code = n.lad_code
		CROSS JOIN LATERAL (VALUES ('borough', n.lad_code), ('region', b.region_code), ('cauth', b.cauth_code),
		                           ('england', 'E92000001')) s(scope, scope_code)
		JOIN api.comparators c ON c.scope = s.scope AND c.scope_code = s.scope_code
		WHERE n.set_id = $1 AND n.code = $2`, set, code).Query(func(rows pgx.Rows) error {
			var scope, ind, vin, cov string
			var cr comparatorRow
			_, err := pgx.ForEachRow(rows, []any{&scope, &ind, &vin, &cr.num, &cr.value, &cr.suppressed, &cov}, func() error {
				if comps.rows[scope] == nil {
					comps.rows[scope] = map[[2]string]comparatorRow{}
				}
				comps.rows[scope][[2]string{ind, vin}] = cr
				if coverageRow(ind, vin) {
					comps.coverage[scope] = cov
				}
				return nil
			})
			return err
		})
	}
	// How many of the set's neighbourhoods each of those areas has.
	if sc.sizes == nil {
		sizes := map[string]int{}
		sc.sizes = sizes
		b.Queue(`WITH x AS (SELECT n.lad_code, b.region_code, b.cauth_code FROM api.neighbourhoods n
		  LEFT JOIN api.boroughs b ON b.code = n.lad_code WHERE n.set_id = $1 AND n.code = $2)
		SELECT 'borough', sum(z.neighbourhoods)::integer FROM api.set_sizes z JOIN x ON z.lad_code = x.lad_code WHERE z.set_id = $1
		UNION ALL SELECT 'region', sum(z.neighbourhoods)::integer FROM api.set_sizes z
		  JOIN x ON z.region_code = x.region_code WHERE z.set_id = $1
		UNION ALL SELECT 'cauth', sum(z.neighbourhoods)::integer FROM api.set_sizes z
		  JOIN x ON z.cauth_code = x.cauth_code WHERE z.set_id = $1
		UNION ALL SELECT 'england', sum(neighbourhoods)::integer FROM api.set_sizes WHERE set_id = $1 AND lad_code LIKE 'E%'`,
			set, code).Query(func(rows pgx.Rows) error {
			var scope string
			var n *int
			_, err := pgx.ForEachRow(rows, []any{&scope, &n}, func() error {
				sizes[scope] = deref(n)
				return nil
			})
			return err
		})
	}
	// The borough's settings and England's, to fall back on.
	if sc.settings == nil {
		b.Queue(`SELECT t.borough, t.key, t.value FROM api.settings t
		WHERE t.borough = '' OR t.borough = (SELECT n.lad_code FROM api.neighbourhoods n WHERE n.set_id = $1 AND n.code = $2)`,
			set, code).Query(func(rows pgx.Rows) (err error) {
			settingRows, err = pgx.CollectRows(rows, pgx.RowToStructByPos[settingRow])
			return err
		})
	}
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		return p, false, fmt.Errorf("read profile: %w", err)
	}
	if !found {
		return p, false, ErrNotFound
	}
	p.Borough = Area{Code: deref(lad), Name: deref(boroughName)}
	if usedKept && p.Borough.Code != keptLad {
		return p, true, nil
	}
	if p.Borough.Name == "" {
		p.Borough.Name = p.Borough.Code
	}
	if regionCode != nil {
		p.Region = &Area{Code: *regionCode, Name: deref(regionName)}
	}
	if cauthCode != nil {
		p.Cauth = &Area{Code: *cauthCode, Name: deref(cauthName)}
	}
	p.Geography.DrawnAs = fmt.Sprintf("the union of its %d small areas: the area these figures describe", p.Geography.SmallAreas)
	if sc.settings == nil {
		if sc.settings, err = settingsOf(settingRows, p.Borough.Code); err != nil {
			return p, false, err
		}
	}
	p.Comparators = comparatorInfo(p, set, sc.sizes, sc.comps.coverage)
	p.Indicators = assemble(cat, values, sc.comps.rows, sc.sizes, sc.settings, vintage)
	return p, false, nil
}

// profileScopes is what profiles read about a neighbourhood's surroundings
// rather than about the neighbourhood, for one data version: the borough
// of every neighbourhood, each borough's comparators (its own, its
// region's, its combined authority's and England's) and settings, and
// each set's neighbourhood counts in those areas, all read at the
// version's first profile (readScopeFigures). Every neighbourhood of a set
// in a borough has the same; reading them was three of a profile's five
// statements and most of PostgreSQL's time per profile on England. Never
// changed once loaded: profiles only read them, without a lock.
type profileScopes struct {
	lads   map[[2]string]string         // (set, code): the neighbourhood's borough, "" for none
	byLad  map[string]scopeFigures      // comparators and settings, by borough
	bySize map[[2]string]map[string]int // sizes, by set and borough
}

// scopeFigures are the figures a profile takes from its borough's: nil
// when not kept (then the profile reads them itself).
type scopeFigures struct {
	comps    *scopeComparators
	sizes    map[string]int // neighbourhoods of the set in each scope
	settings Settings
}

// scopeComparators are a borough's comparator rows by scope and
// (indicator, vintage), and each scope's coverage.
type scopeComparators struct {
	rows     map[string]map[[2]string]comparatorRow
	coverage map[string]string
}

// interner returns one copy of each string it is given: the figures kept
// per version repeat a few hundred boroughs and indicator ids across
// thousands of rows, each scanned into a string of its own.
func interner() func(string) string {
	seen := map[string]string{}
	return func(s string) string {
		if v, ok := seen[s]; ok {
			return v
		}
		seen[s] = s
		return s
	}
}

// Warm reads what requests keep per data version (the layer and indicator
// catalogues, every borough's profile figures) for the current version,
// so the first requests after a start or an import need not wait for it.
func (s *Store) Warm(ctx context.Context) error {
	if _, err := s.Catalogue(ctx); err != nil {
		return fmt.Errorf("warm: %w", err)
	}
	if _, err := s.indicatorCatalogue(ctx); err != nil {
		return fmt.Errorf("warm: %w", err)
	}
	if _, err := s.scopes.get(ctx, s.Version(), s.loadProfileScopes); err != nil {
		return fmt.Errorf("warm: %w", err)
	}
	return nil
}

// loadProfileScopes reads where every neighbourhood is, for a new data
// version: 13,700 rows on England, once.
func (s *Store) loadProfileScopes(ctx context.Context) (*profileScopes, error) {
	rows, err := s.public.Query(ctx, "SELECT set_id, code, coalesce(lad_code, '') FROM api.neighbourhoods")
	if err != nil {
		return nil, fmt.Errorf("read neighbourhoods' boroughs: %w", err)
	}
	ps := &profileScopes{lads: map[[2]string]string{}, byLad: map[string]scopeFigures{}, bySize: map[[2]string]map[string]int{}}
	var set, code, lad string
	intern := interner()
	if _, err := pgx.ForEachRow(rows, []any{&set, &code, &lad}, func() error {
		ps.lads[[2]string{intern(set), code}] = intern(lad)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read neighbourhoods' boroughs: %w", err)
	}
	if err := s.readScopeFigures(ctx, ps); err != nil {
		return nil, fmt.Errorf("read boroughs' figures: %w", err)
	}
	return ps, nil
}

// readScopeFigures fills ps with every borough's figures at once (four
// statements, 14,000 rows on England), so that no profile of the version
// reads them: read borough by borough, the first profile of each borough
// read them itself, and a run of profiles over many boroughs had its p99
// among those. Each figure is what the profile's own statement for it
// selects (comparators by the neighbourhood's borough, and that borough's
// region and combined authority in api.boroughs; counts summed from
// api.set_sizes; settings of ” and the borough), which
// TestProfilesWithKeptBoroughFiguresMatchRead checks profile by profile.
func (s *Store) readScopeFigures(ctx context.Context, ps *profileScopes) error {
	type scopeKey struct{ scope, code string }
	type place struct{ region, cauth *string }
	byScope := map[scopeKey]map[[2]string]comparatorRow{}
	coverage := map[scopeKey]string{}
	intern := interner()
	places := map[string]place{}
	type sizeRow struct {
		set                string
		lad, region, cauth *string
		neighbourhoods     int
	}
	var sizes []sizeRow
	var settingRows []settingRow
	c, err := s.public.acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	b := &pgx.Batch{}
	b.Queue(`SELECT scope, scope_code, indicator, vintage, num::float8, value::float8, suppressed, coverage FROM api.comparators`).Query(func(rows pgx.Rows) error {
		var k scopeKey
		var ind, vin, cov string
		var cr comparatorRow
		_, err := pgx.ForEachRow(rows, []any{&k.scope, &k.code, &ind, &vin, &cr.num, &cr.value, &cr.suppressed, &cov}, func() error {
			if byScope[k] == nil {
				byScope[k] = map[[2]string]comparatorRow{}
			}
			byScope[k][[2]string{intern(ind), intern(vin)}] = cr
			if coverageRow(ind, vin) {
				coverage[k] = cov
			}
			return nil
		})
		return err
	})
	b.Queue(`SELECT code, region_code, cauth_code FROM api.boroughs`).Query(func(rows pgx.Rows) error {
		var code string
		var pl place
		_, err := pgx.ForEachRow(rows, []any{&code, &pl.region, &pl.cauth}, func() error {
			places[code] = pl
			return nil
		})
		return err
	})
	b.Queue(`SELECT set_id, lad_code, region_code, cauth_code, neighbourhoods FROM api.set_sizes`).Query(func(rows pgx.Rows) error {
		var r sizeRow
		_, err := pgx.ForEachRow(rows, []any{&r.set, &r.lad, &r.region, &r.cauth, &r.neighbourhoods}, func() error {
			sizes = append(sizes, r)
			return nil
		})
		return err
	})
	b.Queue(`SELECT borough, key, value FROM api.settings`).Query(func(rows pgx.Rows) (err error) {
		settingRows, err = pgx.CollectRows(rows, pgx.RowToStructByPos[settingRow])
		return err
	})
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	// Neighbourhood counts by set and scope, summed in one pass (a borough,
	// region or combined authority without a code counts none).
	type sumKey struct{ set, scope, code string }
	sums := map[sumKey]int{}
	for _, r := range sizes {
		for _, sc := range [...]struct {
			scope string
			code  *string
		}{{"borough", r.lad}, {"region", r.region}, {"cauth", r.cauth}} {
			if sc.code != nil && *sc.code != "" {
				sums[sumKey{r.set, sc.scope, *sc.code}] += r.neighbourhoods
			}
		}
		if r.lad != nil && strings.HasPrefix(*r.lad, "E") {
			sums[sumKey{r.set, "england", ""}] += r.neighbourhoods
		}
	}
	parsed := map[string]Settings{}
	for k, lad := range ps.lads {
		set := k[0]
		if _, ok := ps.bySize[[2]string{set, lad}]; ok {
			continue
		}
		pl := places[lad] // a borough not in api.boroughs has no region or combined authority
		region, cauth := deref(pl.region), deref(pl.cauth)
		if _, ok := ps.byLad[lad]; !ok {
			comps := &scopeComparators{rows: map[string]map[[2]string]comparatorRow{}, coverage: map[string]string{}}
			for scope, code := range map[string]string{"borough": lad, "region": region, "cauth": cauth, "england": "E92000001"} {
				sk := scopeKey{scope, code}
				if code == "" || byScope[sk] == nil {
					continue
				}
				comps.rows[scope] = byScope[sk]
				if cov, ok := coverage[sk]; ok {
					comps.coverage[scope] = cov
				}
			}
			var own []settingRow
			for _, r := range settingRows {
				if r.Borough == "" || (lad != "" && r.Borough == lad) {
					own = append(own, r)
				}
			}
			// Boroughs whose settings read the same share one parse (read-only).
			key := settingsKey(own, lad)
			settings, ok := parsed[key]
			if !ok {
				var err error
				if settings, err = settingsOf(own, lad); err != nil {
					return err
				}
				parsed[key] = settings
			}
			ps.byLad[lad] = scopeFigures{comps: comps, settings: settings}
		}
		// A missing key counts 0, and no key has an empty code.
		n := map[string]int{
			"borough": sums[sumKey{set, "borough", lad}],
			"region":  sums[sumKey{set, "region", region}],
			"cauth":   sums[sumKey{set, "cauth", cauth}],
			"england": sums[sumKey{set, "england", ""}],
		}
		ps.bySize[[2]string{set, lad}] = n
	}
	return nil
}

// lookup is what is kept for set's neighbourhoods in borough lad. The
// comparators and settings are the borough's whatever the set.
func (ps *profileScopes) lookup(set, lad string) scopeFigures {
	f := ps.byLad[lad]
	f.sizes = ps.bySize[[2]string{set, lad}]
	return f
}

// coverageRow says whether a comparator row carries its area's coverage:
// the population of the latest vintage.
func coverageRow(indicator, vintage string) bool { return indicator == "population" && vintage == "" }

// comparatorInfo says what each comparator column is, in words.
func comparatorInfo(p Profile, set string, sizes map[string]int, coverage map[string]string) map[string]ComparatorInfo {
	out := map[string]ComparatorInfo{}
	add := func(scope, name string) {
		out[scope] = ComparatorInfo{
			Label:    fmt.Sprintf("%s average %s neighbourhood", name, set),
			Counts:   fmt.Sprintf("counts: the %s total divided by its %d %s neighbourhoods (the average neighbourhood)", name, sizes[scope], set),
			Rates:    fmt.Sprintf("rates and percentages: %s's own rate", name),
			Coverage: coverage[scope],
		}
	}
	add("borough", p.Borough.Name)
	if p.Region != nil {
		add("region", p.Region.Name)
	}
	if p.Cauth != nil {
		add("cauth", p.Cauth.Name)
	}
	add("england", "England")
	return out
}

// assemble builds the profile's indicators in the catalogue's order:
// every indicator the neighbourhood or its borough has, families (asset
// categories, school phases) in name order, each with its comparators and,
// where it has several vintages, its trend.
func assemble(cat []catalogueEntry, values []indicatorRow, comps map[string]map[[2]string]comparatorRow,
	sizes map[string]int, settings Settings, vintage string) []Indicator {
	byID := map[string]map[string]indicatorRow{}
	for _, v := range values {
		if byID[v.id] == nil {
			byID[v.id] = map[string]indicatorRow{}
		}
		byID[v.id][v.vintage] = v
	}
	ids := map[string]bool{}
	for id := range byID {
		ids[id] = true
	}
	// A family member the borough has and the neighbourhood lacks is a zero.
	for key := range comps["borough"] {
		if strings.Contains(key[0], ":") && key[1] == "" {
			ids[key[0]] = true
		}
	}
	type ordered struct {
		id    string
		entry catalogueEntry
		known bool
		det   string
	}
	var list []ordered
	for id := range ids {
		e, det, ok := entryFor(cat, id)
		list = append(list, ordered{id, e, ok, det})
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.known != b.known {
			return a.known // catalogued first; the rest after, by id
		}
		if a.entry.position != b.entry.position {
			return a.entry.position < b.entry.position
		}
		return a.id < b.id
	})
	out := make([]Indicator, 0, len(list))
	for _, o := range list {
		kind, label, desc, group := o.entry.kind, o.entry.label, o.entry.description, o.entry.group
		if !o.known {
			kind, label, group = "count", o.id, "other"
		}
		detail := strings.ReplaceAll(o.det, "_", " ")
		label = strings.ReplaceAll(label, "{detail}", detail)
		desc = strings.ReplaceAll(desc, "{detail}", detail)
		vins := byID[o.id]
		row, ok := vins[vintage]
		shown := vintage
		if !ok {
			row, shown = vins[""], ""
		}
		if row.id == "" && strings.Contains(o.id, ":") {
			zero := 0.0
			row = indicatorRow{id: o.id, value: &zero}
		}
		vinText := shown
		if vinText == "" {
			vinText = latestVintage(vins)
		}
		ind := Indicator{ID: o.id, Group: group, Label: label, Unit: kind,
			Description: describe(strings.ReplaceAll(desc, "{vintage}", orLatest(vinText)), settings),
			Vintage:     shown, Value: row.value, Suppressed: row.suppressed, Source: row.source, Method: row.method,
			Period: row.period, Rank: row.rank, Of: row.ranked}
		for _, scope := range []string{"borough", "region", "cauth", "england"} {
			m, ok := comps[scope]
			if !ok {
				continue
			}
			cr, has := m[[2]string{o.id, shown}]
			if !has {
				cr, has = m[[2]string{o.id, ""}]
			}
			var cmp *Comparator
			if has {
				cmp = compare(kind, ind.Value, cr, sizes[scope])
			} else {
				cmp = &Comparator{}
			}
			switch scope {
			case "borough":
				ind.Borough = cmp
			case "region":
				ind.Region = cmp
			case "cauth":
				ind.Cauth = cmp
			case "england":
				ind.England = cmp
			}
		}
		ind.Trend = trend(kind, vins)
		out = append(out, ind)
	}
	return out
}

func orLatest(v string) string {
	if v == "" {
		return "latest release loaded"
	}
	return v
}

// latestVintage is the last of an indicator's named vintages.
func latestVintage(vins map[string]indicatorRow) string {
	var names []string
	for v := range vins {
		if v != "" {
			names = append(names, v)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sortVintages(names)
	return names[len(names)-1]
}

// sortVintages orders vintages oldest first: IoD releases by year,
// periods by the year they name ("mid-2017" before "mid-2022").
func sortVintages(v []string) {
	year := func(s string) string {
		for i := 0; i+4 <= len(s); i++ {
			if isDigits(s[i : i+4]) {
				return s[i:]
			}
		}
		return s
	}
	// Stable, and census before mid-year at the same year: census day (21
	// March) comes before 30 June.
	sort.SliceStable(v, func(i, j int) bool {
		if yi, yj := year(v[i]), year(v[j]); yi != yj {
			return yi < yj
		}
		ci, cj := strings.HasPrefix(v[i], "census"), strings.HasPrefix(v[j], "census")
		if ci != cj {
			return ci
		}
		return v[i] < v[j]
	})
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// trend lists an indicator's named vintages when it has two or more.
func trend(kind string, vins map[string]indicatorRow) *Trend {
	var names []string
	for v := range vins {
		if v != "" {
			names = append(names, v)
		}
	}
	if len(names) < 2 {
		return nil
	}
	sortVintages(names)
	t := &Trend{}
	for _, n := range names {
		t.Points = append(t.Points, TrendPoint{Vintage: n, Value: vins[n].value})
	}
	first, last := t.Points[0].Value, t.Points[len(t.Points)-1].Value
	if first != nil && last != nil {
		t.Change = round2(*last - *first)
		if kind == "count" && *first != 0 {
			t.ChangePct = round2(100 * (*last - *first) / *first)
		}
	}
	return t
}

// compare sets a comparator's value (a count's is the area's average
// neighbourhood) and the neighbourhood's difference and index against it.
func compare(kind string, value *float64, cr comparatorRow, neighbourhoods int) *Comparator {
	c := &Comparator{Suppressed: cr.suppressed}
	if kind == "count" {
		c.Total = cr.num
		if cr.num != nil && neighbourhoods > 0 {
			c.Value = round2(*cr.num / float64(neighbourhoods))
		}
	} else {
		c.Value = cr.value
	}
	if value != nil && c.Value != nil {
		c.Difference = round2(*value - *c.Value)
		if *c.Value != 0 {
			c.Index = round1(100 * *value / *c.Value)
		}
	}
	return c
}

func round2(v float64) *float64 {
	r := math.Round(v*100) / 100
	return &r
}

func round1(v float64) *float64 {
	r := math.Round(v*10) / 10
	return &r
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// indicatorCatalogue is the profile's indicators, in order, read once per
// data version. Call it before acquiring a connection (versioned.get).
func (s *Store) indicatorCatalogue(ctx context.Context) ([]catalogueEntry, error) {
	return s.indicatorCat.get(ctx, s.Version(), func(ctx context.Context) ([]catalogueEntry, error) {
		rows, err := s.public.Query(ctx, "SELECT id, kind, label, description, grp, position FROM api.indicators ORDER BY position")
		if err != nil {
			return nil, fmt.Errorf("read indicator catalogue: %w", err)
		}
		out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalogueEntry, error) {
			var e catalogueEntry
			err := r.Scan(&e.id, &e.kind, &e.label, &e.description, &e.group, &e.position)
			return e, err
		})
		if err != nil {
			return nil, fmt.Errorf("read indicator catalogue: %w", err)
		}
		return out, nil
	})
}

// IndicatorInfo describes one indicator for clients choosing what to map.
type IndicatorInfo struct {
	ID          string `json:"id"`
	Group       string `json:"group"`
	Label       string `json:"label"`
	Description string `json:"description"`
	Unit        string `json:"unit"`
}

// Indicators lists the catalogue, with England's settings filled in.
func (s *Store) Indicators(ctx context.Context) ([]IndicatorInfo, error) {
	cat, err := s.indicatorCatalogue(ctx)
	if err != nil {
		return nil, err
	}
	settings, err := s.defaultSettings(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]IndicatorInfo, len(cat))
	for i, e := range cat {
		out[i] = IndicatorInfo{ID: e.id, Group: e.group, Label: e.label, Unit: e.kind,
			Description: describe(strings.ReplaceAll(e.description, "{vintage}", "latest release loaded"), settings)}
	}
	return out, nil
}

// BoroughSummary is one loaded borough, as /boroughs lists it.
type BoroughSummary struct {
	Code              string   `json:"code"`
	Name              string   `json:"name"`
	Region            *Area    `json:"region"`
	Cauth             *Area    `json:"combined_authority"`
	SmallAreas        int      `json:"small_areas"`
	Population        int      `json:"population"`
	NeighbourhoodSets []string `json:"neighbourhood_sets"`
	Vintages          []string `json:"vintages"`
}

// Boroughs lists the boroughs that have small areas loaded, with the data
// vintages loaded for each ("imd 2019", "population mid-2022", ...).
func (s *Store) Boroughs(ctx context.Context) ([]BoroughSummary, error) {
	rows, err := s.public.Query(ctx, `SELECT b.code, b.name, b.region_code, b.region_name, b.cauth_code, b.cauth_name,
		b.small_areas, b.population, b.neighbourhood_sets,
		ARRAY(SELECT DISTINCT d.kind || CASE WHEN d.vintage <> '' THEN ' ' || d.vintage ELSE '' END
		      FROM api.datasets d WHERE b.code = ANY(d.boroughs) ORDER BY 1)
		FROM api.boroughs b ORDER BY b.code`)
	if err != nil {
		return nil, fmt.Errorf("list boroughs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BoroughSummary, error) {
		var b BoroughSummary
		var rc, rn, cc, cn *string
		err := r.Scan(&b.Code, &b.Name, &rc, &rn, &cc, &cn, &b.SmallAreas, &b.Population, &b.NeighbourhoodSets, &b.Vintages)
		if rc != nil {
			b.Region = &Area{Code: *rc, Name: deref(rn)}
		}
		if cc != nil {
			b.Cauth = &Area{Code: *cc, Name: deref(cn)}
		}
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("list boroughs: %w", err)
	}
	return out, nil
}

// BoroughProfile is a borough's own figures against its region, combined
// authority and England (counts against the average borough loaded there).
type BoroughProfile struct {
	BoroughSummary
	Comparators map[string]ComparatorInfo `json:"comparators"`
	Indicators  []Indicator               `json:"indicators"`
}

// BoroughProfile reads one borough's profile, or ErrNotFound.
func (s *Store) BoroughProfile(ctx context.Context, lad string) (BoroughProfile, error) {
	all, err := s.Boroughs(ctx)
	if err != nil {
		return BoroughProfile{}, err
	}
	var p BoroughProfile
	found := false
	for _, b := range all {
		if b.Code == lad {
			p.BoroughSummary, found = b, true
		}
	}
	if !found {
		return p, ErrNotFound
	}
	cat, err := s.indicatorCatalogue(ctx)
	if err != nil {
		return p, err
	}
	c, err := s.public.acquire(ctx)
	if err != nil {
		return p, fmt.Errorf("borough profile: %w", err)
	}
	defer c.Release()
	read := func(scope, code string) (map[[2]string]comparatorRow, []indicatorRow, string, error) {
		rows, err := c.Query(ctx, `SELECT indicator, vintage, num::float8, value::float8, suppressed, source, method, period, coverage
			FROM api.comparators WHERE scope = $1 AND scope_code = $2`, scope, code)
		if err != nil {
			return nil, nil, "", fmt.Errorf("read comparators: %w", err)
		}
		m := map[[2]string]comparatorRow{}
		var list []indicatorRow
		var cov string
		var ir indicatorRow
		var cr comparatorRow
		var c2 string
		_, err = pgx.ForEachRow(rows, []any{&ir.id, &ir.vintage, &cr.num, &cr.value, &cr.suppressed, &ir.source, &ir.method, &ir.period, &c2},
			func() error {
				m[[2]string{ir.id, ir.vintage}] = cr
				row := ir
				row.value, row.suppressed = cr.value, cr.suppressed
				list = append(list, row)
				if ir.id == "population" && ir.vintage == "" {
					cov = c2
				}
				return nil
			})
		if err != nil {
			return nil, nil, "", fmt.Errorf("read comparators: %w", err)
		}
		return m, list, cov, nil
	}
	_, own, _, err := read("borough", lad)
	if err != nil {
		return p, err
	}
	comps := map[string]map[[2]string]comparatorRow{}
	coverage := map[string]string{}
	sizes := map[string]int{}
	scopes := map[string]*Area{"region": p.Region, "cauth": p.Cauth, "england": {Code: "E92000001", Name: "England"}}
	for scope, a := range scopes {
		if a == nil {
			continue
		}
		m, _, cov, err := read(scope, a.Code)
		if err != nil {
			return p, err
		}
		comps[scope], coverage[scope] = m, cov
		for _, b := range all {
			switch {
			case scope == "england" && strings.HasPrefix(b.Code, "E"),
				scope == "region" && b.Region != nil && b.Region.Code == a.Code,
				scope == "cauth" && b.Cauth != nil && b.Cauth.Code == a.Code:
				sizes[scope]++
			}
		}
	}
	settings, err := readSettings(ctx, c, lad)
	if err != nil {
		return p, err
	}
	p.Indicators = assemble(cat, own, comps, sizes, settings, "")
	p.Comparators = map[string]ComparatorInfo{}
	for scope, a := range scopes {
		if a == nil {
			continue
		}
		p.Comparators[scope] = ComparatorInfo{
			Label:    a.Name,
			Counts:   fmt.Sprintf("counts: the %s total divided by its %d loaded boroughs (the average borough)", a.Name, sizes[scope]),
			Rates:    fmt.Sprintf("rates and percentages: %s's own rate", a.Name),
			Coverage: coverage[scope],
		}
	}
	return p, nil
}
