package data

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// FieldType is a property's JSON Schema type.
type FieldType string

// Property types as OGC API queryables and TileJSON name them.
const (
	String  FieldType = "string"
	Integer FieldType = "integer"
	Number  FieldType = "number"
	Date    FieldType = "date"
	Boolean FieldType = "boolean"
)

// Field is one published property of a layer. Its Name is both the view
// column and the output property name.
type Field struct {
	Name        string
	Type        FieldType
	Description string
	Queryable   bool // may be filtered and sorted on
	// Bits is an Integer field's column size: 16 (smallint), 32 (integer)
	// or 64 (bigint, also when 0). Filters outside it are refused.
	Bits int
	// NotInTiles leaves the field out of vector tiles: text that repeats on
	// every feature or that only places a label. Each property costs every
	// tile encoding time; features, CSV and profiles still carry it.
	NotInTiles bool
	// TilesFrom leaves the field out of tiles below this zoom, where a tile
	// holds too many features to carry every attribute of each, and out of
	// any tile too heavy with it (a detail field; Store.Tile).
	TilesFrom maptile.Zoom
}

// Layer is one public layer: an OGC API collection and a vector tile layer,
// both read from the same view. A layer is not changed once it has drawn a
// tile: the statement that draws it is kept by its address (Store.tile);
// a variant is a copy.
type Layer struct {
	ID           string
	Title        string
	Description  string
	Keywords     []string
	View         pgx.Identifier
	Key          string // feature id column
	GeometryType string // GeoJSON type of every feature
	Fields       []Field
	// DatasetKinds are the kinds of dataset the layer's rows come from; their
	// provenance is the layer's licence and attribution.
	DatasetKinds []string
	// SetID restricts a neighbourhood layer to one neighbourhood set.
	SetID string
	// Bands are the zooms, ascending, for which the view stores Web Mercator
	// geometry generalised on import, as columns geom_z<N>: a tile reads the
	// first band at or above its zoom, so no request pays to simplify.
	Bands []maptile.Zoom
	// Groups, when set, draws the layer below its first band: its features
	// dissolved by class, as tippecanoe coalesces small polygons, so a
	// national tile neither drops the shapes smaller than a pixel nor
	// carries thousands of them.
	Groups *Groups
	// StoredGeoJSON means the view's geojson column holds each feature's
	// geometry as GeoJSON in CRS84 to 6 decimals, written on import.
	StoredGeoJSON bool
	// MinZoom is the first zoom whose tiles hold the layer; below it they
	// leave it out, and TileJSON's vector_layers say so.
	MinZoom maptile.Zoom
	// Cells names a point layer in api.point_cells, where its clustering
	// cells are counted on publish; a tile without a filter reads them
	// instead of counting its points.
	Cells string
	// Pieces names a polygon layer's api table in api.tile_pieces, where
	// its features are cut to each tile of tiles.PieceZoom on publish; a
	// tile of that zoom drawn on the full grid reads them instead of
	// clipping the features.
	Pieces string
	// IDTilesFrom leaves the "id" property out of tiles below this zoom,
	// where a field holding the same key (the code) names each feature, and
	// out of any tile too heavy with it when it is above zero.
	IDTilesFrom maptile.Zoom
	// Boxes means the view keeps each feature's bounding boxes (bbox and
	// bbox_bng, written on publish), so the layer's extent is read from
	// them rather than from every full geometry.
	Boxes bool
}

// Groups is a table of a layer's features dissolved by a few attributes,
// with generalised geometry of its own bands.
type Groups struct {
	View  pgx.Identifier
	Key   string // SQL expression of the group's id, over alias t
	Bands []maptile.Zoom
	// By are the attributes the features were grouped by, which mean the
	// same for a group as for each of its features: a filter on them alone
	// can select groups. Totals are the group's sums. Both are in tile order.
	By, Totals []Field
	// DenseAbove, when set, also draws the groups in a tile below zoom
	// DenseBelow that would hold more than DenseAbove features, as
	// tippecanoe's coalesce-densest-as-needed does: where small areas are
	// densest a tile of them all, with every attribute, passes 500 KB (a
	// z8 tile over London holds 7,000 of them: 1 MB).
	DenseAbove int
	DenseBelow maptile.Zoom
}

