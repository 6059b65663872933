package lifecycle

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/catalog"
)

// TestRetentionDeletesExpiredPartitionsThroughIceberg: a bookings table
// with 10 days of data and meridian.retention-days; the retention run
// removes exactly the days wholly past retention with an Iceberg delete
// commit plus snapshot expiry, the remaining rows read back through an
// iceberg-go scan, the catalog shows only the remaining partitions, and no
// file a snapshot references is missing.
func TestRetentionDeletesExpiredPartitionsThroughIceberg(t *testing.T) {
	t.Parallel()
	l := newTestLake(t)
	ctx := context.Background()
	ref, tbl := l.createBookings(t, "retained", iceberg.Properties{catalog.PropRetentionDays: "30"})
	var days []string
	for d := 1; d <= 10; d++ {
		days = append(days, "2024-03-"+pad2(d))
	}
	tbl = appendDays(t, tbl, 1, 3, days[:5]...)
	appendDays(t, tbl, 100, 2, days[5:]...)

	// 2024-04-05T12:00 minus 30 days is 2024-03-06T12:00: March 1-5 are
	// wholly past retention, March 6 still holds rows inside it.
	now := func() time.Time { return time.Date(2024, 4, 5, 12, 0, 0, 0, time.UTC) }
	dry, err := ApplyRetention(ctx, l.cat, ref, l.s3, RetentionOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	wantParts := []string{}
	for _, d := range days[:5] {
		wantParts = append(wantParts, "check_in_day="+d)
	}
	if diff := cmp.Diff(wantParts, dry.Partitions); diff != "" {
		t.Errorf("dry run: expired partitions (-want +got):\n%s", diff)
	}
	if dry.Records != 15 || dry.Column != "check_in" || !dry.Boundary.Equal(time.Date(2024, 3, 6, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("dry run = records %d column %q boundary %v, want 15, check_in, 2024-03-06", dry.Records, dry.Column, dry.Boundary)
	}
	if got := scanCounts(t, l, ref); len(got) != 10 {
		t.Errorf("a dry run changed the table: %v", got)
	}

	res, err := ApplyRetention(ctx, l.cat, ref, l.s3, RetentionOptions{Now: now, Apply: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantParts, res.Partitions); diff != "" {
		t.Errorf("expired partitions (-want +got):\n%s", diff)
	}
	if res.SnapshotID == 0 || res.Expire == nil || len(res.Expire.Expired) != 2 || len(res.Pinned) != 0 {
		t.Errorf("retention = snapshot %d, expire %+v, pinned %v; want a delete commit and the two older snapshots expired", res.SnapshotID, res.Expire, res.Pinned)
	}
	want := map[string]int{}
	for _, d := range days[5:] {
		want[d] = 2
	}
	if diff := cmp.Diff(want, scanCounts(t, l, ref)); diff != "" {
		t.Errorf("rows per day after retention (-want +got):\n%s", diff)
	}
	info, err := l.cat.Resolve(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range info.Partitions {
		keys = append(keys, p.Key)
	}
	var wantKeys []string
	for _, d := range days[5:] {
		wantKeys = append(wantKeys, "check_in_day="+d)
	}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("catalog partitions after retention (-want +got):\n%s", diff)
	}
	// The expired days' data files are gone from the bucket; the others are there.
	stored := l.objectKeys(t, "")
	for _, set := range snapshotSets(t, l, ref) {
		checkAllPresent(t, set, stored, "after retention")
	}
	for p := range stored {
		for _, d := range days[:5] {
			if strings.Contains(p, "check_in_day="+d+"/") {
				t.Errorf("%s of an expired partition is still stored", p)
			}
		}
	}
	// A second run finds nothing.
	again, err := ApplyRetention(ctx, l.cat, ref, l.s3, RetentionOptions{Now: now, Apply: true})
	if err != nil || len(again.Partitions) != 0 {
		t.Errorf("second run = %v, %v; want nothing to do", again.Partitions, err)
	}
}

func TestRetentionRefusals(t *testing.T) {
	t.Parallel()
	l := newTestLake(t)
	ctx := context.Background()
	// No partition on time.
	ic, err := l.cat.Iceberg(ctx, "iceberg")
	if err != nil {
		t.Fatal(err)
	}
	ref, tbl := l.createBookings(t, "nogc", iceberg.Properties{catalog.PropRetentionDays: "1", PropGCEnabled: "false"})
	appendDays(t, tbl, 1, 1, "2024-01-01")
	if _, err := ApplyRetention(ctx, l.cat, ref, l.s3, RetentionOptions{Apply: true}); !errors.Is(err, ErrGCDisabled) {
		t.Errorf("retention with gc.enabled=false = %v, want ErrGCDisabled", err)
	}
	if _, err := ic.CreateTable(ctx, []string{"eu", "flat"}, bookingsSchema, icecat.WithProperties(iceberg.Properties{catalog.PropRetentionDays: "1"})); err != nil {
		t.Fatal(err)
	}
	flat := catalog.TableRef{Catalog: "iceberg", Schema: "eu", Table: "flat"}
	if _, err := ApplyRetention(ctx, l.cat, flat, l.s3, RetentionOptions{}); !errors.Is(err, ErrNoTimePartition) {
		t.Errorf("retention on an unpartitioned table = %v, want ErrNoTimePartition", err)
	}
	// No retention property: nothing to do.
	ref3, tbl3 := l.createBookings(t, "keep", nil)
	appendDays(t, tbl3, 1, 1, "2000-01-01")
	res, err := ApplyRetention(ctx, l.cat, ref3, l.s3, RetentionOptions{Apply: true})
	if err != nil || res.Days != 0 || len(res.Partitions) != 0 {
		t.Errorf("retention without the property = %+v, %v; want nothing", res, err)
	}
}

func pad2(n int) string {
	s := strconv.Itoa(n)
	if len(s) < 2 {
		s = "0" + s
	}
	return s
}
