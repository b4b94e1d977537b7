package geo

import (
	"fmt"
	"strings"
)

// CRS is a coordinate reference system nbhd can serve, identified by its OGC
// URI and its PostGIS SRID.
type CRS struct {
	URI  string
	SRID int
	// Decimals is how many decimal places output coordinates keep:
	// 6 for degrees (about 0.1 m), 2 for metres.
	Decimals int
}

// The coordinate reference systems nbhd serves.
var (
	CRS84 = CRS{URI: "http://www.opengis.net/def/crs/OGC/1.3/CRS84", SRID: 4326, Decimals: 6}
	BNG   = CRS{URI: "http://www.opengis.net/def/crs/EPSG/0/27700", SRID: 27700, Decimals: 2}
)

// SupportedCRS lists every CRS nbhd serves, default first.
var SupportedCRS = []CRS{CRS84, BNG}

// ParseCRS resolves a CRS given as an OGC URI (http or https) or as a common
// short form such as "EPSG:27700" or "OGC:CRS84". An empty string is CRS84.
func ParseCRS(s string) (CRS, error) {
	v := strings.TrimSpace(s)
	v = strings.TrimPrefix(strings.TrimSuffix(v, ">"), "<") // OGC allows [<uri>] safe-CURIE brackets
	v = strings.TrimPrefix(strings.TrimSuffix(v, "]"), "[")
	switch strings.ToLower(strings.Replace(v, "https://", "http://", 1)) {
	case "", strings.ToLower(CRS84.URI), "crs84", "ogc:crs84", "urn:ogc:def:crs:ogc:1.3:crs84":
		return CRS84, nil
	case strings.ToLower(BNG.URI), "epsg:27700", "urn:ogc:def:crs:epsg::27700":
		return BNG, nil
	}
	return CRS{}, fmt.Errorf("unsupported CRS %q: use %s or %s", s, CRS84.URI, BNG.URI)
}
