package api

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// Browser security headers. Every response says nosniff, may not be
// framed and sends only its origin as a referrer to other sites; JSON,
// CSV and tiles carry a policy that allows nothing (they are data, never
// documents); server-rendered HTML pages allow only their own stylesheet;
// the map allows itself, MapLibre's workers (blob: included) and the
// basemap's origins.
const (
	apiCSP         = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	referrerPolicy = "strict-origin-when-cross-origin"
)

// pageCSP is the policy of nbhd's HTML pages: their one inline stylesheet,
// allowed by its hash, and the data: favicon. Nothing else, no scripts.
var pageCSP = func() string {
	src, err := htmlFS.ReadFile("html/layout.tmpl")
	if err != nil {
		panic(err)
	}
	_, css, _ := strings.Cut(string(src), "<style>")
	css, _, _ = strings.Cut(css, "</style>")
	sum := sha256.Sum256([]byte(css))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src data:; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

// mapCSP is the map viewer's policy. MapLibre runs its workers from the
// same origin or from blob: URLs and draws tiles, sprites and glyphs into
// blob:/data: images; a basemap needs its style's origin (and any other
// origins it names) for fetches, images and fonts.
func mapCSP(basemapStyle string, basemapOrigins []string) string {
	origins := append([]string{"'self'"}, originOf(basemapStyle)...)
	for _, o := range basemapOrigins {
		if o = strings.TrimSuffix(strings.TrimSpace(o), "/"); o != "" && !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	src := strings.Join(origins, " ")
	return "default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; " +
		"style-src 'self'; img-src " + src + " data: blob:; connect-src " + src + " data: blob:; font-src " + src + "; " +
		"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// originOf is the origin of an absolute URL (none for a relative one,
// which is the map's own origin): a basemap style, a PMTiles archive.
func originOf(raw string) []string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" {
		return []string{u.Scheme + "://" + u.Host}
	}
	return nil
}

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(c *gin.Context) {
	s.setSecurityHeaders(c.Writer.Header(), c.Request.URL.Path)
	c.Next()
}

func (s *Server) setSecurityHeaders(h http.Header, path string) {
	h["X-Content-Type-Options"] = nosniff
	h["X-Frame-Options"] = frameDeny
	h["Referrer-Policy"] = referrer
	if path == "/map" || strings.HasPrefix(path, "/map/") {
		h["Content-Security-Policy"] = s.mapPolicy
	} else {
		h["Content-Security-Policy"] = apiPolicy
	}
}

// Header values every response (or every response of a kind) sends,
// assigned under their canonical names: a cached tile is served in tens
// of microseconds, and setting a dozen headers through Header.Set, which
// canonicalises each name and allocates each value, was a measurable part
// of that. The slices are shared by every response, which is safe because
// nothing edits a header's values in place (Header.Add on a full slice
// appends to a copy).
var (
	nosniff   = []string{"nosniff"}
	frameDeny = []string{"DENY"}
	referrer  = []string{referrerPolicy}
	apiPolicy = []string{apiCSP}
)

// staffPaths are the routes that serve staff-only data.
var staffPaths = []string{"/outreach"}

// isStaffRequest reports whether a request is for staff data or carries
// (or, in a preflight, asks to send) credentials.
func isStaffRequest(r *http.Request) bool {
	return slices.Contains(staffPaths, r.URL.Path) || r.Header.Get("Authorization") != "" ||
		strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Request-Headers")), "authorization")
}

// corsPolicy allows cross-origin reads of the public API from any origin
// ("*", the default) or from an allow-list. Staff routes, and any request
// with credentials, are open only to origins the list names: "*" never
// covers them.
type corsPolicy struct {
	origins   []string
	anyOrigin bool // "*" is allowed
	named     bool // some origin is named, so answers vary by Origin
}

func newCORSPolicy(origins []string) *corsPolicy {
	return &corsPolicy{origins: origins,
		anyOrigin: len(origins) == 0 || slices.Contains(origins, "*"),
		named:     slices.ContainsFunc(origins, func(o string) bool { return o != "*" })}
}

// apply sets the CORS headers of an answer to r and reports whether r's
// origin is allowed, and whether it is one the list names.
func (p *corsPolicy) apply(h http.Header, r *http.Request) (allowed, listed bool) {
	origin := r.Header.Get("Origin")
	listed = origin != "" && slices.Contains(p.origins, origin)
	allowed = listed || origin != "" && p.anyOrigin && !isStaffRequest(r)
	if p.named {
		h.Add("Vary", "Origin")
	}
	if allowed {
		if listed {
			h.Set("Access-Control-Allow-Origin", origin)
		} else {
			h.Set("Access-Control-Allow-Origin", "*")
		}
		h.Set("Access-Control-Expose-Headers", "ETag, Last-Modified, Content-Crs, Link, X-Request-Id, Retry-After, Location")
	}
	return allowed, listed
}

// cors applies the CORS policy and answers preflight OPTIONS requests itself.
func cors(p *corsPolicy) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		allowed, listed := p.apply(h, c.Request)
		if c.Request.Method == http.MethodOptions {
			methods := allowedMethods(c.Request.URL.Path) // the register's items take writes (api/register.go)
			h.Set("Allow", methods)
			if allowed {
				if !listed {
					methods = "GET, HEAD, OPTIONS" // writes need a key: named origins only
				}
				h.Set("Access-Control-Allow-Methods", methods)
				allow := "Accept, Accept-Encoding, If-None-Match, If-Modified-Since, X-Request-Id"
				if listed {
					allow += ", Authorization, Content-Type, Content-Crs, If-Match"
				}
				h.Set("Access-Control-Allow-Headers", allow)
				h.Set("Access-Control-Max-Age", "86400")
			}
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}
