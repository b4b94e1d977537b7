package points

import "testing"

func TestCompactIsCodePointsSevenCharacters(t *testing.T) {
	for code, want := range map[string]string{"B1 1AA": "B1  1AA", "WN1 1AA": "WN1 1AA", "WN12 1AA": "WN121AA", "EC1A 1BB": "EC1A1BB"} {
		if got := (Postcode{Code: code}).Compact(); got != want {
			t.Errorf("%q: got %q, want %q", code, got, want)
		}
	}
}
