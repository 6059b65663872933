package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/meridian-lake/meridian/internal/s3test"
)

// TestPlanOverSimulatedLake runs the planning half end to end on a real S3
// server: a bookings table of 24 monthly partitions on versitygw, classes
// from the storage-class simulator, a recorded access history; List →
// Aggregator → Optimizer → Plan. It then consumes the plan the way the
// executor is meant to (doc.go) and checks that reads of archived
// partitions fail, queryable ones still read, metadata never moved, and a
// second plan over the result has nothing left to do.
func TestPlanOverSimulatedLake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := s3test.Start(t, "lake")
	c := srv.Client(t)
	const table = "wh/eu.db/bookings"
	var months []string
	for y := 2024; y <= 2025; y++ {
		for m := 1; m <= 12; m++ {
			part := fmt.Sprintf("month=%d-%02d", y, m)
			months = append(months, part)
			putObjects(t, c, "lake", table+"/data/"+part+"/", 2, 1<<20)
		}
	}
	putObjects(t, c, "lake", table+"/metadata/", 3, 2<<10)

	// Plan 800 days after the data was written: the last three months were
	// read 3 days ago, the nine before 100 days ago, the rest never.
	clock := &fakeClock{now: time.Now().UTC().Add(800 * day)}
	sim, _ := openSim(t, srv, filepath.Join(t.TempDir(), "state.db"), clock)
	hist := &RecordedHistory{Since: clock.Now().Add(-3 * 365 * day), Reads: map[[2]string]Access{}}
	role := map[string]string{}
	for i, part := range months {
		switch {
		case i >= 21:
			role[part] = "hot"
			hist.Reads[[2]string{table, part}] = Access{Last: clock.Now().Add(-3 * day), Count: 50}
		case i >= 12:
			role[part] = "warm"
			hist.Reads[[2]string{table, part}] = Access{Last: clock.Now().Add(-100 * day), Count: 2}
		default:
			role[part] = "cold"
		}
	}
	o, err := NewOptimizer(Config{HorizonMonths: 120, // tiny objects: transitions pay back slowly
		Budgets: []RegionBudget{{Region: "eu", PriceRegion: "eu-central-1", Monthly: 0}}})
	if err != nil {
		t.Fatal(err)
	}
	plan := func() *Plan {
		t.Helper()
		a := NewAggregator(clock.Now(), map[string]string{"lake": "eu"}, nil)
		if _, err := List(ctx, sim, "lake", []string{table + "/"}, ListConfig{}, a.Add); err != nil {
			t.Fatal(err)
		}
		p, err := o.Plan(ctx, a.Groups(), hist, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	first := plan()
	if first.Regions[0].MeetsBudget || first.Regions[0].Shortfall <= 0 {
		t.Errorf("a $0 budget cannot be met: %+v", first.Regions[0])
	}
	moved := map[string]StorageClass{}
	for _, a := range first.Actions {
		moved[a.Partition] = a.To
		if strings.Contains(a.Prefix, "/metadata/") {
			t.Errorf("action on metadata: %+v", a)
		}
	}
	for _, part := range months {
		to, ok := moved[part]
		switch role[part] {
		case "hot":
			if ok {
				t.Errorf("hot %s moved to %s", part, to)
			}
		case "warm":
			if !ok || !to.Queryable() {
				t.Errorf("warm %s: moved=%v to %q, want a queryable class", part, ok, to)
			}
		case "cold":
			if !ok || !to.Archive() {
				t.Errorf("cold %s: moved=%v to %q, want an archive class", part, ok, to)
			}
		}
	}

	// Apply as the executor would: per action, list the prefix and copy
	// the objects still in From.
	copies := 0
	for _, a := range first.Actions {
		if _, err := List(ctx, sim, a.Bucket, []string{a.Prefix}, ListConfig{}, func(ob Object) error {
			if ob.Class != a.From {
				return nil
			}
			copies++
			return sim.Copy(ctx, ob.Bucket, ob.Key, a.To)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if want := 2 * len(first.Actions); copies != want {
		t.Errorf("%d copies, want %d", copies, want)
	}
	read := func(part string) error {
		_, err := readAll(t, sim, table+"/data/"+part+"/00000.parquet")
		return err
	}
	if err := read(months[0]); !errors.Is(err, ErrInvalidObjectState) {
		t.Errorf("reading archived %s: %v, want ErrInvalidObjectState", months[0], err)
	}
	if err := read(months[15]); err != nil {
		t.Errorf("reading warm %s: %v", months[15], err)
	}
	if err := read(months[23]); err != nil {
		t.Errorf("reading hot %s: %v", months[23], err)
	}
	if o, err := sim.Head(ctx, "lake", table+"/metadata/00000.parquet"); err != nil || o.Class != Standard {
		t.Errorf("metadata object: %+v, %v; want STANDARD", o, err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String(table + "/data/" + months[0] + "/00000.parquet")}); err != nil {
		t.Errorf("archived object gone from the server: %v", err)
	}

	// Converged: the same inputs plan nothing more.
	if second := plan(); len(second.Actions) != 0 {
		t.Errorf("second plan has %d actions, want 0: %+v", len(second.Actions), second.Actions)
	}
	charges, err := sim.Charges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range charges {
		if ch.Kind != "copy" {
			t.Errorf("unexpected charge %+v (STANDARD has no minimum duration)", ch)
		}
	}
	if len(charges) != copies {
		t.Errorf("%d charges for %d copies", len(charges), copies)
	}
}
