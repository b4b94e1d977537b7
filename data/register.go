package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"nbhd/geo"
)

// The asset register: staff create, correct and close community assets
// (OGC API – Features Part 4 on community-assets). A change runs in one
// transaction on the staff pool: it takes the data lock (imports and other
// changes wait, as they wait for each other), checks the key's scope and the
// client's ETag, writes through logic.register_write (definitions/
// 55_asset_register.sql), which records the version and refreshes what the
// change affects, and writes its audit row: no audit, no change.

// Register waits and limits.
const (
	// registerLockWait is how long a change waits for an import or another
	// change to finish before it is refused as busy.
	registerLockWait = 15 * time.Second
	// registerStatementTimeout bounds each statement of a change: the
	// refresh that follows it recomputes the borough's figures, which
	// takes seconds.
	registerStatementTimeout = 25 * time.Second
)

// Register errors, each a distinct answer to the client.
var (
	// ErrPreconditionRequired: a change to an existing asset needs If-Match.
	ErrPreconditionRequired = errors.New("If-Match is required")
	// ErrPreconditionFailed: the asset changed since the client read it.
	ErrPreconditionFailed = errors.New("the asset has changed since it was read")
)

// ClosedError means the asset was closed: it is kept in history, and can
// no longer be changed.
type ClosedError struct {
	ID string
	On time.Time
}

func (e *ClosedError) Error() string {
	return fmt.Sprintf("asset %s was closed on %s", e.ID, e.On.Format(time.DateOnly))
}

// ScopeError means the key may not do this here.
type ScopeError struct{ Message string }

func (e *ScopeError) Error() string { return e.Message }

// AssetChange is one staff change to the register.
type AssetChange struct {
	Action   string // AssetCreate, AssetReplace, AssetUpdate or AssetClose
	ID       string // the asset (not for create)
	Input    AssetInput
	CRS      geo.CRS // of Input.Point
	ClosedOn time.Time
	Note     string
	// IfMatch is the request's If-Match header ("" when absent).
	IfMatch string
	Key     Key
	// The request, for its audit row.
	Method, Path, Query string
	Status              int // the status a success answers with
}

// AssetState is an asset as staff see it: a GeoJSON Feature, its strong
// ETag, and where it is.
type AssetState struct {
	ID      string
	Feature json.RawMessage
	ETag    string
	Closed  bool
	// Removed: the register knew it, and it went with its dataset (its
	// source no longer lists it) or its borough; only its history is left.
	Removed bool
	Where   Location
}

// Status says whether the asset is open, closed or removed.
func (st AssetState) Status() string {
	switch {
	case st.Closed:
		return "closed"
	case st.Removed:
		return "removed"
	}
	return "open"
}

// ChangeAsset makes a staff change. Its result's Where.Borough names the
// borough the request concerned, also when it fails, for the audit of a
// refusal ("" when none is known).
//
// The change is checked first on a connection held only for the checks,
// so a refusal is quick and never waits. In this process one change at a
// time then takes a staff connection (the others wait without one, so
// outreach and key checks keep theirs), waits for the data lock, checks
// again holding it, and writes.
func (s *Store) ChangeAsset(ctx context.Context, ch AssetChange) (AssetState, error) {
	var out AssetState
	if err := checkChange(ctx, s.staff, ch, &out); err != nil {
		return out, err
	}
	if err := s.registerGate.enter(ctx, registerLockWait); err != nil {
		return out, err
	}
	defer s.registerGate.leave()
	var version int64
	conn, err := s.staff.acquire(ctx)
	if err != nil {
		return out, err
	}
	defer conn.Release()
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT set_config('statement_timeout', $1, true)", fmt.Sprint(registerStatementTimeout.Milliseconds())); err != nil {
			return fmt.Errorf("set statement timeout: %w", err)
		}
		if err := LockData(ctx, tx, "asset register change", LockWait{Wait: registerLockWait}); err != nil {
			return err
		}
		if err := checkChange(ctx, tx, ch, &out); err != nil {
			return err
		}
		var ewkb []byte
		var err error
		if p := ch.Input.Point; p != nil {
			if ewkb, err = geo.EWKB(*p, ch.CRS.SRID); err != nil {
				return fmt.Errorf("encode point: %w", err)
			}
		}
		fields, err := json.Marshal(ch.Input.Fields)
		if err != nil {
			return fmt.Errorf("encode fields: %w", err)
		}
		var closedOn any
		if ch.Action == AssetClose {
			closedOn = ch.ClosedOn
		}
		var id string
		err = tx.QueryRow(ctx, `SELECT logic.register_write($1, $2, $3::jsonb, ST_GeomFromEWKB($4::bytea), $5::date, $6, $7, $8)`,
			ch.Action, nilIfEmpty(ch.ID), fields, ewkb, closedOn, ch.Key.ID, ch.Key.Name, ch.Note).Scan(&id)
		if err != nil {
			return fmt.Errorf("write the asset register: %w", err)
		}
		state, err := readAsset(ctx, tx, id)
		if err != nil {
			return err
		}
		if state.Where.Borough == "" {
			state.Where.Borough = out.Where.Borough
		}
		out = state
		if err := tx.QueryRow(ctx, "SELECT version FROM nbhd.data_version").Scan(&version); err != nil {
			return fmt.Errorf("read data version: %w", err)
		}
		return audit(ctx, tx, ch.Key.ID, ch.Method, ch.Path, ch.Query, 1, ch.Status, out.Where.Borough)
	})
	if err != nil {
		return out, err
	}
	// The writer's next request (a tile of the map it is editing) sees the
	// change: the version it made is served as soon as a read server has
	// it, not when the notification arrives (a failed read here leaves it
	// to the version follower).
	s.want(version)
	_, _ = s.RefreshVersion(ctx)
	return out, nil
}

