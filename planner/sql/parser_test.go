package sql_test

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/meridian-lake/meridian/internal/corpus"
	"github.com/meridian-lake/meridian/planner/sql"
)

// Tree comparisons ignore source positions (the unexported embedded "at" of
// every node); TestPositions and the fuzz properties check those.
var (
	ignorePos = cmp.FilterPath(func(p cmp.Path) bool {
		sf, ok := p.Last().(cmp.StructField)
		return ok && sf.Name() == "at"
	}, cmp.Ignore())
	treeOpts = []cmp.Option{ignorePos, cmpopts.EquateEmpty()}
)

// Builders for expected trees.

func id(name string) *sql.Ident { return &sql.Ident{Name: name} }

func qid(name string) *sql.Ident { return &sql.Ident{Name: name, Quoted: true} }

func qname(parts ...string) *sql.QualifiedName {
	q := &sql.QualifiedName{}
	for _, p := range parts {
		q.Parts = append(q.Parts, id(p))
	}
	return q
}

func name(parts ...string) *sql.Name { return &sql.Name{Parts: qname(parts...).Parts} }

func num(v string) *sql.Literal { return &sql.Literal{Kind: sql.LitNumber, Value: v} }

func str(v string) *sql.Literal { return &sql.Literal{Kind: sql.LitString, Value: v} }

func boolean(v string) *sql.Literal { return &sql.Literal{Kind: sql.LitBool, Value: v} }

func bin(op string, l, r sql.Expr) *sql.Binary { return &sql.Binary{Op: op, L: l, R: r} }

func call(fn string, args ...sql.Expr) *sql.Call {
	return &sql.Call{Name: qname(strings.Split(fn, ".")...), Args: args}
}

func typ(name string, args ...*sql.TypeArg) *sql.Type { return &sql.Type{Name: name, Args: args} }

func numArg(n string) *sql.TypeArg { return &sql.TypeArg{Number: n} }

func typeArg(t *sql.Type) *sql.TypeArg { return &sql.TypeArg{Type: t} }

func table(parts ...string) *sql.Table { return &sql.Table{Name: qname(parts...)} }

func col(x sql.Expr) *sql.SingleColumn { return &sql.SingleColumn{Expr: x} }

// selectOf is SELECT items, with nothing else.
func selectOf(items ...sql.Expr) *sql.Select {
	s := &sql.Select{}
	for _, x := range items {
		s.Items = append(s.Items, col(x))
	}
	return s
}

func query(body sql.QueryBody) *sql.Query { return &sql.Query{Body: body} }

// mustParse parses src or stops the test.
func mustParse(t *testing.T, src string) sql.Statement {
	t.Helper()
	stmt, err := sql.Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q) = %v, want success", src, err)
	}
	return stmt
}

// script is what TestParseScript checks of a sql.Script.
type script struct {
	Text         string
	Line, Column int
	Kind         string // the statement's type, or "error"
}

