package tpch_test

import (
	"testing"
	"time"

	"github.com/meridian-lake/meridian/internal/tpch"
)

// BenchmarkGenerateLineitem streams lineitem at scale 0.1 (about 600,000
// rows) in batches of 8192, as the lake builder does, and reports rows/s.
func BenchmarkGenerateLineitem(b *testing.B) {
	benchTables(b, 0.1, "lineitem")
}

// BenchmarkGenerateAll generates every table at the demo scale, 0.01, from
// a fresh generator each time (text pool included).
func BenchmarkGenerateAll(b *testing.B) {
	benchTables(b, tpch.DefaultScale)
}

func benchTables(b *testing.B, scale float64, tables ...string) {
	fresh := len(tables) == 0
	if fresh {
		for _, d := range tpch.Tables() {
			tables = append(tables, d.Name)
		}
	}
	g, err := tpch.New(tpch.Config{Scale: scale})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var rows int
	var elapsed time.Duration
	for b.Loop() {
		t0 := time.Now()
		if fresh {
			if g, err = tpch.New(tpch.Config{Scale: scale}); err != nil {
				b.Fatal(err)
			}
		}
		for _, table := range tables {
			err := g.Generate(table, 8192, func(batch *tpch.Batch) error {
				rows += batch.Len()
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(t0)
	}
	b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
}
