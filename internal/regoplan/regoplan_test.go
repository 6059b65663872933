package regoplan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	tdown "github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/meridian-lake/meridian/internal/regoplan"
)

// The differential suite: every case is compiled once, planned by OPA's
// planner and run by regoplan, and evaluated by OPA's own evaluator
// (topdown) on the same input and data. The two must agree on every input:
// both undefined, both an error, or the same value, rendered as JSON byte
// for byte and equal as AST values (so a set and an array with the same
// JSON do not pass for each other).

// captureTarget is the rego target under which OPA hands this test binary
// the plan of a prepared query. Plugin names are global to a process; the
// policy package registers its own name in its own test binary.
const captureTarget = "regoplan-test"

var registerCapture sync.Once

type captureSlot struct{ policy *ir.Policy }

type captureKey struct{}

// capture is a rego target plugin that keeps the plan it is given.
type capture struct{}

func (capture) IsTarget(t string) bool { return t == captureTarget }

func (capture) PrepareForEval(ctx context.Context, pol *ir.Policy, _ ...rego.PrepareOption) (rego.TargetPluginEval, error) {
	slot, ok := ctx.Value(captureKey{}).(*captureSlot)
	if !ok {
		return nil, errors.New("regoplan test: the capture target needs a slot in the context")
	}
	slot.policy = pol
	return capture{}, nil
}

func (capture) Eval(context.Context, *rego.EvalContext, ast.Value) (ast.Value, error) {
	return nil, errors.New("regoplan test: the capture target does not evaluate")
}

// compileOpts are the compiler settings a case may change.
type compileOpts struct {
	printStatements bool
}

// compile compiles Rego v1 modules (file name to source).
func compile(t testing.TB, modules map[string]string, o compileOpts) *ast.Compiler {
	t.Helper()
	parsed := make(map[string]*ast.Module, len(modules))
	for name, src := range modules {
		m, err := ast.ParseModuleWithOpts(name, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		parsed[name] = m
	}
	c := ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1).WithEnablePrintStatements(o.printStatements)
	if c.Compile(parsed); c.Failed() {
		t.Fatalf("compile: %v", c.Errors)
	}
	return c
}

// planOf is OPA's plan of query against the compiled modules.
func planOf(t testing.TB, c *ast.Compiler, query string) *ir.Policy {
	t.Helper()
	registerCapture.Do(func() { rego.RegisterPlugin(captureTarget, capture{}) })
	slot := &captureSlot{}
	_, err := rego.New(rego.Query(query), rego.Compiler(c), rego.Target(captureTarget)).
		PrepareForEval(context.WithValue(context.Background(), captureKey{}, slot))
	if err != nil {
		t.Fatalf("plan %s: %v", query, err)
	}
	if slot.policy == nil {
		t.Fatalf("plan %s: the capture target was not called", query)
	}
	return slot.policy
}

// plan plans query against modules and prepares the plan; the error is
// Prepare's.
func plan(t testing.TB, modules map[string]string, query string) (*regoplan.Program, error) {
	t.Helper()
	return regoplan.Prepare(planOf(t, compile(t, modules, compileOpts{}), query), nil)
}

// topdown prepares query against modules for OPA's evaluator, with data as
// the base documents.
func topdown(t testing.TB, modules map[string]string, query string, data map[string]any) rego.PreparedEvalQuery {
	t.Helper()
	return prepareTopdown(t, compile(t, modules, compileOpts{}), query, data)
}

func prepareTopdown(t testing.TB, c *ast.Compiler, query string, data map[string]any) rego.PreparedEvalQuery {
	t.Helper()
	if data == nil {
		data = map[string]any{}
	}
	store := inmem.NewFromObjectWithOpts(data, inmem.OptReturnASTValuesOnRead(true))
	pq, err := rego.New(rego.Query(query), rego.Compiler(c), rego.Store(store)).PrepareForEval(context.Background())
	if err != nil {
		t.Fatalf("prepare %s for topdown: %v", query, err)
	}
	return pq
}

// outcome is one evaluation rendered for comparison: "error", "undefined",
// or the JSON of the value (with the value kept for an AST comparison).
type outcome struct {
	render string
	value  ast.Value
	err    error
}

func (o outcome) String() string {
	if o.err != nil {
		return "error (" + o.err.Error() + ")"
	}
	return o.render
}

func renderValue(v ast.Value) string {
	x, err := ast.JSONWithOpt(v, ast.JSONOpt{SortSets: true})
	if err != nil {
		return "unrenderable: " + err.Error()
	}
	b, err := json.Marshal(x)
	if err != nil {
		return "unrenderable: " + err.Error()
	}
	return string(b)
}

// values renders a list of result values (more than one when the query
// itself iterates), sorted so that order does not matter.
func values(vs []ast.Value) outcome {
	switch len(vs) {
	case 0:
		return outcome{render: "undefined"}
	case 1:
		return outcome{render: renderValue(vs[0]), value: vs[0]}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Compare(vs[j]) < 0 })
	arr := make([]*ast.Term, len(vs))
	for i, v := range vs {
		arr[i] = ast.NewTerm(v)
	}
	v := ast.NewArray(arr...)
	return outcome{render: "results " + renderValue(v), value: v}
}

// runPlan evaluates prog and unwraps each result's single binding.
func runPlan(ctx context.Context, prog *regoplan.Program, input, data ast.Value, opts regoplan.Options) outcome {
	rs, err := prog.Eval(ctx, input, data, opts)
	if err != nil {
		return outcome{render: "error", err: err}
	}
	vs := make([]ast.Value, 0, len(rs))
	for _, r := range rs {
		obj, ok := r.Value.(ast.Object)
		if !ok || obj.Len() != 1 {
			return outcome{render: "error", err: fmt.Errorf("plan result %v is not one binding", r)}
		}
		obj.Foreach(func(_, v *ast.Term) { vs = append(vs, v.Value) })
	}
	return values(vs)
}

func keepTerm(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }

