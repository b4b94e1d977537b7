package data

import "context"

// QueryArgsForTest runs one query with arguments on a role's pool, for tests
// of SQL fragments such as Predicate.SQL in a query of their own.
func (s *Store) QueryArgsForTest(ctx context.Context, a Access, sql string, args []any, dest ...any) error {
	return s.pool(a).QueryRow(ctx, sql, args...).Scan(dest...)
}
