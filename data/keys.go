package data

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Key is a staff API key. Only a SHA-256 of its token is stored: tokens are
// 256 random bits, so a fast hash is as good as a slow one.
type Key struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Scopes     []string   `json:"scopes"` // see Scope; no area scope means everywhere
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Scope is one entry of a key's scope list. Area scopes say where the key
// reaches (whose outreach lists and register records it may read):
//
//	borough:E08000010   a borough (local authority district)
//	set:ward            every neighbourhood of a set, in every borough
//	ward:E05000840      one neighbourhood (set:code)
//
// A key with no area scope reaches everywhere. The capability
// assets:write lets a key create, change and close community assets
// wherever it reaches; assets:write:AREA (AREA one of the forms above, e.g.
// assets:write:borough:E08000010) only within that area, and still only
// where it reaches. The words borough, set and assets are reserved: a
// neighbourhood set with one of these ids is scoped whole or by borough.
type Scope struct {
	Write   bool   // a capability to write assets (in the area, if any)
	Kind    string // "", "borough", "set" or "neighbourhood"; "" only for assets:write (everywhere)
	Borough string
	Set     string
	Code    string
}

// Scope kinds.
const (
	ScopeBorough       = "borough"
	ScopeSet           = "set"
	ScopeNeighbourhood = "neighbourhood"
	writeAssets        = "assets:write"
)

var (
	ladRe   = regexp.MustCompile(`^[EWSN][0-9]{8}$`)
	setIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	codeRe  = regexp.MustCompile(`^\S.{0,63}$`)
)

// ErrBadScope means a scope is not written in any form a key takes.
var ErrBadScope = errors.New("bad scope")

// ParseScope reads one scope (see Scope).
func ParseScope(s string) (Scope, error) {
	bad := func(why string) (Scope, error) {
		return Scope{}, fmt.Errorf("%w %q: %s; scopes are borough:E08000010, set:ward, ward:E05000840 (set:code), "+
			"assets:write or assets:write:<one of those>", ErrBadScope, s, why)
	}
	if s == writeAssets {
		return Scope{Write: true}, nil
	}
	rest, write := strings.CutPrefix(s, writeAssets+":")
	if !write && strings.HasPrefix(s, "assets:") {
		return bad("the one capability is assets:write")
	}
	prefix, value, ok := strings.Cut(rest, ":")
	if !ok || prefix == "" || value == "" {
		return bad("want KIND:VALUE")
	}
	sc := Scope{Write: write}
	switch prefix {
	case ScopeBorough:
		if !ladRe.MatchString(value) {
			return bad("a borough is a local authority district code such as E08000010")
		}
		sc.Kind, sc.Borough = ScopeBorough, value
	case ScopeSet:
		if !setIDRe.MatchString(value) {
			return bad("a set id is lower-case letters, digits, - and _")
		}
		sc.Kind, sc.Set = ScopeSet, value
	case "assets":
		return bad("the one capability is assets:write")
	default:
		if !setIDRe.MatchString(prefix) || !codeRe.MatchString(value) {
			return bad("a neighbourhood is set:code, e.g. ward:E05000840")
		}
		sc.Kind, sc.Set, sc.Code = ScopeNeighbourhood, prefix, value
	}
	return sc, nil
}

// Location is where something is, for scope checks: its borough and the
// neighbourhood it is in in each set (set id to neighbourhood code).
type Location struct {
	Borough        string
	Neighbourhoods map[string]string
}

// covers reports whether an area scope takes in a.
func (sc Scope) covers(w Location) bool {
	switch sc.Kind {
	case "":
		return true
	case ScopeBorough:
		return w.Borough == sc.Borough
	case ScopeSet:
		_, ok := w.Neighbourhoods[sc.Set]
		return ok
	case ScopeNeighbourhood:
		return w.Neighbourhoods[sc.Set] == sc.Code
	}
	return false
}

// parsed reads the key's scopes; one that does not parse (written by
// hand into the database, say) takes in nothing.
func (k Key) parsed() []Scope {
	out := make([]Scope, 0, len(k.Scopes))
	for _, s := range k.Scopes {
		sc, err := ParseScope(s)
		if err != nil {
			sc = Scope{Kind: "invalid"}
		}
		out = append(out, sc)
	}
	return out
}