// scriptTests are multi-statement texts and how they split. They also seed
// FuzzParse.
var scriptTests = []struct {
	name string
	src  string
	want []script
}{
	{"two statements", "SELECT 1; SELECT 2;", []script{
		{"SELECT 1", 1, 1, "*sql.QueryStmt"},
		{"SELECT 2", 1, 11, "*sql.QueryStmt"},
	}},
	{"empty statements are skipped", ";; SELECT 1 ;\n;", []script{{"SELECT 1", 1, 4, "*sql.QueryStmt"}}},
	{"only separators", " ; ; ", nil},
	{"positions are absolute", "SELECT 1;\n  -- next\n  INSERT INTO t\n  VALUES 1", []script{
		{"SELECT 1", 1, 1, "*sql.QueryStmt"},
		{"INSERT INTO t\n  VALUES 1", 3, 3, "*sql.Insert"},
	}},
	{"a bad statement does not stop the others", "SELECT 1; SELEC 2; SELECT 3", []script{
		{"SELECT 1", 1, 1, "*sql.QueryStmt"},
		{"SELEC 2", 1, 11, "error"},
		{"SELECT 3", 1, 20, "*sql.QueryStmt"},
	}},
	{"semicolons in strings, identifiers and comments", `SELECT ';' AS "a;b" /* ; */; SELECT 2 -- ;`, []script{
		{`SELECT ';' AS "a;b"`, 1, 1, "*sql.QueryStmt"},
		{"SELECT 2", 1, 30, "*sql.QueryStmt"},
	}},
	{"a semicolon in parentheses does not split", "SELECT (1; 2); SELECT 3", []script{
		{"SELECT (1; 2)", 1, 1, "error"},
		{"SELECT 3", 1, 16, "*sql.QueryStmt"},
	}},
	{"routine body with semicolons", "CREATE FUNCTION f() RETURNS int BEGIN RETURN 1; END; SELECT 3", []script{
		{"CREATE FUNCTION f() RETURNS int BEGIN RETURN 1; END", 1, 1, "*sql.DDL"},
		{"SELECT 3", 1, 54, "*sql.QueryStmt"},
	}},
	{"routine body with control statements", "CREATE OR REPLACE FUNCTION f(x int) RETURNS int BEGIN IF x > 0 THEN RETURN 1; END IF; CASE x WHEN 0 THEN RETURN 0; END CASE; WHILE x < 5 DO SET x = x + 1; END WHILE; BEGIN RETURN x; END; END; SELECT 3", []script{
		{"CREATE OR REPLACE FUNCTION f(x int) RETURNS int BEGIN IF x > 0 THEN RETURN 1; END IF; CASE x WHEN 0 THEN RETURN 0; END CASE; WHILE x < 5 DO SET x = x + 1; END WHILE; BEGIN RETURN x; END; END", 1, 1, "*sql.DDL"},
		{"SELECT 3", 1, 193, "*sql.QueryStmt"},
	}},
	{"inline function with a body", "WITH FUNCTION f() RETURNS int BEGIN RETURN 1; END SELECT f(); SELECT 2", []script{
		{"WITH FUNCTION f() RETURNS int BEGIN RETURN 1; END SELECT f()", 1, 1, "*sql.QueryStmt"},
		{"SELECT 2", 1, 63, "*sql.QueryStmt"},
	}},
	{"begin as a column name", "SELECT begin FROM t; SELECT 2", []script{
		{"SELECT begin FROM t", 1, 1, "*sql.QueryStmt"},
		{"SELECT 2", 1, 22, "*sql.QueryStmt"},
	}},
	{"an unfinished CASE does not swallow what follows", "SELECT CASE; SELECT 2", []script{
		{"SELECT CASE", 1, 1, "error"},
		{"SELECT 2", 1, 14, "*sql.QueryStmt"},
	}},
}

func TestParseScript(t *testing.T) {
	for _, tc := range scriptTests {
		t.Run(tc.name, func(t *testing.T) {
			scripts, err := sql.Parser{}.ParseScript(tc.src)
			if err != nil {
				t.Fatalf("ParseScript(%q) = %v, want success", tc.src, err)
			}
			var got []script
			for _, s := range scripts {
				kind := "error"
				if s.Err == nil {
					kind = reflect.TypeOf(s.Stmt).String()
				}
				got = append(got, script{s.Text, s.Pos.Line, s.Pos.Column, kind})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseScript(%q) mismatch (-want +got):\n%s", tc.src, diff)
			}
		})
	}
}

