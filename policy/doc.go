// Package policy decides, per statement, whether it may run and where: it
// evaluates the active policy version (Rego, OPA's v1 packages, prepared once
// per version and swapped atomically) on the decision input that planner
// builds, and turns the result into a Decision. An undefined result, a
// missing or mistyped field, an evaluation error or a timeout is a deny with
// a reason, never an allow.
//
// It also loads and checks policy packs (the shipped one is package rego,
// imported here as policies): syntax errors with file:line:col, invalid data,
// size limits, packages outside the allowed roots, a pack that never defines
// data.meridian.decision; and it runs a pack's *_test.rego tests.
//
// In the statement path policy sits under planner, which calls Decide.
// policy never imports catalog or planner; planner, server and cmd import it.
package policy
