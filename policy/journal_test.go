package policy_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/internal/store"
	"github.com/meridian-lake/meridian/policy"
	policies "github.com/meridian-lake/meridian/rego"
)

// journalRecord is the i-th record of the journal tests: two tables, and a
// violation on every third.
func journalRecord(i int) *policy.Record {
	rec := &policy.Record{ID: fmt.Sprintf("j%05d", i), At: time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC),
		QueryID: fmt.Sprintf("q%05d", i), User: fmt.Sprintf("u%d", i%4), Fingerprint: "fp", Statement: "SELECT ? FROM t",
		Tables: []string{"iceberg.eu.guests", fmt.Sprintf("iceberg.us.t%d", i%3)}, Allow: i%3 != 0, Regions: []string{"eu"},
		Input: &policy.Input{Version: 1, Subject: policy.Subject{User: fmt.Sprintf("u%d", i%4)}}}
	if !rec.Allow {
		rec.Violations = []policy.Violation{{Rule: "gdpr.transfer", Table: "iceberg.eu.guests", Message: "m"}}
	}
	return rec
}

// TestJournalReadYourWrites: records written through the journal are found
// by every query right after Write returns, by user, table, rule and
// outcome, exactly once each.
func TestJournalReadYourWrites(t *testing.T) {
	for _, syncOn := range []bool{false, true} {
		t.Run(fmt.Sprintf("sync=%v", syncOn), func(t *testing.T) {
			ctx := context.Background()
			reg := openRegistry(t)
			if err := reg.OpenJournal(ctx, t.TempDir(), policy.JournalOptions{Sync: syncOn}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { reg.Close() })
			const n = 300
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := g; i < n; i += 4 {
						if err := reg.Write(ctx, journalRecord(i)); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			all, err := reg.Decisions(ctx, policy.Filter{Limit: 10 * n})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != n {
				t.Fatalf("%d records, want %d", len(all), n)
			}
			deny, _ := reg.Decisions(ctx, policy.Filter{Rule: "gdpr.transfer", Table: "iceberg.us.t0", Limit: n})
			for _, r := range deny {
				var i int
				fmt.Sscanf(r.ID, "j%d", &i)
				if i%3 != 0 || r.Allow || !slices.Contains(r.Tables, "iceberg.us.t0") {
					t.Fatalf("filter by rule and table returned %+v", r)
				}
			}
			if len(deny) != n/3 {
				t.Fatalf("rule filter: %d records, want %d", len(deny), n/3)
			}
			// Written after the queries above: still seen at once.
			if err := reg.Write(ctx, journalRecord(n)); err != nil {
				t.Fatal(err)
			}
			if got, _ := reg.Decisions(ctx, policy.Filter{User: journalRecord(n).User, Limit: 1}); len(got) != 1 || got[0].ID != journalRecord(n).ID {
				t.Fatalf("newest record not found: %+v", got)
			}
		})
	}
}

// TestJournalRefusals: a second process cannot share a journal directory,
// an incomplete record is refused, and nothing is written after Close.
func TestJournalRefusals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(t.TempDir(), "state.db")
	a, b := openRegistryAt(t, db), openRegistryAt(t, db)
	if err := a.OpenJournal(ctx, dir, policy.JournalOptions{}); err != nil {
		t.Fatal(err)
	}
	err := b.OpenJournal(ctx, dir, policy.JournalOptions{})
	if err == nil || !strings.Contains(err.Error(), "another Meridian process is using it") {
		t.Fatalf("second OpenJournal = %v, want the directory refused", err)
	}
	if err := a.Write(ctx, &policy.Record{ID: "x"}); err == nil {
		t.Fatal("a record without its input was accepted")
	}
	if err := a.Write(ctx, journalRecord(1)); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Write(ctx, journalRecord(2)); err == nil {
		t.Fatal("Write after Close succeeded")
	}
	// Closed: the directory is free again, and the record was indexed.
	if err := b.OpenJournal(ctx, dir, policy.JournalOptions{}); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got, _ := b.Decisions(ctx, policy.Filter{}); len(got) != 1 || got[0].ID != "j00001" {
		t.Fatalf("after reopening: %+v", got)
	}
}

