package engine_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/trinodb/trino-go-client/trino"

	"github.com/meridian-lake/meridian/engine"
)

// Every result type reaches the real client as the Go value Trino's own
// coordinator would produce.
func TestTypesRoundTrip(t *testing.T) {
	t.Parallel()
	te := startEngine(t, newProtoLake(t), nil)
	db := te.client(t, "")
	ts := time.Date(2024, 1, 31, 10, 0, 0, 123456000, time.UTC)
	cases := []struct {
		expr     string
		wantType string
		want     any
	}{
		{"CAST(42 AS BIGINT)", "BIGINT", int64(42)},
		{"CAST(-7 AS INTEGER)", "INTEGER", int64(-7)},
		{"CAST(300 AS SMALLINT)", "SMALLINT", int64(300)},
		{"CAST(-5 AS TINYINT)", "TINYINT", int64(-5)},
		{"CAST('12345678901234567890123456789012345678' AS HUGEINT)", "DECIMAL", "12345678901234567890123456789012345678"},
		{"CAST(1.5 AS DOUBLE)", "DOUBLE", 1.5},
		{"CAST('NaN' AS DOUBLE)", "DOUBLE", math.NaN()},
		{"CAST('Infinity' AS DOUBLE)", "DOUBLE", math.Inf(1)},
		{"CAST('-Infinity' AS DOUBLE)", "DOUBLE", math.Inf(-1)},
		{"CAST(0.25 AS REAL)", "REAL", 0.25},
		{"CAST(12.5 AS DECIMAL(10,2))", "DECIMAL", "12.50"},
		{"CAST(-0.05 AS DECIMAL(4,3))", "DECIMAL", "-0.050"},
		{"CAST(12345678901234567890.123 AS DECIMAL(38,3))", "DECIMAL", "12345678901234567890.123"},
		{"'héllo \"w\"\n'", "VARCHAR", "héllo \"w\"\n"},
		{"true", "BOOLEAN", true},
		{"DATE '2024-01-31'", "DATE", time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"TIMESTAMP '2024-01-31 10:00:00.123456'", "TIMESTAMP", ts},
		{"TIMESTAMPTZ '2024-01-31 10:00:00.123456+00'", "TIMESTAMP WITH TIME ZONE", ts},
		{"TIME '10:11:12.5'", "TIME", time.Date(0, 1, 1, 10, 11, 12, 500000000, time.UTC)},
		{"from_hex('00ff')", "VARBINARY", []byte{0, 0xff}},
		{"CAST('6ba7b810-9dad-11d1-80b4-00c04fd430c8' AS UUID)", "UUID", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"},
		{`CAST('{"a": [1, 2]}' AS JSON)`, "JSON", `{"a":[1,2]}`},
		{"ARRAY[1, 2, NULL]", "ARRAY(INTEGER)", []any{json.Number("1"), json.Number("2"), nil}},
		{"ARRAY[ARRAY['a'], ARRAY['b', 'c']]", "ARRAY(ARRAY(VARCHAR))", []any{[]any{"a"}, []any{"b", "c"}}},
		{"MAP(ARRAY['k'], ARRAY[1.5])", "MAP(VARCHAR, DECIMAL(2,1))", map[string]any{"k": "1.5"}},
		{"MAP(ARRAY[7], ARRAY['x'])", "MAP(INTEGER, VARCHAR)", map[string]any{"7": "x"}},
		{"INTERVAL '90' MINUTE", "INTERVAL DAY TO SECOND", "0 01:30:00.000"},
		{"CAST(NULL AS VARCHAR)", "VARCHAR", nil},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			rows, err := db.Query("SELECT " + c.expr + " AS v")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			types, err := rows.ColumnTypes()
			if err != nil {
				t.Fatal(err)
			}
			if got := types[0].DatabaseTypeName(); !strings.HasPrefix(got, c.wantType) {
				t.Errorf("type = %s, want %s…", got, c.wantType)
			}
			if !rows.Next() {
				t.Fatalf("no row: %v", rows.Err())
			}
			var got any
			if err := rows.Scan(&got); err != nil {
				t.Fatal(err)
			}
			if f, ok := c.want.(float64); ok && math.IsNaN(f) {
				if g, ok := got.(float64); !ok || !math.IsNaN(g) {
					t.Errorf("got %v, want NaN", got)
				}
				return
			}
			if w, ok := c.want.(time.Time); ok {
				g, ok := got.(time.Time)
				if !ok || !g.Equal(w) && !(g.Hour() == w.Hour() && g.Minute() == w.Minute() && g.Nanosecond() == w.Nanosecond() && w.Year() == 0) {
					t.Errorf("got %v, want %v", got, w)
				}
				return
			}
			if diff := cmp.Diff(got, c.want); diff != "" {
				t.Errorf("value (-got +want):\n%s", diff)
			}
		})
	}
	// A row arrives as trino.Row with its field names.
	var r trino.Row
	if err := db.QueryRow(`SELECT CAST(ROW('Lyon', 69001) AS ROW(city VARCHAR, zip INTEGER)) AS address`).Scan(&r); err != nil {
		t.Fatal(err)
	}
	if city, _ := r.Field("city"); r.Len() != 2 || city != "Lyon" || r.Value(1) != int64(69001) {
		t.Errorf("row = %v %v", r.Value(0), r.Value(1))
	}
	// A timestamp with time zone is written in the session's zone.
	var tz time.Time
	if err := db.QueryRow(`SELECT TIMESTAMPTZ '2024-01-31 10:00:00+00'`, sql.Named("X-Trino-Time-Zone", "Europe/Paris")).Scan(&tz); err != nil {
		t.Fatal(err)
	}
	if tz.Location().String() != "Europe/Paris" || tz.Hour() != 11 || !tz.Equal(time.Date(2024, 1, 31, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("timestamptz in Europe/Paris = %v", tz)
	}
}

