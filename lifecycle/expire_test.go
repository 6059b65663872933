package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/catalog"
)

// snapshotSets reads, independently of TableFiles, the files each
// snapshot references.
func snapshotSets(t *testing.T, l *testLake, ref catalog.TableRef) map[int64]map[string]bool {
	t.Helper()
	ctx := context.Background()
	tbl, err := OpenTable(ctx, l.cat, ref)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]map[string]bool{}
	for _, s := range tbl.Metadata().Snapshots() {
		set := map[string]bool{s.ManifestList: true}
		mfs, err := s.Manifests(fs)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mfs {
			set[m.FilePath()] = true
			for e, err := range m.Entries(fs, true) {
				if err != nil {
					t.Fatal(err)
				}
				set[e.DataFile().FilePath()] = true
			}
		}
		out[s.SnapshotID] = set
	}
	return out
}

func (l *testLake) put(t *testing.T, key string) {
	t.Helper()
	if _, err := l.srv.Client(t).PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(key),
		Body: bytes.NewReader([]byte("not referenced"))}); err != nil {
		t.Fatal(err)
	}
}

func (l *testLake) setRef(t *testing.T, ref catalog.TableRef, name string, id int64, typ table.RefType, maxRefAgeMs int64) {
	t.Helper()
	ic, err := l.cat.Iceberg(context.Background(), "iceberg")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ic.CommitTable(context.Background(), table.Identifier{ref.Schema, ref.Table}, nil,
		[]table.Update{table.NewSetSnapshotRefUpdate(name, id, typ, maxRefAgeMs, 0, 0)}); err != nil {
		t.Fatalf("set %s %s: %v", typ, name, err)
	}
}

