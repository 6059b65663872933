package lifecycle

import (
	"context"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/catalog"
)

// TestPartitionStatesCache: the states a statement's resolution reads are
// kept briefly. A change through the same store shows at once; one made by
// another process (another store on the same database) within statesTTL;
// and a restore's end is judged against the clock at each call, cache or
// not.
func TestPartitionStatesCache(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	clock := &fakeClock{now: time.Now().UTC()}
	server, err := NewPartitionStateStore(ctx, db, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := NewPartitionStateStore(ctx, db, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	ref := catalog.TableRef{Catalog: "iceberg", Schema: "eu", Table: "bookings"}
	state := func(s *PartitionStateStore, part string) catalog.PartitionState {
		t.Helper()
		m, err := s.PartitionStates(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		return m[part]
	}
	if st := state(server, "day=2024-01-01"); st.StorageClass != "" {
		t.Fatalf("before any move: %+v", st)
	}
	// Another process archives the partition: seen within statesTTL.
	if err := cli.RecordClass(ctx, ref.String(), "day=2024-01-01", DeepArchive); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for state(server, "day=2024-01-01").StorageClass == "" {
		if time.Since(start) > 3*statesTTL {
			t.Fatalf("another process's move unseen after %v", time.Since(start))
		}
		time.Sleep(statesTTL / 20)
	}
	if st := state(server, "day=2024-01-01"); !st.Unreadable {
		t.Fatalf("archived partition readable: %+v", st)
	}
	// This process moves it back: seen at once.
	if err := server.RecordClass(ctx, ref.String(), "day=2024-01-01", StandardIA); err != nil {
		t.Fatal(err)
	}
	if st := state(server, "day=2024-01-01"); st.StorageClass != string(StandardIA) || st.Unreadable {
		t.Fatalf("own move not seen at once: %+v", st)
	}
	// A restore until an hour from now: readable now, unreadable once the
	// clock passes its end, although the rows are cached.
	if err := server.RecordClass(ctx, ref.String(), "day=2024-01-02", Glacier); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE lifecycle_partition_states SET restored_until = ? WHERE partition = 'day=2024-01-02'`,
		clock.Now().Add(time.Hour).UnixNano()); err != nil {
		t.Fatal(err)
	}
	server.forget(ref.String())
	if st := state(server, "day=2024-01-02"); st.Unreadable {
		t.Fatalf("restored partition unreadable: %+v", st)
	}
	clock.Advance(2 * time.Hour)
	if st := state(server, "day=2024-01-02"); !st.Unreadable {
		t.Fatalf("restore ended, partition still readable: %+v", st)
	}
}

// TestAccessRecorder: statements' reads queued on the recorder reach the
// access log in batches, after at most the delay, and Close writes what is
// still queued; nothing is lost or written twice.
func TestAccessRecorder(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	log, err := NewAccessLog(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM lifecycle_access`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := func(i int) AccessRecord {
		return AccessRecord{QueryID: "q", At: t0.Add(time.Duration(i) * time.Second), User: "ana", Table: "iceberg.eu.guests", Bytes: 1}
	}
	r := log.Recorder(50*time.Millisecond, nil)
	for i := range 10 {
		r.Add(rec(i))
	}
	start := time.Now()
	for count() < 10 {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%d of 10 records written after %v", count(), time.Since(start))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A full batch and a remainder that only Close writes.
	r2 := log.Recorder(time.Hour, nil)
	for i := range accessBatchMax + 5 {
		r2.Add(rec(100 + i))
	}
	r2.Close()
	r2.Add(rec(1)) // after Close: dropped with a warning, no panic
	r.Close()
	if n := count(); n != 10+accessBatchMax+5 {
		t.Fatalf("%d records, want %d", n, 10+accessBatchMax+5)
	}
}
