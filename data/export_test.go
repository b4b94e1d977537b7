package data

import "context"

// QueryRowForTest runs one query on a role's pool, for tests of privileges.
func (s *Store) QueryRowForTest(ctx context.Context, a Access, sql string, dest ...any) error {
	return s.pool(a).QueryRow(ctx, sql).Scan(dest...)
}
