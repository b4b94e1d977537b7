package data

import (
	"context"
	"sync"
)

// versioned keeps one value read from the database for the data version
// it was read at: what changes only on import (the layer catalogue, the
// neighbourhood sets, the indicator catalogue) is read once per version
// instead of on every request. A load holds the lock, so a new version is
// read once.
type versioned[T any] struct {
	mu      sync.Mutex
	version int64
	loaded  bool
	val     T
}

// get returns the value for version, loading it when it is missing or
// was read at another version. Callers load before they acquire a pooled
// connection of their own, so a full pool cannot wait on itself.
func (c *versioned[T]) get(ctx context.Context, version int64, load func(context.Context) (T, error)) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded && c.version == version {
		return c.val, nil
	}
	v, err := load(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	c.val, c.version, c.loaded = v, version, true
	return v, nil
}
