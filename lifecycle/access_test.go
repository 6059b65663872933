package lifecycle

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/meridian-lake/meridian/internal/store"
)

func openStore(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Path: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openStore(t)
	log, err := NewAccessLog(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	// A second open of the same store keeps the history (migrations run once).
	if _, err := NewAccessLog(ctx, db); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const bookings, guests = "iceberg.eu.bookings", "iceberg.eu.guests"
	recs := []AccessRecord{
		{QueryID: "q1", At: t0.Add(-40 * day), User: "ana", Table: bookings, Partitions: []string{"check_in_day=2025-12-01", "check_in_day=2025-12-02"}, Bytes: 100},
		{QueryID: "q1", At: t0.Add(-40 * day), User: "ana", Table: guests, Bytes: 7}, // not pruned: every partition
		{QueryID: "q2", At: t0.Add(-2 * day), User: "bo", Table: bookings, Partitions: []string{"check_in_day=2025-12-02"}},
	}
	if err := log.Record(ctx, recs[:2]...); err != nil {
		t.Fatal(err)
	}
	if err := log.Record(ctx, recs[2]); err != nil {
		t.Fatal(err)
	}
	var rows, bytes int64
	if err := db.QueryRowContext(ctx, `SELECT count(*), sum(bytes) FROM lifecycle_access`).Scan(&rows, &bytes); err != nil {
		t.Fatal(err)
	}
	if rows != 4 || bytes != 107 {
		t.Errorf("%d rows holding %d bytes, want 4 rows (one per table and partition) and the two estimates, 107", rows, bytes)
	}

	sum, err := log.Summary(ctx, t0.Add(-365*day))
	if err != nil {
		t.Fatal(err)
	}
	if began, _ := log.Began(ctx); !sum.Since.Equal(began) || !began.Equal(t0.Add(-40*day)) {
		t.Errorf("Since = %v, Began = %v; want the oldest record, %v (the log was created later but holds older reads)", sum.Since, began, t0.Add(-40*day))
	}
	tests := []struct {
		table, part string
		want        Access
	}{
		{bookings, "check_in_day=2025-12-02", Access{Last: t0.Add(-2 * day), Count: 2}},
		{bookings, "check_in_day=2025-12-01", Access{Last: t0.Add(-40 * day), Count: 1}},
		{bookings, "check_in_day=2024-01-01", Access{}},
		{guests, "created_at_month=2024-01", Access{Last: t0.Add(-40 * day), Count: 1}},
		{"iceberg.us.bookings", "check_in_day=2025-12-02", Access{}},
	}
	for _, tc := range tests {
		got, err := sum.Access(ctx, tc.table, tc.part)
		if err != nil {
			t.Fatal(err)
		}
		tc.want.Since = sum.Since
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Access(%s, %s) (-want +got):\n%s", tc.table, tc.part, diff)
		}
	}
	// Since a later time, older reads are not counted.
	recent, err := log.Summary(ctx, t0.Add(-10*day))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := recent.Access(ctx, bookings, "check_in_day=2025-12-01"); a.Count != 0 || !a.Since.Equal(t0.Add(-10*day)) {
		t.Errorf("recent Access = %+v, want no reads since %v", a, t0.Add(-10*day))
	}

	// Bounded input: oversized names are refused, too many partitions are
	// recorded as a read of all of them.
	for _, bad := range []AccessRecord{
		{At: t0, Table: bookings},
		{QueryID: "q", At: t0, Table: strings.Repeat("x", 2000)},
		{QueryID: "q", Table: bookings},
		{QueryID: "q", At: t0, Table: bookings, Partitions: []string{""}},
	} {
		if err := log.Record(ctx, bad); err == nil {
			t.Errorf("Record(%+v) = nil, want an error", bad)
		}
	}
	many := make([]string, maxAccessPartitions+1)
	for i := range many {
		many[i] = "p=" + strings.Repeat("1", i%7+1)
	}
	if err := log.Record(ctx, AccessRecord{QueryID: "q3", At: t0, User: "cy", Table: "iceberg.us.big", Partitions: many}); err != nil {
		t.Fatal(err)
	}
	var part string
	if err := db.QueryRowContext(ctx, `SELECT part FROM lifecycle_access WHERE query_id = 'q3'`).Scan(&part); err != nil || part != AllPartitions {
		t.Errorf("a statement reading %d partitions is recorded as %q, %v; want %q", len(many), part, err, AllPartitions)
	}

	n, err := log.Purge(ctx, t0.Add(-10*day))
	if err != nil || n != 3 {
		t.Errorf("Purge = %d, %v; want the 3 rows older than 10 days", n, err)
	}
	if began, _ := log.Began(ctx); !began.Equal(t0.Add(-2 * day)) {
		t.Errorf("after Purge, Began = %v, want the oldest kept record %v", began, t0.Add(-2*day))
	}
}

func BenchmarkAccessRecord(b *testing.B) {
	ctx := context.Background()
	log, err := NewAccessLog(ctx, openStore(b))
	if err != nil {
		b.Fatal(err)
	}
	rec := AccessRecord{QueryID: "q", At: time.Now(), User: "ana", Table: "iceberg.eu.bookings",
		Partitions: []string{"check_in_day=2025-12-01", "check_in_day=2025-12-02", "check_in_day=2025-12-03"}, Bytes: 1 << 20}
	b.ReportAllocs()
	for b.Loop() {
		if err := log.Record(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAccessLogConcurrent records from many goroutines at once (group
// commit) and checks that every statement's rows are there.
func TestAccessLogConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openStore(t)
	log, err := NewAccessLog(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 16, 25
	var g errgroup.Group
	for w := range workers {
		g.Go(func() error {
			for i := range each {
				if err := log.Record(ctx, AccessRecord{QueryID: fmt.Sprintf("q%d-%d", w, i), At: time.Now(), User: "u",
					Table: "iceberg.eu.bookings", Partitions: []string{"check_in_day=2025-12-01", "check_in_day=2025-12-02"}}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	sum, err := log.Summary(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := sum.Access(ctx, "iceberg.eu.bookings", "check_in_day=2025-12-02"); a.Count != workers*each {
		t.Errorf("count %d, want %d statements", a.Count, workers*each)
	}
}

func BenchmarkAccessRecordParallel(b *testing.B) {
	ctx := context.Background()
	log, err := NewAccessLog(ctx, openStore(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		rec := AccessRecord{QueryID: "q", At: time.Now(), User: "ana", Table: "iceberg.eu.bookings",
			Partitions: []string{"check_in_day=2025-12-01", "check_in_day=2025-12-02", "check_in_day=2025-12-03"}, Bytes: 1 << 20}
		for pb.Next() {
			if err := log.Record(ctx, rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
