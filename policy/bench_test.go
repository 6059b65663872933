package policy_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/internal/store"
	"github.com/meridian-lake/meridian/policy"
)

// fiveTables is the scenario of a five-table statement across three regions.
func fiveTables(tb testing.TB) *policy.Input {
	for _, sc := range loadScenarios(tb) {
		if strings.HasPrefix(sc.Name, "aggregate export: five tables across three regions") {
			if len(sc.Input.Tables) != 5 {
				tb.Fatalf("scenario has %d tables, want 5", len(sc.Input.Tables))
			}
			in := sc.Input
			return &in
		}
	}
	tb.Fatal("no five-table scenario")
	return nil
}

// BenchmarkDecide measures one decision for a five-table statement with the
// default pack, side by side:
//
//   - cold: every input is new (another user each time), so the policy is
//     evaluated every time, by the version's plan (internal/regoplan), as
//     served;
//   - cold-topdown: the same inputs decided by OPA's topdown evaluator
//     (policy.evaluator: topdown), for the ratio;
//   - repeated: the same statement again with a new query id each time, as
//     dashboards and scheduled jobs send it, decided from the version's
//     decision cache.
//
// Each reports p50/p99 over 100,000 decisions on one goroutine and the
// throughput of 2 goroutines. Targets: p99 under 200 µs, at least 10,000
// decisions per second per core. <mode>/op is one decision per op, for its
// time and allocations (the garbage collector's share of a decision grows
// with what it allocates).
func BenchmarkDecide(b *testing.B) {
	in := fiveTables(b)
	ctx := context.Background()
	plan := func(tb testing.TB) *policy.Compiled { return defaultPack(tb) }
	topdown := func(tb testing.TB) *policy.Compiled {
		if err := policy.SetEvaluator(policy.EvaluatorTopdown); err != nil {
			tb.Fatal(err)
		}
		defer policy.SetEvaluator(policy.EvaluatorPlan)
		c := defaultPack(tb)
		if !strings.HasPrefix(c.Evaluator(), "topdown") {
			tb.Fatalf("evaluator %s, want topdown", c.Evaluator())
		}
		return c
	}
	newUser := func(in *policy.Input, i int) { in.Subject.User = "user" + strconv.Itoa(i) }
	newQueryID := func(in *policy.Input, i int) { in.Request.QueryID = "20261122_000000_" + strconv.Itoa(i) }
	for _, mode := range []struct {
		name    string
		compile func(testing.TB) *policy.Compiled
		// vary returns the i-th input of a run: a new user (cold) or only a
		// new query id (repeated).
		vary func(in *policy.Input, i int)
	}{
		{"cold", plan, newUser},
		{"cold-topdown", topdown, newUser},
		{"repeated", plan, newQueryID},
	} {
		if d, err := policy.NewEngine(mode.compile(b), time.Second).Decide(ctx, in); err != nil || !d.Allow {
			b.Fatalf("%s: Decide = %+v, %v; want an allow", mode.name, d, err)
		}
		b.Run(mode.name+"/latency", func(b *testing.B) {
			const n = 100_000
			lat := make([]time.Duration, 0, n)
			inputs := make([]policy.Input, n)
			for i := range inputs {
				inputs[i] = *in
				mode.vary(&inputs[i], i)
			}
			b.ReportAllocs()
			for b.Loop() {
				eng := policy.NewEngine(mode.compile(b), time.Second) // a cold cache each round
				lat = lat[:0]
				for i := range inputs {
					t0 := time.Now()
					if _, err := eng.Decide(ctx, &inputs[i]); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
		})
		b.Run(mode.name+"/op", func(b *testing.B) {
			eng := policy.NewEngine(mode.compile(b), time.Second)
			x := *in
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				mode.vary(&x, i)
				i++
				if _, err := eng.Decide(ctx, &x); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(mode.name+"/throughput-2-goroutines", func(b *testing.B) {
			const per = 20_000
			inputs := make([]policy.Input, 2*per)
			for i := range inputs {
				inputs[i] = *in
				mode.vary(&inputs[i], i)
			}
			for b.Loop() {
				eng := policy.NewEngine(mode.compile(b), time.Second)
				start := time.Now()
				var wg sync.WaitGroup
				for g := range 2 {
					wg.Go(func() {
						for i := g * per; i < (g+1)*per; i++ {
							eng.Decide(ctx, &inputs[i])
						}
					})
				}
				wg.Wait()
				b.ReportMetric(float64(2*per)/time.Since(start).Seconds(), "decisions/s")
			}
		})
	}
}

// BenchmarkImpact dry-runs a candidate over 100,000 recorded decisions
// (target: under 30 s), reporting decisions per second.
func BenchmarkImpact(b *testing.B) {
	ctx := context.Background()
	reg := openRegistryWith(b, store.Config{Path: filepath.Join(b.TempDir(), "state.db")})
	var inputs []policy.Input
	for _, sc := range loadScenarios(b) {
		if sc.Data == nil {
			inputs = append(inputs, sc.Input)
		}
	}
	const n = 100_000
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]*policy.Record, 0, 5000)
	for i := range n {
		in := inputs[i%len(inputs)]
		in.Subject.User = fmt.Sprintf("u%d", i%50)
		d, _ := reg.Engine().Decide(ctx, &in)
		batch = append(batch, &policy.Record{ID: fmt.Sprintf("d%06d", i), At: t0.Add(time.Duration(i) * time.Second),
			User: in.Subject.User, Statement: "SELECT ?", Tables: tablesOf(&in), Allow: d.Allow, Regions: d.Regions,
			Violations: d.Violations, Input: &in})
		if len(batch) == cap(batch) {
			if err := reg.WriteBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	cand := reg.Engine().Active()
	b.ResetTimer()
	for b.Loop() {
		rep, err := reg.Impact(ctx, cand, policy.Filter{Limit: n})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Evaluated != n {
			b.Fatalf("evaluated %d, want %d", rep.Evaluated, n)
		}
		b.ReportMetric(float64(n)/rep.Elapsed.Seconds(), "decisions/s")
		b.ReportMetric(rep.Elapsed.Seconds(), "s/100k")
	}
}