// runTopdown evaluates pq and takes each result's first expression.
func runTopdown(ctx context.Context, pq rego.PreparedEvalQuery, input ast.Value, opts ...rego.EvalOption) outcome {
	opts = append(opts, rego.EvalParsedInput(input), rego.EvalGenerateJSON(keepTerm))
	rs, err := pq.Eval(ctx, opts...)
	if err != nil {
		return outcome{render: "error", err: err}
	}
	vs := make([]ast.Value, 0, len(rs))
	for _, r := range rs {
		if len(r.Expressions) != 1 {
			return outcome{render: "error", err: fmt.Errorf("topdown result has %d expressions", len(r.Expressions))}
		}
		t, ok := r.Expressions[0].Value.(*ast.Term)
		if !ok {
			return outcome{render: "error", err: fmt.Errorf("topdown value is %T", r.Expressions[0].Value)}
		}
		vs = append(vs, t.Value)
	}
	return values(vs)
}

// same reports whether two outcomes agree.
func same(a, b outcome) bool {
	if a.render != b.render {
		return false
	}
	if a.value == nil || b.value == nil {
		return a.value == nil && b.value == nil
	}
	return a.value.Compare(b.value) == 0
}

// parseJSON reads JSON into an AST value, numbers kept exact.
func parseJSON(t testing.TB, s string) ast.Value {
	t.Helper()
	v, err := ast.ValueFromReader(strings.NewReader(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return v
}

// dataOf reads a JSON object of base documents, for both evaluators: a Go
// map for topdown's store and an AST value for the plan.
func dataOf(t testing.TB, s string) (map[string]any, ast.Value) {
	t.Helper()
	if s == "" {
		s = "{}"
	}
	var m map[string]any
	if err := util.UnmarshalJSON([]byte(s), &m); err != nil {
		t.Fatalf("data %s: %v", s, err)
	}
	v, err := ast.InterfaceToValue(m)
	if err != nil {
		t.Fatalf("data %s: %v", s, err)
	}
	return m, v
}

// differential is one policy, one query, the base documents and the inputs
// both evaluators are run on.
type differential struct {
	name    string
	modules map[string]string
	query   string // data.t.r when empty
	data    string // JSON object of base documents
	inputs  []string
	// want pins some outcomes (input JSON to rendered outcome), so that a
	// case also fails when both evaluators change together.
	want map[string]string
}

// oddInputs are run on every case besides its own: missing fields, wrong
// types, empty collections, inputs that are not objects.
var oddInputs = []string{
	`{}`,
	`{"a": null, "b": null, "c": null, "xs": null}`,
	`{"a": 1, "b": "x", "c": true, "xs": 7}`,
	`{"a": [], "b": {}, "c": [], "xs": []}`,
	`{"a": {}, "b": [], "c": {}, "xs": {}}`,
	`{"a": "", "b": 0, "c": false, "xs": ""}`,
	`{"a": [1, "x", null, {"k": 1}], "b": {"k": [1]}, "c": [[1, 2], [3]], "xs": [1, 2, 3]}`,
	`{"a": 1.5, "b": -3, "c": 1e400, "xs": {"k": "v", "1": 2}}`,
	`[1, {"a": 1}]`, `"input"`, `null`, `5`, // inputs that are not objects
}

func mod(src string) map[string]string { return map[string]string{"t.rego": src} }

// check runs one case on all its inputs.
func (d differential) check(t *testing.T) {
	t.Helper()
	query := d.query
	if query == "" {
		query = "data.t.r"
	}
	c := compile(t, d.modules, compileOpts{})
	prog, err := regoplan.Prepare(planOf(t, c, query), nil)
	if err != nil {
		t.Fatalf("Prepare(%s) = %v, want a program", query, err)
	}
	dataMap, dataVal := dataOf(t, d.data)
	pq := prepareTopdown(t, c, query, dataMap)
	ctx := context.Background()
	seen := map[string]bool{}
	for _, in := range append(append([]string{}, d.inputs...), oddInputs...) {
		if seen[in] {
			continue
		}
		seen[in] = true
		input := parseJSON(t, in)
		got := runPlan(ctx, prog, input, dataVal, regoplan.Options{})
		want := runTopdown(ctx, pq, input)
		if testing.Verbose() {
			t.Logf("input %s: %v", in, want)
		}
		if !same(got, want) {
			t.Errorf("input %s: plan = %v, topdown = %v", in, got, want)
		}
		if pin, ok := d.want[in]; ok && want.render != pin {
			t.Errorf("input %s: topdown = %v, the case pins %s", in, want, pin)
		}
	}
	for in := range d.want {
		if !seen[in] {
			t.Errorf("the case pins input %s, which it does not run", in)
		}
	}
}

func runDifferentials(t *testing.T, cases []differential) {
	t.Helper()
	names := map[string]bool{}
	for _, d := range cases {
		if names[d.name] {
			t.Fatalf("two cases named %q", d.name)
		}
		names[d.name] = true
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			d.check(t)
		})
	}
}