// TestJournalSurvivesKill: a real process writes records through the
// journal and is killed (SIGKILL) before the indexer can store them all;
// the next process to open the journal stores every one exactly once, and
// drops a torn record at the end of the file (a write the kill cut short,
// whose statement never ran).
func TestJournalSurvivesKill(t *testing.T) {
	if os.Getenv("MERIDIAN_JOURNAL_CHILD") != "" {
		journalChild()
		return
	}
	ctx := context.Background()
	dir, db := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	openRegistryAt(t, db) // the schema, before the child shares the file
	const n = 500         // one batch of 256 is indexed before the kill
	cmd := exec.Command(os.Args[0], "-test.run=^TestJournalSurvivesKill$")
	cmd.Env = append(os.Environ(), "MERIDIAN_JOURNAL_CHILD="+dir, "MERIDIAN_JOURNAL_DB="+db, fmt.Sprintf("MERIDIAN_JOURNAL_N=%d", n))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	written := false
	for sc.Scan() {
		if sc.Text() == "written" {
			written = true
			break
		}
	}
	if !written {
		t.Fatal("the child did not write its records")
	}
	cmd.Process.Kill()
	cmd.Wait()

	// The kill left the indexer behind: some records are only in the file.
	reg := openRegistryAt(t, db)
	before, _ := reg.Decisions(ctx, policy.Filter{Limit: 10 * n})
	if len(before) >= n {
		t.Fatalf("the child indexed all %d records before the kill; the test proves nothing", len(before))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "decisions-*.journal"))
	if len(files) != 1 {
		t.Fatalf("journal files %v", files)
	}
	f, err := os.OpenFile(files[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{200, 0, 0, 0, 1, 2, 3, 4, '{', '"'}) // half a frame
	f.Close()

	if err := reg.OpenJournal(ctx, dir, policy.JournalOptions{}); err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	after, err := reg.Decisions(ctx, policy.Filter{Limit: 10 * n})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range after {
		if seen[r.ID] {
			t.Fatalf("record %s stored twice", r.ID)
		}
		seen[r.ID] = true
	}
	for i := range n {
		if !seen[journalRecord(i).ID] {
			t.Fatalf("record %s lost (%d of %d stored; %d before recovery)", journalRecord(i).ID, len(after), n, len(before))
		}
	}
	if len(after) != n {
		t.Fatalf("%d records, want %d", len(after), n)
	}
	if now, _ := filepath.Glob(filepath.Join(dir, "decisions-*.journal")); len(now) != 1 || now[0] == files[0] {
		t.Fatalf("after recovery the journal files are %v (before: %v): want only a new one", now, files)
	}
	t.Logf("%d records indexed before the kill, %d recovered from the journal", len(before), n-len(before))
}

// journalChild writes the records and waits to be killed.
func journalChild() {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	db, err := store.Open(ctx, store.Config{Path: os.Getenv("MERIDIAN_JOURNAL_DB")})
	if err != nil {
		fail(err)
	}
	shipped, err := policy.LoadFS(policies.FS)
	if err != nil {
		fail(err)
	}
	reg, err := policy.OpenRegistry(ctx, db, shipped, time.Second)
	if err != nil {
		fail(err)
	}
	// Only whole batches are indexed: the rest is in the file alone when
	// the kill comes.
	if err := reg.OpenJournal(ctx, os.Getenv("MERIDIAN_JOURNAL_CHILD"), policy.JournalOptions{Delay: time.Hour}); err != nil {
		fail(err)
	}
	var n int
	fmt.Sscan(os.Getenv("MERIDIAN_JOURNAL_N"), &n)
	for i := range n {
		if err := reg.Write(ctx, journalRecord(i)); err != nil {
			fail(err)
		}
	}
	fmt.Println("written")
	select {}
}

// TestJournalRotates: a file that grew past the rotation size is replaced
// once indexed; no record is lost across files.
func TestJournalRotates(t *testing.T) {
	ctx := context.Background()
	reg := openRegistry(t)
	dir := t.TempDir()
	if err := reg.OpenJournal(ctx, dir, policy.JournalOptions{RotateBytes: 4096, Delay: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	first, _ := filepath.Glob(filepath.Join(dir, "decisions-*.journal"))
	const n = 200
	for i := range n {
		if err := reg.Write(ctx, journalRecord(i)); err != nil {
			t.Fatal(err)
		}
		if i%20 == 19 {
			// Let the indexer catch up, so it may rotate.
			if _, err := reg.Decisions(ctx, policy.Filter{Limit: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	all, err := reg.Decisions(ctx, policy.Filter{Limit: 10 * n})
	if err != nil || len(all) != n {
		t.Fatalf("%d records (%v), want %d", len(all), err, n)
	}
	now, _ := filepath.Glob(filepath.Join(dir, "decisions-*.journal"))
	if len(now) != 1 || now[0] <= first[0] {
		t.Fatalf("journal files %v (at first %v): want one newer file", now, first)
	}
}

// BenchmarkRecordWrite: what writing one decision record costs the
// statement, one writer at a time (the latency a single client sees),
// side by side: through the journal without and with fdatasync
// (store.sync normal and full), and straight into the state store (a
// transaction per record, as without a journal).
func BenchmarkRecordWrite(b *testing.B) {
	for _, mode := range []struct {
		name    string
		journal bool
		sync    string
	}{
		{"journal/sync=normal", true, "normal"},
		{"journal/sync=full", true, "full"},
		{"store/sync=normal", false, "normal"},
		{"store/sync=full", false, "full"},
	} {
		b.Run(mode.name, func(b *testing.B) {
			ctx := context.Background()
			reg := openRegistryWith(b, store.Config{Path: filepath.Join(b.TempDir(), "state.db"), Sync: mode.sync})
			if mode.journal {
				if err := reg.OpenJournal(ctx, b.TempDir(), policy.JournalOptions{Sync: mode.sync == "full"}); err != nil {
					b.Fatal(err)
				}
				defer reg.Close()
			}
			var lat []time.Duration
			i := 0
			for b.Loop() {
				rec := journalRecord(i)
				rec.ID = fmt.Sprintf("b%08d", i)
				i++
				t0 := time.Now()
				if err := reg.Write(ctx, rec); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
		})
	}
}
