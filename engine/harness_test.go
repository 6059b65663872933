package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/trinodb/trino-go-client/trino"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/engine"
	parse "github.com/meridian-lake/meridian/planner/sql"
)

// protoLake is a SQLite Iceberg catalog in a temporary directory with one
// schema, eu, holding an empty table guests of many column types.
type protoLake struct {
	dir string
	cat *catalog.Catalog
}

func newProtoLake(t testing.TB) *protoLake {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	wh := "file://" + filepath.Join(dir, "wh", "eu")
	cat, err := catalog.New(ctx, catalog.Config{
		Catalogs: map[string]catalog.IcebergConfig{
			"iceberg": {Type: "sql", Path: filepath.Join(dir, "catalog.db"), Warehouse: wh},
		},
		Regions: []catalog.Region{{Name: "eu", Locations: []string{wh}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	ic, err := cat.Iceberg(ctx, "iceberg")
	if err != nil {
		t.Fatal(err)
	}
	if err := ic.CreateNamespace(ctx, table.Identifier{"eu"}, nil); err != nil && !errors.Is(err, icecat.ErrNamespaceAlreadyExists) {
		t.Fatal(err)
	}
	sc := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "guest_id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "email", Type: iceberg.PrimitiveTypes.String},
		iceberg.NestedField{ID: 3, Name: "nights", Type: iceberg.PrimitiveTypes.Int32},
		iceberg.NestedField{ID: 4, Name: "amount", Type: iceberg.DecimalTypeOf(10, 2)},
		iceberg.NestedField{ID: 5, Name: "created_at", Type: iceberg.PrimitiveTypes.TimestampTz},
		iceberg.NestedField{ID: 6, Name: "tags", Type: &iceberg.ListType{ElementID: 7, Element: iceberg.PrimitiveTypes.String, ElementRequired: false}},
		iceberg.NestedField{ID: 8, Name: "address", Type: &iceberg.StructType{FieldList: []iceberg.NestedField{
			{ID: 9, Name: "city", Type: iceberg.PrimitiveTypes.String},
			{ID: 10, Name: "zip", Type: iceberg.PrimitiveTypes.Int32},
		}}},
	)
	if _, err := ic.CreateTable(ctx, table.Identifier{"eu", "guests"}, sc, icecat.WithLocation(wh+"/guests")); err != nil {
		t.Fatal(err)
	}
	return &protoLake{dir: dir, cat: cat}
}

// passThrough runs the text as DuckDB SQL, with the EXECUTE arguments put
// in place of the ? markers: enough for statements over literals and
// range(), which read no tables.
func passThrough(ctx context.Context, conn *sql.Conn, text string, sess engine.Session, params []string) (*engine.Compiled, error) {
	toks, err := parse.Tokenize(text, parse.DefaultMaxTokens)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	prev, n := 0, 0
	for _, tk := range toks {
		if tk.Kind != parse.TokParam {
			continue
		}
		b.WriteString(text[prev:tk.Pos.Offset])
		b.WriteString(params[n])
		n++
		prev = tk.Pos.Offset + 1
	}
	b.WriteString(text[prev:])
	return &engine.Compiled{SQL: b.String(), Release: func() {}}, nil
}

type testEngine struct {
	*engine.Engine
	url string
}

// startEngine serves an engine with the pass-through compiler on a loopback
// port. change may adjust the configuration.
func startEngine(t testing.TB, lake *protoLake, change func(*engine.Config)) *testEngine {
	t.Helper()
	cfg := engine.Config{
		Region:  "eu",
		Allowed: []string{"file://" + filepath.Join(lake.dir, "wh", "eu")},
		Compile: passThrough,
		Threads: 2,
	}
	if change != nil {
		change(&cfg)
	}
	e, err := engine.New(cfg, lake.cat, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		srv.Close()
		if err := e.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
	})
	return &testEngine{Engine: e, url: srv.URL}
}

// client opens the real trino-go-client against the engine. extra is added
// to the DSN's query ("catalog=iceberg&schema=eu").
func (te *testEngine) client(t testing.TB, extra string) *sql.DB {
	t.Helper()
	dsn := strings.Replace(te.url, "http://", "http://tester@", 1) + "?source=engine-test"
	if extra != "" {
		dsn += "&" + extra
	}
	db, err := sql.Open("trino", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// trinoError unwraps the client's failure into the server's error block.
func trinoError(t testing.TB, err error) *trino.ErrTrino {
	t.Helper()
	var qf *trino.ErrQueryFailed
	if !errors.As(err, &qf) {
		t.Fatalf("error %v (%T) is not a query failure", err, err)
	}
	var et *trino.ErrTrino
	if !errors.As(qf.Reason, &et) {
		t.Fatalf("query failure %v carries no Trino error", qf)
	}
	return et
}
