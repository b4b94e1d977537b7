package data

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// VersionChannel is the notification channel every import signals on.
const VersionChannel = "nbhd_data_version"

// Version is the data version this process serves. Every import bumps it
// in the database; caches key on it and ETags derive from it. With read
// replicas it is the newest version a replica that is up has replayed, and
// reads go only to replicas that have replayed it, so a reply is never
// older than the version it is served under.
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

// RefreshVersion reads the data version and its time from the read
// servers (the primary, or every replica) and serves the newest one a
// server has replayed. It fails only when no read server answers.
func (s *Store) RefreshVersion(ctx context.Context) (int64, error) {
	if err := s.poll(ctx, nil); err != nil {
		return 0, err
	}
	return s.Version(), nil
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
			s.movedMu.Lock()
			if s.moved != nil {
				close(s.moved)
			}
			s.moved = make(chan struct{})
			s.movedMu.Unlock()
			return
		}
	}
}

// settleWindow is how long after the primary announces a version Settle
// waits for a read server to replay it.
const settleWindow = time.Second

// Settle returns once the data version served is the newest one the
// primary has announced, or settleWindow after the announcement, or when
// ctx ends. A request that reads its version for its validators (ETag,
// tile cache key) calls it first: between an import's commit and the
// version's move, a read server may already answer with the new data,
// which the old version must not name. Outside that moment (normally a
// few milliseconds, the replicas' replay lag) it returns at once.
func (s *Store) Settle(ctx context.Context) {
	for {
		if s.wanted.Load() <= s.Version() {
			return
		}
		wait := time.Until(time.Unix(0, s.wantedAt.Load()).Add(settleWindow))
		if wait <= 0 {
			return // a replica lagging behind: serve what it has
		}
		s.movedMu.Lock()
		moved := s.moved
		s.movedMu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-moved:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
			return
		}
	}
}

// WatchVersion keeps the data version current until ctx ends, calling
// onChange (from this goroutine) whenever it moves.
//
// It LISTENs on the primary, on a dedicated connection that reconnects
// with backoff, for the version each import announces. A hot standby
// cannot LISTEN, so the version itself is read from the read servers: at
// once after a notification or a reconnect, every 25 ms while a replica
// has not yet replayed an announced version, and with replicas every
// VersionPollInterval too (for their lag, and for changes while the
// listener was down). The version moves, and
// onChange purges caches, only once a read server has replayed it: no tile
// of the old data is ever cached under the new version.
func (s *Store) WatchVersion(ctx context.Context, log *slog.Logger, onChange func(int64)) {
	kick := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.listenLoop(ctx, log, kick)
	}()
	s.follow(ctx, log, kick, onChange)
	wg.Wait()
}

// catchUpPoll is how often replicas are polled while one is behind an
// announced version, for at most catchUpWindow.
const (
	catchUpPoll   = 25 * time.Millisecond
	catchUpWindow = 10 * time.Second
)

// follow polls the read servers whenever kicked or the interval passes.
func (s *Store) follow(ctx context.Context, log *slog.Logger, kick <-chan struct{}, onChange func(int64)) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	var fastUntil time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-timer.C:
		}
		old := s.Version()
		_ = s.poll(ctx, log) // logged per server, on change of state
		if v := s.Version(); v != old && onChange != nil {
			onChange(v)
		}
		// Without replicas the primary's notifications are enough (a
		// reconnected listener kicks a poll too); replicas are polled at
		// the interval, for their lag and for changes a listener missed.
		next := time.Duration(0)
		if s.replicas {
			next = s.cfg.VersionPollInterval
		}
		if s.wanted.Load() > s.Version() {
			if fastUntil.IsZero() {
				fastUntil = time.Now().Add(min(catchUpWindow, s.cfg.MaxReplicaLag))
			}
			if time.Now().Before(fastUntil) {
				next = catchUpPoll
			}
		} else {
			fastUntil = time.Time{}
		}
		if next > 0 {
			timer.Reset(next)
		}
	}
}

// listenLoop LISTENs on the primary until ctx ends, reconnecting with
// backoff; each notification (and each reconnect, which may have missed
// some) kicks the follower.
func (s *Store) listenLoop(ctx context.Context, log *slog.Logger, kick chan<- struct{}) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listen(ctx, kick, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		log.Warn("data version listener lost; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		// Capped at 1 s, so a server whose listener dropped is back and
		// has re-read the version within the 2 s the caches promise.
		backoff = min(backoff*2, time.Second)
	}
}

