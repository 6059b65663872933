package lifecycle

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"

	"github.com/meridian-lake/meridian/catalog"
)

// maxViewFiles bounds the files one TableFiles holds in memory (data and
// delete files over every snapshot). A table past it needs S3 Inventory
// and a streamed join, which this view does not do yet: it refuses rather
// than run out of memory.
const maxViewFiles = 5_000_000

// FileRef is one data or delete file some snapshot of a table references.
type FileRef struct {
	// Path is the file's location as the manifests spell it.
	Path string `json:"path"`
	// Partition is the partition in path form ("day=2024-01-31"), the
	// same key catalog.PartitionStats uses; "" for unpartitioned tables.
	Partition string `json:"partition"`
	// Content is "data", "position-deletes" or "equality-deletes".
	Content string `json:"content"`
	Size    int64  `json:"size"`
	Records int64  `json:"records"`
	// Snapshots are the snapshots in which the file is live, oldest first.
	Snapshots []int64 `json:"snapshots"`
	// Live: the file is live in the current snapshot.
	Live bool `json:"live"`
	// Pinned: the file is live in a snapshot a branch or tag points at.
	Pinned bool `json:"pinned"`
}

// SnapshotFiles is one snapshot and the files it references.
type SnapshotFiles struct {
	ID          int64 `json:"id"`
	ParentID    int64 `json:"parent_id,omitempty"`
	TimestampMs int64 `json:"timestamp_ms"`
	// Refs are the branches and tags that point at this snapshot.
	Refs []string `json:"refs,omitempty"`
	// Current marks the table's current snapshot (the main branch head).
	Current      bool   `json:"current,omitempty"`
	ManifestList string `json:"manifest_list"`
	// Manifests are the manifest files the manifest list names.
	Manifests []string `json:"manifests"`
	// Files are the data and delete files live in this snapshot.
	Files []string `json:"files"`
}

// TableFiles is the Iceberg view of one table: every snapshot in its
// metadata, the files each references (read from the manifests through
// iceberg-go), and which of them are live now, pinned by a branch or tag,
// or only held by older snapshots. It is what snapshot expiry, orphan
// cleanup, retention and restores decide on.
type TableFiles struct {
	Table    string `json:"table"`
	Location string `json:"location"`
	// CurrentSnapshotID is 0 for a table without snapshots.
	CurrentSnapshotID int64 `json:"current_snapshot_id,omitempty"`
	// Snapshots are sorted by timestamp, oldest first.
	Snapshots []SnapshotFiles `json:"snapshots"`
	// Files holds every data and delete file live in some snapshot.
	Files map[string]*FileRef `json:"files"`
	// Metadata holds the other files the table references: metadata JSON
	// (current and logged), manifest lists, manifests, statistics.
	Metadata map[string]bool `json:"metadata"`
}

// Referenced reports whether any snapshot, branch, tag or the table's
// metadata refers to path (s3a:// and s3n:// spell s3://).
func (v *TableFiles) Referenced(path string) bool {
	p := normalizePath(path)
	return v.Files[p] != nil || v.Metadata[p]
}

