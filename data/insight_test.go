package data_test

import (
	"context"
	"encoding/json"
	"math"
	"sort"
	"testing"

	"github.com/jackc/pgx/v5"

	"nbhd/data"
	"nbhd/data/dbtest"
)

type area struct {
	code       string
	population float64
	ranks      map[string]float64 // domain -> rank (1 = most deprived)
}

// readAreas reads the model's inputs with an admin connection.
func readAreas(t *testing.T, conn *pgx.Conn) []area {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT d.code, p.population, d.imd_rank, d.income_rank, d.employment_rank,
		d.education_rank, d.health_rank, d.crime_rank, d.barriers_rank, d.living_env_rank
		FROM nbhd.deprivation d JOIN nbhd.small_area_population p USING (code) ORDER BY code`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []area
	names := []string{"imd", "income", "employment", "education", "health", "crime", "barriers", "living_env"}
	for rows.Next() {
		var a area
		var pop int
		r := make([]float64, 8)
		if err := rows.Scan(&a.code, &pop, &r[0], &r[1], &r[2], &r[3], &r[4], &r[5], &r[6], &r[7]); err != nil {
			t.Fatal(err)
		}
		a.population = float64(pop)
		a.ranks = map[string]float64{}
		for i, n := range names {
			a.ranks[n] = r[i]
		}
		out = append(out, a)
	}
	return out
}

type model struct {
	Shares    map[string]float64            `json:"shares"`
	Steepness map[string]float64            `json:"steepness"`
	Weights   map[string]map[string]float64 `json:"weights"`
}

func readModel(t *testing.T, conn *pgx.Conn) model {
	t.Helper()
	var m model
	if err := conn.QueryRow(context.Background(), "SELECT value FROM nbhd.settings WHERE key = 'demand_model'").Scan(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// expected recomputes the documented model (docs/methodology.md) in Go:
// percentile p = (32844 - rank) / 32843 per domain; index x = weighted mean
// of the segment's domains; weight = population * exp(steepness * x);
// estimate = share * total population * weight / sum of weights.
func expected(m model, areas []area, segment string) map[string]float64 {
	weights := map[string]float64{}
	var total, sum float64
	for _, a := range areas {
		var x, wsum float64
		for d, w := range m.Weights[segment] {
			x += w * (32844 - a.ranks[d]) / 32843
			wsum += w
		}
		weights[a.code] = a.population * math.Exp(m.Steepness[segment]*x/wsum)
		total += a.population
		sum += weights[a.code]
	}
	out := map[string]float64{}
	for code, w := range weights {
		out[code] = m.Shares[segment] * total * w / sum
	}
	return out
}

func estimates(t *testing.T, conn *pgx.Conn, segment string) map[string]float64 {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT small_area_code, count::float8 FROM nbhd.demand WHERE kind = 'estimated' AND segment = $1", segment)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for rows.Next() {
		var c string
		var v float64
		if err := rows.Scan(&c, &v); err != nil {
			t.Fatal(err)
		}
		out[c] = v
	}
	return out
}

func TestEstimatesFollowTheDocumentedModel(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	areas := readAreas(t, conn)
	m := readModel(t, conn)
	if m.Shares["chaotic"] != 0.03 || m.Shares["just_coping"] != 0.22 {
		t.Fatalf("default shares %v, want 3%% and 22%%", m.Shares)
	}
	var population float64
	for _, a := range areas {
		population += a.population
	}
	for _, seg := range []string{"chaotic", "just_coping"} {
		got := estimates(t, conn, seg)
		want := expected(m, areas, seg)
		if len(got) != len(areas) {
			t.Fatalf("%s: %d estimates for %d small areas", seg, len(got), len(areas))
		}
		var sum float64
		for code, w := range want {
			if math.Abs(got[code]-w) > 1e-6*w {
				t.Errorf("%s %s: %v, documented model gives %v", seg, code, got[code], w)
			}
			sum += got[code]
		}
		// Calibrated: the estimates add up to the share of all residents.
		if math.Abs(sum-m.Shares[seg]*population) > 1e-6 {
			t.Errorf("%s: estimates sum to %v, want %v", seg, sum, m.Shares[seg]*population)
		}
	}
}

func TestEstimatesAreMonotonicInDeprivation(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	ctx := context.Background()
	for _, seg := range []string{"chaotic", "just_coping"} {
		rows, err := conn.Query(ctx, `SELECT (d.params->>'deprivation_index')::float8, d.count::float8 / p.population
			FROM nbhd.demand d JOIN nbhd.small_area_population p ON p.code = d.small_area_code
			WHERE d.kind = 'estimated' AND d.segment = $1`, seg)
		if err != nil {
			t.Fatal(err)
		}
		type pt struct{ x, rate float64 }
		var pts []pt
		for rows.Next() {
			var p pt
			if err := rows.Scan(&p.x, &p.rate); err != nil {
				t.Fatal(err)
			}
			pts = append(pts, p)
		}
		sort.Slice(pts, func(i, j int) bool { return pts[i].x < pts[j].x })
		for i := 1; i < len(pts); i++ {
			if pts[i].x > pts[i-1].x && pts[i].rate < pts[i-1].rate-1e-12 {
				t.Fatalf("%s: rate falls from %v to %v as deprivation rises from %v to %v", seg, pts[i-1].rate, pts[i].rate, pts[i-1].x, pts[i].x)
			}
		}
	}
	// Making one area more deprived in a weighted domain raises its rate.
	var code string
	var before float64
	if err := conn.QueryRow(ctx, `SELECT d.small_area_code, d.count::float8 FROM nbhd.demand d JOIN nbhd.deprivation x ON x.code = d.small_area_code
		WHERE d.kind = 'estimated' AND d.segment = 'chaotic' AND x.health_rank > 20000 ORDER BY d.small_area_code LIMIT 1`).Scan(&code, &before); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "UPDATE nbhd.deprivation SET health_rank = 1 WHERE code = $1", code); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT logic.refresh()"); err != nil {
		t.Fatal(err)
	}
	var after float64
	if err := conn.QueryRow(ctx, "SELECT count::float8 FROM nbhd.demand WHERE kind = 'estimated' AND segment = 'chaotic' AND small_area_code = $1", code).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Errorf("%s: chaotic estimate %v -> %v after becoming the most health-deprived area in England", code, before, after)
	}
}

func TestModelIsConfigurablePerBoroughAndDeterministic(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	ctx := context.Background()
	first := estimates(t, conn, "chaotic")
	if _, err := conn.Exec(ctx, "SELECT logic.refresh_all()"); err != nil {
		t.Fatal(err)
	}
	again := estimates(t, conn, "chaotic")
	for code, v := range first {
		if again[code] != v {
			t.Fatalf("%s: %v then %v from the same inputs", code, v, again[code])
		}
	}
	if _, err := conn.Exec(ctx, `UPDATE nbhd.settings SET value = jsonb_set(value, '{shares}', '{"chaotic": 0.05, "just_coping": 0.3}') WHERE key = 'demand_model'`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT logic.refresh_all()"); err != nil {
		t.Fatal(err)
	}
	var sum, pop float64
	if err := conn.QueryRow(ctx, `SELECT (SELECT sum(count)::float8 FROM nbhd.demand WHERE kind='estimated' AND segment='just_coping'),
		(SELECT sum(population)::float8 FROM nbhd.small_area_population)`).Scan(&sum, &pop); err != nil {
		t.Fatal(err)
	}
	if math.Abs(sum-0.3*pop) > 1e-6 {
		t.Errorf("with a 30%% share, just-coping estimates sum to %v of %v residents", sum, pop)
	}
	var params []byte
	if err := conn.QueryRow(ctx, "SELECT params FROM nbhd.demand WHERE kind='estimated' LIMIT 1").Scan(&params); err != nil {
		t.Fatal(err)
	}
	var p struct {
		Model model `json:"model"`
	}
	if err := json.Unmarshal(params, &p); err != nil || p.Model.Shares["just_coping"] != 0.3 {
		t.Errorf("estimates do not carry the parameters they were made with: %s", params)
	}
}

func TestValidateSetting(t *testing.T) {
	good := map[string]string{
		"demand_model": `{"shares":{"chaotic":0.03,"just_coping":0.22},"steepness":{"chaotic":2,"just_coping":1},"weights":{"chaotic":{"health":1},"just_coping":{"income":1}}}`,
		"disclosure":   `{"min_count":10,"rounding":5,"min_neighbourhood_population":3000}`,
		"access":       `{"distance_m":800}`,
		"priority":     `{"weights":{"just_coping_rate":0.4,"chaotic_rate":0.2,"access_shortfall":0.2,"deprivation":0.2}}`,
	}
	for k, v := range good {
		if err := data.ValidateSetting(k, []byte(v)); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	for k, v := range map[string]string{
		"demand_model": `{"shares":{"chaotic":0.9,"just_coping":0.22},"steepness":{"chaotic":2,"just_coping":1},"weights":{"chaotic":{"health":1},"just_coping":{"income":1}}}`,
		"disclosure":   `{"min_count":0,"rounding":5,"min_neighbourhood_population":3000}`,
		"access":       `{"distance_m":"far"}`,
		"nope":         `{}`,
	} {
		if err := data.ValidateSetting(k, []byte(v)); err == nil {
			t.Errorf("%s %s accepted", k, v)
		}
	}
}

// A recorded period imported after a later one does not displace it:
// mid-2024 counts loaded after 2025 counts leave 2025 published.
func TestLatestRecordedPeriodIsByDateNotText(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `
		INSERT INTO nbhd.datasets (kind, key, title) VALUES ('demand', 'r2025', 'counts 2025'), ('demand', 'r2024', 'counts mid-2024');
		INSERT INTO nbhd.demand (small_area_code, segment, period, kind, count, method, source, dataset_id)
		SELECT code, 'chaotic', '2025', 'recorded', 40, 'records', 'case system', (SELECT id FROM nbhd.datasets WHERE key = 'r2025')
		FROM nbhd.small_areas;
		INSERT INTO nbhd.demand (small_area_code, segment, period, kind, count, method, source, dataset_id)
		SELECT code, 'chaotic', 'mid-2024', 'recorded', 20, 'records', 'case system', (SELECT id FROM nbhd.datasets WHERE key = 'r2024')
		FROM nbhd.small_areas;
		SELECT logic.refresh()`); err != nil {
		t.Fatal(err)
	}
	var periods []string
	rows, err := conn.Query(ctx, "SELECT DISTINCT period FROM nbhd.neighbourhood_demand WHERE segment = 'chaotic'")
	if err != nil {
		t.Fatal(err)
	}
	if periods, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	if len(periods) != 1 || periods[0] != "2025" {
		t.Errorf("published chaotic demand periods %v, want [2025]", periods)
	}
}
