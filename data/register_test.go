package data_test

import (
	"context"
	"strings"
	"testing"

	"nbhd/data/dbtest"
)

// TestRegisterIsWrittenOnlyThroughItsFunction: the staff role changes the
// register only through logic.register_write, and the public role cannot
// call it or read the register's tables.
func TestRegisterIsWrittenOnlyThroughItsFunction(t *testing.T) {
	url := dbtest.New(t, true)
	conn := dbtest.Conn(t, url)
	ctx := context.Background()
	try := func(role, sql string) error {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck // only tried
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+role); err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(ctx, sql)
		return err
	}
	write := `SELECT logic.register_write('create', NULL, '{"name": "x", "category": "x"}', ST_SetSRID(ST_MakePoint(-2.63, 53.545), 4326), NULL, NULL, 'x', 'x')`
	for _, c := range []struct{ role, sql string }{
		{"nbhd_staff", "UPDATE nbhd.community_assets SET name = 'x'"},
		{"nbhd_staff", "DELETE FROM nbhd.community_assets"},
		{"nbhd_staff", "INSERT INTO nbhd.asset_register (id, origin) VALUES ('x', 'register')"},
		{"nbhd_staff", "UPDATE nbhd.asset_history SET note = 'x'"},
		{"nbhd_staff", "DELETE FROM nbhd.audit_log"},
		{"nbhd_public", write},
		{"nbhd_public", "SELECT logic.asset_feature('x')"},
		{"nbhd_public", "SELECT * FROM nbhd.asset_register"},
		{"nbhd_public", "SELECT * FROM nbhd.asset_history"},
	} {
		if err := try(c.role, c.sql); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s: %s: %v, want permission denied", c.role, c.sql, err)
		}
	}
	if err := try("nbhd_staff", write); err != nil {
		t.Errorf("nbhd_staff calling register_write: %v", err)
	}
	if err := try("nbhd_public", "SELECT edited, edited_at FROM api.community_assets"); err != nil {
		t.Errorf("nbhd_public reading api.community_assets: %v", err)
	}
}
