// Package regoplan runs OPA's intermediate representation (IR) of a Rego
// query: the plan OPA's own planner makes of a compiled policy, the same plan
// OPA compiles to WebAssembly. OPA's tree-walking evaluator (topdown) pays
// for unification, bindings and iterators on every expression; a plan is
// already lowered to loops, lookups and calls, so running it costs a few
// tens of nanoseconds a statement.
//
// Built-in functions are OPA's own (topdown.GetBuiltin), called exactly as
// topdown calls them, so their results, errors and undefined cases are
// OPA's. Prepare refuses a plan it cannot run exactly (with, dynamic calls,
// merges, non-deterministic or unknown built-ins); the caller then keeps
// OPA's evaluator. A run that cannot finish (a conflict, a cancellation, an
// operand that is unexpectedly undefined) returns an error, never a
// partial result.
//
// Only package policy imports it: it sits below the policy engine, which
// plans each policy version once and keeps topdown for any version whose
// plan Prepare refuses.
package regoplan
