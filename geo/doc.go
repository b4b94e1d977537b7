// Package geo holds nbhd's pure geometry: coordinate reference systems,
// bounding boxes, GeoJSON reading and sanity checks, and the one conversion
// between orb (used everywhere in memory) and go-geom (used to write EWKB at
// the database boundary).
//
// Coordinates are planar pairs in the order of their CRS's axes as GeoJSON and
// OGC API – Features use them: longitude, latitude for CRS84 (WGS 84, the
// default) and easting, northing in metres for EPSG:27700 (British National
// Grid). Nothing here does I/O beyond decoding a reader it is handed.
package geo
