package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"nbhd/data"
)

func setErr(err error, set string) error {
	if errors.Is(err, data.ErrNoSet) {
		return notFound("no neighbourhood set %q; see /neighbourhoods", set)
	}
	return err
}

// neighbourhoodSets lists the sets.
func (s *Server) neighbourhoodSets(c *gin.Context) error {
	cat, err := s.store.Catalogue(c.Request.Context())
	if err != nil {
		return err
	}
	if _, err := negotiate(c, fJSON); err != nil {
		return err
	}
	if s.conditional(c, fJSON) {
		return nil
	}
	var sets []map[string]any
	for _, l := range cat.Layers {
		if l.SetID != "" {
			if strings.HasSuffix(l.ID, "-boundary") {
				continue
			}
			sets = append(sets, map[string]any{"id": l.SetID, "title": strings.TrimPrefix(l.Title, "Neighbourhoods: "),
				"neighbourhoods": cat.Info[l.ID].Count, "href": s.baseURL(c) + "/neighbourhoods/" + l.SetID,
				"collection": l.ID})
		}
	}
	return writeJSON(c, fJSON, map[string]any{"sets": sets})
}

// neighbourhoods lists a set's neighbourhoods with headline indicators.
func (s *Server) neighbourhoods(c *gin.Context) error {
	set := c.Param("set")
	f, done, err := s.setRequest(c, set, "borough")
	if err != nil || done {
		return err
	}
	boroughs, err := boroughList(c)
	if err != nil {
		return err
	}
	links := []link{{Href: s.baseURL(c) + "/collections/neighbourhoods-" + set, Rel: "related", Type: "application/json", Title: "The neighbourhoods as features"}}
	ctx := c.Request.Context()
	if f == fCSV {
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-neighbourhoods.csv"`, set))
		b := newBody(c, fCSV)
		w := newCSVWriter(b)
		var rec []string
		err := s.store.Headlines(ctx, set, boroughs, func(r data.Row) error {
			if rec == nil {
				rec = make([]string, len(r.Columns))
				if err := w.Write(r.Columns); err != nil {
					return err
				}
			}
			for i, v := range r.Values {
				rec[i] = cellText(v)
			}
			return w.Write(rec)
		})
		if err != nil {
			return err
		}
		return closeCSV(w, b)
	}
	// Members in encoding/json's order: links, neighbourhoods, notes, set.
	b := newBody(c, fJSON)
	o := newJSONObject(b)
	o.value("links", links)
	add, end := o.rows("neighbourhoods")
	if err := s.store.Headlines(ctx, set, boroughs, add); err != nil {
		return err
	}
	end()
	o.value("notes", demandNotes)
	o.value("set", set)
	if err := o.close(); err != nil {
		return err
	}
	return b.Close()
}

// boroughList reads ?borough=CODE[,CODE…] for the neighbourhood lists;
// nil (every borough) without it.
func boroughList(c *gin.Context) ([]string, error) {
	raw, ok := c.GetQuery("borough")
	if !ok {
		return nil, nil
	}
	var codes []string
	for _, code := range strings.Split(raw, ",") {
		if code = strings.TrimSpace(code); code != "" {
			codes = append(codes, code)
		}
	}
	if _, err := data.BoroughPredicate(codes); err != nil || len(codes) == 0 {
		return nil, badRequest("borough: give one or more local authority district codes, e.g. borough=E08000010 (see /boroughs)")
	}
	return codes, nil
}

// closeCSV flushes a CSV writer and sends its body.
func closeCSV(w *csvWriter, b *body) error {
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return b.Close()
}

var demandNotes = []string{
	"Demand counts are recorded (the council's aggregated counts, rounded to the nearest 5; counts of 1-9, and counts that could be worked out from others, are withheld: suppressed=true) or estimated (a model of IMD 2019 deprivation and population; see docs/methodology.md), as demand_source says.",
	"Access measures are straight-line distances from postcode centroids (OS Code-Point Open), not travel distances.",
}

// setRequest starts a public request about a neighbourhood set: the set
// must exist, the format be one of JSON or CSV, and the parameters known.
// done is true when a 304 has answered it.
func (s *Server) setRequest(c *gin.Context, set string, allowed ...string) (f format, done bool, err error) {
	if err := s.store.CheckSet(c.Request.Context(), set); err != nil {
		return "", false, setErr(err, set)
	}
	if f, err = negotiate(c, fJSON, fCSV); err != nil {
		return "", false, err
	}
	if err := noParams(c, append(allowed, "f")...); err != nil {
		return "", false, err
	}
	return f, s.conditional(c, f), nil
}

