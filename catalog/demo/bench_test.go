package demo_test

import (
	"testing"

	"github.com/meridian-lake/meridian/catalog/demo"
)

// BenchmarkInit builds the demo lake at its default sizes (in practice b.N
// is 1): 600,000 bookings, 150,000 guests, 5,000 listings and TPC-H at scale
// 0.01 in local warehouses.
func BenchmarkInit(b *testing.B) {
	b.ReportAllocs()
	var rows, secs float64
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		cat := newCatalog(b, dir)
		b.StartTimer()
		sum, err := demo.Init(b.Context(), demo.Config{Dir: dir}, cat)
		if err != nil {
			b.Fatal(err)
		}
		rows += float64(sum.Rows)
		secs += sum.Elapsed.Seconds()
	}
	b.ReportMetric(secs/float64(b.N), "s/init")
	b.ReportMetric(rows/secs, "rows/s")
}
