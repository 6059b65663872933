package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/meridian-lake/meridian/catalog"
)

// ErrNoTimePartition: a table with meridian.retention-days has no
// partition on a date or timestamp column, so whole partitions cannot be
// told past retention.
var ErrNoTimePartition = errors.New("meridian.retention-days needs a partition on a date or timestamp column (identity on a date, or hour, day, month or year): add one with a partition spec update, or remove the property")

// RetentionOptions configures ApplyRetention. The zero value is a dry run
// against the wall clock.
type RetentionOptions struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Apply commits the delete and expires snapshots; false (the
	// default) only reports.
	Apply bool
}

// RetentionResult is what a retention run removed, or would remove.
type RetentionResult struct {
	Table  string `json:"table"`
	DryRun bool   `json:"dry_run"`
	// Days is the table's meridian.retention-days (0: no retention; the
	// rest of the result is empty).
	Days int `json:"days"`
	// Column and Field are the partition source column and field used.
	Column string `json:"column,omitempty"`
	Field  string `json:"field,omitempty"`
	// Boundary: partitions wholly before it are past retention; it is
	// now − Days, rounded down to the partition's granularity, so a
	// partition that still holds rows inside retention is kept.
	Boundary time.Time `json:"boundary"`
	// Partitions are the expired partitions, sorted.
	Partitions []string `json:"partitions"`
	Files      int      `json:"files"`
	Records    int64    `json:"records"`
	Bytes      int64    `json:"bytes"`
	// SnapshotID is the delete commit's snapshot (0 on a dry run or when
	// nothing expired).
	SnapshotID int64 `json:"snapshot_id,omitempty"`
	// Expire is the snapshot expiry that followed the delete.
	Expire *ExpireResult `json:"expire,omitempty"`
	// Pinned are files of expired partitions that a branch or tag still
	// holds after expiry: their rows are gone from the table but the bytes
	// stay until the ref is removed.
	Pinned []string `json:"pinned,omitempty"`
}

// timePartition is the partition field retention works on.
type timePartition struct {
	field   iceberg.PartitionField
	column  string
	srcType iceberg.Type
	unit    string // "hour", "day", "month", "year"
}

// findTimePartition returns the first field of the current spec that
// partitions by time.
func findTimePartition(tbl *table.Table) (timePartition, bool) {
	sc := tbl.Schema()
	spec := tbl.Spec()
	for _, f := range spec.Fields() {
		src, ok := sc.FindFieldByID(f.SourceID())
		if !ok {
			continue
		}
		switch src.Type.(type) {
		case iceberg.DateType, iceberg.TimestampType, iceberg.TimestampTzType:
		default:
			continue
		}
		tp := timePartition{field: f, column: src.Name, srcType: src.Type}
		switch f.Transform.(type) {
		case iceberg.HourTransform, *iceberg.HourTransform:
			tp.unit = "hour"
		case iceberg.DayTransform, *iceberg.DayTransform:
			tp.unit = "day"
		case iceberg.MonthTransform, *iceberg.MonthTransform:
			tp.unit = "month"
		case iceberg.YearTransform, *iceberg.YearTransform:
			tp.unit = "year"
		case iceberg.IdentityTransform, *iceberg.IdentityTransform:
			if _, ok := src.Type.(iceberg.DateType); !ok {
				continue
			}
			tp.unit = "day"
		default:
			continue
		}
		return tp, true
	}
	return timePartition{}, false
}

// boundary rounds t down to the partition unit (UTC).
func (tp timePartition) boundary(t time.Time) time.Time {
	t = t.UTC()
	switch tp.unit {
	case "hour":
		return t.Truncate(time.Hour)
	case "day":
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case "month":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	default:
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	}
}

// ordinal is b as the partition field's value: hours, days, months or
// years since 1970 (a date identity partition holds days too).
func (tp timePartition) ordinal(b time.Time) int64 {
	switch tp.unit {
	case "hour":
		return b.Unix() / 3600
	case "day":
		return b.Unix() / 86400
	case "month":
		return int64(b.Year()-1970)*12 + int64(b.Month()-1)
	default:
		return int64(b.Year() - 1970)
	}
}

// filter is "column < b" with a literal of the column's type.
func (tp timePartition) filter(b time.Time) iceberg.BooleanExpression {
	ref := iceberg.Reference(tp.column)
	if _, ok := tp.srcType.(iceberg.DateType); ok {
		return iceberg.LessThan(ref, iceberg.Date(b.Unix()/86400))
	}
	return iceberg.LessThan(ref, iceberg.Timestamp(b.UnixMicro()))
}

