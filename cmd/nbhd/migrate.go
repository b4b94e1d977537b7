package main

import (
	"context"
	"fmt"
	"io"

	"nbhd/data"
)

func cmdMigrate(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := flags("migrate")
	url := databaseFlag(fs)
	pos, err := parseArgs(fs, args, stdout, help{
		usage: "nbhd migrate [flags]",
		about: `Applies the SQL migrations embedded in this binary that the database has not had, each in
its own transaction, and says which. Concurrent runs wait for each other.`,
		examples: []string{"nbhd migrate", "nbhd migrate --database-url postgres://nbhd@db.internal/nbhd"},
	})
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	db, err := connect(ctx, *url, "migrate")
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	applied, err := migrate(ctx, db, stdout)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	}
	return nil
}

// migrate applies the pending migrations, naming each one applied (even
// when a later one fails).
func migrate(ctx context.Context, db *data.Admin, stdout io.Writer) ([]string, error) {
	applied, err := db.Migrate(ctx)
	for _, name := range applied {
		fmt.Fprintf(stdout, "applied %s\n", name)
	}
	return applied, err
}
