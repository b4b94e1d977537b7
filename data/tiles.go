package data

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"nbhd/tiles"
)

// Tile renders the features of layers in tile t as one Mapbox Vector Tile
// with one MVT layer per catalogue layer, named by its id, in the order
// given. It reads the same public views as the features API, as the public
// role, so a tile shows exactly what a GeoJSON feature would. Each layer is
// its own ST_AsMVT; the composite is their concatenation in one statement
// (concatenated MVT layers are a valid MVT). An empty result means no layer
// has a feature in the tile.
//
// Properties are the layer's catalogue fields, plus "id" holding the
// feature key as text (unless a field is called id); see tileLayerSQL for
// generalisation by zoom.
func (s *Store) Tile(ctx context.Context, layers []*Layer, t maptile.Tile) ([]byte, error) {
	mvt, _, err := s.tile(ctx, layers, t, nil)
	return mvt, err
}

// FilteredTile renders a tile with only the features a filter selects: a
// CQL2 filter compiled for the one layer given (Layer.ParseFilter), or a
// borough filter (BoroughPredicate), which every layer can take. Points are
// clustered among the selected features only. A nil filter renders the
// same tile as Tile.
func (s *Store) FilteredTile(ctx context.Context, layers []*Layer, t maptile.Tile, where *Predicate) ([]byte, error) {
	mvt, _, err := s.tile(ctx, layers, t, where)
	return mvt, err
}

// tileSteps are the ways a tile is drawn, each lighter than the last: on
// the full grid; on a grid a quarter as fine, simplified to its unit (half
// a pixel of a tile drawn 512 pixels wide); then without the properties a
// layer carries from a detail zoom only (Field.TilesFrom,
// Layer.IDTilesFrom) and with small areas as their groups, as a tile below
// those zooms is drawn; then on a grid of one unit per pixel. The map names
// and colours neighbourhoods from the API, so it draws a light tile as it
// draws a full one. On synthetic England a z9 tile of every layer over
// London weighs 882 KB, 732 KB on the coarser grid, 282 KB light.
var tileSteps = []tileStep{{tiles.Extent, false}, {tiles.Extent / 4, false}, {tiles.Extent / 4, true}, {tiles.MinExtent, true}}

// tileStep is one way to draw a tile: its grid, and whether properties of
// detail zooms are left out.
type tileStep struct {
	extent int
	light  bool
}

