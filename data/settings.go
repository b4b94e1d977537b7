package data

import (
	"encoding/json"
	"fmt"
)

// ValidateSetting checks a whole settings value before it is stored, so a
// typo cannot switch disclosure control off or break the demand model.
func ValidateSetting(key string, value []byte) error {
	var v map[string]any
	if err := json.Unmarshal(value, &v); err != nil {
		return fmt.Errorf("%s: not a JSON object: %w", key, err)
	}
	num := func(m map[string]any, name string, lo, hi float64) error {
		f, ok := m[name].(float64)
		if !ok || f < lo || f > hi {
			return fmt.Errorf("%s.%s must be a number from %g to %g", key, name, lo, hi)
		}
		return nil
	}
	obj := func(m map[string]any, name string) (map[string]any, error) {
		o, ok := m[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s.%s must be an object", key, name)
		}
		return o, nil
	}
	switch key {
	case "demand_model":
		shares, err := obj(v, "shares")
		if err != nil {
			return err
		}
		steep, err := obj(v, "steepness")
		if err != nil {
			return err
		}
		weights, err := obj(v, "weights")
		if err != nil {
			return err
		}
		for _, seg := range []string{"chaotic", "just_coping"} {
			if err := num(shares, seg, 0, 1); err != nil {
				return err
			}
			if err := num(steep, seg, 0, 10); err != nil {
				return err
			}
			w, err := obj(weights, seg)
			if err != nil {
				return err
			}
			total := 0.0
			for d := range w {
				if err := num(w, d, 0, 100); err != nil {
					return err
				}
				if _, ok := map[string]bool{"imd": true, "income": true, "employment": true, "education": true, "health": true,
					"crime": true, "barriers": true, "living_env": true}[d]; !ok {
					return fmt.Errorf("%s.weights.%s.%s: unknown IMD domain", key, seg, d)
				}
				total += w[d].(float64)
			}
			if total <= 0 {
				return fmt.Errorf("%s.weights.%s needs a positive weight", key, seg)
			}
		}
		if shares["chaotic"].(float64)+shares["just_coping"].(float64) > 1 {
			return fmt.Errorf("%s.shares add up to more than 1", key)
		}
	case "disclosure":
		if err := num(v, "min_count", 1, 1000); err != nil {
			return err
		}
		if err := num(v, "rounding", 1, 1000); err != nil {
			return err
		}
		return num(v, "min_neighbourhood_population", 0, 1e7)
	case "access":
		return num(v, "distance_m", 1, 100_000)
	case "priority":
		w, err := obj(v, "weights")
		if err != nil {
			return err
		}
		for _, c := range []string{"just_coping_rate", "chaotic_rate", "access_shortfall", "deprivation"} {
			if err := num(w, c, 0, 100); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("no setting %q", key)
	}
	return nil
}
