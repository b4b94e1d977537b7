package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// raw asks without decoding gzip, so the copies keep nbhd's bytes.
var raw = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: time.Minute}

// answer is one copied response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// floor serves copied answers by request URI: [0] without gzip, [1] with.
type floor map[string]*[2]answer

// copyAll asks base for every path in the lists, once without and once
// with Accept-Encoding: gzip, and keeps the answers as they came (the
// Date header aside, which net/http writes itself).
func copyAll(ctx context.Context, base string, lists []string) (floor, error) {
	f := floor{}
	for _, list := range lists {
		paths, err := readList(list)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			if _, ok := f[p]; ok {
				continue
			}
			var pair [2]answer
			for i, enc := range []string{"", "gzip"} {
				a, err := fetch(ctx, base+p, enc)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", p, err)
				}
				pair[i] = a
			}
			f[p] = &pair
		}
	}
	return f, nil
}

func readList(name string) ([]string, error) {
	file, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("reading a list: %w", err)
	}
	defer file.Close()
	var paths []string
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if p := strings.TrimSpace(sc.Text()); p != "" {
			paths = append(paths, p)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return paths, nil
}

// fetch asks for url with the given Accept-Encoding and keeps the bytes
// undecoded (the transport's own gzip handling is off).
func fetch(ctx context.Context, url, encoding string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return answer{}, fmt.Errorf("asking: %w", err)
	}
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	res, err := raw.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("asking: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, fmt.Errorf("reading the answer: %w", err)
	}
	if res.StatusCode >= 400 {
		return answer{}, fmt.Errorf("answered %s", res.Status)
	}
	h := res.Header.Clone()
	h.Del("Date")
	return answer{status: res.StatusCode, header: h, body: body}, nil
}

// ServeHTTP writes the copied answer for the request's URI: its headers
// (shared slices, set as nbhd sets its tile headers), status and body.
func (f floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pair, ok := f[r.URL.RequestURI()]
	if !ok {
		http.NotFound(w, r)
		return
	}
	a := &pair[0]
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		a = &pair[1]
	}
	h := w.Header()
	for k, v := range a.header {
		h[k] = v
	}
	w.WriteHeader(a.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.body)
	}
}
