package planner_test

import (
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/internal/corpus"
	"github.com/meridian-lake/meridian/planner"
	"github.com/meridian-lake/meridian/planner/sql"
)

// BenchmarkPlanTPCDS measures parse + analysis over every TPC-DS statement and
// reports per-statement figures: the mean (ns/stmt, allocs/stmt), the median
// and the slowest statement. Targets: median under 100 µs, none over 1 ms.
func BenchmarkPlanTPCDS(b *testing.B) {
	benchCorpus(b, "tpcds", planner.Session{Catalog: "iceberg", Schema: "tpcds"}, func(src string, s planner.Session) {
		if a := planner.Analyze(src, s, planner.Options{}); a.Error != nil {
			b.Fatal(a.Error)
		}
	})
}

// BenchmarkParseTPCDS is parsing alone, for the share analysis adds.
func BenchmarkParseTPCDS(b *testing.B) {
	benchCorpus(b, "tpcds", planner.Session{}, func(src string, _ planner.Session) {
		if _, err := sql.Parse(src); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkPlanTrinoSyntax covers the documentation statements: many kinds,
// short texts.
func BenchmarkPlanTrinoSyntax(b *testing.B) {
	benchCorpus(b, "trino-syntax", planner.Session{Catalog: "example", Schema: "default"}, func(src string, s planner.Session) {
		planner.Analyze(src, s, planner.Options{})
	})
}

func benchCorpus(b *testing.B, set string, s planner.Session, run func(string, planner.Session)) {
	stmts, names := corpus.Statements(b, set)
	texts := make([]string, len(names))
	for i, n := range names {
		texts[i] = stmts[n]
	}
	per := make([]time.Duration, len(texts))
	var ms0, ms1 runtime.MemStats
	b.ReportAllocs()
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	for b.Loop() {
		for i, src := range texts {
			t0 := time.Now()
			run(src, s)
			per[i] += time.Since(t0)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	n := b.N
	if n == 0 {
		return
	}
	avg := make([]float64, len(per))
	var total float64
	worst := 0
	for i, d := range per {
		avg[i] = float64(d.Nanoseconds()) / float64(n)
		total += avg[i]
		if avg[i] > avg[worst] {
			worst = i
		}
	}
	sorted := slices.Clone(avg)
	slices.Sort(sorted)
	b.ReportMetric(total/float64(len(avg)), "ns/stmt")
	b.ReportMetric(sorted[len(sorted)/2], "median-ns/stmt")
	b.ReportMetric(sorted[len(sorted)-1], "max-ns/stmt")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(n)/float64(len(texts)), "allocs/stmt")
	b.Logf("%d statements; slowest %s: %.1f µs", len(texts), strings.TrimSuffix(names[worst], ".sql"), avg[worst]/1000)
}
