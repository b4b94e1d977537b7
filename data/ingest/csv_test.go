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
