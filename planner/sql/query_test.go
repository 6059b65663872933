package sql_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/planner/sql"
)

// sel is SELECT n.
func sel(n string) *sql.Select { return selectOf(num(n)) }

// star is SELECT * FROM rels.
func star(rels ...sql.Relation) *sql.Select {
	return &sql.Select{Items: []sql.SelectItem{&sql.AllColumns{}}, From: rels}
}

func aliased(r sql.Relation, alias string, cols ...string) *sql.Aliased {
	a := &sql.Aliased{Rel: r, Alias: id(alias)}
	for _, c := range cols {
		a.Columns = append(a.Columns, id(c))
	}
	return a
}

func TestQueries(t *testing.T) {
	a, b := name("a"), name("b")
	on := bin("=", name("t", "a"), name("u", "a"))
	tests := []struct {
		name string
		src  string
		want *sql.Query
	}{
		// Set operations.
		{"INTERSECT binds tighter than UNION", "SELECT 1 UNION SELECT 2 INTERSECT SELECT 3", query(&sql.SetOp{
			Op: "UNION", Left: sel("1"), Right: &sql.SetOp{Op: "INTERSECT", Left: sel("2"), Right: sel("3")},
		})},
		{"INTERSECT first", "SELECT 1 INTERSECT SELECT 2 UNION ALL SELECT 3", query(&sql.SetOp{
			Op: "UNION", All: true, Left: &sql.SetOp{Op: "INTERSECT", Left: sel("1"), Right: sel("2")}, Right: sel("3"),
		})},
		{"UNION and EXCEPT are left-associative", "SELECT 1 EXCEPT SELECT 2 UNION DISTINCT SELECT 3", query(&sql.SetOp{
			Op: "UNION", Left: &sql.SetOp{Op: "EXCEPT", Left: sel("1"), Right: sel("2")}, Right: sel("3"),
		})},
		{"parentheses group set operations", "SELECT 1 EXCEPT (SELECT 2 UNION SELECT 3)", query(&sql.SetOp{
			Op: "EXCEPT", Left: sel("1"), Right: &sql.ParenQuery{Query: query(&sql.SetOp{Op: "UNION", Left: sel("2"), Right: sel("3")})},
		})},
		{"ORDER BY and LIMIT apply to the whole set operation", "SELECT 1 UNION SELECT 2 ORDER BY 1 DESC NULLS LAST LIMIT 5", &sql.Query{
			Body:    &sql.SetOp{Op: "UNION", Left: sel("1"), Right: sel("2")},
			OrderBy: []*sql.SortItem{{Expr: num("1"), Desc: true, Nulls: "LAST"}},
			Limit:   num("5"),
		}},
		{"CORRESPONDING", "SELECT 1 UNION ALL CORRESPONDING SELECT 2", query(&sql.SetOp{Op: "UNION", All: true, Corresponding: true, Left: sel("1"), Right: sel("2")})},

		// ORDER BY, OFFSET, LIMIT, FETCH.
		{"NULLS FIRST", "SELECT 1 ORDER BY a ASC NULLS FIRST, b DESC", &sql.Query{
			Body: sel("1"), OrderBy: []*sql.SortItem{{Expr: a, Nulls: "FIRST"}, {Expr: b, Desc: true}},
		}},
		{"OFFSET and LIMIT", "SELECT 1 OFFSET 10 ROWS LIMIT 5", &sql.Query{Body: sel("1"), Offset: num("10"), Limit: num("5")}},
		{"LIMIT ALL", "SELECT 1 LIMIT ALL", query(sel("1"))},
		{"FETCH FIRST WITH TIES", "SELECT 1 ORDER BY a FETCH FIRST 3 ROWS WITH TIES", &sql.Query{
			Body: sel("1"), OrderBy: []*sql.SortItem{{Expr: a}}, Fetch: num("3"),
		}},
		{"FETCH NEXT ROW ONLY", "SELECT 1 OFFSET 1 ROW FETCH NEXT ROW ONLY", &sql.Query{Body: sel("1"), Offset: num("1"), Fetch: num("1")}},
		{"parameters in OFFSET and LIMIT", "SELECT 1 OFFSET ? LIMIT ?", &sql.Query{Body: sel("1"), Offset: &sql.Param{Index: 1}, Limit: &sql.Param{Index: 2}}},

		// Other query bodies.
		{"VALUES", "VALUES (1, 'a'), (2, 'b')", query(&sql.Values{Rows: []sql.Expr{
			&sql.Row{Elems: []sql.Expr{num("1"), str("a")}},
			&sql.Row{Elems: []sql.Expr{num("2"), str("b")}},
		}})},
		{"VALUES of scalars", "VALUES 1, 2", query(&sql.Values{Rows: []sql.Expr{num("1"), num("2")}})},
		{"TABLE", "TABLE s.t", query(&sql.TableQuery{Name: qname("s", "t")})},
		{"parenthesised query", "(SELECT 1)", query(&sql.ParenQuery{Query: query(sel("1"))})},
		{"parenthesised set operation as a subquery", "SELECT * FROM ((SELECT 1) UNION (SELECT 2))", query(star(&sql.SubqueryRel{Query: query(&sql.SetOp{
			Op: "UNION", Left: &sql.ParenQuery{Query: query(sel("1"))}, Right: &sql.ParenQuery{Query: query(sel("2"))},
		})}))},
		{"parenthesised set operation in an expression", "SELECT ((SELECT 1) UNION (SELECT 2))", query(selectOf(&sql.Subquery{Query: query(&sql.SetOp{
			Op: "UNION", Left: &sql.ParenQuery{Query: query(sel("1"))}, Right: &sql.ParenQuery{Query: query(sel("2"))},
		})}))},
		{"WITH", "WITH RECURSIVE r(n) AS (SELECT 1), s AS (TABLE r) SELECT * FROM s", &sql.Query{
			With: &sql.With{Recursive: true, CTEs: []*sql.CTE{
				{Name: id("r"), Columns: []*sql.Ident{id("n")}, Query: query(sel("1"))},
				{Name: id("s"), Query: query(&sql.TableQuery{Name: qname("r")})},
			}},
			Body: star(table("s")),
		}},
		{"WITH SESSION and FUNCTION", "WITH SESSION a.b = 1 WITH FUNCTION f() RETURNS int RETURN 2 SELECT f()", &sql.Query{
			With: &sql.With{
				Session:   []*sql.Property{{Name: qname("a", "b"), Value: num("1")}},
				Functions: []*sql.Function{{Name: qname("f"), Body: []sql.Expr{num("2")}}},
			},
			Body: selectOf(call("f")),
		}},

		// SELECT clauses.
		{"select items", `SELECT DISTINCT t.*, a AS "X", b c, t.* AS (d, e) FROM t`, query(&sql.Select{
			Distinct: true,
			Items: []sql.SelectItem{
				&sql.AllColumns{Prefix: name("t")},
				&sql.SingleColumn{Expr: a, Alias: qid("X")},
				&sql.SingleColumn{Expr: b, Alias: id("c")},
				&sql.AllColumns{Prefix: name("t"), Aliases: []*sql.Ident{id("d"), id("e")}},
			},
			From: []sql.Relation{table("t")},
		})},
		{"GROUP BY, HAVING and WINDOW", "SELECT 1 FROM t WHERE a GROUP BY DISTINCT a, ROLLUP (a, b), CUBE (b), GROUPING SETS ((a, b), (), a) HAVING b WINDOW w AS (ORDER BY a)", query(&sql.Select{
			Items: []sql.SelectItem{col(num("1"))},
			From:  []sql.Relation{table("t")},
			Where: a,
			GroupBy: &sql.GroupBy{Distinct: true, Elements: []*sql.GroupingElement{
				{Sets: [][]sql.Expr{{a}}},
				{Kind: "ROLLUP", Sets: [][]sql.Expr{{a, b}}},
				{Kind: "CUBE", Sets: [][]sql.Expr{{b}}},
				{Kind: "GROUPING SETS", Sets: [][]sql.Expr{{a, b}, nil, {a}}},
			}},
			Having:  b,
			Windows: []*sql.WindowDef{{Name: id("w"), Spec: &sql.WindowSpec{OrderBy: []*sql.SortItem{{Expr: a}}}}},
		})},
		{"GROUP BY AUTO", "SELECT a FROM t GROUP BY AUTO", query(&sql.Select{Items: []sql.SelectItem{col(a)}, From: []sql.Relation{table("t")}, GroupBy: &sql.GroupBy{Auto: true}})},

		// Joins.
		{"implicit join", "SELECT * FROM t, u", query(star(table("t"), table("u")))},
		{"inner join", "SELECT * FROM t JOIN u ON t.a = u.a", query(star(&sql.Join{Type: "INNER", Left: table("t"), Right: table("u"), On: on}))},
		{"outer joins", "SELECT * FROM t LEFT OUTER JOIN u ON t.a = u.a RIGHT JOIN v USING (a, b) FULL JOIN w ON true", query(star(&sql.Join{
			Type: "FULL",
			Left: &sql.Join{
				Type:  "RIGHT",
				Left:  &sql.Join{Type: "LEFT", Left: table("t"), Right: table("u"), On: on},
				Right: table("v"), Using: []*sql.Ident{id("a"), id("b")},
			},
			Right: table("w"), On: boolean("true"),
		}))},
		{"INNER JOIN with aliases", "SELECT * FROM t AS x(p, q) INNER JOIN u y ON true", query(star(&sql.Join{
			Type: "INNER", Left: aliased(table("t"), "x", "p", "q"), Right: aliased(table("u"), "y"), On: boolean("true"),
		}))},
		{"CROSS and NATURAL joins", "SELECT * FROM t CROSS JOIN u NATURAL LEFT JOIN v", query(star(&sql.Join{
			Type: "LEFT", Natural: true, Left: &sql.Join{Type: "CROSS", Left: table("t"), Right: table("u")}, Right: table("v"),
		}))},
		{"right-nested joins", "SELECT * FROM t JOIN u JOIN v ON b ON a", query(star(&sql.Join{
			Type: "INNER", Left: table("t"), Right: &sql.Join{Type: "INNER", Left: table("u"), Right: table("v"), On: b}, On: a,
		}))},
		{"CROSS JOIN UNNEST WITH ORDINALITY", "SELECT * FROM t CROSS JOIN UNNEST(t.arr, t.m) WITH ORDINALITY AS u(x, k, v, n)", query(star(&sql.Join{
			Type: "CROSS", Left: table("t"),
			Right: aliased(&sql.Unnest{Exprs: []sql.Expr{name("t", "arr"), name("t", "m")}, Ordinality: true}, "u", "x", "k", "v", "n"),
		}))},
		{"LATERAL", "SELECT * FROM t LEFT JOIN LATERAL (SELECT a FROM u) x ON true", query(star(&sql.Join{
			Type: "LEFT", Left: table("t"),
			Right: aliased(&sql.SubqueryRel{Lateral: true, Query: query(&sql.Select{Items: []sql.SelectItem{col(a)}, From: []sql.Relation{table("u")}})}, "x"),
			On:    boolean("true"),
		}))},
		{"parenthesised join", "SELECT * FROM (t JOIN u USING (a))", query(star(&sql.Join{Type: "INNER", Left: table("t"), Right: table("u"), Using: []*sql.Ident{id("a")}}))},
		{"subquery relation", "SELECT * FROM (SELECT 1) AS s", query(star(aliased(&sql.SubqueryRel{Query: query(sel("1"))}, "s")))},

		// Relation forms.
		{"TABLESAMPLE", "SELECT * FROM t AS x TABLESAMPLE BERNOULLI (10.5)", query(star(&sql.Sampled{Rel: aliased(table("t"), "x"), Method: "BERNOULLI", Percent: num("10.5")}))},
		{"an alias named like a clause word", "SELECT * FROM t tablesample", query(star(aliased(table("t"), "tablesample")))},
		{"FOR VERSION AS OF", "SELECT * FROM t FOR VERSION AS OF 123", query(star(&sql.Table{Name: qname("t"), Period: "VERSION", AsOf: num("123")}))},
		{"FOR TIMESTAMP AS OF", "SELECT * FROM c.s.t FOR TIMESTAMP AS OF TIMESTAMP '2024-01-01 00:00:00 UTC' x", query(star(aliased(&sql.Table{
			Name: qname("c", "s", "t"), Period: "TIMESTAMP", AsOf: &sql.Literal{Kind: sql.LitTyped, Type: "timestamp", Value: "2024-01-01 00:00:00 UTC"},
		}, "x")))},
		{"branch", "SELECT * FROM t @ dev AS x", query(star(aliased(&sql.Table{Name: qname("t"), Branch: id("dev")}, "x")))},
		{"table function with TABLE and DESCRIPTOR", "SELECT * FROM TABLE(system.f(input => TABLE(t) PARTITION BY a ORDER BY b, columns => DESCRIPTOR(c, d), n => 3))", query(star(&sql.TableFunction{
			Name: qname("system", "f"),
			Args: []sql.Expr{
				&sql.NamedArg{Name: id("input"), Value: &sql.TableArg{Rel: table("t"), PartitionBy: []sql.Expr{a}, OrderBy: []*sql.SortItem{{Expr: b}}}},
				&sql.NamedArg{Name: id("columns"), Value: &sql.Descriptor{Names: []*sql.Ident{id("c"), id("d")}}},
				&sql.NamedArg{Name: id("n"), Value: num("3")},
			},
		}))},
		{"table function with a query argument", "SELECT * FROM TABLE(f(TABLE(SELECT 1) s PARTITION BY (a, b) KEEP WHEN EMPTY, 'x'))", query(star(&sql.TableFunction{
			Name: qname("f"),
			Args: []sql.Expr{
				&sql.TableArg{Rel: aliased(&sql.SubqueryRel{Query: query(sel("1"))}, "s"), PartitionBy: []sql.Expr{a, b}},
				str("x"),
			},
		}))},
		{"MATCH_RECOGNIZE", "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY a ORDER BY b MEASURES last(x.b) AS lb ONE ROW PER MATCH AFTER MATCH SKIP PAST LAST ROW PATTERN (x y+) SUBSET u = (x, y) DEFINE y AS y.b > PREV(y.b)) AS m", query(star(aliased(&sql.MatchRecognize{
			Rel: table("t"),
			Spec: &sql.WindowSpec{
				PartitionBy: []sql.Expr{a},
				OrderBy:     []*sql.SortItem{{Expr: b}},
				Measures:    []*sql.Measure{{Expr: call("last", name("x", "b")), Name: id("lb")}},
				Defines:     []*sql.Measure{{Name: id("y"), Expr: bin(">", name("y", "b"), call("PREV", name("y", "b")))}},
			},
		}, "m")))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stmt := mustParse(t, tc.src)
			qs, ok := stmt.(*sql.QueryStmt)
			if !ok {
				t.Fatalf("Parse(%q) = %T, want *sql.QueryStmt", tc.src, stmt)
			}
			if diff := cmp.Diff(tc.want, qs.Query, treeOpts...); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tc.src, diff)
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	for _, src := range []string{
		"SELECT",
		"SELECT 1 UNION",
		"SELECT 1 INTERSECT ALL",
		"SELECT * FROM t LIMIT",
		"SELECT 1 FETCH FIRST 1 ROWS",
		"SELECT 1 OFFSET",
		"WITH a AS SELECT 1 SELECT 2",
		"WITH a AS (SELECT 1)",
		"SELECT * FROM t JOIN u ON",
		"SELECT * FROM t CROSS u",
		"SELECT * FROM t NATURAL JOIN u ON true",
		"SELECT * FROM t TABLESAMPLE BERNOULLI",
		"SELECT * FROM t FOR VERSION 1",
		"SELECT * FROM t @",
		"SELECT * FROM UNNEST",
		"SELECT * FROM (SELECT 1",
		"SELECT * FROM TABLE(f(",
		"SELECT * FROM t MATCH_RECOGNIZE (PATTERN (a",
		"SELECT a FROM t GROUP BY ROLLUP a",
		"SELECT a FROM t ORDER BY a NULLS",
		"SELECT t.* AS x FROM t",
		"VALUES",
		"TABLE",
	} {
		if stmt, err := sql.Parse(src); err == nil {
			t.Errorf("Parse(%q) = %#v, want a syntax error", src, stmt)
		}
	}
}
