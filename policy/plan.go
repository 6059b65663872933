package policy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/meridian-lake/meridian/internal/regoplan"
)

// A version decides with OPA's plan of its decision query, run by
// internal/regoplan, when the plan uses only what regoplan runs exactly as
// OPA does; otherwise with OPA's evaluator, topdown. Both are OPA's
// semantics: the plan is what OPA's planner makes of the compiled rules (the
// plan OPA compiles to WebAssembly), and every built-in is OPA's own. The
// difference is cost: topdown spends most of a decision on unification and
// bindings, which the plan has already lowered away
// (BenchmarkDecide/cold, and .../topdown beside it). TestPlanEquivalence
// holds the two to the same decisions, byte for byte.

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

// planTarget is the rego target under which OPA hands the plan of a prepared
// query to planCapture.
const planTarget = "meridian-plan"

var registerPlanTarget sync.Once

// planSlot receives the plan of one PrepareForEval, through its context.
type planSlot struct{ policy *ir.Policy }

type planSlotKey struct{}

// planCapture is a rego target plugin that only keeps the plan it is given.
type planCapture struct{}

func (planCapture) IsTarget(t string) bool { return t == planTarget }

func (planCapture) PrepareForEval(ctx context.Context, pol *ir.Policy, _ ...rego.PrepareOption) (rego.TargetPluginEval, error) {
	slot, ok := ctx.Value(planSlotKey{}).(*planSlot)
	if !ok {
		return nil, errors.New("policy: the plan target is only for policy.Compile")
	}
	slot.policy = pol
	return planCapture{}, nil
}

func (planCapture) Eval(context.Context, *rego.EvalContext, ast.Value) (ast.Value, error) {
	return nil, errors.New("policy: the plan target does not evaluate")
}

// planQuery plans the decision query of the compiled pack and prepares the
// plan with the pack's data. A nil program comes with the reason topdown
// decides instead.
func planQuery(ctx context.Context, compiler *ast.Compiler, p *Pack) (*regoplan.Program, ast.Value, string) {
	if topdownOnlySetting.Load() {
		return nil, nil, "policy.evaluator is topdown"
	}
	registerPlanTarget.Do(func() { rego.RegisterPlugin(planTarget, planCapture{}) })
	slot := &planSlot{}
	_, err := rego.New(
		rego.Query(DecisionRef),
		rego.Compiler(compiler),
		rego.Target(planTarget),
	).PrepareForEval(context.WithValue(ctx, planSlotKey{}, slot))
	if err != nil {
		return nil, nil, "planning failed: " + err.Error()
	}
	prog, err := regoplan.Prepare(slot.policy, nil)
	if err != nil {
		return nil, nil, err.Error()
	}
	data, err := ast.InterfaceToValue(copyData(p.data))
	if err != nil {
		return nil, nil, "policy data: " + err.Error()
	}
	return prog, data, ""
}
