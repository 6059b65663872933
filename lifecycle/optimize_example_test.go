package lifecycle_test

import (
	"context"
	"fmt"
	"time"

	"github.com/meridian-lake/meridian/lifecycle"
)

// Two partitions of a table, 10 TiB each in STANDARD, written two years
// ago: one read last week, one never. With a $300 a month budget the
// unread one goes to DEEP_ARCHIVE and the read one to GLACIER_IR, which
// queries can still read.
func ExampleOptimizer_Plan() {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	agg := lifecycle.NewAggregator(now, map[string]string{"lake-eu": "eu"}, nil)
	for _, part := range []string{"day=2024-05-01", "day=2024-05-02"} {
		for i := range 10 {
			agg.Add(lifecycle.Object{Bucket: "lake-eu", Key: fmt.Sprintf("wh/bookings/data/%s/%d.parquet", part, i),
				Size: 1 << 40, Class: lifecycle.Standard, LastModified: now.AddDate(-2, 0, 0)})
		}
	}
	hist := &lifecycle.RecordedHistory{Since: now.AddDate(-3, 0, 0), Reads: map[[2]string]lifecycle.Access{
		{"wh/bookings", "day=2024-05-01"}: {Last: now.AddDate(0, 0, -7), Count: 3},
	}}
	opt, err := lifecycle.NewOptimizer(lifecycle.Config{Budgets: []lifecycle.RegionBudget{
		{Region: "eu", PriceRegion: "eu-central-1", Monthly: lifecycle.Dollars(300)}}})
	if err != nil {
		panic(err)
	}
	plan, err := opt.Plan(context.Background(), agg.Groups(), hist, now)
	if err != nil {
		panic(err)
	}
	for _, a := range plan.Actions {
		fmt.Printf("%s: %s -> %s (%s)\n", a.Partition, a.From, a.To, a.Reason)
	}
	r := plan.Regions[0]
	fmt.Printf("now %s, projected %s, budget %s, met %v\n", r.Current, r.Projected, r.Budget, r.MeetsBudget)
	// Output:
	// day=2024-05-01: STANDARD -> GLACIER_IR (read 3 times, last 2026-05-25: kept queryable)
	// day=2024-05-02: STANDARD -> DEEP_ARCHIVE (not read within the archive window)
	// now $501.76, projected $86.53, budget $300.00, met true
}
