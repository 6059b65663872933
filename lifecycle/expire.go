package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/meridian-lake/meridian/catalog"
)

// PropGCEnabled is the Iceberg table property that, set to false, forbids
// deleting any of the table's files (another table may share them).
const PropGCEnabled = "gc.enabled"

// Errors of snapshot expiry and orphan cleanup. Each is wrapped with the
// table's name.
var (
	// ErrGCDisabled: the table has gc.enabled=false.
	ErrGCDisabled = errors.New("table property gc.enabled=false forbids deleting its files (they may be shared with another table): set gc.enabled=true if they are not, or leave the table alone")
	// ErrCutoffTooShort: an orphan cutoff under MinOrphanAge. A file
	// written by a commit still in flight looks like an orphan; deleting
	// it corrupts the table (apache/iceberg#4194).
	ErrCutoffTooShort = errors.New("orphan cutoff under 24h: files of commits still in flight would look like orphans and be deleted (apache/iceberg#4194): use at least 24h (default 72h)")
	// ErrRefWouldMove: an expiry would drop a branch or tag or the current
	// snapshot (iceberg-go removes refs past max-ref-age-ms). Lifecycle
	// never removes a ref: drop it explicitly first.
	ErrRefWouldMove = errors.New("snapshot expiry would remove a branch, tag or the current snapshot: lifecycle never does; remove the ref explicitly if that is meant")
)

// ExpireOptions configures ExpireSnapshots. The zero value is a dry run
// that expires snapshots older than 5 days beyond the newest one.
type ExpireOptions struct {
	// OlderThan: snapshots older than this are expired (default 5 days,
	// Iceberg's history.expire.max-snapshot-age-ms default). iceberg-go
	// measures it in whole milliseconds from its own clock; any value
	// under 1ms expires every snapshot not retained otherwise.
	OlderThan time.Duration
	// RetainLast keeps at least this many snapshots per branch, whatever
	// their age (default 1).
	RetainLast int
	// Apply commits and deletes; false (the default) only reports.
	Apply bool
}

func (o ExpireOptions) withDefaults() ExpireOptions {
	if o.OlderThan == 0 {
		o.OlderThan = 5 * day
	}
	if o.RetainLast == 0 {
		o.RetainLast = 1
	}
	return o
}

// ExpireResult is what an expiry did, or would do on a dry run.
type ExpireResult struct {
	Table  string `json:"table"`
	DryRun bool   `json:"dry_run"`
	// Expired are the snapshots removed from the metadata.
	Expired []int64 `json:"expired"`
	// Kept are the snapshots left.
	Kept []int64 `json:"kept"`
	// Files are the data, delete, manifest and manifest-list files no
	// remaining snapshot references: deleted, or to be deleted.
	Files []string `json:"files"`
	// Bytes is the size of the data and delete files among Files.
	Bytes int64 `json:"bytes"`
}

// gcCheck refuses tables with gc.enabled=false, naming the property.
func gcCheck(name string, tbl *table.Table) error {
	if v, ok := tbl.Properties()[PropGCEnabled]; ok && v != "true" {
		return fmt.Errorf("%s: %w", name, ErrGCDisabled)
	}
	return nil
}

