package catalog

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// CacheStats are the resolution cache's counters since start.
type CacheStats struct {
	Hits   uint64 `json:"hits"`
	Misses uint64 `json:"misses"`
	// Loads counts catalog reads; concurrent misses for one table share one.
	Loads   uint64 `json:"loads"`
	Entries int    `json:"entries"`
}

type cacheEntry struct {
	info    *TableInfo
	expires time.Time
	gen     uint64 // the invalidation generation it was loaded in
}

// cache is a TTL cache of resolved tables. Concurrent misses for one table
// collapse into one load (singleflight); invalidation bumps a generation so a
// load that started before an invalidation cannot store stale data after it.
type cache struct {
	ttl  time.Duration
	max  int
	load func(context.Context, TableRef) (*TableInfo, error)
	now  func() time.Time

	mu      sync.RWMutex
	entries map[TableRef]cacheEntry
	gens    map[TableRef]uint64
	flight  singleflight.Group

	hits, misses, loads atomic.Uint64
}

func newCache(ttl time.Duration, max int, load func(context.Context, TableRef) (*TableInfo, error)) *cache {
	return &cache{ttl: ttl, max: max, load: load, now: time.Now,
		entries: map[TableRef]cacheEntry{}, gens: map[TableRef]uint64{}}
}

func (c *cache) get(ctx context.Context, ref TableRef) (*TableInfo, error) {
	c.mu.RLock()
	e, ok := c.entries[ref]
	c.mu.RUnlock()
	if ok && c.now().Before(e.expires) {
		c.hits.Add(1)
		return e.info, nil
	}
	c.misses.Add(1)
	ch := c.flight.DoChan(ref.String(), func() (any, error) {
		c.mu.RLock()
		gen := c.gens[ref]
		c.mu.RUnlock()
		c.loads.Add(1)
		// The load outlives any one caller: a cancelled caller must not fail
		// the others waiting on it, so it runs without their cancellation.
		info, err := c.load(context.WithoutCancel(ctx), ref)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.gens[ref] == gen && c.ttl > 0 {
			if len(c.entries) >= c.max {
				c.evictLocked()
			}
			c.entries[ref] = cacheEntry{info: info, expires: c.now().Add(c.ttl), gen: gen}
		}
		c.mu.Unlock()
		return info, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*TableInfo), nil
	}
}

// evictLocked drops expired entries, or, if none, an arbitrary tenth.
func (c *cache) evictLocked() {
	now := c.now()
	n := 0
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
			n++
		}
	}
	if n > 0 {
		return
	}
	drop := len(c.entries)/10 + 1
	for k := range c.entries {
		if drop == 0 {
			break
		}
		delete(c.entries, k)
		drop--
	}
}

func (c *cache) invalidate(ref TableRef) {
	c.mu.Lock()
	delete(c.entries, ref)
	c.gens[ref]++
	c.mu.Unlock()
	c.flight.Forget(ref.String())
}

func (c *cache) stats() CacheStats {
	c.mu.RLock()
	n := len(c.entries)
	c.mu.RUnlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Loads: c.loads.Load(), Entries: n}
}
