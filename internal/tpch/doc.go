// Package tpch generates TPC-H data deterministically, following the data
// generation rules of the TPC-H specification (clause 4.2): the eight tables,
// their cardinalities per scale factor, the value domains the 22 queries
// filter on, sparse order keys, the partsupp supplier formula and comments
// drawn from the specification's text grammar. The same (Scale, Seed) always
// yields the same rows, whatever the batch size, and every table streams, so
// lineitem is never held in memory whole.
//
// Columns carry the names the Trino benchmark queries use (orderkey, not
// l_orderkey). Decimals are exact: [Money] holds hundredths in an int64, and
// [Date] is a civil day count, free of time zones. Rows come either as typed
// structs through iterators ([Generator.Lineitems]) or as columnar [Batch]es
// ([Generator.Generate]) ready to turn into Apache Arrow records.
//
// [Q1], [Q6] and [Q14] compute the exact answers of those TPC-H queries in Go,
// so that tests can compare them with what a SQL engine returns.
//
// The package sits outside the statement path: nothing that plans, decides or
// forwards a statement uses it. Only the demo lake builder (a command under
// cmd/), which writes the TPC-H Iceberg tables, and tests and benchmarks,
// which build data and expected results, may import it; server, planner,
// policy, catalog and cluster must not. It imports only the standard library.
package tpch
