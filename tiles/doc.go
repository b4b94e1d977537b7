// Package tiles is the part of vector tile serving that needs neither SQL nor
// HTTP: tile addresses (z/x/y in the XYZ scheme of Web Mercator, EPSG:3857,
// validated and converted to lon/lat bounds in CRS84), the zoom-dependent
// generalisation settings the tile queries use, the byte-bounded tile cache
// (gzip storage, LRU eviction, one render per concurrent miss), TileJSON
// documents, and PMTiles v3 archives.
//
// Coordinates: orb.Bound values here are lon/lat degrees (CRS84, the geo
// plane); lengths returned by UnitSize and Tolerance are Web Mercator metres
// (the planar plane the tile queries work in).
package tiles
