// Package cluster is the registry of regional Trino clusters: which clusters
// serve which region, whether each is healthy (a checker polls GET /v1/info),
// draining (set by an operator) or unhealthy, how many statements each has in
// flight, and the choice of a cluster for a statement among the regions a
// policy decision allows. There is never a fallback region: when no allowed
// region has a usable cluster, Choose fails with the regions that would have
// been compliant.
//
// The planner and the server import it.
package cluster