// polygonBands are the generalisation bands of the published polygon
// layers (see definitions/48_publish.sql).
var (
	smallAreaBands     = []maptile.Zoom{8, 10, 12, 13}
	neighbourhoodBands = []maptile.Zoom{5, 7, 8, 10, 12, 13}
)

// smallAreaGroups are a borough's small areas of one IMD decile.
var smallAreaGroups = &Groups{
	View:  pgx.Identifier{"api", "small_area_groups"},
	Key:   "coalesce(t.lad_code, '') || ':' || coalesce(t.imd_decile::text, '')",
	Bands: []maptile.Zoom{5, 7, 10},
	// 2,500 small areas with every attribute are about 400 KB of tile.
	DenseAbove: 2500, DenseBelow: 11,
	By: []Field{
		boroughField,
		{Name: "imd_decile", Type: Integer, Description: "IMD decile (1 = most deprived 10%)"},
	},
	Totals: []Field{
		{Name: "population", Type: Integer, Description: "Residents of the small areas merged"},
		{Name: "small_areas", Type: Integer, Description: "On merged shapes only (below zoom 8, and up to zoom 10 in a tile that would hold more than 2,500 small areas): how many of the borough's small areas in this IMD decile the shape merges; their other attributes are on the small areas themselves"},
	},
}

