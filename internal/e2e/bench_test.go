package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks compare Meridian with the engine it routes to, side by
// side in one run: the same minimal client, the same engine (us-1, where
// sam's table-less and TPC-H statements go), requests interleaved. Each
// measures a fixed number of statements, whatever b.N is, and reports its
// figures as metrics; targets are in the issue, not asserted here.

const (
	benchUser   = "sam"
	benchRegion = "us"
	benchTPCH   = "SELECT sum(extendedprice * discount) AS revenue FROM iceberg.tpch.lineitem " +
		"WHERE shipdate >= DATE '1994-01-01' AND shipdate < DATE '1995-01-01' AND discount BETWEEN 0.05 AND 0.07 AND quantity < 24"
	benchMillion = "SELECT a.suppkey, b.suppkey, c.suppkey FROM iceberg.tpch.supplier a " +
		"CROSS JOIN iceberg.tpch.supplier b CROSS JOIN iceberg.tpch.supplier c"
)

// BenchmarkAddedLatency: full statement round trips (POST, then every
// nextUri), direct to the engine and through Meridian, interleaved;
// reports p50 and p99 of each and what Meridian adds.
func BenchmarkAddedLatency(b *testing.B) {
	for _, bc := range []struct {
		name, sql string
		runs      int
	}{
		{"SELECT1", "SELECT 1", 2000},
		{"TPCH_Q6", benchTPCH, 2000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := shared(b)
			ctx := context.Background()
			c := newRawClient(16)
			h := userHeader(benchUser)
			engine := s.engines[benchRegion]
			// Warm up both paths; check the proxied one really goes to
			// the engine measured directly.
			for range 20 {
				res, err := c.run(ctx, s.plain, bc.sql, h)
				if err != nil || res.Error != nil || res.Cluster != benchRegion+"-1" || res.RowCount != 1 {
					b.Fatalf("through Meridian: %v %+v on %q", err, res.Error, res.Cluster)
				}
				if res, err = c.run(ctx, engine, bc.sql, h); err != nil || res.Error != nil || res.RowCount != 1 {
					b.Fatalf("direct: %v %+v", err, res.Error)
				}
			}
			direct := make([]time.Duration, 0, bc.runs)
			proxied := make([]time.Duration, 0, bc.runs)
			var directPages, proxiedPages int
			b.ResetTimer()
			for i := range bc.runs {
				// Alternate which goes first, so neither always meets a
				// warmer engine.
				order := []string{engine, s.plain}
				if i%2 == 1 {
					order[0], order[1] = order[1], order[0]
				}
				for _, base := range order {
					t0 := time.Now()
					res, err := c.run(ctx, base, bc.sql, h)
					d := time.Since(t0)
					if err != nil || res.Error != nil {
						b.Fatalf("%s: %v %+v", base, err, res.Error)
					}
					if base == engine {
						direct, directPages = append(direct, d), directPages+res.Pages
					} else {
						proxied, proxiedPages = append(proxied, d), proxiedPages+res.Pages
					}
				}
			}
			b.StopTimer()
			dp50, dp99 := percentile(direct, 50), percentile(direct, 99)
			pp50, pp99 := percentile(proxied, 50), percentile(proxied, 99)
			b.ReportMetric(ms(dp50), "direct-p50-ms")
			b.ReportMetric(ms(dp99), "direct-p99-ms")
			b.ReportMetric(ms(pp50), "proxied-p50-ms")
			b.ReportMetric(ms(pp99), "proxied-p99-ms")
			b.ReportMetric(ms(pp50-dp50), "added-p50-ms")
			b.ReportMetric(ms(pp99-dp99), "added-p99-ms")
			b.ReportMetric(float64(directPages)/float64(len(direct)), "direct-requests/stmt")
			b.ReportMetric(float64(proxiedPages)/float64(len(proxied)), "proxied-requests/stmt")
			b.Logf("%s, %d runs each: direct p50 %.3f ms p99 %.3f ms; proxied p50 %.3f ms p99 %.3f ms; added p50 %.3f ms p99 %.3f ms (%.1f requests per statement)",
				bc.name, bc.runs, ms(dp50), ms(dp99), ms(pp50), ms(pp99), ms(pp50-dp50), ms(pp99-dp99), float64(proxiedPages)/float64(len(proxied)))
		})
	}
}

