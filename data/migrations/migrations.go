// Package migrations embeds nbhd's SQL schema.
//
// NNNN_description.sql are versioned migrations: tables and data, applied
// once, in order, and never edited afterwards (their SHA-256 is stored and
// checked). definitions/*.sql are the views, functions and triggers that
// hold the domain rules: re-applied whole, in name order, whenever any of
// them changes. See data/migrate.go.
package migrations

import "embed"

// FS holds the migration and definition files.
//
//go:embed *.sql definitions/*.sql
var FS embed.FS