// Field returns the named field.
func (l *Layer) Field(name string) (Field, bool) {
	for _, f := range l.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// boroughField is every layer's borough: the local authority district of
// the small area a feature is (or mostly is) in. ?borough= filters on it.
var boroughField = Field{Name: "lad_code", Type: String, Description: "Borough (local authority district) code", Queryable: true}

// Descriptions may name a setting as {key.path}: the catalogue fills them
// from the England-wide settings in force (describe), so no figure is
// written twice.
var staticLayers = []Layer{
	{
		ID:          "small-areas",
		Title:       "Small areas (LSOA)",
		Description: "Lower layer super output areas with population and English Indices of Deprivation ranks and deciles (rank 1, decile 1 = most deprived in England), from the latest release loaded, with the 2019 and 2025 deciles side by side where both are.",
		Keywords:    []string{"LSOA", "small areas", "deprivation", "IMD", "population"},
		View:        pgx.Identifier{"api", "small_areas"}, Key: "code", GeometryType: "MultiPolygon",
		Bands: smallAreaBands, Groups: smallAreaGroups, StoredGeoJSON: true, Pieces: "small_areas",
		Boxes:        true,
		DatasetKinds: []string{"small_areas", "population", "deprivation", "postcodes", "community_assets", "asset_register"},
		Fields: []Field{
			{Name: "code", Type: String, Description: "LSOA code", Queryable: true},
			{Name: "name", Type: String, Description: "LSOA name", Queryable: true},
			{Name: "vintage", Type: Integer, Bits: 16, Description: "Census geography year of the boundary", Queryable: true, NotInTiles: true},
			boroughField,
			{Name: "borough", Type: String, Description: "Borough name", NotInTiles: true},
			{Name: "population", Type: Integer, Bits: 32, Description: "Resident population estimate (latest period loaded)", Queryable: true},
			{Name: "population_period", Type: String, Description: "Period of the population estimate", NotInTiles: true},
			{Name: "imd_release", Type: Integer, Bits: 16, Description: "Release of the English Indices of Deprivation the ranks and deciles come from (2019 or 2025)", Queryable: true},
			{Name: "imd_rank", Type: Integer, Bits: 32, Description: "IMD rank in England (1 = most deprived; of 32,844 in 2019, 33,755 in 2025)", Queryable: true},
			{Name: "imd_decile", Type: Integer, Bits: 16, Description: "IMD decile (1 = most deprived 10%)", Queryable: true},
			{Name: "imd_score", Type: Number, Description: "IMD score (higher = more deprived), where a scores file (File 1, 5 or 7) is loaded"},
			{Name: "income_decile", Type: Integer, Bits: 16, Description: "Income domain decile", Queryable: true},
			{Name: "employment_decile", Type: Integer, Bits: 16, Description: "Employment domain decile", Queryable: true},
			{Name: "education_decile", Type: Integer, Bits: 16, Description: "Education, skills and training domain decile", Queryable: true},
			{Name: "health_decile", Type: Integer, Bits: 16, Description: "Health deprivation and disability domain decile", Queryable: true},
			{Name: "crime_decile", Type: Integer, Bits: 16, Description: "Crime domain decile", Queryable: true},
			{Name: "barriers_decile", Type: Integer, Bits: 16, Description: "Barriers to housing and services domain decile", Queryable: true},
			{Name: "living_env_decile", Type: Integer, Bits: 16, Description: "Living environment domain decile", Queryable: true},
			{Name: "imd_decile_2019", Type: Integer, Bits: 16, Description: "IMD 2019 decile, where loaded", Queryable: true},
			{Name: "imd_decile_2025", Type: Integer, Bits: 16, Description: "IMD 2025 decile, where loaded", Queryable: true},
			{Name: "imd_decile_change", Type: Integer, Bits: 16, Description: "IMD decile 2025 minus 2019: positive = moved to a less deprived decile, negative = more deprived", Queryable: true},
			{Name: "chaotic_estimate", Type: Number, Description: "Estimated residents in chaotic, complex dependency, rounded to whole people (model estimate, never recorded data)"},
			{Name: "chaotic_estimate_per_1000", Type: Number, Description: "Estimated chaotic demand per 1,000 residents (model estimate)", Queryable: true},
			{Name: "just_coping_estimate", Type: Number, Description: "Estimated residents who are just coping, rounded to whole people (model estimate, never recorded data)"},
			{Name: "just_coping_estimate_per_1000", Type: Number, Description: "Estimated just-coping demand per 1,000 residents (model estimate)", Queryable: true},
			{Name: "demand_source", Type: String, Description: "Always estimated at small-area level: recorded demand is published only for neighbourhoods", NotInTiles: true},
			{Name: "demand_period", Type: String, Description: "Period of the population the estimates are apportioned over", NotInTiles: true},
			{Name: "access_asset_pct", Type: Number, Description: "Share of the area's postcodes within {access.distance_m} m (straight line) of a community asset", Queryable: true},
			{Name: "assets_within_reach", Type: Integer, Bits: 32, Description: "Community assets within {access.distance_m} m of the area", Queryable: true},
		},
	},
	{
		ID:          "community-assets",
		Title:       "Community assets",
		Description: "Places that help: libraries, food banks, places of worship, post offices, parks, pharmacies. Polygons in the sources are reduced to a point on their surface.",
		Keywords:    []string{"community assets", "libraries", "food banks", "places of worship", "pharmacies"},
		View:        pgx.Identifier{"api", "community_assets"}, Key: "id", GeometryType: "Point", Cells: "asset",
		DatasetKinds: []string{"community_assets", "asset_register"},
		Fields: []Field{
			{Name: "name", Type: String, Description: "Name", Queryable: true},
			{Name: "category", Type: String, Description: "Category, e.g. library, food_bank", Queryable: true},
			{Name: "address", Type: String, Description: "Address"},
			{Name: "postcode", Type: String, Description: "Postcode", Queryable: true},
			{Name: "phone", Type: String, Description: "Telephone"},
			{Name: "url", Type: String, Description: "Web site"},
			{Name: "opening_hours", Type: String, Description: "Opening times as published"},
			{Name: "source", Type: String, Description: "Dataset the asset comes from (council register: added by council staff)", Queryable: true},
			boroughField,
			// The asset register (definitions/55_asset_register.sql).
			{Name: "edited", Type: Boolean, Description: "true when council staff have corrected the imported asset: their values show, and a re-import keeps them", Queryable: true, NotInTiles: true},
			{Name: "edited_at", Type: String, Description: "When council staff last changed the asset (UTC, RFC 3339), if ever", NotInTiles: true},
		},
	},
	{
		ID:          "gp-practices",
		Title:       "GP practices",
		Description: "Active GP practices (NHS ODS) at their postcode centroid, with the latest registered list size.",
		Keywords:    []string{"GP practices", "NHS", "primary care", "list size"},
		View:        pgx.Identifier{"api", "gp_practices"}, Key: "code", GeometryType: "Point", Cells: "gp",
		DatasetKinds: []string{"gp_practices", "gp_list_sizes"},
		Fields: []Field{
			{Name: "code", Type: String, Description: "ODS practice code", Queryable: true},
			{Name: "name", Type: String, Description: "Practice name", Queryable: true},
			{Name: "status", Type: String, Description: "ODS status (A = active)", Queryable: true},
			{Name: "address", Type: String, Description: "Address"},
			{Name: "postcode", Type: String, Description: "Postcode", Queryable: true},
			{Name: "phone", Type: String, Description: "Telephone"},
			{Name: "list_size", Type: Integer, Bits: 32, Description: "Registered patients at the latest extract", Queryable: true},
			{Name: "list_size_date", Type: Date, Description: "Extract date of list_size"},
			boroughField,
		},
	},
	{
		ID:          "schools",
		Title:       "Schools",
		Description: "School sites with phase of education and, where published, pupil numbers.",
		Keywords:    []string{"schools", "education"},
		View:        pgx.Identifier{"api", "schools"}, Key: "id", GeometryType: "Point", Cells: "school",
		DatasetKinds: []string{"schools"},
		Fields: []Field{
			{Name: "urn", Type: String, Description: "DfE unique reference number, where known", Queryable: true},
			{Name: "name", Type: String, Description: "School name", Queryable: true},
			{Name: "phase", Type: String, Description: "Phase of education", Queryable: true},
			{Name: "kind", Type: String, Description: "Type of establishment", Queryable: true},
			{Name: "status", Type: String, Description: "open or closed", Queryable: true},
			{Name: "pupils", Type: Integer, Bits: 32, Description: "Number of pupils, where published", Queryable: true},
			{Name: "capacity", Type: Integer, Bits: 32, Description: "School capacity, where published"},
			{Name: "fsm_percent", Type: Number, Description: "Percentage of pupils eligible for free school meals (GIAS), where published"},
			{Name: "postcode", Type: String, Description: "Postcode", Queryable: true},
			boroughField,
		},
	},
}

// neighbourhoodLayerID is the layer of a neighbourhood set's areas.
func neighbourhoodLayerID(setID string) string { return "neighbourhoods-" + setID }

// neighbourhoodDetailZoom is the first zoom whose neighbourhood tiles carry
// every attribute; below it they carry the code and borough only, and
// official boundaries are not in tiles at all. On synthetic England a z5
// tile of 6,800 MSOA-like neighbourhoods with every attribute is 957 KB,
// with the code, name, borough and id 423 KB, with the code and borough
// 281 KB; the boundaries drawn over them were 447 KB more. A z8 tile over
// London still holds a thousand neighbourhoods: 286 KB with every
// attribute beside 273 KB of small-area groups. The map colours
// neighbourhoods by code (/map/values.json) and names them from
// /neighbourhoods, so nothing it draws needs more.
const neighbourhoodDetailZoom maptile.Zoom = 9

// neighbourhoodLayer is one neighbourhood set as served: each neighbourhood
// drawn as the union of its member small areas, the area its figures
// describe.
func neighbourhoodLayer(setID, title, description string) Layer {
	if description == "" {
		description = "Neighbourhoods of the set " + title + ", with the small areas and residents in each."
	}
	l := Layer{
		ID:          neighbourhoodLayerID(setID),
		Title:       "Neighbourhoods: " + title,
		Description: description + " Each neighbourhood is drawn as the union of its member small areas: the area its figures describe.",
		Keywords:    []string{"neighbourhoods", setID, title},
		View:        pgx.Identifier{"api", "neighbourhoods"}, Key: "code", GeometryType: "MultiPolygon", Bands: neighbourhoodBands, StoredGeoJSON: true,
		Pieces:       "neighbourhoods",
		Boxes:        true,
		DatasetKinds: []string{"population", "deprivation", "community_assets", "asset_register", "gp_practices", "schools", "postcodes", "demand"},
		SetID:        setID,
		Fields: []Field{
			{Name: "code", Type: String, Description: "Neighbourhood code", Queryable: true},
			{Name: "name", Type: String, Description: "Neighbourhood name", Queryable: true},
			boroughField,
			{Name: "borough", Type: String, Description: "Borough name", NotInTiles: true},
			{Name: "small_areas", Type: Integer, Bits: 32, Description: "Small areas in the neighbourhood", Queryable: true},
			{Name: "population", Type: Integer, Bits: 32, Description: "Residents (sum of its small areas)", Queryable: true},
			{Name: "chaotic", Type: Number, Description: "Residents in chaotic, complex dependency: recorded (rounded to {disclosure.rounding}, null when withheld) or estimated (whole people), as demand_source says"},
			{Name: "chaotic_per_1000", Type: Number, Description: "Chaotic demand per 1,000 residents", Queryable: true},
			{Name: "chaotic_suppressed", Type: Boolean, Description: "true when a recorded count is withheld to protect individuals"},
			{Name: "just_coping", Type: Number, Description: "Residents just coping: recorded (rounded to {disclosure.rounding}, null when withheld) or estimated (whole people)"},
			{Name: "just_coping_per_1000", Type: Number, Description: "Just-coping demand per 1,000 residents", Queryable: true},
			{Name: "just_coping_suppressed", Type: Boolean, Description: "true when a recorded count is withheld to protect individuals"},
			{Name: "demand_source", Type: String, Description: "recorded or estimated (per segment when they differ: chaotic/just_coping)"},
			{Name: "deprived_10pct_share", Type: Number, Description: "Percent of its small areas in England's most deprived 10% (latest IoD release loaded)", Queryable: true},
			{Name: "deprived_20pct_share", Type: Number, Description: "Percent of its small areas in England's most deprived 20% (latest IoD release loaded)", Queryable: true},
			{Name: "worst_domain", Type: String, Description: "IMD domain in which the neighbourhood is most deprived (population-weighted)", Queryable: true},
			{Name: "assets", Type: Integer, Bits: 32, Description: "Community assets in the neighbourhood", Queryable: true},
			{Name: "assets_per_1000", Type: Number, Description: "Community assets per 1,000 residents", Queryable: true},
			{Name: "gp_practices", Type: Integer, Bits: 32, Description: "GP practices in the neighbourhood"},
			{Name: "gp_patients", Type: Integer, Bits: 32, Description: "Registered patients of those practices"},
			{Name: "schools", Type: Integer, Bits: 32, Description: "Schools in the neighbourhood"},
			{Name: "access_asset_pct", Type: Number, Description: "Percent of postcodes within {access.distance_m} m (straight line) of a community asset", Queryable: true},
			{Name: "access_gp_pct", Type: Number, Description: "Percent of postcodes within {access.distance_m} m (straight line) of a GP practice", Queryable: true},
			{Name: "access_school_pct", Type: Number, Description: "Percent of postcodes within {access.distance_m} m (straight line) of a school", Queryable: true},
			{Name: "official_area_share", Type: Number, Description: "Share of the official boundary's area that the neighbourhood (its best-fit small areas) covers, 0 to 1", NotInTiles: true},
			{Name: "official_population_share", Type: Number, Description: "Share of the official boundary's postcodes (where people live) in the neighbourhood's small areas, 0 to 1", NotInTiles: true},
			{Name: "label_lon", Type: Number, Description: "Longitude of a point inside the neighbourhood, for its label", NotInTiles: true},
			{Name: "label_lat", Type: Number, Description: "Latitude of a point inside the neighbourhood, for its label", NotInTiles: true},
		},
	}
	markDetail(&l)
	return l
}

// markDetail puts every tile property of a set's layer but its code and
// borough, and its id, in tiles from neighbourhoodDetailZoom on only, and
// so out of a tile too heavy with them at any zoom (Store.Tile): two
// national sets and their boundaries over London are 1.1 MB at z9.
func markDetail(l *Layer) {
	for i, f := range l.Fields {
		if f.Name != "code" && f.Name != boroughField.Name {
			l.Fields[i].TilesFrom = neighbourhoodDetailZoom
		}
	}
	l.IDTilesFrom = neighbourhoodDetailZoom
}

// boundaryLayer is the official boundary a set's neighbourhoods were fitted
// to: a reference layer, drawn as an outline.
func boundaryLayer(setID, title string) Layer {
	l := Layer{
		ID:    "neighbourhoods-" + setID + "-boundary",
		Title: "Official boundaries: " + title,
		Description: "The official boundaries the neighbourhoods of the set " + title + " were fitted to, for reference. " +
			"Figures describe the neighbourhoods (unions of small areas), not these boundaries; the shares say how well the two match.",
		Keywords: []string{"boundaries", setID, title},
		View:     pgx.Identifier{"api", "neighbourhood_boundaries"}, Key: "code", GeometryType: "MultiPolygon", Bands: neighbourhoodBands, StoredGeoJSON: true,
		Pieces:       "neighbourhood_boundaries",
		Boxes:        true,
		DatasetKinds: nil,
		SetID:        setID,
		MinZoom:      neighbourhoodDetailZoom,
		Fields: []Field{
			{Name: "code", Type: String, Description: "Code", Queryable: true},
			{Name: "name", Type: String, Description: "Name", Queryable: true},
			boroughField,
			{Name: "borough", Type: String, Description: "Borough name", NotInTiles: true},
			{Name: "official_area_share", Type: Number, Description: "Share of this boundary's area that the best-fit neighbourhood covers, 0 to 1"},
			{Name: "official_population_share", Type: Number, Description: "Share of this boundary's postcodes in the best-fit neighbourhood's small areas, 0 to 1"},
		},
	}
	markDetail(&l)
	return l
}

// Provenance is one dataset behind a layer.
type Provenance struct {
	Title       string    `json:"title"`
	Source      string    `json:"source"`
	SourceURL   string    `json:"source_url,omitempty"`
	Licence     string    `json:"licence"`
	LicenceURL  string    `json:"licence_url,omitempty"`
	Attribution string    `json:"attribution"`
	Vintage     string    `json:"vintage,omitempty"`
	ImportedAt  time.Time `json:"imported_at"`
}

// LayerInfo is what the database says about a layer at one data version.
type LayerInfo struct {
	Count     int64
	Extent    orb.Bound // CRS84; zero when the layer is empty
	ExtentBNG orb.Bound // EPSG:27700
	Updated   time.Time
	Datasets  []Provenance
}

// Catalogue is the set of public layers at one data version.
type Catalogue struct {
	Version int64
	Layers  []*Layer
	Info    map[string]LayerInfo
	byID    map[string]*Layer
}

// Layer finds a layer by id.
func (c *Catalogue) Layer(id string) (*Layer, bool) {
	l, ok := c.byID[id]
	return l, ok
}

// Catalogue returns the public layers and their metadata for the current
// data version, reading the database only when the version has moved.
func (s *Store) Catalogue(ctx context.Context) (*Catalogue, error) {
	v := s.Version()
	return s.cats.get(ctx, v, func(ctx context.Context) (*Catalogue, error) { return s.loadCatalogue(ctx, v) })
}

// SettledCatalogue is the catalogue of the current data version when it
// is loaded and no newer version is awaited (Settle would not wait), and
// false otherwise. It never touches the database, so a caller with no
// deadline of its own can use it; on false, Settle and Catalogue.
func (s *Store) SettledCatalogue() (*Catalogue, bool) {
	v := s.Version()
	if s.wanted.Load() > v {
		return nil, false
	}
	return s.cats.peek(v)
}

func (s *Store) loadCatalogue(ctx context.Context, version int64) (*Catalogue, error) {
	c := &Catalogue{Version: version, Info: map[string]LayerInfo{}, byID: map[string]*Layer{}}
	for i := range staticLayers {
		l := staticLayers[i]
		l.Fields = append([]Field(nil), l.Fields...) // descriptions are filled per catalogue
		c.Layers = append(c.Layers, &l)
	}
	rows, err := s.public.Query(ctx, "SELECT id, title, description, level FROM api.neighbourhood_sets ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list neighbourhood sets: %w", err)
	}
	type set struct{ id, title, description, level string }
	sets, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (set, error) {
		var st set
		err := r.Scan(&st.id, &st.title, &st.description, &st.level)
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("list neighbourhood sets: %w", err)
	}
	for _, st := range sets {
		l := neighbourhoodLayer(st.id, st.title, st.description)
		c.Layers = append(c.Layers, &l)
		// A set given as a list of small areas has no boundary of its own.
		if st.level != "custom" {
			b := boundaryLayer(st.id, st.title)
			c.Layers = append(c.Layers, &b)
		}
	}
	settings, err := s.defaultSettings(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range c.Layers {
		for i := range l.Fields {
			l.Fields[i].Description = describe(l.Fields[i].Description, settings)
		}
	}
	for _, l := range c.Layers {
		c.byID[l.ID] = l
		info, err := s.layerInfo(ctx, l)
		if err != nil {
			return nil, err
		}
		c.Info[l.ID] = info
	}
	return c, nil
}

func (s *Store) layerInfo(ctx context.Context, l *Layer) (LayerInfo, error) {
	var info LayerInfo
	where, args := l.scope(nil)
	// The extents of a layer with boxes are their bounds, an index-only
	// scan (the same doubles as ST_Extent of the geometries).
	extent := `coalesce(ST_XMin(ST_Extent(t.%[1]s)), 0), coalesce(ST_YMin(ST_Extent(t.%[1]s)), 0),
		coalesce(ST_XMax(ST_Extent(t.%[1]s)), 0), coalesce(ST_YMax(ST_Extent(t.%[1]s)), 0)`
	geom, bng := "geom", "geom_bng"
	if l.Boxes {
		extent = `coalesce(min(ST_XMin(t.%[1]s)), 0), coalesce(min(ST_YMin(t.%[1]s)), 0),
		coalesce(max(ST_XMax(t.%[1]s)), 0), coalesce(max(ST_YMax(t.%[1]s)), 0)`
		geom, bng = "bbox", "bbox_bng"
	}
	q := fmt.Sprintf(`SELECT count(*), %s, %s FROM %s t %s`,
		fmt.Sprintf(extent, geom), fmt.Sprintf(extent, bng), l.View.Sanitize(), where)
	err := s.public.QueryRow(ctx, q, args...).Scan(&info.Count,
		&info.Extent.Min[0], &info.Extent.Min[1], &info.Extent.Max[0], &info.Extent.Max[1],
		&info.ExtentBNG.Min[0], &info.ExtentBNG.Min[1], &info.ExtentBNG.Max[0], &info.ExtentBNG.Max[1])
	if err != nil {
		return info, fmt.Errorf("layer %s extent: %w", l.ID, err)
	}
	rows, err := s.public.Query(ctx, `SELECT title, source, source_url, licence, licence_url, attribution, vintage, imported_at
		FROM api.datasets WHERE kind = ANY($1) OR (kind = 'neighbourhood_set' AND key = $2) ORDER BY imported_at, id`,
		l.DatasetKinds, l.SetID)
	if err != nil {
		return info, fmt.Errorf("layer %s provenance: %w", l.ID, err)
	}
	info.Datasets, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Provenance, error) {
		var p Provenance
		err := r.Scan(&p.Title, &p.Source, &p.SourceURL, &p.Licence, &p.LicenceURL, &p.Attribution, &p.Vintage, &p.ImportedAt)
		return p, err
	})
	if err != nil {
		return info, fmt.Errorf("layer %s provenance: %w", l.ID, err)
	}
	for _, p := range info.Datasets {
		if p.ImportedAt.After(info.Updated) {
			info.Updated = p.ImportedAt
		}
	}
	return info, nil
}

// scope is the WHERE clause limiting a view to the layer's rows, with its
// arguments appended to args.
func (l *Layer) scope(args []any) (string, []any) {
	if l.SetID == "" {
		return "WHERE true", args
	}
	args = append(args, l.SetID)
	return fmt.Sprintf("WHERE t.set_id = $%d", len(args)), args
}
