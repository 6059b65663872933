package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/meridian-lake/meridian/internal/regoplan"
)

// Rule ids of the denials the engine itself produces.
const (
	RuleUndefined    = "policy.undefined"    // the policy defined no decision
	RuleError        = "policy.error"        // evaluation failed
	RuleTimeout      = "policy.timeout"      // evaluation took too long
	RuleInvalid      = "policy.invalid"      // the decision is malformed
	RuleInconsistent = "policy.inconsistent" // allow with violations or without regions
)

// Compiled is a pack compiled and prepared for evaluation: one policy version.
type Compiled struct {
	pack     *Pack
	compiler *ast.Compiler
	store    storage.Store
	query    rego.PreparedEvalQuery // OPA's evaluator (topdown)
	plan     *regoplan.Program      // the same query planned; nil: topdown decides
	data     ast.Value              // the policy data, for the plan
	planNote string                 // why plan is nil
	cache    *decisionCache         // nil: decisions are not cached
	version  int64                  // the stored version id; 0 when not from a registry
}

// Version is the stored policy version id this was compiled from (0 when it
// was compiled outside a registry).
func (c *Compiled) Version() int64 { return c.version }

// Compile compiles the pack's rules (not its tests) and prepares the
// decision query once. It fails with a *PackError naming file, line and
// column when the rules do not compile or never define data.meridian.decision.
func Compile(ctx context.Context, p *Pack) (*Compiled, error) {
	compiler := ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1)
	if compiler.Compile(p.modules); compiler.Failed() {
		return nil, regoError("", compiler.Errors)
	}
	if len(compiler.GetRules(ast.MustParseRef(DecisionRef))) == 0 {
		return nil, &PackError{Message: "the pack does not define " + DecisionRef}
	}
	// The store hands out AST values, so an evaluation never converts the
	// policy data from Go values.
	store := inmem.NewFromObjectWithOpts(copyData(p.data), inmem.OptReturnASTValuesOnRead(true))
	pq, err := rego.New(
		rego.Query(DecisionRef),
		rego.Compiler(compiler),
		rego.Store(store),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, regoError("", err)
	}
	c := &Compiled{pack: p, compiler: compiler, store: store, query: pq,
		cache: newDecisionCache(p.modules, DefaultCacheEntries)}
	c.plan, c.data, c.planNote = planQuery(ctx, compiler, p)
	return c, nil
}

// Evaluator says what decides for this version: "plan" (OPA's plan of the
// decision, run by internal/regoplan) or "topdown" (OPA's evaluator) and
// why.
func (c *Compiled) Evaluator() string {
	if c.plan != nil {
		return "plan"
	}
	return "topdown: " + c.planNote
}

// CacheStats reports the decision cache of this version.
func (c *Compiled) CacheStats() CacheStats { return c.cache.stats() }

// Pack is the compiled pack.
func (c *Compiled) Pack() *Pack { return c.pack }

