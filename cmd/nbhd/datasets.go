package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

func cmdDatasets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("datasets", stderr)
	url := databaseFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	conn, err := connect(ctx, *url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT id, kind, key, rows, imported_at, imported_by, licence, title
		FROM nbhd.datasets ORDER BY id`)
	if err != nil {
		return fmt.Errorf("list datasets: %w", err)
	}
	defer rows.Close()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tKEY\tROWS\tIMPORTED\tBY\tLICENCE\tTITLE")
	for rows.Next() {
		var id int64
		var n int
		var kind, key, by, licence, title string
		var at time.Time
		if err := rows.Scan(&id, &kind, &key, &n, &at, &by, &licence, &title); err != nil {
			return fmt.Errorf("read datasets: %w", err)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", id, kind, key, n, at.Format(time.DateTime), by, licence, title)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read datasets: %w", err)
	}
	return tw.Flush()
}
