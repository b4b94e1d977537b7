package data

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// rule describes one member of a setting: a number in [lo, hi], free text,
// an object with the named members, or an object whose members are named
// from a fixed set and each follow one rule.
type rule struct {
	lo, hi   float64
	text     bool
	members  map[string]rule
	each     *rule
	names    []string // the names each's members may have
	optional bool
	// check runs after the members are valid, for rules across them.
	check func(path string, v map[string]any) error
}

func number(lo, hi float64) rule { return rule{lo: lo, hi: hi} }

var imdDomains = []string{"barriers", "crime", "education", "employment", "health", "imd", "income", "living_env"}

// settingRules are the settings and their members; docs/methodology.md
// explains each.
var settingRules = map[string]rule{
	"demand_model": {members: map[string]rule{
		"method":    {text: true, optional: true},
		"shares":    {members: map[string]rule{"chaotic": number(0, 1), "just_coping": number(0, 1)}, check: sharesAtMostOne},
		"steepness": {members: map[string]rule{"chaotic": number(0, 10), "just_coping": number(0, 10)}},
		"weights": {members: map[string]rule{
			"chaotic":     {each: &rule{lo: 0, hi: 100}, names: imdDomains, check: positiveWeight},
			"just_coping": {each: &rule{lo: 0, hi: 100}, names: imdDomains, check: positiveWeight},
		}},
	}},
	"disclosure": {members: map[string]rule{
		"min_count": number(1, 1000), "rounding": number(1, 1000), "min_neighbourhood_population": number(0, 1e7),
	}},
	"access": {members: map[string]rule{"distance_m": number(1, 100_000)}},
	"priority": {members: map[string]rule{"weights": {members: map[string]rule{
		"just_coping_rate": number(0, 100), "chaotic_rate": number(0, 100), "access_shortfall": number(0, 100), "deprivation": number(0, 100),
	}}}},
}

func sharesAtMostOne(path string, v map[string]any) error {
	if v["chaotic"].(float64)+v["just_coping"].(float64) > 1 {
		return fmt.Errorf("%s.chaotic and %s.just_coping add up to more than 1", path, path)
	}
	return nil
}

func positiveWeight(path string, v map[string]any) error {
	total := 0.0
	for _, w := range v {
		total += w.(float64)
	}
	if total <= 0 {
		return fmt.Errorf("%s needs a positive weight for at least one IMD domain", path)
	}
	return nil
}

// SettingKeys lists the settings, sorted.
func SettingKeys() []string {
	keys := make([]string, 0, len(settingRules))
	for k := range settingRules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ValidateSetting checks a whole settings value before it is stored, so a
// typo cannot switch disclosure control off or break the demand model.
// Errors name the member by its full path (demand_model.shares.chaotic).
func ValidateSetting(key string, value []byte) error {
	r, ok := settingRules[key]
	if !ok {
		return fmt.Errorf("no setting %q (settings are %s)", key, strings.Join(SettingKeys(), ", "))
	}
	var v any
	if err := json.Unmarshal(value, &v); err != nil {
		return fmt.Errorf("%s: not JSON: %w", key, err)
	}
	return r.validate(key, v)
}

func (r rule) validate(path string, v any) error {
	switch {
	case r.text:
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s must be text", path)
		}
		return nil
	case r.members == nil && r.each == nil:
		f, ok := v.(float64)
		if !ok || f < r.lo || f > r.hi {
			return fmt.Errorf("%s must be a number from %g to %g", path, r.lo, r.hi)
		}
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s must be an object", path)
	}
	for _, name := range sortedNames(obj) {
		m, ok := r.members[name]
		if r.each != nil {
			m, ok = *r.each, contains(r.names, name)
		}
		if !ok {
			return fmt.Errorf("%s.%s: unknown member (%s has %s)", path, name, path, strings.Join(r.allowed(), ", "))
		}
		if err := m.validate(path+"."+name, obj[name]); err != nil {
			return err
		}
	}
	for _, name := range sortedNames(r.members) {
		if _, ok := obj[name]; !ok && !r.members[name].optional {
			return fmt.Errorf("%s.%s is missing", path, name)
		}
	}
	if r.check != nil {
		return r.check(path, obj)
	}
	return nil
}

func (r rule) allowed() []string {
	if r.each != nil {
		return r.names
	}
	return sortedNames(r.members)
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// MergePatch applies a JSON merge patch (RFC 7386) to a JSON value: members
// of patch objects merge into target objects at every depth, so
// {"shares": {"chaotic": 0.05}} changes only shares.chaotic; a null member
// removes one; anything else replaces.
func MergePatch(target, patch []byte) ([]byte, error) {
	var t, p any
	if err := json.Unmarshal(target, &t); err != nil {
		return nil, fmt.Errorf("stored value: %w", err)
	}
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, err
	}
	return json.Marshal(mergePatch(t, p))
}

func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}
