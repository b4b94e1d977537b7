// Package ingest imports open data files into nbhd's private schema. Every
// import is one transaction that records a dataset with its provenance and
// replaces an earlier import of the same dataset; bad input is reported with
// the file, row or feature, and field, and leaves the database unchanged.
//
// Files are streamed: rows are parsed and checked one at a time and copied
// into a temporary staging table, then checked against existing data in SQL
// and moved into place.
package ingest
