package main

import (
	"regexp"
	"strings"
	"testing"
)

func TestHelpGoesToStdoutWithStatusZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, out, errs := nbhd(t, args...)
		if code != 0 || errs != "" {
			t.Errorf("nbhd %v: exit %d, stderr %q; want 0 and nothing", args, code, errs)
		}
		for _, c := range []string{"serve", "migrate", "load-sample", "import", "datasets", "settings", "keys", "export"} {
			if !regexp.MustCompile(`(?m)^  ` + c + ` +\S`).MatchString(out) {
				t.Errorf("nbhd %v does not list %s:\n%s", args, c, out)
			}
		}
	}
	// No command at all is a mistake: usage to stderr, status 2.
	if code, out, errs := nbhd(t); code != 2 || out != "" || !strings.Contains(errs, "commands:") {
		t.Errorf("nbhd: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// Every command's --help lists its own flags and an example, on stdout.
func TestEveryCommandHelpListsItsFlagsAndAnExample(t *testing.T) {
	for cmd, flags := range map[string][]string{
		"serve":       {"--addr", "--database-url", "--statement-timeout", "--shutdown-timeout", "--tile-cache-mb", "--cors-origins"},
		"migrate":     {"--database-url"},
		"load-sample": {"--dir", "--if-empty", "--wait", "--database-url"},
		"import":      {"--title", "--source", "--licence", "--attribution", "--wait", "--database-url"},
		"datasets":    {"--wait", "--database-url"},
		"settings":    {"--wait", "--database-url"},
		"keys":        {"--name", "--role", "--scope", "--database-url"},
		"export":      {"--layer", "--minzoom", "--maxzoom", "--workers", "--database-url"},
	} {
		code, out, errs := nbhd(t, cmd, "--help")
		if code != 0 || errs != "" {
			t.Errorf("nbhd %s --help: exit %d, stderr %q", cmd, code, errs)
		}
		if !strings.HasPrefix(out, "usage: nbhd "+cmd) {
			t.Errorf("nbhd %s --help does not start with its usage:\n%s", cmd, out)
		}
		for _, f := range flags {
			if !regexp.MustCompile(`(?m)^  ` + f + `\b`).MatchString(out) {
				t.Errorf("nbhd %s --help does not list %s:\n%s", cmd, f, out)
			}
		}
		if !strings.Contains(out, "may be set in the environment instead, as NBHD_") {
			t.Errorf("nbhd %s --help does not say flags may come from the environment:\n%s", cmd, out)
		}
		if !regexp.MustCompile(`(?m)^examples?:\n  nbhd ` + cmd).MatchString(out) {
			t.Errorf("nbhd %s --help has no example:\n%s", cmd, out)
		}
		// nbhd help CMD says the same.
		if _, again, _ := nbhd(t, "help", cmd); again != out {
			t.Errorf("nbhd help %s differs from nbhd %s --help", cmd, cmd)
		}
	}
}

// The kinds' own options are not flags of `nbhd import --help`: it lists the
// kinds, one line each.
func TestImportHelpListsKindsNotEveryKindsFlags(t *testing.T) {
	code, out, _ := nbhd(t, "import", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	kinds := []string{"assets", "assets-csv", "boundaries", "codepoint", "demand", "epraccur", "gias", "gp-list-sizes",
		"gp-practices", "imd", "neighbourhoods", "onspd", "osm", "population", "postcodes", "schools"}
	for _, k := range kinds {
		if n := len(regexp.MustCompile(`(?m)^  `+regexp.QuoteMeta(k)+` +\S.*$`).FindAllString(out, -1)); n != 1 {
			t.Errorf("kind %s is on %d lines of nbhd import --help, want 1", k, n)
		}
	}
	for _, f := range []string{"--la", "--level", "--set", "--include-closed", "--categories", "--period", "--lookup"} {
		if strings.Contains(out, "\n  "+f) {
			t.Errorf("nbhd import --help lists the kind option %s:\n%s", f, out)
		}
	}
	for _, k := range kinds {
		code, out, errs := nbhd(t, "import", k, "--help")
		if code != 0 || errs != "" || !strings.HasPrefix(out, "usage: nbhd import "+k+" FILE") ||
			!strings.Contains(out, "options of "+k+":") || !strings.Contains(out, "example:\n  nbhd import "+k+" ") {
			t.Errorf("nbhd import %s --help: exit %d, stderr %q:\n%s", k, code, errs, out)
		}
	}
}

func TestImportKindHelpListsOnlyThatKindsFlags(t *testing.T) {
	code, out, errs := nbhd(t, "import", "gias", "--help")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, f := range []string{"--key", "--la", "--include-closed", "--encoding", "--allow-empty", "--title", "--licence", "--database-url"} {
		if !regexp.MustCompile(`(?m)^  ` + f + `\b`).MatchString(out) {
			t.Errorf("nbhd import gias --help does not list %s:\n%s", f, out)
		}
	}
	for _, f := range []string{"--level", "--vintage", "--set", "--set-title", "--lookup", "--period", "--active-only",
		"--category", "--categories", "--merge-within", "--allow-gaps", "--code-field", "--name-field"} {
		if regexp.MustCompile(`(?m)^  ` + f + `\b`).MatchString(out) {
			t.Errorf("nbhd import gias --help lists %s, an option of other kinds:\n%s", f, out)
		}
	}
	if !strings.Contains(out, "edubasealldata") || !strings.Contains(out, "Windows-1252") {
		t.Errorf("nbhd import gias --help does not say what it reads:\n%s", out)
	}
}

func TestImportRefusesAnOptionTheKindDoesNotTake(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "neighbourhoods", "footprints.csv", "--la", "E08000010"}, `--la is not an option of import kind "neighbourhoods"`},
		{[]string{"import", "gias", "edubase.csv", "--level", "lsoa"}, `--level is not an option of import kind "gias"`},
		{[]string{"import", "osm", "osm.geojson", "--la", "E08000010"}, "no local-authority field"},
		{[]string{"import", "imd", "imd.csv", "--nope"}, "flag provided but not defined"},
		{[]string{"import", "gias"}, "need KIND and FILE"},
		{[]string{"import", "nope", "x.csv"}, `unknown import kind "nope"`},
	} {
		code, out, errs := nbhd(t, c.args...)
		if code != 2 || out != "" || !strings.Contains(errs, c.want) {
			t.Errorf("nbhd %v: exit %d, stdout %q, stderr %q; want 2 and %q", c.args, code, out, errs, c.want)
		}
	}
}