func TestRules(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "complete rule",
			modules: mod(`package t
r := input.a + 1 if input.a > 0`),
			inputs: []string{`{"a": 2}`, `{"a": -2}`, `{"a": "2"}`},
			want:   map[string]string{`{"a": 2}`: `3`, `{"a": -2}`: `undefined`, `{}`: `undefined`},
		},
		{
			name: "default rule",
			modules: mod(`package t
default r := "none"
r := input.a if input.a != "none"`),
			inputs: []string{`{"a": "x"}`, `{"a": "none"}`, `{"a": 0}`},
			want:   map[string]string{`{"a": "x"}`: `"x"`, `{}`: `"none"`},
		},
		{
			name: "else chain",
			modules: mod(`package t
r := "big" if {
	input.a > 100
} else := "medium" if {
	input.a > 10
} else := "small" if {
	input.a > 0
} else := "non-positive" if {
	is_number(input.a)
} else := input.b`),
			inputs: []string{`{"a": 1000}`, `{"a": 50}`, `{"a": 5}`, `{"a": -5}`, `{"a": null, "b": "fallback"}`, `{"a": "s", "b": "fallback"}`, `{"a": 0}`},
			want: map[string]string{`{"a": 1000}`: `"big"`, `{"a": 50}`: `"medium"`, `{"a": 5}`: `"small"`,
				`{"a": -5}`: `"non-positive"`, `{"a": null, "b": "fallback"}`: `"fallback"`,
				`{"a": "s", "b": "fallback"}`: `"big"`, `{}`: `undefined`}, // strings sort after numbers
		},
		{
			name: "else chain with default",
			modules: mod(`package t
default r := "default"
r := 1 if {
	input.a == 1
} else := 2 if {
	input.b == 2
}`),
			inputs: []string{`{"a": 1, "b": 2}`, `{"a": 0, "b": 2}`, `{"a": 0, "b": 0}`},
			want:   map[string]string{`{"a": 1, "b": 2}`: `1`, `{"a": 0, "b": 2}`: `2`, `{"a": 0, "b": 0}`: `"default"`},
		},
		{
			name: "several bodies with the same value",
			modules: mod(`package t
r := true if input.a == 1
r := true if input.b == 1
r := true if count(input.c) > 0`),
			inputs: []string{`{"a": 1, "b": 1}`, `{"a": 1}`, `{"c": [1]}`, `{"a": 2, "b": 2, "c": []}`},
			want:   map[string]string{`{"a": 1, "b": 1}`: `true`, `{"a": 2, "b": 2, "c": []}`: `undefined`},
		},
		{
			name: "conflicting complete rule bodies",
			modules: mod(`package t
r := "a" if input.a
r := "b" if input.b`),
			inputs: []string{`{"a": true, "b": true}`, `{"a": true}`, `{"b": true}`},
			want:   map[string]string{`{"a": true, "b": true}`: `error`, `{"a": true}`: `"a"`},
		},
		{
			name: "conflict inside one body's iteration",
			modules: mod(`package t
r := x if some x in input.xs`),
			inputs: []string{`{"xs": [1, 1]}`, `{"xs": [1, 2]}`, `{"xs": [3]}`},
			want:   map[string]string{`{"xs": [1, 1]}`: `1`, `{"xs": [1, 2]}`: `error`},
		},
		{
			name: "functions with several definitions",
			modules: mod(`package t
f(x) := "neg" if x < 0
f(x) := "zero" if x == 0
f(x) := "pos" if x > 0
f(x) := "str" if is_string(x)
r := [f(x) | some x in input.xs]`),
			inputs: []string{`{"xs": [-1, 0, 1, null, 2.5]}`, `{"xs": ["s"]}`, `{"xs": []}`},
			// "s" > 0 holds too (strings sort after numbers): a conflict.
			want: map[string]string{`{"xs": [-1, 0, 1, null, 2.5]}`: `["neg","zero","pos","neg","pos"]`, `{"xs": ["s"]}`: `error`},
		},
		{
			name: "function with else",
			modules: mod(`package t
grade(n) := "A" if {
	n >= 90
} else := "B" if {
	n >= 80
} else := "F"
r := {k: grade(v) | some k, v in input.b}`),
			inputs: []string{`{"b": {"x": 95, "y": 85, "z": 10, "w": "q"}}`},
			want:   map[string]string{`{"b": {"x": 95, "y": 85, "z": 10, "w": "q"}}`: `{"w":"A","x":"A","y":"B","z":"F"}`},
		},
		{
			name: "function conflict",
			modules: mod(`package t
f(x) := 1 if x > 0
f(x) := 2 if x > 10
r := f(input.a)`),
			inputs: []string{`{"a": 5}`, `{"a": 50}`, `{"a": -1}`},
			want:   map[string]string{`{"a": 5}`: `1`, `{"a": 50}`: `error`, `{"a": -1}`: `undefined`},
		},
		{
			name: "function of several arguments and recursion free chain",
			modules: mod(`package t
add(a, b) := a + b
twice(x) := add(x, x)
pick(o, k) := o[k]
pick(o, k) := null if not o[k]
r := {"twice": twice(input.a), "pick": pick(input.b, "k")}`),
			inputs: []string{`{"a": 3, "b": {"k": 1}}`, `{"a": 3, "b": {"k": false}}`, `{"a": 3, "b": {}}`},
		},
		{
			name: "boolean rule shorthand and negation of rules",
			modules: mod(`package t
allow if input.a == "admin"
allow if "admin" in input.xs
deny if not allow
r := {"allow": allow, "deny": deny}`),
			inputs: []string{`{"a": "admin"}`, `{"xs": ["u", "admin"]}`, `{"xs": {"admin": 1}}`},
		},
		{
			name: "rule used many times is memoised consistently",
			modules: mod(`package t
s := sum([x | some x in input.xs])
r := [s, s * 2, s == count(input.xs)]`),
			inputs: []string{`{"xs": [1, 1]}`, `{"xs": [1, 2, 3]}`},
		},
	})
}

func TestPartialRulesAndPackages(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "partial set rule",
			modules: mod(`package t
r contains x if {
	some x in input.xs
	x > 1
}
r contains "many" if count(input.xs) > 2
r contains y if {
	some y in input.a
	is_string(y)
}`),
			inputs: []string{`{"xs": [1, 2, 3, 2]}`, `{"xs": [], "a": ["p", 1]}`, `{"xs": {"k": 5}}`},
			want:   map[string]string{`{"xs": [1, 2, 3, 2]}`: `[2,3,"many"]`, `{}`: `[]`},
		},
		{
			name: "partial object rule",
			modules: mod(`package t
r[k] := v if {
	some k, v in input.b
	is_number(v)
}
r["size"] := count(input.xs)`),
			inputs: []string{`{"b": {"x": 1, "y": "s"}, "xs": [1]}`, `{"b": {"size": 1}, "xs": [1]}`, `{"b": {"size": 2}, "xs": [1]}`},
			want: map[string]string{`{"b": {"x": 1, "y": "s"}, "xs": [1]}`: `{"size":1,"x":1}`,
				`{"b": {"size": 1}, "xs": [1]}`: `{"size":1}`, `{"b": {"size": 2}, "xs": [1]}`: `error`},
		},
		{
			name: "partial object rule with conflicting keys from one body",
			modules: mod(`package t
r[x.k] := x.v if some x in input.xs`),
			inputs: []string{`{"xs": [{"k": "a", "v": 1}, {"k": "a", "v": 1}]}`, `{"xs": [{"k": "a", "v": 1}, {"k": "a", "v": 2}]}`, `{"xs": [{"k": 1, "v": 1}, {"k": 1.0, "v": 2}]}`},
			want:   map[string]string{`{"xs": [{"k": "a", "v": 1}, {"k": "a", "v": 1}]}`: `{"a":1}`, `{"xs": [{"k": "a", "v": 1}, {"k": "a", "v": 2}]}`: `error`},
		},
		{
			name: "multi-value rule over an object with references in its key",
			modules: mod(`package t
r[x] contains y if {
	some x, ys in input.b
	some y in ys
}`),
			inputs: []string{`{"b": {"p": [1, 2], "q": []}}`, `{"b": {"p": "s"}}`},
		},
		{
			name: "one package in two files",
			modules: map[string]string{
				"t1.rego": `package t
r contains "one" if input.a
base := 10`,
				"t2.rego": `package t
r contains "two" if input.b
r contains base + 1 if input.c`,
			},
			inputs: []string{`{"a": true, "b": true, "c": true}`, `{"a": true}`},
			want:   map[string]string{`{"a": true, "b": true, "c": true}`: `[11,"one","two"]`},
		},
		{
			name: "rules in several packages",
			modules: map[string]string{
				"lib.rego": `package lib.util
double(x) := 2 * x
names contains n if {
	some u in input.users
	n := u.name
}`,
				"roles.rego": `package roles
admin if "admin" in input.roles`,
				"t.rego": `package t
import data.lib.util
r := {"names": util.names, "d": util.double(count(util.names)), "admin": data.roles.admin}
r := {"denied": true} if {
	not data.roles.admin
	count(util.names) == 0
}`,
			},
			inputs: []string{`{"users": [{"name": "x"}, {"name": "y"}], "roles": ["admin"]}`, `{"users": [], "roles": []}`, `{"users": [{"nm": 1}]}`},
		},
	})
}

