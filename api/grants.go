package api

import (
	"fmt"
	"time"

	"github.com/gin-gonic/gin"

	"nbhd/data"
)

// investmentMethod says how /insights/investment ranks, in its JSON.
const investmentMethod = "grants = 360Giving grants placed in the neighbourhood (by beneficiary LSOA, MSOA or ward, shared among its small areas by population, else at the recipient's postcode; a shared grant counts in each neighbourhood it reaches); " +
	"amount = pounds placed there. Per resident: amount / residents; per just-coping resident: amount / residents just coping as published (recorded, rounded and withheld as everywhere, or estimated). " +
	"rank 1 = the lowest investment per just-coping resident among the neighbourhoods listed (demand high, investment low), ties by the higher just-coping rate; neighbourhoods whose just-coping count is withheld or zero are not ranked. " +
	"funder, programme, from and to count only the grants they name."

// investment ranks a set's neighbourhoods where demand is high and
// investment low, with the boroughs and England for comparison.
func (s *Server) investment(c *gin.Context) error {
	set := c.Query("set")
	if set == "" {
		return badRequest("set is required, e.g. ?set=ward (see /neighbourhoods)")
	}
	f, done, err := s.setRequest(c, set, "set", "borough", "funder", "programme", "from", "to")
	if err != nil || done {
		return err
	}
	boroughs, err := boroughList(c)
	if err != nil {
		return err
	}
	filter, err := grantFilter(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	if f == fCSV {
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="investment-%s.csv"`, set))
		b := newBody(c, fCSV)
		w := newCSVWriter(b)
		var rec []string
		err := s.store.Investment(ctx, set, boroughs, filter, func(r data.Row) error {
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
		}, func(data.Row) error { return nil })
		if err != nil {
			return err
		}
		return closeCSV(w, b)
	}
	// Neighbourhoods stream as they are read; the few comparator rows
	// (boroughs, England) that follow them are kept and written after.
	b := newBody(c, fJSON)
	o := newJSONObject(b)
	o.value("filters", map[string]string{"funder": c.Query("funder"), "programme": c.Query("programme"),
		"from": c.Query("from"), "to": c.Query("to")})
	o.value("method", investmentMethod)
	addHood, endHoods := o.rows("neighbourhoods")
	var comparators []data.Row
	err = s.store.Investment(ctx, set, boroughs, filter, addHood, func(r data.Row) error {
		comparators = append(comparators, r)
		return nil
	})
	if err != nil {
		return err
	}
	endHoods()
	addComparator, endComparators := o.rows("comparators")
	for _, r := range comparators {
		if err := addComparator(r); err != nil {
			return err
		}
	}
	endComparators()
	o.value("notes", demandNotes)
	o.value("set", set)
	if err := o.close(); err != nil {
		return err
	}
	return b.Close()
}

// grantFilter reads funder, programme, from and to (YYYY-MM-DD).
func grantFilter(c *gin.Context) (data.GrantFilter, error) {
	f := data.GrantFilter{Funder: c.Query("funder"), Programme: c.Query("programme")}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		v, ok := c.GetQuery(p.name)
		if !ok {
			continue
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return f, badRequest("%s: give an award date as YYYY-MM-DD, e.g. %s=2024-03-31", p.name, p.name)
		}
		*p.dst = t
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.From.After(f.To) {
		return f, badRequest("from %s is after to %s", c.Query("from"), c.Query("to"))
	}
	return f, nil
}
