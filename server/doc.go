// Package server is Meridian's front door over HTTP. For now it serves only
// the compliance REST API under /v1/meridian/ (PolicyAPI): list, upload,
// validate, test, dry-run (impact), activate and roll back policy versions,
// and query the decision records. The Trino protocol (POST /v1/statement,
// forwarding with signed routing tokens) and the admin API join it later.
//
// It sits at the top of the statement path, above planner and policy: it
// authenticates and authorizes callers, bounds what they send, calls down
// into the packages that do the work, and turns their errors into responses
// in one place (errors.go). It is an edge, so it logs (log/slog, injected);
// it never logs policy file contents or decision inputs.
//
// Only cmd may import server; server imports planner, policy and internal/
// packages, never the other way round.
package server