func TestComprehensionsAndIteration(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "set array object comprehensions",
			modules: mod(`package t
r := {
	"set": {x | some x in input.xs},
	"arr": [(x * 2) | some x in input.xs; is_number(x)],
	"obj": {k: count(v) | some k, v in input.b},
}`),
			inputs: []string{`{"xs": [3, 1, 3, "a"], "b": {"p": [1], "q": "abc", "r": {}}}`, `{"xs": [], "b": {}}`, `{"xs": [1], "b": {"p": 5}}`},
		},
		{
			name: "object comprehension key conflict",
			modules: mod(`package t
r := {x.k: x.v | some x in input.xs}`),
			inputs: []string{`{"xs": [{"k": 1, "v": 1}, {"k": 1, "v": 2}]}`, `{"xs": [{"k": 1, "v": 1}, {"k": 1, "v": 1}]}`, `{"xs": [{"k": 1}]}`},
			want:   map[string]string{`{"xs": [{"k": 1, "v": 1}, {"k": 1, "v": 2}]}`: `error`},
		},
		{
			name: "nested comprehensions",
			modules: mod(`package t
r := [{y | some y in row; y > i} | some i, row in input.c]
s := {k: [v | some v in vs; v != k] | some k, vs in input.b}
u := count({x | some row in input.c; some x in row; not x in input.xs})
q := [r, s, u]`),
			query:  "data.t.q",
			inputs: []string{`{"c": [[0, 1, 2], [3], []], "b": {"a": ["a", "b"]}, "xs": [1]}`},
		},
		{
			name: "some in over arrays objects and sets",
			modules: mod(`package t
arr := [[i, x] | some i, x in input.xs]
obj := [[k, v] | some k, v in input.b]
st := [[k, v] | some k, v in {x | some x in input.xs}]
vals := [v | some v in input.b]
r := [arr, obj, st, vals]`),
			inputs: []string{`{"xs": ["b", "a", "b"], "b": {"z": 1, "a": 2, "m": [3]}}`, `{"xs": "abc", "b": "abc"}`},
		},
		{
			name: "every",
			modules: mod(`package t
pos if every x in input.xs { x > 0 }
keys_short if every k, v in input.b { count(k) < 3; v != null }
r := {"pos": pos, "short": keys_short}
r := {"pos": false} if not pos`),
			inputs: []string{`{"xs": [1, 2], "b": {"a": 1}}`, `{"xs": [1, -2], "b": {"abc": 1}}`, `{"xs": [], "b": {}}`,
				`{"xs": 5, "b": "s"}`, `{"xs": {"k": 1}, "b": {"a": null}}`, `{"b": {"a": 1}}`},
		},
		{
			name: "not with missing fields and function calls",
			modules: mod(`package t
f(x) := x.k
default nothing := false
default no_k := false
default no_k_false := false
default absent_first := false
nothing if not input.a.b.c
no_k if not f(input.b)
no_k_false if not f(input.b) == false
absent_first if not input.xs[0]
r := [nothing, no_k, no_k_false, absent_first]
r := "fallback" if not nothing`),
			inputs: []string{`{"a": {"b": {"c": 1}}}`, `{"a": {"b": {"c": false}}, "b": {"k": false}}`, `{"b": {"k": 1}, "xs": [false]}`, `{"a": {"b": 5}}`},
		},
		{
			name: "membership with two and three operands",
			modules: mod(`package t
r := {
	"in": input.a in input.xs,
	"kin": [input.a, 1] in {[x, 1] | some x in input.xs},
	"kv": (1, input.a in input.xs),
	"objkv": ("p", input.a in input.b),
	"notin": not_in,
}
default not_in := false
not_in if not input.a in input.xs`),
			inputs: []string{`{"a": 2, "xs": [1, 2], "b": {"p": 2}}`, `{"a": 3, "xs": {"x": 3}, "b": {"p": 3}}`, `{"a": "x", "xs": "xyz", "b": []}`, `{"a": 1.0, "xs": [0, 1], "b": {"p": 1}}`},
			want:   map[string]string{`{"a": 1.0, "xs": [0, 1], "b": {"p": 1}}`: `{"in":true,"kin":true,"kv":true,"notin":false,"objkv":true}`},
		},
	})
}

