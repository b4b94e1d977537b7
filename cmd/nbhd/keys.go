package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"nbhd/data"
)

func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("keys")
	url := databaseFlag(fs)
	name := fs.String("name", "", "create: who or what the key is for (`text`)")
	role := fs.String("role", "staff", "create: the key's `role`; staff is the one there is")
	scope := fs.String("scope", "", "create: the neighbourhoods the key may see, as `set:code,...` (default: all)")
	pos, err := parseArgs(fs, args, stdout, help{
		usage: "nbhd keys create --name NAME [--role staff] [--scope set:code,...]\n       nbhd keys list\n       nbhd keys revoke ID",
		about: `Staff API keys open the staff-only endpoints (outreach lists). create prints a key's token
once, on stdout; only its SHA-256 is stored. A scoped key sees only the neighbourhoods named
(set:code); without --scope a key sees every neighbourhood. list shows every key, revoke ends one.`,
		examples: []string{`nbhd keys create --name "Leigh team" --scope ward:E05000852`, "nbhd keys list", "nbhd keys revoke 3"},
	})
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{"keys what? create, list or revoke (nbhd keys --help)"}
	}
	sub, pos := pos[0], pos[1:]
	if sub != "create" && sub != "list" && sub != "revoke" {
		return usageError{fmt.Sprintf("unknown keys command %q: create, list or revoke", sub)}
	}
	if sub != "revoke" && len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected arguments: %s", strings.Join(pos, " "))}
	}
	db, err := connect(ctx, *url, "keys")
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	switch sub {
	case "create":
		if *name == "" || *role != "staff" {
			return usageError{"keys create needs --name, and --role staff"}
		}
		scopes := splitList(*scope)
		for _, s := range scopes {
			if set, code, ok := strings.Cut(s, ":"); !ok || set == "" || code == "" {
				return usageError{fmt.Sprintf("scope %q must be set:code, e.g. ward:E05000840", s)}
			}
		}
		token, k, err := db.CreateKey(ctx, *name, *role, scopes)
		if errors.Is(err, data.ErrUnknownScope) {
			return usageError{err.Error()}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created key %d for %s; the token is shown once, keep it safe:\n", k.ID, k.Name)
		fmt.Fprintln(stdout, token)
		return nil
	case "list":
		keys, err := db.ListKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tSCOPES\tCREATED\tLAST USED\tREVOKED")
		when := func(t *time.Time) string {
			if t == nil {
				return "-"
			}
			return t.Format(time.DateTime)
		}
		for _, k := range keys {
			scopes := strings.Join(k.Scopes, ",")
			if scopes == "" {
				scopes = "(all)"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Role, scopes, k.CreatedAt.Format(time.DateTime), when(k.LastUsedAt), when(k.RevokedAt))
		}
		return tw.Flush()
	case "revoke":
		if len(pos) != 1 {
			return usageError{"usage: nbhd keys revoke ID"}
		}
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil {
			return usageError{fmt.Sprintf("key id %q is not a number", pos[0])}
		}
		if err := db.RevokeKey(ctx, id); err != nil {
			if errors.Is(err, data.ErrNotFound) {
				return fmt.Errorf("no live key %d", id)
			}
			return err
		}
		fmt.Fprintf(stdout, "revoked key %d\n", id)
		return nil
	}
	return nil
}