func keysOf(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

// TestExpireAndOrphansKeepReferencedFiles expires snapshots and removes
// orphans on a table with a branch and a tag. Before and after each step
// it scans every snapshot's files and checks they are all still in the
// bucket; it checks that expiry deleted exactly the files only expired
// snapshots held, orphan cleanup exactly the planted orphan, and that
// metadata/ lost no file.
func TestExpireAndOrphansKeepReferencedFiles(t *testing.T) {
	t.Parallel()
	l := newTestLake(t)
	ctx := context.Background()
	ref, tbl := l.createBookings(t, "expire", nil)
	tbl = appendDays(t, tbl, 1, 2, "2024-01-01")
	tbl = appendDays(t, tbl, 10, 2, "2024-01-02")
	tagged := tbl.CurrentSnapshot().SnapshotID
	tbl = appendDays(t, tbl, 20, 2, "2024-01-03")
	branched := tbl.CurrentSnapshot().SnapshotID
	tbl, err := tbl.Delete(ctx, iceberg.EqualTo(iceberg.Reference("check_in"), iceberg.Date(dayNum("2024-01-03"))), nil)
	if err != nil {
		t.Fatal(err)
	}
	tbl = appendDays(t, tbl, 30, 2, "2024-01-04")
	current := tbl.CurrentSnapshot().SnapshotID
	l.setRef(t, ref, "audit", tagged, table.TagRef, 0)
	l.setRef(t, ref, "dev", branched, table.BranchRef, 0)

	loc := strings.TrimPrefix(tbl.Location(), "s3://lake/") + "/"
	orphan := loc + "data/check_in_day=2024-01-02/00000-orphan.parquet"
	stray := loc + "metadata/stray-unreferenced.avro"
	l.put(t, orphan)
	l.put(t, stray)

	sets := snapshotSets(t, l, ref)
	if len(sets) != 5 {
		t.Fatalf("%d snapshots, want 5", len(sets))
	}
	stored := l.objectKeys(t, loc)
	for id, set := range sets {
		checkAllPresent(t, set, stored, "before expiry, snapshot "+itoa(id))
	}

	// A dry run reports and deletes nothing.
	dry, err := ExpireSnapshots(ctx, l.cat, ref, l.s3, ExpireOptions{OlderThan: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if !dry.DryRun || len(dry.Expired) != 2 || len(dry.Files) == 0 {
		t.Errorf("dry run = %+v, want 2 expired snapshots and files to delete", dry)
	}
	if diff := cmp.Diff(keysOf(stored), keysOf(l.objectKeys(t, loc))); diff != "" {
		t.Errorf("a dry run changed the bucket (-before +after):\n%s", diff)
	}

	res, err := ExpireSnapshots(ctx, l.cat, ref, l.s3, ExpireOptions{OlderThan: time.Nanosecond, Apply: true})
	if err != nil {
		t.Fatal(err)
	}
	wantKept := []int64{tagged, branched, current}
	slices.Sort(wantKept)
	if diff := cmp.Diff(wantKept, res.Kept); diff != "" {
		t.Errorf("kept snapshots (-want +got):\n%s", diff)
	}
	// Expected deletions, from the independent scan: files of expired
	// snapshots that no kept snapshot references.
	want := map[string]bool{}
	for id, set := range sets {
		if slices.Contains(wantKept, id) {
			continue
		}
		for p := range set {
			want[p] = true
		}
	}
	for _, id := range wantKept {
		for p := range sets[id] {
			delete(want, p)
		}
	}
	if diff := cmp.Diff(keysOf(want), res.Files); diff != "" {
		t.Errorf("expiry deleted (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(keysOf(want), dry.Files); diff != "" {
		t.Errorf("the dry run reported (-want +got):\n%s", diff)
	}
	after := l.objectKeys(t, loc)
	gone := map[string]bool{}
	for p := range stored {
		if !after[p] {
			gone[p] = true
		}
	}
	if diff := cmp.Diff(keysOf(want), keysOf(gone)); diff != "" {
		t.Errorf("objects gone from the bucket (-want +got):\n%s", diff)
	}
	for id, set := range snapshotSets(t, l, ref) {
		checkAllPresent(t, set, after, "after expiry, snapshot "+itoa(id))
	}
	// The branch and the tag still read.
	for _, id := range []int64{tagged, branched} {
		tb, err := OpenTable(ctx, l.cat, ref)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tb.Scan(table.WithSnapshotID(id)).ToArrowTable(ctx); err != nil {
			t.Errorf("scan snapshot %d after expiry: %v", id, err)
		}
	}

	// Orphans: too short a cutoff is refused.
	if _, err := RemoveOrphans(ctx, l.cat, ref, l.s3, OrphanOptions{OlderThan: 23 * time.Hour}); !errors.Is(err, ErrCutoffTooShort) || !strings.Contains(err.Error(), "24h") {
		t.Errorf("RemoveOrphans(23h) = %v, want ErrCutoffTooShort naming 24h", err)
	}
	// With the real clock the planted orphan is too young.
	young, err := RemoveOrphans(ctx, l.cat, ref, l.s3, OrphanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(young.Orphans) != 0 || young.Young != 1 {
		t.Errorf("orphans now = %d (young %d), want none and one young file", len(young.Orphans), young.Young)
	}
	later := func() time.Time { return time.Now().Add(100 * time.Hour) }
	dryO, err := RemoveOrphans(ctx, l.cat, ref, l.s3, OrphanOptions{Now: later})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, o := range dryO.Orphans {
		found = append(found, o.Key)
	}
	if diff := cmp.Diff([]string{orphan}, found); diff != "" || !dryO.DryRun {
		t.Errorf("orphans in 100h (-want +got):\n%s", diff)
	}
	if _, err := RemoveOrphans(ctx, l.cat, ref, l.s3, OrphanOptions{Now: later, Apply: true}); err != nil {
		t.Fatal(err)
	}
	final := l.objectKeys(t, loc)
	delete(after, "s3://lake/"+orphan)
	if diff := cmp.Diff(keysOf(after), keysOf(final)); diff != "" {
		t.Errorf("orphan cleanup changed (-want +got):\n%s", diff)
	}
	if !final["s3://lake/"+stray] {
		t.Errorf("orphan cleanup deleted %s under metadata/", stray)
	}
	for id, set := range snapshotSets(t, l, ref) {
		checkAllPresent(t, set, final, "after orphan cleanup, snapshot "+itoa(id))
	}
	if got := scanCounts(t, l, ref); !cmp.Equal(got, map[string]int{"2024-01-01": 2, "2024-01-02": 2, "2024-01-04": 2}) {
		t.Errorf("rows per day after maintenance = %v", got)
	}
}

// TestMaintenanceRefusals: gc.enabled=false and a ref iceberg-go would
// drop for age stop expiry and orphan cleanup with errors that say why,
// and nothing is deleted.
func TestMaintenanceRefusals(t *testing.T) {
	t.Parallel()
	l := newTestLake(t)
	ctx := context.Background()
	ref, tbl := l.createBookings(t, "nogc", iceberg.Properties{PropGCEnabled: "false"})
	tbl = appendDays(t, tbl, 1, 1, "2024-01-01")
	appendDays(t, tbl, 2, 1, "2024-01-02")
	_, err := ExpireSnapshots(ctx, l.cat, ref, l.s3, ExpireOptions{OlderThan: time.Nanosecond, Apply: true})
	if !errors.Is(err, ErrGCDisabled) || !strings.Contains(err.Error(), "gc.enabled=false") || !strings.Contains(err.Error(), ref.String()) {
		t.Errorf("ExpireSnapshots(gc.enabled=false) = %v, want ErrGCDisabled naming the table and the property", err)
	}
	_, err = RemoveOrphans(ctx, l.cat, ref, l.s3, OrphanOptions{Apply: true})
	if !errors.Is(err, ErrGCDisabled) {
		t.Errorf("RemoveOrphans(gc.enabled=false) = %v, want ErrGCDisabled", err)
	}
	if n := len(snapshotSets(t, l, ref)); n != 2 {
		t.Errorf("%d snapshots left, want both", n)
	}

	ref2, tbl2 := l.createBookings(t, "oldtag", nil)
	tbl2 = appendDays(t, tbl2, 1, 1, "2024-01-01")
	old := tbl2.CurrentSnapshot().SnapshotID
	appendDays(t, tbl2, 2, 1, "2024-01-02")
	l.setRef(t, ref2, "ancient", old, table.TagRef, 1) // max-ref-age 1 ms
	// iceberg-go ages refs by the snapshot's timestamp: wait until the
	// tag is past its 1 ms.
	for time.Now().UnixMilli() <= tbl2.Metadata().SnapshotByID(old).TimestampMs+1 {
		time.Sleep(time.Millisecond)
	}
	_, err = ExpireSnapshots(ctx, l.cat, ref2, l.s3, ExpireOptions{OlderThan: time.Nanosecond, Apply: true})
	if !errors.Is(err, ErrRefWouldMove) || !strings.Contains(err.Error(), `"ancient"`) {
		t.Errorf("ExpireSnapshots with an aged tag = %v, want ErrRefWouldMove naming the tag", err)
	}
	if n := len(snapshotSets(t, l, ref2)); n != 2 {
		t.Errorf("%d snapshots left, want both", n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
