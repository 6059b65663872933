package regoplan_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	tdown "github.com/open-policy-agent/opa/v1/topdown"

	"github.com/meridian-lake/meridian/internal/regoplan"
)

// TestPrepareRefuses holds Prepare to refusing, with a reason, what it
// cannot run exactly as OPA does, so that the caller keeps topdown.
func TestPrepareRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		modules map[string]string
		opts    compileOpts
		reason  string // a part of one of the reasons
	}{
		{"with in a rule body", mod(`package t
f := input.a
r := x if x := f with input.a as 1`), compileOpts{}, "WithStmt"},
		{"time.now_ns", mod(`package t
r := time.now_ns() > input.a`), compileOpts{}, "time.now_ns"},
		{"rand.intn", mod(`package t
r := rand.intn("k", 10)`), compileOpts{}, "rand.intn"},
		{"http.send", mod(`package t
r := http.send({"method": "GET", "url": input.url})`), compileOpts{}, "http.send"},
		{"uuid.rfc4122", mod(`package t
r := uuid.rfc4122(input.a)`), compileOpts{}, "uuid.rfc4122"},
		{"print with print statements enabled", mod(`package t
r := input.a if print("a is", input.a)`), compileOpts{printStatements: true}, "print"},
		{"trace", mod(`package t
r := input.a if trace("a")`), compileOpts{}, "trace"},
		{"opa.runtime", mod(`package t
r := opa.runtime()`), compileOpts{}, "opa.runtime"},
		{"a rule of a package chosen at run time", map[string]string{
			"p.rego": `package p
a := 1
b := 2`,
			"t.rego": `package t
r := data.p[input.k]`,
		}, compileOpts{}, "CallDynamicStmt"},
		{"a whole package as a document", map[string]string{
			"p.rego": `package p
a := 1
b contains x if some x in input.xs`,
			"t.rego": `package t
r := data.p`,
		}, compileOpts{}, "ObjectMergeStmt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prog, err := regoplan.Prepare(planOf(t, compile(t, tc.modules, tc.opts), "data.t.r"), nil)
			var ue *regoplan.UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("Prepare = %v, %v; want an *UnsupportedError", prog, err)
			}
			if prog != nil {
				t.Errorf("Prepare returned a program beside its error")
			}
			found := false
			for _, r := range ue.Reasons {
				found = found || strings.Contains(r, tc.reason)
			}
			if !found {
				t.Errorf("Prepare reasons = %q, want one naming %q", ue.Reasons, tc.reason)
			}
		})
	}
}

// TestPrintWithoutPrintStatements: a compiler that does not enable print
// statements erases print calls, so the plan runs.
func TestPrintWithoutPrintStatements(t *testing.T) {
	t.Parallel()
	runDifferentials(t, []differential{{
		name: "print erased",
		modules: mod(`package t
r := input.a if print("a is", input.a)`),
		inputs: []string{`{"a": 1}`},
		want:   map[string]string{`{"a": 1}`: `1`},
	}})
}

// TestPrepareRefusesUndeclaredBuiltins: a plan calling a built-in missing
// from the declarations given to Prepare is refused.
func TestPrepareRefusesUndeclaredBuiltins(t *testing.T) {
	t.Parallel()
	pol := planOf(t, compile(t, mod(`package t
r := upper(input.a)`), compileOpts{}), "data.t.r")
	_, err := regoplan.Prepare(pol, map[string]*ast.Builtin{"count": ast.Count})
	var ue *regoplan.UnsupportedError
	if !errors.As(err, &ue) || !strings.Contains(ue.Error(), "upper") {
		t.Fatalf("Prepare with only count declared = %v, want an *UnsupportedError naming upper", err)
	}
	if _, err := regoplan.Prepare(pol, nil); err != nil {
		t.Fatalf("Prepare with OPA's built-ins = %v, want a program", err)
	}
	if _, err := regoplan.Prepare(nil, nil); err == nil {
		t.Errorf("Prepare(nil) = nil error, want one")
	}
}

// crossModule scans two ranges of input.m numbers against each other: for
// m = 2000, four million steps, far more than a cancellation check's
// interval.
var crossModule = mod(`package t
r := count([1 |
	some x in numbers.range(1, input.m)
	some y in numbers.range(1, input.m)
	x + y == input.n
])`)

