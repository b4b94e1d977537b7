package ingest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestDecodeTextDecidesAtTheFirstNonASCIIByte(t *testing.T) {
	ascii := strings.Repeat("URN,EstablishmentName\n", 10_000) // past any look-ahead
	for _, c := range []struct {
		name, enc string
		in        []byte
		want      string
	}{
		{"Windows-1252 late in the file", "", append([]byte(ascii), "St Mary\x92s Caf\xe9\n"...), ascii + "St Mary’s Café\n"},
		{"UTF-8 late in the file", "", []byte(ascii + "St Mary’s Café\n"), ascii + "St Mary’s Café\n"},
		{"UTF-8 with a byte order mark", "", []byte("\xef\xbb\xbfCafé"), "\ufeffCafé"},
		{"forced Windows-1252", "windows-1252", []byte("Caf\xe9"), "Café"},
		{"forced UTF-8", "utf-8", []byte("Café"), "Café"},
	} {
		r, err := decodeText(bytes.NewReader(c.in), c.enc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || string(got) != c.want {
			t.Errorf("%s: %v, got ...%q", c.name, err, got[max(0, len(got)-20):])
		}
	}
	if _, err := decodeText(strings.NewReader(""), "ebcdic"); err == nil {
		t.Error("unknown encoding accepted")
	}
}

func TestCSVFieldsMustBeText(t *testing.T) {
	for _, in := range []string{"a,b\nx,Caf\xe9\n", "a,b\nx,y\x00z\n"} {
		tb, err := newTable("f.csv", strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		_, err = tb.next()
		var ie *InputError
		if !errors.As(err, &ie) || ie.Line != 2 || ie.Field != "b" {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// A CSV's coordinates are checked column by column: the error names the
// column at fault and speaks of columns, never of GeoJSON.
func TestLonLatNamesTheColumnAtFault(t *testing.T) {
	for _, c := range []struct {
		row, field string
		want       []string
	}{
		{"-2.63,99", "latitude", []string{"99 is not in degrees", "British National Grid"}},
		{"-2.63,75.5", "latitude", []string{"latitude 75.5 lies outside the British Isles"}},
		{"-20.5,53.5", "longitude", []string{"longitude -20.5 lies outside the British Isles"}},
		{"358016,53.5", "longitude", []string{"358016 is not in degrees"}},
		{"53.5,-2.63", "latitude", []string{"wrong way round", `"latitude" and "longitude"`}},
		{"-2.63,north", "latitude", []string{`latitude "north" is not a number`}},
		{"NaN,53.5", "longitude", []string{`longitude "NaN" is not a number`}},
		{"-2.63,", "latitude", []string{"latitude is empty"}},
	} {
		tbl, err := newTable("assets.csv", strings.NewReader("longitude,latitude\n"+c.row+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := tbl.next()
		if err != nil {
			t.Fatal(err)
		}
		_, err = lonLat(tbl, rec, 0, 1)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != c.field || ie.Line != 2 {
			t.Errorf("%s: %v, want an error at line 2, field %q", c.row, err, c.field)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.row, err, w)
			}
		}
		if strings.Contains(err.Error(), "GeoJSON") {
			t.Errorf("%s: a CSV error speaks of GeoJSON: %q", c.row, err)
		}
	}
	tbl, _ := newTable("assets.csv", strings.NewReader("lon,lat\n-2.63,53.55\n"))
	rec, _ := tbl.next()
	if pt, err := lonLat(tbl, rec, 0, 1); err != nil || pt[0] != -2.63 || pt[1] != 53.55 {
		t.Errorf("a good point: %v %v", pt, err)
	}
}
