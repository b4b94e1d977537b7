package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"nbhd/data"
)

// cmdBoroughs lists the loaded boroughs, or drops one: its rows and only
// its rows, from every dataset, in one transaction.
func cmdBoroughs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("boroughs")
	url := databaseFlag(fs)
	wait := waitFlag(fs, stderr)
	pos, err := parseArgs(fs, args, stdout, help{
		usage: "nbhd boroughs [flags]            list the loaded boroughs\n       nbhd boroughs drop CODE [flags]  remove one borough's rows from every dataset",
		about: `A borough is a local authority district: every small area knows its own, from a file's LAD
column, an ONS lookup, --la on import, or where most of its postcodes are. drop removes the
borough's small areas, neighbourhoods, points, postcodes and figures from every dataset in one
transaction; datasets that also cover other boroughs keep their rows there, and datasets left
with nothing go. Other boroughs are untouched; derived figures are recomputed.`,
		examples: []string{"nbhd boroughs", "nbhd boroughs drop E08000001"},
	})
	if err != nil {
		return err
	}
	db, err := connect(ctx, *url, "boroughs")
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	switch {
	case len(pos) == 0:
	case pos[0] == "drop" && len(pos) == 2:
		n, err := db.DropBorough(ctx, pos[1], *wait)
		if errors.Is(err, data.ErrNoBorough) {
			return usageError{err.Error()}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "dropped borough %s from %d datasets\n", pos[1], n)
		return nil
	default:
		return usageError{"unexpected arguments: " + strings.Join(pos, " ") + " (nbhd boroughs --help shows the usage)"}
	}
	list, err := db.Boroughs(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tNAME\tSMALL AREAS\tPOPULATION\tSETS\tDATASETS")
	for _, b := range list {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%d\n", b.Code, b.Name, b.SmallAreas, b.Population, strings.Join(b.NeighbourhoodSets, ","), b.Datasets)
	}
	return tw.Flush()
}
