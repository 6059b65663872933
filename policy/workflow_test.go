package policy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/internal/store"
	"github.com/meridian-lake/meridian/policy"
	policies "github.com/meridian-lake/meridian/rego"
)

func openRegistry(t *testing.T) *policy.Registry {
	t.Helper()
	return openRegistryAt(t, filepath.Join(t.TempDir(), "state.db"))
}

// openRegistryAt opens a registry on the state database at path, as
// another process sharing it would.
func openRegistryAt(t *testing.T, path string) *policy.Registry {
	t.Helper()
	return openRegistryWith(t, store.Config{Path: path})
}

// openRegistryWith opens a registry with the shipped pack on the state
// database cfg describes, closed when tb ends.
func openRegistryWith(tb testing.TB, cfg store.Config) *policy.Registry {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	shipped, err := policy.LoadFS(policies.FS)
	if err != nil {
		tb.Fatal(err)
	}
	reg, err := policy.OpenRegistry(ctx, db, shipped, time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	return reg
}

// stricter is the shipped pack plus a rule, with its own test and data,
// that refuses every statement of the users in blocked: it denies more.
func stricter(t *testing.T, blocked []string) *policy.Pack {
	t.Helper()
	shipped, err := policy.LoadFS(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(map[string]any{"blocked": map[string]any{"users": blocked}})
	files := append(slices.Clone(shipped.Files),
		policy.File{Path: "blocked.rego", Data: []byte(`package meridian

violation contains {"rule": "org.blocked_user", "table": "", "message": msg} if {
	input.subject.user in data.data.blocked.users
	msg := sprintf("user %q is blocked; ask the DPO", [input.subject.user])
}
`)},
		policy.File{Path: "blocked_test.rego", Data: []byte(`package meridian_test

import data.meridian

test_blocked_user_is_denied if {
	not meridian.decision.allow with input as {"version": 1, "subject": {"user": "` + blocked[0] + `"}}
}
`)},
		policy.File{Path: "data/blocked.json", Data: data},
	)
	p, err := policy.NewPack(files)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func tablesOf(in *policy.Input) []string {
	var out []string
	for _, t := range in.Tables {
		out = append(out, t.Name)
	}
	return out
}

// TestComplianceWorkflow: record 1,000 decisions, dry-run a candidate that
// denies more and see exactly the decisions that change, activate it and see
// new decisions follow it, roll back and see the old behaviour again.
func TestComplianceWorkflow(t *testing.T) {
	ctx := context.Background()
	reg := openRegistry(t)
	eng := reg.Engine()
	active, err := reg.ActiveID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	scenarios := loadScenarios(t)
	var plain []scenario // scenarios that use the shipped data as it is
	for _, sc := range scenarios {
		if sc.Data == nil {
			plain = append(plain, sc)
		}
	}

	// The candidate blocks the "-3" users. Record 1,000 decisions made by the
	// active version; those of blocked users that were allowed must flip.
	var blocked []string
	for _, sc := range plain {
		if u := sc.Input.Subject.User + "-3"; !slices.Contains(blocked, u) {
			blocked = append(blocked, u)
		}
	}
	candPack := stricter(t, blocked)
	cand, err := policy.Compile(ctx, candPack)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	wantChanged := map[string]bool{}
	for i := range 1000 {
		sc := plain[i%len(plain)]
		in := sc.Input
		in.Subject.User = fmt.Sprintf("%s-%d", in.Subject.User, i%7)
		d, err := eng.Decide(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		rec := &policy.Record{ID: fmt.Sprintf("d%04d", i), At: t0.Add(time.Duration(i) * time.Second), QueryID: fmt.Sprintf("q%04d", i),
			User: in.Subject.User, Fingerprint: "fp", Statement: "SELECT ? FROM t", Tables: tablesOf(&in),
			Allow: d.Allow, Regions: d.Regions, Violations: d.Violations, VersionID: active, Input: &in}
		if err := reg.Write(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if d.Allow && strings.HasSuffix(in.Subject.User, "-3") {
			wantChanged[rec.ID] = true
		}
	}
	if len(wantChanged) < 50 {
		t.Fatalf("only %d recorded allows of blocked users; the test needs more", len(wantChanged))
	}

	// Dry run: exactly the decisions of the flipping scenarios change.
	rep, err := reg.Impact(ctx, cand, policy.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Evaluated != 1000 {
		t.Errorf("impact evaluated %d decisions, want 1000", rep.Evaluated)
	}
	got := map[string]bool{}
	for _, c := range rep.Changes {
		got[c.DecisionID] = true
		if c.Kind != policy.AllowToDeny {
			t.Errorf("change %s is %s; switching aggregate export off can only deny more", c.DecisionID, c.Kind)
		}
	}
	if len(got) != len(wantChanged) || rep.Changed != len(wantChanged) || rep.AllowToDeny != len(wantChanged) {
		t.Errorf("impact changed %d decisions (%d allow→deny), want exactly %d", rep.Changed, rep.AllowToDeny, len(wantChanged))
	}
	for id := range wantChanged {
		if !got[id] {
			t.Errorf("decision %s should change and is not reported", id)
		}
	}
	if len(rep.ByRule) != 1 || rep.ByRule[0].Key != "org.blocked_user" || rep.ByRule[0].Count != len(wantChanged) || len(rep.ByRule[0].Examples) == 0 {
		t.Errorf("groups by rule = %+v, want org.blocked_user with every change", rep.ByRule)
	}
	for _, g := range rep.ByUser {
		if !strings.HasSuffix(g.Key, "-3") {
			t.Errorf("a change is attributed to user %s, who is not blocked", g.Key)
		}
	}

	// Activate the candidate: new decisions follow it.
	v, err := reg.Push(ctx, candPack, "dora", "block the -3 users")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Activate(ctx, v.ID, "dora"); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	agg := scenarioNamed(t, scenarios, "aggregate export: US user counts EU users by country; only aggregates leave the EEA, k = 10")
	agg.Input.Subject.User += "-3"
	if d, _ := eng.Decide(ctx, &agg.Input); d.Allow {
		t.Errorf("after activating the stricter version, a blocked user is still allowed")
	}

	// Roll back: the shipped version serves again.
	back, err := reg.Rollback(ctx, "dora")
	if err != nil {
		t.Fatal(err)
	}
	if back.ID != active {
		t.Errorf("rollback activated version %d, want %d", back.ID, active)
	}
	if d, _ := eng.Decide(ctx, &agg.Input); !d.Allow {
		t.Errorf("after rollback, the blocked user is still denied: %+v", d)
	}
	hist, _ := reg.History(ctx, 0)
	var actions []string
	for _, a := range hist {
		actions = append(actions, fmt.Sprintf("%s %d by %s", a.Action, a.VersionID, a.Actor))
	}
	want := []string{fmt.Sprintf("rollback %d by dora", active), fmt.Sprintf("activate %d by dora", v.ID), fmt.Sprintf("activate %d by meridian", active)}
	if !slices.Equal(actions, want) {
		t.Errorf("history = %v, want %v", actions, want)
	}
}

func scenarioNamed(t *testing.T, scs []scenario, name string) scenario {
	t.Helper()
	for _, sc := range scs {
		if sc.Name == name {
			return sc
		}
	}
	t.Fatalf("no scenario %q", name)
	return scenario{}
}

// TestActivationRefusesFailingVersion: a candidate whose tests fail is
// stored but cannot be activated; the active version keeps serving.
func TestActivationRefusesFailingVersion(t *testing.T) {
	ctx := context.Background()
	reg := openRegistry(t)
	before := reg.Engine().Active()
	bad, err := policy.NewPack([]policy.File{
		{Path: "p.rego", Data: []byte("package meridian\ndecision := {\"allow\": false, \"regions\": [], \"violations\": []}\n")},
		{Path: "p_test.rego", Data: []byte("package meridian_test\nimport data.meridian\ntest_allows if meridian.decision.allow\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := reg.Push(ctx, bad, "mallory", "allow nothing, claim otherwise")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if v.Tests.Failed != 1 {
		t.Errorf("recorded tests = %+v, want 1 failure", v.Tests)
	}
	_, err = reg.Activate(ctx, v.ID, "mallory")
	if err == nil || !strings.Contains(err.Error(), "test_allows") || !strings.Contains(err.Error(), "p_test.rego:3") {
		t.Errorf("Activate of a failing version: %v, want an error naming the failing test and where", err)
	}
	if reg.Engine().Active() != before {
		t.Errorf("a refused activation changed the active version")
	}
	if _, err := reg.Rollback(ctx, "dora"); err == nil {
		t.Errorf("Rollback with one activation succeeded")
	}
	// A syntax error is refused at upload.
	if _, err := policy.NewPack([]policy.File{{Path: "x.rego", Data: []byte("package meridian\ndecision := {\n")}}); err == nil {
		t.Errorf("a pack with a syntax error was accepted")
	}
}

// TestDecisionQueries: records are found by user, table, outcome, rule and
// time, and retention purges old ones.
func TestDecisionQueries(t *testing.T) {
	ctx := context.Background()
	reg := openRegistry(t)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	write := func(id, user string, tables []string, allow bool, rules []string, at time.Time) {
		var vs []policy.Violation
		for _, r := range rules {
			vs = append(vs, policy.Violation{Rule: r, Message: "m"})
		}
		in := &policy.Input{Version: 1, Subject: policy.Subject{User: user}}
		if err := reg.Write(ctx, &policy.Record{ID: id, At: at, User: user, Tables: tables, Allow: allow, Violations: vs, Input: in}); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "anna", []string{"iceberg.eu.guests"}, true, nil, t0)
	write("b", "sam", []string{"iceberg.eu.guests", "iceberg.us.bookings"}, false, []string{"gdpr.transfer", "gdpr.purpose"}, t0.Add(time.Hour))
	write("c", "sam", []string{"iceberg.us.bookings"}, true, nil, t0.Add(2*time.Hour))
	ids := func(f policy.Filter) []string {
		recs, err := reg.Decisions(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range recs {
			out = append(out, r.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    policy.Filter
		want []string
	}{
		{"all, newest first", policy.Filter{}, []string{"c", "b", "a"}},
		{"by user", policy.Filter{User: "sam"}, []string{"c", "b"}},
		{"by table", policy.Filter{Table: "iceberg.eu.guests"}, []string{"b", "a"}},
		{"by outcome", policy.Filter{Outcome: "deny"}, []string{"b"}},
		{"by rule", policy.Filter{Rule: "gdpr.purpose"}, []string{"b"}},
		{"by time", policy.Filter{From: t0.Add(30 * time.Minute), To: t0.Add(90 * time.Minute)}, []string{"b"}},
		{"limit", policy.Filter{Limit: 1}, []string{"c"}},
	} {
		if got := ids(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	recs, _ := reg.Decisions(ctx, policy.Filter{User: "sam", Outcome: "deny"})
	if len(recs) != 1 || len(recs[0].Tables) != 2 || len(recs[0].Violations) != 2 {
		t.Errorf("record b read back as %+v", recs)
	}
	if n, err := reg.Purge(ctx, t0.Add(90*time.Minute)); err != nil || n != 2 {
		t.Errorf("Purge = %d, %v; want 2", n, err)
	}
	if got := ids(policy.Filter{}); !slices.Equal(got, []string{"c"}) {
		t.Errorf("after purge: %v, want [c]", got)
	}
	if got := ids(policy.Filter{Table: "iceberg.eu.guests"}); len(got) != 0 {
		t.Errorf("purged records still indexed by table: %v", got)
	}
}

// TestRefreshFollowsOtherProcesses: a version activated by another process
// sharing the state store (the CLI, another replica) is served after
// Refresh; the version id of each decision is reported.
func TestRefreshFollowsOtherProcesses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	server, cli := openRegistryAt(t, path), openRegistryAt(t, path)
	in := fiveTables(t)
	in.Subject.User = "blocked-user"
	d, v1, err := server.Engine().DecideVersion(ctx, in)
	if err != nil || !d.Allow || v1 == 0 {
		t.Fatalf("before: %+v version %d, %v", d, v1, err)
	}
	v, err := cli.Push(ctx, stricter(t, []string{"blocked-user"}), "dora", "block one user")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Activate(ctx, v.ID, "dora"); err != nil {
		t.Fatal(err)
	}
	if changed, err := server.Refresh(ctx); err != nil || !changed {
		t.Fatalf("Refresh = %v, %v; want a change", changed, err)
	}
	d, v2, _ := server.Engine().DecideVersion(ctx, in)
	if d.Allow || v2 != v.ID {
		t.Fatalf("after refresh: %+v by version %d; want a deny by version %d", d, v2, v.ID)
	}
	if changed, _ := server.Refresh(ctx); changed {
		t.Error("a second Refresh changed the engine again")
	}
	if _, err := cli.Rollback(ctx, "dora"); err != nil {
		t.Fatal(err)
	}
	server.Refresh(ctx)
	if d, v3, _ := server.Engine().DecideVersion(ctx, in); !d.Allow || v3 != v1 {
		t.Fatalf("after rollback: %+v by version %d; want an allow by %d", d, v3, v1)
	}
}

// Concurrent writers share commits, and every record is stored once.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	reg := openRegistry(t)
	in := fiveTables(t)
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- reg.Write(ctx, &policy.Record{ID: fmt.Sprintf("g%03d", i), At: time.Now(), User: "u", Statement: "SELECT ?",
				Tables: []string{"iceberg.eu.guests"}, Regions: []string{"eu"}, Input: in})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A bad record fails alone.
	if err := reg.Write(ctx, &policy.Record{ID: "", Input: in}); err == nil {
		t.Fatal("a record without an id was written")
	}
	recs, err := reg.Decisions(ctx, policy.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("%d records stored, want %d", len(recs), n)
	}
}
