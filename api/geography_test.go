package api_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"nbhd/data"
	"nbhd/data/dbtest"
)

// features fetches a whole collection as GeoJSON.
func (e *env) features(t *testing.T, collection string) *geojson.FeatureCollection {
	t.Helper()
	_, body := e.get(t, "/collections/"+collection+"/items?limit=10000")
	fc, err := geojson.UnmarshalFeatureCollection(body)
	if err != nil {
		t.Fatalf("%s: %v", collection, err)
	}
	return fc
}

// TestCountsAgreeWithTheDrawnPolygons checks, for every neighbourhood of
// every set, that the GP practices, schools and assets whose served point
// lies inside its served polygon — point in polygon computed here with orb
// on the public GeoJSON, not by PostGIS — are the counts its row publishes:
// what the map draws is the area the figures describe.
func TestCountsAgreeWithTheDrawnPolygons(t *testing.T) {
	e := newEnv(t)
	points := map[string][]orb.Point{}
	for field, coll := range map[string]string{"gp_practices": "gp-practices", "schools": "schools", "assets": "community-assets"} {
		for _, f := range e.features(t, coll).Features {
			points[field] = append(points[field], f.Geometry.(orb.Point))
		}
	}
	var list struct{ Sets []struct{ ID string } }
	_, body := e.get(t, "/neighbourhoods")
	if err := json.Unmarshal(body, &list); err != nil || len(list.Sets) < 2 {
		t.Fatalf("sets: %v %s", err, body)
	}
	checked := 0
	for _, set := range list.Sets {
		var rows struct{ Neighbourhoods []map[string]any }
		_, body := e.get(t, "/neighbourhoods/"+set.ID)
		if err := json.Unmarshal(body, &rows); err != nil {
			t.Fatal(err)
		}
		published := map[string]map[string]any{}
		for _, r := range rows.Neighbourhoods {
			published[r["code"].(string)] = r
		}
		for _, f := range e.features(t, "neighbourhoods-"+set.ID).Features {
			code := f.ID.(string)
			poly := f.Geometry.(orb.MultiPolygon)
			bound := poly.Bound()
			for field, pts := range points {
				inside := 0
				for _, p := range pts {
					if bound.Contains(p) && planar.MultiPolygonContains(poly, p) {
						inside++
					}
				}
				got := published[code][field].(float64)
				if got != float64(inside) {
					t.Errorf("%s %s: %s published %v, %d inside its drawn polygon", set.ID, code, field, got, inside)
				}
				checked++
			}
		}
	}
	if checked < 3*(25+40) {
		t.Errorf("checked only %d counts", checked)
	}
}

// TestDescriptionsFollowTheSettings changes the access distance and looks
// for the old figure in every description that states it: layers'
// queryables, the indicator list and a profile (JSON and CSV).
func TestDescriptionsFollowTheSettings(t *testing.T) {
	e := newEnv(t)
	paths := []string{"/collections/small-areas/queryables", "/collections/neighbourhoods-ward/queryables",
		"/indicators", "/neighbourhoods/ward/E05000840", "/neighbourhoods/ward/E05000840?f=csv"}
	for _, p := range paths {
		if _, body := e.get(t, p); !strings.Contains(string(body), "800 m") {
			t.Fatalf("%s does not state the 800 m access distance to begin with", p)
		}
	}
	admin, err := data.Connect(context.Background(), e.dbURL, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if err := admin.ChangeSetting(context.Background(), "", "access", []byte(`{"distance_m": 1200}`), data.LockWait{}); err != nil {
		t.Fatal(err)
	}
	waitForVersion(t, e)
	for _, p := range paths {
		_, body := e.get(t, p)
		if strings.Contains(string(body), "800 m") || !strings.Contains(string(body), "1,200 m") {
			t.Errorf("%s after access.distance_m = 1200: still says 800 m, or not 1,200 m", p)
		}
	}
}

// waitForVersion waits until the server has seen the latest data version.
func waitForVersion(t *testing.T, e *env) {
	t.Helper()
	conn := dbtest.Conn(t, e.dbURL)
	var v int64
	if err := conn.QueryRow(context.Background(), "SELECT version FROM nbhd.data_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		if e.store.Version() >= v {
			return
		}
		sleep()
	}
	t.Fatalf("the server never saw data version %d", v)
}

// TestANewIndicatorNeedsOnlySQL adds an indicator as a migration would —
// a catalogue row and its values — and finds it in the profile's JSON and
// CSV, in the catalogue's order, with its comparators.
func TestANewIndicatorNeedsOnlySQL(t *testing.T) {
	e := newEnv(t)
	conn := dbtest.Conn(t, e.dbURL)
	if _, err := conn.Exec(context.Background(), `
		INSERT INTO logic.indicators VALUES ('warm_spaces', 45, 'count', 'Warm spaces', 'Warm spaces open in winter', 'assets');
		INSERT INTO nbhd.indicator_values (set_id, code, indicator, vintage, num, value, lad_code, rank, ranked)
		SELECT set_id, code, 'warm_spaces', '', 3, 3, lad_code, 1, 1 FROM nbhd.neighbourhoods;
		INSERT INTO nbhd.comparator_values (scope, scope_code, indicator, num, value, coverage)
		SELECT 'borough', code, 'warm_spaces', 75, 75, 'test' FROM nbhd.boroughs;
		SELECT logic.data_changed();`); err != nil {
		t.Fatal(err)
	}
	waitForVersion(t, e)
	var p struct {
		Indicators []struct {
			ID      string
			Value   float64
			Borough struct{ Value float64 }
		}
	}
	_, body := e.get(t, "/neighbourhoods/ward/E05000840")
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	at := -1
	for i, ind := range p.Indicators {
		if ind.ID == "warm_spaces" {
			at = i
			if ind.Value != 3 || math.Abs(ind.Borough.Value-3) > 0.005 {
				t.Errorf("warm_spaces %v against the borough's average ward %v, want 3 and 75/25", ind.Value, ind.Borough.Value)
			}
		}
	}
	if at < 0 || p.Indicators[at-1].ID > "assets_per_1000" && !strings.HasPrefix(p.Indicators[at-1].ID, "asset") {
		t.Errorf("warm_spaces missing or out of the catalogue's order: %d", at)
	}
	_, body = e.get(t, "/neighbourhoods/ward/E05000840?f=csv")
	if !strings.Contains(string(body), "warm_spaces,assets,Warm spaces,Warm spaces open in winter,count") {
		t.Errorf("the profile CSV lacks warm_spaces:\n%s", body)
	}
	_, body = e.get(t, "/indicators")
	if !strings.Contains(string(body), `"id":"warm_spaces"`) {
		t.Error("/indicators lacks warm_spaces")
	}
}

func sleep() { time.Sleep(10 * time.Millisecond) }
