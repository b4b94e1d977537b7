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

// ProfileUnkeptForTest reads a profile without what profileScopes keeps.
func (s *Store) ProfileUnkeptForTest(ctx context.Context, set, code, vintage string) (Profile, error) {
	p, _, err := s.profile(ctx, set, code, vintage, false)
	return p, err
}

// ProfileScopesForTest changes what profiles keep at the current version:
// the neighbourhood set/code is said to be in borough lad, and set's
// neighbourhood counts in lad are sizes, with from's comparators and
// settings (which must be kept already). It returns how many boroughs had
// figures kept before.
func (s *Store) ProfileScopesForTest(ctx context.Context, set, code, lad, from string, sizes map[string]int) (int, error) {
	ps, err := s.scopes.get(ctx, s.Version(), s.loadProfileScopes)
	if err != nil {
		return 0, err
	}
	n := len(ps.byLad) // profileScopes has no lock: tests call this between profiles
	ps.lads[[2]string{set, code}] = lad
	ps.byLad[lad] = ps.byLad[from]
	ps.bySize[[2]string{set, lad}] = sizes
	return n, nil
}

// ProfileScopesKeptForTest reports whether every borough's profile figures
// are kept for the current version.
func (s *Store) ProfileScopesKeptForTest() bool {
	_, ok := s.scopes.peek(s.Version())
	return ok
}
