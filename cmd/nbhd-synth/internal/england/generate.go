package england

import (
	"fmt"
	"io"
	"os"
	"time"

	"nbhd/cmd/nbhd-synth/internal/formats"
	"nbhd/cmd/nbhd-synth/internal/geog"
	"nbhd/cmd/nbhd-synth/internal/manifest"
)

// Summary is summary.json: what was written, for tests, the benchmark and
// docs/performance.md.
type Summary struct {
	Generator string                `json:"generator"`
	Seed      uint64                `json:"seed"`
	Scale     float64               `json:"scale"`
	Counts    map[string]int        `json:"counts"`
	Imports   []manifest.ImportRows `json:"imports"`
	Vertices  map[string]geog.Stats `json:"vertices"`
	AreaKm2   map[string]geog.Stats `json:"area_km2"`
	Files     []formats.File        `json:"files"`
}

// Generate writes England into out. Progress and timings go to log; the
// files themselves depend only on the options.
func Generate(out string, opt Options, log io.Writer) (*Summary, error) {
	start := time.Now()
	step := func(what string) {
		fmt.Fprintf(log, "nbhd-synth: %-28s %6.1fs\n", what, time.Since(start).Seconds())
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	m, err := build(opt)
	if err != nil {
		return nil, err
	}
	g := m.g
	step(fmt.Sprintf("geography (%d LSOAs)", len(g.LSOAs)))
	d := &formats.Dir{Root: out}
	st := &stats{vertices: map[string][]float64{}, areaKm2: map[string][]float64{}}
	if err := m.writeBoundaries(d, st); err != nil {
		return nil, err
	}
	step("boundaries")
	if err := m.writeLookups(d); err != nil {
		return nil, err
	}
	if err := m.writeDeprivation(d); err != nil {
		return nil, err
	}
	if err := m.writePopulation(d); err != nil {
		return nil, err
	}
	step("lookups, deprivation, population")
	book, err := m.makePostcodes()
	if err != nil {
		return nil, err
	}
	placed, areas, err := m.writeCodePoint(d, book)
	if err != nil {
		return nil, err
	}
	step(fmt.Sprintf("postcodes (%d)", len(book.All)))
	practices, err := m.writeGP(d, book)
	if err != nil {
		return nil, err
	}
	schools, err := m.writeGIAS(d, book)
	if err != nil {
		return nil, err
	}
	assets, err := m.writeAssets(d, book)
	if err != nil {
		return nil, err
	}
	step("practices, schools, assets")
	files, err := d.Close()
	if err != nil {
		return nil, err
	}
	man := m.manifest(placed, areas, practices, schools, assets)
	rows, err := manifest.Write(out, man)
	if err != nil {
		return nil, err
	}
	oas := 0
	for _, l := range g.LSOAs {
		oas += l.OAs
	}
	pop := 0
	for _, l := range g.LSOAs {
		pop += l.Pop
	}
	totalAssets := 0
	for _, n := range assets {
		totalAssets += n
	}
	postcodes := 0
	for _, n := range placed {
		postcodes += n
	}
	s := &Summary{
		Generator: "nbhd-synth england", Seed: opt.Seed, Scale: opt.Scale, Imports: rows, Files: files,
		Counts: map[string]int{
			"lsoas": len(g.LSOAs), "lsoas_2011": len(m.units), "msoas": len(g.MSOAs), "wards": len(g.Wards),
			"lads": len(g.LADs), "regions": len(g.Regions), "output_areas": oas, "population": pop,
			"postcodes": len(book.All), "postcodes_with_coordinates": postcodes, "postcode_areas": len(areas),
			"gp_practices": practices, "schools": schools, "community_assets": totalAssets,
		},
		Vertices: map[string]geog.Stats{}, AreaKm2: map[string]geog.Stats{},
	}
	for k, v := range st.vertices {
		s.Vertices[k] = geog.Summarise(v)
	}
	for k, v := range st.areaKm2 {
		s.AreaKm2[k] = geog.Summarise(v)
	}
	if err := manifest.WriteSummary(out, s); err != nil {
		return nil, err
	}
	step("done")
	return s, nil
}

func (m *model) manifest(placed map[string]int, areas []string, practices, schools int, assets []int) manifest.Manifest {
	g := m.g
	cmd := fmt.Sprintf("nbhd-synth england --seed %d --scale %g", m.opt.Seed, m.opt.Scale)
	ds := func(title, vintage string) manifest.Dataset { return manifest.Synthetic(title, vintage, cmd) }
	e := []manifest.Entry{
		{Kind: "boundaries", File: fileLSOA, Spec: map[string]any{"level": "lsoa", "vintage": 2021},
			Dataset: ds("Lower layer super output areas (December 2021), generalised", "2021"), Rows: len(g.LSOAs)},
		{Kind: "boundaries", File: fileWard, Spec: map[string]any{"level": "ward", "set": "ward", "set_title": "Electoral wards (2024)", "lookup": "../" + fileWardLU},
			Dataset: ds("Electoral wards (May 2024), generalised, with the ONS LSOA 2021 to ward 2024 best-fit lookup", "2024"), Rows: len(g.Wards)},
		{Kind: "boundaries", File: fileMSOA, Spec: map[string]any{"level": "msoa", "set": "msoa", "set_title": "Middle layer super output areas (2021)", "lookup": "../" + fileOALU},
			Dataset: ds("Middle layer super output areas (December 2021), generalised, with the ONS OA 2021 lookup", "2021"), Rows: len(g.MSOAs)},
		{Kind: "imd", File: fileIMD2019, Spec: map[string]any{"lookup": "../" + fileLSOALU},
			Dataset: ds("English Indices of Deprivation 2019, File 2: domains (ranks and deciles), via the LSOA 2011 to 2021 lookup", "2019"), Rows: len(g.LSOAs)},
		{Kind: "imd", File: fileIMD2025,
			Dataset: ds("English Indices of Deprivation 2025, File 7: all ranks, scores, deciles and population denominators", "2025"), Rows: len(g.LSOAs)},
		{Kind: "population", File: filePop, Spec: map[string]any{"period": "mid-2022"},
			Dataset: ds("Small area population estimates, mid-2022, LSOA 2021", "mid-2022"), Rows: len(g.LSOAs)},
	}
	for _, a := range areas {
		e = append(e, manifest.Entry{Kind: "codepoint", File: codepointFile(a),
			Dataset: ds("OS Code-Point Open postcode centroids, area "+a, "2025-10"), Rows: placed[a]})
	}
	e = append(e,
		manifest.Entry{Kind: "epraccur", File: fileEpraccur, Dataset: ds("GP practices (NHS ODS epraccur)", "2026-04"), Rows: practices},
		manifest.Entry{Kind: "gp-list-sizes", File: fileListSizes, Dataset: ds("Patients Registered at a GP Practice, April 2026", "2026-04"), Rows: practices},
		manifest.Entry{Kind: "gias", File: fileGIAS, Dataset: ds("Get Information About Schools: all establishments", "2026-04-01"), Rows: schools},
	)
	for i, af := range assetFiles {
		e = append(e, manifest.Entry{Kind: "assets-csv", File: af.file, Spec: map[string]any{"key": af.key},
			Dataset: ds("Community assets: "+af.key, "2026"), Rows: assets[i]})
	}
	return manifest.Manifest{Name: fmt.Sprintf("Synthetic England, %d LSOAs (nbhd-synth seed %d)", len(g.LSOAs), m.opt.Seed), Imports: e}
}
