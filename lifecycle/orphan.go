package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/meridian-lake/meridian/catalog"
)

const (
	// MinOrphanAge is the shortest orphan cutoff allowed (Spark refuses
	// shorter ones too).
	MinOrphanAge = 24 * time.Hour
	// DefaultOrphanAge is the orphan cutoff when none is given.
	DefaultOrphanAge = 72 * time.Hour
	// maxOrphans bounds one cleanup's result; a rerun picks up the rest.
	maxOrphans = 100_000
)

// OrphanOptions configures RemoveOrphans. The zero value is a dry run
// with a 72 h cutoff.
type OrphanOptions struct {
	// OlderThan: only files last modified longer ago than this are
	// orphan candidates (default 72h, at least 24h).
	OlderThan time.Duration
	// Apply deletes; false (the default) only reports.
	Apply bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// OrphanResult is what an orphan cleanup found and did.
type OrphanResult struct {
	Table  string `json:"table"`
	DryRun bool   `json:"dry_run"`
	// Cutoff: files modified at or after it were left alone.
	Cutoff time.Time `json:"cutoff"`
	// Orphans are the files deleted, or to be deleted.
	Orphans []Object `json:"orphans"`
	Bytes   int64    `json:"bytes"`
	// Young counts unreferenced files newer than the cutoff (kept).
	Young int `json:"young"`
	// Truncated: more than maxOrphans orphans; run again for the rest.
	Truncated bool `json:"truncated,omitempty"`
}

// RemoveOrphans finds the files under ref's location that no snapshot,
// branch, tag or metadata file references and that are older than the
// cutoff, and deletes them when opts.Apply is set. Nothing under the
// table's metadata/ directory is ever a candidate (apache/iceberg#10560).
// Before deleting, the table is loaded again and each candidate checked
// against the fresh metadata, so a commit made during the listing does not
// lose its files.
func RemoveOrphans(ctx context.Context, cat *catalog.Catalog, ref catalog.TableRef, objects ObjectStore, opts OrphanOptions) (OrphanResult, error) {
	name := ref.String()
	if opts.OlderThan == 0 {
		opts.OlderThan = DefaultOrphanAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	res := OrphanResult{Table: name, DryRun: !opts.Apply, Cutoff: opts.Now().Add(-opts.OlderThan)}
	if opts.OlderThan < MinOrphanAge {
		return res, fmt.Errorf("%s: orphan cleanup with cutoff %v: %w", name, opts.OlderThan, ErrCutoffTooShort)
	}
	tbl, err := OpenTable(ctx, cat, ref)
	if err != nil {
		return res, err
	}
	if err := gcCheck(name, tbl); err != nil {
		return res, err
	}
	view, err := ReadTableFiles(ctx, name, tbl)
	if err != nil {
		return res, err
	}
	bucket, prefix, err := splitS3(view.Location + "/")
	if err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	_, err = List(ctx, objects, bucket, []string{prefix}, ListConfig{}, func(o Object) error {
		path := "s3://" + o.Bucket + "/" + o.Key
		if IsMetadataPath(strings.TrimPrefix(o.Key, prefix)) || view.Referenced(path) {
			return nil
		}
		if !o.LastModified.Before(res.Cutoff) {
			res.Young++
			return nil
		}
		if len(res.Orphans) >= maxOrphans {
			res.Truncated = true
			return errStopList
		}
		res.Orphans = append(res.Orphans, o)
		return nil
	})
	if err != nil && !errors.Is(err, errStopList) {
		return res, fmt.Errorf("%s: list %s: %w", name, view.Location, err)
	}
	if !opts.Apply || len(res.Orphans) == 0 {
		res.Bytes = sumSizes(res.Orphans)
		return res, nil
	}
	// Second look, against the metadata as it is now.
	fresh, err := OpenTable(ctx, cat, ref)
	if err != nil {
		return res, err
	}
	if err := gcCheck(name, fresh); err != nil {
		return res, err
	}
	now, err := ReadTableFiles(ctx, name, fresh)
	if err != nil {
		return res, err
	}
	res.Orphans = slices.DeleteFunc(res.Orphans, func(o Object) bool { return now.Referenced("s3://" + o.Bucket + "/" + o.Key) })
	res.Bytes = sumSizes(res.Orphans)
	paths := make([]string, len(res.Orphans))
	for i, o := range res.Orphans {
		paths[i] = "s3://" + o.Bucket + "/" + o.Key
	}
	if err := deleteFiles(ctx, objects, paths); err != nil {
		return res, fmt.Errorf("%s: orphan cleanup: %w", name, err)
	}
	return res, nil
}

var errStopList = errors.New("stop listing")

func sumSizes(os []Object) int64 {
	var n int64
	for _, o := range os {
		n += o.Size
	}
	return n
}

// deleteFiles deletes s3:// paths one by one, refusing metadata JSON.
func deleteFiles(ctx context.Context, objects ObjectStore, paths []string) error {
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		if isMetadataJSON(p) {
			return fmt.Errorf("refusing to delete table metadata %s", p)
		}
		bucket, key, err := splitS3(p)
		if err != nil {
			return err
		}
		if err := objects.Delete(ctx, bucket, key); err != nil {
			return err
		}
	}
	return nil
}