// Reaches reports whether the key may read what lies at w (outreach, the
// register's records): a key with no area scope reaches everywhere.
func (k Key) Reaches(w Location) bool {
	areas := 0
	for _, sc := range k.parsed() {
		if sc.Write {
			continue
		}
		areas++
		if sc.covers(w) {
			return true
		}
	}
	return areas == 0
}

// WritesAssets reports whether the key has an assets:write capability
// anywhere.
func (k Key) WritesAssets() bool {
	for _, sc := range k.parsed() {
		if sc.Write && sc.Kind != "invalid" {
			return true
		}
	}
	return false
}

// MayWriteAssets reports whether the key may create, change or close a
// community asset at w: a capability covers it and the key reaches it.
func (k Key) MayWriteAssets(w Location) bool {
	if !k.Reaches(w) {
		return false
	}
	for _, sc := range k.parsed() {
		if sc.Write && sc.covers(w) {
			return true
		}
	}
	return false
}

// Reach says in words where the key reaches, for error messages.
func (k Key) Reach() string {
	var areas []string
	for _, s := range k.Scopes {
		if !strings.HasPrefix(s, writeAssets) {
			areas = append(areas, s)
		}
	}
	if len(areas) == 0 {
		return "everywhere"
	}
	return strings.Join(areas, ", ")
}

// WriteReach says in words where the key may write assets.
func (k Key) WriteReach() string {
	var out []string
	for _, s := range k.Scopes {
		if s == writeAssets {
			out = append(out, "wherever it reaches ("+k.Reach()+")")
		} else if a, ok := strings.CutPrefix(s, writeAssets+":"); ok {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return "nowhere (it has no assets:write scope)"
	}
	return strings.Join(out, ", ")
}

// ErrUnknownScope means a key's scope names no loaded borough, set or
// neighbourhood.
var ErrUnknownScope = errors.New("unknown scope")

// ErrBadKey means a token is malformed, unknown or revoked.
var ErrBadKey = errors.New("invalid or revoked API key")

const tokenPrefix = "nbhd_"

// CreateKey stores a new key and returns its token, which is shown once.
func CreateKey(ctx context.Context, conn *pgx.Conn, name, role string, scopes []string) (string, Key, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", Key{}, fmt.Errorf("make token: %w", err)
	}
	if scopes == nil {
		scopes = []string{}
	}
	k := Key{Name: name, Role: role, Scopes: scopes}
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, raw := range scopes {
			if err := checkScope(ctx, tx, raw); err != nil {
				return err
			}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO nbhd.api_keys (name, role, token_sha256, scopes) VALUES ($1, $2, '', $3)
			RETURNING id, created_at`, name, role, scopes).Scan(&k.ID, &k.CreatedAt); err != nil {
			return err
		}
		token := tokenFor(k.ID, secret)
		sum := sha256.Sum256([]byte(token))
		_, err := tx.Exec(ctx, "UPDATE nbhd.api_keys SET token_sha256 = $2 WHERE id = $1", k.ID, sum[:])
		return err
	})
	if errors.Is(err, ErrUnknownScope) || errors.Is(err, ErrBadScope) {
		return "", Key{}, err
	}
	if err != nil {
		return "", Key{}, fmt.Errorf("create key: %w", err)
	}
	return tokenFor(k.ID, secret), k, nil
}

// checkScope refuses a scope that is malformed or names nothing loaded.
func checkScope(ctx context.Context, tx pgx.Tx, raw string) error {
	sc, err := ParseScope(raw)
	if err != nil {
		return err
	}
	var ok bool
	var what string
	switch sc.Kind {
	case "":
		return nil
	case ScopeBorough:
		what = "a loaded borough (see /boroughs)"
		err = tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM nbhd.small_areas WHERE lad_code = $1)", sc.Borough).Scan(&ok)
	case ScopeSet:
		what = "a loaded neighbourhood set (see /neighbourhoods)"
		err = tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM nbhd.neighbourhoods WHERE set_id = $1)", sc.Set).Scan(&ok)
	default:
		what = "a loaded neighbourhood (set:code, e.g. ward:E05000840)"
		err = tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM nbhd.neighbourhoods WHERE set_id = $1 AND code = $2)", sc.Set, sc.Code).Scan(&ok)
	}
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s is not %s", ErrUnknownScope, raw, what)
	}
	return nil
}

// tokenFor is nbhd_<id>_<secret>: the id finds the row, the secret proves it.
func tokenFor(id int64, secret []byte) string {
	return tokenPrefix + strconv.FormatInt(id, 10) + "_" + base64.RawURLEncoding.EncodeToString(secret)
}

// ListKeys lists every key, newest first.
func ListKeys(ctx context.Context, conn *pgx.Conn) ([]Key, error) {
	rows, err := conn.Query(ctx, `SELECT id, name, role, scopes, created_at, revoked_at, last_used_at
		FROM nbhd.api_keys ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Key, error) {
		var k Key
		err := r.Scan(&k.ID, &k.Name, &k.Role, &k.Scopes, &k.CreatedAt, &k.RevokedAt, &k.LastUsedAt)
		return k, err
	})
}

// RevokeKey revokes a key; ErrNotFound if there is no such live key.
func RevokeKey(ctx context.Context, conn *pgx.Conn, id int64) error {
	tag, err := conn.Exec(ctx, "UPDATE nbhd.api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", id)
	if err != nil {
		return fmt.Errorf("revoke key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// VerifyKey checks a token and returns its key. The stored hash is compared
// in constant time; every failure is the same ErrBadKey.
func (s *Store) VerifyKey(ctx context.Context, token string) (Key, error) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return Key{}, ErrBadKey
	}
	idText, _, ok := strings.Cut(rest, "_")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil || id <= 0 {
		return Key{}, ErrBadKey
	}
	var k Key
	var stored []byte
	err = s.staff.QueryRow(ctx, `SELECT id, name, role, scopes, created_at, revoked_at, token_sha256
		FROM nbhd.api_keys WHERE id = $1`, id).Scan(&k.ID, &k.Name, &k.Role, &k.Scopes, &k.CreatedAt, &k.RevokedAt, &stored)
	if errors.Is(err, pgx.ErrNoRows) {
		stored = make([]byte, sha256.Size) // compare anyway: same work either way
	} else if err != nil {
		return Key{}, fmt.Errorf("read key: %w", err)
	}
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sum[:], stored) != 1 || k.RevokedAt != nil {
		return Key{}, ErrBadKey
	}
	if _, err := s.staff.Exec(ctx, "UPDATE nbhd.api_keys SET last_used_at = now() WHERE id = $1", k.ID); err != nil {
		return Key{}, fmt.Errorf("record key use: %w", err)
	}
	return k, nil
}

// Audit records a staff request to outreach, recorded data or the asset
// register, answered (status 200) or refused (403 and the like), with the
// borough it concerned ("" when none is known).
func (s *Store) Audit(ctx context.Context, keyID int64, method, path, query string, rows, status int, borough string) error {
	return audit(ctx, s.staff, keyID, method, path, query, rows, status, borough)
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func audit(ctx context.Context, db execer, keyID int64, method, path, query string, rows, status int, borough string) error {
	_, err := db.Exec(ctx, "INSERT INTO nbhd.audit_log (key_id, method, path, query, rows, status, lad_code) VALUES ($1, $2, $3, $4, $5, $6, $7)",
		keyID, method, path, query, rows, status, borough)
	if err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}

// NeighbourhoodLocation is where a neighbourhood is, for a key's scope:
// its borough and itself. A neighbourhood that does not exist has no
// borough, which only an unscoped key reaches.
func (s *Store) NeighbourhoodLocation(ctx context.Context, set, code string) (Location, error) {
	var lad *string
	err := s.staff.QueryRow(ctx, "SELECT lad_code FROM nbhd.neighbourhoods WHERE set_id = $1 AND code = $2", set, code).Scan(&lad)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Location{}, fmt.Errorf("read neighbourhood borough: %w", err)
	}
	loc := Location{Neighbourhoods: map[string]string{set: code}}
	if lad != nil {
		loc.Borough = *lad
	}
	return loc, nil
}
