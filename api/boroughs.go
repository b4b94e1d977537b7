package api

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"

	"nbhd/data"
)

// boroughs lists the loaded boroughs: code, name, region and combined
// authority, population, small areas, neighbourhood sets and the vintages
// of the data loaded for each, as JSON or HTML.
func (s *Server) boroughs(c *gin.Context) error {
	f, err := negotiate(c, fJSON, fHTML)
	if err != nil {
		return err
	}
	if err := noParams(c, "f"); err != nil {
		return err
	}
	if s.conditional(c, f) {
		return nil
	}
	list, err := s.store.Boroughs(c.Request.Context())
	if err != nil {
		return err
	}
	base := s.baseURL(c)
	if f == fHTML {
		t := &table{Head: []string{"code", "borough", "region", "combined authority", "population", "small areas", "neighbourhood sets", "data"}}
		for _, b := range list {
			t.Rows = append(t.Rows, []cell{{Value: b.Code, Href: base + "/boroughs/" + b.Code + "?f=html"}, {Value: b.Name},
				{Value: areaName(b.Region)}, {Value: areaName(b.Cauth)}, {Value: cellText(b.Population)}, {Value: cellText(b.SmallAreas)},
				{Value: strings.Join(b.NeighbourhoodSets, ", ")}, {Value: strings.Join(b.Vintages, "; ")}})
		}
		return s.writeHTML(c, &page{Base: base, Title: "Boroughs",
			Description: "The boroughs (local authority districts) loaded, with their neighbourhood sets and data.",
			Crumbs:      s.crumbs(c, crumb{"Boroughs", ""}), Formats: s.selfLinks(c, f, fJSON, fHTML), Table: t})
	}
	type item struct {
		data.BoroughSummary
		Href string `json:"href"`
	}
	items := make([]item, len(list))
	for i, b := range list {
		items[i] = item{b, base + "/boroughs/" + b.Code}
	}
	return writeJSON(c, fJSON, map[string]any{"boroughs": items, "links": s.selfLinks(c, f, fJSON, fHTML)})
}

func areaName(a *data.Area) string {
	if a == nil {
		return ""
	}
	return a.Name
}

// borough is one borough's own profile against its region, combined
// authority and England.
func (s *Server) borough(c *gin.Context) error {
	lad := c.Param("lad")
	f, err := negotiate(c, fJSON, fCSV, fHTML)
	if err != nil {
		return err
	}
	if err := noParams(c, "f"); err != nil {
		return err
	}
	if s.conditional(c, f) {
		return nil
	}
	p, err := s.store.BoroughProfile(c.Request.Context(), lad)
	if errors.Is(err, data.ErrNotFound) {
		return notFound("no borough %q loaded; see /boroughs", lad)
	}
	if err != nil {
		return err
	}
	base := s.baseURL(c)
	switch f {
	case fCSV:
		c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="borough-%s.csv"`, lad))
		return s.indicatorsCSV(c, []string{"borough", "name"}, []string{p.Code, p.Name}, p.Indicators)
	case fHTML:
		t := &table{Head: []string{"indicator", "value", "region", "combined authority", "England"}}
		val := func(cmp *data.Comparator) string {
			if cmp == nil || cmp.Value == nil {
				return ""
			}
			return cellText(*cmp.Value)
		}
		for _, i := range p.Indicators {
			v := ""
			if i.Value != nil {
				v = cellText(*i.Value)
			}
			t.Rows = append(t.Rows, []cell{{Value: i.Label}, {Value: v}, {Value: val(i.Region)}, {Value: val(i.Cauth)}, {Value: val(i.England)}})
		}
		return s.writeHTML(c, &page{Base: base, Title: p.Name, Description: "The borough's own figures beside its region, combined authority and England.",
			Crumbs: s.crumbs(c, crumb{"Boroughs", base + "/boroughs?f=html"}, crumb{p.Name, ""}), Formats: s.selfLinks(c, f, fJSON, fCSV, fHTML), Table: t})
	}
	return writeJSON(c, fJSON, struct {
		data.BoroughProfile
		Notes []string `json:"notes"`
		Links []link   `json:"links"`
	}{p, demandNotes, s.selfLinks(c, f, fJSON, fCSV, fHTML)})
}

// indicators lists the profile's indicators in order, with their words and
// units, so clients (the map among them) need no list of their own.
func (s *Server) indicators(c *gin.Context) error {
	if _, err := negotiate(c, fJSON); err != nil {
		return err
	}
	if err := noParams(c, "f"); err != nil {
		return err
	}
	if s.conditional(c, fJSON) {
		return nil
	}
	list, err := s.store.Indicators(c.Request.Context())
	if err != nil {
		return err
	}
	return writeJSON(c, fJSON, map[string]any{"indicators": list,
		"notes": []string{"Ids ending in :* are families: asset:library, school:primary and so on, one per category or phase loaded."}})
}
