package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// ListConfig bounds a listing.
type ListConfig struct {
	// Concurrency is how many prefixes are listed at once (default 8).
	Concurrency int
	// RequestsPerSecond caps ListObjectsV2 calls across all prefixes
	// (default 100; S3 allows 5,500 GETs per second per prefix, but
	// listing shares the bucket with queries).
	RequestsPerSecond float64
	// MaxAttempts bounds the attempts per page on throttling, timeouts and
	// 5xx answers (default 8).
	MaxAttempts int
	// BaseBackoff is the first retry's wait ceiling; it doubles per
	// attempt up to MaxBackoff (defaults 50 ms and 5 s), with full jitter.
	BaseBackoff, MaxBackoff time.Duration
	// PageSize is the MaxKeys of each call (default and S3's limit 1000).
	PageSize int32
}

func (c ListConfig) withDefaults() ListConfig {
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.RequestsPerSecond <= 0 {
		c.RequestsPerSecond = 100
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = 50 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.PageSize <= 0 || c.PageSize > 1000 {
		c.PageSize = 1000
	}
	return c
}

// ListStats counts what a listing did.
type ListStats struct {
	Objects int64
	Pages   int64
	// Retries counts attempts after a retryable failure.
	Retries int64
}

// List streams every object under each of prefixes in bucket to fn. The
// prefixes are listed concurrently (ListConfig.Concurrency at once), page by
// page, under one rate limit, each page retried with backoff on throttling
// and 5xx answers. fn is called from the calling goroutine only, one object
// at a time, so it needs no locking; at most Concurrency pages are held in
// memory. The first error (from S3, after retries, or from fn) stops the
// listing and is returned.
func List(ctx context.Context, store ObjectStore, bucket string, prefixes []string, cfg ListConfig, fn func(Object) error) (ListStats, error) {
	cfg = cfg.withDefaults()
	var stats ListStats
	var retries, pages atomic.Int64
	lim := newLimiter(cfg.RequestsPerSecond)

	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(lctx)
	pageCh := make(chan []Object, cfg.Concurrency)
	work := make(chan string)
	g.Go(func() error {
		defer close(work)
		for _, p := range prefixes {
			select {
			case work <- p:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	var workers sync.WaitGroup
	for range min(cfg.Concurrency, max(len(prefixes), 1)) {
		workers.Add(1)
		g.Go(func() error {
			defer workers.Done()
			for prefix := range work {
				token := ""
				for {
					page, err := listPageRetrying(gctx, store, bucket, prefix, token, cfg, lim, &retries)
					if err != nil {
						return err
					}
					pages.Add(1)
					select {
					case pageCh <- page.Objects:
					case <-gctx.Done():
						return gctx.Err()
					}
					if page.Next == "" {
						break
					}
					token = page.Next
				}
			}
			return nil
		})
	}
	go func() {
		workers.Wait()
		close(pageCh)
	}()

	var fnErr error
	for objs := range pageCh {
		if fnErr != nil {
			continue // drain so the workers can finish
		}
		for _, o := range objs {
			if err := fn(o); err != nil {
				fnErr = err
				break
			}
			stats.Objects++
		}
		if fnErr != nil {
			cancel() // stop the workers; the loop drains what they sent
		}
	}
	err := g.Wait()
	stats.Pages, stats.Retries = pages.Load(), retries.Load()
	if fnErr != nil {
		return stats, fnErr
	}
	if err != nil {
		return stats, fmt.Errorf("list s3://%s: %w", bucket, err)
	}
	return stats, ctx.Err()
}

func listPageRetrying(ctx context.Context, store ObjectStore, bucket, prefix, token string, cfg ListConfig, lim *limiter, retries *atomic.Int64) (Page, error) {
	for attempt := 1; ; attempt++ {
		if err := lim.wait(ctx); err != nil {
			return Page{}, err
		}
		page, err := store.ListPage(ctx, bucket, prefix, token, cfg.PageSize)
		if err == nil {
			return page, nil
		}
		if !retryable(err) || attempt >= cfg.MaxAttempts {
			if attempt > 1 {
				return Page{}, fmt.Errorf("after %d attempts: %w", attempt, err)
			}
			return Page{}, err
		}
		retries.Add(1)
		ceiling := min(cfg.BaseBackoff<<(attempt-1), cfg.MaxBackoff)
		t := time.NewTimer(rand.N(ceiling) + 1)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Page{}, ctx.Err()
		}
	}
}

// limiter is a token bucket: rate tokens a second, bursts of up to one
// second's worth.
type limiter struct {
	mu     sync.Mutex
	rate   float64
	tokens float64
	last   time.Time
}

func newLimiter(rate float64) *limiter {
	return &limiter{rate: rate, tokens: 1, last: time.Now()}
}

var errLimiterClosed = errors.New("rate limiter: context done")

// wait blocks until a token is free or ctx ends.
func (l *limiter) wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := time.Now()
		l.tokens = min(l.tokens+now.Sub(l.last).Seconds()*l.rate, max(l.rate, 1))
		l.last = now
		if l.tokens >= 1 {
			l.tokens--
			l.mu.Unlock()
			return nil
		}
		need := time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
		l.mu.Unlock()
		t := time.NewTimer(need)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %w", errLimiterClosed, ctx.Err())
		}
	}
}