// tile draws the tile with each of tileSteps in turn until it weighs no
// more than the budget (Config.TileBytes): tippecanoe's answer to a tile
// too heavy to draw, here for the few low-zoom composites over dense
// cities (every layer alone stays well under it). What still weighs more
// at the last step is served as it is, with a warning. step is the index
// of the step drawn.
func (s *Store) tile(ctx context.Context, layers []*Layer, t maptile.Tile, where *Predicate) (mvt []byte, step int, err error) {
	for i := range tileSteps {
		sql, args := s.statements.statement(layers, t, where, i)
		if sql == "" {
			return nil, 0, nil // every layer starts at a higher zoom
		}
		if err := s.public.QueryRow(ctx, sql, args...).Scan(&mvt); err != nil {
			return nil, i, fmt.Errorf("tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
		}
		if len(mvt) <= s.tileBytes() {
			return mvt, i, nil
		}
	}
	slog.Warn("tile over its byte budget however it is drawn", "tile", fmt.Sprintf("%d/%d/%d", t.Z, t.X, t.Y),
		"layers", strings.Join(LayerIDs(layers), LayerSeparator), "bytes", len(mvt), "budget", s.tileBytes())
	return mvt, len(tileSteps) - 1, nil
}

// tileBytes is the most a tile may weigh before it is drawn lighter.
func (s *Store) tileBytes() int {
	if s.cfg.TileBytes > 0 {
		return s.cfg.TileBytes
	}
	return tiles.MaxBytes
}

// TileSQL is the statement Tile runs for layers and t on the full grid,
// with its arguments, for tools and soak tests that run it on connections
// of their own. It is empty when none of the layers is in tiles at t's
// zoom.
func TileSQL(layers []*Layer, t maptile.Tile) (string, []any) {
	return tileSQL(layers, t, nil, tileSteps[0])
}

// tileArgs numbers the statement's arguments: $1..$3 are z, x and y. step
// is how the statement draws the tile. Every other argument depends on
// the zoom alone, but for onGrid's and cellsSQL's, whose places are kept
// (tileStatement.argsFor fills them in for another tile).
type tileArgs struct {
	args                 []any
	tile                 maptile.Tile
	tol, cell, coarseTol string // placeholders, once added
	move                 string // onGrid's placeholders, once added
	cells                string // cellsSQL's condition on the cells, once added
	moveAt, cellsAt      int    // the index in args of the first of each, or -1
	tileStep
}

// coarse simplifies a polygon geometry to one unit of a grid coarser than
// the full one, on which snapping alone leaves most vertices of a
// geometry simplified for the full grid; on the full grid it is geom.
func (a *tileArgs) coarse(geom string, z maptile.Zoom) string {
	if a.extent >= tiles.Extent {
		return geom
	}
	if a.coarseTol == "" {
		a.coarseTol = a.add(tiles.UnitSize(z) * tiles.Extent / float64(a.extent))
	}
	return fmt.Sprintf("ST_Simplify(%s, %s, true)", geom, a.coarseTol)
}

func (a *tileArgs) add(v any) string {
	a.args = append(a.args, v)
	return "$" + strconv.Itoa(len(a.args))
}

// tileSQL is the statement for layers' tile t; where, when set, is a
// filter compiled for the one layer given, drawn as step says. It is empty
// when no layer is in tiles at t's zoom (Layer.MinZoom).
func tileSQL(layers []*Layer, t maptile.Tile, where *Predicate, step tileStep) (string, []any) {
	st := buildTileStatement(layers, t, where, step)
	return st.sql, st.args
}

// buildTileStatement is tileSQL's statement, with the places of the
// arguments that depend on the tile and not only on its zoom.
func buildTileStatement(layers []*Layer, t maptile.Tile, where *Predicate, step tileStep) *tileStatement {
	a := &tileArgs{args: []any{int32(t.Z), int64(t.X), int64(t.Y)}, tile: t, tileStep: step, moveAt: -1, cellsAt: -1}
	var parts []string
	for _, l := range layers {
		if t.Z >= l.MinZoom {
			parts = append(parts, l.tileLayerSQL(a, t.Z, where))
		}
	}
	if len(parts) == 0 {
		return &tileStatement{moveAt: -1, cellsAt: -1}
	}
	return &tileStatement{sql: "SELECT " + strings.Join(parts, " || "), args: a.args, moveAt: a.moveAt, cellsAt: a.cellsAt}
}

// envelope is the tile's Web Mercator square; with margin, widened by that
// fraction of its width on every side.
func envelope(margin float64) string {
	if margin == 0 {
		return "ST_TileEnvelope($1, $2, $3)"
	}
	return "ST_TileEnvelope($1, $2, $3, margin => " + strconv.FormatFloat(margin, 'g', -1, 64) + ")"
}

// tileLayerSQL is one layer's ST_AsMVT expression. Generalisation:
//   - layers with Bands read the stored geometry of the first band at or
//     above the zoom (the full geometry past the last), simplified on
//     import; below the first band a layer with Groups draws its groups
//     instead (and below Groups.DenseBelow, in a tile that would hold more
//     than Groups.DenseAbove features), unless a filter reads more than
//     what they were grouped by;
//   - at tiles.PieceZoom on the full grid, layers with Pieces read their
//     band already cut to the tile on publish (piecesSQL);
//   - other polygon layers are simplified per request with a tolerance tied
//     to the zoom's pixel size (tiles.Tolerance);
//   - points below tiles.ClusterBelowZoom are clustered per grid cell
//     (tiles.CellSize): a lone point keeps its properties, a group becomes
//     one point with cluster = true and point_count;
//   - from tiles.ClusterBelowZoom on, every point is drawn as it is.
//
// ST_AsMVTGeom then snaps to the tile's grid (a.extent) and drops what is
// smaller than a unit. A filter's condition joins the layer's scope, so clusters and
// features are made of the selected features only. Features are ordered by
// id so a tile's bytes are reproducible.
func (l *Layer) tileLayerSQL(a *tileArgs, z maptile.Zoom, filter *Predicate) string {
	name := a.add(l.ID)
	var dense *Groups
	if g := l.Groups; g != nil && len(l.Bands) > 0 && (filter == nil || filter.readsOnly(g.By)) {
		if z < l.Bands[0] || (a.light && z < g.DenseBelow) {
			return g.tileSQL(a, name, z, filter)
		}
		if g.DenseAbove > 0 && z < g.DenseBelow {
			dense = g
		}
	}
	where, args := l.scope(a.args)
	a.args = args
	if filter != nil {
		var cond string
		cond, a.args = filter.SQL("t", a.args)
		where += " AND " + cond
	}
	detail := z // the zoom whose properties the features carry
	if a.light {
		detail = 0
	}
	props := l.tileColumns(detail)
	if l.GeometryType == "Point" && tiles.Clustered(z) {
		if filter == nil && l.Cells != "" {
			return l.cellsSQL(a, name, props)
		}
		if a.cell == "" {
			a.cell = a.add(tiles.CellSize(z))
		}
		return l.clusterSQL(a, name, where, props)
	}
	column := "t.geom_3857"
	geom := column
	onGrid := false // the band of z itself, drawn on the full grid
	switch {
	case len(l.Bands) > 0:
		band, exact := bandColumn(l.Bands, z)
		column = "t." + band
		geom = column
		onGrid = exact && a.extent == tiles.Extent && l.GeometryType != "Point"
	case l.GeometryType != "Point" && tiles.Tolerance(z) > 0:
		if a.tol == "" {
			a.tol = a.add(tiles.Tolerance(z))
		}
		geom = fmt.Sprintf("ST_Simplify(t.geom_3857, %s, true)", a.tol)
	}
	if onGrid && dense == nil && l.Pieces != "" && z == tiles.PieceZoom {
		return l.piecesSQL(a, name, where, props, l.tileOrder(detail))
	}
	if l.GeometryType != "Point" {
		geom = a.coarse(geom, z)
	}
	drawn := mvtGeom(geom, a.extent)
	if onGrid {
		drawn = a.onGrid(column)
	}
	features := featuresSQL(a.extent, name, l.View.Sanitize(), where, drawn, column, props, l.tileOrder(detail))
	if dense == nil {
		return features
	}
	// Counting stops one past the limit; only the branch taken is run.
	return fmt.Sprintf(`(CASE WHEN (SELECT count(*) FROM (SELECT FROM %s t %s AND %s && %s LIMIT %d) d) > %d
  THEN %s ELSE %s END)`, l.View.Sanitize(), where, column, bufferedEnvelope(),
		dense.DenseAbove+1, dense.DenseAbove, dense.tileSQL(a, name, z, filter), features)
}

// piecesSQL draws a polygon layer in a tile of tiles.PieceZoom from its
// features cut to each tile on publish (api.tile_pieces), read by the
// tile's key and joined to the layer's view by the feature's: what onGrid
// draws, without clipping a feature per request. The view still decides
// which features are drawn, and with what properties.
func (l *Layer) piecesSQL(a *tileArgs, name, where string, props []tileColumn, order string) string {
	join := "p.code = t." + pgx.Identifier{l.Key}.Sanitize()
	if l.SetID != "" {
		join += " AND p.set_id = t.set_id"
	}
	return fmt.Sprintf(`(SELECT coalesce(ST_AsMVT(q, %s, %d, 'geom' ORDER BY %s), ''::bytea) FROM (
  SELECT p.geom, %s
  FROM api.tile_pieces p JOIN %s t ON %s %s AND p.layer = %s AND p.z = $1 AND p.x = $2 AND p.y = $3
) q)`, name, a.extent, order, selectList(props), l.View.Sanitize(), join, where, a.add(l.Pieces))
}

// bandColumn is the column of the first band at or above z, the first band
// below them all, and the full geometry past the last; exact when the band
// is z's own.
func bandColumn(bands []maptile.Zoom, z maptile.Zoom) (column string, exact bool) {
	for _, b := range bands {
		if b >= z {
			return "geom_z" + strconv.Itoa(int(b)), b == z
		}
	}
	return "geom_3857", false
}

// tileSQL draws the groups of a layer below its first band.
func (g *Groups) tileSQL(a *tileArgs, name string, z maptile.Zoom, filter *Predicate) string {
	where := "WHERE true"
	if filter != nil {
		var cond string
		cond, a.args = filter.SQL("t", a.args)
		where += " AND " + cond
	}
	props := append(fieldColumns(g.By), fieldColumns(g.Totals)...)
	band, _ := bandColumn(g.Bands, z)
	column := "t." + band
	order := make([]string, len(g.By))
	for i, f := range g.By {
		order[i] = "q." + pgx.Identifier{f.Name}.Sanitize()
	}
	return featuresSQL(a.extent, name, g.View.Sanitize(), where, mvtGeom(a.coarse(column, z), a.extent), column, props, strings.Join(order, ", "))
}

// featuresSQL is the ST_AsMVT of the features of view that pass where and
// whose bounding box column meets the tile (widened by its buffer), drawn
// by the expression drawn on a grid of extent units, in the order of the
// properties order names (unique, so a tile's bytes are reproducible).
// OFFSET 0 keeps the planner from pushing "geom IS NOT NULL" into the
// scan, which would clip every feature twice.
func featuresSQL(extent int, name, view, where, drawn, column string, props []tileColumn, order string) string {
	return fmt.Sprintf(`(SELECT coalesce(ST_AsMVT(q, %s, %d, 'geom' ORDER BY %s), ''::bytea) FROM (
  SELECT %s AS geom, %s
  FROM %s t %s AND %s && %s OFFSET 0
) q WHERE q.geom IS NOT NULL)`, name, extent, order, drawn, selectList(props), view, where, column, bufferedEnvelope())
}

// tileOrder orders a layer's features in a tile at zoom z by their key:
// the "id" property, or below IDTilesFrom the field that holds the key.
func (l *Layer) tileOrder(z maptile.Zoom) string {
	if _, ok := l.Field("id"); ok || z >= l.IDTilesFrom {
		return "q.id"
	}
	return "q." + pgx.Identifier{l.Key}.Sanitize()
}

// bufferedEnvelope is the tile widened by its buffer: what a feature drawn
// in the tile must meet.
func bufferedEnvelope() string { return envelope(float64(tiles.Buffer) / tiles.Extent) }

// onGrid draws a band's geometry in a tile of the band's own zoom on the
// full grid, where the band is already drawn as ST_AsMVTGeom draws it
// (logic.tile_band): a feature inside the tile and its buffer is only
// moved and scaled onto the tile's grid (snapped once more, because
// ST_AsMVT truncates), and one that crosses the edge is clipped by
// ST_AsMVTGeom. ST_AsMVTGeom's clipping and validation were 40% of a small
// area's database time at z12 on England, and change nothing in a feature
// that is valid on the grid and lies inside.
func (a *tileArgs) onGrid(column string) string {
	if a.move == "" {
		x, y := moveArgs(a.tile)
		scale := 1 / tiles.UnitSize(a.tile.Z)
		a.moveAt = len(a.args)
		a.move = strings.Join([]string{a.add(x), a.add(y), a.add(scale), a.add(-scale)}, ", ")
	}
	return fmt.Sprintf("CASE WHEN %s @ %s THEN ST_SnapToGrid(ST_TransScale(%s, %s), 1) ELSE %s END",
		column, bufferedEnvelope(), column, a.move, mvtGeom(column, a.extent))
}

// mvtGeom clips and snaps a Web Mercator geometry to a tile grid of extent
// units, keeping the same share of the tile as a buffer on any grid.
func mvtGeom(g string, extent int) string {
	return fmt.Sprintf("ST_AsMVTGeom(%s, %s, %d, %d, true)", g, envelope(0), extent, tiles.Buffer*extent/tiles.Extent)
}

// clusterSQL groups a point layer's features by grid cell. The query reads
// one whole cell past the tile's edge (the cell is wider than the buffer),
// so a cluster drawn in a tile's buffer has the same count as in its own
// tile. Cells are counted from the features' keys and places alone; only a
// lone point's properties are read, by its key, so a dense city tile reads
// the properties of the few hundred points it draws, not of the thousands
// it counts.
func (l *Layer) clusterSQL(a *tileArgs, name, where string, props []tileColumn) string {
	margin := float64(tiles.CellUnits) / tiles.Extent
	cells := fmt.Sprintf(`SELECT count(*) AS n, avg(ST_X(t.geom_3857)) AS mx, avg(ST_Y(t.geom_3857)) AS my, min(%s) AS k
    FROM %s t %s AND t.geom_3857 && %s
    GROUP BY floor(ST_X(t.geom_3857) / %s), floor(ST_Y(t.geom_3857) / %s)`,
		"t."+pgx.Identifier{l.Key}.Sanitize(), l.View.Sanitize(), where, envelope(margin), a.cell, a.cell)
	return l.clustersSQL(a, name, cells, props)
}

// cellsSQL draws the same clusters as clusterSQL from the cells counted on
// publish (api.point_cells): the tile's and one cell past each edge, read
// by key. One z12 tile over London counted 1,289 community assets into
// 299 cells per request.
func (l *Layer) cellsSQL(a *tileArgs, name string, props []tileColumn) string {
	if a.cells == "" {
		columns, minY, maxY := cellArgs(a.tile)
		a.cellsAt = len(a.args)
		a.cells = fmt.Sprintf("c.cx = ANY(%s) AND c.cy BETWEEN %s AND %s", a.add(columns), a.add(minY), a.add(maxY))
	}
	cells := fmt.Sprintf("SELECT c.n, c.mx, c.my, c.k FROM api.point_cells c WHERE c.layer = %s AND c.z = $1 AND %s", a.add(l.Cells), a.cells)
	return l.clustersSQL(a, name, cells, props)
}

// clustersSQL draws a point layer's clusters from cells, a query of one
// row per cell (n points, their mean mx, my and least key k): one point at
// the mean for two or more, and a lone point as it is with its
// properties, read by its key.
func (l *Layer) clustersSQL(a *tileArgs, name, cells string, props []tileColumn) string {
	return fmt.Sprintf(`(SELECT coalesce(ST_AsMVT(q, %s, %d, 'geom' ORDER BY q.id, q.point_count, ST_X(q.geom), ST_Y(q.geom)), ''::bytea) FROM (
  SELECT %s AS geom, %s,
    CASE WHEN c.n > 1 THEN true END AS cluster, CASE WHEN c.n > 1 THEN c.n END AS point_count
  FROM (
    %s
  ) c LEFT JOIN %s t ON t.%s = CASE WHEN c.n = 1 THEN c.k END
) q WHERE q.geom IS NOT NULL)`,
		name, a.extent,
		mvtGeom("CASE WHEN c.n = 1 THEN t.geom_3857 ELSE ST_SetSRID(ST_MakePoint(c.mx, c.my), 3857) END", a.extent), selectList(props),
		cells, l.View.Sanitize(), pgx.Identifier{l.Key}.Sanitize())
}

// moveArgs are onGrid's first two arguments: the shift that puts the
// tile's north-west corner at the origin.
func moveArgs(t maptile.Tile) (x, y float64) {
	x, y = tiles.Origin(t)
	return -x, -y
}

// cellArgs are cellsSQL's arguments: the columns of the cells its clusters
// are drawn from, and the first and last row.
func cellArgs(t maptile.Tile) (columns []int32, minY, maxY int32) {
	minX, minY, maxX, maxY := tiles.Cells(t)
	columns = make([]int32, 0, maxX-minX+1)
	for x := minX; x <= maxX; x++ {
		columns = append(columns, x)
	}
	return columns, minY, maxY
}

// tileStatement is the statement that draws a tile, with the index in args
// of onGrid's and cellsSQL's first argument (-1 for none).
type tileStatement struct {
	sql             string
	args            []any
	moveAt, cellsAt int
}

// argsFor are the statement's arguments for tile t, of the zoom it was
// built for: the same statement draws every tile of a zoom, and only the
// tile's position and what is derived from it change.
func (st *tileStatement) argsFor(t maptile.Tile) []any {
	args := slices.Clone(st.args)
	args[0], args[1], args[2] = int32(t.Z), int64(t.X), int64(t.Y)
	if st.moveAt >= 0 {
		args[st.moveAt], args[st.moveAt+1] = moveArgs(t)
	}
	if st.cellsAt >= 0 {
		args[st.cellsAt], args[st.cellsAt+1], args[st.cellsAt+2] = cellArgs(t)
	}
	return args
}

// tileStatements keeps the statement of each set of layers, zoom and step
// drawn without a filter, so a tile fills in its own arguments instead of
// building the statement again: quoting and casting every property of
// every layer was 9% of the server's CPU on cold composite tiles of
// England. Keys hold the layers of one catalogue load (a new data version
// loads new ones); the map is emptied when it reaches maxTileStatements,
// as the sets a client may choose are many.
type tileStatements struct {
	mu sync.Mutex
	m  map[tileStatementKey]*tileStatement
}

// maxTileStatements bounds tileStatements: each tile set's zooms and steps
// several times over.
const maxTileStatements = 1024

type tileStatementKey struct {
	first *Layer // its catalogue load
	ids   string
	z     maptile.Zoom
	step  int
}

// statement is tileSQL's statement and arguments for tile t drawn with
// tileSteps[step], from the kept statement of t's zoom when there is one.
// Filtered tiles are built each time: their arguments are the filter's.
func (c *tileStatements) statement(layers []*Layer, t maptile.Tile, where *Predicate, step int) (string, []any) {
	if where != nil || len(layers) == 0 {
		return tileSQL(layers, t, where, tileSteps[step])
	}
	key := tileStatementKey{first: layers[0], ids: strings.Join(LayerIDs(layers), LayerSeparator), z: t.Z, step: step}
	c.mu.Lock()
	st, ok := c.m[key]
	c.mu.Unlock()
	if !ok {
		st = buildTileStatement(layers, t, nil, tileSteps[step])
		c.mu.Lock()
		if c.m == nil || len(c.m) >= maxTileStatements {
			c.m = make(map[tileStatementKey]*tileStatement)
		}
		c.m[key] = st
		c.mu.Unlock()
		return st.sql, st.args
	}
	if st.sql == "" {
		return "", nil
	}
	return st.sql, st.argsFor(t)
}

// selectList is the properties as a select list: expression AS name.
func selectList(props []tileColumn) string {
	cols := make([]string, len(props))
	for i, p := range props {
		cols[i] = p.expr + " AS " + p.name
	}
	return strings.Join(cols, ", ")
}

// tileColumn is one MVT property: its quoted name and view expression.
type tileColumn struct{ name, expr string }

// tileColumns are the layer's MVT properties: "id" (the key as text, unless
// a field has that name) and every catalogue field, cast to the type its
// TileJSON field type promises.
func (l *Layer) tileColumns(z maptile.Zoom) []tileColumn {
	var cols []tileColumn
	if _, ok := l.Field("id"); !ok && z >= l.IDTilesFrom {
		cols = append(cols, tileColumn{`"id"`, "t." + pgx.Identifier{l.Key}.Sanitize() + "::text"})
	}
	var fields []Field
	for _, f := range l.Fields {
		if z >= f.TilesFrom {
			fields = append(fields, f)
		}
	}
	return append(cols, fieldColumns(fields)...)
}

// fieldColumns are the fields in tiles, over alias t.
func fieldColumns(fields []Field) []tileColumn {
	var cols []tileColumn
	for _, f := range fields {
		if f.NotInTiles {
			continue
		}
		cast := "text"
		switch f.Type {
		case Integer:
			cast = "bigint"
		case Number:
			cast = "double precision"
		case Boolean:
			cast = "boolean"
		}
		id := pgx.Identifier{f.Name}.Sanitize()
		cols = append(cols, tileColumn{id, "t." + id + "::" + cast})
	}
	return cols
}

// TileFields are the properties of the layer's features in its vector
// tiles, in tile order: "id" (the feature key as text, unless a field has
// that name), every field not left out of tiles, and for point layers the
// cluster and point_count of points clustered at low zooms.
func (l *Layer) TileFields() []Field {
	var out []Field
	if _, ok := l.Field("id"); !ok {
		id := Field{Name: "id", Type: String, Description: "Feature id (as in /collections/" + l.ID + "/items/{id})", TilesFrom: l.IDTilesFrom}
		if l.Groups != nil {
			id.Description += "; merged shapes have none"
		}
		out = append(out, id)
	}
	for _, f := range l.Fields {
		if f.NotInTiles {
			continue
		}
		if f.TilesFrom > 0 {
			f.Description += fmt.Sprintf(" (in tiles from zoom %d that weigh at most %d KB with it)", f.TilesFrom, tiles.MaxBytes/1000)
		}
		out = append(out, f)
	}
	if l.Groups != nil {
		for _, f := range l.Groups.Totals {
			if _, ok := l.Field(f.Name); !ok {
				out = append(out, f)
			}
		}
	}
	if l.GeometryType == "Point" {
		out = append(out,
			Field{Name: "cluster", Type: Boolean, Description: "true on a point standing for two or more features (below zoom " + strconv.Itoa(tiles.ClusterBelowZoom) + ")"},
			Field{Name: "point_count", Type: Integer, Description: "How many features a cluster point stands for"})
	}
	return out
}

// VectorLayer describes the layer's MVT layer for TileJSON and PMTiles.
func (l *Layer) VectorLayer() tiles.VectorLayer {
	fields := map[string]string{}
	for _, f := range l.TileFields() {
		switch f.Type {
		case Integer, Number:
			fields[f.Name] = "Number"
		case Boolean:
			fields[f.Name] = "Boolean"
		default:
			fields[f.Name] = "String"
		}
	}
	return tiles.VectorLayer{ID: l.ID, Description: l.Description, MinZoom: int(l.MinZoom), MaxZoom: tiles.DetailZoom, Fields: fields}
}

// AllLayers names the composite tile set: every public layer, each its own
// MVT layer.
const AllLayers = "all"

// TileSet resolves a tile set name, a layer id or AllLayers, to its layers
// and their description at the catalogue's data version: vector layers,
// the extent of their data and the attribution of the datasets behind them.
func (c *Catalogue) TileSet(name string) ([]*Layer, tiles.Source, bool) {
	layers, ok := c.TileLayers(name)
	if !ok {
		return nil, tiles.Source{}, false
	}
	if name == AllLayers {
		return layers, c.tileSource("nbhd: all public layers", "Every public nbhd layer, each as its own vector tile layer.", layers), true
	}
	return layers, c.tileSource(layers[0].Title, layers[0].Description, layers), true
}

// TileLayers resolves a tile set name (a layer id or "all") to its layers
// alone: the hot path of serving a tile needs no TileJSON.
func (c *Catalogue) TileLayers(name string) ([]*Layer, bool) {
	if name == AllLayers {
		return c.Layers, true
	}
	l, ok := c.Layer(name)
	if !ok {
		return nil, false
	}
	return []*Layer{l}, true
}

// LayerSeparator joins layer ids in the name of a composite of chosen
// layers, as Martin's composite sources do: /tiles/small-areas,schools/...
const LayerSeparator = ","

// ErrNoTileLayer is a tile set name naming no layer; ErrBadTileSet is a
// list of layers that names one twice, names "all" or has an empty entry.
var (
	ErrNoTileLayer = errors.New("no tile layer")
	ErrBadTileSet  = errors.New("bad list of tile layers")
)

// Tiles resolves a /tiles name: a layer id, AllLayers, or layer ids joined
// by LayerSeparator, a composite of those layers alone (a map draws what
// it shows and downloads nothing else). The list's layers come in
// catalogue order, and key names the set with its ids in that order, so
// "b,a" and "a,b" share cached tiles; MVT layer order draws nothing
// differently.
func (c *Catalogue) Tiles(name string) (layers []*Layer, key string, err error) {
	if !strings.Contains(name, LayerSeparator) {
		layers, ok := c.TileLayers(name)
		if !ok {
			return nil, "", fmt.Errorf("%w %q", ErrNoTileLayer, name)
		}
		return layers, name, nil
	}
	chosen := make(map[string]bool)
	for id := range strings.SplitSeq(name, LayerSeparator) {
		switch _, ok := c.Layer(id); {
		case id == "" || id == AllLayers:
			return nil, "", fmt.Errorf("%w: %q is not a layer id", ErrBadTileSet, id)
		case chosen[id]:
			return nil, "", fmt.Errorf("%w: %q is listed twice", ErrBadTileSet, id)
		case !ok:
			return nil, "", fmt.Errorf("%w %q", ErrNoTileLayer, id)
		}
		chosen[id] = true
	}
	for _, l := range c.Layers {
		if chosen[l.ID] {
			layers = append(layers, l)
		}
	}
	return layers, strings.Join(LayerIDs(layers), LayerSeparator), nil
}

// LayerIDs are the layers' ids, in their order.
func LayerIDs(layers []*Layer) []string {
	ids := make([]string, len(layers))
	for i, l := range layers {
		ids[i] = l.ID
	}
	return ids
}

// TileSource describes the tile set Tiles resolved to key.
func (c *Catalogue) TileSource(key string, layers []*Layer) tiles.Source {
	if _, src, ok := c.TileSet(key); ok {
		return src
	}
	ids := strings.Join(LayerIDs(layers), ", ")
	return c.tileSource("nbhd: "+ids, "The public nbhd layers "+ids+", each as its own vector tile layer.", layers)
}

// MapTileSets are the tile sets the built-in map asks for most, the ones
// worth pre-rendering: each neighbourhood set alone (the map at first),
// then each with every area layer that belongs to no set (the map with
// small areas shown). Points are never in them (the map draws those from
// GeoJSON), nor official boundaries, asked for only when switched on.
// They must match api/viewer/app.js's tileSetName.
func (c *Catalogue) MapTileSets() []string {
	var areas, sets []string
	for _, l := range c.Layers {
		switch {
		case l.SetID == "" && l.GeometryType != "Point":
			areas = append(areas, l.ID)
		case l.SetID != "" && l.ID == neighbourhoodLayerID(l.SetID):
			sets = append(sets, l.ID)
		}
	}
	out := slices.Clone(sets)
	if len(areas) == 0 {
		return out
	}
	for _, set := range sets {
		if _, key, err := c.Tiles(strings.Join(append(slices.Clone(areas), set), LayerSeparator)); err == nil {
			out = append(out, key)
		}
	}
	return out
}

func (c *Catalogue) tileSource(name, description string, layers []*Layer) tiles.Source {
	// The data version is the minor version: TileJSON asks for a new minor
	// version whenever tiles change.
	src := tiles.Source{Name: name, Description: description, Version: "1." + strconv.FormatInt(c.Version, 10) + ".0"}
	src.Extent, src.HasData = c.Extent(layers)
	for _, l := range layers {
		src.Layers = append(src.Layers, l.VectorLayer())
		for _, p := range c.Info[l.ID].Datasets {
			src.Attributions = append(src.Attributions, p.Attribution)
		}
	}
	return src
}

// Extent is the lon/lat bound of the layers' features at the catalogue's
// data version; ok is false when they have none.
func (c *Catalogue) Extent(layers []*Layer) (b orb.Bound, ok bool) {
	for _, l := range layers {
		info := c.Info[l.ID]
		if info.Count == 0 {
			continue
		}
		if ok {
			b = b.Union(info.Extent)
		} else {
			b, ok = info.Extent, true
		}
	}
	return b, ok
}
