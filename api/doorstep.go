package api

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"nbhd/data"
)

// The doorstep of a GP practice or a school: the community assets within
// the access distance, grouped by category, nearest first, as JSON (with
// the circle, for the map), CSV, or a printable A4 page a link worker can
// hand to a patient or a family.

// doorstepRule says, in words, what the list is.
const doorstepRule = "community assets within %g m in a straight line (the borough's access distance, setting access.distance_m) of the %s, measured on the British National Grid; grouped by category, nearest first"

type doorstepCategory struct {
	Category string               `json:"category"`
	Label    string               `json:"label"`
	Assets   []data.DoorstepAsset `json:"assets"`
}

type doorstepCircle struct {
	Centre  [2]float64 `json:"centre"` // longitude, latitude (WGS 84)
	RadiusM float64    `json:"radius_m"`
}

type doorstepDoc struct {
	Place      data.Doorstep      `json:"place"`
	Circle     doorstepCircle     `json:"circle"`
	Rule       string             `json:"rule"`
	Assets     int                `json:"assets"`
	Categories []doorstepCategory `json:"categories"`
	Links      []link             `json:"links"`
}

// doorstepKinds maps the route's collection to the place's kind.
var doorstepKinds = map[string]struct{ kind, noun, collection string }{
	"gp-practices": {"gp-practice", "GP practice", "gp-practices"},
	"schools":      {"school", "school", "schools"},
}

func (s *Server) gpDoorstep(c *gin.Context) error {
	return s.doorstep(c, "gp-practices", c.Param("code"))
}
func (s *Server) schoolDoorstep(c *gin.Context) error { return s.doorstep(c, "schools", c.Param("id")) }

func (s *Server) doorstep(c *gin.Context, collection, code string) error {
	k := doorstepKinds[collection]
	if err := noParams(c, "f"); err != nil {
		return err
	}
	f, err := negotiate(c, fJSON, fCSV, fHTML)
	if err != nil {
		return err
	}
	if s.conditional(c, f) {
		return nil
	}
	d, err := s.store.Doorstep(c.Request.Context(), k.kind, code)
	if errors.Is(err, data.ErrNotFound) {
		return notFound("no %s %q; see /collections/%s/items", k.noun, code, collection)
	}
	if err != nil {
		return err
	}
	base := s.baseURL(c) + "/" + collection + "/" + url.PathEscape(code) + "/doorstep"
	doc := doorstepDoc{Place: d, Circle: doorstepCircle{Centre: [2]float64{d.Lon, d.Lat}, RadiusM: d.RadiusM},
		Rule: fmt.Sprintf(doorstepRule, d.RadiusM, k.noun), Assets: len(d.Assets), Categories: groupByCategory(d.Assets),
		Links: []link{
			{Href: base, Rel: "self", Type: "application/json"},
			{Href: base + "?f=csv", Rel: "alternate", Type: "text/csv"},
			{Href: base + "?f=html", Rel: "alternate", Type: "text/html", Title: "Printable A4 page"},
			{Href: s.baseURL(c) + "/collections/" + k.collection + "/items/" + url.PathEscape(code), Rel: "about", Type: "application/geo+json"},
		}}
	switch f {
	case fCSV:
		return s.doorstepCSV(c, collection, code, doc)
	case fHTML:
		return s.doorstepHTML(c, k.noun, doc)
	}
	return writeJSON(c, fJSON, doc)
}

