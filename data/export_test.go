package data

import (
	"context"

	"github.com/paulmach/orb/maptile"
)

// QueryRowForTest runs one query on a role's pool, for tests of privileges.
func (s *Store) QueryRowForTest(ctx context.Context, a Access, sql string, dest ...any) error {
	return s.pool(a).QueryRow(ctx, sql).Scan(dest...)
}

// TileStatementsForTest is the statement Store.Tile runs for layers' tile
// t drawn with the step-th of its steps (from the statement kept for t's
// zoom, if one is), and the statement built for t alone.
func (s *Store) TileStatementsForTest(layers []*Layer, t maptile.Tile, step int) (kept string, keptArgs []any, built string, builtArgs []any) {
	kept, keptArgs = s.statements.statement(layers, t, nil, step)
	built, builtArgs = tileSQL(layers, t, nil, tileSteps[step])
	return kept, keptArgs, built, builtArgs
}

// TileSteps is the number of ways a tile may be drawn.
var TileSteps = len(tileSteps)
