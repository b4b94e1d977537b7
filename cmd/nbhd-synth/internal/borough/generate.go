package borough

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"nbhd/cmd/nbhd-synth/internal/formats"
	"nbhd/cmd/nbhd-synth/internal/geog"
	"nbhd/cmd/nbhd-synth/internal/manifest"
	"nbhd/cmd/nbhd-synth/internal/points"
)

// Summary is summary.json for a borough.
type Summary struct {
	Generator string                `json:"generator"`
	Seed      uint64                `json:"seed"`
	LAD       string                `json:"lad"`
	Name      string                `json:"name"`
	Bounds    [4]float64            `json:"bounds"` // west, south, east, north of its polygons
	Counts    map[string]int        `json:"counts"`
	Imports   []manifest.ImportRows `json:"imports"`
	Vertices  map[string]geog.Stats `json:"vertices"`
	Files     []formats.File        `json:"files"`
}

// Generate writes the borough into out.
func Generate(out string, opt Options, log io.Writer) (*Summary, error) {
	if err := opt.Check(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	m, err := build(opt)
	if err != nil {
		return nil, err
	}
	g := m.g
	d := &formats.Dir{Root: out}
	verts := map[string][]float64{}
	if err := m.writeBoundaries(d, verts); err != nil {
		return nil, err
	}
	if err := m.writeTables(d); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(opt.Seed, 230))
	// About 40 postcodes per small area, as in Wigan's Code-Point extract.
	book, err := points.MakeBook(g, r, []points.AreaGroup{{Prefix: opt.Postcode, Cells: g.Order, FirstDistrict: 1}}, points.Share(g, g.Order, 40*len(g.Order)))
	if err != nil {
		return nil, err
	}
	postcodes, err := m.writePostcodes(d, book)
	if err != nil {
		return nil, err
	}
	n, err := m.writePoints(d, book)
	if err != nil {
		return nil, err
	}
	files, err := d.Close()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(out, "SOURCES.md"), []byte(sources(opt)), 0o644); err != nil {
		return nil, err
	}
	rows, err := manifest.Write(out, m.manifest(postcodes, n))
	if err != nil {
		return nil, err
	}
	s := &Summary{Generator: "nbhd-synth borough", Seed: opt.Seed, LAD: opt.LAD, Name: opt.Name, Imports: rows, Files: files,
		Counts: map[string]int{"lsoas": len(g.LSOAs), "msoas": len(g.MSOAs), "wards": len(g.Wards), "postcodes": len(book.All),
			"postcodes_with_coordinates": postcodes, "gp_practices": n.practices, "schools": n.schools},
		Vertices: map[string]geog.Stats{}}
	for k, v := range verts {
		s.Vertices[k] = geog.Summarise(v)
	}
	s.Bounds = m.bounds()
	if err := manifest.WriteSummary(out, s); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "nbhd-synth: %s (%s): %d LSOAs, %d MSOAs, %d wards, %d postcodes, bounds %.4f,%.4f,%.4f,%.4f\n",
		opt.Name, opt.LAD, len(g.LSOAs), len(g.MSOAs), len(g.Wards), len(book.All), s.Bounds[0], s.Bounds[1], s.Bounds[2], s.Bounds[3])
	return s, nil
}

func (m *model) bounds() [4]float64 {
	b := [4]float64{180, 90, -180, -90}
	for c := range m.g.LSOAs {
		for _, p := range m.g.Mesh.Ring(c) {
			ll := m.g.LonLat(p)
			b[0], b[1] = min(b[0], ll[0]), min(b[1], ll[1])
			b[2], b[3] = max(b[2], ll[0]), max(b[3], ll[1])
		}
	}
	return b
}