func partitionOrdinal(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case iceberg.Date:
		return int64(x), true
	}
	return 0, false
}

// ApplyRetention deletes, through Iceberg, the partitions of ref that are
// entirely past its meridian.retention-days: one delete commit (iceberg-go
// Transaction.Delete with "column < boundary", whose files match whole, so
// copy-on-write drops them without rewriting), then snapshot expiry of
// every snapshot no branch or tag holds, which deletes the files. Files are
// never deleted directly: readers of the current snapshot keep working
// throughout, and rows inside retention are untouched.
func ApplyRetention(ctx context.Context, cat *catalog.Catalog, ref catalog.TableRef, objects ObjectStore, opts RetentionOptions) (RetentionResult, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	name := ref.String()
	res := RetentionResult{Table: name, DryRun: !opts.Apply}
	cat.Invalidate(ref)
	info, err := cat.Resolve(ctx, ref)
	if err != nil {
		return res, err
	}
	if info.Kind != catalog.KindTable {
		return res, fmt.Errorf("%s is a %s: retention applies to tables", name, info.Kind)
	}
	res.Days = info.RetentionDays
	if res.Days <= 0 {
		return res, nil
	}
	tbl, err := OpenTable(ctx, cat, ref)
	if err != nil {
		return res, err
	}
	if err := gcCheck(name, tbl); err != nil {
		return res, err
	}
	tp, ok := findTimePartition(tbl)
	if !ok {
		return res, fmt.Errorf("%s: %w", name, ErrNoTimePartition)
	}
	res.Column, res.Field = tp.column, tp.field.Name
	res.Boundary = tp.boundary(opts.Now().Add(-time.Duration(res.Days) * day))
	filter := tp.filter(res.Boundary)
	limit := tp.ordinal(res.Boundary)

	if tbl.CurrentSnapshot() == nil {
		return res, nil
	}
	tasks, err := tbl.Scan(table.WithRowFilter(filter)).PlanFiles(ctx)
	if err != nil {
		return res, fmt.Errorf("%s: plan retention: %w", name, err)
	}
	meta := tbl.Metadata()
	parts := map[string]bool{}
	expiredFiles := map[string]bool{}
	for _, t := range tasks {
		df := t.File
		spec := meta.PartitionSpecByID(int(df.SpecID()))
		v, ok := partitionOrdinal(df.Partition()[tp.field.FieldID])
		if !ok || v >= limit {
			// An older spec without the field, or a partition that
			// straddles the boundary: the delete rewrites it if any row
			// is past retention, but it is not an expired partition.
			continue
		}
		parts[partitionKey(meta, spec, df.Partition())] = true
		expiredFiles[normalizePath(df.FilePath())] = true
		res.Files++
		res.Records += df.Count()
		res.Bytes += df.FileSizeBytes()
	}
	res.Partitions = slices.Sorted(func(yield func(string) bool) {
		for p := range parts {
			if !yield(p) {
				return
			}
		}
	})
	if !opts.Apply || len(tasks) == 0 {
		return res, nil
	}

	tx := tbl.NewTransaction()
	props := iceberg.Properties{"meridian.operation": "retention", "meridian.retention-boundary": res.Boundary.Format(time.RFC3339)}
	if err := tx.Delete(ctx, filter, props); err != nil {
		return res, fmt.Errorf("%s: retention delete: %w", name, err)
	}
	after, err := tx.Commit(ctx)
	if err != nil {
		return res, fmt.Errorf("%s: retention delete: commit: %w", name, err)
	}
	cat.Invalidate(ref)
	if s := after.CurrentSnapshot(); s != nil {
		res.SnapshotID = s.SnapshotID
	}
	// Every snapshot older than now that no ref holds goes: they are what
	// still reference the expired rows.
	ex, err := ExpireSnapshots(ctx, cat, ref, objects, ExpireOptions{OlderThan: time.Nanosecond, RetainLast: 1, Apply: true})
	res.Expire = &ex
	if err != nil {
		return res, fmt.Errorf("%s: retention: the rows are deleted from the table, but snapshot expiry failed (run it again): %w", name, err)
	}
	fresh, err := OpenTable(ctx, cat, ref)
	if err != nil {
		return res, err
	}
	view, err := ReadTableFiles(ctx, name, fresh)
	if err != nil {
		return res, err
	}
	for p := range expiredFiles {
		if view.Files[p] != nil {
			res.Pinned = append(res.Pinned, p)
		}
	}
	slices.Sort(res.Pinned)
	return res, nil
}
