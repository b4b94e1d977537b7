package england

import (
	"fmt"
	"math"
	"strconv"

	"nbhd/cmd/nbhd-synth/internal/bng"
	"nbhd/cmd/nbhd-synth/internal/formats"
	"nbhd/cmd/nbhd-synth/internal/geog"
)

// File names, as ONS's Open Geography Portal names its downloads.
const (
	fileLSOA    = "boundaries/Lower_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V5.geojson"
	fileMSOA    = "boundaries/Middle_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V3.geojson"
	fileWard    = "boundaries/Wards_May_2024_Boundaries_UK_BGC.geojson"
	fileLAD     = "boundaries/Local_Authority_Districts_May_2024_Boundaries_UK_BGC.geojson"
	fileRegion  = "boundaries/Regions_December_2024_Boundaries_EN_BGC.geojson"
	fileWardLU  = "lookups/LSOA_(2021)_to_Electoral_Ward_(2024)_to_LAD_(2024)_Best_Fit_Lookup_in_EW.csv"
	fileOALU    = "lookups/Output_Area_to_Lower_layer_Super_Output_Area_to_Middle_layer_Super_Output_Area_to_Local_Authority_District_(December_2021)_Lookup_in_England_and_Wales_v3.csv"
	fileLSOALU  = "lookups/LSOA_(2011)_to_LSOA_(2021)_to_Local_Authority_District_(2022)_Lookup_for_England_and_Wales.csv"
	fileRegionL = "lookups/Local_Authority_District_to_Region_(December_2024)_Lookup_in_EN.csv"
)

// stats collects vertex counts and areas per level for the summary.
type stats struct {
	vertices map[string][]float64
	areaKm2  map[string][]float64
}

// areaKm2 of lon/lat polygons, on the sphere (accurate enough to report).
func areaKm2(polys [][][]formats.LonLat) float64 {
	var a float64
	for _, p := range polys {
		for _, ring := range p {
			var s float64
			for i := 0; i+1 < len(ring); i++ {
				l1, l2 := ring[i][0]*math.Pi/180, ring[i+1][0]*math.Pi/180
				p1, p2 := ring[i][1]*math.Pi/180, ring[i+1][1]*math.Pi/180
				s += (l2 - l1) * (2 + math.Sin(p1) + math.Sin(p2))
			}
			a += s * 6371.0088 * 6371.0088 / 2
		}
	}
	return math.Abs(a)
}

// onsProps are the properties of an ONS BGC boundary file: code, name,
// Welsh name, label point in BNG and lon/lat, and a GlobalID.
func onsProps(fid int, prefix, code, name string, label geog.Point, g *geog.Geo) []formats.Prop {
	ll := g.LonLat(label)
	e, n := bng.FromLonLat(ll[0], ll[1])
	return []formats.Prop{
		{K: "FID", V: fid},
		{K: prefix + "CD", V: code},
		{K: prefix + "NM", V: name},
		{K: prefix + "NMW", V: ""},
		{K: "BNG_E", V: int(math.Round(e))},
		{K: "BNG_N", V: int(math.Round(n))},
		{K: "LAT", V: ll[1], Dec: 5},
		{K: "LONG", V: ll[0], Dec: 5},
		{K: "GlobalID", V: globalID(prefix, fid)},
	}
}

// globalID is a stable, UUID-shaped identifier.
func globalID(prefix string, n int) string {
	h := uint64(14695981039346656037)
	for _, c := range prefix + strconv.Itoa(n) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	h2 := h*6364136223846793005 + 1442695040888963407
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h>>32), uint16(h>>16), uint16(h)&0xfff, uint16(h2>>48)&0xfff, h2&0xffffffffffff)
}

