// Package cql2 reads OGC Common Query Language (CQL2) filter expressions in
// both standard encodings, cql2-text and cql2-json, into one syntax tree, and
// evaluates that tree in Go over orb geometries.
//
// It knows nothing of databases or of which properties a collection has: the
// data package checks a tree against a layer's queryables and compiles it to
// SQL. Everything here is pure and bounded: input longer than MaxLength,
// nested deeper than MaxDepth or with more than MaxNodes nodes is refused
// with an *Error that, like every error here, carries the position of the
// problem in the input.
//
// Geometry literals are planar coordinate pairs in the axis order of the
// filter's CRS (longitude, latitude for CRS84); a third coordinate (Z) is
// read and dropped.
package cql2
