package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Options are the settings of one import, by option name ("la",
// "set-title"), as text. The command line fills them from flags
// (--set-title), a manifest from its entries' "spec" members (set_title).
// Each kind declares the options it accepts; Run refuses any other.
type Options map[string]string

// option is one setting an import kind may accept.
type option struct {
	name string
	// arg names the value in help (CODE, FILE); "" makes the option a
	// switch (--include-closed), whose value is true or false.
	arg  string
	help string // what it does, for kinds that say nothing more
	// check validates the value's form; kinds check its meaning.
	check func(string) error
}

func wholeNumber(s string) error {
	if _, err := strconv.Atoi(s); err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	return nil
}

// oneOf accepts only the given values.
func oneOf(values ...string) func(string) error {
	return func(s string) error {
		if !contains(values, s) {
			return fmt.Errorf("%q is not one of %s", s, strings.Join(values, ", "))
		}
		return nil
	}
}

// year accepts a four-digit year.
func year(s string) error {
	if n, err := strconv.Atoi(s); err != nil || n < 1900 || n > 2999 {
		return fmt.Errorf("%q is not a year such as 2024", s)
	}
	return nil
}

func boolean(s string) error {
	if _, err := strconv.ParseBool(s); err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	return nil
}

// The options of every kind. A kind's declaration may say more about one.
var (
	optKey           = option{name: "key", arg: "KEY", help: "dataset key: re-importing the same kind and key replaces the dataset"}
	optLevel         = option{name: "level", arg: "LEVEL", help: "lsoa (small areas), or msoa, ward or custom (a neighbourhood set)"}
	optVintage       = option{name: "vintage", arg: "YEAR", help: "the geography's year: LSOA 2011 or 2021, a ward or MSOA set's year (read from the code column's name when it says, e.g. LSOA21CD, WD24CD)", check: year}
	optSet           = option{name: "set", arg: "ID", help: "neighbourhood set id: lower case letters, digits, - and _ (e.g. ward)"}
	optSetTitle      = option{name: "set-title", arg: "TEXT", help: "the neighbourhood set's title (default: its id)"}
	optCodeField     = option{name: "code-field", arg: "NAME", help: "property holding the area code (found automatically when ONS-named)"}
	optNameField     = option{name: "name-field", arg: "NAME", help: "property holding the name (found automatically when usual)"}
	optLookup        = option{name: "lookup", arg: "FILE", help: "a lookup CSV, relative to the imported file's folder"}
	optPeriod        = option{name: "period", arg: "PERIOD", help: "period of the estimate, e.g. mid-2021 (read from the column name when it says)"}
	optActiveOnly    = option{name: "active-only", help: "keep active practices (status A) only", check: boolean}
	optCategory      = option{name: "category", arg: "NAME", help: "category of every row: lower case letters, digits and _ (e.g. food_bank); else a category column"}
	optMergeWithin   = option{name: "merge-within", arg: "METRES", help: "merge same-named features within this distance into one asset", check: wholeNumber}
	optLA            = option{name: "la", arg: "CODE[,CODE...]", help: "keep the rows of these local authorities only (ONS codes such as E08000010)"}
	optIncludeClosed = option{name: "include-closed", help: "keep closed rows too", check: boolean}
	optEncoding      = option{name: "encoding", arg: "ENCODING", help: "text encoding: utf-8 or windows-1252 (default: UTF-8 when the file is valid UTF-8, else Windows-1252)"}
	optCategories    = option{name: "categories", arg: "FILE", help: "OpenStreetMap tag -> category rules, JSON or CSV (tag,value,category), replacing the built-in ones"}
	optAllowGaps     = option{name: "allow-gaps", help: "accept a set that leaves loaded small areas out (they are listed in the notes)", check: boolean}
	optRevise        = option{name: "revise", help: "publish a new release of periods already published (docs/methodology.md, Releases)", check: boolean}
	optSheet         = option{name: "sheet", arg: "NAME", help: "the sheet of an .xlsx workbook to read (default: the first sheet whose header row the kind recognises)"}
	optRelease       = option{name: "release", arg: "YEAR", help: "the release of the indices, 2019 or 2025 (default: read from the header)", check: oneOf("2019", "2025")}
	optFunder        = option{name: "funder", arg: "ID|NAME", help: "keep the grants of this funder only (its 360Giving identifier or name, any case)"}
	optProgramme     = option{name: "programme", arg: "CODE|TITLE", help: "keep the grants of this grant programme only (its code or title, any case)"}
	optFrom          = option{name: "from", arg: "YYYY-MM-DD", help: "keep grants awarded on or after this date", check: isoDate}
	optTo            = option{name: "to", arg: "YYYY-MM-DD", help: "keep grants awarded on or before this date", check: isoDate}
	// optAllowEmpty is accepted by every kind (Run reads it).
	optAllowEmpty = option{name: "allow-empty", help: "let an import of no rows replace the dataset (otherwise refused)", check: boolean}
)

// allOptions lists every option any kind accepts, by name.
var allOptions = map[string]option{}

func init() {
	for _, o := range []option{optKey, optLevel, optVintage, optSet, optSetTitle, optCodeField, optNameField, optLookup, optPeriod,
		optActiveOnly, optCategory, optMergeWithin, optLA, optIncludeClosed, optEncoding, optCategories, optAllowGaps, optRevise, optSheet,
		optRelease, optAllowEmpty, optFunder, optProgramme, optFrom, optTo} {
		allOptions[o.name] = o
	}
}

// accepts is one option a kind accepts, with what it means for that kind
// ("" keeps the option's own help).
type accepts struct {
	opt  option
	help string
}

// OptionInfo describes an option for help text.
type OptionInfo struct {
	Name string // flag name, without dashes
	Arg  string // value placeholder; "" for a switch
	Help string
}

// AllOptions lists every option of every kind, sorted by name, so that the
// command line can take them all and let Run say which kind refuses one.
func AllOptions() []OptionInfo {
	out := make([]OptionInfo, 0, len(allOptions))
	for _, o := range allOptions {
		out = append(out, OptionInfo{Name: o.name, Arg: o.arg, Help: o.help})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// text returns the option's value ("" when not given).
func (o Options) text(opt option) string { return strings.TrimSpace(o[opt.name]) }

// number returns a whole-number option (0 when not given); checkOptions
// has already refused one that is not a number.
func (o Options) number(opt option) int {
	n, _ := strconv.Atoi(o.text(opt))
	return n
}

// flag returns a switch.
func (o Options) flag(opt option) bool {
	b, _ := strconv.ParseBool(o.text(opt))
	return b
}

// list returns a comma-separated option's items, trimmed, empty ones left out.
func (o Options) list(opt option) []string {
	var out []string
	for _, s := range strings.Split(o.text(opt), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// OptionError is an option a kind does not accept, or a value of the wrong
// form: a mistake on the command line or in a manifest, not in the file.
type OptionError struct {
	Kind, Option string
	Err          error
}

func (e *OptionError) Error() string { return e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// checkOptions refuses options the kind does not accept, naming both, and
// values of the wrong form.
func (im *importer) checkOptions(kind string, opts Options) error {
	names := make([]string, 0, len(opts))
	for n := range opts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		o, ok := im.accepted(n)
		if !ok {
			why := im.refuses[n]
			if why == "" {
				why = "it takes " + im.optionList()
			}
			msg := fmt.Sprintf("--%s is not an option of import kind %q (%s)", n, kind, why)
			if _, known := allOptions[n]; !known {
				msg = fmt.Sprintf("--%s is not an option of any import kind (import kind %q takes %s)", n, kind, im.optionList())
			}
			return &OptionError{Kind: kind, Option: n, Err: fmt.Errorf("%s", msg)}
		}
		if o.check != nil {
			if err := o.check(strings.TrimSpace(opts[n])); err != nil {
				return &OptionError{Kind: kind, Option: n, Err: fmt.Errorf("--%s: %w", n, err)}
			}
		}
	}
	return nil
}

// accepted finds an option the kind accepts (allow-empty: every kind).
func (im *importer) accepted(name string) (option, bool) {
	if name == optAllowEmpty.name {
		return optAllowEmpty, true
	}
	for _, a := range im.options {
		if a.opt.name == name {
			return a.opt, true
		}
	}
	return option{}, false
}

func (im *importer) optionList() string {
	if len(im.options) == 0 {
		return "no options of its own"
	}
	names := make([]string, len(im.options))
	for i, a := range im.options {
		names[i] = "--" + a.opt.name
	}
	return strings.Join(names, ", ")
}

// UnmarshalJSON reads a manifest's "spec": members named like the options
// with _ for - ("set_title"), whose values are text, numbers, true or
// false, or lists of text (for la).
func (o *Options) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := Options{}
	for k, v := range raw {
		name := strings.ReplaceAll(k, "_", "-")
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		var x any
		if err := dec.Decode(&x); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		switch x := x.(type) {
		case string:
			out[name] = x
		case json.Number:
			out[name] = x.String()
		case bool:
			out[name] = strconv.FormatBool(x)
		case []any:
			items := make([]string, len(x))
			for i, it := range x {
				s, ok := it.(string)
				if !ok {
					return fmt.Errorf("%s: a list must hold text", k)
				}
				items[i] = s
			}
			out[name] = strings.Join(items, ",")
		default:
			return fmt.Errorf("%s: want text, a number, true or false, or a list of text", k)
		}
	}
	*o = out
	return nil
}
