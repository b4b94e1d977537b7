// Package migrations embeds nbhd's versioned SQL schema. Files are named
// NNNN_description.sql and applied in order, each in its own transaction.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
