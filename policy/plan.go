package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/meridian-lake/meridian/internal/regoplan"
)

// A version decides with OPA's plan of its decision query, run by
// internal/regoplan, when the plan uses only what regoplan runs exactly as
// OPA does; otherwise with OPA's evaluator, topdown. Both are OPA's
// semantics: the plan is what OPA's planner makes of the compiled rules (the
// plan OPA compiles to WebAssembly), and every built-in is OPA's own. The
// difference is cost: topdown spends most of a decision on unification and
// bindings, which the plan has already lowered away
// (BenchmarkDecide/cold, and cold-topdown beside it). TestPackEquivalence
// and FuzzPlanEquivalence hold the two to the same decisions, byte for
// byte, and internal/regoplan's own tests do so across the language.

// Evaluators: what decides for a version.
const (
	EvaluatorPlan    = "plan"    // OPA's plan, run by regoplan; topdown when the plan cannot be run
	EvaluatorTopdown = "topdown" // OPA's evaluator only
)

// topdownOnlySetting is set by SetEvaluator(EvaluatorTopdown).
var topdownOnlySetting atomic.Bool

// SetEvaluator chooses, for the versions compiled from now on in this
// process, between EvaluatorPlan (the default) and EvaluatorTopdown, the
// escape hatch should a plan ever be suspected of deciding differently
// (serve sets it from policy.evaluator in meridian.yaml, once at start).
func SetEvaluator(name string) error {
	switch name {
	case EvaluatorPlan, "":
		topdownOnlySetting.Store(false)
	case EvaluatorTopdown:
		topdownOnlySetting.Store(true)
	default:
		return fmt.Errorf("policy: evaluator %q: want %s or %s", name, EvaluatorPlan, EvaluatorTopdown)
	}
	return nil
}

// planQuery plans the decision query of the compiled pack and prepares the
// plan with the pack's data. A nil program comes with the reason topdown
// decides instead.
func planQuery(ctx context.Context, compiler *ast.Compiler, p *Pack) (*regoplan.Program, ast.Value, string) {
	if topdownOnlySetting.Load() {
		return nil, nil, "policy.evaluator is topdown"
	}
	pol, err := regoplan.PlanQuery(ctx, compiler, DecisionRef)
	if err != nil {
		return nil, nil, "planning failed: " + err.Error()
	}
	prog, err := regoplan.Prepare(pol, nil)
	if err != nil {
		return nil, nil, err.Error()
	}
	data, err := ast.InterfaceToValue(copyData(p.data))
	if err != nil {
		return nil, nil, "policy data: " + err.Error()
	}
	return prog, data, ""
}

// planCheckInputs is how many of the most recent recorded decision inputs a
// version's plan must decide as topdown does before it decides for the
// version (about 50 ms for the shipped pack).
const planCheckInputs = 256

// planCheckTime bounds the check, for packs slow enough to need it.
const planCheckTime = 2 * time.Second

// checkPlan is a last guard on real traffic: before a stored version serves
// (or is dry-run), its plan and topdown decide the inputs of the most recent
// recorded decisions, and on any difference the version decides with
// topdown, its Evaluator naming the decision. Tests hold the two to the
// same decisions; this catches what they did not foresee, before a
// statement depends on it.
func (r *Registry) checkPlan(ctx context.Context, c *Compiled) error {
	if c.plan == nil {
		return nil
	}
	recs, err := r.Decisions(ctx, Filter{Limit: planCheckInputs, WithInput: true})
	if err != nil {
		return fmt.Errorf("policy: check version %d's plan on recorded decisions: %w", c.version, err)
	}
	td := c.withoutPlan("")
	stop := time.Now().Add(planCheckTime)
	for _, rec := range recs {
		if rec.Input == nil {
			continue
		}
		if time.Now().After(stop) {
			break // a pack this slow is already checked on what was recorded last
		}
		if a, b := decisionText(ctx, c, rec.Input), decisionText(ctx, td, rec.Input); a != b {
			c.plan, c.data = nil, nil
			c.planNote = fmt.Sprintf("its plan decided recorded decision %s differently from topdown (GET /v1/meridian/decisions?input=true shows its input; please report it)", rec.ID)
			return nil
		}
	}
	return nil
}

// withoutPlan is c deciding with topdown, for the reason given.
func (c *Compiled) withoutPlan(note string) *Compiled {
	cp := *c
	cp.plan, cp.data, cp.planNote = nil, nil, note
	cp.cache = nil
	return &cp
}

// decisionText renders c's decision on in for comparison; every error is
// the same text, since either evaluator denies on any.
func decisionText(ctx context.Context, c *Compiled, in *Input) string {
	d, err := c.evaluate(ctx, in, impactTimeout)
	if err != nil {
		return "error"
	}
	b, _ := json.Marshal(d)
	return string(b)
}
