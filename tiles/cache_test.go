package tiles_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb/maptile"

	"nbhd/tiles"
)

func key(layer string, v int64, x uint32) tiles.Key {
	return tiles.Key{Layer: layer, Version: v, Tile: maptile.New(x, 0, 12)}
}

// constant renders fixed bytes and counts its calls.
func constant(b []byte, calls *atomic.Int64) tiles.Render {
	return func(context.Context) ([]byte, error) {
		calls.Add(1)
		return b, nil
	}
}

func TestCacheStoresGzipAndKeysOnVersion(t *testing.T) {
	c := tiles.NewCache(1 << 20)
	mvt := bytes.Repeat([]byte("tile "), 1000)
	var calls atomic.Int64
	ctx := context.Background()
	for range 3 {
		e, err := c.Get(ctx, key("a", 1, 0), constant(mvt, &calls))
		if err != nil {
			t.Fatal(err)
		}
		got, err := tiles.Gunzip(e.Gzip, e.Size)
		if err != nil || !bytes.Equal(got, mvt) || e.Size != len(mvt) || len(e.Gzip) >= len(mvt)/10 {
			t.Fatalf("entry: %d gzip bytes, size %d, round trip equal %v, %v", len(e.Gzip), e.Size, bytes.Equal(got, mvt), err)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("%d renders for one key, want 1", calls.Load())
	}
	if _, err := c.Get(ctx, key("a", 2, 0), constant(mvt, &calls)); err != nil || calls.Load() != 2 {
		t.Errorf("a new data version must render again: %d renders, %v", calls.Load(), err)
	}
	s := c.Stats()
	if s.Hits != 2 || s.Misses != 2 || s.Renders != 2 || s.Entries != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestCacheEvictsLeastRecentlyUsedWithinItsLimit(t *testing.T) {
	// Incompressible tiles of ~2 KB; the limit fits three.
	tile := func(i byte) []byte {
		b := make([]byte, 2000)
		x := uint32(i) + 1
		for j := range b {
			x = x*1664525 + 1013904223
			b[j] = byte(x >> 24)
		}
		return b
	}
	probe := tiles.NewEntry(tile(0))
	per := int64(len(probe.Gzip)) + 256 + int64(len(probe.Hash))
	c := tiles.NewCache(3*per + per/2)
	var calls atomic.Int64
	ctx := context.Background()
	get := func(i byte) {
		t.Helper()
		if _, err := c.Get(ctx, key("a", 1, uint32(i)), constant(tile(i), &calls)); err != nil {
			t.Fatal(err)
		}
	}
	get(1)
	get(2)
	get(3)
	get(1) // 1 is now the most recent; 2 the least
	get(4) // evicts 2
	before := calls.Load()
	get(1)
	get(3)
	get(4)
	if calls.Load() != before {
		t.Errorf("1, 3 and 4 should be cached")
	}
	get(2)
	if calls.Load() != before+1 {
		t.Errorf("2 should have been evicted")
	}
	s := c.Stats()
	if s.Used > s.Limit || s.Entries != 3 || s.Evictions != 2 {
		t.Errorf("stats %+v", s)
	}
	// A tile bigger than the whole cache is served but not kept.
	small := tiles.NewCache(100)
	for range 2 {
		if _, err := small.Get(ctx, key("a", 1, 9), constant(tile(9), &calls)); err != nil {
			t.Fatal(err)
		}
	}
	if s := small.Stats(); s.Entries != 0 || s.Renders != 2 {
		t.Errorf("oversized tile: %+v", s)
	}
}

func TestCachePurgeDropsEverythingAndRefusesOldVersions(t *testing.T) {
	c := tiles.NewCache(1 << 20)
	var calls atomic.Int64
	ctx := context.Background()
	if _, err := c.Get(ctx, key("a", 1, 0), constant([]byte("x"), &calls)); err != nil {
		t.Fatal(err)
	}
	c.Purge(2)
	if s := c.Stats(); s.Entries != 0 || s.Used != 0 {
		t.Errorf("after purge: %+v", s)
	}
	// A render for version 1 finishing after the purge is served but not stored.
	if _, err := c.Get(ctx, key("a", 1, 0), constant([]byte("x"), &calls)); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Entries != 0 {
		t.Errorf("a stale version was stored after the purge: %+v", s)
	}
	if _, err := c.Get(ctx, key("a", 2, 0), constant([]byte("x"), &calls)); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Entries != 1 {
		t.Errorf("the current version should be stored: %+v", s)
	}
}

func TestCacheConcurrentMissesRenderOnce(t *testing.T) {
	c := tiles.NewCache(1 << 20)
	release := make(chan struct{})
	var calls atomic.Int64
	render := func(ctx context.Context) ([]byte, error) {
		calls.Add(1)
		select {
		case <-release:
			return []byte("tile"), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	const n = 50
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range n {
		wg.Go(func() {
			if e, err := c.Get(context.Background(), key("a", 1, 0), render); err != nil || e.Size != 4 {
				failed.Add(1)
			}
		})
	}
	// Let every goroutine reach the cache before the render finishes.
	for c.Stats().Misses < n {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if calls.Load() != 1 || failed.Load() != 0 {
		t.Errorf("%d concurrent misses: %d renders, %d failures; want 1 render", n, calls.Load(), failed.Load())
	}
}

func TestCacheLeaderGoingAwayHandsOverTheRender(t *testing.T) {
	c := tiles.NewCache(1 << 20)
	started := make(chan struct{}, 2)
	var calls atomic.Int64
	// The first render waits until its request is cancelled; the second works.
	render := func(ctx context.Context) ([]byte, error) {
		if calls.Add(1) == 1 {
			started <- struct{}{}
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return []byte("tile"), nil
	}
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := c.Get(leaderCtx, key("a", 1, 0), render)
		leaderErr <- err
	}()
	<-started
	follower := make(chan error, 1)
	go func() {
		e, err := c.Get(context.Background(), key("a", 1, 0), render)
		if err == nil && e.Size != 4 {
			err = errors.New("wrong tile")
		}
		follower <- err
	}()
	for c.Stats().Misses < 2 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Errorf("leader: %v, want context.Canceled", err)
	}
	if err := <-follower; err != nil {
		t.Errorf("follower: %v, want the tile", err)
	}
	if calls.Load() != 2 {
		t.Errorf("%d renders, want 2 (the abandoned one and the follower's)", calls.Load())
	}
}

func TestCacheErrorsAreNotCached(t *testing.T) {
	c := tiles.NewCache(1 << 20)
	var calls atomic.Int64
	boom := errors.New("database down")
	render := func(context.Context) ([]byte, error) {
		calls.Add(1)
		return nil, boom
	}
	for range 2 {
		if _, err := c.Get(context.Background(), key("a", 1, 0), render); !errors.Is(err, boom) {
			t.Errorf("got %v, want the render's error", err)
		}
	}
	if calls.Load() != 2 {
		t.Errorf("%d renders; errors must not be cached", calls.Load())
	}
}

func TestCacheDisabledRendersEveryTime(t *testing.T) {
	c := tiles.NewCache(0)
	var calls atomic.Int64
	for range 3 {
		e, err := c.Get(context.Background(), key("a", 1, 0), constant(nil, &calls))
		if err != nil || !e.Empty() || len(e.Gzip) != 0 {
			t.Fatalf("empty tile: %+v, %v", e, err)
		}
	}
	if calls.Load() != 3 || c.Stats().Entries != 0 {
		t.Errorf("disabled cache: %d renders, stats %+v", calls.Load(), c.Stats())
	}
}

func TestGzipIsDeterministic(t *testing.T) {
	mvt := []byte(strings.Repeat("abc", 500))
	a, b := tiles.Gzip(mvt), tiles.Gzip(bytes.Clone(mvt))
	if !bytes.Equal(a, b) {
		t.Error("two compressions of one tile differ")
	}
	if tiles.NewEntry(mvt).Hash != tiles.NewEntry(bytes.Clone(mvt)).Hash || tiles.NewEntry(mvt).Hash == tiles.NewEntry(mvt[1:]).Hash {
		t.Error("hash must follow content")
	}
}

// TestGzipKeepsNoSpareCapacity: what the cache keeps is the compressed
// bytes and no more, for tiles that compress well and badly, and a later
// compression (which reuses the working buffer) leaves it intact.
func TestGzipKeepsNoSpareCapacity(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	noise := make([]byte, 70_000)
	for i := range noise {
		noise[i] = byte(r.IntN(256))
	}
	bodies := map[string][]byte{"text": bytes.Repeat([]byte("feature "), 9000), "noise": noise, "small": []byte("abc")}
	for name, mvt := range bodies {
		gz := tiles.Gzip(mvt)
		if cap(gz) != len(gz) {
			t.Errorf("%s: %d bytes kept in %d", name, len(gz), cap(gz))
		}
		for _, other := range bodies {
			tiles.Gzip(other)
		}
		if back, err := tiles.Gunzip(gz, len(mvt)); err != nil || !bytes.Equal(back, mvt) {
			t.Errorf("%s: after other compressions, gunzips to %d bytes (%v), want %d", name, len(back), err, len(mvt))
		}
	}
}

func BenchmarkCacheHit(b *testing.B) {
	c := tiles.NewCache(64 << 20)
	ctx := context.Background()
	var calls atomic.Int64
	mvt := bytes.Repeat([]byte("feature "), 2000)
	keys := make([]tiles.Key, 256)
	for i := range keys {
		keys[i] = key("all", 1, uint32(i))
		if _, err := c.Get(ctx, keys[i], constant(mvt, &calls)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := c.Get(ctx, keys[i%len(keys)], nil); err != nil {
				b.Error(err)
			}
			i++
		}
	})
}

func BenchmarkGzip(b *testing.B) {
	mvt := bytes.Repeat([]byte("feature with properties "), 1000)
	b.SetBytes(int64(len(mvt)))
	for b.Loop() {
		tiles.Gzip(mvt)
	}
}

func TestCachePlainKeepsTheInflatedTileAndCountsIt(t *testing.T) {
	c := tiles.NewCache(1 << 20)
	mvt := bytes.Repeat([]byte("plain tile "), 2000)
	var calls atomic.Int64
	ctx := context.Background()
	k := key("a", 1, 0)
	e, err := c.Get(ctx, k, constant(mvt, &calls))
	if err != nil {
		t.Fatal(err)
	}
	before := c.Stats().Used
	first, err := c.Plain(k, e)
	if err != nil || !bytes.Equal(first, mvt) {
		t.Fatalf("plain: equal %v, %v", bytes.Equal(first, mvt), err)
	}
	if grew := c.Stats().Used - before; grew != int64(len(mvt)) {
		t.Errorf("keeping the plain tile grew the cache by %d bytes, want %d", grew, len(mvt))
	}
	second, err := c.Plain(k, e)
	if err != nil || &second[0] != &first[0] {
		t.Errorf("the second plain read must return the kept bytes, not inflate again (%v)", err)
	}
	if grew := c.Stats().Used - before; grew != int64(len(mvt)) {
		t.Errorf("a second plain read grew the cache to %d bytes over the gzip", grew)
	}

	// Within a limit that holds one tile's gzip but not its plain bytes
	// too, keeping them evicts the entry rather than overrunning.
	small := tiles.NewCache(int64(len(mvt) / 2))
	e, err = small.Get(ctx, k, constant(mvt, &calls))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.Plain(k, e); err != nil {
		t.Fatal(err)
	}
	if s := small.Stats(); s.Used > s.Limit || s.Entries != 0 || s.Evictions != 1 {
		t.Errorf("stats after an oversized plain tile: %+v", s)
	}
}
