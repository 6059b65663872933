package demo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// write creates t and appends its rows in one snapshot, streaming them
// through iceberg-go: the partitioned fanout writer keeps one Parquet file
// open per partition, and the rows come in partition order, so at most a
// few batches are in memory at once.
func write(ctx context.Context, ic icecat.Catalog, t *tableDef) (TableSummary, error) {
	start := time.Now()
	ts := TableSummary{Name: t.ref().String(), Region: t.region, Classification: t.class, Location: t.location}
	err := ic.CreateNamespace(ctx, table.Identifier{t.ns}, nil)
	if err != nil && !errors.Is(err, icecat.ErrNamespaceAlreadyExists) {
		return ts, fmt.Errorf("create schema %s: %w", t.ns, err)
	}
	spec := t.spec
	tbl, err := ic.CreateTable(ctx, table.Identifier{t.ns, t.name}, t.schema,
		icecat.WithLocation(t.location), icecat.WithPartitionSpec(&spec), icecat.WithProperties(t.props))
	if err != nil {
		return ts, fmt.Errorf("create: %w", err)
	}
	// The created table's schema, with the field IDs the catalog assigned.
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		return ts, err
	}
	rdr := array.ReaderFromIter(sc, t.records(ctx, sc))
	defer rdr.Release()
	tbl, err = tbl.Append(ctx, rdr, nil)
	if err != nil {
		return ts, fmt.Errorf("append: %w", err)
	}
	snap := tbl.CurrentSnapshot()
	if snap == nil || snap.Summary == nil {
		return ts, errors.New("append left no snapshot")
	}
	num := func(k string) int64 {
		n, _ := strconv.ParseInt(snap.Summary.Properties[k], 10, 64)
		return n
	}
	ts.Rows, ts.Files, ts.Bytes = num("total-records"), num("total-data-files"), num("total-files-size")
	ts.Elapsed = time.Since(start)
	return ts, nil
}
