package tiles

import (
	"container/list"
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	"github.com/paulmach/orb/maptile"
	"golang.org/x/sync/singleflight"
)

// Key names one tile of one layer (or "all") at one data version, with the
// canonical form of the filter it was rendered with (empty for none). A new
// data version makes every older key unreachable.
type Key struct {
	Layer   string
	Version int64
	Tile    maptile.Tile
	Filter  string
}

func (k Key) String() string {
	b := make([]byte, 0, len(k.Layer)+len(k.Filter)+41)
	b = append(b, k.Layer...)
	b = append(b, '/')
	b = strconv.AppendInt(b, k.Version, 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(k.Tile.Z), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(k.Tile.X), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(k.Tile.Y), 10)
	if k.Filter != "" {
		b = append(b, '?')
		b = append(b, k.Filter...)
	}
	return string(b)
}

// Entry is a rendered tile.
type Entry struct {
	// Gzip is the tile compressed with Gzip; empty for an empty tile.
	Gzip []byte
	// Size is the uncompressed length; 0 for an empty tile.
	Size int
	// Hash identifies the uncompressed content (xxHash64, in hex), so every
	// replica gives a tile the same validator. xxHash rather than FNV-1a:
	// FNV reads a byte at a time, and was 6% of the server's CPU on cold
	// composite tiles.
	Hash string
	// raw is the uncompressed tile, kept once a client without gzip has
	// asked for it (Cache.Plain), so the next one is not inflated again.
	raw atomic.Pointer[[]byte]
}

// Empty reports whether the tile has no features.
func (e *Entry) Empty() bool { return e.Size == 0 }

// NewEntry compresses a rendered tile.
func NewEntry(mvt []byte) *Entry {
	return &Entry{Gzip: Gzip(mvt), Size: len(mvt), Hash: strconv.FormatUint(xxhash.Sum64(mvt), 16)}
}

// Render produces a tile's uncompressed MVT bytes (empty for no features).
type Render func(ctx context.Context) ([]byte, error)

// entryOverhead approximates the bytes an entry costs beyond its tile: the
// key, the hash, the list element and the map slot.
const entryOverhead = 256

// Cache keeps rendered tiles, gzip-compressed, up to a limit in bytes,
// evicting the least recently used. Concurrent misses for one key share one
// render. A Cache with a limit of 0 or less keeps nothing and shares
// nothing: every Get renders, which is how the cold path is measured.
type Cache struct {
	limit int64
	group singleflight.Group

	mu    sync.Mutex
	lru   *list.List // of *item, most recent first
	items map[Key]*list.Element
	used  int64
	floor int64 // entries of older versions are not stored

	hits, misses, renders, evictions atomic.Int64
}

type item struct {
	key   Key
	entry *Entry
	cost  int64
}

// NewCache makes a cache holding up to limit bytes.
func NewCache(limit int64) *Cache {
	return &Cache{limit: limit, lru: list.New(), items: map[Key]*list.Element{}}
}

// errAbandoned is what a shared render returns when the request that ran it
// went away; the others waiting for it render again themselves.
var errAbandoned = errors.New("tile render abandoned by its request")

// Get returns the tile for k, rendering it on a miss. The render runs under
// the context of the request that missed first; if that request goes away,
// its query is cancelled and the next waiting request takes over.
func (c *Cache) Get(ctx context.Context, k Key, render Render) (*Entry, error) {
	if c.limit <= 0 {
		c.misses.Add(1)
		return c.render(ctx, render)
	}
	if e := c.Lookup(k); e != nil {
		return e, nil
	}
	c.misses.Add(1)
	for {
		ch := c.group.DoChan(k.String(), func() (any, error) {
			if e := c.lookup(k); e != nil { // filled while we queued
				return e, nil
			}
			e, err := c.render(ctx, render)
			if err != nil {
				if ctx.Err() != nil {
					return nil, errAbandoned
				}
				return nil, err
			}
			c.add(k, e)
			return e, nil
		})
		select {
		case r := <-ch:
			if r.Err == nil {
				return r.Val.(*Entry), nil
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(r.Err, errAbandoned) {
				continue
			}
			return nil, r.Err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Lookup returns the tile for k if it is cached (counted as a hit), and
// nil otherwise (not counted: the caller then asks Get, which counts).
func (c *Cache) Lookup(k Key) *Entry {
	if c.limit <= 0 {
		return nil
	}
	e := c.lookup(k)
	if e != nil {
		c.hits.Add(1)
	}
	return e
}

func (c *Cache) render(ctx context.Context, render Render) (*Entry, error) {
	c.renders.Add(1)
	mvt, err := render(ctx)
	if err != nil {
		return nil, err
	}
	return NewEntry(mvt), nil
}

func (c *Cache) lookup(k Key) *Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(el)
	return el.Value.(*item).entry
}

func (c *Cache) add(k Key, e *Entry) {
	cost := int64(len(e.Gzip)+len(e.Hash)+len(k.Filter)) + entryOverhead
	if cost > c.limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if k.Version < c.floor {
		return // rendered before a purge; nobody asks for this version now
	}
	if el, ok := c.items[k]; ok {
		c.lru.MoveToFront(el)
		return
	}
	c.items[k] = c.lru.PushFront(&item{key: k, entry: e, cost: cost})
	c.used += cost
	c.evict()
}

// evict drops the least recently used entries until the cache is within
// its limit; c.mu is held.
func (c *Cache) evict() {
	for c.used > c.limit && c.lru.Len() > 0 {
		old := c.lru.Back()
		it := old.Value.(*item)
		c.lru.Remove(old)
		delete(c.items, it.key)
		c.used -= it.cost
		c.evictions.Add(1)
	}
}

// Purge drops every tile and refuses tiles of versions before version, so
// a render that started before the data changed cannot put its stale tile
// back.
func (c *Cache) Purge(version int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.floor = max(c.floor, version)
	c.items = map[Key]*list.Element{}
	c.lru.Init()
	c.used = 0
}

// Plain returns entry e of key k uncompressed. The first call inflates it;
// the bytes are then kept with the entry, counted against the cache's
// limit, so clients that do not accept gzip are served from memory as
// fast as those that do, and a cache whose clients all take gzip holds
// only the compressed tiles.
func (c *Cache) Plain(k Key, e *Entry) ([]byte, error) {
	if p := e.raw.Load(); p != nil {
		return *p, nil
	}
	raw, err := Gunzip(e.Gzip, e.Size)
	if err != nil {
		return nil, err
	}
	if !e.raw.CompareAndSwap(nil, &raw) {
		return *e.raw.Load(), nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok || el.Value.(*item).entry != e {
		return raw, nil // not (or no longer) cached: nothing to count
	}
	it := el.Value.(*item)
	it.cost += int64(len(raw))
	c.used += int64(len(raw))
	c.evict()
	return raw, nil
}

// Stats are a cache's counters since it was made.
type Stats struct {
	Limit, Used, Entries             int64
	Hits, Misses, Renders, Evictions int64
}

// Stats reports the cache's size and counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	used, n := c.used, int64(len(c.items))
	c.mu.Unlock()
	return Stats{Limit: max(c.limit, 0), Used: used, Entries: n,
		Hits: c.hits.Load(), Misses: c.misses.Load(), Renders: c.renders.Load(), Evictions: c.evictions.Load()}
}
