package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var planNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// designLake is the design's lake after compression, deduplication and
// retention: 100 PB, all freshly in STANDARD, in 1,000 partitions of 100 TB
// (1 GB objects). Partitions 0-49 are hot (read two days ago, 300 reads in
// three years of history), 50-149 warm (read 60 days ago), the rest unread
// for the whole history and written 800 days ago.
func designLake() ([]Group, *RecordedHistory) {
	hist := &RecordedHistory{Since: planNow.Add(-3 * 365 * day), Reads: map[[2]string]Access{}}
	var groups []Group
	for i := range 1000 {
		part := fmt.Sprintf("day=%04d", i)
		age := 800 * day
		switch {
		case i < 50:
			age = 10 * day
			hist.Reads[[2]string{"lake/bookings", part}] = Access{Last: planNow.Add(-2 * day), Count: 300}
		case i < 150:
			age = 200 * day
			hist.Reads[[2]string{"lake/bookings", part}] = Access{Last: planNow.Add(-60 * day), Count: 5}
		}
		groups = append(groups, Group{Region: "us", Bucket: "lake", Prefix: "lake/bookings/data/" + part + "/",
			Table: "lake/bookings", Partition: part, Class: Standard, Objects: 100 * tb / 1e9, Bytes: 100 * tb,
			Oldest: planNow.Add(-age), Newest: planNow.Add(-age)})
	}
	return groups, hist
}