// checkChange refuses a change the key may not make, to an asset that is
// not there or has changed since the client read it, or to a place outside
// the loaded boroughs. It notes in out where the change is.
func checkChange(ctx context.Context, tx querier, ch AssetChange, out *AssetState) error {
	if ch.Action != AssetCreate {
		cur, err := readAsset(ctx, tx, ch.ID)
		if err != nil {
			return err
		}
		out.Where = cur.Where
		if cur.Removed {
			return ErrNotFound
		}
		if cur.Closed {
			var on time.Time
			if err := tx.QueryRow(ctx, "SELECT closed_on FROM nbhd.asset_register WHERE id = $1", ch.ID).Scan(&on); err != nil {
				return fmt.Errorf("read closing date: %w", err)
			}
			return &ClosedError{ID: ch.ID, On: on}
		}
		if !ch.Key.MayWriteAssets(cur.Where) {
			return &ScopeError{Message: fmt.Sprintf("asset %s is in %s, where this key may not change assets: it may write %s",
				ch.ID, placeName(cur.Where), ch.Key.WriteReach())}
		}
		if err := checkIfMatch(ch.IfMatch, cur.ETag); err != nil {
			return err
		}
	}
	if p := ch.Input.Point; p != nil {
		where, err := locate(ctx, tx, *p, ch.CRS)
		if err != nil {
			return err
		}
		out.Where = where
		if !ch.Key.MayWriteAssets(where) {
			return &ScopeError{Message: fmt.Sprintf("geometry: the point lies in %s, where this key may not write assets: it may write %s",
				placeName(where), ch.Key.WriteReach())}
		}
	}
	return nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkIfMatch compares the client's If-Match with the asset's ETag, as
// RFC 9110 says: strongly (a weak tag never matches), "*" matches any.
func checkIfMatch(header, etag string) error {
	if strings.TrimSpace(header) == "" {
		return ErrPreconditionRequired
	}
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == "*" || t == etag {
			return nil
		}
	}
	return ErrPreconditionFailed
}

// placeName says where a location is, for messages.
func placeName(w Location) string {
	if w.Borough == "" {
		return "no loaded borough"
	}
	return "borough " + w.Borough
}

// locate finds the loaded small area holding a point (the rule
// logic.place() places assets by) and where that is. A point in none is
// the client's error.
func locate(ctx context.Context, tx querier, p orb.Point, crs geo.CRS) (Location, error) {
	ewkb, err := geo.EWKB(p, crs.SRID)
	if err != nil {
		return Location{}, fmt.Errorf("encode point: %w", err)
	}
	var lad *string
	var sets, codes []string
	err = tx.QueryRow(ctx, `WITH sa AS (
		  SELECT s.code, s.lad_code FROM nbhd.small_areas s
		  WHERE ST_Intersects(s.geom, ST_Transform(ST_GeomFromEWKB($1::bytea), 4326)) ORDER BY s.code COLLATE "C" LIMIT 1)
		SELECT sa.lad_code, coalesce(array_agg(m.set_id) FILTER (WHERE m.set_id IS NOT NULL), '{}'),
		       coalesce(array_agg(m.neighbourhood_code) FILTER (WHERE m.set_id IS NOT NULL), '{}')
		FROM sa LEFT JOIN nbhd.neighbourhood_members m ON m.small_area_code = sa.code GROUP BY sa.code, sa.lad_code`, ewkb).Scan(&lad, &sets, &codes)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && lad == nil) {
		return Location{}, fieldErr("geometry", "the point [%g, %g] lies outside every loaded borough: an asset must be in a small area that is loaded (see /boroughs)", p[0], p[1])
	}
	if err != nil {
		return Location{}, fmt.Errorf("locate point: %w", err)
	}
	return location(*lad, sets, codes), nil
}

