package data

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// VersionChannel is the notification channel every import signals on.
const VersionChannel = "nbhd_data_version"

// Version is the last data version this process has seen. Every import bumps
// it in the database; caches key on it and ETags derive from it.
func (s *Store) Version() int64 { return s.version.Load() }

// VersionTime is when the data last changed, as of Version: the
// Last-Modified of every public response.
func (s *Store) VersionTime() time.Time {
	if st := s.stamp.Load(); st != nil {
		return st.at
	}
	return time.Time{}
}

// versionStamp pairs a version with the time it was made.
type versionStamp struct {
	version int64
	at      time.Time
}

// RefreshVersion reads the data version and its time from the database.
func (s *Store) RefreshVersion(ctx context.Context) (int64, error) {
	var st versionStamp
	if err := s.public.QueryRow(ctx, "SELECT version, changed_at FROM api.data_version").Scan(&st.version, &st.at); err != nil {
		return 0, fmt.Errorf("read data version: %w", err)
	}
	st.at = st.at.UTC().Truncate(time.Second) // HTTP dates have whole seconds
	s.setStamp(st)
	return st.version, nil
}

// setStamp only moves forward, so a late read cannot roll the version back.
func (s *Store) setStamp(st versionStamp) {
	for {
		old := s.stamp.Load()
		if old != nil && st.version <= old.version {
			return
		}
		if s.stamp.CompareAndSwap(old, &st) {
			s.version.Store(st.version)
			return
		}
	}
}

// WatchVersion keeps the data version current until ctx ends. It LISTENs on a
// dedicated connection and reconnects with backoff when that connection
// drops, re-reading the version after each reconnect so no change is missed.
// onChange is called (from this goroutine) whenever the version moves.
func (s *Store) WatchVersion(ctx context.Context, log *slog.Logger, onChange func(int64)) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listen(ctx, onChange, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		log.Warn("data version listener lost; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		// Capped at 1 s, so a replica whose listener dropped is back and
		// has re-read the version within the 2 s the caches promise.
		backoff = min(backoff*2, time.Second)
	}
}

func (s *Store) listen(ctx context.Context, onChange func(int64), connected func()) error {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return fmt.Errorf("connect listener: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{VersionChannel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	connected()
	s.bump(ctx, onChange)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		// The payload is the new version, but its time is in the
		// database: re-read both (one small query per import).
		s.bump(ctx, onChange)
	}
}

// bump re-reads the version and reports a change.
func (s *Store) bump(ctx context.Context, onChange func(int64)) {
	old := s.Version()
	if _, err := s.RefreshVersion(ctx); err != nil {
		return
	}
	if nv := s.Version(); nv != old && onChange != nil {
		onChange(nv)
	}
}