// ExpireSnapshots expires the snapshots of ref older than opts.OlderThan
// beyond the last opts.RetainLast, through iceberg-go's
// Transaction.ExpireSnapshots, then deletes the files no remaining
// snapshot references. It never expires the current snapshot or a
// snapshot a branch or tag points at, and never deletes a metadata JSON
// file.
//
// Safety does not rest on iceberg-go alone (apache/iceberg#13568): the
// staged metadata is checked to keep every ref; iceberg-go's own
// post-commit deletion is off; after the commit the table is loaded again
// and the files to delete are those of the expired snapshots that no
// snapshot of the reloaded metadata (which includes commits made since)
// references.
func ExpireSnapshots(ctx context.Context, cat *catalog.Catalog, ref catalog.TableRef, objects ObjectStore, opts ExpireOptions) (ExpireResult, error) {
	opts = opts.withDefaults()
	name := ref.String()
	res := ExpireResult{Table: name, DryRun: !opts.Apply}
	if opts.OlderThan < 0 || opts.RetainLast < 1 {
		return res, fmt.Errorf("%s: expire: older-than %v, retain-last %d: want a non-negative age and at least 1 snapshot", name, opts.OlderThan, opts.RetainLast)
	}
	tbl, err := OpenTable(ctx, cat, ref)
	if err != nil {
		return res, err
	}
	if err := gcCheck(name, tbl); err != nil {
		return res, err
	}
	before, err := ReadTableFiles(ctx, name, tbl)
	if err != nil {
		return res, err
	}
	tx := tbl.NewTransaction()
	if err := tx.ExpireSnapshots(table.WithOlderThan(opts.OlderThan), table.WithRetainLast(opts.RetainLast), table.WithPostCommit(false)); err != nil {
		return res, fmt.Errorf("%s: expire: %w", name, err)
	}
	staged, err := tx.StagedTable()
	if err != nil {
		return res, fmt.Errorf("%s: expire: %w", name, err)
	}
	if err := sameRefs(tbl.Metadata(), staged.Metadata()); err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	kept := map[int64]bool{}
	for _, s := range staged.Metadata().Snapshots() {
		kept[s.SnapshotID] = true
		res.Kept = append(res.Kept, s.SnapshotID)
	}
	for _, s := range before.Snapshots {
		if !kept[s.ID] {
			res.Expired = append(res.Expired, s.ID)
		}
	}
	slices.Sort(res.Kept)
	if len(res.Expired) == 0 {
		return res, nil
	}
	if !opts.Apply {
		res.Files, res.Bytes = unreferencedAfter(before, kept, before)
		return res, nil
	}
	if _, err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("%s: expire: commit: %w", name, err)
	}
	cat.Invalidate(ref)
	// Reload: the files to delete are checked against what the catalog
	// holds now, not against what this process staged.
	now, err := OpenTable(ctx, cat, ref)
	if err != nil {
		return res, err
	}
	after, err := ReadTableFiles(ctx, name, now)
	if err != nil {
		return res, err
	}
	still := map[int64]bool{}
	for _, s := range after.Snapshots {
		still[s.ID] = true
	}
	res.Files, res.Bytes = unreferencedAfter(before, still, after)
	if err := deleteFiles(ctx, objects, res.Files); err != nil {
		return res, fmt.Errorf("%s: expire: the snapshots are expired but some files are left (orphan cleanup removes them later): %w", name, err)
	}
	return res, nil
}

// sameRefs checks that every branch and tag of before points at the same
// snapshot in after, and that the current snapshot is unchanged.
func sameRefs(before, after table.Metadata) error {
	got := map[string]int64{}
	for n, r := range after.Refs() {
		got[n] = r.SnapshotID
	}
	for n, r := range before.Refs() {
		if id, ok := got[n]; !ok || id != r.SnapshotID {
			return fmt.Errorf("%w (ref %q at snapshot %d)", ErrRefWouldMove, n, r.SnapshotID)
		}
	}
	b, a := before.CurrentSnapshot(), after.CurrentSnapshot()
	if (b == nil) != (a == nil) || b != nil && b.SnapshotID != a.SnapshotID {
		return ErrRefWouldMove
	}
	return nil
}

// unreferencedAfter returns the files the snapshots of before outside keep
// reference that no snapshot of now references (data and delete files,
// manifests, manifest lists; never metadata JSON), sorted, and the bytes
// of the data and delete files among them.
func unreferencedAfter(before *TableFiles, keep map[int64]bool, now *TableFiles) ([]string, int64) {
	// What the kept snapshots reference: from before on a dry run, from
	// the reloaded metadata (with any snapshot committed since) otherwise.
	// Metadata JSON and statistics files are never candidates.
	held := map[string]bool{}
	for _, s := range now.Snapshots {
		if !keep[s.ID] {
			continue
		}
		held[normalizePath(s.ManifestList)] = true
		for _, m := range s.Manifests {
			held[m] = true
		}
		for _, f := range s.Files {
			held[f] = true
		}
	}
	seen := map[string]bool{}
	var out []string
	var bytes int64
	add := func(p string) {
		if held[p] || seen[p] || p == "" || isMetadataJSON(p) {
			return
		}
		seen[p] = true
		out = append(out, p)
		if f := before.Files[p]; f != nil {
			bytes += f.Size
		}
	}
	for _, s := range before.Snapshots {
		if keep[s.ID] {
			continue
		}
		add(normalizePath(s.ManifestList))
		for _, m := range s.Manifests {
			add(m)
		}
		for _, f := range s.Files {
			add(f)
		}
	}
	slices.Sort(out)
	return out, bytes
}

func isMetadataJSON(p string) bool {
	return IsMetadataPath(p) && (hasSuffix(p, ".metadata.json") || hasSuffix(p, ".metadata.json.gz"))
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }
