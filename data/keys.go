package data

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Key is a staff API key. Only a SHA-256 of its token is stored: tokens are
// 256 random bits, so a fast hash is as good as a slow one.
type Key struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Scopes     []string   `json:"scopes"` // "set:code"; empty means every neighbourhood
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Allows reports whether the key may see neighbourhood code of set.
func (k Key) Allows(set, code string) bool {
	if len(k.Scopes) == 0 {
		return true
	}
	for _, s := range k.Scopes {
		if s == set+":"+code {
			return true
		}
	}
	return false
}

// ErrUnknownScope means a key's scope names no loaded neighbourhood.
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
		for _, sc := range scopes {
			set, code, _ := strings.Cut(sc, ":")
			var ok bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM nbhd.neighbourhoods WHERE set_id = $1 AND code = $2)", set, code).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: %s is not a loaded neighbourhood (set:code, e.g. ward:E05000840)", ErrUnknownScope, sc)
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
	if errors.Is(err, ErrUnknownScope) {
		return "", Key{}, err
	}
	if err != nil {
		return "", Key{}, fmt.Errorf("create key: %w", err)
	}
	return tokenFor(k.ID, secret), k, nil
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

// Audit records a staff request to outreach or recorded data, answered
// (status 200) or refused for its scope (403).
func (s *Store) Audit(ctx context.Context, keyID int64, method, path, query string, rows, status int) error {
	_, err := s.staff.Exec(ctx, "INSERT INTO nbhd.audit_log (key_id, method, path, query, rows, status) VALUES ($1, $2, $3, $4, $5, $6)",
		keyID, method, path, query, rows, status)
	if err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}
