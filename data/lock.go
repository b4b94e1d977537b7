package data

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// dataLock is the advisory lock every change to the loaded data holds for
// its transaction (imports, dataset drops, settings changes): they all end
// by recomputing the derived statistics and bumping the one data version
// row, so they would queue there anyway, holding the locks of their work.
// Queueing first, visibly, is cheaper and can be reported.
const dataLock = 7_402_031_002

// LockTimeout bounds how long any statement of a data change waits for a
// lock other than the data lock itself (lock_timeout), so a change never
// hangs silently behind a session that does not let go.
const LockTimeout = time.Minute

// DefaultLockWait is how long a data change waits for another to finish.
const DefaultLockWait = 10 * time.Minute

// appPrefix marks the application_name a data change sets, so that one
// waiting can say what it waits for.
const appPrefix = "nbhd: "

// ErrBusy means another data change held the data lock for longer than the
// caller would wait.
var ErrBusy = errors.New("another change to the data is still running")

// LockWait says how long a data change waits for another to finish and how
// it tells the operator it is waiting.
type LockWait struct {
	Wait    time.Duration // 0 means DefaultLockWait
	Waiting func(msg string)
}

// LockData takes the data lock for tx's transaction, describing the change
// as what (e.g. "import of gias gias") to any change that waits behind it.
// When another change holds the lock, it tells w.Waiting who and since
// when, waits up to w.Wait, and then fails with ErrBusy. Every later
// statement in tx waits at most LockTimeout for a lock. Taking the lock again
// in the same session (load-sample's imports) is immediate.
func LockData(ctx context.Context, tx pgx.Tx, what string, w LockWait) error {
	if w.Wait <= 0 {
		w.Wait = DefaultLockWait
	}
	name := appPrefix + what
	if len(name) > 63 { // application_name holds NAMEDATALEN-1 bytes
		name = name[:63]
	}
	if _, err := tx.Exec(ctx, "SELECT set_config('application_name', $1, true)", name); err != nil {
		return fmt.Errorf("name the data change: %w", err)
	}
	var got bool
	if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1)", int64(dataLock)).Scan(&got); err != nil {
		return fmt.Errorf("take the data lock: %w", err)
	}
	if !got {
		holder, err := lockHolder(ctx, tx)
		if err != nil {
			return err
		}
		if w.Waiting != nil {
			w.Waiting(fmt.Sprintf("waiting for another %s (waiting up to %s)", holder, w.Wait))
		}
		if err := setLockTimeout(ctx, tx, w.Wait); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(dataLock)); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "55P03" { // lock_not_available
				return fmt.Errorf("%w: gave up after %s waiting for %s", ErrBusy, w.Wait, holder)
			}
			return fmt.Errorf("take the data lock: %w", err)
		}
	}
	return setLockTimeout(ctx, tx, LockTimeout)
}

func setLockTimeout(ctx context.Context, tx pgx.Tx, d time.Duration) error {
	if _, err := tx.Exec(ctx, "SELECT set_config('lock_timeout', $1, true)", fmt.Sprint(d.Milliseconds())); err != nil {
		return fmt.Errorf("set lock_timeout: %w", err)
	}
	return nil
}

// lockHolder describes the session holding the data lock: "import of gias
// gias (pid 123) since 2026-11-30 14:02:11".
func lockHolder(ctx context.Context, tx pgx.Tx) (string, error) {
	var pid int
	var app string
	var since *time.Time
	err := tx.QueryRow(ctx, `SELECT a.pid, a.application_name, a.xact_start
		FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid AND l.objsubid = 1
		LIMIT 1`, int64(dataLock)).Scan(&pid, &app, &since)
	if errors.Is(err, pgx.ErrNoRows) {
		// Released between the two queries: the wait will be short.
		return "change to the data (just finishing)", nil
	}
	if err != nil {
		return "", fmt.Errorf("find who holds the data lock: %w", err)
	}
	what, ok := strings.CutPrefix(app, appPrefix)
	if !ok {
		what = fmt.Sprintf("change to the data by %q", app)
	}
	when := "an unknown time"
	if since != nil {
		when = since.Local().Format(time.DateTime)
	}
	return fmt.Sprintf("%s (pid %d) since %s", what, pid, when), nil
}
