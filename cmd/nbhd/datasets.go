package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"nbhd/data"
)

func cmdDatasets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("datasets")
	url := databaseFlag(fs)
	wait := waitFlag(fs, stderr)
	pos, err := parseArgs(fs, args, stdout, help{
		usage: "nbhd datasets [flags]          list the loaded datasets\n       nbhd datasets drop ID [flags]  remove one dataset and its rows",
		about: `Every import is a dataset: its kind and key, rows, when and by whom, vintage, licence and
title. drop removes one in a transaction: its rows in every table go with it, the derived
statistics are recomputed and servers drop their cached tiles and profiles.`,
		examples: []string{"nbhd datasets", "nbhd datasets drop 12"},
	})
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
		return dropDataset(ctx, *url, id, *wait, stdout)
	default:
		return usageError{"unexpected arguments: " + strings.Join(pos, " ") + " (nbhd datasets --help shows the usage)"}
	}
	db, err := connect(ctx, *url, "datasets")
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	list, err := db.Datasets(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tKEY\tROWS\tIMPORTED\tBY\tVINTAGE\tLICENCE\tTITLE")
	for _, d := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Kind, d.Key, d.Rows, d.ImportedAt.Format(time.DateTime),
			d.ImportedBy, d.Vintage, d.Licence, d.Title)
	}
	return tw.Flush()
}

// dropDataset removes one dataset atomically; layers, tiles and profiles
// follow because they read views and the data version bumps.
func dropDataset(ctx context.Context, url string, id int64, wait data.LockWait, stdout io.Writer) error {
	db, err := connect(ctx, url, "datasets drop")
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	d, err := db.DropDataset(ctx, id, wait)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dropped dataset %d (%s/%s, %d rows): %s\n", d.ID, d.Kind, d.Key, d.Rows, d.Title)
	return nil
}
