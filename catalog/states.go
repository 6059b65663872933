package catalog

import (
	"context"
	"slices"
)

// PartitionState is where one partition's files are stored.
type PartitionState struct {
	// StorageClass is the S3 storage class of the partition's files
	// ("GLACIER"); when they differ, the coldest.
	StorageClass string
	// Unreadable: a query cannot read the files now (an archive class, no
	// finished restore).
	Unreadable bool
}

// PartitionStates reports the storage state of a table's partitions, keyed
// as PartitionStats.Key. Package lifecycle implements it from its state
// store (catalog may not import lifecycle); partitions it does not report
// are readable. An error fails the Resolve closed.
type PartitionStates interface {
	PartitionStates(ctx context.Context, ref TableRef) (map[string]PartitionState, error)
}

// Option configures a Catalog beyond its Config.
type Option func(*Catalog)

// WithPartitionStates makes Resolve fill PartitionStats.StorageClass,
// PartitionStats.Unreadable and TableInfo.UnreadablePartitions from p.
func WithPartitionStates(p PartitionStates) Option {
	return func(c *Catalog) { c.states = p }
}

// withStates returns a copy of info (which the cache shares) with the
// partitions' storage states. It runs at every Resolve, so a finished
// restore or a move to an archive class shows as soon as p reports it, not
// after the table cache's TTL (lifecycle's store answers from memory and
// sees other processes' changes within a second).
func (c *Catalog) withStates(ctx context.Context, info TableInfo) (TableInfo, error) {
	states, err := c.states.PartitionStates(ctx, info.Ref)
	if err != nil {
		return TableInfo{}, &Error{Kind: ErrUnavailable, Catalog: info.Ref.Catalog, Table: info.Ref.String(),
			Msg: "cannot read the storage state of the table's partitions", Err: err}
	}
	if len(states) == 0 {
		return info, nil
	}
	info.Partitions = slices.Clone(info.Partitions)
	for i := range info.Partitions {
		if st, ok := states[info.Partitions[i].Key]; ok {
			info.Partitions[i].StorageClass, info.Partitions[i].Unreadable = st.StorageClass, st.Unreadable
		}
	}
	// Every unreadable partition the provider names counts, even one the
	// current snapshot's statistics do not list: a mismatch must refuse,
	// not read archived files.
	info.UnreadablePartitions = nil
	for k, st := range states {
		if st.Unreadable {
			info.UnreadablePartitions = append(info.UnreadablePartitions, k)
		}
	}
	slices.Sort(info.UnreadablePartitions)
	return info, nil
}
