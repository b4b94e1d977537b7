package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/paulmach/orb"

	"nbhd/api/browsertest"
	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/data/ingest"
)

// gridDistance is the straight-line distance in metres on the British
// National Grid between two WGS 84 points, recomputed here without PostGIS:
// the ellipsoidal distance (WGS 84 meridional and prime-vertical radii at
// the mean latitude: millimetres over a kilometre) times the Transverse
// Mercator scale factor of the National Grid at that place (0.9996012717 on
// its central meridian, 2°W, growing with the square of the distance from
// it). Datum and ellipsoid differences change a kilometre by well under
// 0.1 m.
func gridDistance(a, b orb.Point) float64 {
	const (
		semiMajor = 6378137.0
		e2        = 0.00669437999014
		f0        = 0.9996012717
		meridian  = -2.0
	)
	rad := math.Pi / 180
	phi := (a[1] + b[1]) / 2 * rad
	w := 1 - e2*math.Pow(math.Sin(phi), 2)
	m := semiMajor * (1 - e2) / math.Pow(w, 1.5)
	n := semiMajor / math.Sqrt(w)
	dy := m * (b[1] - a[1]) * rad
	dx := n * math.Cos(phi) * (b[0] - a[0]) * rad
	x := n * math.Cos(phi) * ((a[0]+b[0])/2 - meridian) * rad
	k := f0 * (1 + x*x/(2*m*n*f0*f0))
	return math.Hypot(dx, dy) * k
}

type doorstepDoc struct {
	Place struct {
		Kind, Code, Name string
		RadiusM          float64 `json:"radius_m"`
	} `json:"place"`
	Circle struct {
		Centre  [2]float64 `json:"centre"`
		RadiusM float64    `json:"radius_m"`
	} `json:"circle"`
	Assets     int `json:"assets"`
	Categories []struct {
		Category string `json:"category"`
		Label    string `json:"label"`
		Assets   []struct {
			ID        string  `json:"id"`
			Name      string  `json:"name"`
			Category  string  `json:"category"`
			Cost      string  `json:"cost"`
			DistanceM float64 `json:"distance_m"`
		} `json:"assets"`
	} `json:"categories"`
}

