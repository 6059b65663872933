package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/meridian-lake/meridian/internal/store"
	policies "github.com/meridian-lake/meridian/rego"
)

// shippedCompiled compiles the shipped pack.
func shippedCompiled(tb testing.TB) *Compiled {
	tb.Helper()
	p, err := LoadFS(policies.FS)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := Compile(context.Background(), p)
	if err != nil {
		tb.Fatal(err)
	}
	if c.Evaluator() != "plan" {
		tb.Fatalf("the shipped pack decides with %s, want its plan", c.Evaluator())
	}
	return c
}

// FuzzPlanEquivalence: on any JSON input, the shipped pack's plan decides
// exactly as topdown does (errors count as equal whatever their wording).
// The seeds are the scenarios' inputs.
func FuzzPlanEquivalence(f *testing.F) {
	raw, err := os.ReadFile("testdata/scenarios.json")
	if err != nil {
		f.Fatal(err)
	}
	var scs []rawScenario
	if err := json.Unmarshal(raw, &scs); err != nil {
		f.Fatal(err)
	}
	for _, sc := range scs {
		f.Add([]byte(sc.Input))
	}
	f.Add([]byte(`{"version": 1, "tables": [1, "x", null, {}], "statement": {"opaque": {"a": 1}}}`))
	f.Add([]byte(`{"version": 1.0, "subject": {"region": 7, "purposes": "analytics"}, "request": {"client_tags": ["purpose=a", "purpose=b"]}}`))
	c := shippedCompiled(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64<<10 {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var in any
		if dec.Decode(&in) != nil {
			return
		}
		v, err := ast.InterfaceToValue(in)
		if err != nil {
			return
		}
		want, got := errorless(rawDecision(c, v)), planDecision(c, v)
		if want != got {
			t.Fatalf("input %s\ntopdown: %s\nplan:    %s", b, want, got)
		}
	})
}

