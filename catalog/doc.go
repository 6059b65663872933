// Package catalog resolves the tables a statement touches: for a Trino name
// (catalog.schema.table) it finds the Iceberg table through iceberg-go (an SQL
// catalog on SQLite or PostgreSQL, or a REST catalog such as Polaris,
// Lakekeeper, Glue or S3 Tables) and returns what governance needs: schema,
// location, region, classification, purposes, column tags, retention,
// partition spec, snapshot and per-partition statistics, or a view's SQL so
// the planner can expand it.
//
// Governance metadata lives in Iceberg table properties (meridian.residency,
// meridian.classification, meridian.purposes, meridian.retention-days,
// meridian.column.<c>.tags). A table whose region cannot be determined
// resolves with RegionUnknown, which policy treats as the strictest case;
// malformed properties are errors that name the table and the property, so
// the planner fails closed. Resolution is cached with a TTL, concurrent misses
// collapse into one load, and writes and tag edits invalidate at once. Tag
// edits are recorded (who, what, when) in the state store. With a
// PartitionStates provider (WithPartitionStates; lifecycle implements it),
// Resolve also reports each partition's storage class and the partitions a
// query cannot read until restored (TableInfo.UnreadablePartitions).
//
// In the statement path catalog sits under planner, which calls Resolve.
// catalog imports only internal packages; it never imports policy or planner.
// planner, lifecycle, the local engine and cmd may import it.
package catalog
