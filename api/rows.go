package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"nbhd/data"
)

// rowJSON encodes a row as an object with its columns in query order, so
// output bytes are stable.
func rowJSON(r data.Row) (json.RawMessage, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range r.Columns {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(r.Values[i])
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", c, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func rowsJSON(rows []data.Row) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(rows))
	for _, r := range rows {
		j, err := rowJSON(r)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// cellText renders a value for CSV: numbers without exponents, nulls empty,
// nested values as JSON.
func cellText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	case int, int16, int32, int64, bool:
		return fmt.Sprint(v)
	case time.Time:
		return v.Format(time.RFC3339)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// writeRowsCSV writes a header from the first row's columns (prefixed by
// extra leading columns) and one line per row.
func writeRowsCSV(w *csv.Writer, lead []string, leadValues []string, rows []data.Row) error {
	if len(rows) == 0 {
		return nil
	}
	if err := w.Write(append(append([]string(nil), lead...), rows[0].Columns...)); err != nil {
		return err
	}
	rec := make([]string, len(lead)+len(rows[0].Columns))
	for _, r := range rows {
		copy(rec, leadValues)
		for i, v := range r.Values {
			rec[len(lead)+i] = cellText(v)
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	return nil
}
