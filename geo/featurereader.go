package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/paulmach/orb/geojson"
)

// FeatureReader decodes a GeoJSON FeatureCollection one feature at a time, so
// a national file never has to fit in memory. Errors name the 1-based feature
// number they occurred in.
type FeatureReader struct {
	dec  *json.Decoder
	n    int  // features returned so far
	done bool // the features array has ended
}

// NewFeatureReader reads up to the start of the collection's "features" array.
func NewFeatureReader(r io.Reader) (*FeatureReader, error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("not a GeoJSON FeatureCollection: %w", err)
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not a GeoJSON FeatureCollection: %w", syntax(err))
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New(`not a GeoJSON FeatureCollection: no "features" member`)
		}
		if key == "features" {
			if err := expectDelim(dec, '['); err != nil {
				return nil, fmt.Errorf(`"features" is not an array: %w`, err)
			}
			return &FeatureReader{dec: dec}, nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, fmt.Errorf("member %q: %w", key, syntax(err))
		}
		if key == "type" && string(skip) != `"FeatureCollection"` {
			return nil, fmt.Errorf("GeoJSON type is %s, want \"FeatureCollection\"", skip)
		}
	}
}

// Next returns the next feature and its 1-based number, or io.EOF after the
// last one. A feature with a null geometry is returned with Geometry nil.
func (fr *FeatureReader) Next() (*geojson.Feature, int, error) {
	if fr.done {
		return nil, fr.n, io.EOF
	}
	if !fr.dec.More() {
		// Consume "]" and whatever members follow, so a file cut short
		// after its last feature is still reported as truncated.
		fr.done = true
		if err := fr.finish(); err != nil {
			return nil, fr.n, fmt.Errorf("after feature %d: %w", fr.n, err)
		}
		return nil, fr.n, io.EOF
	}
	fr.n++
	var raw json.RawMessage
	if err := fr.dec.Decode(&raw); err != nil {
		fr.done = true
		return nil, fr.n, fmt.Errorf("feature %d: %w", fr.n, syntax(err))
	}
	f, err := geojson.UnmarshalFeature(raw)
	if err != nil {
		return nil, fr.n, fmt.Errorf("feature %d: %w", fr.n, err)
	}
	if f.Geometry != nil && emptyCoordinates(raw) {
		f.Geometry = nil // orb reads "coordinates": [] as a point at 0,0
	}
	return f, fr.n, nil
}

func (fr *FeatureReader) finish() error {
	if err := expectDelim(fr.dec, ']'); err != nil {
		return err
	}
	for fr.dec.More() {
		if _, err := fr.dec.Token(); err != nil { // key
			return syntax(err)
		}
		var skip json.RawMessage
		if err := fr.dec.Decode(&skip); err != nil {
			return syntax(err)
		}
	}
	return expectDelim(fr.dec, '}')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, found %v", string(want), tok)
	}
	return nil
}

// syntax turns the decoder's end-of-input errors into words a person reading
// an import error understands.
func syntax(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("file is truncated (unexpected end of JSON): %w", io.ErrUnexpectedEOF)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	return err
}

// emptyCoordinates reports a geometry whose coordinates are an empty array,
// which GeoJSON uses for empty geometries.
func emptyCoordinates(raw json.RawMessage) bool {
	var f struct {
		Geometry *struct {
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
	}
	if json.Unmarshal(raw, &f) != nil || f.Geometry == nil {
		return false
	}
	c := bytes.TrimSpace(f.Geometry.Coordinates)
	return len(c) >= 2 && c[0] == '[' && len(bytes.TrimSpace(c[1:len(c)-1])) == 0
}