func TestPatternsAndData(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "array destructuring",
			modules: mod(`package t
default pair := "no pair"
pair := {"a": a, "b": b} if [a, b] := input.a
default nested := "no"
nested := x if [[x, _], [_]] := input.c
r := [pair, nested]`),
			inputs: []string{`{"a": [1, 2]}`, `{"a": [1, 2, 3]}`, `{"a": [1]}`, `{"a": {"0": 1, "1": 2}}`, `{"a": "ab"}`, `{"c": [[7, 8], [9]]}`},
			want:   map[string]string{`{"a": [1, 2]}`: `[{"a":1,"b":2},"no"]`, `{"a": [1, 2, 3]}`: `["no pair","no"]`},
		},
		{
			name: "object patterns",
			modules: mod(`package t
default r := "no match"
r := [n, tags] if {
	{"name": n, "meta": {"tags": tags}} := input.b
}`),
			inputs: []string{`{"b": {"name": "x", "meta": {"tags": [1]}}}`, `{"b": {"name": "x", "meta": {"tags": [1]}, "extra": 1}}`, `{"b": {"name": "x"}}`, `{"b": ["name"]}`},
		},
		{
			name: "unification with variables on both sides",
			modules: mod(`package t
default r := "none"
r := [x, y] if {
	[x, 1] = [input.a, y]
}
s contains [k, v] if {
	some i
	[k, v] = input.c[i]
}
u := [r, s]`),
			query:  "data.t.u",
			inputs: []string{`{"a": 5, "c": [[1, 2], [3], "s", [4, 5]]}`, `{"a": null}`},
		},
		{
			name: "base documents",
			data: `{"users": {"alice": {"roles": ["admin"], "age": 30}, "bob": {"roles": [], "age": 17}},
				"limits": [10, 20, 30], "big": 12345678901234567890123, "flag": false}`,
			modules: mod(`package t
user := data.users[input.b]
admin if "admin" in user.roles
adults contains name if {
	some name, u in data.users
	u.age >= 18
}
default admin := false
r := {"user": object.get(data.users, input.b, null), "admin": admin, "adults": adults,
	"limit": data.limits[input.a], "big": data.big + 0, "flag": data.flag, "missing": object.get(data.users, ["alice", "nope"], "d"), "deep": object.get(data.users, ["alice", "roles", 0], "d")}`),
			inputs: []string{`{"b": "alice", "a": 1}`, `{"b": "bob", "a": 0}`, `{"b": "carol", "a": 2}`, `{"b": "alice", "a": 3}`, `{"b": "alice", "a": -1}`},
		},
		{
			name: "base documents beside rules in another package",
			data: `{"cfg": {"max": 3, "names": {"a": 1}}, "rules": {"threshold": 2}}`,
			modules: map[string]string{
				"rules.rego": `package rules
over if count(input.xs) > data.rules.threshold`,
				"t.rego": `package t
default r := "ok"
r := "over" if data.rules.over
r := "too many" if count(input.xs) > data.cfg.max`,
			},
			inputs: []string{`{"xs": [1, 2, 3]}`, `{"xs": [1, 2, 3, 4]}`, `{"xs": []}`},
			want:   map[string]string{`{"xs": [1, 2, 3]}`: `"over"`, `{"xs": [1, 2, 3, 4]}`: `error`},
		},
		{
			name: "iteration with index and index from a variable",
			modules: mod(`package t
pairs := [[i, x] | some i, x in input.xs]
default idx := "none"
idx := input.xs[input.a]
default next := "none"
next := input.xs[input.a + 1]
default last := "none"
last := input.xs[count(input.xs) - 1]
default nested := "none"
nested := input.c[input.a][0]
r := {"pairs": pairs, "idx": idx, "next": next, "last": last, "nested": nested}`),
			inputs: []string{`{"xs": [10, 20, 30], "a": 1}`, `{"xs": [10, 20, 30], "a": 3}`, `{"xs": [10, 20, 30], "a": -1}`,
				`{"xs": [10, 20, 30], "a": 1.0}`, `{"xs": [10, 20, 30], "a": 1.5}`, `{"xs": [10, 20, 30], "a": "1"}`,
				`{"xs": [10, 20, 30], "a": 1e0}`, `{"xs": {"1": "one"}, "a": 1}`, `{"c": [[5], [6]], "xs": [], "a": 1}`},
			// 1.0 indexes an array as 1 does; 1e0 does not (in both).
			want: map[string]string{
				`{"xs": [10, 20, 30], "a": 1.0}`: `{"idx":20,"last":30,"nested":"none","next":30,"pairs":[[0,10],[1,20],[2,30]]}`,
				`{"xs": [10, 20, 30], "a": 1e0}`: `{"idx":"none","last":30,"nested":"none","next":30,"pairs":[[0,10],[1,20],[2,30]]}`,
			},
		},
		{
			name: "float index constant",
			modules: mod(`package t
r := {"one": input.xs[1.0], "two": input.xs[2]}`),
			inputs: []string{`{"xs": ["a", "b", "c"]}`},
		},
	})
}

