// Package lifecycle keeps each region's lake under its storage budget without
// breaking tables or queries.
//
// Planning reads what is stored (ListObjectsV2 or S3 Inventory reports, streamed), prices it with
// a versioned price table (price.go, storage.go, cost.go), aggregates objects
// into Iceberg partitions, and chooses a storage class per partition so each
// region's projected monthly cost stays under its budget while partitions read
// recently stay queryable (optimize.go). report.go and svg.go render the
// result. Storage-class behaviour that no local S3 server reproduces is
// modelled by [SimulatedStorageClasses] (sim.go), which wraps the real S3
// calls behind [ObjectStore]; code in this package never knows which of the
// two it talks to.
//
// Acting: the executor (exec.go, journal.go) applies a Plan idempotently,
// journalling every action and object before and after, so a killed job
// resumes and converges; dry run is the default. Iceberg maintenance goes
// through Iceberg, never around it: snapshot expiry (expire.go) and orphan
// cleanup (orphan.go) never delete a file a snapshot, branch or tag
// references, refuse gc.enabled=false and cutoffs under 24 h; retention
// (retention.go) deletes partitions past meridian.retention-days with an
// Iceberg delete commit, then expires the snapshots. Archived partitions are
// recorded (PartitionStateStore, restore.go), which the catalog reports and
// the planner refuses to read until a restore (Restorer) finishes. The
// access history (access.go) is what the proxy records per statement and
// the optimizer reads. Schedules (schedule.go) run jobs on one replica at a
// time, under a lease in the state store.
//
// # How the executor consumes a Plan
//
// A [Plan] is immutable and JSON-serialisable. Its Actions are the only work
// it asks for; everything else in it (per-region totals, shortfall) is for
// the report. Each [Action] names one group of objects: the objects of one
// partition (Bucket + Prefix, the partition's directory under the table's
// data/ directory) whose current class is From, to be moved to To. The
// executor is expected to:
//
//   - refuse a plan whose PriceVersion or Format it does not know, and any
//     Action whose Prefix lies under a metadata/ directory (the optimizer
//     never emits one; the check is a second lock on the same door);
//   - journal the Action (its ID is stable for the same plan input) before
//     touching S3, then enumerate the objects under Prefix through
//     [ObjectStore.List], skip objects whose class is already To (this is
//     what makes a rerun after a crash converge with no double work) or is
//     not From (the object changed since planning: report it, do not move it),
//     and move the rest with [ObjectStore.Copy] (an in-place copy with the new
//     class) or with tags plus a bucket lifecycle rule when the Action's
//     Objects count makes per-object copies dearer;
//   - never move an object uphill ([CanTransition] is false): the optimizer
//     does not plan such moves, and archived objects need a restore first;
//   - record, after the Action completes, the partitions whose new class is
//     not [StorageClass.Queryable], so the query planner refuses statements
//     that would read them.
//
// Only cmd/ imports lifecycle; it imports catalog, policy and internal
// packages.
package lifecycle
