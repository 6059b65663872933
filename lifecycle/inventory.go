package lifecycle

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Object is one stored object as an inventory reports it.
type Object struct {
	Bucket       string
	Key          string
	Size         int64
	LastModified time.Time
	Class        StorageClass
	ETag         string
	// ClassSince is when the object entered Class, if known (the
	// simulator knows; listings and inventories report only LastModified,
	// which then stands in for it).
	ClassSince time.Time
	// Restore is the x-amz-restore state HeadObject reports for archived
	// objects ("" when none was requested).
	Restore string
}

// PartitionRef names the partition an object belongs to.
type PartitionRef struct {
	// Table and Partition are what access history is keyed by.
	Table     string
	Partition string
	// Prefix is the partition's directory: every key of the partition
	// starts with it.
	Prefix string
	// Pinned marks objects that must never be moved (metadata/, and
	// objects outside any table's data/ directory).
	Pinned bool
}

// Partitioner maps an object key to its partition. The default,
// [PathPartitioner], reads Iceberg's Hive-style layout; an Iceberg-aware
// partitioner (manifests via iceberg-go) fits the same signature for tables
// written with write.object-storage.enabled, whose hashed keys no longer
// address partitions.
type Partitioner func(key string) PartitionRef

// PathPartitioner maps <table>/data/<partition dirs>/<file> to table
// <table> and partition <partition dirs>, and <table>/metadata/... to a
// pinned group: Iceberg metadata is never a tiering or expiry target
// (apache/iceberg#10560). Keys outside both are pinned under their parent
// directory. It returns substrings of key and does not allocate.
func PathPartitioner(key string) PartitionRef {
	if i := strings.LastIndex(key, "/metadata/"); i >= 0 || strings.HasPrefix(key, "metadata/") {
		end := i + len("/metadata/")
		if i < 0 {
			end = len("metadata/")
		}
		return PartitionRef{Table: key[:max(i, 0)], Prefix: key[:end], Pinned: true}
	}
	i := strings.LastIndex(key, "/data/")
	start := i + len("/data/")
	if i < 0 && strings.HasPrefix(key, "data/") {
		i, start = 0, len("data/")
	}
	if i < 0 {
		return PartitionRef{Prefix: key[:strings.LastIndexByte(key, '/')+1], Pinned: true}
	}
	slash := strings.LastIndexByte(key, '/')
	part := ""
	if slash >= start {
		part = key[start:slash]
	}
	return PartitionRef{Table: key[:i], Partition: part, Prefix: key[:slash+1]}
}

// groupKey identifies a Group while aggregating.
type groupKey struct {
	bucket, prefix string
	class          StorageClass
}

// Aggregator folds a stream of objects into Groups (one per bucket,
// partition and class). It is not safe for concurrent use: feed it from one
// goroutine (the listers call their callback from one).
type Aggregator struct {
	now       time.Time
	partition Partitioner
	regionOf  map[string]string
	groups    map[groupKey]*Group
	objects   int64
}

// NewAggregator returns an aggregator that places each bucket in the region
// bucketRegion names, partitions keys with part (nil: PathPartitioner) and
// dates minimum-duration checks at now.
func NewAggregator(now time.Time, bucketRegion map[string]string, part Partitioner) *Aggregator {
	if part == nil {
		part = PathPartitioner
	}
	return &Aggregator{now: now, partition: part, regionOf: maps.Clone(bucketRegion), groups: map[groupKey]*Group{}}
}

// Add folds o into its group. An object in a bucket of no region, with a
// negative size or an unknown class is an error: a plan never guesses whose
// budget pays for data.
func (a *Aggregator) Add(o Object) error {
	region, ok := a.regionOf[o.Bucket]
	if !ok {
		return fmt.Errorf("object s3://%s/%s: bucket %q belongs to no region: map it to a region in the lifecycle configuration", o.Bucket, o.Key, o.Bucket)
	}
	if o.Size < 0 {
		return fmt.Errorf("object s3://%s/%s: negative size %d", o.Bucket, o.Key, o.Size)
	}
	if !o.Class.Known() {
		return fmt.Errorf("object s3://%s/%s: unknown storage class %q", o.Bucket, o.Key, o.Class)
	}
	ref := a.partition(o.Key)
	k := groupKey{bucket: o.Bucket, prefix: ref.Prefix, class: o.Class}
	g := a.groups[k]
	if g == nil {
		// Clone: the key may be a substring of a large buffer the caller reuses.
		k.bucket, k.prefix = strings.Clone(k.bucket), strings.Clone(k.prefix)
		g = &Group{Region: region, Bucket: k.bucket, Prefix: k.prefix, Table: strings.Clone(ref.Table),
			Partition: strings.Clone(ref.Partition), Class: o.Class, Pinned: ref.Pinned}
		a.groups[k] = g
	}
	g.add(o, a.now)
	a.objects++
	return nil
}

// Objects is the number of objects added.
func (a *Aggregator) Objects() int64 { return a.objects }

// Groups returns the groups sorted by region, bucket, prefix and class, so
// everything built from them is deterministic.
func (a *Aggregator) Groups() []Group {
	out := make([]Group, 0, len(a.groups))
	for _, g := range a.groups {
		out = append(out, *g)
	}
	slices.SortFunc(out, compareGroups)
	return out
}

func compareGroups(x, y Group) int {
	return cmp.Or(cmp.Compare(x.Region, y.Region), cmp.Compare(x.Bucket, y.Bucket),
		cmp.Compare(x.Prefix, y.Prefix), cmp.Compare(x.Class, y.Class))
}
