package data

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Place is a search result: a postcode, neighbourhood or small area, with
// where to show it.
type Place struct {
	Kind  string     `json:"kind"` // postcode, neighbourhood or small_area
	Label string     `json:"label"`
	Set   string     `json:"set,omitempty"`
	Code  string     `json:"code"`
	Lon   float64    `json:"lon"`
	Lat   float64    `json:"lat"`
	BBox  [4]float64 `json:"bbox"`
}

// Search finds up to limit places matching q, best matches first.
func (s *Store) Search(ctx context.Context, q string, limit int) ([]Place, error) {
	q = strings.TrimSpace(q)
	compact := strings.ToUpper(strings.ReplaceAll(q, " ", ""))
	// api.search (definitions/51_search.sql) keeps one plan per session.
	rows, err := s.public.Query(ctx, "SELECT * FROM api.search($1, $2, $3)", q, compact, limit)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Place, error) {
		var p Place
		err := r.Scan(&p.Kind, &p.Label, &p.Set, &p.Code, &p.Lon, &p.Lat, &p.BBox[0], &p.BBox[1], &p.BBox[2], &p.BBox[3])
		return p, err
	})
}