// trino-go-client sends arguments as EXECUTE _trino_go USING … with the
// statement in X-Trino-Prepared-Statement, or as EXECUTE IMMEDIATE.
func TestPreparedStatementParameters(t *testing.T) {
	t.Parallel()
	te := startEngine(t, newProtoLake(t), nil)
	for _, dsn := range []string{"", "explicitPrepare=false"} {
		db := te.client(t, dsn)
		var n int64
		var s string
		var d time.Time
		err := db.QueryRow("SELECT ? + 1, ? || '!', ?", 41, "it's", trino.Date(2024, 2, 29)).Scan(&n, &s, &d)
		if err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
		if n != 42 || s != "it's!" || d.Format("2006-01-02") != "2024-02-29" {
			t.Errorf("%s: got %d %q %v", dsn, n, s, d)
		}
		// A wrong number of arguments is the client's error.
		_, err = db.Query("SELECT ?", 1, 2)
		if e := trinoError(t, err); e.ErrorName != "INVALID_PARAMETER_USAGE" {
			t.Errorf("%s: too many arguments: %s", dsn, e.ErrorName)
		}
	}

	// PREPARE / EXECUTE / DEALLOCATE on one connection: the client folds
	// X-Trino-Added-Prepare into later requests.
	ctx := context.Background()
	conn, err := te.client(t, "").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PREPARE double_it FROM SELECT ? * 2"); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := conn.QueryRowContext(ctx, "EXECUTE double_it USING 21").Scan(&n); err != nil || n != 42 {
		t.Fatalf("EXECUTE double_it = %d, %v", n, err)
	}
	if _, err := conn.ExecContext(ctx, "DEALLOCATE PREPARE double_it"); err != nil {
		t.Fatal(err)
	}
	_, err = conn.QueryContext(ctx, "EXECUTE double_it USING 21")
	if e := trinoError(t, err); e.ErrorName != "NOT_FOUND" {
		t.Errorf("EXECUTE after DEALLOCATE: %s %s", e.ErrorName, e.Message)
	}
}