func (s *Store) listen(ctx context.Context, kick chan<- struct{}, connected func()) error {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return fmt.Errorf("connect listener: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{VersionChannel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	connected()
	signal(kick)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		// The payload is the new version; its time is read with it from
		// a read server once that server has replayed it.
		if v, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
			s.want(v)
		}
		signal(kick)
	}
}

// want records a version the primary has announced, and when.
func (s *Store) want(v int64) {
	for {
		old := s.wanted.Load()
		if v <= old {
			return
		}
		if s.wanted.CompareAndSwap(old, v) {
			s.wantedAt.Store(time.Now().UnixNano())
			return
		}
	}
}

func signal(kick chan<- struct{}) {
	select {
	case kick <- struct{}{}:
	default:
	}
}

// pollSQL reads a read server's data version and, on a standby, how far it
// has received and replayed its primary's WAL. Every function here may be
// called by any role.
const pollSQL = `SELECT v.version, v.changed_at, pg_is_in_recovery(),
	pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text, pg_last_xact_replay_timestamp(),
	CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END
	FROM api.data_version v`

// pollTimeout bounds one poll of one server.
const pollTimeout = 2 * time.Second

// poll reads every read server's version (and, with replicas, the
// primary's WAL position, for the lag) and serves the newest version a
// server that answered has replayed. log may be nil. It fails only when no
// read server answered.
func (s *Store) poll(ctx context.Context, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	var ref string
	if s.replicas {
		// The primary's WAL position now: a replica that has replayed it
		// is current. Without the primary, lag is measured against what
		// each replica has received.
		_ = s.staff.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&ref)
	}
	now := time.Now()
	ms := s.public.members
	errs := make([]error, len(ms))
	stamps := make([]versionStamp, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stamps[i], errs[i] = s.pollMember(ctx, m, now, ref)
		}()
	}
	wg.Wait()
	var best *versionStamp
	for i, m := range ms {
		wasDown := m.down.Swap(errs[i] != nil)
		if errs[i] != nil {
			if !wasDown && log != nil && s.replicas {
				log.Warn("read server not answering; reads go to the others", "server", m.name, "err", errs[i])
			}
			continue
		}
		if wasDown && log != nil && s.replicas {
			log.Info("read server answering again", "server", m.name, "data_version", stamps[i].version)
		}
		if best == nil || stamps[i].version > best.version {
			best = &stamps[i]
		}
	}
	if best == nil {
		return fmt.Errorf("read data version: %w", errors.Join(errs...))
	}
	s.setStamp(*best)
	return nil
}

