package data

import (
	"context"
	"fmt"
	"sync"
)

// versioned keeps one value read from the database for the data version
// it was read at: what changes only on import (the layer catalogue, the
// neighbourhood sets, the indicator catalogue) is read once per version
// instead of on every request. One load runs at a time, so a new version
// is read once; callers waiting for it give up when their own context
// ends, so a slow load never holds a request past its deadline.
type versioned[T any] struct {
	mu      sync.Mutex
	version int64
	loaded  bool
	val     T
	loading chan struct{} // closed when the load in flight ends; nil when none is
}

// peek returns the value if it is loaded for version, without loading it.
func (c *versioned[T]) peek(version int64) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded && c.version == version {
		return c.val, true
	}
	var zero T
	return zero, false
}

// get returns the value for version, loading it when it is missing or
// was read at another version. Callers load before they acquire a pooled
// connection of their own, so a full pool cannot wait on itself.
func (c *versioned[T]) get(ctx context.Context, version int64, load func(context.Context) (T, error)) (T, error) {
	for {
		c.mu.Lock()
		if c.loaded && c.version == version {
			v := c.val
			c.mu.Unlock()
			return v, nil
		}
		if c.loading == nil {
			c.loading = make(chan struct{})
			c.mu.Unlock()
			return c.loadAt(ctx, version, load)
		}
		wait := c.loading
		c.mu.Unlock()
		select {
		case <-wait:
			// loaded (perhaps at another version) or failed: look again
		case <-ctx.Done():
			var zero T
			return zero, fmt.Errorf("waiting for data version %d: %w", version, ctx.Err())
		}
	}
}

// loadAt runs the load the caller has claimed and publishes its outcome.
// The waiters are released in a defer, so a load that panics (a bug, which
// the server's recovery turns into a 500) cannot leave them waiting for
// good.
func (c *versioned[T]) loadAt(ctx context.Context, version int64, load func(context.Context) (T, error)) (v T, err error) {
	defer func() {
		p := recover()
		c.mu.Lock()
		if p == nil && err == nil {
			c.val, c.version, c.loaded = v, version, true
		}
		close(c.loading)
		c.loading = nil
		c.mu.Unlock()
		if p != nil {
			panic(p)
		}
	}()
	return load(ctx)
}
