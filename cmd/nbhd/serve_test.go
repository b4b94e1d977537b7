package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"nbhd/data/dbtest"
)

// startServe runs `nbhd serve` in the test process on a free port and
// returns its address and the channel its exit code arrives on.
func startServe(t *testing.T, ctx context.Context, stderr *syncBuffer, args ...string) (string, <-chan int) {
	t.Helper()
	url := dbtest.New(t, true)
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	done := make(chan int, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, append([]string{"serve", "--database-url", url, "--addr", addr}, args...), &out, stderr)
	}()
	for range 100 {
		resp, err := http.Get(fmt.Sprintf("http://%s/readyz", addr)) //nolint:noctx // test
		if err == nil {
			resp.Body.Close()
			return addr, done
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("server never answered: %s", stderr.String())
	return "", nil
}

// TestShutdownTimeoutIsAnUpperBound keeps a client connected that asks
// for large pages and never reads them, with a write timeout far longer
// than the shutdown grace. SIGTERM must still end the process soon after
// the grace, with status 0 and its pools closed.
func TestShutdownTimeoutIsAnUpperBound(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	addr, done := startServe(t, ctx, &stderr, "--shutdown-timeout", "1s", "--write-timeout", "5m", "--log-level", "info")

	// The slow reader: a tiny receive window and 400 pipelined requests for
	// the largest page (far more than loopback's socket buffers hold), so
	// the server blocks writing.
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	var req strings.Builder
	for range 400 {
		fmt.Fprintf(&req, "GET /collections/small-areas/items?limit=10000 HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	}
	if _, err := conn.Write([]byte(req.String())); err != nil {
		t.Fatal(err)
	}
	// Wait until the server has answered the slow client's first requests
	// (not the readiness probe's) and is stuck writing the next one: no
	// response completed for a second. A fixed pause was not enough on a
	// loaded machine: signalled between two pipelined responses, when the
	// connection is briefly idle, the server closes it and stops at once,
	// and the grace this test is about never runs out.
	const answered = "route=/collections/:collection/items status=200"
	deadline := time.Now().Add(30 * time.Second)
	last, quietSince := 0, time.Now()
	for time.Now().Before(deadline) {
		if n := strings.Count(stderr.String(), answered); n != last {
			last, quietSince = n, time.Now()
		} else if n > 0 && time.Since(quietSince) >= time.Second {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if last == 0 {
		t.Fatalf("the slow client's first request was never answered: %s", stderr.String())
	}

	start := time.Now()
	cancel() // as SIGTERM does
	select {
	case code := <-done:
		took := time.Since(start)
		if code != 0 {
			t.Errorf("serve exited %d after SIGTERM, want 0: %s", code, stderr.String())
		}
		if took > 4*time.Second {
			t.Errorf("serve took %s to stop with a 1 s grace", took)
		}
		t.Logf("stopped %s after the signal (grace 1s)", took.Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatalf("serve still running 30 s after the signal, with a 1 s grace: %s", stderr.String())
	}
	log := stderr.String()
	for _, want := range []string{"shutdown grace over: cancelling in-flight requests", "database pools closed"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestServeRefusesTimeoutsInTheWrongOrder(t *testing.T) {
	code, _, stderr := nbhd(t, "serve", "--statement-timeout", "30s", "--request-timeout", "10s")
	if code != 2 || !strings.Contains(stderr, "must be shorter than --request-timeout") {
		t.Errorf("statement timeout past the request deadline: %d %q", code, stderr)
	}
}