func TestBuiltinsAndNumbers(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "sprintf of sets objects and numbers",
			modules: mod(`package t
r := {
	"v": sprintf("%v|%v|%v", [{x | some x in input.xs}, input.b, input.xs]),
	"d": sprintf("%d items", [count(input.xs)]),
	"s": sprintf("%s/%s", [input.a, input.b]),
	"f": sprintf("%.2f", [input.n]),
}`),
			inputs: []string{`{"xs": [3, 1, "a"], "b": {"z": [1], "a": {"q": null}}, "a": "s", "n": 1.23456}`,
				`{"xs": [], "b": "x", "a": 5, "n": "s"}`, `{"xs": [1], "b": {}, "a": [1], "n": 12345678901234567890}`},
		},
		{
			name: "aggregates on empty and mixed collections",
			modules: mod(`package t
agg(xs) := {"count": count(xs), "sum": object.get({"v": sum(xs)}, "v", "undefined"), "max": object.get({"v": max(xs)}, "v", "undefined"),
	"min": object.get({"v": min(xs)}, "v", "undefined")}
default r := "undefined"
r := agg(input.xs)`),
			inputs: []string{`{"xs": []}`, `{"xs": [3, 1.5, -2]}`, `{"xs": ["b", "a"]}`, `{"xs": [1, "a"]}`, `{"xs": {"k": 1}}`, `{"xs": "abc"}`},
		},
		{
			name: "aggregates defaulted",
			modules: mod(`package t
default s := "no sum"
s := sum(input.xs)
default mx := "no max"
mx := max(input.xs)
default mn := "no min"
mn := min(input.xs)
r := [count([x | some x in input.xs]), s, mx, mn]`),
			inputs: []string{`{"xs": []}`, `{"xs": [3, 1.5, -2]}`, `{"xs": ["b", "a"]}`, `{"xs": [1, "a"]}`, `{"xs": [1e30, 1]}`},
			want:   map[string]string{`{"xs": []}`: `[0,0,"no max","no min"]`},
		},
		{
			name: "string built-ins",
			modules: mod(`package t
default r := "undefined"
r := {
	"upper": upper(input.a),
	"split": split(input.a, ","),
	"concat": concat("-", split(input.a, ",")),
	"trim": trim_space(input.a),
	"prefix": startswith(input.a, "a"),
	"contains": contains(input.a, "b"),
	"replace": replace(input.a, ",", ";"),
	"sub": substring(input.a, 1, 2),
	"count": count(input.a),
	"fmt": format_int(count(input.a), 16),
	"idx": indexof(input.a, "é"),
}`),
			inputs: []string{`{"a": "a,b,c"}`, `{"a": " héllo, wörld "}`, `{"a": ""}`, `{"a": "ébb"}`},
		},
		{
			name: "object built-ins and json",
			modules: mod(`package t
default r := "undefined"
r := {
	"get": object.get(input.b, "k", "default"),
	"get_path": object.get(input.b, ["k", 0], "default"),
	"union": object.union(input.b, {"k": "override", "new": 1}),
	"union_n": object.union_n([input.b, {"x": {"y": 1}}]),
	"remove": object.remove(input.b, ["k"]),
	"keys": object.keys(input.b),
	"marshal": json.marshal(input.b),
	"unmarshal": json.unmarshal(json.marshal(input.b)),
	"filter": json.filter(input.b, ["k"]),
}`),
			inputs: []string{`{"b": {"k": [1, 2], "z": {"y": 2}}}`, `{"b": {}}`, `{"b": {"k": "v", "1": null}}`, `{"b": []}`},
		},
		{
			name: "regular expressions and globs",
			modules: mod(`package t
default r := "undefined"
r := {
	"match": regex.match("^[a-z]+[0-9]*$", input.a),
	"find": regex.find_n("[0-9]+", input.a, -1),
	"split": regex.split("[,;]", input.a),
	"repl": regex.replace(input.a, "[0-9]", "#"),
	"glob": glob.match("a*.b", ["."], input.a),
}`),
			inputs: []string{`{"a": "abc123"}`, `{"a": "a1,b22;c"}`, `{"a": "ax.b"}`, `{"a": ""}`},
		},
		{
			name: "bad regular expression",
			modules: mod(`package t
default r := "invalid pattern"
r := regex.match(input.a, "x")`),
			inputs: []string{`{"a": "x"}`, `{"a": "("}`, `{"a": "[a-"}`},
			want:   map[string]string{`{"a": "("}`: `"invalid pattern"`, `{"a": "x"}`: `true`},
		},
		{
			name: "numbers",
			modules: mod(`package t
r := {
	"eq": 1 == 1.0,
	"eq_in": input.a == 1,
	"in_set": input.a in {1, 2},
	"key": object.get({1: "one"}, input.a, "missing"),
	"big": 12345678901234567890 + 1,
	"bigger": 123456789012345678901234567890,
	"big_in": input.big,
	"big_plus": input.big + 1,
	"big_eq": input.big == 98765432109876543210987654321,
	"dec": input.dec,
	"dec_mul": input.dec * 2,
	"div": 7 / 2,
	"rem": 7 % 3,
	"round": round(2.5),
	"neg_zero": -0,
	"float": 0.1 + 0.2,
	"exp": 1e3,
}`),
			inputs: []string{`{"a": 1, "big": 98765432109876543210987654321, "dec": 0.1000000000000000055511151231257827}`,
				`{"a": 1.0, "big": 1e30, "dec": 3.14159265358979323846264338327950288}`,
				`{"a": 1e0, "big": -1, "dec": 1E-7}`},
		},
		{
			name: "arithmetic and comparison across types",
			modules: mod(`package t
default less := "undefined"
less := input.a < input.b
default sum2 := "undefined"
sum2 := input.a + input.b
default quot := "undefined"
quot := input.a / input.b
default setdiff := "undefined"
setdiff := {x | some x in input.a} - {x | some x in input.b}
r := [less, sum2, quot, setdiff]`),
			inputs: []string{`{"a": 1, "b": 2}`, `{"a": 1, "b": 0}`, `{"a": "a", "b": 1}`, `{"a": [1, 2], "b": [2]}`, `{"a": null, "b": false}`, `{"a": {"x": 1}, "b": {"x": 1}}`},
		},
		{
			name: "type built-ins and casts",
			modules: mod(`package t
default num := "not a number"
num := to_number(input.a)
r := {"type": type_name(input.a), "num": num, "is": [is_string(input.a), is_number(input.a), is_array(input.a), is_object(input.a), is_set(input.a), is_null(input.a), is_boolean(input.a)]}`),
			inputs: []string{`{"a": "12"}`, `{"a": "x"}`, `{"a": "1e3"}`, `{"a": true}`, `{"a": null}`, `{"a": 5}`},
			want:   map[string]string{`{"a": "x"}`: `{"is":[true,false,false,false,false,false,false],"num":"not a number","type":"string"}`},
		},
		{
			name: "array and set built-ins",
			modules: mod(`package t
default r := "undefined"
r := {
	"concat": array.concat(input.xs, [9]),
	"slice": array.slice(input.xs, 1, 2),
	"reverse": array.reverse(input.xs),
	"sort": sort(input.xs),
	"union": union({{1}, {x | some x in input.xs}}),
	"intersection": intersection({{1, 2}, {x | some x in input.xs}}),
	"any": [x | some x in input.xs; x == 2],
}`),
			inputs: []string{`{"xs": [3, 2, 1]}`, `{"xs": []}`, `{"xs": ["b", 1, null]}`, `{"xs": {"a": 1}}`},
		},
		{
			name: "encoding and hashing built-ins",
			modules: mod(`package t
default r := "undefined"
r := {
	"b64": base64.encode(input.a),
	"unb64": base64.decode(base64.encode(input.a)),
	"url": urlquery.encode(input.a),
	"sha": crypto.sha256(input.a),
	"hex": hex.encode(input.a),
	"yaml": yaml.marshal({"k": input.a}),
	"units": units.parse_bytes("10KiB"),
	"semver": semver.compare("1.2.3", "1.10.0"),
	"net": net.cidr_contains("10.0.0.0/8", "10.1.2.3"),
}`),
			inputs: []string{`{"a": "hello world"}`, `{"a": ""}`, `{"a": 1}`},
		},
		{
			name: "time built-ins of their operands",
			modules: mod(`package t
default r := "undefined"
r := {
	"parse": time.parse_rfc3339_ns(input.a),
	"date": time.date(time.parse_rfc3339_ns(input.a)),
	"add": time.add_date(time.parse_rfc3339_ns(input.a), 0, 1, 0),
	"fmt": time.format([time.parse_rfc3339_ns(input.a), "UTC", "2006-01-02"]),
}`),
			inputs: []string{`{"a": "2024-02-29T12:00:00Z"}`, `{"a": "not a time"}`, `{"a": 5}`},
		},
	})
}

