package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestBodyGzipsAllButTinyBodies writes bodies of sizes around minGzip and
// past bufio's 32 KB, in pieces: a client that takes gzip gets it from
// minGzip bytes up and the body as it is below, with a Content-Length
// matching what was sent; a client that does not always gets it plain.
func TestBodyGzipsAllButTinyBodies(t *testing.T) {
	for _, size := range []int{0, 1, minGzip - 1, minGzip, 5000, 40_000, 100_000} {
		want := bytes.Repeat([]byte("nbhd "), size/5+1)[:size]
		for _, accepts := range []bool{false, true} {
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.Request = httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/x", nil)
			if accepts {
				c.Request.Header.Set("Accept-Encoding", "gzip")
			}
			b := newBody(c, fJSON)
			for rest := want; len(rest) > 0; {
				n := min(len(rest), 700)
				if _, err := b.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			sent := rec.Body.Bytes()
			if got := rec.Header().Get("Content-Length"); got != strconv.Itoa(len(sent)) {
				t.Errorf("size %d, gzip %v: Content-Length %s for %d bytes", size, accepts, got, len(sent))
			}
			zipped := rec.Header().Get("Content-Encoding") == "gzip"
			if zipped != (accepts && size >= minGzip) {
				t.Errorf("size %d, accepts gzip %v: gzipped %v", size, accepts, zipped)
			}
			got := sent
			if zipped {
				zr, err := gzip.NewReader(bytes.NewReader(sent))
				if err != nil {
					t.Fatal(err)
				}
				if got, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, want) {
				t.Errorf("size %d, gzip %v: %d bytes back, want %d", size, accepts, len(got), len(want))
			}
		}
	}
}
