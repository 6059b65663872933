package engine

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/trino"
)

// testCatalog opens a real SQLite Iceberg catalog "iceberg" under dir with
// the demo lake's regions on dir/warehouse/<region> and s3://lake-<region>.
func testCatalog(tb testing.TB, dir string, s3 catalog.S3Config) *catalog.Catalog {
	tb.Helper()
	ic := catalog.IcebergConfig{Type: "sql", Path: filepath.Join(dir, "catalog.db"),
		Warehouse: "file://" + filepath.Join(dir, "warehouse", "default"), S3: s3}
	cfg := catalog.Config{Catalogs: map[string]catalog.IcebergConfig{"iceberg": ic}}
	for _, r := range []string{"eu", "us", "apac"} {
		cfg.Regions = append(cfg.Regions, catalog.Region{Name: r, Locations: []string{
			"file://" + filepath.Join(dir, "warehouse", r), "s3://lake-" + r,
		}})
	}
	c, err := catalog.New(context.Background(), cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// regionLake is the engine's lake for region over the test catalog's
// warehouses of that region.
func regionLake(tb testing.TB, cat *catalog.Catalog, dir, region string) *Lake {
	tb.Helper()
	l, err := NewLake(cat, LakeConfig{
		Region:   region,
		Allowed:  []string{"file://" + filepath.Join(dir, "warehouse", region), "s3://lake-" + region + "/"},
		CacheDir: filepath.Join(dir, "cache-"+region),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// duckConn is a connection to a fresh in-memory DuckDB.
func duckConn(tb testing.TB) *dbsql.Conn {
	tb.Helper()
	db, err := dbsql.Open("duckdb", "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// run compiles text, runs it and returns the rows as text.
func run(ctx context.Context, l *Lake, conn *dbsql.Conn, text string, sess Session, params ...string) ([][]string, error) {
	c, err := l.Compile(ctx, conn, text, sess, params)
	if err != nil {
		return nil, err
	}
	defer c.Release()
	rows, err := conn.QueryContext(ctx, c.SQL)
	if err != nil {
		return nil, fmt.Errorf("duckdb: %w\nSQL: %s", err, c.SQL)
	}
	defer rows.Close()
	return collect(rows)
}

// collect reads every row as text.
func collect(rows *dbsql.Rows) ([][]string, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = cell(v)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case duckdb.Decimal:
		// At the column's scale, as Trino renders decimals.
		r := new(big.Rat).SetFrac(v.Value, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(v.Scale)), nil))
		return r.FloatString(int(v.Scale))
	case time.Time:
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 {
			return v.Format("2006-01-02")
		}
		return v.Format("2006-01-02 15:04:05.999999")
	case []byte:
		return string(v)
	}
	return fmt.Sprint(v)
}

func mustRun(tb testing.TB, l *Lake, conn *dbsql.Conn, text string, sess Session, params ...string) [][]string {
	tb.Helper()
	rows, err := run(context.Background(), l, conn, text, sess, params...)
	if err != nil {
		tb.Fatalf("%s: %v", text, err)
	}
	return rows
}

// trinoCode is the Trino error name of err, or "" if it is not a
// *trino.Error.
func trinoCode(err error) string {
	var te *trino.Error
	if errors.As(err, &te) {
		return te.Code.Name
	}
	return ""
}

// smallSchema is the schema of the small test tables.
var smallSchema = iceberg.NewSchema(0,
	iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
	iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
)

// createSmall creates ns.name at location with the rows (id, name), in one
// append (no append when rows is empty), and returns the table.
func createSmall(tb testing.TB, cat *catalog.Catalog, ns, name, location string, props iceberg.Properties, rows map[int64]string) *table.Table {
	tb.Helper()
	ctx := context.Background()
	ic, err := cat.Iceberg(ctx, "iceberg")
	if err != nil {
		tb.Fatal(err)
	}
	if err := ic.CreateNamespace(ctx, table.Identifier{ns}, nil); err != nil && !errors.Is(err, icecat.ErrNamespaceAlreadyExists) {
		tb.Fatal(err)
	}
	tbl, err := ic.CreateTable(ctx, table.Identifier{ns, name}, smallSchema,
		icecat.WithLocation(location), icecat.WithProperties(props))
	if err != nil {
		tb.Fatal(err)
	}
	if len(rows) > 0 {
		tbl = appendSmall(tb, tbl, rows)
	}
	cat.Invalidate(catalog.TableRef{Catalog: "iceberg", Schema: ns, Table: name})
	return tbl
}

func appendSmall(tb testing.TB, tbl *table.Table, rows map[int64]string) *table.Table {
	tb.Helper()
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		tb.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for id, n := range rows {
		b.Field(0).(*array.Int64Builder).Append(id)
		b.Field(1).(*array.StringBuilder).Append(n)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
	if err != nil {
		tb.Fatal(err)
	}
	defer rdr.Release()
	tbl, err = tbl.Append(context.Background(), rdr, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return tbl
}

// flat renders rows one per line, columns separated by '|'.
func flat(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "|"))
		b.WriteByte('\n')
	}
	return b.String()
}
