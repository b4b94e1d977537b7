package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"nbhd/data/ingest"
)

func cmdDatasets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("datasets", stderr)
	url := databaseFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nbhd datasets [flags]          list loaded datasets\n       nbhd datasets drop ID [flags]  remove one dataset and its rows\n\nflags:")
		fs.PrintDefaults()
	}
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
	case pos[0] == "drop" && len(pos) == 2:
		id, err := strconv.ParseInt(pos[1], 10, 64)
		if err != nil || id <= 0 {
			return usageError{fmt.Sprintf("dataset id %q is not a number (nbhd datasets lists them)", pos[1])}
		}
		return dropDataset(ctx, *url, id, stdout)
	default:
		fs.Usage()
		return usageError{"unexpected arguments: " + strings.Join(pos, " ")}
	}
	conn, err := connect(ctx, *url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT id, kind, key, rows, imported_at, imported_by, vintage, licence, title
		FROM nbhd.datasets ORDER BY id`)
	if err != nil {
		return fmt.Errorf("list datasets: %w", err)
	}
	defer rows.Close()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tKEY\tROWS\tIMPORTED\tBY\tVINTAGE\tLICENCE\tTITLE")
	for rows.Next() {
		var id int64
		var n int
		var kind, key, by, vintage, licence, title string
		var at time.Time
		if err := rows.Scan(&id, &kind, &key, &n, &at, &by, &vintage, &licence, &title); err != nil {
			return fmt.Errorf("read datasets: %w", err)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", id, kind, key, n, at.Format(time.DateTime), by, vintage, licence, title)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read datasets: %w", err)
	}
	return tw.Flush()
}

// dropDataset removes one dataset atomically; layers, tiles and profiles
// follow because they read views and the data version bumps.
func dropDataset(ctx context.Context, url string, id int64, stdout io.Writer) error {
	conn, err := connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	d, err := ingest.Drop(ctx, conn, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dropped dataset %d (%s/%s, %d rows): %s\n", d.ID, d.Kind, d.Key, d.Rows, d.Title)
	return nil
}
