package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPathPartitioner(t *testing.T) {
	tests := []struct {
		key  string
		want PartitionRef
	}{
		{"wh/eu.db/bookings/data/month=2024-01/00000-0-abc.parquet",
			PartitionRef{Table: "wh/eu.db/bookings", Partition: "month=2024-01", Prefix: "wh/eu.db/bookings/data/month=2024-01/"}},
		{"wh/eu.db/bookings/data/region=eu/day=2024-01-02/f.parquet",
			PartitionRef{Table: "wh/eu.db/bookings", Partition: "region=eu/day=2024-01-02", Prefix: "wh/eu.db/bookings/data/region=eu/day=2024-01-02/"}},
		{"wh/eu.db/listings/data/f.parquet", // unpartitioned table
			PartitionRef{Table: "wh/eu.db/listings", Partition: "", Prefix: "wh/eu.db/listings/data/"}},
		{"wh/eu.db/bookings/metadata/00003-x.metadata.json",
			PartitionRef{Table: "wh/eu.db/bookings", Prefix: "wh/eu.db/bookings/metadata/", Pinned: true}},
		{"wh/eu.db/bookings/metadata/snap-1-data/x.avro", // "data" under metadata/ is still metadata
			PartitionRef{Table: "wh/eu.db/bookings", Prefix: "wh/eu.db/bookings/metadata/", Pinned: true}},
		{"metadata/v1.metadata.json", PartitionRef{Prefix: "metadata/", Pinned: true}},
		{"data/p=1/f.parquet", PartitionRef{Partition: "p=1", Prefix: "data/p=1/"}},
		{"wh/readme.txt", PartitionRef{Prefix: "wh/", Pinned: true}},
		{"loose", PartitionRef{Prefix: "", Pinned: true}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, PathPartitioner(tt.key)); diff != "" {
			t.Errorf("PathPartitioner(%q) (-want +got):\n%s", tt.key, diff)
		}
	}
}

func TestAggregator(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	a := NewAggregator(now, map[string]string{"lake-eu": "eu", "lake-us": "us"}, nil)
	objs := []Object{
		{Bucket: "lake-eu", Key: "t/data/p=1/a", Size: 100, Class: Standard, LastModified: now.Add(-10 * day)},
		{Bucket: "lake-eu", Key: "t/data/p=1/b", Size: 200 << 10, Class: Standard, LastModified: now.Add(-20 * day)},
		{Bucket: "lake-eu", Key: "t/data/p=1/c", Size: 300, Class: StandardIA, LastModified: now.Add(-5 * day)},
		{Bucket: "lake-eu", Key: "t/metadata/v1.json", Size: 10, Class: Standard, LastModified: now},
		{Bucket: "lake-us", Key: "t/data/p=1/a", Size: 1, Class: Standard, LastModified: now},
	}
	for _, o := range objs {
		if err := a.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	got := a.Groups()
	want := []Group{
		{Region: "eu", Bucket: "lake-eu", Prefix: "t/data/p=1/", Table: "t", Partition: "p=1", Class: Standard, Objects: 2, Bytes: 100 + 200<<10,
			SmallObjects: 1, SmallBytes: 100, Oldest: now.Add(-20 * day), Newest: now.Add(-10 * day)},
		// 300 bytes billed as 128 KiB for the 25 days left of IA's 30.
		{Region: "eu", Bucket: "lake-eu", Prefix: "t/data/p=1/", Table: "t", Partition: "p=1", Class: StandardIA, Objects: 1, Bytes: 300,
			SmallObjects: 1, SmallBytes: 300, Oldest: now.Add(-5 * day), Newest: now.Add(-5 * day), EarlyByteDays: 25 * minBillableSize},
		{Region: "eu", Bucket: "lake-eu", Prefix: "t/metadata/", Table: "t", Class: Standard, Pinned: true, Objects: 1, Bytes: 10,
			SmallObjects: 1, SmallBytes: 10, Oldest: now, Newest: now},
		{Region: "us", Bucket: "lake-us", Prefix: "t/data/p=1/", Table: "t", Partition: "p=1", Class: Standard, Objects: 1, Bytes: 1,
			SmallObjects: 1, SmallBytes: 1, Oldest: now, Newest: now},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Groups (-want +got):\n%s", diff)
	}
	if a.Objects() != 5 {
		t.Errorf("Objects() = %d", a.Objects())
	}
	for _, tt := range []struct {
		o    Object
		want string
	}{
		{Object{Bucket: "other", Key: "k"}, "belongs to no region"},
		{Object{Bucket: "lake-eu", Key: "k", Size: -1, Class: Standard}, "negative size"},
		{Object{Bucket: "lake-eu", Key: "k", Class: "REDUCED_REDUNDANCY"}, "unknown storage class"},
	} {
		if err := a.Add(tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Add(%+v) = %v, want %q", tt.o, err, tt.want)
		}
	}
}
