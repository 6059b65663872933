package regoplan_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/meridian-lake/meridian/internal/regoplan"
)

// The differential suite: every case is compiled once, planned by OPA's
// planner and run by regoplan, and evaluated by OPA's own evaluator
// (topdown) on the same input and data. The two must agree on every input:
// both undefined, both an error, or the same value, rendered as JSON byte
// for byte and equal as AST values (so a set and an array with the same
// JSON do not pass for each other).

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
	pol, err := regoplan.PlanQuery(context.Background(), c, query)
	if err != nil {
		t.Fatal(err)
	}
	return pol
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