func TestBuiltinErrorsAreUndefined(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "type errors at run time",
			modules: mod(`package t
default c := "undefined"
c := count(input.a)
default n := "undefined"
n := to_number(input.a)
default u := "undefined"
u := upper(input.a)
default d := "undefined"
d := 1 / input.b
r := [c, n, u, d]`),
			inputs: []string{`{"a": 5, "b": 0}`, `{"a": "x", "b": "y"}`, `{"a": "12", "b": 2}`, `{"a": [1], "b": null}`},
			want:   map[string]string{`{"a": 5, "b": 0}`: `["undefined",5,"undefined","undefined"]`},
		},
		{
			name: "errors inside not",
			modules: mod(`package t
default r := []
r := [a, b, c] if {
	a := not_count
	b := not_num
	c := not_div
}
default not_count := false
not_count if not count(input.a) > 0
default not_num := false
not_num if not to_number(input.a)
default not_div := false
not_div if not 1 / input.b`),
			inputs: []string{`{"a": 5, "b": 0}`, `{"a": "x", "b": 1}`, `{"a": [], "b": "s"}`, `{"a": "0", "b": 0}`},
		},
		{
			name: "errors inside functions and comprehensions",
			modules: mod(`package t
f(x) := count(x)
f(x) := -1 if {
	not is_string(x)
	not is_array(x)
	not is_object(x)
	not is_set(x)
}
r := [f(x) | some x in input.xs]`),
			inputs: []string{`{"xs": [5, "ab", [1], null, {"a": 1}]}`, `{"xs": []}`},
		},
		{
			name: "sprintf with bad operands",
			modules: mod(`package t
default r := "undefined"
r := sprintf(input.a, input.xs)`),
			inputs: []string{`{"a": "%d", "xs": ["s"]}`, `{"a": "%v %v", "xs": [1]}`, `{"a": "%s", "xs": "notarray"}`, `{"a": 5, "xs": []}`},
		},
	})
}

func TestLookupsAndEdges(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "function conflict within one definition's iteration",
			modules: mod(`package t
f(x) := y if some y in x
r := f(input.xs)`),
			inputs: []string{`{"xs": [1, 2]}`, `{"xs": [1, 1.0]}`, `{"xs": [1]}`},
			want:   map[string]string{`{"xs": [1, 2]}`: `error`, `{"xs": [1]}`: `1`},
		},
		{
			name: "lookups in sets and objects with equal numbers",
			modules: mod(`package t
default in_set := "none"
in_set := {x | some x in input.a}[input.k]
default in_obj := "none"
in_obj := input.b[input.k]
default in_lit := "none"
in_lit := {1.0: "a"}[input.k]
r := [in_set, in_obj, in_lit]`),
			inputs: []string{`{"a": [1.0], "k": 1, "b": {"1": "s"}}`, `{"a": [1], "k": 1.0}`, `{"a": [false], "k": false, "b": {"false": 1}}`},
		},
		{
			name: "false values found by lookups",
			modules: mod(`package t
s contains x if some x in input.xs
default by_rule := false
by_rule if s[input.a]
default by_set := false
by_set if {x | some x in input.xs}[input.a]
default by_obj := false
by_obj if input.b[input.a]
r := [by_rule, by_set, by_obj]`),
			inputs: []string{`{"xs": [false], "a": false, "b": {"false": false}}`, `{"xs": [1], "a": 1, "b": {"1": 1}}`, `{"b": {"x": 0}, "a": "x"}`},
		},
		{
			name: "partial rules looked up and iterated",
			modules: mod(`package t
s contains x if some x in input.xs
o[k] := 1 if some k in input.xs
default in_s := "no"
in_s := s[input.a]
default in_o := "no"
in_o := o[input.a]
pairs := [[k, v] | some k; v := o[k]]
r := [in_s, in_o, pairs]`),
			inputs: []string{`{"xs": ["a", "b"], "a": "a"}`, `{"xs": ["a"], "a": "z"}`},
		},
		{
			name: "rule heads with refs",
			modules: mod(`package t
a.b[input.k] := 1
a.c := 2
q[x][y] := z if {
	some x, ys in input.b
	some y, z in ys
}
r := [data.t.a.b, q]`),
			inputs: []string{`{"k": "x", "b": {"a": {"p": 1}, "c": {"p": 2, "q": 3}}}`, `{"k": 1, "b": {"a": [5]}}`},
		},
		{
			name: "default functions",
			modules: mod(`package t
default f(_) := "d"
f(x) := "pos" if x > 0
r := [f(1), f(-1), f("s"), f(input.a)]`),
			inputs: []string{`{"a": 0}`, `{"a": 5}`},
		},
		{
			name: "base documents iterated and looked up at run time",
			data: `{"p": {"x": 1, "y": [2]}, "users": [{"n": "a", "r": ["x"]}, {"n": "b", "r": []}]}`,
			modules: mod(`package t
roles[u.n] := u.r if some u in data.users
default dyn := "none"
dyn := data.p[input.k]
r := [[[k, v] | some k; v := data.p[k]], {n | some n, rs in roles; count(rs) > 0}, dyn]`),
			inputs: []string{`{"k": "x"}`, `{"k": "z"}`, `{"k": 1}`},
		},
		{
			name: "else with iteration and conflicts",
			modules: map[string]string{
				"t.rego": `package t
r := x if {
	some x in input.xs
	x > 1
} else := 0`,
				"u.rego": `package u
r := 1 if input.a else := 2
r := 2 if input.b`,
			},
			inputs: []string{`{"xs": [2, 3]}`, `{"xs": [2, 2]}`, `{"xs": [1]}`},
			want:   map[string]string{`{"xs": [2, 3]}`: `error`, `{"xs": [2, 2]}`: `2`, `{"xs": [1]}`: `0`},
		},
		{
			name:  "else of one rule conflicting with another body",
			query: "data.u.r",
			modules: mod(`package u
r := 1 if input.a else := 2
r := 2 if input.b`),
			inputs: []string{`{"a": true, "b": true}`, `{"a": false, "b": true}`},
			want:   map[string]string{`{"a": true, "b": true}`: `error`, `{"a": false, "b": true}`: `2`},
		},
		{
			name: "more built-ins",
			modules: mod(`package t
default r := "undefined"
r := {
	"range": numbers.range(input.a, input.b),
	"concat": concat(",", {format_int(x, 10) | some x in numbers.range(input.a, input.b)}),
	"prefix": strings.any_prefix_match(["xa", "b"], ["x", "y"]),
	"patch": json.patch({}, [{"op": "add", "path": "/x", "value": input.a}]),
}`),
			inputs: []string{`{"a": 1, "b": 3}`, `{"a": 3, "b": 1}`, `{"a": 1.5, "b": 3}`},
		},
		{
			// walk is the one relation among OPA's built-ins: topdown's
			// implementation calls its output once per [path, value], and
			// the plan wants all of them as one collection (it scans the
			// call's result). regoplan once kept only the last output.
			name: "walk",
			modules: mod(`package t
r := {
	"pairs": [[p, v] | walk(input, [p, v])],
	"ones": {p | walk(input.b, [p, 1])},
}`),
			inputs: []string{`{"a": {"b": [1, {"c": 2}]}, "b": {"x": 1, "y": [1, 2]}}`},
			want: map[string]string{`{}`: `{"ones":[],"pairs":[[[],{}]]}`,
				`{"a": {"b": [1, {"c": 2}]}, "b": {"x": 1, "y": [1, 2]}}`: `{"ones":[["x"],["y",0]],"pairs":[[[],{"a":{"b":[1,{"c":2}]},"b":{"x":1,"y":[1,2]}}],[["a"],{"b":[1,{"c":2}]}],[["a","b"],[1,{"c":2}]],[["a","b",0],1],[["a","b",1],{"c":2}],[["a","b",1,"c"],2],[["b"],{"x":1,"y":[1,2]}],[["b","x"],1],[["b","y"],[1,2]],[["b","y",0],1],[["b","y",1],2]]}`},
		},
	})
}

