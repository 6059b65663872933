package engine

import (
	"context"
	"strings"
	"testing"
)

// tableFreeLake compiles statements that read no table: no catalog needed.
func tableFreeLake(tb testing.TB) *Lake {
	tb.Helper()
	l, err := NewLake(nil, LakeConfig{Region: "us", Allowed: []string{"file:///nowhere/us"}})
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// TestTranslate: Trino text → DuckDB text for the dialect differences the
// engine handles; each DuckDB text also runs and gives Trino's answer.
func TestTranslate(t *testing.T) {
	t.Parallel()
	l := tableFreeLake(t)
	conn := duckConn(t)
	tests := []struct {
		name, trino, duck, result string
	}{
		{"unnamed columns get Trino's names", "SELECT 1, 2 AS two",
			`SELECT 1 AS "_col0", 2 AS "two"`, "1|2"},
		{"date minus interval is a date", "SELECT DATE '1998-12-01' - INTERVAL '90' DAY",
			`SELECT DATE '1998-09-02' AS "_col0"`, "1998-09-02"},
		{"month arithmetic clamps to the month's end", "SELECT DATE '2024-01-31' + INTERVAL '1' MONTH",
			`SELECT DATE '2024-02-29' AS "_col0"`, "2024-02-29"},
		{"date column plus interval stays a date", "WITH t(d) AS (SELECT DATE '2020-01-01') SELECT CAST(d AS date) + INTERVAL '2' YEAR FROM t",
			`WITH "t"("d") AS (SELECT DATE '2020-01-01') SELECT CAST((CAST("d" AS DATE) + (INTERVAL '2 year')) AS DATE) AS "_col0" FROM "t"`, "2022-01-01"},
		{"substring from for", "SELECT substring('abcdef' FROM 2 FOR 3)",
			`SELECT substring('abcdef', 2, 3) AS "_col0"`, "bcd"},
		{"extract", "SELECT extract(YEAR FROM DATE '2020-03-04'), extract(DOW FROM DATE '2024-01-07')",
			`SELECT extract(year FROM DATE '2020-03-04') AS "_col0", extract(isodow FROM DATE '2024-01-07') AS "_col1"`, "2020|7"},
		{"integer division truncates", "SELECT 7 / 2, -7 / 2, 7.0 / 2",
			`SELECT (7 / 2) AS "_col0", ((- 7) / 2) AS "_col1", (7.0 / 2) AS "_col2"`, "3|-3|3.5"},
		{"concatenation and varchar casts", "SELECT 'a' || CAST(12 AS varchar(5))",
			`SELECT ('a' || CAST(12 AS VARCHAR)) AS "_col0"`, "a12"},
		{"renamed aggregates", "SELECT approx_distinct(x) FROM (VALUES 1, 2, 2) AS t (x)",
			`SELECT approx_count_distinct("x") AS "_col0" FROM (VALUES (1), (2), (2)) AS "t"("x")`, "2"},
		{"nulls sort last both ways", "SELECT x FROM (VALUES 1, NULL, 3) t(x) ORDER BY x DESC",
			`SELECT "x" AS "x" FROM (VALUES (1), (NULL), (3)) AS "t"("x") ORDER BY "x" DESC NULLS LAST`, "3\n1\nNULL"},
		{"date_add on a date", "SELECT date_add('day', 3, DATE '2020-01-30')",
			`SELECT CAST((DATE '2020-01-30' + CAST(3 AS BIGINT) * INTERVAL '1 day') AS DATE) AS "_col0"`, "2020-02-02"},
		{"date_diff", "SELECT date_diff('day', DATE '2020-01-01', DATE '2020-02-01')",
			`SELECT date_diff('day', DATE '2020-01-01', DATE '2020-02-01') AS "_col0"`, "31"},
		{"regexp_replace replaces every match", "SELECT regexp_replace('banana', 'a', 'o')",
			`SELECT regexp_replace('banana', 'a', 'o', 'g') AS "_col0"`, "bonono"},
		{"decimal literal keeps its scale", "SELECT DECIMAL '1.50'",
			`SELECT CAST('1.50' AS DECIMAL(3,2)) AS "_col0"`, "1.50"},
		{"array subscript is 1-based", "SELECT ARRAY[10, 20, 30][2], cardinality(ARRAY[1, 2])",
			`SELECT ([10, 20, 30])[2] AS "_col0", len([1, 2]) AS "_col1"`, "20|2"},
		{"aggregate filter and window frame",
			"SELECT count(*) FILTER (WHERE x > 1), sum(x) OVER (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM (VALUES 1, 2, 3) t(x) GROUP BY x ORDER BY x",
			`SELECT count(*) FILTER (WHERE ("x" > 1)) AS "_col0", sum("x") OVER (ORDER BY "x" NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS "_col1" FROM (VALUES (1), (2), (3)) AS "t"("x") GROUP BY "x" ORDER BY "x" NULLS LAST`,
			"0|1\n1|3\n1|6"},
		{"fetch first and offset", "SELECT x FROM (VALUES 1, 2, 3, 4) t(x) ORDER BY x OFFSET 1 ROWS FETCH FIRST 2 ROWS ONLY",
			`SELECT "x" AS "x" FROM (VALUES (1), (2), (3), (4)) AS "t"("x") ORDER BY "x" NULLS LAST LIMIT 2 OFFSET 1`, "2\n3"},
		{"set operations keep their grouping", "(SELECT 1 UNION SELECT 2) INTERSECT SELECT 2",
			`(SELECT 1 AS "_col0" UNION SELECT 2) INTERSECT SELECT 2`, "2"},
		{"in, between, case, like", "SELECT CASE WHEN 2 IN (1, 2) AND 3 BETWEEN 1 AND 5 AND 'abc' LIKE 'a%' THEN 'yes' ELSE 'no' END",
			`SELECT CASE WHEN (((2 IN (1, 2)) AND (3 BETWEEN 1 AND 5)) AND ('abc' LIKE 'a%')) THEN 'yes' ELSE 'no' END AS "_col0"`, "yes"},
		{"parameters are substituted", "SELECT ? + 1",
			`SELECT ((41) + 1) AS "_col0"`, "42"},
		{"current user", "SELECT current_user",
			`SELECT 'alice' AS "_col0"`, "alice"},
		{"sums of integers are bigint", "SELECT typeof(sum(x)), sum(x) FROM (VALUES 1, 2) t(x)",
			`SELECT lower(typeof(sum("x"))) AS "_col0", sum("x") AS "_col1" FROM (VALUES (1), (2)) AS "t"("x")`, "hugeint|3"},
		{"avg where the column type is unknown stays a double", "WITH t(x) AS (VALUES DECIMAL '1.00', DECIMAL '1.00', DECIMAL '1.01') SELECT avg(x) FROM t",
			`WITH "t"("x") AS (VALUES (CAST('1.00' AS DECIMAL(3,2))), (CAST('1.00' AS DECIMAL(3,2))), (CAST('1.01' AS DECIMAL(3,2)))) SELECT avg("x") AS "_col0" FROM "t"`, "1.0033333333333334"},
		{"typed literals", "SELECT TIMESTAMP '2020-01-02 03:04:05', DOUBLE '1.5', typeof(REAL '1')",
			`SELECT TIMESTAMP '2020-01-02 03:04:05' AS "_col0", CAST('1.5' AS DOUBLE) AS "_col1", lower(typeof(CAST('1' AS FLOAT))) AS "_col2"`, "2020-01-02 03:04:05|1.5|float"},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := l.Compile(ctx, nil, tc.trino, Session{User: "alice"}, []string{"41"})
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.trino, err)
			}
			if c.SQL != tc.duck {
				t.Errorf("Compile(%q)\n got %s\nwant %s", tc.trino, c.SQL, tc.duck)
			}
			rows, err := run(ctx, l, conn, tc.trino, Session{User: "alice"}, "41")
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSuffix(flat(rows), "\n"); got != tc.result {
				t.Errorf("%s returned %q, want %q", tc.trino, got, tc.result)
			}
		})
	}
}

