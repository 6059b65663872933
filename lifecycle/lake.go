package lifecycle

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/meridian-lake/meridian/catalog"
)

// LakeTable is one Iceberg table as lifecycle sees it: where its files are
// and what the catalog says of it.
type LakeTable struct {
	// Name is the Trino name (catalog.schema.table): what access history
	// and plans call the table.
	Name string `json:"name"`
	// Region is the table's region (meridian.residency, or its location's).
	Region string `json:"region"`
	// Bucket and Prefix locate the table: s3://Bucket/Prefix, Prefix
	// ending in "/".
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
	// Retention is meridian.retention-days (0: none).
	Retention time.Duration `json:"retention,omitempty"`
	// LiveFiles and LiveBytes are the current snapshot's data files.
	LiveFiles int64 `json:"live_files"`
	LiveBytes int64 `json:"live_bytes"`
	// Partitions is the number of partitions with live files.
	Partitions int `json:"partitions"`
}

// maxLakeTables bounds what LakeTables reads from a catalog.
const maxLakeTables = 100_000

// LakeTables lists the tables of every catalog in cat whose files are in
// S3. Views, and tables on other file systems, are left out: lifecycle
// moves S3 objects only.
func LakeTables(ctx context.Context, cat *catalog.Catalog) ([]LakeTable, error) {
	var out []LakeTable
	for _, c := range cat.Catalogs() {
		nss, err := cat.Namespaces(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("lake tables: %w", err)
		}
		for _, ns := range nss {
			refs, err := cat.Tables(ctx, c, ns)
			if err != nil {
				return nil, fmt.Errorf("lake tables: %w", err)
			}
			for _, ref := range refs {
				info, err := cat.Resolve(ctx, ref)
				if err != nil {
					return nil, fmt.Errorf("lake tables: %w", err)
				}
				t, ok := lakeTable(info)
				if !ok {
					continue
				}
				if out = append(out, t); len(out) > maxLakeTables {
					return nil, fmt.Errorf("lake tables: over %d tables: scan with an S3 Inventory report instead", maxLakeTables)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b LakeTable) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

func lakeTable(info catalog.TableInfo) (LakeTable, bool) {
	if info.Kind != catalog.KindTable {
		return LakeTable{}, false
	}
	u, err := url.Parse(info.Location)
	if err != nil || (u.Scheme != "s3" && u.Scheme != "s3a") || u.Host == "" {
		return LakeTable{}, false
	}
	prefix := strings.TrimPrefix(u.Path, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	t := LakeTable{Name: info.Ref.String(), Region: info.Region, Bucket: u.Host, Prefix: prefix,
		Retention: time.Duration(info.RetentionDays) * day, Partitions: len(info.Partitions)}
	if info.Snapshot != nil {
		t.LiveFiles, t.LiveBytes = info.Snapshot.Files, info.Snapshot.Bytes
	}
	return t, true
}

// Retention returns the optimizer's retention map for tables.
func Retention(tables []LakeTable) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, t := range tables {
		if t.Retention > 0 {
			out[t.Name] = t.Retention
		}
	}
	return out
}

// ScanStats counts what a scan listed.
type ScanStats struct {
	Tables  int   `json:"tables"`
	Objects int64 `json:"objects"`
	Pages   int64 `json:"pages"`
	Retries int64 `json:"retries"`
}

// ScanLake lists the objects of tables through objects and aggregates them
// into groups named as access history names them: Table is the Trino name
// and Partition the partition's path form ("check_in_day=2024-01-31", the
// catalog's PartitionStats.Key). Each bucket is listed under its tables'
// prefixes only; metadata/ and files outside data/ are pinned. A bucket
// holding tables of two regions is an error: its bill has one payer.
// progress, if set, is called after each object from one goroutine.
func ScanLake(ctx context.Context, objects ObjectStore, tables []LakeTable, now time.Time, cfg ListConfig, progress func(ScanStats)) ([]Group, ScanStats, error) {
	byBucket := map[string][]LakeTable{}
	for _, t := range tables {
		byBucket[t.Bucket] = append(byBucket[t.Bucket], t)
	}
	var stats ScanStats
	var groups []Group
	for _, b := range slices.Sorted(maps.Keys(byBucket)) {
		ts := byBucket[b]
		region := ts[0].Region
		for _, t := range ts {
			if t.Region != region {
				return nil, stats, fmt.Errorf("scan: bucket %s holds tables of regions %s (%s) and %s (%s): keep each region's tables in its own buckets",
					b, region, ts[0].Name, t.Region, t.Name)
			}
		}
		// Longest prefix first, so nested table locations resolve to the
		// innermost table.
		slices.SortFunc(ts, func(x, y LakeTable) int { return cmp.Compare(len(y.Prefix), len(x.Prefix)) })
		agg := NewAggregator(now, map[string]string{b: region}, tablePartitioner(ts))
		var prefixes []string
		for _, t := range ts {
			prefixes = append(prefixes, t.Prefix)
		}
		prefixes = outermost(prefixes)
		ls, err := List(ctx, objects, b, prefixes, cfg, func(o Object) error {
			if err := agg.Add(o); err != nil {
				return err
			}
			stats.Objects++
			if progress != nil {
				progress(stats)
			}
			return nil
		})
		stats.Pages += ls.Pages
		stats.Retries += ls.Retries
		if err != nil {
			return nil, stats, fmt.Errorf("scan: %w", err)
		}
		stats.Tables += len(ts)
		groups = append(groups, agg.Groups()...)
	}
	slices.SortFunc(groups, compareGroups)
	return groups, stats, nil
}

// outermost drops prefixes that lie under another, so no object is
// listed twice.
func outermost(prefixes []string) []string {
	slices.Sort(prefixes)
	var out []string
	for _, p := range prefixes {
		if len(out) > 0 && strings.HasPrefix(p, out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// tablePartitioner partitions keys of one bucket by the tables in it
// (sorted longest prefix first): data files get the table's Trino name and
// their partition directory; everything else is pinned.
func tablePartitioner(tables []LakeTable) Partitioner {
	return func(key string) PartitionRef {
		for _, t := range tables {
			rest, ok := strings.CutPrefix(key, t.Prefix)
			if !ok {
				continue
			}
			if !strings.HasPrefix(rest, "data/") {
				// metadata/ and anything else: never a target.
				dir := rest[:strings.LastIndexByte(rest, '/')+1]
				if m, _, found := strings.Cut(rest, "/"); found {
					dir = m + "/"
				}
				return PartitionRef{Table: t.Name, Prefix: t.Prefix + dir, Pinned: true}
			}
			slash := strings.LastIndexByte(rest, '/')
			part := ""
			if slash > len("data") {
				part = rest[len("data/"):slash]
			}
			return PartitionRef{Table: t.Name, Partition: part, Prefix: t.Prefix + rest[:slash+1]}
		}
		return PartitionRef{Prefix: key[:strings.LastIndexByte(key, '/')+1], Pinned: true}
	}
}

// RegionSummary is what `meridian lifecycle scan` shows per region.
type RegionSummary struct {
	Region string `json:"region"`
	Tables int    `json:"tables"`
	// Partitions counts distinct (table, partition) pairs with data.
	Partitions int `json:"partitions"`
	// Classes has objects and bytes per class, warmest first.
	Classes []ClassCost `json:"classes"`
	// DataBytes and MetadataBytes split the listed bytes into partition
	// data (tiering targets) and pinned objects (metadata/).
	DataBytes     int64 `json:"data_bytes"`
	MetadataBytes int64 `json:"metadata_bytes"`
	// LiveBytes are the bytes the tables' current snapshots reference
	// (catalog statistics); listed data bytes beyond them belong to older
	// snapshots or to no snapshot at all.
	LiveBytes int64 `json:"live_bytes"`
}

// Summarize totals groups and tables per region.
func Summarize(groups []Group, tables []LakeTable) []RegionSummary {
	by := map[string]*RegionSummary{}
	get := func(r string) *RegionSummary {
		if by[r] == nil {
			by[r] = &RegionSummary{Region: r}
		}
		return by[r]
	}
	for _, t := range tables {
		s := get(t.Region)
		s.Tables++
		s.LiveBytes += t.LiveBytes
	}
	classes := map[string]map[StorageClass]*ClassCost{}
	parts := map[string]map[[2]string]bool{}
	for _, g := range groups {
		s := get(g.Region)
		if classes[g.Region] == nil {
			classes[g.Region], parts[g.Region] = map[StorageClass]*ClassCost{}, map[[2]string]bool{}
		}
		addClass(classes[g.Region], ClassCost{Class: g.Class, Objects: g.Objects, Bytes: g.Bytes})
		if g.Pinned {
			s.MetadataBytes += g.Bytes
			continue
		}
		s.DataBytes += g.Bytes
		parts[g.Region][[2]string{g.Table, g.Partition}] = true
	}
	var out []RegionSummary
	for _, r := range slices.Sorted(maps.Keys(by)) {
		s := by[r]
		s.Classes = classList(classes[r])
		s.Partitions = len(parts[r])
		out = append(out, *s)
	}
	return out
}
