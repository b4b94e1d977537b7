package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The scale-out tests (issue 15) run real processes: `nbhd serve` built
// from this package, PostgreSQL clusters of their own, nginx. They take
// minutes, so they run only with NBHD_SCALE set (`make test-scale`, which
// installs nginx and Chromium and which .ci/run runs). Under CI a missing
// tool fails them.
func scaleTest(t *testing.T, tools ...string) {
	t.Helper()
	if os.Getenv("NBHD_SCALE") == "" {
		t.Skip("scale-out test: run with `make test-scale` (NBHD_SCALE=1)")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			msg := tool + " not found: `make test-scale` installs it (scripts/deps.sh scale)"
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

var built struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// nbhdBinary builds bin/nbhd (with the embedded viewer) once per test
// process, into a directory of its own.
func nbhdBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "nbhd-scale-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "nbhd")
		cmd := exec.Command("go", "build", "-o", built.path, ".") //nolint:noctx // a test's build
		built.out, built.err = cmd.CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is an `nbhd serve` process with its public and metrics addresses.
type proc struct {
	base, metrics string
	cmd           *exec.Cmd
	log           *syncBuffer
	done          chan struct{}
}

// startNBHD runs `nbhd serve` with args and waits until /readyz is 200.
func startNBHD(t *testing.T, args ...string) *proc {
	t.Helper()
	addr, maddr := freeAddr(t), freeAddr(t)
	p := &proc{base: "http://" + addr, metrics: "http://" + maddr + "/metrics", log: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(nbhdBinary(t), append([]string{"serve", "--addr", addr, "--metrics-addr", maddr, "--log-level", "warn"}, args...)...) //nolint:noctx // stopped by signal
	p.cmd.Stdout, p.cmd.Stderr = io.Discard, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if status, _, _ := fetch(p.base+"/readyz", nil); status == http.StatusOK {
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("nbhd serve exited: %s", p.log.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("nbhd serve at %s never became ready: %s", addr, p.log.String())
	return nil
}

// kill ends the process with SIGKILL, as a crash or the OOM killer would.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

func (p *proc) stop(t *testing.T) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Errorf("nbhd serve did not stop on SIGTERM")
		p.kill()
	}
}

// counter reads one series of the process's /metrics (0 when absent).
func (p *proc) counter(t *testing.T, series string) float64 {
	t.Helper()
	status, _, body := fetch(p.metrics, map[string]string{"Accept-Encoding": "identity"})
	if status != http.StatusOK {
		t.Fatalf("%s: %d", p.metrics, status)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %q", series, line)
			}
			return f
		}
	}
	return 0
}

// tileRequests is how many tile requests a server has answered itself.
func (p *proc) tileRequests(t *testing.T) float64 {
	t.Helper()
	n := 0.0
	for _, status := range []string{"200", "204", "304"} {
		n += p.counter(t, `nbhd_http_requests_total{method="GET",route="/tiles/:layer/:z/:x/:y",status="`+status+`"}`)
	}
	return n
}

// settledTileRequests is tileRequests once it has stopped moving: the
// server counts a request after its response is flushed, so a count read
// just after a client got its answer can miss that request, which then
// shows up in the next read.
func (p *proc) settledTileRequests(t *testing.T) float64 {
	t.Helper()
	n := p.tileRequests(t)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		m := p.tileRequests(t)
		if m == n {
			return n
		}
		n = m
	}
	return n
}

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 32}}

// fetch GETs a URL asking for gzip, without undoing it, and returns the
// status, the headers and the body as sent. A request that fails, or a
// body cut short, has status 0 and the error as its body.
func fetch(url string, header map[string]string) (int, http.Header, []byte) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, []byte(err.Error())
	}
	req.Header.Set("Accept-Encoding", "gzip")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, resp.Header, []byte(err.Error())
	}
	return resp.StatusCode, resp.Header, b
}

// gunzipped is a response body as its client reads it.
func gunzipped(t *testing.T, h http.Header, body []byte) []byte {
	t.Helper()
	if h.Get("Content-Encoding") != "gzip" {
		return body
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// proxy is nginx in front of nbhd servers, from scripts/nginx.conf.tmpl.
type proxy struct {
	base   string
	prefix string
	cmd    *exec.Cmd
	done   chan struct{}
	stderr bytes.Buffer
}

// startNginx renders the project's nginx config for upstreams (host:port)
// and a static directory, and runs nginx in the foreground.
func startNginx(t *testing.T, static string, upstreams ...string) *proxy {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join("..", "..", "scripts", "nginx.conf.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: nginx's workers, which drop root, must reach it.
	prefix, err := os.MkdirTemp("", "nbhd-nginx-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(prefix) })
	if err := os.Chmod(prefix, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"cache", "tmp"} {
		if err := os.Mkdir(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	userLine := ""
	if os.Geteuid() == 0 {
		name := "www-data"
		u, err := user.Lookup(name)
		if err != nil {
			name = "nobody"
			if u, err = user.Lookup(name); err != nil {
				t.Fatal(err)
			}
		}
		userLine = "user " + name + ";"
		uid, _ := strconv.Atoi(u.Uid)
		for _, d := range []string{"cache", "tmp"} {
			if err := os.Chown(filepath.Join(prefix, d), uid, -1); err != nil {
				t.Fatal(err)
			}
		}
	}
	var ups strings.Builder
	for _, u := range upstreams {
		fmt.Fprintf(&ups, "server %s max_fails=1 fail_timeout=2s; ", u)
	}
	addr := freeAddr(t)
	conf := strings.NewReplacer("@USER@", userLine, "@PREFIX@", prefix, "@UPSTREAMS@", ups.String(),
		"@LISTEN@", addr, "@STATIC@", static).Replace(string(tmpl))
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &proxy{base: "http://" + addr, prefix: prefix, done: make(chan struct{})}
	p.cmd = exec.Command("nginx", "-c", confPath, "-p", prefix, "-g", "daemon off;") //nolint:noctx // stopped by signal
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", addr); err == nil {
			c.Close()
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("nginx exited: %s", p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("nginx never listened on %s: %s", addr, p.stderr.String())
	return nil
}

// accessLog is nginx's access log so far.
func (p *proxy) accessLog(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.prefix, "access.log"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}
