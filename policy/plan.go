package policy

import (
	"context"
	"fmt"
	"sync/atomic"

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

// topdownOnly is set by SetEvaluator(EvaluatorTopdown).
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