func designOptimizer(t *testing.T, monthly Money, spendAll bool) *Optimizer {
	t.Helper()
	o, err := NewOptimizer(Config{Prices: designPrices(t), SpendAll: spendAll,
		Budgets: []RegionBudget{{Region: "us", PriceRegion: "us-east-1", Monthly: monthly}}})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestDesignBudgetMet: at 100 PB the optimizer brings the lake from $2.3M a
// month in STANDARD under the $10M a year budget, keeping every partition
// read in the queryable window in a queryable class and archiving only
// partitions unread for the archive window.
func TestDesignBudgetMet(t *testing.T) {
	groups, hist := designLake()
	budget := Dollars(10_000_000) / 12 // $833,333.33 a month, rounded down
	o := designOptimizer(t, budget, false)
	plan, err := o.Plan(context.Background(), groups, hist, planNow)
	if err != nil {
		t.Fatal(err)
	}
	r := plan.Regions[0]
	if r.Current != Dollars(2_300_000) {
		t.Errorf("current = %s, want 2300000.00 (100 PB in STANDARD at $23/TB)", r.Current.Exact())
	}
	if !r.MeetsBudget || r.Projected > budget || 12*r.Projected > Dollars(10_000_000) {
		t.Fatalf("projected %s a month (%s a year), budget %s: meets=%v shortfall %s",
			r.Projected, 12*r.Projected, budget, r.MeetsBudget, r.Shortfall)
	}
	if r.Projected != r.Steady+(r.OneTime+11)/12 {
		t.Errorf("projected %s != steady %s + one-time %s / 12", r.Projected.Exact(), r.Steady.Exact(), r.OneTime.Exact())
	}
	moved := map[string]Action{}
	for _, a := range plan.Actions {
		moved[a.Partition] = a
		if !CanTransition(a.From, a.To) {
			t.Errorf("%s: %s -> %s is against the transition order", a.Partition, a.From, a.To)
		}
	}
	for i := range 1000 {
		part := fmt.Sprintf("day=%04d", i)
		a, ok := moved[part]
		switch {
		case i < 50 && ok:
			t.Errorf("hot %s moved to %s; a partition read 2 days ago at 8 reads a month pays more in retrieval than it saves", part, a.To)
		case i < 150 && ok && !a.To.Queryable():
			t.Errorf("warm %s moved to %s, which queries cannot read", part, a.To)
		case i >= 50 && i < 150 && !ok:
			t.Errorf("warm %s not moved; GLACIER_IR saves the most per dollar", part)
		}
	}
	// Greedy by saving per dollar stops once under budget: not every cold
	// partition needs to move.
	if n := len(plan.Actions); n >= 950 {
		t.Errorf("%d actions; the budget is met well before every partition moves", n)
	}
	t.Logf("100 PB: current %s/month, projected %s/month (%s/year), one-time %s, %d actions",
		r.Current, r.Projected, 12*r.Projected, r.OneTime, len(plan.Actions))

	// Deterministic: the same input gives the same plan, byte for byte.
	again, err := o.Plan(context.Background(), groups, hist, planNow)
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := json.Marshal(plan)
	b2, _ := json.Marshal(again)
	if string(b1) != string(b2) {
		t.Error("two plans over the same input differ")
	}
	var back Plan
	if err := json.Unmarshal(b1, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(plan, &back); diff != "" {
		t.Errorf("plan JSON round trip (-got +want):\n%s", diff)
	}
}

// TestDesignBudgetShortfall: under an impossible budget the plan is the
// cheapest the constraints allow, and says by how much it misses.
func TestDesignBudgetShortfall(t *testing.T) {
	groups, hist := designLake()
	budget := Dollars(100_000)
	plan, err := designOptimizer(t, budget, false).Plan(context.Background(), groups, hist, planNow)
	if err != nil {
		t.Fatal(err)
	}
	cheapest, err := designOptimizer(t, budget, true).Plan(context.Background(), groups, hist, planNow)
	if err != nil {
		t.Fatal(err)
	}
	r := plan.Regions[0]
	if r.MeetsBudget || r.Shortfall != r.Projected-budget || r.Shortfall <= 0 {
		t.Errorf("meets=%v projected %s shortfall %s, want a shortfall of projected - budget", r.MeetsBudget, r.Projected, r.Shortfall)
	}
	if len(plan.Actions) != 950 || r.Projected != cheapest.Regions[0].Projected {
		t.Errorf("%d actions, projected %s; want all 950 profitable moves and the cheapest plan's %s",
			len(plan.Actions), r.Projected, cheapest.Regions[0].Projected)
	}
	// Hot partitions cost at least 50 x 100 TB x $23/TB: no plan can go below.
	if r.Steady < Dollars(115_000) {
		t.Errorf("steady %s below the hot partitions' own cost", r.Steady)
	}
}

func TestPlanConstraints(t *testing.T) {
	us := []RegionBudget{{Region: "us", PriceRegion: "us-east-1", Monthly: 0}}
	group := func(prefix string, class StorageClass, age time.Duration) Group {
		g := Group{Region: "us", Bucket: "lake", Prefix: prefix, Class: class, Objects: 1, Bytes: 100 * gib,
			Oldest: planNow.Add(-age), Newest: planNow.Add(-age)}
		ref := PathPartitioner(prefix + "f.parquet")
		g.Table, g.Partition, g.Pinned = ref.Table, ref.Partition, ref.Pinned
		return g
	}
	hist := &RecordedHistory{Since: planNow.Add(-3 * 365 * day), Reads: map[[2]string]Access{
		{"w/t", "p=read"}:     {Last: planNow.Add(-5 * day), Count: 1},
		{"w/t", "p=archived"}: {Last: planNow.Add(-5 * day), Count: 1},
	}}
	tests := []struct {
		name    string
		cfg     Config
		g       Group
		want    StorageClass // "" for no action
		warning string
	}{
		{"metadata is never a target", Config{}, group("w/t/metadata/", Standard, 900*day), "", ""},
		{"objects outside data/ stay", Config{}, group("w/other/", Standard, 900*day), "", ""},
		{"unread and old goes to deep archive", Config{}, group("w/t/data/p=old/", Standard, 900*day), DeepArchive, ""},
		{"read 5 days ago stays queryable", Config{}, group("w/t/data/p=read/", Standard, 900*day), GlacierIR, ""},
		{"archived but read: no uphill move, a warning", Config{}, group("w/t/data/p=archived/", Glacier, 900*day), "", "queries need a restore"},
		{"young unread data is not archived", Config{}, group("w/t/data/p=young/", Standard, 100*day), GlacierIR, ""},
		{"under 30 days: no IA, IT frequent tier saves nothing", Config{Classes: []StorageClass{StandardIA, IntelligentTiering}}, group("w/t/data/p=new/", Standard, 10*day), "", ""},
		{"past retention review may be archived", Config{Retention: map[string]time.Duration{"w/t": 60 * day}}, group("w/t/data/p=young/", Standard, 100*day), DeepArchive, ""},
		{"deep archive never moves", Config{}, group("w/t/data/p=old/", DeepArchive, 900*day), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Budgets, tt.cfg.SpendAll = us, true
			o, err := NewOptimizer(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := o.Plan(context.Background(), []Group{tt.g}, hist, planNow)
			if err != nil {
				t.Fatal(err)
			}
			var got StorageClass
			if len(plan.Actions) == 1 {
				got = plan.Actions[0].To
			}
			if got != tt.want {
				t.Errorf("moved to %q, want %q (actions %+v)", got, tt.want, plan.Actions)
			}
			if w := strings.Join(plan.Warnings, "\n"); tt.warning == "" && w != "" || !strings.Contains(w, tt.warning) {
				t.Errorf("warnings %q, want %q", w, tt.warning)
			}
		})
	}
}

// TestPlanMinimumDuration: leaving GLACIER_IR 10 days in costs 80 days of
// storage; worth it over a year's savings in DEEP_ARCHIVE, a loss over a
// month.
func TestPlanMinimumDuration(t *testing.T) {
	a := NewAggregator(planNow, map[string]string{"lake": "us"}, nil)
	if err := a.Add(Object{Bucket: "lake", Key: "w/t/data/p=1/f.parquet", Size: 100 * gib, Class: GlacierIR,
		LastModified: planNow.Add(-900 * day), ClassSince: planNow.Add(-10 * day)}); err != nil {
		t.Fatal(err)
	}
	hist := &RecordedHistory{Since: planNow.Add(-3 * 365 * day)}
	for _, tt := range []struct {
		horizon int
		moves   bool
	}{{12, true}, {1, false}} {
		o, err := NewOptimizer(Config{HorizonMonths: tt.horizon, SpendAll: true,
			Budgets: []RegionBudget{{Region: "us", PriceRegion: "us-east-1"}}})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := o.Plan(context.Background(), a.Groups(), hist, planNow)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(plan.Actions) == 1; got != tt.moves {
			t.Errorf("horizon %d months: moved = %v, want %v", tt.horizon, got, tt.moves)
		}
		if tt.moves {
			act := plan.Actions[0]
			// 80 days x 100 GiB at $0.004 per GiB-month, prorated over 30 days.
			if want := mulDiv(80*100*gib, int64(money(t, "0.004")), 30*gib); act.EarlyDeletion != want {
				t.Errorf("early deletion = %s, want %s", act.EarlyDeletion.Exact(), want.Exact())
			}
		}
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no budgets", Config{}, "no region budgets"},
		{"unknown price region", Config{Budgets: []RegionBudget{{Region: "eu", PriceRegion: "mars-1"}}}, "no prices for region"},
		{"duplicate", Config{Budgets: []RegionBudget{{Region: "eu", PriceRegion: "us-east-1"}, {Region: "eu", PriceRegion: "us-east-1"}}}, "listed twice"},
		{"windows", Config{Budgets: []RegionBudget{{Region: "eu", PriceRegion: "us-east-1"}}, ArchiveWindow: day, QueryableWindow: 2 * day}, "archive_window"},
	}
	for _, tt := range bad {
		if _, err := NewOptimizer(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	o, err := NewOptimizer(Config{Budgets: []RegionBudget{{Region: "eu", PriceRegion: "eu-central-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Plan(context.Background(), []Group{{Region: "us"}}, nil, planNow); err == nil || !strings.Contains(err.Error(), "has no budget") {
		t.Errorf("group of an unbudgeted region: error %v", err)
	}
}