// BenchmarkStreaming: a 1,000,000-row result direct and through Meridian,
// interleaved; reports rows/s of each, their ratio, and Meridian's RSS
// sampled while the proxied results are in flight.
func BenchmarkStreaming(b *testing.B) {
	s := shared(b)
	ctx := context.Background()
	c := newRawClient(4)
	h := userHeader(benchUser)
	engine := s.engines[benchRegion]
	const runs = 5
	var direct, proxied []time.Duration
	rssBefore, err := rss(s.pid)
	if err != nil {
		b.Fatal(err)
	}
	anonBefore, err := anon(s.pid)
	if err != nil {
		b.Fatal(err)
	}
	var rssMax, anonMax atomic.Int64
	for i := range runs {
		for j, base := range []string{engine, s.plain} {
			if i%2 == 1 {
				base = []string{s.plain, engine}[j]
			}
			var stop chan struct{}
			var sampled sync.WaitGroup
			if base == s.plain {
				stop = make(chan struct{})
				sampled.Go(func() {
					t := time.NewTicker(5 * time.Millisecond)
					defer t.Stop()
					for {
						if v, err := rss(s.pid); err == nil && v > rssMax.Load() {
							rssMax.Store(v)
						}
						if v, err := anon(s.pid); err == nil && v > anonMax.Load() {
							anonMax.Store(v)
						}
						select {
						case <-stop:
							return
						case <-t.C:
						}
					}
				})
			}
			t0 := time.Now()
			res, err := c.run(ctx, base, benchMillion, h)
			d := time.Since(t0)
			if stop != nil {
				close(stop)
				sampled.Wait()
			}
			if err != nil || res.Error != nil || res.RowCount != 1_000_000 {
				b.Fatalf("%s: %v %+v, %d rows", base, err, res.Error, res.RowCount)
			}
			if base == engine {
				direct = append(direct, d)
			} else {
				proxied = append(proxied, d)
			}
		}
	}
	dMed, pMed := percentile(direct, 50), percentile(proxied, 50)
	dRate, pRate := 1e6/dMed.Seconds(), 1e6/pMed.Seconds()
	b.ReportMetric(dRate, "direct-rows/s")
	b.ReportMetric(pRate, "proxied-rows/s")
	b.ReportMetric(pRate/dRate, "proxied/direct")
	b.ReportMetric(float64(rssBefore)/(1<<20), "rss-before-MB")
	b.ReportMetric(float64(rssMax.Load())/(1<<20), "rss-max-MB")
	b.ReportMetric(float64(anonBefore)/(1<<20), "anon-before-MB")
	b.ReportMetric(float64(anonMax.Load())/(1<<20), "anon-max-MB")
	b.Logf("1,000,000 rows, median of %d: direct %v (%.0f rows/s), proxied %v (%.0f rows/s), ratio %.3f; Meridian RSS %.1f MB before, at most %.1f MB with the result in flight (of which anonymous memory %.1f MB before, at most %.1f MB; the rest is the binary's pages)",
		runs, dMed.Round(time.Millisecond), dRate, pMed.Round(time.Millisecond), pRate, pRate/dRate,
		float64(rssBefore)/(1<<20), float64(rssMax.Load())/(1<<20), float64(anonBefore)/(1<<20), float64(anonMax.Load())/(1<<20))
}

// BenchmarkConcurrentPolling: 2,000 statements at once through Meridian,
// each POST and poll to completion; reports errors (want 0) and time.
func BenchmarkConcurrentPolling(b *testing.B) {
	s := shared(b)
	const n = 2000
	c := newRawClient(n)
	c.http.Timeout = 5 * time.Minute
	h := userHeader(benchUser)
	var errs atomic.Int64
	var first sync.Once
	var firstErr string
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			res, err := c.run(context.Background(), s.plain, "SELECT 1", h)
			if err == nil && res.Error != nil {
				err = fmt.Errorf("%s: %s", res.Error.ErrorName, res.Error.Message)
			}
			if err == nil && res.RowCount != 1 {
				err = fmt.Errorf("%d rows", res.RowCount)
			}
			if err != nil {
				errs.Add(1)
				first.Do(func() { firstErr = err.Error() })
			}
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(t0)
	b.ReportMetric(float64(errs.Load()), "errors")
	b.ReportMetric(took.Seconds(), "wall-s")
	b.ReportMetric(n/took.Seconds(), "stmts/s")
	b.Logf("%d concurrent polling statements: %d errors in %v (%.0f statements/s)%s", n, errs.Load(), took.Round(time.Millisecond), n/took.Seconds(),
		map[bool]string{true: "; first error: " + firstErr, false: ""}[firstErr != ""])
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// rss reads VmRSS of pid in bytes.
func rss(pid int) (int64, error) { return statusBytes(pid, "VmRSS:") }

// anon is the part of the resident set that is not file-backed: heap,
// stacks, buffers (the rest is the binary's pages).
func anon(pid int) (int64, error) { return statusBytes(pid, "RssAnon:") }

func statusBytes(pid int, key string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, key); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", key, pid)
}
