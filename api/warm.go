package api

import (
	"context"
	"time"
)

// warmTimeout bounds one read ahead of the per-version data; on England it
// takes about a tenth of a second.
const warmTimeout = time.Minute

// warmer reads the store's per-version data (data.Store.Warm) when the
// server starts and after each data change, so that the first profiles of
// a version do not wait for every borough's figures (the p99 of a freshly
// started server was theirs).
type warmer struct {
	wake chan struct{}
}

func newWarmer() *warmer { return &warmer{wake: make(chan struct{}, 1)} }

// changed asks for a read; one already pending covers it.
func (w *warmer) changed() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// runWarmer reads ahead each time it is woken until ctx ends. A read that fails
// is only logged: requests read what they need themselves.
func (s *Server) runWarmer(ctx context.Context, w *warmer) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
			wctx, cancel := context.WithTimeout(ctx, warmTimeout)
			if err := s.store.Warm(wctx); err != nil && ctx.Err() == nil {
				s.log.Warn("read ahead of requests: the data version's figures", "err", err)
			}
			cancel()
		}
	}
}