// USE sets the catalog and schema the client sends from then on; SHOW and
// DESCRIBE answer from the Iceberg catalog.
func TestUseShowDescribe(t *testing.T) {
	t.Parallel()
	te := startEngine(t, newProtoLake(t), nil)
	ctx := context.Background()
	conn, err := te.client(t, "").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.QueryContext(ctx, "SHOW TABLES")
	if e := trinoError(t, err); e.ErrorName != "MISSING_CATALOG_NAME" {
		t.Errorf("SHOW TABLES without a session catalog: %s", e.ErrorName)
	}
	_, err = conn.ExecContext(ctx, "USE iceberg.nowhere")
	if e := trinoError(t, err); e.ErrorName != "SCHEMA_NOT_FOUND" || e.ErrorLocation.LineNumber != 1 {
		t.Errorf("USE of a missing schema: %+v", e)
	}
	if _, err := conn.ExecContext(ctx, "USE iceberg.eu"); err != nil {
		t.Fatal(err)
	}
	strs := func(q string) []string {
		t.Helper()
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		var out []string
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, v := range vals[:min(2, len(vals))] {
				parts = append(parts, v.(string))
			}
			out = append(out, strings.Join(parts, " "))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if diff := cmp.Diff(strs("SHOW CATALOGS"), []string{"iceberg"}); diff != "" {
		t.Errorf("SHOW CATALOGS (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(strs("SHOW SCHEMAS LIKE 'e%'"), []string{"eu"}); diff != "" {
		t.Errorf("SHOW SCHEMAS (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(strs("SHOW TABLES"), []string{"guests"}); diff != "" {
		t.Errorf("SHOW TABLES after USE (-got +want):\n%s", diff)
	}
	want := []string{
		"guest_id bigint", "email varchar", "nights integer", "amount decimal(10,2)",
		"created_at timestamp(6) with time zone", "tags array(varchar)", "address row(city varchar, zip integer)",
	}
	if diff := cmp.Diff(strs("DESCRIBE guests"), want); diff != "" {
		t.Errorf("DESCRIBE guests (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(strs("SHOW COLUMNS FROM iceberg.eu.guests LIKE '%_id'"), want[:1]); diff != "" {
		t.Errorf("SHOW COLUMNS LIKE (-got +want):\n%s", diff)
	}
	_, err = conn.QueryContext(ctx, "DESCRIBE missing")
	if e := trinoError(t, err); e.ErrorName != "TABLE_NOT_FOUND" {
		t.Errorf("DESCRIBE missing: %s", e.ErrorName)
	}

	// A transaction is accepted (and does nothing).
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// Syntax errors are found in the Trino text, with its line and column;
// constructs the engine lacks are NOT_SUPPORTED, also located.
func TestErrorsCarryLocations(t *testing.T) {
	t.Parallel()
	te := startEngine(t, newProtoLake(t), nil)
	db := te.client(t, "")
	cases := []struct {
		sql        string
		name       string
		line, col  int
		msgContain string
	}{
		{"SELECT 1\nFROM t WHERE", "SYNTAX_ERROR", 2, 13, ""},
		{"SELECT * FORM t", "SYNTAX_ERROR", 1, 10, "FORM"},
		{"SELECT 1;\n\n  SHOW FUNCTIONS", "SYNTAX_ERROR", 0, 0, ""},
		{"\n  SHOW FUNCTIONS", "NOT_SUPPORTED", 2, 3, "SHOW FUNCTIONS"},
		{"SELECT CAST('x' AS INTEGER)", "INVALID_CAST_ARGUMENT", 0, 0, ""},
		{"SELECT no_such_function(1)", "FUNCTION_NOT_FOUND", 0, 0, ""},
		{"SELECT * FROM no_such_table", "TABLE_NOT_FOUND", 0, 0, ""},
	}
	for _, c := range cases {
		_, err := db.Query(c.sql)
		if err == nil {
			t.Errorf("%q: no error", c.sql)
			continue
		}
		e := trinoError(t, err)
		if e.ErrorName != c.name {
			t.Errorf("%q: error %s (%s), want %s", c.sql, e.ErrorName, e.Message, c.name)
		}
		if c.line > 0 && (e.ErrorLocation.LineNumber != c.line || e.ErrorLocation.ColumnNumber != c.col) {
			t.Errorf("%q: at %d:%d, want %d:%d", c.sql, e.ErrorLocation.LineNumber, e.ErrorLocation.ColumnNumber, c.line, c.col)
		}
		if !strings.Contains(e.Message, c.msgContain) {
			t.Errorf("%q: message %q lacks %q", c.sql, e.Message, c.msgContain)
		}
	}
}

// Cancelling the client's context cancels the query, and DuckDB really
// stops: the statement would otherwise run for hours. trino-go-client
// normally sends DELETE /v1/query/{id} on cancel, but under heavy load it
// sometimes returns without it; the short ClientTimeout then stops the query
// as abandoned, as Trino would. TestProtocolDelete covers both DELETEs
// deterministically.
func TestCancelInterruptsDuckDB(t *testing.T) {
	t.Parallel()
	te := startEngine(t, newProtoLake(t), func(c *engine.Config) {
		c.MaxWait = 50 * time.Millisecond
		c.ClientTimeout = 3 * time.Second
	})
	db := te.client(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := db.QueryContext(ctx, "SELECT sum(a.x * b.y) FROM UNNEST(range(1000000)) AS a(x) CROSS JOIN UNNEST(range(1000000)) AS b(y)")
		done <- err
	}()
	waitFor(t, 30*time.Second, "DuckDB to run the statement", func() bool { return te.Executing() == 1 })
	start := time.Now()
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the cancelled query returned no error")
	}
	waitFor(t, 20*time.Second, "DuckDB to stop", func() bool { return te.Executing() == 0 })
	t.Logf("DuckDB stopped %v after the cancel", time.Since(start))
	waitFor(t, 5*time.Second, "the DuckDB connection to be returned", func() bool { return te.DB().Stats().InUse == 0 })
	// The engine still answers.
	var n int64
	if err := db.QueryRow("SELECT 7").Scan(&n); err != nil || n != 7 {
		t.Fatalf("after cancel: %d, %v", n, err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
