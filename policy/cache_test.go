package policy_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/policy"
)

func compileRego(t *testing.T, src string) *policy.Compiled {
	t.Helper()
	p, err := policy.NewPack([]policy.File{{Path: "p.rego", Data: []byte(src)}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := policy.Compile(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A repeated statement, differing only in its query id, is decided from the
// cache, with the same decision; callers cannot change a cached decision.
func TestDecisionCacheRepeats(t *testing.T) {
	c := defaultPack(t)
	if st := c.CacheStats(); !st.Enabled || st.KeysQueryID {
		t.Fatalf("default pack cache = %+v; want enabled, keyed without the query id", st)
	}
	ctx := context.Background()
	in := fiveTables(t)
	first, err := c.Decide(ctx, in, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	again := *in
	again.Request.QueryID = "20261122_000000_00001_other"
	second, err := c.Decide(ctx, &again, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Fatalf("cached decision differs (-first +second):\n%s", diff)
	}
	if st := c.CacheStats(); st.Hits != 1 || st.Misses != 1 || st.Entries != 1 {
		t.Fatalf("stats = %+v; want 1 hit, 1 miss, 1 entry", st)
	}
	second.Regions[0] = "mars"
	second.Allow = !second.Allow
	third, _ := c.Decide(ctx, in, time.Second)
	if diff := cmp.Diff(first, third); diff != "" {
		t.Fatalf("a caller changed the cached decision (-want +got):\n%s", diff)
	}
	// Any other change is a different input: a different user misses.
	other := *in
	other.Subject.User = "someone-else"
	if _, err := c.Decide(ctx, &other, time.Second); err != nil {
		t.Fatal(err)
	}
	if st := c.CacheStats(); st.Misses != 2 {
		t.Fatalf("stats = %+v; want a miss for another user", st)
	}
}

// A pack that reads the query id keys the cache on it, so its decisions
// follow the query id.
func TestDecisionCacheQueryIDPack(t *testing.T) {
	c := compileRego(t, `package meridian
decision := {"allow": input.request.query_id != "blocked", "regions": ["eu"], "violations": v} if {
	v := [{"rule": "x.blocked", "message": "blocked"} | input.request.query_id == "blocked"]
}
`)
	if st := c.CacheStats(); !st.KeysQueryID {
		t.Fatalf("stats = %+v; want the query id in the key", st)
	}
	ctx := context.Background()
	in := &policy.Input{Version: 1, Request: policy.Request{QueryID: "ok"}}
	if d, _ := c.Decide(ctx, in, time.Second); !d.Allow {
		t.Fatalf("ok query denied: %+v", d)
	}
	in.Request.QueryID = "blocked"
	if d, _ := c.Decide(ctx, in, time.Second); d.Allow {
		t.Fatalf("blocked query allowed from the cache: %+v", d)
	}
	// Whatever may reach the query id counts as reading it; looking at a
	// section's type does not.
	for body, keyed := range map[string]bool{
		`r := input.request; r.purpose == ""`:                    true,
		`f(input.request)`:                                       true,
		`some k, v in input.request; k == v`:                     true,
		`x := input; x.version == 1`:                             true,
		`k := "query_id"; input.request[k] == ""`:                true,
		`data.blocked[input.request.query_id]`:                   true,
		`object.get(input, ["request", "query_id"], "")`:         true,
		`is_object(input.request); type_name(input) == "object"`: false,
		`input.request.purpose == ""; input.version == 1`:        false,
	} {
		c = compileRego(t, "package meridian\nf(_) := true\ndecision := {\"allow\": true, \"regions\": [\"eu\"], \"violations\": []} if { "+body+" }\n")
		if st := c.CacheStats(); st.KeysQueryID != keyed {
			t.Errorf("%s: stats = %+v; want query id keyed %v", body, st, keyed)
		}
	}
}

// Every scenario decides the same from the cache as when evaluated.
func TestDecisionCacheScenarios(t *testing.T) {
	c := defaultPack(t)
	ctx := context.Background()
	for _, sc := range loadScenarios(t) {
		if sc.Data != nil {
			continue
		}
		in := sc.Input
		first, err1 := c.Decide(ctx, &in, time.Second)
		second, err2 := c.Decide(ctx, &in, time.Second)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v, %v", sc.Name, err1, err2)
		}
		if diff := cmp.Diff(first, second); diff != "" {
			t.Errorf("%s: cached decision differs:\n%s", sc.Name, diff)
		}
	}
	if st := c.CacheStats(); st.Hits == 0 {
		t.Fatalf("no hits: %+v", st)
	}
}

// A pack calling a non-deterministic builtin is never cached.
func TestDecisionCacheNondeterministic(t *testing.T) {
	c := compileRego(t, `package meridian
decision := {"allow": time.now_ns() > 0, "regions": ["eu"], "violations": []}
`)
	if st := c.CacheStats(); st.Enabled {
		t.Fatalf("stats = %+v; want no cache for time.now_ns", st)
	}
	in := &policy.Input{Version: 1}
	for range 2 {
		if d, err := c.Decide(context.Background(), in, time.Second); err != nil || !d.Allow {
			t.Fatalf("Decide = %+v, %v", d, err)
		}
	}
}