func sources(o Options) string {
	return fmt.Sprintf(`# %[1]s (%[2]s): synthetic borough — SOURCES

Nothing here is real. Every file was made by nbhd-synth from seed %[3]d
(`+"`nbhd-synth borough --seed %[3]d --lad %[2]s --name %[1]s`"+`) in exactly the layout of
nbhd's bundled Wigan sample (data/sample/wigan): the same file names, columns and manifest
entries, with its own codes (LSOA E0199xxxx, MSOA E0299xxxx, ward E0599xxxx, output area
E0099xxxx, GP practices P82xxx, postcodes %[4]s...) that no real area uses, placed east of the
area it was generated beside so their polygons do not overlap. Place names are made up.
`, o.Name, o.LAD, o.Seed, o.Postcode)
}

// manifest mirrors the Wigan sample's manifest.json entry for entry.
func (m *model) manifest(postcodes int, n counts) manifest.Manifest {
	g, o := m.g, m.opt
	cmd := fmt.Sprintf("nbhd-synth borough --seed %d --lad %s --name %s", o.Seed, o.LAD, o.Name)
	ds := func(title, vintage string) manifest.Dataset { return manifest.Synthetic(title, vintage, cmd) }
	asset := func(file, key, category string, rows int, extra map[string]any) manifest.Entry {
		spec := map[string]any{"key": key, "category": category}
		for k, v := range extra {
			spec[k] = v
		}
		return manifest.Entry{Kind: "assets", File: file, Spec: spec, Dataset: ds(o.Name+": "+key, "2026"), Rows: rows}
	}
	return manifest.Manifest{
		Name: fmt.Sprintf("%s (%s), synthetic", o.Name, o.LAD),
		Imports: []manifest.Entry{
			{Kind: "boundaries", File: fileLSOA, Spec: map[string]any{"level": "lsoa", "vintage": 2021},
				Dataset: ds("Lower layer super output areas (December 2021), generalised", "2021"), Rows: len(g.LSOAs)},
			{Kind: "boundaries", File: fileWard, Spec: map[string]any{"level": "ward", "set": "ward", "set_title": "Electoral wards (2022)", "lookup": "../" + fileWardLU},
				Dataset: ds("Electoral wards (December 2022), generalised, with the LSOA 2021 to ward 2022 best-fit lookup", "2022"), Rows: len(g.Wards)},
			{Kind: "boundaries", File: fileMSOA, Spec: map[string]any{"level": "msoa", "set": "msoa", "set_title": "Middle layer super output areas (2021)", "lookup": "../" + fileOALU},
				Dataset: ds("Middle layer super output areas (December 2021), generalised, with the OA 2021 to LSOA to MSOA lookup", "2021"), Rows: len(g.MSOAs)},
			{Kind: "imd", File: fileFile2, Spec: map[string]any{},
				Dataset: ds("English Indices of Deprivation 2019, File 2: domains of deprivation (ranks and deciles)", "2019"), Rows: len(g.LSOAs)},
			{Kind: "population", File: filePop, Spec: map[string]any{"period": "mid-2017"},
				Dataset: ds("Small area population estimates, mid-2017 (SAPE20DT1)", "mid-2017"), Rows: len(g.LSOAs)},
			{Kind: "postcodes", File: filePostcodes, Spec: map[string]any{},
				Dataset: ds("OS Code-Point Open postcode centroids", "2025-10"), Rows: postcodes},
			{Kind: "gp-practices", File: fileGP, Spec: map[string]any{"active_only": true},
				Dataset: ds("GP practices (NHS ODS epraccur) with registered list sizes", "ODS 2023-12; list sizes 2026-04"), Rows: n.practices},
			{Kind: "schools", File: fileSchools, Spec: map[string]any{},
				Dataset: ds("School sites from OS OpenMap Local important buildings", "2018-04"), Rows: n.schools},
			asset(fileLibraries, "libraries", "library", n.libraries, nil),
			asset(fileFoodBanks, "food-banks", "food_bank", n.foodBanks, nil),
			asset(fileWorship, "places-of-worship", "place_of_worship", n.worship, map[string]any{"merge_within": 50}),
			asset(filePostOff, "post-offices", "post_office", n.postOffices, nil),
			asset(fileParks, "green-flag-parks", "park", n.parks, nil),
			asset(filePharmacy, "pharmacies", "pharmacy", n.pharmacies, nil),
		},
	}
}
