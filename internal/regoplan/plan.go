package regoplan

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/rego"
)

// PlanQuery is OPA's plan of query against the compiled modules: rego
// prepares the query for a target plugin that keeps the plan it is handed
// (OPA's planner is internal to OPA; this is its public way out).
func PlanQuery(ctx context.Context, compiler *ast.Compiler, query string) (*ir.Policy, error) {
	registerTarget.Do(func() { rego.RegisterPlugin(planTarget, capture{}) })
	s := &slot{}
	_, err := rego.New(rego.Query(query), rego.Compiler(compiler), rego.Target(planTarget)).
		PrepareForEval(context.WithValue(ctx, slotKey{}, s))
	if err != nil {
		return nil, fmt.Errorf("regoplan: plan %s: %w", query, err)
	}
	if s.policy == nil {
		return nil, fmt.Errorf("regoplan: plan %s: OPA did not hand over a plan", query)
	}
	return s.policy, nil
}

// planTarget is the rego target name of the capture; plugin names are
// global to a process.
const planTarget = "meridian-regoplan"

var registerTarget sync.Once

// slot receives the plan of one PrepareForEval, through its context.
type slot struct{ policy *ir.Policy }

type slotKey struct{}

// capture is the target plugin: it keeps the plan and never evaluates.
type capture struct{}

func (capture) IsTarget(t string) bool { return t == planTarget }

func (capture) PrepareForEval(ctx context.Context, pol *ir.Policy, _ ...rego.PrepareOption) (rego.TargetPluginEval, error) {
	s, ok := ctx.Value(slotKey{}).(*slot)
	if !ok {
		return nil, errors.New("regoplan: the plan target is only for regoplan.PlanQuery")
	}
	s.policy = pol
	return capture{}, nil
}

func (capture) Eval(context.Context, *rego.EvalContext, ast.Value) (ast.Value, error) {
	return nil, errors.New("regoplan: the plan target does not evaluate")
}