func (e *env) doorstep(t *testing.T, collection, id string) doorstepDoc {
	t.Helper()
	path := "/" + collection + "/" + url.PathEscape(id) + "/doorstep"
	resp, body := e.get(t, path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
	}
	var d doorstepDoc
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

// checkDoorstep compares one served doorstep with the recomputation from
// the public GeoJSON of the assets: every asset nearer than the radius is
// listed and every one farther is not (within 1 m of the boundary either
// way), each at its distance within 1 m, nearest first within its
// category, categories in order of their labels.
func checkDoorstep(t *testing.T, what string, d doorstepDoc, centre orb.Point, radius float64, assets []item) int {
	t.Helper()
	if math.Abs(d.Circle.Centre[0]-centre[0]) > 1e-6 || math.Abs(d.Circle.Centre[1]-centre[1]) > 1e-6 || d.Circle.RadiusM != radius {
		t.Errorf("%s: circle %v r %g, want %v r %g", what, d.Circle.Centre, d.Circle.RadiusM, centre, radius)
	}
	served := map[string]float64{}
	n := 0
	for i, g := range d.Categories {
		if i > 0 && d.Categories[i-1].Label >= g.Label {
			t.Errorf("%s: category %q after %q", what, g.Label, d.Categories[i-1].Label)
		}
		for j, a := range g.Assets {
			if a.Category != g.Category {
				t.Errorf("%s: %s of %s listed under %s", what, a.ID, a.Category, g.Category)
			}
			if j > 0 && g.Assets[j-1].DistanceM > a.DistanceM {
				t.Errorf("%s: %s (%g m) after %s (%g m)", what, a.ID, a.DistanceM, g.Assets[j-1].ID, g.Assets[j-1].DistanceM)
			}
			served[a.ID] = a.DistanceM
			n++
		}
	}
	if n != d.Assets || len(served) != n {
		t.Errorf("%s: %d assets said, %d listed, %d distinct", what, d.Assets, n, len(served))
	}
	for _, a := range assets {
		dist := gridDistance(centre, a.geom.(orb.Point))
		got, listed := served[a.id]
		switch {
		case dist < radius-1 && !listed:
			t.Errorf("%s: %s at %.1f m (recomputed) is missing", what, a.id, dist)
		case dist > radius+1 && listed:
			t.Errorf("%s: %s at %.1f m (recomputed) is beyond %g m but listed", what, a.id, dist, radius)
		case listed && math.Abs(got-dist) > 1:
			t.Errorf("%s: %s served at %.1f m, recomputed %.1f m", what, a.id, got, dist)
		}
	}
	return n
}

func TestDoorstepsEqualARecomputationFromThePublicGeoJSON(t *testing.T) {
	e := newEnv(t)
	assets := e.allItems(t, "community-assets")
	listed := 0
	for _, c := range []string{"gp-practices", "schools"} {
		places := e.allItems(t, c)
		if len(places) < 50 {
			t.Fatalf("%s: only %d places in the sample", c, len(places))
		}
		for _, p := range places {
			d := e.doorstep(t, c, p.id)
			listed += checkDoorstep(t, c+" "+p.id, d, p.geom.(orb.Point), 800, assets)
		}
	}
	if listed < 500 {
		t.Errorf("only %d doorstep entries over every practice and school: the check is too weak", listed)
	}

	// The radius is the access distance in force for the borough.
	admin, err := data.Connect(context.Background(), e.dbURL, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if err := admin.ChangeSetting(context.Background(), "", "access", []byte(`{"distance_m": 450}`), data.LockWait{}); err != nil {
		t.Fatal(err)
	}
	e.store.Settle(context.Background())
	for _, p := range e.allItems(t, "gp-practices")[:10] {
		d := e.doorstep(t, "gp-practices", p.id)
		checkDoorstep(t, "450 m: "+p.id, d, p.geom.(orb.Point), 450, assets)
	}
}

func TestDoorstepFormatsAndErrors(t *testing.T) {
	e := newEnv(t)
	conn := dbtest.Conn(t, e.dbURL)
	var code string
	if err := conn.QueryRow(context.Background(), `SELECT g.code FROM nbhd.gp_practices g ORDER BY
		(SELECT count(*) FROM nbhd.community_assets a WHERE ST_DWithin(a.geom_bng, g.geom_bng, 800)) DESC, g.code LIMIT 1`).Scan(&code); err != nil {
		t.Fatal(err)
	}
	d := e.doorstep(t, "gp-practices", code)
	resp, body := e.get(t, "/gp-practices/"+code+"/doorstep?f=csv")
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if resp.StatusCode != http.StatusOK || err != nil || len(recs) != d.Assets+1 {
		t.Fatalf("CSV: %d %v: %d rows for %d assets", resp.StatusCode, err, len(recs)-1, d.Assets)
	}
	i := 1
	for _, g := range d.Categories {
		for _, a := range g.Assets {
			if recs[i][0] != a.Category || recs[i][1] != a.Name || recs[i][len(recs[i])-1] != a.ID {
				t.Errorf("CSV row %d %q is not %s", i, recs[i], a.ID)
			}
			i++
		}
	}
	resp, body = e.get(t, "/gp-practices/"+code+"/doorstep", "Accept", "text/html")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "style-src 'sha256-") || strings.Contains(string(body), "<script") {
		t.Errorf("HTML: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"))
	}
	for _, g := range d.Categories {
		for _, a := range g.Assets {
			if !strings.Contains(string(body), htmlEscape(a.Name)) {
				t.Errorf("HTML lacks %q", a.Name)
			}
		}
	}
	// Identical requests, identical bytes.
	_, again := e.get(t, "/gp-practices/"+code+"/doorstep", "Accept", "text/html")
	if string(again) != string(body) {
		t.Error("two identical requests gave different pages")
	}
	for path, status := range map[string]int{
		"/gp-practices/NOPE1/doorstep":                       http.StatusNotFound,
		"/schools/schools:nope/doorstep":                     http.StatusNotFound,
		"/gp-practices/" + code + "/doorstep?radius=5000":    http.StatusBadRequest,
		"/gp-practices/" + code + "/doorstep?f=geojson-nope": http.StatusNotAcceptable,
	} {
		if resp, body := e.get(t, path); resp.StatusCode != status {
			t.Errorf("%s: %d, want %d: %s", path, resp.StatusCode, status, body)
		}
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// pdfPages counts a PDF's pages and extracts its text with poppler-utils
// (pdfinfo, pdftotext; scripts/deps.sh installs them for make test).
func pdfPages(t *testing.T, pdf []byte) (int, string) {
	t.Helper()
	for _, tool := range []string{"pdfinfo", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := tool + " not found: `make test` installs poppler-utils (scripts/deps.sh)"
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	path := filepath.Join(t.TempDir(), "page.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := exec.CommandContext(t.Context(), "pdfinfo", path).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	pages := -1
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "Pages:"); ok {
			pages = atoiOr(strings.TrimSpace(v), -1)
		}
		if v, ok := strings.CutPrefix(line, "Page size:"); ok && !strings.Contains(v, "(A4)") {
			t.Errorf("page size %s is not A4", strings.TrimSpace(v))
		}
	}
	text, err := exec.CommandContext(t.Context(), "pdftotext", "-raw", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return pages, string(text)
}

func atoiOr(s string, def int) int {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return def
		}
		n = n*10 + int(r-'0')
	}
	if s == "" {
		return def
	}
	return n
}

// squash removes whitespace, so text that wraps differently in a PDF still
// matches.
func squash(s string) string { return strings.Join(strings.Fields(s), "") }

func TestDoorstepPrintsOnOneA4PagePerPractice(t *testing.T) {
	e := newEnv(t)
	ctx, problems := browsertest.Start(t, 4*time.Minute)
	practices := e.allItems(t, "gp-practices")
	sort.Slice(practices, func(i, j int) bool { return practices[i].id < practices[j].id })
	most := 0
	for _, p := range practices {
		d := e.doorstep(t, "gp-practices", p.id)
		most = max(most, d.Assets)
		var pdf []byte
		err := chromedp.Run(ctx, chromedp.Navigate(e.url+"/gp-practices/"+url.PathEscape(p.id)+"/doorstep?f=html"),
			chromedp.ActionFunc(func(ctx context.Context) error {
				var err error
				pdf, _, err = page.PrintToPDF().WithPreferCSSPageSize(true).WithPrintBackground(true).
					WithDisplayHeaderFooter(false).Do(ctx)
				return err
			}))
		if err != nil {
			t.Fatalf("%s: print: %v", p.id, err)
		}
		pages, text := pdfPages(t, pdf)
		if pages != 1 {
			t.Errorf("%s (%d assets): %d pages, want 1", p.id, d.Assets, pages)
			_ = os.WriteFile(filepath.Join(browsertest.Artefacts(t), "doorstep-"+p.id+".pdf"), pdf, 0o644)
		}
		// Nothing cut off: every entry's name and distance, and the footer
		// that closes the page, are in the text of that one page.
		flat := squash(text)
		for _, g := range d.Categories {
			if !strings.Contains(flat, squash(g.Label)) {
				t.Errorf("%s: heading %q not on the page", p.id, g.Label)
			}
			for _, a := range g.Assets {
				if !strings.Contains(flat, squash(a.Name)) {
					t.Errorf("%s: %q not on the page", p.id, a.Name)
				}
			}
		}
		if !strings.Contains(flat, squash("Straight-line distances")) || !strings.Contains(flat, squash(d.Place.Name)) {
			t.Errorf("%s: the page's header or footer is missing", p.id)
		}
	}
	if most < 15 {
		t.Errorf("the fullest doorstep has only %d assets: the one-page check proves little", most)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("browser problems: %q", p)
	}
}

func TestDoorstepShowsCostAndAudienceFromTheAssetList(t *testing.T) {
	e := newEnv(t)
	var lon, lat float64
	var code string
	conn := dbtest.Conn(t, e.dbURL)
	if err := conn.QueryRow(context.Background(), "SELECT code, ST_X(geom), ST_Y(geom) FROM nbhd.gp_practices ORDER BY code LIMIT 1").Scan(&code, &lon, &lat); err != nil {
		t.Fatal(err)
	}
	list := "name,category,lon,lat,phone,opening_hours,cost,audience\n" +
		"Tea and Chat,social_group," + fmtCoord(lon+0.001) + "," + fmtCoord(lat) + ",01942 000001,Wed 10:00-12:00,Free,older people living alone\n" +
		"Toddler Gym,sports_club," + fmtCoord(lon) + "," + fmtCoord(lat+0.001) + ",,Sat 09:00-10:00,low cost,families with children under 5\n" +
		"Evening Choir,music_group," + fmtCoord(lon-0.001) + "," + fmtCoord(lat) + ",,,,\n"
	if _, err := dbtest.ImportText(t, dbtest.Conn(t, e.dbURL), "assets-csv", "council_assets.csv", list, ingest.Options{"key": "council"}); err != nil {
		t.Fatal(err)
	}
	e.store.Settle(context.Background())
	d := e.doorstep(t, "gp-practices", code)
	costs := map[string]string{}
	for _, g := range d.Categories {
		for _, a := range g.Assets {
			costs[a.Name] = a.Cost
		}
	}
	if costs["Tea and Chat"] != "free" || costs["Toddler Gym"] != "low" || costs["Evening Choir"] != "unknown" {
		t.Errorf("costs %v", costs)
	}
	_, body := e.get(t, "/gp-practices/"+code+"/doorstep?f=html")
	for _, want := range []string{">Free</span>For: older people living alone", ">Low cost</span>For: families with children under 5", "Open: Wed 10:00-12:00", "Tel: 01942 000001"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := e.dbCount(t, "SELECT count(*) FROM api.community_assets WHERE cost = 'free' AND audience = 'older people living alone'"); n != 1 {
		t.Errorf("api.community_assets has %d free assets for older people, want 1", n)
	}
	// A cost that is none of the four is refused, naming the line.
	_, err := dbtest.ImportText(t, dbtest.Conn(t, e.dbURL), "assets-csv", "bad.csv", "name,category,lon,lat,cost\nA,x,-2.6,53.5,cheap\n", ingest.Options{"key": "bad"})
	if err == nil || !strings.Contains(err.Error(), `line 2, field "cost": cost "cheap" must be free, low, paid or unknown`) {
		t.Errorf("bad cost: %v", err)
	}
}

func fmtCoord(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
