package data

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// DoorstepAsset is one community asset on a doorstep, with what a link
// worker hands on: how to reach it, when it is open, what it costs and who
// it is for, and how far it is.
type DoorstepAsset struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Category     string  `json:"category"`
	Address      string  `json:"address"`
	Postcode     string  `json:"postcode"`
	Phone        string  `json:"phone"`
	Website      string  `json:"website"`
	OpeningHours string  `json:"opening_hours"`
	Cost         string  `json:"cost"` // free, low, paid or unknown
	Audience     string  `json:"audience"`
	DistanceM    float64 `json:"distance_m"`
	Lon          float64 `json:"lon"`
	Lat          float64 `json:"lat"`
}

// Doorstep is what lies within the access distance of a GP practice or a
// school: the circle (centre and radius) and the assets in it, nearest
// first.
type Doorstep struct {
	Kind     string          `json:"kind"` // gp-practice or school
	Code     string          `json:"code"`
	Name     string          `json:"name"`
	Address  string          `json:"address"`
	Postcode string          `json:"postcode"`
	Borough  string          `json:"borough"`
	Lon      float64         `json:"lon"`
	Lat      float64         `json:"lat"`
	RadiusM  float64         `json:"radius_m"`
	Assets   []DoorstepAsset `json:"-"`
}

// doorstepPlaces are the two kinds of place a doorstep is around: the
// public view and key each is read from.
var doorstepPlaces = map[string]struct{ view, key, address string }{
	"gp-practice": {"gp_practices", "code", "address"},
	"school":      {"schools", "id", "''"},
}

// Doorstep reads the community assets within the access distance (the
// setting access.distance_m of the place's borough, else England's) of a
// GP practice (kind "gp-practice", its ODS code) or a school ("school",
// its id), measured in a straight line on the British National Grid,
// nearest first (ties by id). It returns ErrNotFound for an unknown place.
func (s *Store) Doorstep(ctx context.Context, kind, code string) (Doorstep, error) {
	p, ok := doorstepPlaces[kind]
	if !ok {
		return Doorstep{}, fmt.Errorf("doorstep: unknown kind %q", kind)
	}
	c, err := s.public.acquire(ctx)
	if err != nil {
		return Doorstep{}, fmt.Errorf("doorstep: %w", err)
	}
	defer c.Release()
	d := Doorstep{Kind: kind, Code: code}
	var lad *string
	// View and key come from doorstepPlaces, never from input.
	err = c.QueryRow(ctx, fmt.Sprintf(`SELECT t.name, %s, t.postcode, t.lad_code,
		  round(ST_X(t.geom)::numeric, 7)::float8, round(ST_Y(t.geom)::numeric, 7)::float8,
		  coalesce((SELECT (st.value->>'distance_m')::float8 FROM api.settings st
		            WHERE st.key = 'access' AND st.borough = coalesce(t.lad_code, '')),
		           (SELECT (st.value->>'distance_m')::float8 FROM api.settings st WHERE st.key = 'access' AND st.borough = ''), 800)
		FROM %s t WHERE t.%s = $1`, p.address, pgx.Identifier{"api", p.view}.Sanitize(), pgx.Identifier{p.key}.Sanitize()), code).
		Scan(&d.Name, &d.Address, &d.Postcode, &lad, &d.Lon, &d.Lat, &d.RadiusM)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("read %s: %w", kind, err)
	}
	d.Borough = deref(lad)
	rows, err := c.Query(ctx, fmt.Sprintf(`WITH here AS (SELECT t.geom_bng FROM %s t WHERE t.%s = $1)
		SELECT a.id, a.name, a.category, a.address, a.postcode, a.phone, a.url, a.opening_hours, a.cost, a.audience,
		       round(ST_Distance(a.geom_bng, here.geom_bng)::numeric, 1)::float8 AS d,
		       round(ST_X(a.geom)::numeric, 7)::float8, round(ST_Y(a.geom)::numeric, 7)::float8
		FROM api.community_assets a, here
		WHERE ST_DWithin(a.geom_bng, here.geom_bng, $2)
		ORDER BY ST_Distance(a.geom_bng, here.geom_bng), a.id`, pgx.Identifier{"api", p.view}.Sanitize(), pgx.Identifier{p.key}.Sanitize()),
		code, d.RadiusM)
	if err != nil {
		return d, fmt.Errorf("read doorstep: %w", err)
	}
	d.Assets, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (DoorstepAsset, error) {
		var a DoorstepAsset
		err := r.Scan(&a.ID, &a.Name, &a.Category, &a.Address, &a.Postcode, &a.Phone, &a.Website, &a.OpeningHours,
			&a.Cost, &a.Audience, &a.DistanceM, &a.Lon, &a.Lat)
		return a, err
	})
	if err != nil {
		return d, fmt.Errorf("read doorstep: %w", err)
	}
	return d, nil
}
