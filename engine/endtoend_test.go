package engine_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/engine"
)

// addStays creates ns.stays (id bigint, city varchar) at location with rows.
func addStays(t testing.TB, lake *protoLake, ns, location string, cities ...string) {
	t.Helper()
	ctx := context.Background()
	ic, err := lake.cat.Iceberg(ctx, "iceberg")
	if err != nil {
		t.Fatal(err)
	}
	_ = ic.CreateNamespace(ctx, table.Identifier{ns}, nil)
	sc := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "city", Type: iceberg.PrimitiveTypes.String},
	)
	tbl, err := ic.CreateTable(ctx, table.Identifier{ns, "stays"}, sc, icecat.WithLocation(location))
	if err != nil {
		t.Fatal(err)
	}
	asc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, asc)
	defer b.Release()
	for i, c := range cities {
		b.Field(0).(*array.Int64Builder).Append(int64(i + 1))
		b.Field(1).(*array.StringBuilder).Append(c)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rdr, err := array.NewRecordReader(asc, []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	if _, err := tbl.Append(ctx, rdr, nil); err != nil {
		t.Fatal(err)
	}
	lake.cat.Invalidate(catalog.TableRef{Catalog: "iceberg", Schema: ns, Table: "stays"})
}

// The engine with the real Lake: USE, then unqualified names, prepared
// parameters and a table outside the region refused.
func TestLakeEndToEnd(t *testing.T) {
	t.Parallel()
	lake := newProtoLake(t)
	euWH := "file://" + filepath.Join(lake.dir, "wh", "eu")
	addStays(t, lake, "eu", euWH+"/stays", "Lyon", "Porto", "Lyon")
	addStays(t, lake, "us", "file://"+filepath.Join(lake.dir, "wh", "us", "stays"), "Austin")
	e, err := engine.New(engine.Config{Region: "eu", Allowed: []string{euWH}, CacheDir: t.TempDir(), Threads: 2},
		lake.cat, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() { srv.Close(); e.Close() })
	te := &testEngine{Engine: e, url: srv.URL}

	ctx := context.Background()
	conn, err := te.client(t, "").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "USE iceberg.eu"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, "SELECT city, count(*) AS n FROM stays GROUP BY city ORDER BY n DESC, city")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var city string
		var n int64
		if err := rows.Scan(&city, &n); err != nil {
			t.Fatal(err)
		}
		got = append(got, city+"="+string(rune('0'+n)))
	}
	rows.Close()
	if len(got) != 2 || got[0] != "Lyon=2" || got[1] != "Porto=1" {
		t.Errorf("SELECT over stays after USE = %v", got)
	}
	var city string
	if err := conn.QueryRowContext(ctx, "SELECT city FROM stays WHERE id = ?", 2).Scan(&city); err != nil || city != "Porto" {
		t.Errorf("prepared SELECT = %q, %v", city, err)
	}
	_, err = conn.QueryContext(ctx, "SELECT * FROM iceberg.us.stays")
	if e := trinoError(t, err); e.ErrorName != "PERMISSION_DENIED" {
		t.Errorf("a table outside the region: %s %s", e.ErrorName, e.Message)
	}
}
