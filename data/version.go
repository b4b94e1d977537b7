package data

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// VersionChannel is the notification channel every import signals on.
const VersionChannel = "nbhd_data_version"

// Version is the last data version this process has seen. Every import bumps
// it in the database; caches key on it and ETags derive from it.
func (s *Store) Version() int64 { return s.version.Load() }

// RefreshVersion reads the data version from the database.
func (s *Store) RefreshVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.public.QueryRow(ctx, "SELECT version FROM api.data_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read data version: %w", err)
	}
	s.setVersion(v)
	return v, nil
}

// setVersion only moves forward, so a late notification cannot roll back.
func (s *Store) setVersion(v int64) {
	for {
		old := s.version.Load()
		if v <= old || s.version.CompareAndSwap(old, v) {
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
		backoff = min(backoff*2, 5*time.Second)
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
	s.bump(ctx, onChange, -1)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		v, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil {
			v = -1
		}
		s.bump(ctx, onChange, v)
	}
}

// bump records version v (or re-reads it when v < 0) and reports a change.
func (s *Store) bump(ctx context.Context, onChange func(int64), v int64) {
	old := s.Version()
	if v < 0 {
		if _, err := s.RefreshVersion(ctx); err != nil {
			return
		}
	} else {
		s.setVersion(v)
	}
	if nv := s.Version(); nv != old && onChange != nil {
		onChange(nv)
	}
}
