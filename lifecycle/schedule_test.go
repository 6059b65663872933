package lifecycle

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/internal/pgtest"
	"github.com/meridian-lake/meridian/internal/store"
)

func TestCronNext(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		spec, from string
		want       []string
	}{
		{"* * * * *", "2024-01-01 10:00", []string{"2024-01-01 10:01", "2024-01-01 10:02"}},
		{"*/15 * * * *", "2024-01-01 10:07", []string{"2024-01-01 10:15", "2024-01-01 10:30", "2024-01-01 10:45", "2024-01-01 11:00"}},
		{"30 2 * * *", "2024-01-01 02:30", []string{"2024-01-02 02:30", "2024-01-03 02:30"}},
		{"0 3 * * sun", "2024-01-01 00:00", []string{"2024-01-07 03:00", "2024-01-14 03:00"}}, // 2024-01-01 is a Monday
		{"0 3 * * 7", "2024-01-01 00:00", []string{"2024-01-07 03:00"}},
		{"0 0 1 */3 *", "2024-01-15 00:00", []string{"2024-04-01 00:00", "2024-07-01 00:00", "2024-10-01 00:00", "2025-01-01 00:00"}},
		{"0 0 29 2 *", "2024-03-01 00:00", []string{"2028-02-29 00:00"}},
		{"0 12 13 * fri", "2024-09-01 00:00", []string{"2024-09-06 12:00", "2024-09-13 12:00", "2024-09-20 12:00"}}, // either day rule
		{"5-10/5 1,3 * jan-feb mon-fri", "2024-01-01 00:00", []string{"2024-01-01 01:05", "2024-01-01 01:10", "2024-01-01 03:05"}},
		{"@daily", "2024-12-31 23:59", []string{"2025-01-01 00:00", "2025-01-02 00:00"}},
		{"@hourly", "2024-01-01 10:59", []string{"2024-01-01 11:00"}},
		{"0 0 31 * *", "2024-04-01 00:00", []string{"2024-05-31 00:00", "2024-07-31 00:00"}},
	} {
		c, err := ParseCron(tc.spec)
		if err != nil {
			t.Errorf("ParseCron(%q): %v", tc.spec, err)
			continue
		}
		from := at(tc.from)
		var got []string
		for range tc.want {
			n, ok := c.Next(from)
			if !ok {
				break
			}
			got = append(got, n.Format("2006-01-02 15:04"))
			from = n
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q from %s = %v, want %v", tc.spec, tc.from, got, tc.want)
		}
	}
}

func TestCronErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ spec, want string }{
		{"* * * *", "want 5 fields"},
		{"60 * * * *", "minute"},
		{"* 24 * * *", "hour"},
		{"* * 0 * *", "day of month"},
		{"* * * 13 *", "month"},
		{"* * * * 8", "day of week"},
		{"*/0 * * * *", "step"},
		{"10-5 * * * *", "backwards"},
		{"0 0 30 2 *", "never fires"},
		{"x * * * *", "minute"},
		{"@sometimes", "want 5 fields"},
		{strings.Repeat("1,", 200) + "1 * * * *", "longer than"},
	} {
		if _, err := ParseCron(tc.spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCron(%.30q) = %v, want an error about %q", tc.spec, err, tc.want)
		}
	}
}

func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"* * * * *", "*/15 1-5 * jan-mar mon", "@weekly", "0 0 29 2 *", "1,2,3 */2 1-31/3 * 0-7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		c, err := ParseCron(spec)
		if err != nil {
			return
		}
		from := time.Date(2024, 5, 5, 5, 5, 0, 0, time.UTC)
		n, ok := c.Next(from)
		if !ok || !n.After(from) || n.Second() != 0 {
			t.Errorf("%q: Next(%v) = %v, %v", spec, from, n, ok)
		}
	})
}

// leaseHolder reads who holds the scheduler lease.
func leaseHolder(t *testing.T, db *sql.DB) string {
	t.Helper()
	var owner string
	err := db.QueryRowContext(context.Background(), `SELECT owner FROM lifecycle_scheduler_lease WHERE name = 'lifecycle-scheduler'`).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return owner
}