// TestControlFlow nests iteration, negation and every, where a plan's
// breaks must leave exactly the right number of blocks.
func TestControlFlow(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "not around an iteration",
			modules: mod(`package t
default no_one := false
no_one if not has_one
has_one if input.xs[_] == 1
default no_pair := false
no_pair if not pair_equal
pair_equal if {
	some x in input.xs
	some y in input.c
	x == y
}
r := [no_one, no_pair]`),
			inputs: []string{`{"xs": [1, 2], "c": [3]}`, `{"xs": [2], "c": [2]}`, `{"xs": [], "c": []}`},
			want:   map[string]string{`{"xs": [1, 2], "c": [3]}`: `[false,true]`, `{"xs": [2], "c": [2]}`: `[true,false]`},
		},
		{
			name: "every nested in every and in comprehensions",
			modules: mod(`package t
default grid := false
grid if every row in input.c { every x in row { x > 0 } }
default single := false
single if every i, x in input.xs { every j, y in input.xs { i == j; x == y } }
default no_neg := false
no_neg if every x in input.xs { not x < 0 }
rows_ok := [i | some i, row in input.c; every x in row { is_number(x) }]
r := [grid, single, no_neg, rows_ok]`),
			inputs: []string{`{"c": [[1, 2], [3]], "xs": [1]}`, `{"c": [[1, 0], []], "xs": [1, 2]}`, `{"c": [[1]], "xs": [1, 1]}`, `{"c": [], "xs": [-1]}`, `{"c": [["s"], [1]], "xs": []}`},
		},
		{
			name: "patterns in some in",
			modules: mod(`package t
firsts := [a | some [a, _] in input.c]
objs := [n | some {"n": n} in input.a]
kv := [[k, a] | some k, [a, 1] in input.b]
r := [firsts, objs, kv]`),
			inputs: []string{`{"c": [[1, 2], [3], [4, 5, 6], [7, 8]], "a": [{"n": 1}, {"n": 2, "m": 3}, {"m": 1}], "b": {"x": [0, 1], "y": [0, 2]}}`},
		},
		{
			name: "complete rule decided inside nested scans",
			modules: mod(`package t
default r := "none"
r := "found" if {
	some row in input.c
	some x in row
	x == input.a
}`),
			inputs: []string{`{"c": [[1], [2, 3], [3]], "a": 3}`, `{"c": [[1]], "a": 3}`},
			want:   map[string]string{`{"c": [[1], [2, 3], [3]], "a": 3}`: `"found"`, `{"c": [[1]], "a": 3}`: `"none"`},
		},
		{
			name: "iteration by ref with wildcards and keys",
			modules: mod(`package t
keys_of_one := {k | input.b[k] == 1}
idx_of_two := [i | input.xs[i] == 2]
deep := [v | v := input.c[_][_]]
r := [keys_of_one, idx_of_two, deep]`),
			inputs: []string{`{"b": {"x": 1, "y": 2, "z": 1.0}, "xs": [2, 1, 2], "c": [[1, 2], {"k": 3}, "s"]}`},
		},
		{
			name: "functions of composite arguments and comprehension arguments",
			modules: mod(`package t
f([a, b]) := a + b
g({"k": v}) := v
h(s) := count(s)
r := [object.get({"v": f(input.c[0])}, "v", null), [g(x) | some x in input.a], h({x | some x in input.xs})]`),
			inputs: []string{`{"c": [[1, 2]], "a": [{"k": 1}, {"k": 2, "j": 3}, {"j": 1}], "xs": [1, 1, 2]}`, `{"c": [[1]], "a": [], "xs": []}`},
		},
	})
}

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
