package engine

import (
	"context"
	dbsql "database/sql"
	"math/big"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/catalog/demo"
	"github.com/meridian-lake/meridian/internal/corpus"
	"github.com/meridian-lake/meridian/internal/tpch"
)

// tpchLake builds the demo lake (TPC-H at scale in iceberg.tpch, residency
// us, small guest and booking tables) under dir and returns the catalog.
func tpchLake(tb testing.TB, dir string, scale float64) *catalog.Catalog {
	tb.Helper()
	cat := testCatalog(tb, dir, catalog.S3Config{})
	_, err := demo.Init(context.Background(), demo.Config{
		Dir: dir, TPCHScale: scale, BookingsPerRegion: 200, GuestsPerRegion: 100,
	}, cat)
	if err != nil {
		tb.Fatal(err)
	}
	return cat
}

// TestTPCH runs the 22 TPC-H queries of the corpus through Compile on
// DuckDB over the demo lake at scale 0.01; every query returns rows, and
// q1, q6 and q14 equal the independent answers of internal/tpch.
func TestTPCH(t *testing.T) {
	dir := t.TempDir()
	cat := tpchLake(t, dir, 0.01)
	l := regionLake(t, cat, dir, "us")
	conn := duckConn(t)
	stmts, keys := corpus.Statements(t, "tpch")
	if len(keys) != 22 {
		t.Fatalf("corpus has %d TPC-H queries, want 22", len(keys))
	}
	results := map[string][][]string{}
	for _, k := range keys {
		t.Run(filepath.Base(k), func(t *testing.T) {
			rows := mustRun(t, l, conn, stmts[k], Session{User: "alice"})
			if len(rows) == 0 {
				t.Fatalf("%s returned no rows", k)
			}
			results[filepath.Base(k)] = rows
		})
	}
	t.Run("partition pruning", func(t *testing.T) {
		// us.bookings is partitioned by day(check_in): a predicate on the
		// day reads only that day's files and counts the same rows.
		top := mustRun(t, l, conn, "SELECT check_in, count(*) FROM iceberg.us.bookings GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1", Session{})
		day, n := top[0][0], top[0][1]
		files := func(q string) int {
			c, err := l.Compile(context.Background(), conn, q, Session{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Release()
			return strings.Count(c.SQL, ".parquet'")
		}
		all := files("SELECT count(*) FROM iceberg.us.bookings")
		for _, q := range []string{
			"SELECT count(*) FROM iceberg.us.bookings WHERE check_in = DATE '" + day + "'",
			"SELECT count(*) FROM iceberg.us.bookings b WHERE DATE '" + day + "' = b.check_in AND nights > 0",
			"SELECT count(*) FROM iceberg.us.bookings WHERE check_in IN (DATE '" + day + "', DATE '1900-01-01')",
			"SELECT count(*) FROM iceberg.us.bookings WHERE check_in BETWEEN DATE '" + day + "' AND DATE '" + day + "'",
		} {
			if got := files(q); got == 0 || got >= all || got > 2 {
				t.Errorf("%s reads %d files of %d", q, got, all)
			}
			if got := mustRun(t, l, conn, q, Session{}); got[0][0] != n {
				t.Errorf("%s = %s, want %s", q, got[0][0], n)
			}
		}
		// Not a simple predicate on the column: no pruning, same answer.
		q := "SELECT count(*) FROM iceberg.us.bookings WHERE CAST(check_in AS varchar) = '" + day + "'"
		if got := files(q); got != all {
			t.Errorf("%s reads %d files, want all %d", q, got, all)
		}
		if got := mustRun(t, l, conn, q, Session{}); got[0][0] != n {
			t.Errorf("%s = %s, want %s", q, got[0][0], n)
		}
	})
	t.Run("through trino-go-client", func(t *testing.T) {
		// The same queries through the engine's Trino protocol server and
		// the real client: every query returns rows, q6 its exact answer.
		e, err := New(Config{Region: "us", Allowed: l.cfg.Allowed, CacheDir: l.cfg.CacheDir, Threads: 2}, cat, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(e)
		t.Cleanup(func() { srv.Close(); e.Close() })
		db, err := dbsql.Open("trino", strings.Replace(srv.URL, "http://", "http://alice@", 1)+"?source=tpch-test")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, k := range keys {
			rows, err := db.QueryContext(context.Background(), stmts[k])
			if err != nil {
				t.Errorf("%s: %v", k, err)
				continue
			}
			got, err := collect(rows)
			if err != nil {
				t.Errorf("%s: %v", k, err)
			}
			rows.Close()
			if want, ok := results[filepath.Base(k)]; len(got) == 0 || ok && len(got) != len(want) {
				t.Errorf("%s: %d rows through the client, %d through Compile", k, len(got), len(want))
			}
			if filepath.Base(k) == "q06.sql" {
				want, _ := tpch.Q6(tpch.Config{Scale: 0.01})
				if len(got) != 1 || got[0][0] != want.FloatString(4) {
					t.Errorf("q06 through the client = %v, want %s", got, want.FloatString(4))
				}
			}
		}
	})
	cfg := tpch.Config{Scale: 0.01}
	t.Run("q01 answer", func(t *testing.T) {
		want, err := tpch.Q1(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var wantRows [][]string
		for _, r := range want {
			wantRows = append(wantRows, []string{r.ReturnFlag, r.LineStatus, r.SumQty.String(), r.SumBasePrice.String(),
				r.SumDiscPrice.FloatString(4), r.SumCharge.FloatString(6),
				// Averages of decimals are decimals of the same scale,
				// rounded, as in Trino.
				r.AvgQty.FloatString(2), r.AvgPrice.FloatString(2), r.AvgDisc.FloatString(2),
				strconv.FormatInt(r.CountOrder, 10)})
		}
		got := results["q01.sql"]
		if diff := cmp.Diff(got, wantRows); diff != "" {
			t.Errorf("q01 (-got +want):\n%s", diff)
		}
	})
	t.Run("avg of negative decimals", func(t *testing.T) {
		// Trino rounds avg(decimal) half away from zero at the column's
		// scale; computed here from the generated customers.
		g, err := tpch.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		sum, n := big.NewRat(0, 1), int64(0)
		for c := range g.Customers() {
			if c.AcctBal < 0 {
				sum.Add(sum, c.AcctBal.Rat())
				n++
			}
		}
		want := sum.Quo(sum, big.NewRat(n, 1)).FloatString(2)
		got := mustRun(t, l, conn, "SELECT avg(acctbal), typeof(avg(acctbal)) FROM iceberg.tpch.customer WHERE acctbal < 0", Session{})
		if got[0][0] != want || got[0][1] != "decimal(15,2)" {
			t.Errorf("avg(acctbal) of negatives = %v, want %s decimal(15,2)", got[0], want)
		}
	})
	t.Run("q06 answer", func(t *testing.T) {
		want, err := tpch.Q6(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := results["q06.sql"]
		if len(got) != 1 || got[0][0] != want.FloatString(4) {
			t.Errorf("q06 = %v, want %s", got, want.FloatString(4))
		}
	})
	t.Run("q14 answer", func(t *testing.T) {
		want, err := tpch.Q14(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := results["q14.sql"]
		// DuckDB divides decimals as doubles: compared at 6 places.
		if len(got) != 1 || round(t, got[0][0], 6) != want.FloatString(6) {
			t.Errorf("q14 = %v, want %s", got, want.FloatString(6))
		}
	})
}

// round renders a decimal or double text at places decimals, rounding half
// away from zero as SQL decimals do.
func round(tb testing.TB, s string, places int) string {
	tb.Helper()
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		tb.Fatalf("not a number: %q", s)
	}
	return r.FloatString(places)
}

// BenchmarkTPCHQ1 compiles and runs TPC-H query 1 at scale 0.1 (600,000
// lineitems) on DuckDB over the demo lake's Parquet files.
func BenchmarkTPCHQ1(b *testing.B) {
	dir := b.TempDir()
	cat := tpchLake(b, dir, 0.1)
	l := regionLake(b, cat, dir, "us")
	conn := duckConn(b)
	q := corpus.Read(b, filepath.Join(corpus.Dir(b), "tpch", "q01.sql"))
	ctx := context.Background()
	// compile: parse, resolve, plan the Iceberg scan and print the SQL;
	// run: that plus executing it on DuckDB.
	b.Run("compile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := l.Compile(ctx, conn, q, Session{}, nil)
			if err != nil {
				b.Fatal(err)
			}
			c.Release()
		}
	})
	b.Run("run", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rows, err := run(ctx, l, conn, q, Session{})
			if err != nil || len(rows) != 4 {
				b.Fatalf("q1: %d rows, %v", len(rows), err)
			}
		}
	})
}
