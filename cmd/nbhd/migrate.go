package main

import (
	"context"
	"fmt"
	"io"
)

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("migrate", stderr)
	url := databaseFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := connect(ctx, *url, "migrate")
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	applied, err := db.Migrate(ctx)
	for _, name := range applied {
		fmt.Fprintf(stdout, "applied %s\n", name)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	}
	return nil
}
