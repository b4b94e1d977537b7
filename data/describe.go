package data

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Settings are the settings in force for one borough (or England's
// defaults): each key's JSON value, decoded.
type Settings map[string]any

// placeholder is {key.path} or {key.path:pct} in a description.
var placeholder = regexp.MustCompile(`\{([a-z_]+(?:\.[a-z_]+)+)(:pct)?\}`)

// describe fills a description's placeholders from settings, so a figure
// such as the access distance is stated in one place (the settings) and
// every sentence that mentions it follows a change. A placeholder naming no
// setting is left as it is, which a test catches.
func describe(text string, s Settings) string {
	if !strings.Contains(text, "{") {
		return text
	}
	return placeholder.ReplaceAllStringFunc(text, func(m string) string {
		sub := placeholder.FindStringSubmatch(m)
		v, ok := s.lookup(strings.Split(sub[1], "."))
		if !ok {
			return m
		}
		return formatSetting(v, sub[2] == ":pct")
	})
}

// Describe fills a description's placeholders from the settings given.
func Describe(text string, s Settings) string { return describe(text, s) }

func (s Settings) lookup(path []string) (any, bool) {
	var cur any = map[string]any(s)
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func formatSetting(v any, pct bool) string {
	f, ok := v.(float64)
	if !ok {
		return fmt.Sprint(v)
	}
	if pct {
		return strconv.FormatFloat(f*100, 'f', -1, 64) + "%"
	}
	if f >= 1000 && f == float64(int64(f)) {
		return groupThousands(int64(f))
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// groupThousands writes 1200 as 1,200.
func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// defaultSettings reads England's settings (borough ”).
func (s *Store) defaultSettings(ctx context.Context) (Settings, error) {
	return s.BoroughSettings(ctx, "")
}

// BoroughSettings reads the settings in force for a borough: England's
// defaults merged with the borough's own ("" reads the defaults alone).
func (s *Store) BoroughSettings(ctx context.Context, lad string) (Settings, error) {
	return readSettings(ctx, s.pool(Public), lad)
}

// readSettings is BoroughSettings through q: a request that already holds
// a connection reads them on it, never waiting for a second one (with every
// connection held by a request waiting for another, the pool deadlocks
// until the acquire timeout: England's profiles under load did).
func readSettings(ctx context.Context, q Querier, lad string) (Settings, error) {
	rows, err := q.Query(ctx, "SELECT borough, key, value FROM api.settings WHERE borough = $1 OR borough = ''", lad)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[settingRow])
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	return settingsOf(got, lad)
}

// settingRow is one row of api.settings.
type settingRow struct {
	Borough, Key string
	Value        []byte
}

// settingsFrom is whose rows lad's settings are: lad's own when rows hold
// any (a borough's rows are whole, merged over England's), else England's
// (borough ”).
func settingsFrom(rows []settingRow, lad string) string {
	for _, r := range rows {
		if lad != "" && r.Borough == lad {
			return lad
		}
	}
	return ""
}

// settingsKey names what settingsOf reads of rows for lad: boroughs with
// equal keys have equal settings.
func settingsKey(rows []settingRow, lad string) string {
	from := settingsFrom(rows, lad)
	var b strings.Builder
	for _, r := range rows {
		if r.Borough == from {
			b.WriteString(r.Key)
			b.WriteByte(0)
			b.Write(r.Value)
			b.WriteByte(0)
		}
	}
	return b.String()
}

// settingsOf picks lad's settings from rows holding them and England's
// (settingsFrom).
func settingsOf(rows []settingRow, lad string) (Settings, error) {
	from := settingsFrom(rows, lad)
	out := Settings{}
	for _, r := range rows {
		if r.Borough != from {
			continue
		}
		var v any
		if err := json.Unmarshal(r.Value, &v); err != nil {
			return nil, fmt.Errorf("setting %s: %w", r.Key, err)
		}
		out[r.Key] = v
	}
	return out, nil
}