// groupByCategory keeps the assets' order (nearest first) within each
// category; categories are in the order of their labels.
func groupByCategory(assets []data.DoorstepAsset) []doorstepCategory {
	out := []doorstepCategory{}
	at := map[string]int{}
	for _, a := range assets {
		i, ok := at[a.Category]
		if !ok {
			i = len(out)
			at[a.Category] = i
			out = append(out, doorstepCategory{Category: a.Category, Label: categoryLabel(a.Category)})
		}
		out[i].Assets = append(out[i].Assets, a)
	}
	// Insertion sort by label: a handful of categories.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Label < out[j-1].Label; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// categoryLabel turns food_bank into "Food bank".
func categoryLabel(c string) string {
	s := strings.ReplaceAll(c, "_", " ")
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func (s *Server) doorstepCSV(c *gin.Context, collection, code string, doc doorstepDoc) error {
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="doorstep-%s-%s.csv"`, collection, safeFileName(code)))
	b := newBody(c, fCSV)
	w := newCSVWriter(b)
	if err := w.Write([]string{"category", "name", "distance_m", "address", "postcode", "phone", "website", "opening_hours",
		"cost", "audience", "lon", "lat", "id"}); err != nil {
		return err
	}
	for _, g := range doc.Categories {
		for _, a := range g.Assets {
			if err := w.Write([]string{a.Category, a.Name, cellText(a.DistanceM), a.Address, a.Postcode, a.Phone, a.Website,
				a.OpeningHours, a.Cost, a.Audience, cellText(a.Lon), cellText(a.Lat), a.ID}); err != nil {
				return err
			}
		}
	}
	return closeCSV(w, b)
}

// safeFileName keeps letters, digits, - and _ of a code for a file name.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') {
			return r
		}
		return '_'
	}, s)
}

// doorstepCSS lays the page out for A4: two columns of entries that are
// never split across columns or pages, small enough that a practice's
// doorstep fits one sheet. It is the page's only style, allowed by hash.
const doorstepCSS = `
@page{size:A4;margin:12mm}
*{box-sizing:border-box}
html{font:9pt/1.3 "DejaVu Sans",Arial,Helvetica,sans-serif;color:#000;background:#fff}
body{margin:0}
header{border-bottom:2px solid #0b3954;padding-bottom:2mm;margin-bottom:3mm;break-after:avoid}
h1{font-size:15pt;margin:0 0 1mm;color:#0b3954}
.place{font-size:10pt;margin:0}
.rule{margin:1mm 0 0;color:#333}
.list{columns:2;column-gap:7mm}
section{break-inside:auto}
h2{font-size:10.5pt;margin:0 0 1.5mm;padding-top:1mm;border-bottom:1px solid #999;break-after:avoid;break-inside:avoid}
.asset{break-inside:avoid;margin:0 0 2.2mm;padding-left:2mm;border-left:2px solid #cfd8dc}
.asset p{margin:0}
.name{font-weight:bold}
.dist{float:right;font-weight:normal;color:#333;margin-left:2mm}
.cost{display:inline-block;border:1px solid #555;border-radius:2px;padding:0 1mm;font-size:8pt;margin-right:1mm}
.none{font-size:11pt}
footer{margin-top:3mm;border-top:1px solid #999;padding-top:1.5mm;font-size:7.5pt;color:#333;break-inside:avoid}
@media screen{body{max-width:210mm;margin:0 auto;padding:12mm}}
`

var doorstepCSP = func() string {
	sum := sha256.Sum256([]byte(doorstepCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src data:; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

var doorstepPage = template.Must(template.New("doorstep").Funcs(template.FuncMap{
	"metres": func(m float64) string { return fmt.Sprintf("%d m", int(math.Round(m))) },
	"walk": func(m float64) string {
		return fmt.Sprintf("%d min walk", int(math.Max(1, math.Round(m/80))))
	},
	"cost": func(c string) string {
		return map[string]string{"free": "Free", "low": "Low cost", "paid": "Paid"}[c]
	},
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>On the doorstep of {{.Place.Name}}</title>
<link rel="icon" href="data:,">
<style>{{.CSS}}</style>
</head>
<body>
<header>
<h1>On your doorstep</h1>
<p class="place"><strong>{{.Place.Name}}</strong>{{if .Place.Address}}, {{.Place.Address}}{{end}}{{if .Place.Postcode}}, {{.Place.Postcode}}{{end}}</p>
<p class="rule">Community groups and places within {{metres .Place.RadiusM}} (straight line, about {{walk .Place.RadiusM}}) of this {{.Noun}}, nearest first. Times and costs change: check before you go.</p>
</header>
{{if .Categories}}<div class="list">
{{range .Categories}}<section>
<h2>{{.Label}} ({{len .Assets}})</h2>
{{range .Assets}}<div class="asset">
<p class="name">{{.Name}}<span class="dist">{{metres .DistanceM}}</span></p>
{{if or .Address .Postcode}}<p>{{.Address}}{{if and .Address .Postcode}}, {{end}}{{.Postcode}}</p>{{end}}
{{if .Phone}}<p>Tel: {{.Phone}}</p>{{end}}
{{if .Website}}<p>{{.Website}}</p>{{end}}
{{if .OpeningHours}}<p>Open: {{.OpeningHours}}</p>{{end}}
{{if or (cost .Cost) .Audience}}<p>{{with cost .Cost}}<span class="cost">{{.}}</span>{{end}}{{if .Audience}}For: {{.Audience}}{{end}}</p>{{end}}
</div>
{{end}}</section>
{{end}}</div>
{{else}}<p class="none">No community assets are recorded within {{metres .Place.RadiusM}} of this {{.Noun}}.</p>
{{end}}<footer>{{.Footer}}</footer>
</body>
</html>
`))

func (s *Server) doorstepHTML(c *gin.Context, noun string, doc doorstepDoc) error {
	b := newBody(c, fHTML)
	c.Header("Content-Security-Policy", doorstepCSP)
	footer := fmt.Sprintf("From nbhd: %d community assets within %g m of %s (%s). Straight-line distances; the list shows what the council and open data record.",
		len(doc.Place.Assets), doc.Place.RadiusM, doc.Place.Name, doc.Place.Code)
	err := doorstepPage.Execute(b, map[string]any{
		"CSS": template.CSS(doorstepCSS), "Place": doc.Place, "Noun": noun, "Categories": doc.Categories, "Footer": footer,
	})
	if err != nil {
		return err
	}
	return b.Close()
}
