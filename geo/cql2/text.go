package cql2

import (
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// FoldCase is CASEI: upper case, then lower case, with Unicode's full case
// mappings ("Straße" and "STRASSE" both become "strasse"). The data package
// asks PostgreSQL for the same with lower(upper(x)) under an ICU collation.
func FoldCase(s string) string {
	return cases.Lower(language.Und).String(cases.Upper(language.Und).String(s))
}

// keptMarks are non-spacing marks ACCENTI keeps: stripping the Japanese
// voicing marks would change a word's meaning, as the CQL2 standard notes.
var keptMarks = map[rune]bool{0x3099: true, 0x309A: true}

// StripAccents is ACCENTI: the canonical decomposition (NFD) of s without
// its non-spacing marks (Unicode category Mn), so "Café" becomes "Cafe".
func StripAccents(s string) string {
	d := norm.NFD.String(s)
	out := make([]rune, 0, len(d))
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) && !keptMarks[r] {
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

// AccentMarks are the ranges of characters StripAccents removes, for
// building the same operation in SQL.
func AccentMarks() [][2]rune {
	var out [][2]rune
	add := func(lo, hi rune) {
		for r := lo; r <= hi; r++ {
			if keptMarks[r] {
				if r > lo {
					out = append(out, [2]rune{lo, r - 1})
				}
				lo = r + 1
			}
		}
		if lo <= hi {
			out = append(out, [2]rune{lo, hi})
		}
	}
	for _, r := range unicode.Mn.R16 {
		for lo := rune(r.Lo); lo <= rune(r.Hi); lo += rune(r.Stride) {
			if r.Stride == 1 {
				add(lo, rune(r.Hi))
				break
			}
			add(lo, lo)
		}
	}
	for _, r := range unicode.Mn.R32 {
		for lo := rune(r.Lo); lo <= rune(r.Hi); lo += rune(r.Stride) {
			if r.Stride == 1 {
				add(lo, rune(r.Hi))
				break
			}
			add(lo, lo)
		}
	}
	return out
}
