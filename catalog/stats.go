package catalog

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/apache/iceberg-go/view"
)

type viewRepresentation = view.Representation

// snapshotStats reads the totals Iceberg keeps in a snapshot's summary.
func snapshotStats(s *table.Snapshot) *SnapshotStats {
	st := &SnapshotStats{ID: s.SnapshotID, TimestampMs: s.TimestampMs}
	if s.Summary == nil {
		return st
	}
	num := func(k string) int64 {
		n, _ := strconv.ParseInt(s.Summary.Properties[k], 10, 64)
		return n
	}
	st.Files = num("total-data-files")
	st.Records = num("total-records")
	st.Bytes = num("total-files-size")
	st.DeleteFiles = num("total-delete-files")
	return st
}

// partitionStats groups the current snapshot's live data files by partition.
func partitionStats(ctx context.Context, tbl *table.Table) ([]PartitionStats, error) {
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, err
	}
	spec := tbl.Spec()
	sc := tbl.Schema()
	type field struct {
		id   int
		name string
		tr   iceberg.Transform
		typ  iceberg.Type
	}
	var fields []field
	for _, f := range spec.Fields() {
		var typ iceberg.Type
		if src, ok := sc.FindFieldByID(f.SourceID()); ok {
			typ = f.Transform.ResultType(src.Type)
		}
		fields = append(fields, field{f.FieldID, f.Name, f.Transform, typ})
	}
	byKey := map[string]*PartitionStats{}
	for _, t := range tasks {
		df := t.File
		values := make(map[string]string, len(fields))
		var key strings.Builder
		pv := df.Partition()
		for i, f := range fields {
			v := "null"
			if raw, ok := pv[f.id]; ok && raw != nil {
				if f.typ != nil {
					v = f.tr.ToHumanStrType(f.typ, raw)
				} else { // the source column is gone from the schema
					v = fmt.Sprint(raw)
				}
			}
			values[f.name] = v
			if i > 0 {
				key.WriteByte('/')
			}
			key.WriteString(f.name + "=" + url.QueryEscape(v))
		}
		k := key.String()
		ps := byKey[k]
		if ps == nil {
			ps = &PartitionStats{Key: k, Values: values}
			if len(fields) == 0 {
				ps.Values = nil
			}
			byKey[k] = ps
		}
		ps.Files++
		ps.Records += df.Count()
		ps.Bytes += df.FileSizeBytes()
	}
	out := make([]PartitionStats, 0, len(byKey))
	for _, ps := range byKey {
		out = append(out, *ps)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
