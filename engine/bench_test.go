package engine_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkStream1M streams a 1,000,000-row, two-column SELECT to the real
// trino-go-client and reports rows per second and the process's peak RSS
// (VmHWM: client and server run in this one process).
func BenchmarkStream1M(b *testing.B) {
	te := startEngine(b, newProtoLake(b), nil)
	db := te.client(b, "")
	const q = "SELECT x, x * 2 AS y FROM UNNEST(range(1000000)) AS t(x)"
	b.ReportAllocs()
	b.ResetTimer()
	var total int64
	for b.Loop() {
		rows, err := db.Query(q)
		if err != nil {
			b.Fatal(err)
		}
		var n int64
		for rows.Next() {
			var x, y int64
			if err := rows.Scan(&x, &y); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		rows.Close()
		if n != 1_000_000 {
			b.Fatalf("%d rows", n)
		}
		total += n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "rows/s")
	if kb := peakRSSKiB(); kb > 0 {
		b.ReportMetric(float64(kb)/1024, "peak-RSS-MiB")
	}
}

// peakRSSKiB reads VmHWM from /proc/self/status (0 where there is none).
func peakRSSKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
