package data

import (
	"reflect"
	"testing"
)

// TestSettingsKeyFollowsWhatSettingsOfReads: boroughs share a parse of
// their settings only when settingsOf would read the same rows for them.
func TestSettingsKeyFollowsWhatSettingsOfReads(t *testing.T) {
	rows := []settingRow{
		{Borough: "", Key: "demand_model", Value: []byte(`{"shares":{"chaotic":0.03}}`)},
		{Borough: "", Key: "access", Value: []byte(`{"metres":800}`)},
		{Borough: "E08000010", Key: "demand_model", Value: []byte(`{"shares":{"chaotic":0.05}}`)},
		{Borough: "E08000010", Key: "access", Value: []byte(`{"metres":800}`)},
		{Borough: "E08000001", Key: "demand_model", Value: []byte(`{"shares":{"chaotic":0.03}}`)},
		{Borough: "E08000001", Key: "access", Value: []byte(`{"metres":800}`)},
	}
	lads := []string{"", "E08000010", "E08000001", "E06000001", "E09000001"}
	for _, a := range lads {
		for _, b := range lads {
			sa, err := settingsOf(rows, a)
			if err != nil {
				t.Fatal(err)
			}
			sb, err := settingsOf(rows, b)
			if err != nil {
				t.Fatal(err)
			}
			sameKey := settingsKey(rows, a) == settingsKey(rows, b)
			if sameKey && !reflect.DeepEqual(sa, sb) {
				t.Errorf("%q and %q share a key but not settings: %v, %v", a, b, sa, sb)
			}
		}
	}
	// Boroughs without rows of their own share England's; one with its own
	// other values does not.
	if settingsKey(rows, "E06000001") != settingsKey(rows, "E09000001") || settingsKey(rows, "E06000001") != settingsKey(rows, "") {
		t.Error("boroughs without settings of their own do not share England's")
	}
	if settingsKey(rows, "E08000010") == settingsKey(rows, "") {
		t.Error("a borough with its own values shares England's key")
	}
}