// TestTranslateUnsupported: constructs the engine cannot translate fail
// with NOT_SUPPORTED at their line and column, before DuckDB sees them.
func TestTranslateUnsupported(t *testing.T) {
	t.Parallel()
	l := tableFreeLake(t)
	tests := []struct{ sql, at, what string }{
		{"SELECT\n  json_extract('{}', '$.a')", "line 2:3", "json_extract"},
		{"SELECT x\nFROM (VALUES 1) t(x)\nWHERE frobnicate(x)", "line 3:7", "function frobnicate"},
		{"SELECT * FROM TABLE(sequence(start => 1, stop => 2))", "line 1:15", "table function"},
		{"SELECT x FROM UNNEST(ARRAY[1]) WITH ORDINALITY AS t(x, o)", "line 1:15", "WITH ORDINALITY"},
		{"SELECT INTERVAL '1 02:00:00' DAY TO SECOND", "line 1:8", "DAY TO SECOND"},
		{"SELECT CAST('1.2.3.4' AS ipaddress)", "line 1:26", "type ipaddress"},
		{"SELECT format_datetime(current_timestamp, 'yyyy')", "line 1:8", "format_datetime"},
		{"SELECT regexp_replace('ab', '(a)', '$1$1')", "line 1:8", "group references"},
		{"DELETE FROM t WHERE x = 1", "line 1:1", "read-only"},
		{"SELECT x FROM (VALUES 1) t(x) GROUP BY AUTO", "line 1:1", "GROUP BY AUTO"},
	}
	for _, tc := range tests {
		_, err := l.Compile(context.Background(), nil, tc.sql, Session{}, nil)
		if trinoCode(err) != "NOT_SUPPORTED" || !strings.Contains(err.Error(), tc.at) || !strings.Contains(err.Error(), tc.what) {
			t.Errorf("Compile(%q) = %v, want NOT_SUPPORTED at %s naming %q", tc.sql, err, tc.at, tc.what)
		}
	}
}
