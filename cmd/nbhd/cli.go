package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"nbhd/data"
)

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "serve the API, tiles and map", cmdServe},
		{"migrate", "apply database migrations", cmdMigrate},
		{"import", "import a data file: nbhd import KIND FILE [flags]", cmdImport},
		{"load-sample", "load the bundled sample borough (or --dir with the same layout)", cmdLoadSample},
		{"datasets", "list loaded datasets with provenance and row counts", cmdDatasets},
		{"keys", "staff API keys: keys create --name NAME --role staff [--scope ward:CODE], keys list, keys revoke ID", cmdKeys},
		{"settings", "show or change borough settings: settings [KEY [JSON]] (demand_model, disclosure, access, priority)", cmdSettings},
		{"export", "export tiles: nbhd export pmtiles [--layer all] [--minzoom 0] [--maxzoom 14] OUT.pmtiles", cmdExport},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		if err == nil {
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "nbhd %s: %v\n", c.name, err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	fmt.Fprintf(stderr, "nbhd: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: nbhd COMMAND [flags]\n\ncommands:")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set in the environment as NBHD_<FLAG> (e.g. NBHD_DATABASE_URL).")
}

// flags makes a FlagSet whose errors are returned, not printed and exited.
func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("nbhd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args, then fills every flag not given on the command line
// from NBHD_<NAME> in the environment (dashes become underscores).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var bad error
	fs.VisitAll(func(f *flag.Flag) {
		env := "NBHD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && !given[f.Name] && bad == nil {
			if err := f.Value.Set(v); err != nil {
				bad = usageError{fmt.Sprintf("%s=%q: %v", env, v, err)}
			}
		}
	})
	return bad
}

func databaseFlag(fs *flag.FlagSet) *string {
	return fs.String("database-url", data.LocalURL(), "PostgreSQL connection URL (a role that owns the schema); the default is the private cluster on $NBHD_PG_PORT")
}

// connect opens the operator's session; command names it in
// pg_stat_activity ("nbhd import").
func connect(ctx context.Context, url, command string) (*data.Admin, error) {
	return data.Connect(ctx, url, "nbhd "+command)
}

// waitFlag binds --wait, how long a change to the data waits for another
// to finish; the wait is announced on stderr.
func waitFlag(fs *flag.FlagSet, stderr io.Writer) *data.LockWait {
	w := &data.LockWait{Waiting: func(msg string) { fmt.Fprintln(stderr, msg) }}
	fs.DurationVar(&w.Wait, "wait", data.DefaultLockWait, "how long to wait for another import, drop or settings change to finish before giving up")
	return w
}