// pollMember reads one server's version and updates its lag.
func (s *Store) pollMember(ctx context.Context, m *member, now time.Time, ref string) (versionStamp, error) {
	var st versionStamp
	var standby, paused bool
	var received, replayed *string
	var lastReplay *time.Time
	c, err := m.conns.Acquire(ctx)
	if err != nil {
		return st, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	err = c.QueryRow(ctx, pollSQL).Scan(&st.version, &st.at, &standby, &received, &replayed, &lastReplay, &paused)
	c.Release()
	if err != nil {
		return st, fmt.Errorf("read data version: %w", err)
	}
	st.at = st.at.UTC().Truncate(time.Second) // HTTP dates have whole seconds
	m.version.Store(st.version)
	if ref == "" && received != nil {
		ref = *received
	}
	replay := ""
	if replayed != nil {
		replay = *replayed
	}
	m.lag.update(m.name, now, standby, ref, replay, lastReplay, paused, st.version)
	return st, nil
}

// ReplicaStatus is what the version follower last saw of a read replica.
type ReplicaStatus struct {
	Name string `json:"name"`
	// Up is whether it answered its last poll.
	Up bool `json:"up"`
	// Standby is whether it is in recovery (a hot standby); a server that
	// is not has no lag.
	Standby     bool    `json:"standby"`
	DataVersion int64   `json:"data_version"`
	LagSeconds  float64 `json:"lag_seconds"`
	// BehindBytes is the WAL it has yet to replay: the primary's position
	// (or, without the primary, what it has received) minus its replay
	// position.
	BehindBytes  int64 `json:"behind_bytes"`
	ReplayPaused bool  `json:"replay_paused"`
	// LastReplay is the commit time of the last transaction it replayed.
	LastReplay *time.Time `json:"last_replay,omitempty"`
	CheckedAt  time.Time  `json:"checked_at"`
	lag        time.Duration
}

// Lag is how far behind the primary the replica was when last checked.
func (r ReplicaStatus) Lag() time.Duration { return r.lag }

// replicaLag measures a standby's lag as time, not bytes: it keeps the
// reference WAL positions (the primary's) seen at each poll, and the lag
// is the age of the newest one the standby has replayed. So a standby of
// an idle primary has no lag, however old its last replayed commit, and
// one whose replay is paused falls behind by the time since the first
// change it did not replay (to within a poll interval).
type replicaLag struct {
	mu      sync.Mutex
	samples []lsnSample // oldest first
	status  ReplicaStatus
}

type lsnSample struct {
	at  time.Time
	lsn uint64
}

// maxSamples bounds the positions kept while a standby does not replay.
const maxSamples = 4096

func (l *replicaLag) update(name string, now time.Time, standby bool, ref, replayed string, lastReplay *time.Time, paused bool, version int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := ReplicaStatus{Name: name, Up: true, Standby: standby, DataVersion: version, ReplayPaused: paused, LastReplay: lastReplay, CheckedAt: now}
	refLSN, refOK := parseLSN(ref)
	replay, replayOK := parseLSN(replayed)
	if !standby || !replayOK {
		l.samples = nil
		l.status = st
		return
	}
	if refOK {
		l.samples = append(l.samples, lsnSample{at: now, lsn: refLSN})
		if refLSN > replay {
			st.BehindBytes = int64(refLSN - replay) //nolint:gosec // WAL positions differ by far less than 2^63
		}
	}
	// The newest position the standby has replayed dates its data.
	caught := -1
	for i := len(l.samples) - 1; i >= 0; i-- {
		if l.samples[i].lsn <= replay {
			caught = i
			break
		}
	}
	switch {
	case caught >= 0:
		st.lag = now.Sub(l.samples[caught].at)
		l.samples = l.samples[caught:] // older positions are replayed too
	case len(l.samples) > 0:
		st.lag = now.Sub(l.samples[0].at) // at least this much
	}
	if len(l.samples) > maxSamples {
		l.samples = append([]lsnSample(nil), l.samples[len(l.samples)-maxSamples:]...)
	}
	st.LagSeconds = st.lag.Seconds()
	l.status = st
}

func (l *replicaLag) get() ReplicaStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
}

// parseLSN reads a pg_lsn's text form, "16/B374D848".
func parseLSN(s string) (uint64, bool) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, false
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return h<<32 | l, true
}

// Replicas reports each read replica as last polled; nil without replicas.
func (s *Store) Replicas() []ReplicaStatus {
	if !s.replicas {
		return nil
	}
	out := make([]ReplicaStatus, len(s.public.members))
	for i, m := range s.public.members {
		out[i] = m.lag.get()
		out[i].Name = m.name
		if m.down.Load() {
			out[i].Up = false
		}
	}
	return out
}

// ReplicaLagError is Ready's answer when no read replica is both up and
// within the lag limit.
type ReplicaLagError struct {
	Max      time.Duration
	Replicas []ReplicaStatus
}

func (e *ReplicaLagError) Error() string {
	var parts []string
	for _, r := range e.Replicas {
		if !r.Up {
			parts = append(parts, r.Name+" is not answering")
		} else {
			parts = append(parts, fmt.Sprintf("%s lags %.1fs", r.Name, r.LagSeconds))
		}
	}
	return fmt.Sprintf("no read replica within the %s lag limit: %s", e.Max, strings.Join(parts, ", "))
}

// replicasReady checks that at least one replica is up and within the lag
// limit, polling them first when the follower has not done so lately (a
// store nobody watches).
func (s *Store) replicasReady(ctx context.Context) error {
	stale := false
	for _, r := range s.Replicas() {
		if time.Since(r.CheckedAt) > 3*s.cfg.VersionPollInterval+pollTimeout {
			stale = true
		}
	}
	if stale {
		s.pollLag(ctx)
	}
	rs := s.Replicas()
	for _, r := range rs {
		if r.Up && r.lag <= s.cfg.MaxReplicaLag {
			return nil
		}
	}
	return &ReplicaLagError{Max: s.cfg.MaxReplicaLag, Replicas: rs}
}

// pollLag polls the replicas for their lag without moving the served
// version (which only WatchVersion and RefreshVersion do).
func (s *Store) pollLag(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	var ref string
	_ = s.staff.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&ref)
	now := time.Now()
	for _, m := range s.public.members {
		_, err := s.pollMember(ctx, m, now, ref)
		m.down.Store(err != nil)
	}
}