// Historical returns the files live only in snapshots that neither the
// current state nor any branch or tag points at: what snapshot expiry can
// free. Sorted by path.
func (v *TableFiles) Historical() []*FileRef {
	var out []*FileRef
	for _, f := range v.Files {
		if !f.Live && !f.Pinned {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b *FileRef) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// LivePartitions maps each partition of the current snapshot to its live
// data files, sorted by path.
func (v *TableFiles) LivePartitions() map[string][]*FileRef {
	out := map[string][]*FileRef{}
	for _, f := range v.Files {
		if f.Live && f.Content == "data" {
			out[f.Partition] = append(out[f.Partition], f)
		}
	}
	for _, fs := range out {
		slices.SortFunc(fs, func(a, b *FileRef) int { return strings.Compare(a.Path, b.Path) })
	}
	return out
}

// IsMetadataPath reports whether path lies in a metadata/ directory:
// Iceberg metadata is never a tiering, expiry or orphan target
// (apache/iceberg#10560).
func IsMetadataPath(path string) bool {
	return strings.Contains(path, "/metadata/") || strings.HasPrefix(path, "metadata/")
}

// OpenTable loads ref's Iceberg table through the catalog. Views and
// metadata tables are refused.
func OpenTable(ctx context.Context, cat *catalog.Catalog, ref catalog.TableRef) (*table.Table, error) {
	if base, suffix := ref.Base(); suffix != "" {
		return nil, fmt.Errorf("lifecycle: %s is a metadata table: name the table %s", ref, base)
	}
	ic, err := cat.Iceberg(ctx, ref.Catalog)
	if err != nil {
		return nil, err
	}
	tbl, err := ic.LoadTable(ctx, table.Identifier{ref.Schema, ref.Table})
	if err != nil {
		return nil, fmt.Errorf("lifecycle: load %s: %w", ref, err)
	}
	return tbl, nil
}

// ReadTableFiles walks every snapshot of tbl and the manifests they name.
// Each manifest is read once, however many snapshots share it.
func ReadTableFiles(ctx context.Context, name string, tbl *table.Table) (*TableFiles, error) {
	meta := tbl.Metadata()
	fs, err := tbl.FS(ctx)
	if err != nil {
		return nil, fmt.Errorf("lifecycle: %s: open file IO: %w", name, err)
	}
	v := &TableFiles{Table: name, Location: strings.TrimSuffix(tbl.Location(), "/"),
		Files: map[string]*FileRef{}, Metadata: map[string]bool{}}
	if loc := tbl.MetadataLocation(); loc != "" {
		v.Metadata[normalizePath(loc)] = true
	}
	for e := range meta.PreviousFiles() {
		v.Metadata[normalizePath(e.MetadataFile)] = true
	}
	for s := range meta.Statistics() {
		v.Metadata[normalizePath(s.StatisticsPath)] = true
	}
	for s := range meta.PartitionStatistics() {
		v.Metadata[normalizePath(s.StatisticsPath)] = true
	}
	refs := map[int64][]string{}
	for name, r := range meta.Refs() {
		refs[r.SnapshotID] = append(refs[r.SnapshotID], name)
	}
	if cur := meta.CurrentSnapshot(); cur != nil {
		v.CurrentSnapshotID = cur.SnapshotID
	}

	// manifest path → the files live in it
	manifests := map[string][]string{}
	for _, snap := range meta.Snapshots() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sf := SnapshotFiles{ID: snap.SnapshotID, TimestampMs: snap.TimestampMs, Current: snap.SnapshotID == v.CurrentSnapshotID,
			ManifestList: snap.ManifestList, Refs: slices.Sorted(slices.Values(refs[snap.SnapshotID]))}
		if snap.ParentSnapshotID != nil {
			sf.ParentID = *snap.ParentSnapshotID
		}
		v.Metadata[normalizePath(snap.ManifestList)] = true
		mfs, err := snap.Manifests(fs)
		if err != nil {
			return nil, fmt.Errorf("lifecycle: %s: snapshot %d: read manifest list: %w", name, snap.SnapshotID, err)
		}
		pinned := len(sf.Refs) > 0
		for _, m := range mfs {
			mp := normalizePath(m.FilePath())
			v.Metadata[mp] = true
			sf.Manifests = append(sf.Manifests, mp)
			files, ok := manifests[mp]
			if !ok {
				files, err = v.readManifest(meta, fs, m)
				if err != nil {
					return nil, fmt.Errorf("lifecycle: %s: snapshot %d: %w", name, snap.SnapshotID, err)
				}
				manifests[mp] = files
			}
			for _, p := range files {
				f := v.Files[p]
				f.Snapshots = append(f.Snapshots, snap.SnapshotID)
				f.Live = f.Live || sf.Current
				f.Pinned = f.Pinned || pinned
				sf.Files = append(sf.Files, p)
			}
		}
		slices.Sort(sf.Files)
		v.Snapshots = append(v.Snapshots, sf)
	}
	slices.SortStableFunc(v.Snapshots, func(a, b SnapshotFiles) int { return cmp.Compare(a.TimestampMs, b.TimestampMs) })
	// Oldest first, and a file listed by two manifests of one snapshot
	// counts once. (Snapshot IDs are random: order by position.)
	pos := make(map[int64]int, len(v.Snapshots))
	for i, s := range v.Snapshots {
		pos[s.ID] = i
	}
	for _, f := range v.Files {
		slices.SortFunc(f.Snapshots, func(a, b int64) int { return cmp.Compare(pos[a], pos[b]) })
		f.Snapshots = slices.Compact(f.Snapshots)
	}
	return v, nil
}

// readManifest registers the live (added or existing) entries of m and
// returns their paths. Entries marked deleted are not live in the
// snapshot: a file is referenced only where its status is ADDED or
// EXISTING (Iceberg spec, "Manifests").
func (v *TableFiles) readManifest(meta table.Metadata, fio icebergio.IO, m iceberg.ManifestFile) ([]string, error) {
	spec := meta.PartitionSpecByID(int(m.PartitionSpecID()))
	var out []string
	for e, err := range m.Entries(fio, true) {
		if err != nil {
			return nil, fmt.Errorf("read manifest %s: %w", m.FilePath(), err)
		}
		df := e.DataFile()
		p := normalizePath(df.FilePath())
		if v.Files[p] == nil {
			if len(v.Files) >= maxViewFiles {
				return nil, fmt.Errorf("more than %d files: the in-memory Iceberg view does not cover tables this large", maxViewFiles)
			}
			v.Files[p] = &FileRef{Path: p, Partition: partitionKey(meta, spec, df.Partition()),
				Content: contentName(df.ContentType()), Size: df.FileSizeBytes(), Records: df.Count()}
		}
		out = append(out, p)
	}
	return out, nil
}

func contentName(c iceberg.ManifestEntryContent) string {
	switch c {
	case iceberg.EntryContentPosDeletes:
		return "position-deletes"
	case iceberg.EntryContentEqDeletes:
		return "equality-deletes"
	}
	return "data"
}

// partitionKey spells a partition the way catalog.PartitionStats.Key does:
// field=value pairs joined by '/', values human-readable and
// query-escaped, "null" for a null value.
func partitionKey(meta table.Metadata, spec *iceberg.PartitionSpec, values map[int]any) string {
	if spec == nil {
		return ""
	}
	sc := meta.CurrentSchema()
	var b strings.Builder
	for i, f := range spec.Fields() {
		v := "null"
		if raw, ok := values[f.FieldID]; ok && raw != nil {
			if src, ok := sc.FindFieldByID(f.SourceID()); ok {
				v = f.Transform.ToHumanStrType(f.Transform.ResultType(src.Type), raw)
			} else {
				v = fmt.Sprint(raw)
			}
		}
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(f.Name + "=" + url.QueryEscape(v))
	}
	return b.String()
}

// normalizePath spells s3a:// and s3n:// locations as s3://.
func normalizePath(p string) string {
	for _, alias := range []string{"s3a://", "s3n://"} {
		if strings.HasPrefix(p, alias) {
			return "s3://" + p[len(alias):]
		}
	}
	return p
}

// splitS3 splits s3://bucket/key.
func splitS3(p string) (bucket, key string, err error) {
	p = normalizePath(p)
	rest, ok := strings.CutPrefix(p, "s3://")
	if !ok {
		return "", "", fmt.Errorf("lifecycle: %q is not an s3:// location: lifecycle works on tables in S3", p)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("lifecycle: %q names no bucket", p)
	}
	return bucket, key, nil
}
