// Package planner turns a statement into a plan. Today it holds the first
// stage, analysis: from a parsed statement and the session's defaults it
// finds the statement kind, every table touched and how (read, write, ddl,
// meta), the columns read per table, for each output column whether it
// carries raw column values or only aggregates, and the column-versus-literal
// predicates that allow partition pruning. A statement that cannot be parsed
// is analysed conservatively: every name that could be a table counts as read.
// A statement whose tables cannot be known from its text (EXECUTE of a
// prepared name, pass-through table functions, CALL) is marked opaque so
// policy denies it.
//
// In the statement path planner sits between server and the decision: server
// calls it with the statement that will really run; planner resolves tables
// through catalog, asks policy, and chooses a cluster (see ARCHITECTURE.md).
//
// planner may import planner/sql, catalog, policy, cluster and internal
// packages. server and cmd import planner; catalog, policy and cluster never do.
package planner