// waitFor polls cond every few milliseconds for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestSchedulerLockExclusive runs two schedulers on one SQLite state
// database (two connections, as two replicas would have): exactly one
// holds the lease and runs the job, each minute runs once, never two runs
// at a time; when the holder stops, the other takes over.
func TestSchedulerLockExclusive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)}
	var active, maxActive, runs atomic.Int64
	ranBy := sync.Map{}
	open := func(owner string) (*Scheduler, *store.DB) {
		db, err := store.Open(ctx, store.Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		job := ScheduledJob{Name: "expire", Spec: "* * * * *", Run: func(ctx context.Context) error {
			n := active.Add(1)
			defer active.Add(-1)
			for m := maxActive.Load(); n > m && !maxActive.CompareAndSwap(m, n); m = maxActive.Load() {
			}
			ranBy.Store(clock.Now().Truncate(time.Minute), owner)
			time.Sleep(3 * time.Millisecond) // long enough for a second runner to overlap, were there one
			runs.Add(1)
			return nil
		}}
		s, err := NewScheduler(ctx, db.DB, []ScheduledJob{job}, SchedulerConfig{Owner: owner, Lease: 10 * time.Minute, Tick: 2 * time.Millisecond, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return s, db
	}
	a, dbA := open("replica-a")
	b, _ := open("replica-b")
	ctxA, stopA := context.WithCancel(ctx)
	ctxB, stopB := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, r := range []struct {
		s   *Scheduler
		ctx context.Context
	}{{a, ctxA}, {b, ctxB}} {
		wg.Add(1)
		go func() { defer wg.Done(); r.s.Run(r.ctx) }()
	}
	t.Cleanup(func() { stopA(); stopB(); wg.Wait() })

	finished := func(n int) func() bool {
		return func() bool {
			h, err := JobHistory(ctx, dbA.DB, 100)
			if err != nil {
				t.Fatal(err)
			}
			done := 0
			for _, r := range h {
				if r.Status == "ok" {
					done++
				}
			}
			return done >= n
		}
	}
	waitFor(t, "a lease holder", func() bool { return leaseHolder(t, dbA.DB) != "" })
	holder := leaseHolder(t, dbA.DB)
	for i := 1; i <= 5; i++ {
		clock.Advance(time.Minute)
		waitFor(t, fmt.Sprintf("run %d", i), finished(i))
	}
	h, err := JobHistory(ctx, dbA.DB, 100)
	if err != nil {
		t.Fatal(err)
	}
	slots := map[time.Time]bool{}
	for _, r := range h {
		if r.Owner != holder {
			t.Errorf("run %d by %s, but %s holds the lease", r.ID, r.Owner, holder)
		}
		if slots[r.Scheduled] {
			t.Errorf("slot %v ran twice", r.Scheduled)
		}
		slots[r.Scheduled] = true
	}
	if len(h) != 5 || runs.Load() != 5 || maxActive.Load() != 1 {
		t.Errorf("history %d runs, job ran %d times, at most %d at once; want 5, 5, 1", len(h), runs.Load(), maxActive.Load())
	}

	// The holder stops (releasing the lease); the other replica takes over.
	other := "replica-b"
	if holder == "replica-b" {
		stopB()
		other = "replica-a"
	} else {
		stopA()
	}
	waitFor(t, "the other replica to take the lease", func() bool { return leaseHolder(t, dbA.DB) == other })
	clock.Advance(time.Minute)
	waitFor(t, "run 6", finished(6))
	h, err = JobHistory(ctx, dbA.DB, 1)
	if err != nil || len(h) != 1 || h[0].Owner != other || !h[0].Scheduled.Equal(time.Date(2026, 1, 1, 0, 6, 0, 0, time.UTC)) {
		t.Errorf("latest run = %+v, %v; want the 00:06 slot run by %s", h, err, other)
	}
	if maxActive.Load() != 1 {
		t.Errorf("%d runs at once", maxActive.Load())
	}
}

// testLease checks the lease statement on one database: held by one
// owner at a time, renewable by its holder, free once expired.
func testLease(t *testing.T, db *sql.DB, dialect string) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	mk := func(owner string) *Scheduler {
		s, err := NewScheduler(ctx, db, []ScheduledJob{{Name: "j", Spec: "@hourly", Run: func(context.Context) error { return errors.New("boom") }}},
			SchedulerConfig{Dialect: dialect, Owner: owner, Lease: time.Minute, Tick: time.Second, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := mk("a"), mk("b")
	step := func(s *Scheduler, want bool) {
		t.Helper()
		got, err := s.acquire(ctx)
		if err != nil || got != want {
			t.Fatalf("%s acquire at %v = %v, %v; want %v", s.Owner(), clock.Now(), got, err, want)
		}
	}
	step(a, true)
	step(b, false)
	clock.Advance(50 * time.Second)
	step(a, true) // renewed until 01:50
	clock.Advance(50 * time.Second)
	step(b, false)
	clock.Advance(11 * time.Second)
	step(b, true) // a's lease expired
	step(a, false)
	if err := b.release(ctx); err != nil {
		t.Fatal(err)
	}
	step(a, true)
	// A failing job is recorded with its error; a slot runs once.
	a.runOnce(ctx, a.jobs[0], clock.Now().Truncate(time.Hour))
	b.runOnce(ctx, b.jobs[0], clock.Now().Truncate(time.Hour))
	h, err := JobHistory(ctx, db, 10)
	if err != nil || len(h) != 1 || h[0].Status != "failed" || h[0].Error != "boom" || h[0].Owner != "a" || h[0].Finished.IsZero() {
		t.Errorf("history = %+v, %v; want one failed run by a", h, err)
	}
}

func TestSchedulerLeaseSQLite(t *testing.T) {
	t.Parallel()
	db, err := store.Open(context.Background(), store.Config{Path: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if h, err := JobHistory(context.Background(), db.DB, 10); err != nil || h != nil {
		t.Errorf("history before any scheduler = %v, %v; want none", h, err)
	}
	testLease(t, db.DB, "sqlite")
}

func TestSchedulerLeasePostgres(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t)
	testLease(t, srv.Open(t), "postgres")
}
