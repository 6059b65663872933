// Package server is Meridian's front door over HTTP:
//
//   - the Trino client protocol (Proxy, proxy.go): POST /v1/statement is
//     authenticated, planned, decided, recorded and forwarded to a compliant
//     cluster, or refused with a Trino error; follow-up URIs are rewritten,
//     while the reply streams through (rewrite.go), into signed
//     self-routing tokens (token.go) any replica can verify;
//   - identity (identity.go, users.go, auth_*.go, jwt.go, tls.go): a users
//     file with bcrypt passwords over TLS, JWT bearer tokens, and an
//     explicit insecure development mode that trusts X-Trino-User;
//   - the compliance REST API (PolicyAPI) and the cluster admin API
//     (ClusterAPI) under /v1/meridian/, each behind its role.
//
// It sits at the top of the statement path, above planner, policy and
// cluster: it authenticates and authorizes callers, bounds what they send,
// calls down into the packages that do the work, and turns their errors into
// responses (errors.go for the REST APIs, Trino QueryResults for the
// protocol). It is an edge, so it logs (log/slog, injected); it never logs
// SQL literals, policy file contents or decision inputs.
//
// Only cmd may import server.
package server