// noParams refuses any query parameter not in allowed, as items does.
func noParams(c *gin.Context, allowed ...string) error {
	for k := range c.Request.URL.Query() {
		if !isOneOf(k, allowed) {
			if len(allowed) == 0 {
				return badRequest("unknown parameter %q: this resource takes no parameters", k)
			}
			return badRequest("unknown parameter %q (this resource takes %s)", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// profile serves one neighbourhood's full profile as JSON or CSV: every
// indicator in the catalogue's order with its borough, region, combined
// authority and England comparators and, where it has several vintages,
// its trend. JSON and CSV carry the same indicators.
func (s *Server) profile(c *gin.Context) error {
	set, code := c.Param("set"), c.Param("code")
	f, done, err := s.setRequest(c, set, "vintage")
	if err != nil || done {
		return err
	}
	p, err := s.store.Profile(c.Request.Context(), set, code, c.Query("vintage"))
	if errors.Is(err, data.ErrNotFound) {
		return notFound("no neighbourhood %q in set %s", code, set)
	}
	if err != nil {
		return err
	}
	if f == fCSV {
		c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="%s-%s.csv"`, set, code))
		return s.indicatorsCSV(c, []string{"set", "code", "name"}, []string{set, code, p.Name}, p.Indicators)
	}
	base := s.baseURL(c)
	return writeJSON(c, fJSON, profileDoc{Profile: p, Notes: demandNotes, Links: []link{
		{Href: base + "/neighbourhoods/" + set + "/" + code, Rel: "self", Type: "application/json"},
		{Href: base + "/neighbourhoods/" + set + "/" + code + "?f=csv", Rel: "alternate", Type: "text/csv"},
		{Href: base + "/collections/neighbourhoods-" + set + "/items/" + code, Rel: "related", Type: "application/geo+json", Title: "The area the figures describe"},
		{Href: base + "/boroughs/" + p.Borough.Code, Rel: "up", Type: "application/json", Title: "The borough"},
	}})
}

// profileDoc is a profile with its notes and links.
type profileDoc struct {
	data.Profile
	Notes []string `json:"notes"`
	Links []link   `json:"links"`
}

// indicatorsCSV writes indicators one per row (and one row per further
// vintage of those with a trend), after the given leading columns.
func (s *Server) indicatorsCSV(c *gin.Context, lead, values []string, inds []data.Indicator) error {
	b := newBody(c, fCSV)
	w := newCSVWriter(b)
	header := append(append([]string(nil), lead...), "indicator", "group", "label", "description", "unit", "vintage", "value", "suppressed",
		"source", "method", "period", "rank", "of")
	scopes := []string{"borough", "region", "combined_authority", "england"}
	for _, sc := range scopes {
		header = append(header, sc+"_value", sc+"_total", sc+"_difference", sc+"_index")
	}
	if err := w.Write(header); err != nil {
		return err
	}
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return cellText(*v)
	}
	for _, i := range inds {
		rank := ""
		if i.Rank != nil {
			rank = fmt.Sprint(*i.Rank)
		}
		rec := append(append([]string(nil), values...), i.ID, i.Group, i.Label, i.Description, i.Unit, i.Vintage, num(i.Value),
			fmt.Sprint(i.Suppressed), i.Source, i.Method, i.Period, rank, fmt.Sprint(i.Of))
		for _, cmp := range []*data.Comparator{i.Borough, i.Region, i.Cauth, i.England} {
			if cmp == nil {
				rec = append(rec, "", "", "", "")
				continue
			}
			rec = append(rec, num(cmp.Value), num(cmp.Total), num(cmp.Difference), num(cmp.Index))
		}
		if err := w.Write(rec); err != nil {
			return err
		}
		if i.Trend == nil {
			continue
		}
		for _, pt := range i.Trend.Points {
			if pt.Vintage == i.Vintage {
				continue
			}
			rec := append(append([]string(nil), values...), i.ID, i.Group, i.Label, i.Description, i.Unit, pt.Vintage, num(pt.Value),
				"false", "", "", "", "", "")
			rec = append(rec, make([]string, 4*len(scopes))...)
			if err := w.Write(rec); err != nil {
				return err
			}
		}
	}
	return closeCSV(w, b)
}

// assetGaps ranks neighbourhoods and small areas by demand per community
// asset and by access shortfall.
func (s *Server) assetGaps(c *gin.Context) error {
	set := c.Query("set")
	if set == "" {
		return badRequest("set is required, e.g. ?set=ward (see /neighbourhoods)")
	}
	f, done, err := s.setRequest(c, set, "set", "borough")
	if err != nil || done {
		return err
	}
	boroughs, err := boroughList(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	if f == fCSV {
		return s.assetGapsCSV(c, set, boroughs)
	}
	// Members in encoding/json's order.
	b := newBody(c, fJSON)
	o := newJSONObject(b)
	o.value("method", "demand = chaotic + just-coping demand (recorded, rounded and suppressed, where the council has loaded it for neighbourhoods; estimated otherwise, and always for small areas). "+
		"demand_per_asset = demand / community assets in the neighbourhood (small areas: assets within 800 m). "+
		"access_shortfall_pct = percent of postcodes more than 800 m, straight line, from any community asset. Rank 1 = biggest gap; areas with demand and no assets rank first.")
	addHood, endHoods := o.rows("neighbourhoods")
	var addArea data.RowFunc
	var endAreas func()
	startAreas := func() {
		endHoods()
		o.value("notes", demandNotes)
		o.value("set", set)
		addArea, endAreas = o.rows("small_areas")
	}
	err = s.store.AssetGaps(ctx, set, boroughs, func(_, _ []string) error { return nil }, addHood, func(r data.Row) error {
		if addArea == nil {
			startAreas()
		}
		return addArea(r)
	})
	if err != nil {
		return err
	}
	if addArea == nil {
		startAreas()
	}
	endAreas()
	if err := o.close(); err != nil {
		return err
	}
	return b.Close()
}

// assetGapsCSV writes both levels in one table: a level column
// (neighbourhood, small_area), then the union of both levels' columns.
func (s *Server) assetGapsCSV(c *gin.Context, set string, boroughs []string) error {
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="asset-gaps-%s.csv"`, set))
	b := newBody(c, fCSV)
	w := newCSVWriter(b)
	var cols []string
	index := map[string]int{}
	columns := func(hoods, areas []string) error {
		for _, col := range append(append([]string(nil), hoods...), areas...) {
			if _, ok := index[col]; !ok {
				index[col] = len(cols)
				cols = append(cols, col)
			}
		}
		return w.Write(append([]string{"level"}, cols...))
	}
	row := func(level string) data.RowFunc {
		return func(r data.Row) error {
			rec := make([]string, 1+len(cols))
			rec[0] = level
			for i, col := range r.Columns {
				rec[1+index[col]] = cellText(r.Values[i])
			}
			return w.Write(rec)
		}
	}
	if err := s.store.AssetGaps(c.Request.Context(), set, boroughs, columns, row("neighbourhood"), row("small_area")); err != nil {
		return err
	}
	return closeCSV(w, b)
}

// rowsCSV writes rows as CSV under a header of the first row's columns.
func (s *Server) rowsCSV(c *gin.Context, name string, rows []data.Row) error {
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, name))
	b := newBody(c, fCSV)
	w := newCSVWriter(b)
	if err := writeRowsCSV(w, nil, nil, rows); err != nil {
		return err
	}
	return closeCSV(w, b)
}

// outreach lists, for staff, a neighbourhood's small areas by priority.
func (s *Server) outreach(c *gin.Context) error {
	k, err := s.staffKey(c)
	if err != nil {
		return err
	}
	set, code := c.Query("set"), c.Query("neighbourhood")
	if set == "" || code == "" {
		return badRequest("set and neighbourhood are required, e.g. ?set=ward&neighbourhood=E05000840")
	}
	if err := noParams(c, "f", "set", "neighbourhood"); err != nil {
		return err
	}
	where, err := s.store.NeighbourhoodLocation(c.Request.Context(), set, code)
	if err != nil {
		return err
	}
	c.Set(auditLadKey, where.Borough)
	if !k.Reaches(where) {
		// Audited with its status by auditStaff.
		return forbidden("this key may see %s only", k.Reach())
	}
	f, err := negotiate(c, fJSON, fCSV)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	if err := s.store.CheckSet(ctx, set); err != nil {
		return setErr(err, set)
	}
	rows, err := s.store.Outreach(ctx, set, code)
	if errors.Is(err, data.ErrNotFound) {
		return notFound("no neighbourhood %q in set %s", code, set)
	}
	if err != nil {
		return err
	}
	// The audit row is written before any data is sent (no audit, no data),
	// and even if the client has gone.
	c.Set(auditRowsKey, len(rows))
	if err := s.store.Audit(context.WithoutCancel(ctx), k.ID, c.Request.Method, c.Request.URL.Path, c.Request.URL.RawQuery, len(rows), http.StatusOK, where.Borough); err != nil {
		return err
	}
	c.Set(auditedKey, true)
	c.Header("Cache-Control", "private, no-store")
	if f == fCSV {
		flat := make([]data.Row, len(rows))
		for i, r := range rows {
			flat[i] = flattenAssets(r)
		}
		return s.rowsCSV(c, "outreach-"+set+"-"+code, flat)
	}
	js, err := rowsJSON(rows)
	if err != nil {
		return err
	}
	return writeJSON(c, fJSON, map[string]any{
		"set": set, "neighbourhood": code, "key": k.Name,
		"method":      "score = 100 × (0.4 × just-coping rate ÷ the borough's highest small-area rate + 0.2 × chaotic rate ÷ highest + 0.2 × share of postcodes over 800 m from a community asset + 0.2 × IMD 2019 deprivation percentile); weights are the borough's 'priority' setting. Rates use recorded small-area counts where loaded, else estimates. Distances are straight-line from the mean of the area's postcode centroids.",
		"small_areas": js,
	})
}

// flattenAssets turns the nearest-assets list into numbered CSV columns.
func flattenAssets(r data.Row) data.Row {
	out := data.Row{}
	for i, col := range r.Columns {
		if col != "assets" {
			out.Columns = append(out.Columns, col)
			out.Values = append(out.Values, r.Values[i])
			continue
		}
		list, _ := r.Values[i].([]any)
		for n := 0; n < 3; n++ {
			var a map[string]any
			if n < len(list) {
				a, _ = list[n].(map[string]any)
			}
			for _, k := range []string{"name", "category", "distance_m"} {
				out.Columns = append(out.Columns, fmt.Sprintf("asset_%d_%s", n+1, k))
				out.Values = append(out.Values, a[k])
			}
		}
	}
	return out
}
