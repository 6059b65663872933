// Package engine is the local regional engine: a stand-in for one region's
// Trino cluster that speaks the Trino client protocol as a coordinator, plans
// Iceberg scans with iceberg-go and runs the SQL in DuckDB. It is not a Trino
// replacement; in production every region is a real Trino cluster.
//
// A statement arrives as POST /v1/statement (server.go), is parsed with
// planner/sql so syntax errors carry Trino positions, and is planned
// (statement.go): session statements (USE, PREPARE, SET SESSION,
// transactions) become response headers, SHOW and DESCRIBE answer from the
// catalog (metadata.go), and everything else is compiled by the Lake into
// DuckDB SQL and streamed from DuckDB's cursor into bounded pages
// (execute.go, types.go) that clients take through nextUri (query.go).
// Transactions are accepted but do nothing: every statement commits alone.
//
// Only cmd/meridian-engine imports it (it needs cgo for DuckDB).
package engine