// TestPlanFailsClosed: a plan that cannot finish denies, as topdown does —
// a conflict between rule bodies, a cancelled or timed-out evaluation.
func TestPlanFailsClosed(t *testing.T) {
	ctx := context.Background()
	conflict, err := NewPack([]File{{Path: "meridian.rego", Data: []byte(`package meridian

decision := {"allow": true, "regions": ["eu"], "violations": []} if input.a
decision := {"allow": true, "regions": ["us"], "violations": []} if input.b
`)}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(ctx, conflict)
	if err != nil {
		t.Fatal(err)
	}
	if c.Evaluator() != "plan" {
		t.Fatalf("evaluator %s, want plan", c.Evaluator())
	}
	d, err := c.evaluate(ctx, &Input{Version: 1}, time.Second)
	if err == nil || d.Allow || d.Violations[0].Rule != RuleUndefined {
		t.Errorf("neither body holds: %+v, %v; want a %s deny", d, err, RuleUndefined)
	}
	both := ast.MustParseTerm(`{"a": true, "b": true}`).Value
	if _, err := c.eval(ctx, both, nil); err == nil || !strings.Contains(err.Error(), "(at meridian.rego:") {
		t.Errorf("both bodies hold with different values: the plan's error is %v, want a conflict placed in meridian.rego", err)
	}
	if _, err := topdownOnly(c).eval(ctx, both, nil); err == nil {
		t.Error("both bodies hold with different values: no error from topdown")
	}

	// Cancelled: the shipped pack on a big input, with the cancel already
	// given, stops with an error (a decision reads more than checkEvery
	// statements).
	s := shippedCompiled(t)
	in := &Input{Version: 1, Subject: Subject{User: "u", Region: "eu"}}
	for range 200 {
		in.Tables = append(in.Tables, Table{Name: "iceberg.eu.t", Access: "read", Region: "eu", Classification: "personal"})
	}
	cancel := topdown.NewCancel()
	cancel.Cancel()
	if _, err := s.eval(ctx, in.value(), cancel); err == nil || !strings.Contains(err.Error(), "cancel") {
		t.Errorf("cancelled evaluation: %v, want a cancellation error", err)
	}
	done, stop := context.WithCancel(ctx)
	stop()
	d, err = s.evaluate(done, in, time.Second)
	if !errors.Is(err, context.Canceled) || d.Allow || d.Violations[0].Rule != RuleTimeout {
		t.Errorf("evaluation under a cancelled context: %+v, %v; want a %s deny", d, err, RuleTimeout)
	}
}

// TestPlanTimeout: the evaluation timeout stops a plan that runs long (nine
// million loop steps) and denies with policy.timeout.
func TestPlanTimeout(t *testing.T) {
	p, err := NewPack([]File{{Path: "meridian.rego", Data: []byte(`package meridian

decision := {"allow": true, "regions": ["eu"], "violations": []} if {
	count([1 | some x in numbers.range(1, 3000); some y in numbers.range(1, 3000); x == y]) > 0
}
`)}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Evaluator() != "plan" {
		t.Fatalf("evaluator %s, want plan", c.Evaluator())
	}
	start := time.Now()
	d, err := NewEngine(c, 50*time.Millisecond).Decide(context.Background(), &Input{Version: 1})
	if err == nil || d.Allow || len(d.Violations) != 1 || d.Violations[0].Rule != RuleTimeout {
		t.Errorf("Decide = %+v, %v; want a deny with rule %s", d, err, RuleTimeout)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("a 50ms timeout took %s", el)
	}
}

// TestCheckPlanOnRecordedDecisions: a stored version's plan must decide the
// recorded inputs as topdown does before it serves; a plan that does not
// (here, the plan of another pack put in its place) leaves the version to
// topdown, its evaluator naming the recorded decision.
func TestCheckPlanOnRecordedDecisions(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	shipped, err := LoadFS(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := OpenRegistry(ctx, db, shipped, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for i, sc := range loadScenarioInputs(t) {
		if err := reg.Write(ctx, &Record{ID: fmt.Sprintf("d%03d", i), At: time.Now(), User: "u", Input: sc}); err != nil {
			t.Fatal(err)
		}
	}

	// The shipped pack's plan agrees on every scenario: it keeps deciding.
	id, err := reg.ActiveID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := reg.Compiled(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Evaluator() != EvaluatorPlan {
		t.Fatalf("the shipped version decides with %s, want its plan", c.Evaluator())
	}

	// A plan that allows everything, in place of the shipped pack's.
	allowAll, err := NewPack([]File{{Path: "meridian.rego", Data: []byte(`package meridian

decision := {"allow": true, "regions": ["eu"], "violations": []}
`)}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := Compile(ctx, allowAll)
	if err != nil {
		t.Fatal(err)
	}
	c.plan, c.data = other.plan, other.data
	if err := reg.checkPlan(ctx, c); err != nil {
		t.Fatal(err)
	}
	if ev := c.Evaluator(); !strings.HasPrefix(ev, "topdown: its plan decided recorded decision d") {
		t.Fatalf("evaluator after a disagreeing plan: %s", ev)
	}
	d, err := c.evaluate(ctx, &Input{Version: 1}, time.Second)
	if err != nil || d.Allow {
		t.Errorf("the version falls back to topdown: decision %+v, %v; want the shipped pack's deny", d, err)
	}
}

// loadScenarioInputs are the inputs of testdata/scenarios.json.
func loadScenarioInputs(t *testing.T) []*Input {
	t.Helper()
	raw, err := os.ReadFile("testdata/scenarios.json")
	if err != nil {
		t.Fatal(err)
	}
	var scs []struct {
		Input Input `json:"input"`
	}
	if err := json.Unmarshal(raw, &scs); err != nil {
		t.Fatal(err)
	}
	out := make([]*Input, len(scs))
	for i := range scs {
		out[i] = &scs[i].Input
	}
	return out
}
