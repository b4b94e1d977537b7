package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// categoryRule gives features whose OSM tag Key has Value (or any value,
// for "*") a category. Rules are tried in order; the first match wins.
type categoryRule struct {
	Tag      string `json:"tag"`
	Value    string `json:"value"`
	Category string `json:"category"`
}

// defaultOSMCategories maps the tags of the community assets a
// neighbourhood team connects people to. More specific rules come first
// (a social facility that is a food bank is a food bank).
var defaultOSMCategories = []categoryRule{
	{"amenity", "food_bank", "food_bank"},
	{"social_facility", "food_bank", "food_bank"},
	{"social_facility", "soup_kitchen", "food_bank"},
	{"amenity", "community_centre", "community_centre"},
	{"amenity", "social_centre", "community_centre"},
	{"amenity", "library", "library"},
	{"amenity", "place_of_worship", "place_of_worship"},
	{"amenity", "social_facility", "social_facility"},
	{"amenity", "pharmacy", "pharmacy"},
	{"healthcare", "pharmacy", "pharmacy"},
	{"club", "sport", "sports_club"},
	{"leisure", "sports_centre", "sports_club"},
	{"leisure", "fitness_centre", "sports_club"},
	{"amenity", "post_office", "post_office"},
	{"leisure", "park", "park"},
	{"amenity", "doctors", "gp_surgery"},
	{"amenity", "childcare", "childcare"},
	{"amenity", "kindergarten", "childcare"},
}

// readCategoryRules reads a tag -> category mapping: JSON (an array of
// {"tag", "value", "category"}) or CSV with the header tag,value,category.
func readCategoryRules(file string, r io.Reader) ([]categoryRule, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(512)
	var rules []categoryRule
	if t := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf"); len(t) > 0 && t[0] == '[' {
		if err := json.NewDecoder(br).Decode(&rules); err != nil {
			return nil, &InputError{File: file, Err: fmt.Errorf("not a JSON array of {\"tag\", \"value\", \"category\"}: %w", err)}
		}
		for i, r := range rules {
			if err := r.check(); err != nil {
				return nil, &InputError{File: file, Feature: i + 1, Err: err}
			}
		}
	} else {
		t, err := newTable(file, br)
		if err != nil {
			return nil, err
		}
		var c [3]int
		for i, name := range []string{"tag", "value", "category"} {
			if c[i], err = t.need(name); err != nil {
				return nil, err
			}
		}
		for {
			rec, err := t.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, err
			}
			r := categoryRule{field(rec, c[0]), field(rec, c[1]), field(rec, c[2])}
			if err := r.check(); err != nil {
				return nil, t.errf(c[2], "%v", err)
			}
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		return nil, &InputError{File: file, Err: errors.New("no category rules")}
	}
	return rules, nil
}

func (r categoryRule) check() error {
	switch {
	case r.Tag == "":
		return errors.New("tag is empty")
	case r.Value == "":
		return fmt.Errorf("value of tag %q is empty (use * for any value)", r.Tag)
	case !categoryRe.MatchString(r.Category):
		return fmt.Errorf("category %q must be lower case letters, digits and _", r.Category)
	}
	return nil
}

// categorise returns the category of the first rule the tags match.
// OSM values may be lists ("library;community_centre").
func categorise(rules []categoryRule, tags map[string]string) (string, bool) {
	for _, r := range rules {
		v, ok := tags[r.Tag]
		if !ok {
			continue
		}
		if r.Value == "*" {
			return r.Category, true
		}
		for _, part := range strings.Split(v, ";") {
			if strings.TrimSpace(part) == r.Value {
				return r.Category, true
			}
		}
	}
	return "", false
}