func TestParseScriptErrors(t *testing.T) {
	// Errors inside a statement are absolute positions in the whole text.
	scripts, err := sql.Parser{}.ParseScript("SELECT 1;\nSELECT *\n  FROM t WHERE;")
	if err != nil || len(scripts) != 2 {
		t.Fatalf("ParseScript = %d scripts, %v, want 2 scripts", len(scripts), err)
	}
	var pe *sql.Error
	if !errors.As(scripts[1].Err, &pe) || pe.Pos.Line != 3 || pe.Pos.Column != 15 {
		t.Errorf("ParseScript: second statement error = %v, want a syntax error at 3:15", scripts[1].Err)
	}

	// Lexing, size and encoding errors are for the text as a whole.
	for _, src := range []string{"SELECT 1; SELECT 'a", "SELECT 1; SELECT '\xff'"} {
		scripts, err := sql.Parser{}.ParseScript(src)
		if !errors.As(err, &pe) || pe.Name != sql.ErrSyntax || scripts != nil {
			t.Errorf("ParseScript(%q) = %v, %v, want a syntax error and no scripts", src, scripts, err)
		}
	}
	_, err = sql.Parser{MaxBytes: 10}.ParseScript("SELECT 1; SELECT 2")
	if !errors.As(err, &pe) || pe.Name != sql.ErrTooLarge {
		t.Errorf("Parser{MaxBytes: 10}.ParseScript = %v, want %s", err, sql.ErrTooLarge)
	}
}

func TestPositions(t *testing.T) {
	src := "SELECT a,\n       f(b) AS \"x\"\nFROM s.t\nWHERE c = 'é' AND d > 1"
	stmt := mustParse(t, src)
	sel := stmt.(*sql.QueryStmt).Query.Body.(*sql.Select)
	where := sel.Where.(*sql.Binary)
	tests := []struct {
		what         string
		node         sql.Node
		line, column int
	}{
		{"statement", stmt, 1, 1},
		{"first item", sel.Items[0], 1, 8},
		{"call", sel.Items[1].(*sql.SingleColumn).Expr, 2, 8},
		{"alias", sel.Items[1].(*sql.SingleColumn).Alias, 2, 16},
		{"table", sel.From[0], 3, 6},
		{"AND", where, 4, 15},
		{"comparison", where.L, 4, 9},
		{"string", where.L.(*sql.Binary).R, 4, 11},
		{"after the string", where.R.(*sql.Binary).L, 4, 19},
	}
	for _, tc := range tests {
		if p := tc.node.Position(); p.Line != tc.line || p.Column != tc.column {
			t.Errorf("Parse(%q): %s at %d:%d, want %d:%d", src, tc.what, p.Line, p.Column, tc.line, tc.column)
		}
	}
}

// TestInspectReachesEveryNode checks Inspect against a second, independent
// walk that follows every exported field by reflection: on every corpus
// statement both must find the same *sql.Table nodes, and the same number of
// nodes of each kind, so no child is skipped by Inspect.
func TestInspectReachesEveryNode(t *testing.T) {
	stmts, names := corpus.Statements(t, "tpch", "tpcds", "trino-syntax")
	tables := 0
	for _, file := range names {
		src := stmts[file]
		stmt, err := sql.Parse(src)
		if err != nil {
			t.Errorf("%s: Parse = %v, want success", file, err)
			continue
		}
		got := map[string]int{}
		sql.Inspect(stmt, func(n sql.Node) bool {
			got[reflect.TypeOf(n).String()]++
			checkPos(t, src, reflect.TypeOf(n).String(), n.Position())
			return true
		})
		want := map[string]int{}
		reflectNodes(reflect.ValueOf(stmt), want)
		// Inspect visits expressions, queries and relations, not the names and
		// types inside them.
		for _, skip := range []string{"*sql.Ident", "*sql.QualifiedName", "*sql.Type"} {
			delete(want, skip)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: Inspect node counts mismatch (-reflection +Inspect):\n%s", file, diff)
		}
		tables += got["*sql.Table"]
	}
	if tables < 1000 {
		t.Errorf("Inspect found %d tables in the corpus, want over 1000", tables)
	}
}

var nodeType = reflect.TypeFor[sql.Node]()

// reflectNodes counts, by type, the nodes reachable from v through exported
// fields, pointers, interfaces and slices.
func reflectNodes(v reflect.Value, counts map[string]int) {
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			reflectNodes(v.Elem(), counts)
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if v.Type().Implements(nodeType) {
			counts[v.Type().String()]++
		}
		reflectNodes(v.Elem(), counts)
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			reflectNodes(v.Index(i), counts)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				reflectNodes(v.Field(i), counts)
			}
		}
	}
}

