package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/catalog/demo"
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
// reports p50 and p99 of each and what Meridian adds. Meridian runs twice,
// side by side: the demo's (store.sync full, the default: each decision
// record is fdatasync'd before its statement leaves) and a second process
// with store.sync normal (records reach the operating system, not the
// disk, before the statement leaves).
func BenchmarkAddedLatency(b *testing.B) {
	normal := startNormalSync(b, shared(b))
	bare := startBareProxy(b, shared(b).engines[benchRegion])
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
			bases := []string{engine, s.plain, normal, bare}
			// Warm up every path; check the proxied ones really go to the
			// engine measured directly.
			for range 20 {
				for _, base := range bases {
					res, err := c.run(ctx, base, bc.sql, h)
					if err != nil || res.Error != nil || res.RowCount != 1 || (base != engine && base != bare && res.Cluster != benchRegion+"-1") {
						b.Fatalf("%s: %v %+v on %q", base, err, res.Error, res.Cluster)
					}
				}
			}
			lat := make([][]time.Duration, len(bases))
			pages := make([]int, len(bases))
			b.ResetTimer()
			for i := range bc.runs {
				// Rotate which goes first, so none always meets a warmer
				// engine.
				for k := range bases {
					j := (i + k) % len(bases)
					t0 := time.Now()
					res, err := c.run(ctx, bases[j], bc.sql, h)
					d := time.Since(t0)
					if err != nil || res.Error != nil {
						b.Fatalf("%s: %v %+v", bases[j], err, res.Error)
					}
					lat[j], pages[j] = append(lat[j], d), pages[j]+res.Pages
				}
			}
			b.StopTimer()
			dp50, dp99 := percentile(lat[0], 50), percentile(lat[0], 99)
			fp50, fp99 := percentile(lat[1], 50), percentile(lat[1], 99)
			np50, np99 := percentile(lat[2], 50), percentile(lat[2], 99)
			bp50, bp99 := percentile(lat[3], 50), percentile(lat[3], 99)
			b.ReportMetric(ms(dp50), "direct-p50-ms")
			b.ReportMetric(ms(dp99), "direct-p99-ms")
			b.ReportMetric(ms(fp50), "proxied-p50-ms")
			b.ReportMetric(ms(fp99), "proxied-p99-ms")
			b.ReportMetric(ms(fp50-dp50), "added-p50-ms")
			b.ReportMetric(ms(fp99-dp99), "added-p99-ms")
			b.ReportMetric(ms(np50-dp50), "added-normal-p50-ms")
			b.ReportMetric(ms(np99-dp99), "added-normal-p99-ms")
			b.ReportMetric(ms(bp50-dp50), "added-bare-proxy-p50-ms")
			b.ReportMetric(ms(bp99-dp99), "added-bare-proxy-p99-ms")
			b.ReportMetric(float64(pages[0])/float64(len(lat[0])), "direct-requests/stmt")
			b.ReportMetric(float64(pages[1])/float64(len(lat[1])), "proxied-requests/stmt")
			b.Logf("%s, %d runs each: direct p50 %.3f ms p99 %.3f ms; through Meridian (store.sync full) p50 %.3f ms p99 %.3f ms, added p50 %.3f ms p99 %.3f ms; "+
				"through Meridian (store.sync normal) p50 %.3f ms p99 %.3f ms, added p50 %.3f ms p99 %.3f ms; "+
				"through a bare pass-through proxy p50 %.3f ms p99 %.3f ms, added p50 %.3f ms p99 %.3f ms (%.1f requests per statement)",
				bc.name, bc.runs, ms(dp50), ms(dp99), ms(fp50), ms(fp99), ms(fp50-dp50), ms(fp99-dp99),
				ms(np50), ms(np99), ms(np50-dp50), ms(np99-dp99), ms(bp50), ms(bp99), ms(bp50-dp50), ms(bp99-dp99),
				float64(pages[1])/float64(len(lat[1])))
		})
	}
}

// bareProxyEnv makes the test binary a bare pass-through proxy to the URL
// it holds (see startBareProxy).
const bareProxyEnv = "MERIDIAN_E2E_BARE_PROXY"

// startBareProxy starts this test binary again as the least any HTTP proxy
// does: each request forwarded to upstream and each reply relayed, its
// URIs pointed back at the proxy; no parsing, policy, record or tokens. Its
// added latency is the floor of one more process and hop on this machine.
func startBareProxy(b *testing.B, upstream string) string {
	b.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), bareProxyEnv+"="+upstream)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("bare proxy did not start: %v", err)
	}
	return strings.TrimSpace(line)
}

// runBareProxy serves as the bare proxy and prints its URL.
func runBareProxy(upstream string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	self := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	fmt.Println(self)
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, upstream+r.URL.RequestURI(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Header, req.ContentLength = r.Header.Clone(), r.ContentLength
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		body = bytes.ReplaceAll(body, []byte(upstream), []byte(self))
		for k, v := range resp.Header {
			if strings.HasPrefix(k, "X-Trino-") || k == "Content-Type" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	}))
}

// startNormalSync starts a second Meridian (meridian serve) over the same
// lake and engines with store.sync normal and its own state, and returns
// its URL; it stops when the benchmark ends.
func startNormalSync(b *testing.B, s *system) string {
	b.Helper()
	tmp := b.TempDir()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "dir: %q\nstore: {path: %q, sync: normal}\nserve: {listen: \"127.0.0.1:0\", insecure_trust_user_header: true, users_file: %q}\nclusters:\n  regions:\n",
		s.dir, filepath.Join(tmp, "state.db"), filepath.Join(s.dir, "users.yaml"))
	for r := range s.engines {
		fmt.Fprintf(&cfg, "    - {name: %s, jurisdiction: %s}\n", r, demo.Jurisdiction(r))
	}
	cfg.WriteString("  clusters:\n")
	for r, u := range s.engines {
		fmt.Fprintf(&cfg, "    - {name: %s-1, region: %s, url: %q}\n", r, r, u)
	}
	path := filepath.Join(tmp, "meridian.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(s.bin, "meridian"), "serve", "--config", path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "meridian listening on "); ok && strings.HasPrefix(u, "http://") {
			go io.Copy(io.Discard, out)
			return u
		}
	}
	b.Fatalf("meridian serve --config %s did not start:\n%s", path, cfg.String())
	return ""
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
