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
	scope := fs.String("scope", "", "create: where the key reaches and what it may change, as `scope,...` (default: everywhere, read only; see above)")
	pos, err := parseArgs(fs, args, stdout, help{
		usage: "nbhd keys create --name NAME [--role staff] [--scope SCOPE,...]\n       nbhd keys list\n       nbhd keys revoke ID",
		about: `Staff API keys open the staff-only endpoints: outreach lists, and the asset register (adding,
correcting and closing community assets). create prints a key's token once, on stdout; only its
SHA-256 is stored. list shows every key, revoke ends one.

--scope says where a key reaches, as a list of areas (without one, everywhere):
  borough:E08000010    a borough (local authority district code)
  set:ward             every neighbourhood of a neighbourhood set
  ward:E05000840       one neighbourhood (set:code)
A key reaches only what its areas take in: another borough's outreach lists are refused (403).
Keys read only, unless given the capability to change community assets:
  assets:write                      wherever the key reaches
  assets:write:borough:E08000010    only there (any area form above), and only where it reaches
Every scope must name a loaded borough, set or neighbourhood. The words borough, set and assets
are reserved: a neighbourhood set with one of these ids is scoped whole or by borough.`,
		examples: []string{`nbhd keys create --name "Leigh team" --scope ward:E05000852`,
			`nbhd keys create --name "Wigan assets team" --scope borough:E08000010,assets:write`,
			`nbhd keys create --name "GM planner" --scope assets:write:borough:E08000010`, "nbhd keys list", "nbhd keys revoke 3"},
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
			if _, err := data.ParseScope(s); err != nil {
				return usageError{err.Error()}
			}
		}
		token, k, err := db.CreateKey(ctx, *name, *role, scopes)
		if errors.Is(err, data.ErrUnknownScope) || errors.Is(err, data.ErrBadScope) {
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
				scopes = "(everywhere, read only)"
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
