package api

import (
	"bufio"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"nbhd/data"
	"nbhd/geo"
)

// Paging limits for items.
const (
	defaultLimit = 100
	maxLimit     = 10_000
)

// layer finds the collection named in the path.
func (s *Server) layer(c *gin.Context) (*data.Layer, *data.Catalogue, error) {
	cat, err := s.store.Catalogue(c.Request.Context())
	if err != nil {
		return nil, nil, err
	}
	id := c.Param("collection")
	l, ok := cat.Layer(id)
	if !ok {
		return nil, nil, notFound("no collection %q; see /collections", id)
	}
	return l, cat, nil
}

func parseNonNegative(c *gin.Context, name string, def int) (int, error) {
	v, ok := c.GetQuery(name)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badRequest("%s must be a whole number of 0 or more, got %q", name, v)
	}
	return n, nil
}

// items serves a page of a collection's features as a GeoJSON
// FeatureCollection streamed from the database row by row.
func (s *Server) items(c *gin.Context) error {
	l, _, err := s.layer(c)
	if err != nil {
		return err
	}
	q := data.FeatureQuery{CRS: geo.CRS84, BBoxCRS: geo.CRS84}
	if q.Limit, err = parseNonNegative(c, "limit", defaultLimit); err != nil {
		return err
	}
	q.Limit = min(q.Limit, maxLimit)
	if q.Offset, err = parseNonNegative(c, "offset", 0); err != nil {
		return err
	}
	if v, ok := c.GetQuery("bbox"); ok {
		b, err := geo.ParseBBox(v, q.BBoxCRS)
		if err != nil {
			return badRequest("%v", err)
		}
		q.BBox = &b
	}
	c.Header("Content-Type", "application/geo+json")
	w := bufio.NewWriterSize(c.Writer, 32<<10)
	n := 0
	started := false
	err = s.store.Features(c.Request.Context(), data.Public, l, q, data.GeoJSONRows, func(row [][]byte) error {
		if !started {
			c.Status(http.StatusOK)
			started = true
			_, _ = w.WriteString(`{"type":"FeatureCollection","features":[`)
		} else {
			_ = w.WriteByte(',')
		}
		n++
		_, err := w.Write(row[0])
		return err
	})
	if err != nil {
		return err
	}
	if !started {
		c.Status(http.StatusOK)
		_, _ = w.WriteString(`{"type":"FeatureCollection","features":[`)
	}
	_, _ = w.WriteString(`],"numberReturned":` + strconv.Itoa(n) + `}`)
	return w.Flush()
}
