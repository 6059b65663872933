package lifecycle

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/store"
)

// TestRestoreFlow: a partition archived in the storage-class simulator is
// unreadable (InvalidObjectState) and shows as such in the catalog; a
// restore is issued, tracked in the state store, stays in progress until
// the simulated restore time has passed, then the partition reads again
// and the catalog says so; when the restored copy expires it is
// unreadable again.
func TestRestoreFlow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := &fakeClock{now: time.Now().UTC()}
	states, err := NewPartitionStateStore(ctx, db, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	l := newTestLake(t, catalog.WithPartitionStates(states))
	sim, err := NewSimulatedStorageClasses(ctx, l.s3, db, usPricer(t), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	ref, tbl := l.createBookings(t, "archived", nil)
	tbl = appendDays(t, tbl, 1, 2, "2024-01-01", "2024-01-02")
	tbl = appendDays(t, tbl, 10, 2, "2024-01-01", "2024-01-03")
	view, err := ReadTableFiles(ctx, ref.String(), tbl)
	if err != nil {
		t.Fatal(err)
	}
	const cold = "check_in_day=2024-01-01"
	files := view.LivePartitions()[cold]
	if len(files) != 2 {
		t.Fatalf("%d files in %s, want 2", len(files), cold)
	}
	for _, f := range files {
		b, k, _ := splitS3(f.Path)
		if err := sim.SetClass(ctx, b, k, Glacier, clock.Now().Add(-100*day)); err != nil {
			t.Fatal(err)
		}
	}
	if err := states.RecordClass(ctx, ref.String(), "check_in_day=2024-01-02", StandardIA); err != nil {
		t.Fatal(err)
	}
	got, err := states.Refresh(ctx, view, sim)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]catalog.PartitionState{cold: {StorageClass: "GLACIER", Unreadable: true}}, got); diff != "" {
		t.Errorf("refreshed states (-want +got):\n%s", diff)
	}
	unreadable := func() []string {
		t.Helper()
		info, err := l.cat.Resolve(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		return info.UnreadablePartitions
	}
	if diff := cmp.Diff([]string{cold}, unreadable()); diff != "" {
		t.Errorf("catalog unreadable partitions (-want +got):\n%s", diff)
	}
	read := func(f *FileRef) error {
		b, k, _ := splitS3(f.Path)
		rc, err := sim.Get(ctx, b, k)
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = io.Copy(io.Discard, rc)
		return err
	}
	if err := read(files[0]); !errors.Is(err, ErrInvalidObjectState) {
		t.Fatalf("read of an archived file = %v, want ErrInvalidObjectState", err)
	}

	r, err := NewRestorer(states, l.cat, sim)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		parts []string
		tier  RestoreTier
		days  int
		want  string
	}{
		{[]string{"check_in_day=1999-01-01"}, Expedited, 1, "no partition"},
		{nil, "Instant", 1, "tier"},
		{nil, Expedited, 0, "days"},
	} {
		if _, err := r.Restore(ctx, ref.String(), bad.parts, bad.tier, bad.days); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Restore(%v, %s, %d) = %v, want an error about %s", bad.parts, bad.tier, bad.days, err, bad.want)
		}
	}
	job, err := r.Restore(ctx, ref.String(), nil, Expedited, 2) // no partitions: every unreadable one
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != "in-progress" || job.Objects != 2 || job.Requested != 2 || !cmp.Equal(job.Partitions, []string{cold}) {
		t.Errorf("new job = %+v, want 2 objects of %s requested", job, cold)
	}
	clock.Advance(4 * time.Minute) // Expedited GLACIER restores take 5 minutes here
	if job, err = r.RestoreStatus(ctx, job.ID); err != nil || job.Status != "in-progress" {
		t.Errorf("after 4 minutes: %+v, %v; want in progress", job, err)
	}
	if err := read(files[0]); !errors.Is(err, ErrInvalidObjectState) {
		t.Errorf("read during the restore = %v, want ErrInvalidObjectState", err)
	}
	if diff := cmp.Diff([]string{cold}, unreadable()); diff != "" {
		t.Errorf("catalog during the restore (-want +got):\n%s", diff)
	}
	clock.Advance(2 * time.Minute)
	if job, err = r.RestoreStatus(ctx, job.ID); err != nil || job.Status != "done" || job.Ready != 2 {
		t.Errorf("after 6 minutes: %+v, %v; want done", job, err)
	}
	for _, f := range files {
		if err := read(f); err != nil {
			t.Errorf("read after the restore: %v", err)
		}
	}
	if u := unreadable(); len(u) != 0 {
		t.Errorf("catalog after the restore: unreadable %v", u)
	}
	jobs, err := r.RestoreJobs(ctx, 10)
	if err != nil || len(jobs) != 1 || jobs[0].ID != job.ID || jobs[0].Status != "done" {
		t.Errorf("RestoreJobs = %+v, %v", jobs, err)
	}
	// Two days later the restored copies have expired.
	clock.Advance(2*day + time.Minute)
	if diff := cmp.Diff([]string{cold}, unreadable()); diff != "" {
		t.Errorf("catalog after the restore expired (-want +got):\n%s", diff)
	}
	if err := read(files[0]); !errors.Is(err, ErrInvalidObjectState) {
		t.Errorf("read after the restore expired = %v, want ErrInvalidObjectState", err)
	}
	if got := RestoreCommand(ref.String(), []string{cold}); got != "meridian lifecycle restore iceberg.eu.archived --partition "+cold {
		t.Errorf("RestoreCommand = %q", got)
	}
}