func TestCancellation(t *testing.T) {
	t.Parallel()
	prog, err := plan(t, crossModule, "data.t.r")
	if err != nil {
		t.Fatalf("Prepare = %v", err)
	}
	pq := topdown(t, crossModule, "data.t.r", nil)
	input := parseJSON(t, `{"n": 100, "m": 2000}`)
	data := ast.NewObject()

	t.Run("external cancel", func(t *testing.T) {
		t.Parallel()
		cancel := tdown.NewCancel()
		cancel.Cancel()
		got := runPlan(context.Background(), prog, input, data, regoplan.Options{Cancel: cancel})
		if got.err == nil {
			t.Errorf("plan with a cancelled Cancel = %v, want an error", got)
		}
		want := runTopdown(context.Background(), pq, input, rego.EvalExternalCancel(cancel))
		if want.err == nil {
			t.Errorf("topdown with a cancelled Cancel = %v, want an error", want)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		got := runPlan(ctx, prog, input, data, regoplan.Options{})
		if got.err == nil || !errors.Is(got.err, context.Canceled) {
			t.Errorf("plan with a cancelled context = %v, want an error wrapping context.Canceled", got)
		}
		want := runTopdown(ctx, pq, input)
		if want.err == nil {
			t.Errorf("topdown with a cancelled context = %v, want an error", want)
		}
	})
	t.Run("not cancelled", func(t *testing.T) {
		t.Parallel()
		// 2500 steps: past several cancellation checks, yet quick.
		small := parseJSON(t, `{"n": 5, "m": 50}`)
		got := runPlan(context.Background(), prog, small, data, regoplan.Options{Cancel: tdown.NewCancel()})
		want := runTopdown(context.Background(), pq, small)
		if got.render != "4" || !same(got, want) {
			t.Errorf("plan = %v, topdown = %v, want 4", got, want)
		}
	})
}

// TestConcurrentEvals runs one program from several goroutines at once, on
// different inputs, and wants the answers of sequential runs. Run it with
// -race.
func TestConcurrentEvals(t *testing.T) {
	t.Parallel()
	modules := mod(fuzzPolicy)
	prog, err := plan(t, modules, "data.t.decision")
	if err != nil {
		t.Fatalf("Prepare = %v", err)
	}
	pq := topdown(t, modules, "data.t.decision", nil)
	inputs := make([]ast.Value, 0, len(fuzzSeeds))
	want := make([]outcome, 0, len(fuzzSeeds))
	for _, s := range fuzzSeeds {
		in := parseJSON(t, s)
		inputs = append(inputs, in)
		o := runPlan(context.Background(), prog, in, ast.NewObject(), regoplan.Options{})
		if td := runTopdown(context.Background(), pq, in); !same(o, td) {
			t.Fatalf("input %s: plan = %v, topdown = %v", s, o, td)
		}
		want = append(want, o)
	}
	const workers, rounds = 4, 50
	errs := make(chan string, workers*rounds*len(inputs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				i := (w + r) % len(inputs)
				got := runPlan(context.Background(), prog, inputs[i], ast.NewObject(), regoplan.Options{})
				if !same(got, want[i]) {
					errs <- fmt.Sprintf("worker %d, input %s: %v, sequentially %v", w, fuzzSeeds[i], got, want[i])
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// fuzzPolicy is the policy FuzzEval holds the two evaluators to: rules of
// every kind, comprehensions, else, every, not, object.get, sprintf,
// membership and walk, over whatever shape the input has.
const fuzzPolicy = `package t

default allow := false

allow if {
	input.user.role == "admin"
	not input.user.disabled
}

allow if {
	some g in input.user.groups
	g in data_groups
	every r in object.get(input, "resources", []) { is_object(r); r.owner == input.user.name }
}

data_groups := {"ops", "eng"}

level := "high" if {
	count(input.resources) > 3
} else := "medium" if {
	count(input.resources) > 1
} else := "low" if {
	is_array(input.resources)
} else := "unknown"

owners[r.owner] contains i if {
	some i, r in input.resources
	is_string(r.owner)
}

names := {n | some r in input.resources; n := object.get(r, "name", "anon")}

sizes := [s | some r in input.resources; s := r.size * 2]

tags[k] := v if {
	some k, v in input.tags
	not startswith(k, "_")
}

summary := sprintf("%s has %d resources %v", [object.get(input.user, "name", "nobody"), count(object.get(input, "resources", [])), names])

total := sum([x | some r in input.resources; x := to_number(r.size)])

pair := [a, b] if [a, b] := input.pair

numeric_paths := {p | walk(input, [p, v]); is_number(v)}

default has_admin := false

has_admin := ("admin", input.user.role in {"admin": "admin"})

default member := false

member := (1, "x" in object.get(input, "list", []))

decision := {
	"allow": allow,
	"level": level,
	"owners": owners,
	"names": names,
	"sizes": sizes,
	"tags": tags,
	"summary": [s | s := summary],
	"total": [t | t := total],
	"pair": [p | p := pair],
	"has_admin": has_admin,
	"member": member,
	"numeric_paths": numeric_paths,
}
`

var fuzzSeeds = []string{
	`{}`,
	`{"user": {"role": "admin", "name": "a"}}`,
	`{"user": {"role": "admin", "disabled": true, "groups": ["ops"], "name": "a"}, "resources": [{"owner": "a", "size": 1, "name": "r1"}, {"owner": "a", "size": "2"}]}`,
	`{"user": {"groups": ["eng", "x"], "name": "b"}, "resources": [{"owner": "c", "size": 1}], "tags": {"k": 1, "_h": 2}, "pair": [1, 2]}`,
	`{"user": {"groups": "eng"}, "resources": {"a": {"owner": 5}}, "tags": [1], "pair": [1, 2, 3], "list": ["y", "x"]}`,
	`{"user": null, "resources": [1, null, {"size": 1e400}], "list": {"1": "x"}}`,
	`{"user": {"name": ["x"]}, "resources": [{"owner": "a"}, {"owner": "a"}, {"owner": "b"}, {"owner": "b"}]}`,
}

// FuzzEval holds regoplan to topdown on the fixed fuzzPolicy for any JSON
// object input.
func FuzzEval(f *testing.F) {
	for _, s := range append(append([]string{}, fuzzSeeds...), oddInputs...) {
		f.Add([]byte(s))
	}
	modules := mod(fuzzPolicy)
	prog, err := plan(f, modules, "data.t.decision")
	if err != nil {
		f.Fatalf("Prepare = %v", err)
	}
	pq := topdown(f, modules, "data.t.decision", nil)
	data := ast.NewObject()
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<12 {
			return
		}
		v, err := ast.ValueFromReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		if _, ok := v.(ast.Object); !ok {
			return
		}
		ctx := context.Background()
		got := runPlan(ctx, prog, v, data, regoplan.Options{})
		want := runTopdown(ctx, pq, v)
		if !same(got, want) {
			t.Errorf("input %s: plan = %v, topdown = %v", b, got, want)
		}
	})
}