func TestInspectSkipsChildren(t *testing.T) {
	stmt := mustParse(t, "SELECT (SELECT x FROM hidden) FROM visible WHERE EXISTS (SELECT 1 FROM also_hidden)")
	var found []string
	sql.Inspect(stmt, func(n sql.Node) bool {
		switch n := n.(type) {
		case *sql.Subquery, *sql.Exists:
			return false
		case *sql.Table:
			found = append(found, n.Name.String())
		}
		return true
	})
	if want := []string{"visible"}; !cmp.Equal(found, want) {
		t.Errorf("Inspect skipping subqueries found tables %v, want %v", found, want)
	}
}

func TestInspectFindsTablesInOpaqueForms(t *testing.T) {
	tests := []string{
		"SELECT json_value(j, 'lax $.a' DEFAULT (SELECT max(a) FROM t) ON EMPTY) FROM u",
		"SELECT json_query(j, 'lax $.a' PASSING (SELECT a FROM t) AS x) FROM u",
		"SELECT json_object(KEY 'k' VALUE (SELECT a FROM t)) FROM u",
		"SELECT * FROM u, JSON_TABLE(j, 'lax $' COLUMNS (a int PATH 'lax $.a' DEFAULT (SELECT 1 FROM t) ON EMPTY))",
		"SELECT * FROM u, TABLE(f(input => TABLE(t) PARTITION BY a)) AS x",
		"SELECT * FROM u MATCH_RECOGNIZE (ORDER BY a PATTERN (A) DEFINE A AS a > (SELECT max(a) FROM t))",
		"CREATE FUNCTION f() RETURNS int BEGIN DECLARE x int DEFAULT (SELECT count(*) FROM t); RETURN (SELECT count(*) FROM u); END",
		"WITH FUNCTION f() RETURNS int RETURN (SELECT count(*) FROM t) SELECT f() FROM u",
		"SELECT transform(a, x -> (SELECT max(b) FROM t)) FROM u",
		"MERGE INTO x USING t ON x.a = t.a WHEN MATCHED AND EXISTS (SELECT 1 FROM u) THEN DELETE",
		"EXPLAIN ANALYZE INSERT INTO x SELECT * FROM t JOIN u ON true",
		"PREPARE p FROM SELECT * FROM t, u",
		"SELECT * FROM t JOIN NEAREST (FROM u MATCH t.x <= u.x) ON true",
	}
	for _, src := range tests {
		stmt := mustParse(t, src)
		seen := map[string]bool{}
		sql.Inspect(stmt, func(n sql.Node) bool {
			if tb, ok := n.(*sql.Table); ok {
				seen[tb.Name.String()] = true
			}
			return true
		})
		if !seen["t"] || !seen["u"] {
			t.Errorf("Inspect(Parse(%q)) found tables %v, want t and u", src, seen)
		}
	}
}

// TestParseConcurrently parses the corpus from several goroutines at once:
// Parse reuses token buffers, and no tree may share or lose state to another
// parse. Run it with -race.
func TestParseConcurrently(t *testing.T) {
	stmts, names := corpus.Statements(t, "tpch", "tpcds", "trino-syntax")
	want := make([]sql.Statement, len(names))
	for i, file := range names {
		want[i] = mustParse(t, stmts[file])
	}
	const workers = 4
	got := make([][]sql.Statement, workers)
	var wg sync.WaitGroup
	for w := range workers {
		got[w] = make([]sql.Statement, len(names))
		wg.Go(func() {
			for i := range names {
				// Each worker starts elsewhere in the corpus.
				j := (i + w*len(names)/workers) % len(names)
				got[w][j], _ = sql.Parse(stmts[names[j]])
			}
		})
	}
	wg.Wait()
	for w := range workers {
		for i, file := range names {
			if !reflect.DeepEqual(got[w][i], want[i]) {
				t.Errorf("%s: Parse from goroutine %d differs from a sequential Parse", file, w)
			}
		}
	}
}
