// Command nbhd-synth generates synthetic data sets in the official file
// formats nbhd imports, deterministically from a seed:
//
//	nbhd-synth england --seed 1 --out var/england-1 [--scale 1.0] [--postcodes N]
//	nbhd-synth borough --seed 1 --out DIR --lad E08000001 --name Bolton [--near wigan]
//
// Each directory gets a manifest.json (so `nbhd load-sample --dir DIR`
// loads it) and a summary.json saying what was written.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "england":
		err = cmdEngland(ctx, args[1:], stdout, stderr)
	case "borough":
		err = cmdBorough(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "nbhd-synth: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "nbhd-synth %s: %v\n", args[0], err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage:
  nbhd-synth england --seed N --out DIR [--scale 1.0] [--postcodes N]
      an England-sized data set (33,755 LSOAs at scale 1) in the published formats
  nbhd-synth borough --seed N --out DIR --lad CODE --name NAME [--near wigan] [--lsoas 150]
      one borough in exactly the bundled Wigan sample's layout, beside it on the map`)
}
