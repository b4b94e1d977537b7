package data

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestVersionedWaitersKeepTheirDeadlines holds a load open: a second caller
// must give up at its own deadline instead of queueing behind it, a failed
// load must be tried again, and a finished one must be shared.
func TestVersionedWaitersKeepTheirDeadlines(t *testing.T) {
	var c versioned[int]
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	// Under a lock held for the whole load the waiter would be let go only
	// by this, seconds late.
	time.AfterFunc(3*time.Second, free)
	started := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := c.get(context.Background(), 1, func(context.Context) (int, error) {
			close(started)
			<-release
			return 0, errors.New("the database went away")
		})
		first <- err
	}()
	<-started

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	begun := time.Now()
	_, err := c.get(ctx, 1, func(context.Context) (int, error) {
		t.Error("a second load ran while the first was in flight")
		return 0, nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiter: %v, want its deadline", err)
	}
	if waited := time.Since(begun); waited > 2*time.Second {
		t.Errorf("waiter held %v past a 50 ms deadline", waited)
	}

	free()
	if err := <-first; err == nil {
		t.Error("the failed load's error was lost")
	}
	loads := 0
	for i := 0; i < 3; i++ {
		v, err := c.get(context.Background(), 1, func(context.Context) (int, error) {
			loads++
			return 42, nil
		})
		if err != nil || v != 42 {
			t.Errorf("get %d: %d, %v", i, v, err)
		}
	}
	if loads != 1 {
		t.Errorf("%d loads after a failure, want 1 (then cached)", loads)
	}
	v, err := c.get(context.Background(), 2, func(context.Context) (int, error) { return 43, nil })
	if err != nil || v != 43 {
		t.Errorf("a new version: %d, %v", v, err)
	}
}
