package lifecycle

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/s3test"
)

// testLake is a small demo-style lake on a real S3 server: an SQL
// catalog (SQLite) through package catalog, warehouse s3://lake/wh.
type testLake struct {
	srv *s3test.Server
	cat *catalog.Catalog
	s3  *S3Store
}

func newTestLake(t *testing.T, opts ...catalog.Option) *testLake {
	t.Helper()
	srv := s3test.Start(t, "lake")
	dir := t.TempDir()
	cat, err := catalog.New(context.Background(), catalog.Config{
		Catalogs: map[string]catalog.IcebergConfig{"iceberg": {Type: "sql", Path: filepath.Join(dir, "catalog.db"), Warehouse: "s3://lake/wh",
			S3: catalog.S3Config{Endpoint: srv.Endpoint, Region: srv.Region, PathStyle: true, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}}},
		Regions: []catalog.Region{{Name: "eu", Locations: []string{"s3://lake/"}}},
	}, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	return &testLake{srv: srv, cat: cat, s3: NewS3Store(srv.Client(t))}
}

// bookingsSchema mirrors the demo lake's bookings, trimmed.
var bookingsSchema = iceberg.NewSchema(0,
	iceberg.NestedField{ID: 1, Name: "booking_id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
	iceberg.NestedField{ID: 2, Name: "check_in", Type: iceberg.PrimitiveTypes.Date},
	iceberg.NestedField{ID: 3, Name: "currency", Type: iceberg.PrimitiveTypes.String},
)

// createBookings creates eu.<name> partitioned by day(check_in).
func (l *testLake) createBookings(t *testing.T, name string, props iceberg.Properties) (catalog.TableRef, *table.Table) {
	t.Helper()
	ctx := context.Background()
	ic, err := l.cat.Iceberg(ctx, "iceberg")
	if err != nil {
		t.Fatal(err)
	}
	_ = ic.CreateNamespace(ctx, table.Identifier{"eu"}, nil)
	spec := iceberg.NewPartitionSpec(iceberg.PartitionField{SourceIDs: []int{2}, FieldID: 1000, Name: "check_in_day", Transform: iceberg.DayTransform{}})
	tbl, err := ic.CreateTable(ctx, table.Identifier{"eu", name}, bookingsSchema, icecat.WithPartitionSpec(&spec), icecat.WithProperties(props))
	if err != nil {
		t.Fatal(err)
	}
	return catalog.TableRef{Catalog: "iceberg", Schema: "eu", Table: name}, tbl
}

// appendDays appends perDay rows for each day (YYYY-MM-DD), ids from
// firstID, in one snapshot.
func appendDays(t *testing.T, tbl *table.Table, firstID int64, perDay int, days ...string) *table.Table {
	t.Helper()
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	id := firstID
	for _, d := range days {
		day, err := time.Parse(time.DateOnly, d)
		if err != nil {
			t.Fatal(err)
		}
		for range perDay {
			b.Field(0).(*array.Int64Builder).Append(id)
			b.Field(1).(*array.Date32Builder).Append(arrow.Date32FromTime(day))
			b.Field(2).(*array.StringBuilder).Append("EUR")
			id++
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	out, err := tbl.Append(context.Background(), rdr, nil)
	if err != nil {
		t.Fatalf("append %v: %v", days, err)
	}
	return out
}

// objectKeys lists every object under the table's location, as s3:// paths.
func (l *testLake) objectKeys(t *testing.T, prefix string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	if _, err := List(context.Background(), l.s3, "lake", []string{prefix}, ListConfig{}, func(o Object) error {
		out["s3://lake/"+o.Key] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkAllPresent fails for each referenced file missing from the bucket.
func checkAllPresent(t *testing.T, referenced, stored map[string]bool, when string) {
	t.Helper()
	for _, p := range slices.Sorted(maps.Keys(referenced)) {
		if !stored[p] {
			t.Errorf("%s: %s is referenced by a snapshot but is gone from the bucket", when, p)
		}
	}
}

// scanCounts reads the table back through iceberg-go: rows per check_in day.
func scanCounts(t *testing.T, l *testLake, ref catalog.TableRef) map[string]int {
	t.Helper()
	ctx := context.Background()
	tbl, err := OpenTable(ctx, l.cat, ref)
	if err != nil {
		t.Fatal(err)
	}
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("scan %s: %v", ref, err)
	}
	defer at.Release()
	out := map[string]int{}
	idx := at.Schema().FieldIndices("check_in")[0]
	for _, ch := range at.Column(idx).Data().Chunks() {
		d := ch.(*array.Date32)
		for i := range d.Len() {
			out[d.Value(i).ToTime().Format(time.DateOnly)]++
		}
	}
	return out
}

func TestTableFilesView(t *testing.T) {
	t.Parallel()
	l := newTestLake(t)
	ctx := context.Background()
	ref, tbl := l.createBookings(t, "view", nil)
	tbl = appendDays(t, tbl, 1, 3, "2024-01-01", "2024-01-02")
	first := tbl.CurrentSnapshot().SnapshotID
	tbl = appendDays(t, tbl, 100, 2, "2024-01-02", "2024-01-03")
	// Delete a whole day: its file stays referenced by the first snapshot only.
	tbl, err := tbl.Delete(ctx, iceberg.EqualTo(iceberg.Reference("check_in"), iceberg.Date(dayNum("2024-01-01"))), nil)
	if err != nil {
		t.Fatal(err)
	}

	v, err := ReadTableFiles(ctx, ref.String(), tbl)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Snapshots) != 3 || v.CurrentSnapshotID != tbl.CurrentSnapshot().SnapshotID {
		t.Fatalf("snapshots %d current %d, want 3 and %d", len(v.Snapshots), v.CurrentSnapshotID, tbl.CurrentSnapshot().SnapshotID)
	}
	live := v.LivePartitions()
	got := slices.Sorted(maps.Keys(live))
	want := []string{"check_in_day=2024-01-02", "check_in_day=2024-01-03"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("live partitions %v, want %v", got, want)
	}
	if n := len(live["check_in_day=2024-01-02"]); n != 2 {
		t.Errorf("2024-01-02 has %d live files, want 2 (one per append)", n)
	}
	hist := v.Historical()
	if len(hist) != 1 || hist[0].Partition != "check_in_day=2024-01-01" || hist[0].Records != 3 ||
		fmt.Sprint(hist[0].Snapshots) != fmt.Sprint([]int64{first, v.Snapshots[1].ID}) {
		for _, h := range hist {
			t.Errorf("historical file %+v", *h)
		}
		t.Errorf("want only the 2024-01-01 file, of the first two snapshots %d, %d", first, v.Snapshots[1].ID)
	}
	// The catalog's partition keys are the view's.
	info, err := l.cat.Resolve(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range info.Partitions {
		if live[p.Key] == nil {
			t.Errorf("catalog partition %q is not a live partition of the view", p.Key)
		}
	}
	for p := range v.Metadata {
		if !IsMetadataPath(p) {
			t.Errorf("metadata file outside metadata/: %s", p)
		}
	}
}

func dayNum(s string) int32 {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return int32(d.Unix() / 86400)
}
