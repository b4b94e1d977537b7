package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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

// commands are the subcommands, in the order help lists them.
func commands() []command {
	return []command{
		{"serve", "serve the API, vector tiles and map", cmdServe},
		{"migrate", "apply the embedded database migrations", cmdMigrate},
		{"load-sample", "load the bundled sample borough (or --dir with the same layout)", cmdLoadSample},
		{"import", "import one data file: nbhd import KIND FILE (nbhd import --help lists the kinds)", cmdImport},
		{"datasets", "list loaded datasets with provenance and row counts; datasets drop ID removes one", cmdDatasets},
		{"boroughs", "list loaded boroughs; boroughs drop CODE removes one borough's rows from every dataset", cmdBoroughs},
		{"settings", "show or change borough settings (demand_model, disclosure, access, priority)", cmdSettings},
		{"keys", "staff API keys: keys create, keys list, keys revoke ID", cmdKeys},
		{"export", "write the vector tiles to a PMTiles archive: export pmtiles OUT.pmtiles", cmdExport},
	}
}

// run runs one command line and returns the exit status: 0, 1 when the
// command failed, 2 for a mistake on the command line. Help goes to stdout
// with status 0; errors go to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return 0
	case "help":
		if len(args) == 1 {
			usage(stdout)
			return 0
		}
		// nbhd help import gias is nbhd import gias --help.
		args = append(args[1:len(args):len(args)], "--help")
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		if err == nil || errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "nbhd %s: %v\n", c.name, err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	fmt.Fprintf(stderr, "nbhd: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "nbhd keeps councils' small-area data in PostGIS and serves it as OGC API - Features,")
	fmt.Fprintln(w, "vector tiles, neighbourhood profiles and a map.")
	fmt.Fprintln(w, "\nusage: nbhd COMMAND [ARGS] [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, `
nbhd COMMAND --help (or nbhd help COMMAND) shows a command's flags and examples. Every flag can
also be set in the environment as NBHD_<FLAG> (e.g. NBHD_DATABASE_URL); a flag given on the
command line wins.

examples:
  nbhd migrate && nbhd load-sample --if-empty && nbhd serve
  nbhd import gias edubasealldata20260401.csv --la E08000010
  nbhd import gias --help`)
}

// help is what a command's --help prints, to stdout.
type help struct {
	usage string // the synopsis after "usage: "
	// usageFor, when set, gives the synopsis from the arguments before
	// --help (nbhd import gias --help).
	usageFor func(pos []string) string
	about    string   // what the command does
	examples []string // command lines
	// more prints anything else (the import kinds); pos holds the
	// arguments given before --help.
	more func(w io.Writer, pos []string)
	// examplesFor, when set, gives the examples from the arguments.
	examplesFor func(pos []string) []string
	// flags, when set, picks the flags to list and heads the list.
	flags func(pos []string) (heading string, only map[string]bool)
}

func (h help) print(w io.Writer, fs *flag.FlagSet, pos []string) {
	usage := h.usage
	if h.usageFor != nil {
		usage = h.usageFor(pos)
	}
	fmt.Fprintf(w, "usage: %s\n", usage)
	if h.about != "" {
		fmt.Fprintf(w, "\n%s\n", h.about)
	}
	if h.more != nil {
		h.more(w, pos)
	}
	if fs != nil {
		heading, only := "flags", map[string]bool(nil)
		if h.flags != nil {
			heading, only = h.flags(pos)
		}
		fmt.Fprintf(w, "\n%s:\n", heading)
		printFlags(w, fs, only)
		fmt.Fprintln(w, "\nEach flag may be set in the environment instead, as NBHD_ and its name in capitals with\nunderscores (--database-url: NBHD_DATABASE_URL); a flag on the command line wins.")
	}
	examples := h.examples
	if h.examplesFor != nil {
		examples = h.examplesFor(pos)
	}
	if len(examples) > 0 {
		fmt.Fprintln(w, "\nexamples:")
		for _, e := range examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

// printFlags lists fs's flags (those named in only, when it is not nil)
// as --name VALUE, its meaning and default.
func printFlags(w io.Writer, fs *flag.FlagSet, only map[string]bool) {
	fs.VisitAll(func(f *flag.Flag) {
		if only != nil && !only[f.Name] {
			return
		}
		arg, text := flag.UnquoteUsage(f)
		// Go names an unnamed value by its type; say what kind of value.
		if named, ok := map[string]string{"string": "text", "int": "n", "uint": "n", "float": "number", "value": "value"}[arg]; ok {
			arg = named
		}
		if arg != "" {
			arg = " " + strings.ToUpper(arg)
		}
		if isSwitch(f) {
			arg = ""
		}
		fmt.Fprintf(w, "  --%s%s\n", f.Name, arg)
		line := "      " + text
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			line += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintln(w, line)
	})
}

func isSwitch(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// flags makes a command's FlagSet. It prints nothing itself: parseArgs
// returns its errors and prints the help.
func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("nbhd "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseArgs parses flags that may come before, between or after the
// positional arguments, and returns the positional ones. Flags not given on
// the command line are filled from NBHD_<NAME> in the environment (dashes
// become underscores). On --help it prints h to stdout and returns
// flag.ErrHelp.
func parseArgs(fs *flag.FlagSet, args []string, stdout io.Writer, h help) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				h.print(stdout, fs, pos)
				return nil, err
			}
			return nil, usageError{fmt.Sprintf("%v (%s --help lists the flags)", err, fs.Name())}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
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
	return pos, bad
}

// noArgs refuses positional arguments to a command that takes none.
func noArgs(fs *flag.FlagSet, pos []string) error {
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected arguments: %s (%s --help shows the usage)", strings.Join(pos, " "), fs.Name())}
	}
	return nil
}

func databaseFlag(fs *flag.FlagSet) *string {
	return fs.String("database-url", data.LocalURL(), "PostgreSQL `URL` of a role that owns the schema; unless set, the private cluster of scripts/pg.sh on $NBHD_PG_PORT")
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
