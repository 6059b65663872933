package catalog_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/catalog"
)

// fixedStates is a PartitionStates holding a map the test edits.
type fixedStates struct {
	mu     sync.Mutex
	states map[string]catalog.PartitionState
	err    error
	calls  int
}

func (f *fixedStates) PartitionStates(_ context.Context, ref catalog.TableRef) (map[string]catalog.PartitionState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.states, f.err
}

func (f *fixedStates) set(states map[string]catalog.PartitionState, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.states, f.err = states, err
}

// TestPartitionStates: with a PartitionStates provider, Resolve marks
// unreadable partitions at once (past a long cache TTL), never edits the
// cached TableInfo, and fails closed when the provider fails.
func TestPartitionStates(t *testing.T) {
	ctx := context.Background()
	states := &fixedStates{}
	var withStates *catalog.Catalog
	l := newLakeWith(t, time.Hour, func(_ string, cfg *catalog.Config) {
		c, err := catalog.New(ctx, *cfg, nil, catalog.WithPartitionStates(states))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		withStates = c
	})
	l.createGuests(t, "eu", "guests", l.loc("eu", "guests"), nil, []string{"2024-01-05", "2024-02-03", "2024-03-09"})
	r := ref("iceberg.eu.guests")

	info, err := withStates.Resolve(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.UnreadablePartitions) != 0 || len(info.Partitions) != 3 {
		t.Fatalf("no states: unreadable %v, %d partitions; want none and 3", info.UnreadablePartitions, len(info.Partitions))
	}
	jan := info.Partitions[0].Key
	states.set(map[string]catalog.PartitionState{jan: {StorageClass: "GLACIER", Unreadable: true},
		info.Partitions[1].Key: {StorageClass: "STANDARD_IA"}}, nil)
	info, err = withStates.Resolve(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{jan}, info.UnreadablePartitions); diff != "" {
		t.Errorf("unreadable partitions (-want +got):\n%s", diff)
	}
	got := map[string]string{}
	for _, p := range info.Partitions {
		got[p.Key] = p.StorageClass
		if p.Unreadable != (p.Key == jan) {
			t.Errorf("partition %s unreadable = %v", p.Key, p.Unreadable)
		}
	}
	if got[jan] != "GLACIER" || got[info.Partitions[1].Key] != "STANDARD_IA" || got[info.Partitions[2].Key] != "" {
		t.Errorf("storage classes = %v", got)
	}
	// A restore finished: readable on the next Resolve, and the earlier
	// answer did not leak into the cache.
	states.set(nil, nil)
	info, err = withStates.Resolve(ctx, r)
	if err != nil || len(info.UnreadablePartitions) != 0 || info.Partitions[0].Unreadable || info.Partitions[0].StorageClass != "" {
		t.Errorf("after restore: %v, %+v", err, info.Partitions)
	}
	states.set(nil, errors.New("state store down"))
	if _, err := withStates.Resolve(ctx, r); !errors.Is(err, catalog.ErrUnavailable) {
		t.Errorf("Resolve with a failing provider = %v, want ErrUnavailable", err)
	}
	// Metadata tables read no data files: no provider call needed.
	states.set(nil, errors.New("state store down"))
	if _, err := withStates.Resolve(ctx, ref("iceberg.eu.\"guests$snapshots\"")); err != nil {
		t.Errorf("Resolve(guests$snapshots) = %v", err)
	}
}