// copyData deep-copies data documents so a store never shares them.
func copyData(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	_ = dec.Decode(&out)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// Engine evaluates the active policy version. Swapping versions is atomic:
// a statement is decided entirely by one version.
type Engine struct {
	active  atomic.Pointer[Compiled]
	timeout time.Duration
}

// DefaultTimeout bounds one evaluation.
const DefaultTimeout = 100 * time.Millisecond

// NewEngine returns an engine serving c. timeout <= 0 means DefaultTimeout.
func NewEngine(c *Compiled, timeout time.Duration) *Engine {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	e := &Engine{timeout: timeout}
	e.active.Store(c)
	return e
}

// Swap makes c the active version and returns the previous one.
func (e *Engine) Swap(c *Compiled) *Compiled { return e.active.Swap(c) }

// Active returns the version being served.
func (e *Engine) Active() *Compiled { return e.active.Load() }

// Decide evaluates the active version on in. Anything but a well-formed
// decision is a deny: the returned Decision then carries a violation saying
// why, and the error says what went wrong (for the log; the Decision is what
// a client may see).
func (e *Engine) Decide(ctx context.Context, in *Input) (Decision, error) {
	return e.active.Load().Decide(ctx, in, e.timeout)
}

// DecideVersion is Decide, also returning the id of the version that
// decided, for the decision record.
func (e *Engine) DecideVersion(ctx context.Context, in *Input) (Decision, int64, error) {
	c := e.active.Load()
	d, err := c.Decide(ctx, in, e.timeout)
	return d, c.version, err
}

// Decide decides in with this version, within timeout: from the decision
// cache when this version decided an equal input before.
func (c *Compiled) Decide(ctx context.Context, in *Input, timeout time.Duration) (Decision, error) {
	if c.cache == nil {
		return c.evaluate(ctx, in, timeout)
	}
	bp := keyBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxKeyBytes {
			keyBufs.Put(bp) // a buffer grown by a huge input is dropped
		}
	}()
	key := in.key((*bp)[:0], c.cache.withQueryID)
	*bp = key
	if d, ok := c.cache.get(key); ok {
		return d, nil
	}
	d, err := c.evaluate(ctx, in, timeout)
	if err == nil {
		c.cache.put(key, d)
	}
	return d, err
}

// evaluate runs the policy on in, within timeout.
//
// The deadline and the caller's cancellation stop the evaluation through a
// topdown.Cancel that context.AfterFunc arms: rego would otherwise start a
// goroutine per decision to watch the context. The context keeps the
// deadline too, for builtins that block (http.send).
func (c *Compiled) evaluate(ctx context.Context, in *Input, timeout time.Duration) (Decision, error) {
	if timeout > 0 {
		var cancelCtx context.CancelFunc
		ctx, cancelCtx = context.WithTimeout(ctx, timeout)
		defer cancelCtx()
	}
	cancel := topdown.NewCancel()
	if ctx.Done() != nil {
		defer context.AfterFunc(ctx, cancel.Cancel)()
	}
	result, err := c.eval(ctx, in.value(), cancel)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || err != nil && ctx.Err() != nil:
		return deny(RuleTimeout, "the policy did not decide in time; the statement is refused"), fmt.Errorf("policy: eval: %w", err)
	case err != nil:
		return deny(RuleError, "the policy failed to evaluate; the statement is refused"), fmt.Errorf("policy: eval: %w", err)
	case result == nil:
		return deny(RuleUndefined, "the policy gave no decision; the statement is refused"), errors.New("policy: undefined decision")
	}
	d, err := decode(result)
	if err != nil {
		return deny(RuleInvalid, "the policy's decision is malformed; the statement is refused"), fmt.Errorf("policy: %w", err)
	}
	if d.Allow && (len(d.Violations) > 0 || len(d.Regions) == 0) {
		return deny(RuleInconsistent, "the policy allowed the statement without a region or despite violations; the statement is refused"),
			errors.New("policy: inconsistent decision")
	}
	return d, nil
}

// eval evaluates data.meridian.decision on input: with the plan when there
// is one, else with topdown. A nil result is an undefined decision.
func (c *Compiled) eval(ctx context.Context, input ast.Value, cancel topdown.Cancel) (*ast.Term, error) {
	if c.plan != nil {
		rs, err := c.plan.Eval(ctx, input, c.data, regoplan.Options{Cancel: cancel})
		switch {
		case err != nil:
			return nil, err
		case len(rs) == 0:
			return nil, nil
		case len(rs) > 1:
			return nil, fmt.Errorf("%d decisions", len(rs))
		}
		obj, ok := rs[0].Value.(ast.Object)
		if !ok || obj.Len() != 1 {
			return nil, fmt.Errorf("the plan's result is %v, want one binding", rs[0])
		}
		var v *ast.Term
		obj.Foreach(func(_, t *ast.Term) { v = t })
		return v, nil
	}
	rs, err := c.query.Eval(ctx, rego.EvalParsedInput(input), rego.EvalExternalCancel(cancel),
		rego.EvalMetrics(noMetrics), rego.EvalGenerateJSON(keepTerm))
	switch {
	case err != nil:
		return nil, err
	case len(rs) == 0:
		return nil, nil
	case len(rs) != 1 || len(rs[0].Expressions) != 1:
		return nil, fmt.Errorf("%d results", len(rs))
	}
	t, ok := rs[0].Expressions[0].Value.(*ast.Term)
	if !ok {
		return nil, fmt.Errorf("decision is %T, want a term", rs[0].Expressions[0].Value)
	}
	return t, nil
}

