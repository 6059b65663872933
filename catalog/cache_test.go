package catalog

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestCacheTTLAndInvalidation(t *testing.T) {
	var loads atomic.Int64
	c := newCache(30*time.Second, 10, func(_ context.Context, r TableRef) (*TableInfo, error) {
		loads.Add(1)
		return &TableInfo{Ref: r}, nil
	})
	now := time.Unix(1_700_000_000, 0)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	r := TableRef{"iceberg", "eu", "guests"}

	step := func(advance time.Duration, wantLoads int64) {
		t.Helper()
		now = now.Add(advance)
		if _, err := c.get(ctx, r); err != nil {
			t.Fatal(err)
		}
		if got := loads.Load(); got != wantLoads {
			t.Fatalf("after +%s: %d loads, want %d", advance, got, wantLoads)
		}
	}
	step(0, 1)              // cold
	step(29*time.Second, 1) // fresh: a hit
	step(2*time.Second, 2)  // expired: reloaded
	c.invalidate(r)
	step(0, 3) // invalidated: reloaded at once
	if s := c.stats(); s.Hits != 1 || s.Misses != 3 || s.Loads != 3 || s.Entries != 1 {
		t.Errorf("stats = %+v, want 1 hit, 3 misses, 3 loads, 1 entry", s)
	}
}

func TestCacheDoesNotKeepErrorsOrStaleLoads(t *testing.T) {
	fail := true
	release := make(chan struct{})
	c := newCache(time.Minute, 10, func(_ context.Context, r TableRef) (*TableInfo, error) {
		if fail {
			return nil, errors.New("catalog down")
		}
		<-release
		return &TableInfo{Ref: r, Location: "old"}, nil
	})
	ctx := context.Background()
	r := TableRef{"iceberg", "eu", "guests"}
	if _, err := c.get(ctx, r); err == nil {
		t.Fatal("want the load error")
	}
	if s := c.stats(); s.Entries != 0 {
		t.Fatalf("an error was cached: %+v", s)
	}
	// A load that began before an invalidation must not be stored after it.
	fail = false
	done := make(chan struct{})
	go func() { c.get(ctx, r); close(done) }()
	for c.stats().Loads < 2 {
		time.Sleep(time.Millisecond) // wait until the load is under way
	}
	c.invalidate(r)
	close(release)
	<-done
	if s := c.stats(); s.Entries != 0 {
		t.Errorf("a load older than an invalidation was cached: %+v", s)
	}
}

func TestCacheBounded(t *testing.T) {
	c := newCache(time.Minute, 5, func(_ context.Context, r TableRef) (*TableInfo, error) { return &TableInfo{Ref: r}, nil })
	for i := range 50 {
		c.get(context.Background(), TableRef{"c", "s", string(rune('a' + i))})
	}
	if n := c.stats().Entries; n > 5 {
		t.Errorf("cache holds %d entries, max 5", n)
	}
}
