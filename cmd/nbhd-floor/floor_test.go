package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestFloorServesWhatItCopied: every path, with and without gzip, comes
// back with the copied status, headers and bytes, whatever they were.
func TestFloorServesWhatItCopied(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=60")
		h.Set("Vary", "Accept-Encoding")
		h.Set("X-Path", r.URL.RequestURI())
		if r.URL.Path == "/empty.mvt" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		body := bytes.Repeat([]byte(r.URL.RequestURI()), 500)
		if r.Header.Get("Accept-Encoding") == "gzip" {
			h.Set("Content-Encoding", "gzip")
			body = body[:100] // stands for the smaller gzip bytes
		}
		_, _ = w.Write(body)
	}))
	defer origin.Close()
	paths := []string{"/tiles/a/1/0/0.mvt", "/empty.mvt", "/tiles/a/1/0/1.mvt?borough=E08000010"}
	list := filepath.Join(t.TempDir(), "list")
	if err := os.WriteFile(list, []byte(strings.Join(paths, "\n")+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := copyAll(context.Background(), origin.URL, []string{list, list})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	for _, p := range paths {
		for _, enc := range []string{"", "gzip"} {
			want := get(t, origin.URL+p, enc)
			got := get(t, srv.URL+p, enc)
			if got.status != want.status || !bytes.Equal(got.body, want.body) {
				t.Errorf("%s %q: got %d and %d bytes, want %d and %d bytes", p, enc, got.status, len(got.body), want.status, len(want.body))
			}
			got.header.Del("Date")
			want.header.Del("Date")
			if !reflect.DeepEqual(got.header, want.header) {
				t.Errorf("%s %q: headers %v, want %v", p, enc, got.header, want.header)
			}
		}
	}
	if got := get(t, srv.URL+"/tiles/a/9/0/0.mvt", ""); got.status != http.StatusNotFound {
		t.Errorf("a path not copied: %d, want 404", got.status)
	}
}

// TestFloorRefusesAnErrorToCopy: a list naming a path the origin cannot
// answer stops the copy, naming the path, rather than serving the error.
func TestFloorRefusesAnErrorToCopy(t *testing.T) {
	origin := httptest.NewServer(http.NotFoundHandler())
	defer origin.Close()
	list := filepath.Join(t.TempDir(), "list")
	if err := os.WriteFile(list, []byte("/tiles/nope/1/0/0.mvt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := copyAll(context.Background(), origin.URL, []string{list})
	if err == nil || !strings.Contains(err.Error(), "/tiles/nope/1/0/0.mvt") {
		t.Fatalf("copy of a 404: %v, want an error naming the path", err)
	}
}

// get asks url as the benchmark does and returns the answer undecoded.
func get(t *testing.T, url, encoding string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	res, err := raw.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: body}
}