// noMetrics is shared by all evaluations: nothing reads their metrics.
var noMetrics = metrics.NoOp()

// keepTerm leaves the decision as an AST term: decode reads it directly,
// without building Go maps first.
func keepTerm(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }

func deny(rule, msg string) Decision {
	return Decision{Regions: []string{}, Violations: []Violation{{Rule: rule, Message: msg}}}
}

// decode reads a decision strictly: a missing or mistyped field is an error.
func decode(t *ast.Term) (Decision, error) {
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return Decision{}, fmt.Errorf("decision is %s, want an object", ast.ValueName(t.Value))
	}
	d := Decision{Regions: []string{}, Violations: []Violation{}} // arrays in JSON, never null
	allow, ok := field(obj, "allow").(ast.Boolean)
	if !ok {
		return Decision{}, errors.New("decision.allow is missing or not a boolean")
	}
	d.Allow = bool(allow)
	regions, ok := field(obj, "regions").(*ast.Array)
	if !ok {
		return Decision{}, errors.New("decision.regions is missing or not an array")
	}
	for i := range regions.Len() {
		s, ok := regions.Elem(i).Value.(ast.String)
		if !ok {
			return Decision{}, errors.New("decision.regions holds a non-string")
		}
		d.Regions = append(d.Regions, string(s))
	}
	sort.Strings(d.Regions)
	d.Regions = slices.Compact(d.Regions)
	vs, ok := field(obj, "violations").(*ast.Array)
	if !ok {
		return Decision{}, errors.New("decision.violations is missing or not an array")
	}
	for i := range vs.Len() {
		m, ok := vs.Elem(i).Value.(ast.Object)
		if !ok {
			return Decision{}, errors.New("a violation is not an object")
		}
		rule, _ := field(m, "rule").(ast.String)
		msg, _ := field(m, "message").(ast.String)
		if rule == "" || msg == "" {
			return Decision{}, errors.New("a violation lacks rule or message")
		}
		table, _ := field(m, "table").(ast.String)
		d.Violations = append(d.Violations, Violation{Rule: string(rule), Table: string(table), Message: string(msg)})
	}
	if ob, ok := field(obj, "obligations").(ast.Object); ok {
		v, err := ast.JSON(ob)
		if err != nil {
			return Decision{}, fmt.Errorf("decision.obligations: %v", err)
		}
		m, err := plainNumbers(v)
		if err != nil {
			return Decision{}, fmt.Errorf("decision.obligations: %v", err)
		}
		d.Obligations = m.(map[string]any)
	}
	return d, nil
}

// plainNumbers turns the json.Numbers of a value from ast.JSON into
// float64s, as decoding its JSON would (without a round trip through text);
// a number out of float64's range is an error, as it would be there.
func plainNumbers(v any) (any, error) {
	var err error
	switch x := v.(type) {
	case json.Number:
		return x.Float64()
	case map[string]any:
		for k, e := range x {
			if x[k], err = plainNumbers(e); err != nil {
				return nil, err
			}
		}
	case []any:
		for i, e := range x {
			if x[i], err = plainNumbers(e); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// field is obj[key]'s value, nil when absent.
func field(obj ast.Object, key string) ast.Value {
	if t := obj.Get(ast.InternedTerm(key)); t != nil {
		return t.Value
	}
	return nil
}
