package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/catalog/demo"
	"github.com/meridian-lake/meridian/internal/s3test"
	"github.com/meridian-lake/meridian/internal/store"
)

// demoLake builds the demo lake in the buckets lake-<region> of a new
// versitygw and returns the server, the catalog and the state database.
func demoLake(t *testing.T, bookings, guests int) (*s3test.Server, *catalog.Catalog, *store.DB) {
	t.Helper()
	ctx := context.Background()
	srv := s3test.Start(t)
	dir := t.TempDir()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s3cfg := catalog.S3Config{Endpoint: srv.Endpoint, Region: srv.Region, PathStyle: true, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
	cfg := catalog.Config{Catalogs: map[string]catalog.IcebergConfig{"iceberg": {Type: "sql", Path: filepath.Join(dir, "catalog.db"),
		Warehouse: "file://" + filepath.Join(dir, "warehouse"), S3: s3cfg}}}
	for _, r := range demo.Regions() {
		cfg.Regions = append(cfg.Regions, catalog.Region{Name: r, Locations: []string{"s3://lake-" + r}})
	}
	cat, err := catalog.New(ctx, cfg, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	start := time.Now()
	if _, err := demo.Init(ctx, demo.Config{S3: &s3cfg, BookingsPerRegion: bookings, GuestsPerRegion: guests, TPCHScale: 0.01}, cat); err != nil {
		t.Fatal(err)
	}
	t.Logf("demo lake built in %v", time.Since(start))
	return srv, cat, db
}

// TestDemoLakeTiering is the lifecycle must-show on the demo lake in
// versitygw, storage classes from the simulator: with a recorded access
// history (written through the AccessLog, as the proxy will) and budgets
// that force tiering, the plan keeps every partition read in the history
// in a queryable class and moves old unread ones to colder classes; apply
// does it; the report shows each region under budget; a new scan prices
// the lake exactly as the plan projected, and plans nothing more.
//
// Sizes: the demo's bookings files are about 2.5 KB (one per day), and at
// AWS prices no move of a 2.5 KB object ever pays (the 128 KB minimum of
// IA and Glacier IR, the 40 KB per archived object and the per-object
// transition fee all exceed its storage cost), so the optimizer rightly
// leaves bookings in STANDARD; the guests table (monthly partitions over
// three years, about 100 KB each at 200,000 guests per region) is what
// gets tiered. The horizon is 120 months because even 100 KB objects pay
// a transition back slowly.
func TestDemoLakeTiering(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, cat, db := demoLake(t, 1000, 200_000)
	tables, err := LakeTables(ctx, cat)
	if err != nil {
		t.Fatal(err)
	}
	// The lake has been stored for 400 days when lifecycle runs.
	clock := &fakeClock{now: time.Now().UTC().Add(400 * day)}
	sim, err := NewSimulatedStorageClasses(ctx, NewS3Store(srv.Client(t)), db, usPricer(t), clock.Now)
	if err != nil {
		t.Fatal(err)
	}

	// The recorded history: analysts read the last three months of guests
	// and December 2025's bookings in the last weeks; one unpruned scan of
	// eu.health. Nothing else was read since recording began.
	alog, err := NewAccessLog(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	hot := map[[2]string]bool{}
	q := 0
	for _, r := range demo.Regions() {
		for _, m := range []string{"2025-10", "2025-11", "2025-12"} {
			hot[[2]string{"iceberg." + r + ".guests", "created_at_month=" + m}] = true
		}
		var days []string
		for d := 1; d <= 31; d++ {
			days = append(days, fmt.Sprintf("check_in_day=2025-12-%02d", d))
			hot[[2]string{"iceberg." + r + ".bookings", days[len(days)-1]}] = true
		}
		for i := range 5 {
			q++
			at := clock.Now().Add(-time.Duration(3+i*7) * day)
			if err := alog.Record(ctx,
				AccessRecord{QueryID: fmt.Sprintf("q%d", q), At: at, User: "analyst", Table: "iceberg." + r + ".guests",
					Partitions: []string{"created_at_month=2025-10", "created_at_month=2025-11", "created_at_month=2025-12"}},
				AccessRecord{QueryID: fmt.Sprintf("q%d", q), At: at, User: "analyst", Table: "iceberg." + r + ".bookings", Partitions: days},
			); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := alog.Record(ctx, AccessRecord{QueryID: "q-health", At: clock.Now().Add(-10 * day), User: "care", Table: "iceberg.eu.health"}); err != nil {
		t.Fatal(err)
	}
	hist, err := alog.Summary(ctx, clock.Now().Add(-365*day))
	if err != nil {
		t.Fatal(err)
	}

	scan := func() []Group {
		t.Helper()
		groups, _, err := ScanLake(ctx, sim, tables, clock.Now(), ListConfig{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return groups
	}
	budgets := []RegionBudget{{Region: "apac", PriceRegion: "us-east-1"}, {Region: "eu", PriceRegion: "eu-central-1"}, {Region: "us", PriceRegion: "us-east-1"}}
	plan := func(groups []Group, spendAll bool) *Plan {
		t.Helper()
		o, err := NewOptimizer(Config{Budgets: budgets, HorizonMonths: 120, SpendAll: spendAll, Retention: Retention(tables)})
		if err != nil {
			t.Fatal(err)
		}
		p, err := o.Plan(ctx, groups, hist, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	groups := scan()
	// Scan's partitions are the catalog's PartitionStats keys, the form
	// the planner records reads in.
	for _, name := range []string{"iceberg.eu.guests", "iceberg.us.bookings"} {
		ref, _ := catalog.ParseTableRef(name)
		info, err := cat.Resolve(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		var want, got []string
		for _, ps := range info.Partitions {
			want = append(want, ps.Key)
		}
		for _, g := range groups {
			if g.Table == name && !g.Pinned {
				got = append(got, g.Partition)
			}
		}
		slices.Sort(got)
		if len(want) < 24 || !slices.Equal(got, want) {
			t.Errorf("%s: scanned partitions %d (%v...), catalog partitions %d (%v...)", name, len(got), got[:min(3, len(got))], len(want), want[:min(3, len(want))])
		}
	}
	// Budgets half-way between the cheapest plan and the lake as it is:
	// reachable, but only by tiering.
	cheapest := plan(groups, true)
	for i, rp := range cheapest.Regions {
		if rp.Projected >= rp.Current {
			t.Fatalf("region %s: the cheapest plan (%s) saves nothing on %s", rp.Region, rp.Projected, rp.Current)
		}
		budgets[i].Monthly = rp.Projected + (rp.Current-rp.Projected)/2
	}
	first := plan(groups, false)
	if len(first.Actions) == 0 {
		t.Fatal("no actions under budgets that force tiering")
	}

	moved := map[[2]string]Action{}
	for _, a := range first.Actions {
		moved[[2]string{a.Table, a.Partition}] = a
		if hot[[2]string{a.Table, a.Partition}] && !a.To.Queryable() {
			t.Errorf("%s %s was read in the history but goes to %s", a.Table, a.Partition, a.To)
		}
		if a.Table == "iceberg.eu.health" && !a.To.Queryable() {
			t.Errorf("eu.health was scanned whole in the history but a partition goes to %s", a.To)
		}
		if strings.Contains(a.Prefix, "/metadata/") {
			t.Errorf("action on metadata: %+v", a)
		}
	}
	// Budgets stop the moves once a region is under: each region moves
	// some old, never-read guests partitions down, and nothing it reads.
	for _, r := range demo.Regions() {
		down := 0
		for k, a := range moved {
			if k[0] == "iceberg."+r+".guests" && !hot[k] && a.To != Standard {
				down++
			}
		}
		if down == 0 {
			t.Errorf("region %s: no unread guests partition moved down", r)
		}
	}

	// Dry run first (the default): nothing changes.
	dry, err := NewExecutor(ctx, db, sim, ExecConfig{ObjectsPerSecond: 2000, Concurrency: 8, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	dres, err := dry.Run(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	var planned int64
	for _, a := range first.Actions {
		planned += a.Objects
	}
	if dres.WouldMove != planned || len(copiesPerKey(t, sim)) != 0 {
		t.Errorf("dry run would move %d objects (plan: %d) and copied %d", dres.WouldMove, planned, len(copiesPerKey(t, sim)))
	}
	states, err := NewPartitionStateStore(ctx, db, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := NewExecutor(ctx, db, sim, ExecConfig{Apply: true, ObjectsPerSecond: 2000, Concurrency: 8, Now: clock.Now,
		PriceVersion: DefaultPrices().Version, Classes: states})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Run(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if res.Copied != planned || res.Changed != 0 {
		t.Errorf("apply = %+v, want %d objects copied", res, planned)
	}

	// The query planner's view: archived partitions are unreadable.
	archived := 0
	for _, a := range first.Actions {
		ref, _ := catalog.ParseTableRef(a.Table)
		st, err := states.PartitionStates(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := st[a.Partition]; got.StorageClass != string(a.To) || got.Unreadable != !a.To.Queryable() {
			t.Errorf("%s %s: partition state %+v, want %s", a.Table, a.Partition, got, a.To)
		}
		if !a.To.Queryable() {
			archived++
		}
	}
	if archived == 0 {
		t.Error("no partition archived: the test no longer shows unreadable partitions")
	}

	// The report: every region under its budget.
	rep := NewReport(first)
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, rr := range rep.Regions {
		if !rr.MeetsBudget || rr.Projected > rr.Budget || rr.Projected >= rr.Current {
			t.Errorf("region %s: projected %s, budget %s, now %s: want under budget and below today's cost", rr.Region, rr.Projected, rr.Budget, rr.Current)
		}
	}
	if n := strings.Count(text.String(), "(under budget)"); n != 3 {
		t.Errorf("report says \"under budget\" %d times, want 3:\n%s", n, text.String())
	}
	for _, rr := range rep.Regions {
		t.Logf("region %s: now %s, budget %s, projected %s a month", rr.Region, rr.Current.Exact(), rr.Budget.Exact(), rr.Projected.Exact())
	}
	t.Logf("%d actions, %d objects copied\n%s", len(first.Actions), res.Copied, text.String())

	// The lake now is what the plan projected, and there is nothing left
	// to do.
	second := plan(scan(), false)
	for i, rp := range second.Regions {
		if rp.Current != first.Regions[i].Steady {
			t.Errorf("region %s after apply costs %s a month, the plan projected %s", rp.Region, rp.Current, first.Regions[i].Steady)
		}
	}
	if len(second.Actions) != 0 {
		t.Errorf("second plan has %d actions, want none", len(second.Actions))
	}
	// Archived partitions cannot be read; queryable ones can.
	for _, a := range first.Actions {
		_, err := List(ctx, sim, a.Bucket, []string{a.Prefix}, ListConfig{}, func(o Object) error {
			rc, err := sim.Get(ctx, o.Bucket, o.Key)
			if a.To.Queryable() != (err == nil) {
				t.Errorf("reading %s (%s): %v", o.Key, a.To, err)
			}
			if err == nil {
				rc.Close()
			} else if !errors.Is(err, ErrInvalidObjectState) {
				t.Errorf("reading archived %s: %v, want ErrInvalidObjectState", o.Key, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