func location(lad string, sets, codes []string) Location {
	w := Location{Borough: lad, Neighbourhoods: map[string]string{}}
	for i := range sets {
		w.Neighbourhoods[sets[i]] = codes[i]
	}
	return w
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// readAsset reads an asset as staff see it: open (from community_assets),
// or closed or removed (its last version); ErrNotFound when the register
// has never known it.
func readAsset(ctx context.Context, q querier, id string) (AssetState, error) {
	st := AssetState{ID: id}
	var feature []byte
	var lad string
	var sets, codes []string
	var open bool
	err := q.QueryRow(ctx, `WITH f AS (SELECT logic.asset_feature($1) AS open),
		  last AS (
		    SELECT h.feature, r.closed_on IS NOT NULL AS closed FROM nbhd.asset_register r JOIN nbhd.asset_history h ON h.asset_id = r.id
		    WHERE r.id = $1 ORDER BY h.revision DESC LIMIT 1)
		SELECT coalesce(f.open, (SELECT feature FROM last)), f.open IS NOT NULL, coalesce((SELECT closed FROM last), false),
		       coalesce((SELECT sa.lad_code FROM nbhd.asset_places p JOIN nbhd.small_areas sa ON sa.code = p.small_area_code WHERE p.id = $1),
		                (SELECT r.lad_code FROM nbhd.asset_register r WHERE r.id = $1), ''),
		       ARRAY(SELECT m.set_id FROM nbhd.asset_places p JOIN nbhd.neighbourhood_members m ON m.small_area_code = p.small_area_code
		             WHERE p.id = $1 ORDER BY m.set_id),
		       ARRAY(SELECT m.neighbourhood_code FROM nbhd.asset_places p JOIN nbhd.neighbourhood_members m ON m.small_area_code = p.small_area_code
		             WHERE p.id = $1 ORDER BY m.set_id)
		FROM f`, id).Scan(&feature, &open, &st.Closed, &lad, &sets, &codes)
	if err != nil {
		return st, fmt.Errorf("read asset: %w", err)
	}
	if feature == nil {
		return st, ErrNotFound
	}
	st.Closed = !open && st.Closed
	st.Removed = !open && !st.Closed
	st.Feature = feature
	st.ETag = etagOf(feature)
	st.Where = location(lad, sets, codes)
	return st, nil
}

// etagOf is the strong ETag of an asset's state: any change to what staff
// see of it changes it.
func etagOf(feature []byte) string {
	sum := sha256.Sum256(feature)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// registerGate lets one register change at a time in this process hold a
// staff connection: the staff pool is small (outreach, key checks, audit
// rows), and a change holds its connection for seconds.
type registerGate struct {
	once sync.Once
	slot chan struct{}
}

// enter waits for the gate, at most wait: ErrBusy after that.
func (g *registerGate) enter(ctx context.Context, wait time.Duration) error {
	g.once.Do(func() { g.slot = make(chan struct{}, 1) })
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case g.slot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for another asset register change: %w", ctx.Err())
	case <-t.C:
		return fmt.Errorf("%w: another asset register change took longer than %s", ErrBusy, wait)
	}
}

func (g *registerGate) leave() { <-g.slot }

// StaffAsset reads an asset as staff see it, open or closed.
func (s *Store) StaffAsset(ctx context.Context, id string) (AssetState, error) {
	return readAsset(ctx, s.staff, id)
}

// AssetVersion is one version in an asset's history.
type AssetVersion struct {
	Revision int             `json:"revision"`
	Action   string          `json:"action"`
	At       string          `json:"at"`
	KeyID    *int64          `json:"key_id"`
	KeyName  string          `json:"key_name"`
	Note     string          `json:"note"`
	Borough  string          `json:"lad_code"`
	Changed  []string        `json:"changed"`
	Feature  json.RawMessage `json:"feature"`
}

// AssetHistory lists every version of an asset, oldest first. An imported
// asset staff never changed has one: the import.
func (s *Store) AssetHistory(ctx context.Context, id string) (AssetState, []AssetVersion, error) {
	st, err := readAsset(ctx, s.staff, id)
	if err != nil {
		return st, nil, err
	}
	rows, err := s.staff.Query(ctx, `SELECT revision, action, logic.utc(at), key_id, key_name, note, lad_code, changed, feature
		FROM nbhd.asset_history WHERE asset_id = $1 ORDER BY revision`, id)
	if err != nil {
		return st, nil, fmt.Errorf("read asset history: %w", err)
	}
	versions, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AssetVersion, error) {
		var v AssetVersion
		var f []byte
		err := r.Scan(&v.Revision, &v.Action, &v.At, &v.KeyID, &v.KeyName, &v.Note, &v.Borough, &v.Changed, &f)
		v.Feature = f
		return v, err
	})
	if err != nil {
		return st, nil, fmt.Errorf("read asset history: %w", err)
	}
	if len(versions) == 0 {
		v := AssetVersion{Revision: 1, Action: "import", Changed: []string{}, Borough: st.Where.Borough, Feature: st.Feature}
		err := s.staff.QueryRow(ctx, `SELECT logic.utc(d.imported_at), 'imported from ' || d.title
			FROM nbhd.community_assets a JOIN nbhd.datasets d ON d.id = a.dataset_id WHERE a.id = $1`, id).Scan(&v.At, &v.Note)
		if err != nil {
			return st, nil, fmt.Errorf("read asset's dataset: %w", err)
		}
		versions = []AssetVersion{v}
	}
	return st, versions, nil
}
