package api

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
)

// viewerFiles holds the map viewer: our index.html, app.js and style.css,
// and vendor/ with MapLibre GL JS once scripts/viewer.sh has installed it.
// The build works without vendor/; /map then says how to add it.
//
//go:embed viewer
var viewerFiles embed.FS

// viewerFS is the viewer's files, from Config.ViewerFS or the embedded ones.
func (s *Server) viewerFS() fs.FS {
	if s.cfg.ViewerFS != nil {
		return s.cfg.ViewerFS
	}
	sub, _ := fs.Sub(viewerFiles, "viewer")
	return sub
}

const viewerMissing = `<!doctype html><html lang="en"><meta charset="utf-8"><title>nbhd map: not built</title>
<body>
<h1>The map viewer is not built into this binary</h1>
<p>Its MapLibre GL JS files come from the npm registry. Run <code>make viewer</code> (or <code>scripts/viewer.sh</code>)
and rebuild; <code>make run</code> does both.</p>
<p>The API works without it: <a href="/collections">collections</a>, <a href="/neighbourhoods">neighbourhoods</a>.</p>
</body></html>`

// mapFile serves the viewer's files; / is the viewer itself.
func (s *Server) mapFile(c *gin.Context) error {
	name := strings.TrimPrefix(c.Param("file"), "/")
	switch name {
	case "":
		name = "index.html"
	case "config.json":
		return s.mapConfig(c)
	case "view.json":
		return s.mapView(c)
	case "indicators.json":
		return s.mapIndicators(c)
	case "values.json":
		return s.mapValues(c)
	}
	files := s.viewerFS()
	if _, err := fs.Stat(files, "vendor/maplibre-gl.mjs"); err != nil {
		c.Header("Cache-Control", "no-store")
		c.Data(http.StatusServiceUnavailable, "text/html; charset=utf-8", []byte(viewerMissing))
		return nil
	}
	f, err := s.viewer.file(files, path.Clean(name))
	if err != nil {
		return notFound("no file %q in the map viewer", name)
	}
	b, etag := f.body, f.etag
	c.Header("ETag", etag)
	c.Header("Cache-Control", "public, max-age=300")
	if etagMatch(c.GetHeader("If-None-Match"), etag) {
		c.Status(http.StatusNotModified)
		return nil
	}
	typ := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".mjs", ".js":
		typ = "text/javascript; charset=utf-8"
	case "":
		typ = "application/octet-stream"
	}
	c.Data(http.StatusOK, typ, b)
	return nil
}

// viewerFile is a viewer file with its ETag, hashed once: the files never
// change while the process runs.
type viewerFile struct {
	body []byte
	etag string
}

// viewerCache keeps the viewer's files and tags by name.
type viewerCache struct{ files sync.Map }

func (v *viewerCache) file(files fs.FS, name string) (*viewerFile, error) {
	if f, ok := v.files.Load(name); ok {
		return f.(*viewerFile), nil
	}
	b, err := fs.ReadFile(files, name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	f, _ := v.files.LoadOrStore(name, &viewerFile{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`})
	return f.(*viewerFile), nil
}

// mapConfig tells the viewer what this server is configured with: a
// basemap, and a PMTiles archive to draw boundaries from instead of
// /tiles (api/viewer/pmtiles.js).
func (s *Server) mapConfig(c *gin.Context) error {
	var basemap, archive any
	if s.cfg.BasemapStyle != "" {
		basemap = s.cfg.BasemapStyle
	}
	if s.cfg.PMTilesURL != "" {
		archive = s.cfg.PMTilesURL
	}
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, gin.H{"basemap": basemap, "pmtiles": archive, "version": s.cfg.Version})
	return nil
}

// search finds neighbourhoods, small areas and postcodes for the viewer.
func (s *Server) search(c *gin.Context) error {
	if err := noParams(c, "q"); err != nil {
		return err
	}
	q := strings.TrimSpace(c.Query("q"))
	if q == "" || len(q) > 100 {
		return badRequest("q must be 1 to 100 characters: a neighbourhood name, small-area code or postcode")
	}
	if s.conditional(c, fJSON) {
		return nil
	}
	// The version read after conditional settled it: the places read next
	// are of that version or newer, never older.
	key := searchKey{version: s.store.Version(), q: q}
	answer, ok := s.searches.get(key)
	if !ok {
		places, err := s.store.Search(c.Request.Context(), q, 10)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := encodeJSON(&buf, places); err != nil {
			return err
		}
		answer = buf.Bytes()
		s.searches.add(key, answer)
	}
	b := newBody(c, fJSON)
	if _, err := b.Write(answer); err != nil {
		return err
	}
	return b.Close()
}
