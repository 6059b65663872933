package lifecycle

import (
	"context"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/internal/s3test"
)

// BenchmarkApply moves 200 small objects (20 partitions) on versitygw
// through the storage-class simulator with the journal on, unthrottled,
// 8 partitions at once, and reports objects moved per second. Between
// iterations the simulator puts the objects back in STANDARD.
func BenchmarkApply(b *testing.B) {
	ctx := context.Background()
	srv := s3test.Start(b, "lake")
	plan := syntheticLake(b, srv.Client(b), 20, 10, GlacierIR)
	db := openStore(b)
	sim, err := NewSimulatedStorageClasses(ctx, NewS3Store(srv.Client(b)), db, usPricer(b), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	ex, err := NewExecutor(ctx, db, sim, ExecConfig{Apply: true, ObjectsPerSecond: 1e6, Concurrency: 8})
	if err != nil {
		b.Fatal(err)
	}
	var moved int64
	start := time.Now()
	var paused time.Duration
	for b.Loop() {
		res, err := ex.Run(ctx, plan)
		if err != nil {
			b.Fatal(err)
		}
		if res.Copied != 200 {
			b.Fatalf("copied %d, want 200", res.Copied)
		}
		moved += res.Copied
		p := time.Now()
		b.StopTimer()
		for _, a := range plan.Actions {
			if _, err := List(ctx, sim, a.Bucket, []string{a.Prefix}, ListConfig{}, func(o Object) error {
				return sim.SetClass(ctx, o.Bucket, o.Key, Standard, time.Now())
			}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		paused += time.Since(p)
	}
	b.ReportMetric(float64(moved)/(time.Since(start)-paused).Seconds(), "objects/s")
}
