package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/corpus"
)

// tpcdsTables reads testdata/tpcds_tables.txt: the TPC-DS tables and
// their column types.
func tpcdsTables(tb testing.TB) map[string][]iceberg.NestedField {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "tpcds_tables.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	types := map[string]iceberg.Type{
		"i": iceberg.PrimitiveTypes.Int32, "l": iceberg.PrimitiveTypes.Int64,
		"m": iceberg.DecimalTypeOf(7, 2), "p": iceberg.DecimalTypeOf(5, 2),
		"d": iceberg.PrimitiveTypes.Date, "s": iceberg.PrimitiveTypes.String,
	}
	out := map[string][]iceberg.NestedField{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		var cols []iceberg.NestedField
		for i, c := range f[1:] {
			name, typ, _ := strings.Cut(c, ":")
			if typ == "" {
				typ = "s"
			}
			t, ok := types[typ]
			if !ok {
				tb.Fatalf("tpcds_tables.txt: %s: unknown type %q", c, typ)
			}
			cols = append(cols, iceberg.NestedField{ID: i + 1, Name: name, Type: t})
		}
		out[f[0]] = cols
	}
	return out
}

// TestTPCDSCoverage creates the 24 TPC-DS tables empty and runs the 103 corpus queries
// through Compile on DuckDB. It checks translation and binding, not answers
// (there is no TPC-DS data); it reports the count and fails if it drops
// below the last measured floor.
func TestTPCDSCoverage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cat := testCatalog(t, dir, catalog.S3Config{})
	ctx := context.Background()
	ic, err := cat.Iceberg(ctx, "iceberg")
	if err != nil {
		t.Fatal(err)
	}
	if err := ic.CreateNamespace(ctx, table.Identifier{"tpcds"}, nil); err != nil && !errors.Is(err, icecat.ErrNamespaceAlreadyExists) {
		t.Fatal(err)
	}
	stmts, keys := corpus.Statements(t, "tpcds")
	for name, fields := range tpcdsTables(t) {
		if _, err := ic.CreateTable(ctx, table.Identifier{"tpcds", name}, iceberg.NewSchema(0, fields...),
			icecat.WithLocation(warehouse(dir, "us", "tpcds", name))); err != nil {
			t.Fatal(err)
		}
	}
	l := regionLake(t, cat, dir, "us")
	conn := duckConn(t)
	var failed []string
	for _, k := range keys {
		if _, err := run(ctx, l, conn, stmts[k], Session{User: "alice"}); err != nil {
			msg := err.Error()
			if i := strings.Index(msg, "\nSQL:"); i > 0 {
				msg = msg[:i]
			}
			failed = append(failed, fmt.Sprintf("%s: %s", filepath.Base(k), msg))
		}
	}
	ok := len(keys) - len(failed)
	t.Logf("TPC-DS: %d of %d queries compile and run on empty tables", ok, len(keys))
	for _, f := range failed {
		t.Log(f)
	}
	if floor := tpcdsFloor; ok < floor {
		t.Errorf("TPC-DS: %d of %d queries run, fewer than the measured %d", ok, len(keys), floor)
	}
}

// tpcdsFloor is the number of TPC-DS queries last measured to run.
const tpcdsFloor = 103