func (m *model) writeBoundaries(d *formats.Dir, st *stats) error {
	g := m.g
	f, err := d.Create(fileLSOA)
	if err != nil {
		return err
	}
	fw := formats.NewFeatures(f)
	for i, c := range m.lsoaCodeOrder() {
		poly := g.CellPolygon(c)
		l := g.LSOAs[c]
		fw.MultiPolygon(onsProps(i+1, "LSOA21", l.Code, l.Name, g.Mesh.Sites[c], g), poly)
		st.vertices["lsoa"] = append(st.vertices["lsoa"], float64(geog.Vertices(poly)))
		st.areaKm2["lsoa"] = append(st.areaKm2["lsoa"], areaKm2(poly))
	}
	if err := fw.Close(); err != nil {
		return err
	}
	for _, lv := range []struct {
		file, prefix, key string
		areas             []geog.Area
	}{
		{fileMSOA, "MSOA21", "msoa", g.MSOAs}, {fileWard, "WD24", "ward", g.Wards},
		{fileLAD, "LAD24", "lad", g.LADs}, {fileRegion, "RGN24", "region", g.Regions},
	} {
		f, err := d.Create(lv.file)
		if err != nil {
			return err
		}
		fw := formats.NewFeatures(f)
		for i, a := range lv.areas {
			poly, err := g.UnionPolygons(a.Cells)
			if err != nil {
				return fmt.Errorf("%s %s: %w", lv.key, a.Code, err)
			}
			fw.MultiPolygon(onsProps(i+1, lv.prefix, a.Code, a.Name, g.Mesh.Sites[a.Cells[0]], g), poly)
			st.vertices[lv.key] = append(st.vertices[lv.key], float64(geog.Vertices(poly)))
			st.areaKm2[lv.key] = append(st.areaKm2[lv.key], areaKm2(poly))
		}
		if err := fw.Close(); err != nil {
			return err
		}
	}
	return nil
}

func (m *model) writeLookups(d *formats.Dir) error {
	g := m.g
	open := func(name string, header ...string) (*formats.CSV, error) {
		f, err := d.Create(name)
		if err != nil {
			return nil, err
		}
		return formats.NewCSV(f, header...), nil
	}
	ward, err := open(fileWardLU, "LSOA21CD", "LSOA21NM", "WD24CD", "WD24NM", "LAD24CD", "LAD24NM", "ObjectId")
	if err != nil {
		return err
	}
	oa, err := open(fileOALU, "OA21CD", "LSOA21CD", "LSOA21NM", "LSOA21NMW", "MSOA21CD", "MSOA21NM", "MSOA21NMW", "LAD22CD", "LAD22NM", "LAD22NMW", "ObjectId")
	if err != nil {
		return err
	}
	for i, c := range m.lsoaCodeOrder() {
		l := g.LSOAs[c]
		w, ms, la := g.Wards[l.Ward], g.MSOAs[l.MSOA], g.LADs[l.LAD]
		ward.Row(l.Code, l.Name, w.Code, w.Name, la.Code, la.Name, strconv.Itoa(i+1))
		for k := 0; k < l.OAs; k++ {
			oa.Row(fmt.Sprintf("E00%06d", l.FirstOA+k), l.Code, l.Name, "", ms.Code, ms.Name, "", la.Code, la.Name, "", strconv.Itoa(oa.Rows()+1))
		}
	}
	lsoa, err := open(fileLSOALU, "LSOA11CD", "LSOA11NM", "LSOA21CD", "LSOA21NM", "CHGIND", "LAD22CD", "LAD22NM", "LAD22NMW", "ObjectId")
	if err != nil {
		return err
	}
	for _, u := range m.units {
		for _, c := range u.children {
			l := g.LSOAs[c]
			la := g.LADs[l.LAD]
			lsoa.Row(u.code, u.name, l.Code, l.Name, u.chg, la.Code, la.Name, "", strconv.Itoa(lsoa.Rows()+1))
		}
	}
	region, err := open(fileRegionL, "LAD24CD", "LAD24NM", "RGN24CD", "RGN24NM", "ObjectId")
	if err != nil {
		return err
	}
	for i, l := range g.LADs {
		region.Row(l.Code, l.Name, g.Regions[l.Parent].Code, g.Regions[l.Parent].Name, strconv.Itoa(i+1))
	}
	for _, c := range []*formats.CSV{ward, oa, lsoa, region} {
		if err := c.Close(); err != nil {
			return err
		}
	}
	return nil
}
