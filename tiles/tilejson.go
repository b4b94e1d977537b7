package tiles

import (
	"html"
	"math"
	"strings"

	"github.com/paulmach/orb"
)

// VectorLayer describes one MVT layer, as TileJSON's vector_layers and
// PMTiles metadata list them. Fields maps property names to "String",
// "Number" or "Boolean".
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description,omitempty"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// TileJSON is a TileJSON 3.0.0 document for vector tiles.
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name,omitempty"`
	Description  string        `json:"description,omitempty"`
	Version      string        `json:"version,omitempty"`
	Attribution  string        `json:"attribution,omitempty"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Centre       [3]float64    `json:"center"` //nolint:misspell // TileJSON spells it so
	VectorLayers []VectorLayer `json:"vector_layers"`
}

// Source is what a tile set is made of: its layers, the lon/lat extent of
// their data (empty for no data), and the attribution statements of the
// datasets behind them.
type Source struct {
	Name, Description string
	Version           string
	Layers            []VectorLayer
	Extent            orb.Bound
	HasData           bool
	Attributions      []string
}

// NewTileJSON builds the TileJSON document of src served at tileURL (a
// template with {z}, {x} and {y}).
func NewTileJSON(src Source, tileURL string) TileJSON {
	minZ, maxZ := DetailZoom, 0
	for _, l := range src.Layers {
		minZ, maxZ = min(minZ, l.MinZoom), max(maxZ, l.MaxZoom)
	}
	if len(src.Layers) == 0 {
		minZ, maxZ = 0, DetailZoom
	}
	bounds, centre := BoundsCentre(src, minZ, maxZ)
	return TileJSON{
		TileJSON: "3.0.0", Name: src.Name, Description: src.Description, Version: src.Version,
		Attribution: Attribution(src.Attributions), Scheme: "xyz", Tiles: []string{tileURL},
		MinZoom: minZ, MaxZoom: maxZ, Bounds: bounds, Centre: centre, VectorLayers: src.Layers,
	}
}

// BoundsCentre gives the bounds of the data (the whole world when there is
// none) and a centre at the zoom where the data fills about one tile.
func BoundsCentre(src Source, minZ, maxZ int) ([4]float64, [3]float64) {
	if !src.HasData {
		return [4]float64{-180, -maxLat, 180, maxLat}, [3]float64{0, 0, float64(minZ)}
	}
	b := src.Extent
	c := orb.Point{(b.Min[0] + b.Max[0]) / 2, (b.Min[1] + b.Max[1]) / 2}
	span := math.Max(b.Max[0]-b.Min[0], (b.Max[1]-b.Min[1])/math.Cos(c[1]*math.Pi/180))
	z := float64(maxZ)
	if span > 0 {
		z = math.Floor(math.Log2(360 / span))
	}
	z = math.Max(float64(minZ), math.Min(float64(maxZ), z))
	round := func(v float64) float64 { return math.Round(v*1e6) / 1e6 }
	return [4]float64{round(b.Min[0]), round(b.Min[1]), round(b.Max[0]), round(b.Max[1])},
		[3]float64{round(c[0]), round(c[1]), z}
}

// Statements splits attribution texts into their sentences and keeps each
// once, in order: datasets from one publisher repeat the same "Contains OS
// data ..." statement, which a map should show once.
func Statements(texts []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range texts {
		for _, s := range strings.SplitAfter(t, ". ") {
			s = strings.TrimSuffix(strings.TrimSpace(s), ".")
			if s == "" || seen[s] {
				continue
			}
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Attribution joins distinct attribution statements, HTML-escaped: map
// clients show TileJSON attribution as HTML, and these come from imports.
func Attribution(texts []string) string {
	statements := Statements(texts)
	for i, s := range statements {
		statements[i] = html.EscapeString(s)
	}
	return strings.Join(statements, " | ")
}
