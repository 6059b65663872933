// Package engine is the local regional engine: a stand-in for one region's
// Trino cluster that speaks the Trino client protocol as a coordinator, plans
// Iceberg scans with iceberg-go and runs the SQL in DuckDB. It is not a Trino
// replacement; in production every region is a real Trino cluster.
//
// Only cmd/meridian-engine imports it (it needs cgo for DuckDB).
package engine

import (
	_ "github.com/duckdb/duckdb-go/v2"
	_ "github.com/trinodb/trino-go-client/trino"
)
