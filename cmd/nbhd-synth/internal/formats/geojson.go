// Package formats writes the synthetic data in published file layouts:
// GeoJSON feature collections (streamed, one feature at a time), CSV with
// the quoting each publisher uses, and Windows-1252 text for GIAS. Output
// is byte-for-byte deterministic: properties keep their given order and
// numbers have fixed precision.
package formats

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// Prop is one GeoJSON property; V is a string, int, float64 (written with
// Dec decimals) or nil.
type Prop struct {
	K   string
	V   any
	Dec int
}

// LonLat is a position.
type LonLat [2]float64

// Features streams a GeoJSON FeatureCollection.
type Features struct {
	w   *bufio.Writer
	n   int
	buf []byte
	err error
}

// NewFeatures starts a collection on w.
func NewFeatures(w io.Writer) *Features {
	f := &Features{w: bufio.NewWriterSize(w, 1<<20)}
	_, f.err = f.w.WriteString(`{"type":"FeatureCollection","features":[`)
	return f
}

// Count is the number of features written.
func (f *Features) Count() int { return f.n }

func (f *Features) start(props []Prop) {
	b := f.buf[:0]
	if f.n > 0 {
		b = append(b, ',', '\n')
	}
	b = append(b, `{"type":"Feature","properties":{`...)
	for i, p := range props {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, p.K)
		b = append(b, ':')
		b = appendValue(b, p)
	}
	b = append(b, `},"geometry":`...)
	f.buf = b
	f.n++
}

func (f *Features) finish() {
	f.buf = append(f.buf, '}')
	if f.err == nil {
		_, f.err = f.w.Write(f.buf)
	}
}

// MultiPolygon writes a feature of polygons, each a list of closed rings.
func (f *Features) MultiPolygon(props []Prop, polys [][][]LonLat) {
	f.start(props)
	b := f.buf
	b = append(b, `{"type":"MultiPolygon","coordinates":[`...)
	for i, poly := range polys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, ring := range poly {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendRing(b, ring)
		}
		b = append(b, ']')
	}
	b = append(b, "]}"...)
	f.buf = b
	f.finish()
}

// Polygon writes a feature of one polygon.
func (f *Features) Polygon(props []Prop, rings [][]LonLat) {
	f.start(props)
	b := f.buf
	b = append(b, `{"type":"Polygon","coordinates":[`...)
	for j, ring := range rings {
		if j > 0 {
			b = append(b, ',')
		}
		b = appendRing(b, ring)
	}
	b = append(b, "]}"...)
	f.buf = b
	f.finish()
}

// Point writes a point feature.
func (f *Features) Point(props []Prop, p LonLat) {
	f.start(props)
	b := f.buf
	b = append(b, `{"type":"Point","coordinates":`...)
	b = appendPos(b, p)
	b = append(b, '}')
	f.buf = b
	f.finish()
}

// Close ends the collection and flushes it.
func (f *Features) Close() error {
	if f.err != nil {
		return f.err
	}
	if _, err := f.w.WriteString("]}\n"); err != nil {
		return err
	}
	return f.w.Flush()
}

func appendRing(b []byte, ring []LonLat) []byte {
	b = append(b, '[')
	for k, p := range ring {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendPos(b, p)
	}
	return append(b, ']')
}

func appendPos(b []byte, p LonLat) []byte {
	b = append(b, '[')
	b = strconv.AppendFloat(b, p[0], 'f', 6, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, p[1], 'f', 6, 64)
	return append(b, ']')
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

func appendValue(b []byte, p Prop) []byte {
	switch v := p.V.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case float64:
		return strconv.AppendFloat(b, v, 'f', p.Dec, 64)
	default:
		return appendString(b, fmt.Sprint(v))
	}
}

// Round6 rounds a coordinate as the files store it, so code that reasons
// about written positions sees what readers see.
func Round6(v float64) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 6, 64), 64)
	return f
}
