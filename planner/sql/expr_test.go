package sql_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/planner/sql"
)

// selectExpr parses "SELECT x" and returns x.
func selectExpr(t *testing.T, x string) sql.Expr {
	t.Helper()
	src := "SELECT " + x
	stmt := mustParse(t, src)
	qs, ok := stmt.(*sql.QueryStmt)
	if !ok {
		t.Fatalf("Parse(%q) = %T, want *sql.QueryStmt", src, stmt)
	}
	sel, ok := qs.Query.Body.(*sql.Select)
	if !ok || len(sel.Items) != 1 {
		t.Fatalf("Parse(%q) = %#v, want one SELECT item", src, qs.Query.Body)
	}
	return sel.Items[0].(*sql.SingleColumn).Expr
}

// subquery is (SELECT a FROM t).
var subquery = query(&sql.Select{Items: []sql.SelectItem{col(name("a"))}, From: []sql.Relation{table("t")}})

func TestExpressions(t *testing.T) {
	a, b, c, x := name("a"), name("b"), name("c"), name("x")
	tests := []struct {
		name string
		src  string
		want sql.Expr
	}{
		// Precedence.
		{"AND binds tighter than OR", "a OR b AND c", bin("OR", a, bin("AND", b, c))},
		{"OR is left-associative", "a OR b OR c", bin("OR", bin("OR", a, b), c)},
		{"NOT binds looser than comparison", "NOT a = b", &sql.Unary{Op: "NOT", X: bin("=", a, b)}},
		{"NOT binds tighter than AND", "NOT a AND b", bin("AND", &sql.Unary{Op: "NOT", X: a}, b)},
		{"AT TIME ZONE binds tighter than unary minus", "-x AT TIME ZONE 'UTC'", &sql.Unary{Op: "-", X: &sql.AtTimeZone{X: x, Zone: str("UTC")}}},
		{"AT LOCAL", "x AT LOCAL", &sql.AtTimeZone{X: x}},
		{"concatenation binds looser than addition", "a || b + c", bin("||", a, bin("+", b, c))},
		{"multiplication binds tighter than addition", "1 + 2 * 3", bin("+", num("1"), bin("*", num("2"), num("3")))},
		{"subtraction is left-associative", "1 - 2 - 3", bin("-", bin("-", num("1"), num("2")), num("3"))},
		{"modulo and division", "a / b % c", bin("%", bin("/", a, b), c)},
		{"parentheses", "(1 + 2) * 3", bin("*", bin("+", num("1"), num("2")), num("3"))},
		{"comparisons under AND", "a = b AND c != 1", bin("AND", bin("=", a, b), bin("<>", c, num("1")))},
		{"arithmetic under comparison", "a + 1 >= b * 2", bin(">=", bin("+", a, num("1")), bin("*", b, num("2")))},
		{"unary plus and minus", "- + 1", &sql.Unary{Op: "-", X: &sql.Unary{Op: "+", X: num("1")}}},

		// Predicates.
		{"BETWEEN", "x BETWEEN 1 AND 2 AND a", bin("AND", &sql.Between{X: x, Lo: num("1"), Hi: num("2")}, a)},
		{"NOT BETWEEN SYMMETRIC", "x NOT BETWEEN SYMMETRIC a + 1 AND b", &sql.Between{X: x, Lo: bin("+", a, num("1")), Hi: b, Not: true}},
		{"IN list", "x IN (1, 'a')", &sql.In{X: x, List: []sql.Expr{num("1"), str("a")}}},
		{"NOT IN subquery", "x NOT IN (SELECT a FROM t)", &sql.In{X: x, Query: subquery, Not: true}},
		{"LIKE ESCAPE", `x LIKE 'a\%%' ESCAPE '\'`, &sql.Like{X: x, Pattern: str(`a\%%`), Escape: str(`\`)}},
		{"NOT LIKE", "x NOT LIKE a", &sql.Like{X: x, Pattern: a, Not: true}},
		{"IS NULL", "x IS NULL", &sql.IsNull{X: x}},
		{"IS NOT NULL", "x IS NOT NULL", &sql.IsNull{X: x, Not: true}},
		{"IS DISTINCT FROM", "x IS DISTINCT FROM a + 1", bin("IS DISTINCT FROM", x, bin("+", a, num("1")))},
		{"IS NOT DISTINCT FROM", "x IS NOT DISTINCT FROM a", bin("IS NOT DISTINCT FROM", x, a)},
		{"quantified ANY", "x = ANY (SELECT a FROM t)", &sql.Quantified{X: x, Op: "=", Quantifier: "ANY", Query: subquery}},
		{"quantified ALL", "x > all (SELECT a FROM t)", &sql.Quantified{X: x, Op: ">", Quantifier: "ALL", Query: subquery}},
		{"quantified SOME with !=", "x != SOME (SELECT a FROM t)", &sql.Quantified{X: x, Op: "<>", Quantifier: "SOME", Query: subquery}},
		{"EXISTS", "NOT EXISTS (SELECT a FROM t)", &sql.Unary{Op: "NOT", X: &sql.Exists{Query: subquery}}},
		{"scalar subquery", "(SELECT a FROM t) + 1", bin("+", &sql.Subquery{Query: subquery}, num("1"))},

		// Literals.
		{"booleans and null", "ARRAY[TRUE, false, NULL]", &sql.Array{Elems: []sql.Expr{boolean("true"), boolean("false"), &sql.Literal{Kind: sql.LitNull, Value: "null"}}}},
		{"binary", "X'0f'", &sql.Literal{Kind: sql.LitBinary, Value: "0f"}},
		{"Unicode string", `U&'\0041\+01F600'`, str("A\U0001F600")},
		{"Unicode string with UESCAPE", `U&'#0041##' UESCAPE '#'`, str("A#")},
		{"dollar string", "$$it's$$", str("it's")},
		{"typed literal", "DATE '2024-01-01'", &sql.Literal{Kind: sql.LitTyped, Type: "date", Value: "2024-01-01"}},
		{"typed literal with a multi-word type", "DOUBLE PRECISION '1.5'", &sql.Literal{Kind: sql.LitTyped, Type: "double", Value: "1.5"}},
		{"interval", "INTERVAL '3' DAY", &sql.Literal{Kind: sql.LitInterval, Type: "DAY", Value: "3"}},
		{"negative interval with a range", "INTERVAL -'1 02:03' day TO second", &sql.Literal{Kind: sql.LitInterval, Type: "DAY TO SECOND", Value: "1 02:03", Neg: true}},
		{"parameters are numbered in order", "f(?, ? + ?)", call("f", &sql.Param{Index: 1}, bin("+", &sql.Param{Index: 2}, &sql.Param{Index: 3}))},

		// Casts and types.
		{"CAST to varchar(n)", "CAST(x AS varchar(10))", &sql.Cast{X: x, Typ: typ("varchar", numArg("10"))}},
		{"TRY_CAST to decimal(p, s)", "TRY_CAST(x AS DECIMAL(10, 2))", &sql.Cast{X: x, Typ: typ("decimal", numArg("10"), numArg("2")), Try: true}},
		{"nested parametric types", "CAST(x AS array(map(varchar, row(a bigint, b double))))", &sql.Cast{X: x, Typ: typ("array", typeArg(
			typ("map", typeArg(typ("varchar")), typeArg(&sql.Type{Name: "row", Fields: []*sql.RowField{
				{Name: id("a"), Type: typ("bigint")},
				{Name: id("b"), Type: typ("double")},
			}})),
		))}},
		{"row type with unnamed and multi-word fields", "CAST(x AS row(bigint, d double precision, t timestamp(3)))", &sql.Cast{X: x, Typ: &sql.Type{Name: "row", Fields: []*sql.RowField{
			{Type: typ("bigint")},
			{Name: id("d"), Type: typ("double")},
			{Name: id("t"), Type: typ("timestamp", numArg("3"))},
		}}}},
		{"timestamp with time zone", "CAST(x AS timestamp(3) with time zone)", &sql.Cast{X: x, Typ: typ("timestamp with time zone", numArg("3"))}},
		{"time without time zone", "CAST(x AS time WITHOUT TIME ZONE)", &sql.Cast{X: x, Typ: typ("time")}},
		{"interval type", "CAST(x AS interval day to second)", &sql.Cast{X: x, Typ: typ("interval day to second")}},
		{"interval type with one field", "CAST(x AS INTERVAL YEAR)", &sql.Cast{X: x, Typ: typ("interval year")}},
		{"double precision", "CAST(x AS double precision)", &sql.Cast{X: x, Typ: typ("double")}},
		{"legacy array type", "CAST(x AS array<bigint>)", &sql.Cast{X: x, Typ: typ("array", typeArg(typ("bigint")))}},
		{"legacy map type", "CAST(x AS map<varchar, array<int>>)", &sql.Cast{X: x, Typ: typ("map", typeArg(typ("varchar")), typeArg(typ("array", typeArg(typ("int")))))}},
		{"postfix array type", "CAST(x AS integer ARRAY)", &sql.Cast{X: x, Typ: typ("array", typeArg(typ("integer")))}},

		// Lambdas.
		{"one-parameter lambda", "transform(a, x -> x + 1)", call("transform", a, &sql.Lambda{Params: []*sql.Ident{id("x")}, Body: bin("+", x, num("1"))})},
		{"two-parameter lambda", "reduce(a, 0, (s, x) -> s * x, s -> s)", call("reduce", a, num("0"),
			&sql.Lambda{Params: []*sql.Ident{id("s"), id("x")}, Body: bin("*", name("s"), x)},
			&sql.Lambda{Params: []*sql.Ident{id("s")}, Body: name("s")},
		)},
		{"lambda without parameters", "f(() -> 1)", call("f", &sql.Lambda{Body: num("1")})},

		// Names, subscripts and dereferences.
		{"qualified name", `t."Col"`, &sql.Name{Parts: []*sql.Ident{id("t"), qid("Col")}}},
		{"subscript and dereference", "a.b[1].c", &sql.Dereference{X: &sql.Subscript{X: name("a", "b"), Index: num("1")}, Field: id("c")}},
		{"subscript of a call", "map(k, v)['key']", &sql.Subscript{X: call("map", name("k"), name("v")), Index: str("key")}},
		{"dereference of a reserved word", "r.from", name("r", "from")},
		{"array constructor", "ARRAY[1, 2][1]", &sql.Subscript{X: &sql.Array{Elems: []sql.Expr{num("1"), num("2")}}, Index: num("1")}},
		{"empty array", "ARRAY[]", &sql.Array{}},
		{"ROW with field names", "ROW(1 AS a, 'x')", &sql.Row{Elems: []sql.Expr{num("1"), str("x")}, Names: []*sql.Ident{id("a"), nil}}},
		{"ROW without names", "ROW(1, 2)", &sql.Row{Elems: []sql.Expr{num("1"), num("2")}}},
		{"parenthesised row", "(1, a)", &sql.Row{Elems: []sql.Expr{num("1"), a}}},

		// Special forms.
		{"EXTRACT", "EXTRACT(year FROM x)", call("extract", str("YEAR"), x)},
		{"POSITION", "POSITION('a' IN b)", call("strpos", b, str("a"))},
		{"SUBSTRING FROM FOR", "SUBSTRING(x FROM 1 FOR 2)", call("substring", x, num("1"), num("2"))},
		{"SUBSTRING with commas", "substring(x, 1)", call("substring", x, num("1"))},
		{"TRIM LEADING", "TRIM(LEADING 'x' FROM y)", call("ltrim", name("y"), str("x"))},
		{"TRIM TRAILING without characters", "TRIM(TRAILING FROM y)", call("rtrim", name("y"))},
		{"TRIM BOTH", "TRIM(BOTH 'x' FROM y)", call("trim", name("y"), str("x"))},
		{"TRIM characters FROM", "TRIM('x' FROM y)", call("trim", name("y"), str("x"))},
		{"NORMALIZE", "NORMALIZE(x, NFD)", call("normalize", x, str("NFD"))},
		{"CURRENT_DATE", "CURRENT_DATE", &sql.Current{Name: "CURRENT_DATE"}},
		{"CURRENT_TIMESTAMP with precision", "current_timestamp(3)", &sql.Current{Name: "CURRENT_TIMESTAMP", Precision: num("3")}},
		{"named argument", "f(a => 1, b)", call("f", &sql.NamedArg{Name: id("a"), Value: num("1")}, b)},
		{"qualified function", "system.f(1)", call("system.f", num("1"))},

		// CASE.
		{"searched CASE", "CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END", &sql.Case{
			Whens: []*sql.When{{Cond: a, Result: num("1")}, {Cond: b, Result: num("2")}},
			Else:  num("3"),
		}},
		{"simple CASE", "CASE x WHEN 1 THEN 'one' END", &sql.Case{Operand: x, Whens: []*sql.When{{Cond: num("1"), Result: str("one")}}}},
		{"extended simple CASE", "CASE x WHEN > 100 THEN 'big' WHEN IS NULL THEN 'none' WHEN NOT BETWEEN 1 AND 2 THEN 'out' WHEN 0 THEN 'zero' END", &sql.Case{
			Operand: x,
			Whens: []*sql.When{
				{Cond: bin(">", nil, num("100")), Result: str("big")},
				{Cond: &sql.IsNull{}, Result: str("none")},
				{Cond: &sql.Between{Lo: num("1"), Hi: num("2"), Not: true}, Result: str("out")},
				{Cond: num("0"), Result: str("zero")},
			},
		}},

		// Aggregates and windows.
		{"count(*)", "count(*)", call("count")},
		{"DISTINCT and ORDER BY in an aggregate", "array_agg(DISTINCT x ORDER BY a DESC)", &sql.Call{
			Name: qname("array_agg"), Args: []sql.Expr{x}, Distinct: true, OrderBy: []*sql.SortItem{{Expr: a, Desc: true}},
		}},
		{"LISTAGG WITHIN GROUP with FILTER", "LISTAGG(x, ', ') WITHIN GROUP (ORDER BY a) FILTER (WHERE b > 0)", &sql.Call{
			Name: qname("listagg"), Args: []sql.Expr{x, str(", ")}, OrderBy: []*sql.SortItem{{Expr: a}}, Filter: bin(">", b, num("0")),
		}},
		{"LISTAGG ON OVERFLOW", "LISTAGG(DISTINCT x, ',' ON OVERFLOW TRUNCATE '…' WITH COUNT) WITHIN GROUP (ORDER BY x)", &sql.Call{
			Name: qname("listagg"), Args: []sql.Expr{x, str(","), str("…")}, Distinct: true, OrderBy: []*sql.SortItem{{Expr: x}},
		}},
		{"window with a frame", "sum(x) OVER (PARTITION BY a, b ORDER BY c NULLS FIRST ROWS BETWEEN 2 PRECEDING AND UNBOUNDED FOLLOWING)", &sql.Call{
			Name: qname("sum"), Args: []sql.Expr{x},
			Over: &sql.Window{Spec: &sql.WindowSpec{
				PartitionBy: []sql.Expr{a, b},
				OrderBy:     []*sql.SortItem{{Expr: c, Nulls: "FIRST"}},
				Frame:       &sql.Frame{Unit: "ROWS", Start: &sql.FrameBound{Kind: "PRECEDING", Value: num("2")}, End: &sql.FrameBound{Kind: "UNBOUNDED FOLLOWING"}},
			}},
		}},
		{"window with a single bound", "rank() OVER (ORDER BY a RANGE CURRENT ROW)", &sql.Call{
			Name: qname("rank"),
			Over: &sql.Window{Spec: &sql.WindowSpec{OrderBy: []*sql.SortItem{{Expr: a}}, Frame: &sql.Frame{Unit: "RANGE", Start: &sql.FrameBound{Kind: "CURRENT ROW"}}}},
		}},
		{"named window", "avg(x) OVER w", &sql.Call{Name: qname("avg"), Args: []sql.Expr{x}, Over: &sql.Window{Ref: id("w")}}},
		{"window extending a named one", "lag(x) IGNORE NULLS OVER (w GROUPS 1 FOLLOWING)", &sql.Call{
			Name: qname("lag"), Args: []sql.Expr{x},
			Over: &sql.Window{Spec: &sql.WindowSpec{Existing: id("w"), Frame: &sql.Frame{Unit: "GROUPS", Start: &sql.FrameBound{Kind: "FOLLOWING", Value: num("1")}}}},
		}},

		// JSON functions keep every expression.
		{"JSON_QUERY with clauses", "JSON_QUERY(j, 'lax $.a' PASSING 1 AS p WITH CONDITIONAL ARRAY WRAPPER EMPTY ARRAY ON ERROR)", &sql.JSONFunc{
			Name: "json_query", Args: []sql.Expr{name("j"), str("lax $.a"), num("1")},
		}},
		{"JSON_VALUE with RETURNING and DEFAULT", "json_value(j, 'strict $.a' RETURNING bigint DEFAULT -1 ON EMPTY NULL ON ERROR)", &sql.JSONFunc{
			Name: "json_value", Args: []sql.Expr{name("j"), str("strict $.a"), &sql.Unary{Op: "-", X: num("1")}},
		}},
		{"JSON_OBJECT with both key forms", "JSON_OBJECT(KEY 'a' VALUE 1, 'b' : b ABSENT ON NULL WITH UNIQUE KEYS)", &sql.JSONFunc{
			Name: "json_object", Args: []sql.Expr{str("a"), num("1"), str("b"), b},
		}},
		{"JSON_ARRAY", "JSON_ARRAY(1, ARRAY[2] NULL ON NULL)", &sql.JSONFunc{
			Name: "json_array", Args: []sql.Expr{num("1"), &sql.Array{Elems: []sql.Expr{num("2")}}},
		}},
		{"JSON_EXISTS", "JSON_EXISTS(j, 'lax $.a' FALSE ON ERROR)", &sql.JSONFunc{Name: "json_exists", Args: []sql.Expr{name("j"), str("lax $.a")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := selectExpr(t, tc.src)
			if diff := cmp.Diff(tc.want, got, treeOpts...); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", "SELECT "+tc.src, diff)
			}
		})
	}
}

func TestParametersAcrossClauses(t *testing.T) {
	src := "SELECT ? FROM t WHERE a = ? AND b IN (SELECT ? FROM u) LIMIT ?"
	var got []int
	sql.Inspect(mustParse(t, src), func(n sql.Node) bool {
		if p, ok := n.(*sql.Param); ok {
			got = append(got, p.Index)
		}
		return true
	})
	if want := []int{1, 2, 3, 4}; !cmp.Equal(got, want) {
		t.Errorf("Parse(%q) parameters = %v, want %v", src, got, want)
	}
}

func TestExpressionErrors(t *testing.T) {
	for _, x := range []string{
		"a = = b",
		"a NOT",
		"a NOT = b",
		"a IS TRUE",
		"CAST(a AS)",
		"CAST(a varchar)",
		"CASE END",
		"CASE x ELSE 1 END",
		"x BETWEEN 1",
		"ARRAY[1,]",
		"f(a,)",
		"INTERVAL '1' FORTNIGHT",
		"ROW(1 AS)",
		"(a b) -> 1",
		"(1, 2",
		"EXTRACT(year x)",
		"1 = ANY (1)",
		"U&'a' UESCAPE x",
		"sum(x) OVER (ROWS 1)",
	} {
		src := "SELECT " + x
		if stmt, err := sql.Parse(src); err == nil {
			t.Errorf("Parse(%q) = %#v, want a syntax error", src, stmt)
		}
	}
}
