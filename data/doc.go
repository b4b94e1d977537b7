// Package data is nbhd's only user of PostgreSQL: connection pools that run
// as the public or staff database role, embedded migrations, the layer
// catalogue, and the queries behind every endpoint. SQL identifiers come from
// the catalogue and are quoted with pgx.Identifier; user values are always
// bound arguments.
package data
