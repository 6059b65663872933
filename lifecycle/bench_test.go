package lifecycle

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/internal/s3test"
)

// Targets of the planning benchmark (the "make bench" line).
const (
	benchObjects   = 10_000_000
	benchTables    = 10
	benchPartsPerT = 1_000 // 10,000 partitions of 1,000 objects
	benchMaxTime   = 60 * time.Second
	benchMaxRSSMB  = 1024
)

// syntheticInventory streams n objects to fn without holding them: keys
// are built in one reused buffer, sizes and classes come from a xorshift
// generator, so the same n gives the same inventory.
func syntheticInventory(n int, now time.Time, fn func(Object) error) error {
	buf := make([]byte, 0, 128)
	state := uint64(88172645463325252)
	perPart := n / (benchTables * benchPartsPerT)
	for i := range n {
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		part := i / max(perPart, 1)
		table, d := part%benchTables, part/benchTables
		buf = append(buf[:0], "warehouse/eu.db/t"...)
		buf = strconv.AppendInt(buf, int64(table), 10)
		buf = append(buf, "/data/day="...)
		buf = strconv.AppendInt(buf, int64(d), 10)
		buf = append(buf, "/part-"...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, ".parquet"...)
		class := Standard
		switch state % 10 {
		case 0:
			class = StandardIA
		case 1:
			class = GlacierIR
		}
		o := Object{Bucket: "lake-eu", Key: string(buf), Size: int64(state%(256<<20)) + 1,
			LastModified: now.Add(-time.Duration(d) * day), Class: class}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// vmHWM returns the process's peak resident set size in MB from
// /proc/self/status (Linux), or -1.
func vmHWM() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return -1
			}
			return kb / 1024
		}
	}
	return -1
}

// BenchmarkPlan10M: aggregate a streamed inventory of 10,000,000 objects
// per partition and plan it. Targets: under 60 s and a peak RSS (VmHWM of
// the benchmark process) under 1 GB.
func BenchmarkPlan10M(b *testing.B) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	hist := &RecordedHistory{Since: now.Add(-3 * 365 * day), Reads: map[[2]string]Access{}}
	for d := range 30 { // the last 30 days of every table are read
		for t := range benchTables {
			hist.Reads[[2]string{"warehouse/eu.db/t" + strconv.Itoa(t), "day=" + strconv.Itoa(d)}] = Access{Last: now.Add(-day), Count: 10}
		}
	}
	o, err := NewOptimizer(Config{Budgets: []RegionBudget{{Region: "eu", PriceRegion: "eu-central-1", Monthly: Dollars(20_000)}}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var plan *Plan
	start := time.Now()
	iters := 0
	for b.Loop() {
		a := NewAggregator(now, map[string]string{"lake-eu": "eu"}, nil)
		if err := syntheticInventory(benchObjects, now, a.Add); err != nil {
			b.Fatal(err)
		}
		if plan, err = o.Plan(context.Background(), a.Groups(), hist, now); err != nil {
			b.Fatal(err)
		}
		iters++
	}
	per := time.Since(start) / time.Duration(iters)
	rss := vmHWM()
	b.ReportMetric(float64(per.Nanoseconds())/benchObjects, "ns/object")
	b.ReportMetric(rss, "VmHWM-MB")
	r := plan.Regions[0]
	b.Logf("10M objects: %v per plan, %d actions, now %s, projected %s (budget %s, meets %v), VmHWM %.0f MB",
		per.Round(time.Millisecond), len(plan.Actions), r.Current, r.Projected, r.Budget, r.MeetsBudget, rss)
	if per > benchMaxTime {
		b.Errorf("plan over 10M objects took %v, target %v", per, benchMaxTime)
	}
	if rss > benchMaxRSSMB {
		b.Errorf("peak RSS %.0f MB, target %d MB", rss, benchMaxRSSMB)
	}
}

// BenchmarkListVersitygw: objects per second through List (8 prefixes
// concurrently, 1000-key pages) against versitygw on loopback.
func BenchmarkListVersitygw(b *testing.B) {
	srv := s3test.Start(b, "lake")
	c := srv.Client(b)
	const prefixes, perPrefix = 8, 1000
	var ps []string
	for p := range prefixes {
		prefix := fmt.Sprintf("w/t/data/p=%d/", p)
		ps = append(ps, prefix)
		putObjects(b, c, "lake", prefix, perPrefix, 100)
	}
	st := NewS3Store(c)
	cfg := ListConfig{RequestsPerSecond: 10_000}
	b.ReportAllocs()
	var total int64
	start := time.Now()
	for b.Loop() {
		stats, err := List(context.Background(), st, "lake", ps, cfg, func(Object) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		if stats.Objects != prefixes*perPrefix {
			b.Fatalf("listed %d objects, want %d", stats.Objects, prefixes*perPrefix)
		}
		total += stats.Objects
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "objects/s")
}
