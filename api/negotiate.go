package api

import (
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// format is a representation a resource can be served in.
type format string

const (
	fJSON    format = "json"
	fGeoJSON format = "geojson"
	fHTML    format = "html"
	fCSV     format = "csv"
	fOpenAPI format = "openapi"
)

// mediaTypes maps each format to its Content-Type.
var mediaTypes = map[format]string{
	fJSON:    "application/json",
	fGeoJSON: "application/geo+json",
	fHTML:    "text/html; charset=utf-8",
	fCSV:     "text/csv; charset=utf-8",
	fOpenAPI: "application/vnd.oai.openapi+json;version=3.0",
}

// acceptable maps Accept header media types to formats.
var acceptable = map[string][]format{
	"application/geo+json":             {fGeoJSON},
	"application/json":                 {fJSON, fGeoJSON, fOpenAPI},
	"application/vnd.oai.openapi+json": {fOpenAPI},
	"application/schema+json":          {fJSON},
	"text/html":                        {fHTML},
	"application/xhtml+xml":            {fHTML},
	"text/csv":                         {fCSV},
}

// fParam maps the f query parameter's values to formats; "json" means the
// resource's JSON flavour (GeoJSON for features, OpenAPI for /api).
var fParam = map[string][]format{
	"json":    {fJSON, fGeoJSON, fOpenAPI},
	"geojson": {fGeoJSON},
	"html":    {fHTML},
	"csv":     {fCSV},
}

func notAcceptable(offers []format) *Error {
	names := make([]string, 0, len(offers))
	for _, o := range offers {
		if o == fGeoJSON || o == fOpenAPI {
			o = fJSON
		}
		names = append(names, string(o))
	}
	return &Error{Status: http.StatusNotAcceptable, Code: "NotAcceptable",
		Description: "this resource is available as f=" + strings.Join(names, ", f=")}
}

// negotiate picks the representation: the f parameter wins, then the Accept
// header by quality, else the first offer. Nothing acceptable is a 406.
func negotiate(c *gin.Context, offers ...format) (format, error) {
	if f, ok := c.GetQuery("f"); ok {
		for _, want := range fParam[strings.ToLower(f)] {
			for _, o := range offers {
				if o == want {
					return o, nil
				}
			}
		}
		return "", notAcceptable(offers)
	}
	accept := c.GetHeader("Accept")
	if strings.TrimSpace(accept) == "" {
		return offers[0], nil
	}
	for _, mt := range parseAccept(accept) {
		if mt == "*/*" || mt == "application/*" {
			return offers[0], nil
		}
		for _, want := range acceptable[mt] {
			for _, o := range offers {
				if o == want {
					return o, nil
				}
			}
		}
	}
	return "", notAcceptable(offers)
}

// parseAccept returns the media types of an Accept header with q > 0,
// best first (ties keep header order).
func parseAccept(h string) []string {
	type entry struct {
		mt string
		q  float64
		i  int
	}
	var es []entry
	for i, part := range strings.Split(h, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > 0 {
			es = append(es, entry{mt, q, i})
		}
	}
	sort.SliceStable(es, func(a, b int) bool { return es[a].q > es[b].q })
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.mt
	}
	return out
}
