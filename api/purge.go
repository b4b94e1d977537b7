package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The purge hook (Config.PurgeURL): after each data change the server
// POSTs the surrogate keys of the superseded data versions, so a CDN (or
// an adapter for one) can drop every response made from them:
//
//	POST {purge-url}
//	Content-Type: application/json
//
//	{"keys": ["nbhd-v41"], "data_version": 42, "previous_version": 41}
//
// Every server calls it when it moves to the new version itself, so the
// last call comes after the slowest server (or replica) has caught up and
// nothing older can be cached again after it. Calls are idempotent.
const (
	purgeTries      = 5
	purgeFirstRetry = 500 * time.Millisecond
	purgeTimeout    = 10 * time.Second
	// purgeMaxVersions is the most version keys one call names; a longer
	// jump purges keyData, every data-dependent response.
	purgeMaxVersions = 32
)

// purgeBody is the JSON the hook receives.
type purgeBody struct {
	Keys            []string `json:"keys"`
	DataVersion     int64    `json:"data_version"`
	PreviousVersion int64    `json:"previous_version"`
}

// purger sends purge calls from one goroutine, one at a time, retrying
// each a bounded number of times. Changes that come while a call is being
// made are merged into the next call. Requests never wait for it.
type purger struct {
	url         string
	header      [2]string
	client      *http.Client
	log         *slog.Logger
	firstRetry  time.Duration
	mu          sync.Mutex
	from, to    int64 // the pending change; to == 0 when none
	wake        chan struct{}
	calls, errs prometheus.Counter
}

func newPurger(url, header string, log *slog.Logger) *purger {
	p := &purger{url: url, client: &http.Client{Timeout: purgeTimeout}, log: log, firstRetry: purgeFirstRetry,
		wake: make(chan struct{}, 1),
		calls: prometheus.NewCounter(prometheus.CounterOpts{Name: "nbhd_purge_calls_total",
			Help: "Purge hook calls that succeeded (2xx)."}),
		errs: prometheus.NewCounter(prometheus.CounterOpts{Name: "nbhd_purge_failures_total",
			Help: "Purge hook calls that failed after every retry."})}
	if name, value, ok := strings.Cut(header, ":"); ok {
		p.header = [2]string{strings.TrimSpace(name), strings.TrimSpace(value)}
	}
	return p
}

func (p *purger) Describe(ch chan<- *prometheus.Desc) {
	p.calls.Describe(ch)
	p.errs.Describe(ch)
}

func (p *purger) Collect(ch chan<- prometheus.Metric) {
	p.calls.Collect(ch)
	p.errs.Collect(ch)
}

// changed queues a purge of the versions from prev up to next; it never
// blocks.
func (p *purger) changed(prev, next int64) {
	p.mu.Lock()
	if p.to == 0 {
		p.from = prev
	}
	p.from, p.to = min(p.from, prev), max(p.to, next)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run sends queued purges until ctx ends.
func (p *purger) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		p.mu.Lock()
		from, to := p.from, p.to
		p.to = 0
		p.mu.Unlock()
		if to == 0 {
			continue
		}
		p.send(ctx, purgeRequest(from, to))
	}
}

// purgeRequest names the versions a change from prev to next supersedes.
func purgeRequest(prev, next int64) purgeBody {
	b := purgeBody{DataVersion: next, PreviousVersion: prev}
	if next-prev > purgeMaxVersions {
		b.Keys = []string{keyData}
		return b
	}
	for v := prev; v < next; v++ {
		b.Keys = append(b.Keys, versionKey(v))
	}
	return b
}

// send makes one purge call, retrying failures (network errors, 5xx, 429)
// with doubling waits, at most purgeTries times.
func (p *purger) send(ctx context.Context, body purgeBody) {
	payload, _ := json.Marshal(body)
	wait := p.firstRetry
	var err error
	for try := 1; try <= purgeTries; try++ {
		var retry bool
		if retry, err = p.post(ctx, payload); err == nil {
			p.calls.Inc()
			p.log.Info("purge hook called", "keys", body.Keys, "data_version", body.DataVersion)
			return
		}
		if !retry || try == purgeTries {
			break
		}
		p.log.Warn("purge hook failed; retrying", "err", err, "try", try, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait *= 2
	}
	p.errs.Inc()
	p.log.Error("purge hook failed; a CDN may serve superseded data until its s-maxage passes", "err", err, "keys", body.Keys)
}

// post makes one call and says whether a failure is worth retrying.
func (p *purger) post(ctx context.Context, payload []byte) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(payload))
	if err != nil {
		return false, fmt.Errorf("purge request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if p.header[0] != "" {
		req.Header.Set(p.header[0], p.header[1])
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return true, fmt.Errorf("purge call: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
	return retry, fmt.Errorf("purge call answered %s", resp.Status)
}
