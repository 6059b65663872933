package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/trino"
	ast "github.com/meridian-lake/meridian/planner/sql"
)

// compiler prints one parsed Trino statement as DuckDB SQL. It walks the
// syntax tree once: table references are resolved, confined and planned as
// they are met, and every construct it does not know is refused with
// NOT_SUPPORTED at its position rather than passed on to DuckDB, whose
// meaning may differ.
type compiler struct {
	ctx    context.Context
	lake   *Lake
	conn   *sql.Conn
	sess   Session
	params []string
	b      strings.Builder
	err    error

	// catalog and schema qualify unqualified names: the session's, or a
	// view's own while its body is printed.
	catalog, schema string
	// ctes are the visible WITH names, innermost last.
	ctes []map[string]bool
	// froms are the tables of the enclosing SELECT blocks, innermost last,
	// for typing column references.
	froms []*fromScope
	// views is the depth of view expansion.
	views int
	// inParam is set while a parameter's text is printed.
	inParam bool
	// release undoes what planning created: pins in the file cache,
	// materialised files.
	release []func()
}

// fail records the first error; printing goes on harmlessly.
func (c *compiler) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

func (c *compiler) failAt(code trino.Code, p ast.Pos, format string, args ...any) {
	e := trino.Errorf(code, format, args...)
	if p.Line > 0 {
		e = e.At(p.Line, p.Column)
	}
	c.fail(e)
}

func (c *compiler) unsupported(p ast.Pos, what string) {
	c.failAt(trino.NotSupported, p, "%s is not supported by the local engine", what)
}

func (c *compiler) w(ss ...string) {
	for _, s := range ss {
		c.b.WriteString(s)
	}
}

// quote is a DuckDB identifier. DuckDB matches identifiers case-insensitively
// even when quoted, as Trino does; quoting keeps DuckDB's keywords usable.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// literal is a DuckDB string literal.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// statement prints a statement that returns rows.
func (c *compiler) statement(st ast.Statement) {
	switch st := st.(type) {
	case *ast.QueryStmt:
		c.query(st.Query, true)
	case *ast.Insert, *ast.CreateTableAs, *ast.CreateTable, *ast.CreateView, *ast.Delete,
		*ast.Update, *ast.Merge, *ast.Truncate, *ast.DDL, *ast.Comment, *ast.Analyze,
		*ast.TableExecute, *ast.Privilege, *ast.CallStmt:
		c.failAt(trino.NotSupported, st.Position(), "the local engine is read-only: %s statements are not supported (write through the regional Trino cluster or iceberg-go)", statementName(st))
	default:
		c.failAt(trino.NotSupported, st.Position(), "%s statements are not supported by the local engine's SQL layer", statementName(st))
	}
}

func statementName(st ast.Statement) string {
	switch st := st.(type) {
	case *ast.Insert:
		return "INSERT"
	case *ast.CreateTableAs, *ast.CreateTable:
		return "CREATE TABLE"
	case *ast.CreateView:
		return "CREATE VIEW"
	case *ast.Delete:
		return "DELETE"
	case *ast.Update:
		return "UPDATE"
	case *ast.Merge:
		return "MERGE"
	case *ast.Truncate:
		return "TRUNCATE"
	case *ast.DDL:
		return strings.ToUpper(strings.ReplaceAll(st.Kind, "_", " "))
	case *ast.Explain:
		return "EXPLAIN"
	case *ast.CallStmt:
		return "CALL"
	}
	name := fmt.Sprintf("%T", st)
	return strings.ToUpper(strings.TrimPrefix(name, "*sql."))
}

// query prints q. top marks the statement's own query, whose unnamed
// output columns get Trino's _colN names.
func (c *compiler) query(q *ast.Query, top bool) {
	if q.With != nil {
		w := q.With
		if len(w.Functions) > 0 {
			c.unsupported(q.Position(), "WITH FUNCTION")
		}
		if len(w.Session) > 0 {
			c.unsupported(q.Position(), "WITH SESSION")
		}
		names := map[string]bool{}
		for _, cte := range w.CTEs {
			names[cte.Name.Norm()] = true
		}
		c.ctes = append(c.ctes, names)
		defer func() { c.ctes = c.ctes[:len(c.ctes)-1] }()
		c.w("WITH ")
		if w.Recursive {
			c.w("RECURSIVE ")
		}
		for i, cte := range w.CTEs {
			if i > 0 {
				c.w(", ")
			}
			c.w(quote(cte.Name.Norm()))
			c.identList(cte.Columns)
			c.w(" AS (")
			c.query(cte.Query, false)
			c.w(")")
		}
		c.w(" ")
	}
	c.body(q.Body, top)
	if len(q.OrderBy) > 0 {
		c.w(" ORDER BY ")
		c.sortItems(q.OrderBy)
	}
	switch {
	case q.Limit != nil:
		c.w(" LIMIT ")
		c.expr(q.Limit)
	case q.Fetch != nil:
		c.w(" LIMIT ")
		c.expr(q.Fetch)
	}
	if q.Offset != nil {
		c.w(" OFFSET ")
		c.expr(q.Offset)
	}
}

func (c *compiler) identList(ids []*ast.Ident) {
	if len(ids) == 0 {
		return
	}
	c.w("(")
	commaList(c, ids, func(id *ast.Ident) { c.w(quote(id.Norm())) })
	c.w(")")
}

// sortItems prints ORDER BY items with explicit null ordering: Trino sorts
// nulls last in both directions unless told otherwise.
func (c *compiler) sortItems(items []*ast.SortItem) {
	for i, s := range items {
		if i > 0 {
			c.w(", ")
		}
		c.expr(s.Expr)
		if s.Desc {
			c.w(" DESC")
		}
		if strings.EqualFold(s.Nulls, "FIRST") {
			c.w(" NULLS FIRST")
		} else {
			c.w(" NULLS LAST")
		}
	}
}

func (c *compiler) body(b ast.QueryBody, top bool) {
	switch b := b.(type) {
	case *ast.Select:
		c.selectBlock(b, top)
	case *ast.SetOp:
		if b.Corresponding {
			c.unsupported(b.Position(), "CORRESPONDING")
		}
		c.setOperand(b.Left, top)
		c.w(" ", strings.ToUpper(b.Op))
		if b.All {
			c.w(" ALL")
		}
		c.w(" ")
		c.setOperand(b.Right, false)
	case *ast.Values:
		c.w("VALUES ")
		for i, r := range b.Rows {
			if i > 0 {
				c.w(", ")
			}
			if row, ok := r.(*ast.Row); ok && row.Names == nil {
				c.w("(")
				c.exprs(row.Elems)
				c.w(")")
			} else {
				c.w("(")
				c.expr(r)
				c.w(")")
			}
		}
	case *ast.TableQuery:
		c.w("SELECT * FROM ")
		c.tableRel(&ast.Table{Name: b.Name}, nil, nil, b.Position())
	case *ast.ParenQuery:
		c.w("(")
		c.query(b.Query, top)
		c.w(")")
	default:
		c.unsupported(b.Position(), fmt.Sprintf("query form %T", b))
	}
}

func (c *compiler) setOperand(b ast.QueryBody, top bool) {
	if _, ok := b.(*ast.SetOp); ok {
		c.w("(")
		c.body(b, top)
		c.w(")")
		return
	}
	c.body(b, top)
}

func (c *compiler) selectBlock(s *ast.Select, top bool) {
	scope := c.collectFrom(s)
	c.froms = append(c.froms, scope)
	defer func() { c.froms = c.froms[:len(c.froms)-1] }()

	c.w("SELECT ")
	if s.Distinct {
		c.w("DISTINCT ")
	}
	for i, item := range s.Items {
		if i > 0 {
			c.w(", ")
		}
		switch it := item.(type) {
		case *ast.SingleColumn:
			c.expr(it.Expr)
			switch {
			case it.Alias != nil:
				c.w(" AS ", quote(it.Alias.Norm()))
			case top:
				c.w(" AS ", quote(outputName(it.Expr, i)))
			}
		case *ast.AllColumns:
			if len(it.Aliases) > 0 {
				c.unsupported(it.Position(), "column aliases on *")
			}
			if it.Prefix != nil {
				c.expr(it.Prefix)
				c.w(".")
			}
			c.w("*")
		}
	}
	if len(s.From) > 0 {
		c.w(" FROM ")
		commaList(c, s.From, c.relation)
	}
	if s.Where != nil {
		c.w(" WHERE ")
		c.expr(s.Where)
	}
	if g := s.GroupBy; g != nil {
		switch {
		case g.Auto:
			c.unsupported(s.Position(), "GROUP BY AUTO")
		case g.Distinct:
			c.unsupported(s.Position(), "GROUP BY DISTINCT")
		}
		c.w(" GROUP BY ")
		commaList(c, g.Elements, c.groupingElement)
	}
	if s.Having != nil {
		c.w(" HAVING ")
		c.expr(s.Having)
	}
	if len(s.Windows) > 0 {
		c.w(" WINDOW ")
		for i, wd := range s.Windows {
			if i > 0 {
				c.w(", ")
			}
			c.w(quote(wd.Name.Norm()), " AS (")
			c.windowSpec(wd.Spec)
			c.w(")")
		}
	}
}

// outputName is the name Trino gives an unaliased select item.
func outputName(x ast.Expr, i int) string {
	switch x := x.(type) {
	case *ast.Name:
		return x.Parts[len(x.Parts)-1].Norm()
	case *ast.Dereference:
		return x.Field.Norm()
	}
	return "_col" + strconv.Itoa(i)
}

func (c *compiler) groupingElement(el *ast.GroupingElement) {
	set := func(xs []ast.Expr, paren bool) {
		if paren || len(xs) != 1 {
			c.w("(")
			c.exprs(xs)
			c.w(")")
			return
		}
		c.expr(xs[0])
	}
	switch el.Kind {
	case "":
		commaList(c, el.Sets, c.exprs)
	case "ROLLUP", "CUBE":
		c.w(el.Kind, " (")
		for _, xs := range el.Sets {
			c.exprs(xs)
		}
		c.w(")")
	case "GROUPING SETS":
		c.w("GROUPING SETS (")
		commaList(c, el.Sets, func(xs []ast.Expr) { set(xs, true) })
		c.w(")")
	default:
		c.unsupported(ast.Pos{}, "grouping "+el.Kind)
	}
}

func (c *compiler) relation(r ast.Relation) {
	switch r := r.(type) {
	case *ast.Table:
		c.tableRel(r, nil, nil, r.Position())
	case *ast.Aliased:
		if t, ok := r.Rel.(*ast.Table); ok {
			c.tableRel(t, r.Alias, r.Columns, r.Position())
			return
		}
		c.relation(r.Rel)
		c.w(" AS ", quote(r.Alias.Norm()))
		c.identList(r.Columns)
	case *ast.Join:
		c.relation(r.Left)
		switch r.Type {
		case "IMPLICIT":
			c.w(", ")
		case "CROSS":
			c.w(" CROSS JOIN ")
		default:
			c.w(" ")
			if r.Natural {
				c.w("NATURAL ")
			}
			c.w(r.Type, " JOIN ")
		}
		if _, ok := r.Right.(*ast.Join); ok {
			c.w("(")
			c.relation(r.Right)
			c.w(")")
		} else {
			c.relation(r.Right)
		}
		switch {
		case r.On != nil:
			c.w(" ON ")
			c.expr(r.On)
		case len(r.Using) > 0:
			c.w(" USING ")
			c.identList(r.Using)
		}
	case *ast.SubqueryRel:
		if r.Lateral {
			c.w("LATERAL ")
		}
		c.w("(")
		c.query(r.Query, false)
		c.w(")")
	case *ast.Unnest:
		if r.Ordinality {
			c.unsupported(r.Position(), "UNNEST … WITH ORDINALITY")
		}
		if len(r.Exprs) != 1 {
			c.unsupported(r.Position(), "UNNEST of several arrays")
		}
		c.w("UNNEST(")
		c.exprs(r.Exprs)
		c.w(")")
	case *ast.Sampled:
		c.unsupported(r.Position(), "TABLESAMPLE")
	case *ast.TableFunction:
		c.unsupported(r.Position(), "table function "+r.Name.String())
	case *ast.JSONTable:
		c.unsupported(r.Position(), "JSON_TABLE")
	case *ast.MatchRecognize:
		c.unsupported(r.Position(), "MATCH_RECOGNIZE")
	default:
		c.unsupported(r.Position(), fmt.Sprintf("relation %T", r))
	}
}

// isCTE reports whether a one-part table name is a visible WITH name.
func (c *compiler) isCTE(name *ast.QualifiedName) bool {
	if len(name.Parts) != 1 {
		return false
	}
	n := name.Parts[0].Norm()
	for i := len(c.ctes) - 1; i >= 0; i-- {
		if c.ctes[i][n] {
			return true
		}
	}
	return false
}

// tableRel prints a table reference as the relation that reads it.
func (c *compiler) tableRel(t *ast.Table, alias *ast.Ident, cols []*ast.Ident, p ast.Pos) {
	aliasName := ""
	if alias != nil {
		aliasName = alias.Norm()
	}
	if c.isCTE(t.Name) {
		if t.Period != "" || t.Branch != nil {
			c.unsupported(p, "time travel on a WITH query")
		}
		c.w(quote(t.Name.Parts[0].Norm()))
		if aliasName != "" {
			c.w(" AS ", quote(aliasName))
		}
		c.identList(cols)
		return
	}
	if aliasName == "" {
		aliasName = t.Name.Parts[len(t.Name.Parts)-1].Norm()
	}
	rel := c.tableSource(t)
	c.w(rel, " AS ", quote(aliasName))
	c.identList(cols)
}

// tableSource resolves t and returns a parenthesised DuckDB relation
// reading it.
func (c *compiler) tableSource(t *ast.Table) string {
	if c.err != nil {
		return "(SELECT 1)"
	}
	info, err := c.resolveTable(t)
	if err != nil {
		c.fail(err)
		return "(SELECT 1)"
	}
	if t.Branch != nil {
		c.unsupported(t.Position(), "reading a branch (t @ branch)")
		return "(SELECT 1)"
	}
	if info.Kind == catalog.KindView {
		return c.view(t, info)
	}
	if info.Metadata != "" {
		c.unsupported(t.Position(), fmt.Sprintf("the metadata table %s", info.Ref))
		return "(SELECT 1)"
	}
	var filter iceberg.BooleanExpression
	if len(c.froms) > 0 {
		filter = c.froms[len(c.froms)-1].filters[t]
	}
	rel, err := c.scanTable(info, t, filter)
	if err != nil {
		c.fail(err)
		return "(SELECT 1)"
	}
	return rel
}

// qualify turns a table name into a catalog reference using the naming
// context, with Trino's errors for a missing catalog or schema.
func (c *compiler) qualify(n *ast.QualifiedName) (catalog.TableRef, error) {
	parts := make([]string, len(n.Parts))
	for i, p := range n.Parts {
		parts[i] = p.Norm()
	}
	pos := n.Position()
	at := func(e *trino.Error) error { return withPos(e, pos) }
	if len(parts) > 3 {
		return catalog.TableRef{}, at(trino.Errorf(trino.SyntaxError, "Too many dots in table name: %s", n.String()))
	}
	ref := catalog.TableRef{Catalog: c.catalog, Schema: c.schema}
	if len(parts) == 3 {
		ref.Catalog = parts[0]
	}
	if len(parts) >= 2 {
		ref.Schema = parts[len(parts)-2]
	}
	ref.Table = parts[len(parts)-1]
	if ref.Catalog == "" {
		return catalog.TableRef{}, at(trino.Errorf(trino.MissingCatalogName, "Catalog must be specified when session catalog is not set"))
	}
	if ref.Schema == "" {
		return catalog.TableRef{}, at(trino.Errorf(trino.MissingSchemaName, "Schema must be specified when session schema is not set"))
	}
	return ref, nil
}

// resolveTable qualifies and resolves t through the catalog, caching the
// answer on the enclosing scope.
func (c *compiler) resolveTable(t *ast.Table) (*catalog.TableInfo, error) {
	for i := len(c.froms) - 1; i >= 0; i-- {
		if info := c.froms[i].resolved[t]; info != nil {
			return info, nil
		}
	}
	ref, err := c.qualify(t.Name)
	if err != nil {
		return nil, err
	}
	info, err := c.lake.cat.Resolve(c.ctx, ref)
	if err != nil {
		return nil, resolveError(ref, t.Position(), err)
	}
	return &info, nil
}

func resolveError(ref catalog.TableRef, p ast.Pos, err error) error {
	var e *trino.Error
	switch {
	case errors.Is(err, catalog.ErrTableNotFound):
		e = trino.Errorf(trino.TableNotFound, "Table '%s' does not exist", ref)
	case errors.Is(err, catalog.ErrCatalogNotFound):
		e = trino.Errorf(trino.CatalogNotFound, "Catalog '%s' not found", ref.Catalog)
	default:
		e = trino.Errorf(trino.GenericInternalError, "cannot read table %s from the catalog: %v", ref, err)
	}
	if p.Line > 0 {
		e = e.At(p.Line, p.Column)
	}
	return e
}

// view expands a view's Trino SQL in its own naming context.
func (c *compiler) view(t *ast.Table, info *catalog.TableInfo) string {
	// "default" is what iceberg-go's SQL catalog records; it is read as Trino SQL.
	if d := strings.ToLower(info.ViewDialect); d != "" && d != "trino" && d != "default" {
		c.unsupported(t.Position(), fmt.Sprintf("view %s in SQL dialect %q", info.Ref, info.ViewDialect))
		return "(SELECT 1)"
	}
	if c.views >= c.lake.cfg.MaxViewDepth {
		c.unsupported(t.Position(), fmt.Sprintf("views nested deeper than %d levels (at %s)", c.lake.cfg.MaxViewDepth, info.Ref))
		return "(SELECT 1)"
	}
	st, err := ast.Parser{}.Parse(info.ViewSQL)
	if err != nil {
		c.failAt(trino.GenericUserError, t.Position(), "view %s has an invalid definition: %v", info.Ref, err)
		return "(SELECT 1)"
	}
	qs, ok := st.(*ast.QueryStmt)
	if !ok {
		c.failAt(trino.GenericUserError, t.Position(), "view %s is not a query", info.Ref)
		return "(SELECT 1)"
	}
	// The view body is printed into its own buffer, outside the caller's
	// WITH names and scopes.
	saved := *c
	c.b = strings.Builder{}
	c.catalog, c.schema = info.Ref.Catalog, info.Ref.Schema
	c.ctes, c.froms = nil, nil
	c.views++
	c.query(qs.Query, false)
	text := c.b.String()
	err = c.err
	rel := c.release
	*c = saved
	c.release = rel
	var te *trino.Error
	if errors.As(err, &te) {
		// Positions inside the view's text mean nothing to the client:
		// the error is placed at the view's name in the statement.
		err = withPos(&trino.Error{Code: te.Code, Message: fmt.Sprintf("view %s: %s", info.Ref, te.Message)}, t.Position())
	}
	c.fail(err)
	return "(" + text + ")"
}

// commaList writes each item with fn, separated by ", ".
func commaList[T any](c *compiler, items []T, fn func(T)) {
	for i, it := range items {
		if i > 0 {
			c.w(", ")
		}
		fn(it)
	}
}

func (c *compiler) exprs(xs []ast.Expr) {
	commaList(c, xs, c.expr)
}

// negatable opens a predicate that NOT may negate: "(x [NOT]op".
func (c *compiler) negatable(x ast.Expr, not bool, op string) {
	c.w("(")
	c.expr(x)
	if not {
		c.w(" NOT")
	}
	c.w(op)
}

func (c *compiler) expr(x ast.Expr) {
	if c.err != nil || x == nil {
		return
	}
	switch x := x.(type) {
	case *ast.Name:
		for i, p := range x.Parts {
			if i > 0 {
				c.w(".")
			}
			c.w(quote(p.Norm()))
		}
	case *ast.Literal:
		c.lit(x)
	case *ast.Param:
		c.param(x)
	case *ast.Unary:
		c.w("(", strings.ToUpper(x.Op), " ")
		c.expr(x.X)
		c.w(")")
	case *ast.Binary:
		c.binary(x)
	case *ast.Like:
		c.negatable(x.X, x.Not, " LIKE ")
		c.expr(x.Pattern)
		if x.Escape != nil {
			c.w(" ESCAPE ")
			c.expr(x.Escape)
		}
		c.w(")")
	case *ast.Between:
		c.negatable(x.X, x.Not, " BETWEEN ")
		c.expr(x.Lo)
		c.w(" AND ")
		c.expr(x.Hi)
		c.w(")")
	case *ast.In:
		c.negatable(x.X, x.Not, " IN (")
		if x.Query != nil {
			c.query(x.Query, false)
		} else {
			c.exprs(x.List)
		}
		c.w("))")
	case *ast.IsNull:
		c.w("(")
		c.expr(x.X)
		if x.Not {
			c.w(" IS NOT NULL)")
		} else {
			c.w(" IS NULL)")
		}
	case *ast.Exists:
		c.w("EXISTS (")
		c.query(x.Query, false)
		c.w(")")
	case *ast.Subquery:
		c.w("(")
		c.query(x.Query, false)
		c.w(")")
	case *ast.Quantified:
		c.w("(")
		c.expr(x.X)
		q := strings.ToUpper(x.Quantifier)
		if q == "SOME" {
			q = "ANY"
		}
		c.w(" ", x.Op, " ", q, " (")
		c.query(x.Query, false)
		c.w("))")
	case *ast.Case:
		c.w("CASE")
		if x.Operand != nil {
			c.w(" ")
			c.expr(x.Operand)
		}
		for _, wh := range x.Whens {
			if b, ok := wh.Cond.(*ast.Binary); ok && b.L == nil {
				c.unsupported(wh.Position(), "a comparison in a simple CASE's WHEN")
			}
			c.w(" WHEN ")
			c.expr(wh.Cond)
			c.w(" THEN ")
			c.expr(wh.Result)
		}
		if x.Else != nil {
			c.w(" ELSE ")
			c.expr(x.Else)
		}
		c.w(" END")
	case *ast.Cast:
		if x.Try {
			c.w("TRY_CAST(")
		} else {
			c.w("CAST(")
		}
		c.expr(x.X)
		c.w(" AS ", c.typeName(x.Typ), ")")
	case *ast.Call:
		c.call(x)
	case *ast.Lambda:
		if len(x.Params) == 1 {
			c.w(quote(x.Params[0].Norm()))
		} else {
			c.identList(x.Params)
		}
		c.w(" -> ")
		c.expr(x.Body)
	case *ast.Subscript:
		c.w("(")
		c.expr(x.X)
		c.w(")[")
		c.expr(x.Index)
		c.w("]")
	case *ast.Dereference:
		c.w("(")
		c.expr(x.X)
		c.w(").", quote(x.Field.Norm()))
	case *ast.Array:
		c.w("[")
		c.exprs(x.Elems)
		c.w("]")
	case *ast.Row:
		if x.Names == nil {
			c.w("row(")
			c.exprs(x.Elems)
			c.w(")")
			return
		}
		c.w("struct_pack(")
		for i, e := range x.Elems {
			if i > 0 {
				c.w(", ")
			}
			name := "field" + strconv.Itoa(i)
			if x.Names[i] != nil {
				name = x.Names[i].Norm()
			}
			c.w(quote(name), " := ")
			c.expr(e)
		}
		c.w(")")
	case *ast.AtTimeZone:
		if x.Zone == nil {
			c.unsupported(x.Position(), "AT LOCAL")
			return
		}
		c.w("(")
		c.expr(x.X)
		c.w(" AT TIME ZONE ")
		c.expr(x.Zone)
		c.w(")")
	case *ast.Current:
		c.current(x)
	case *ast.JSONFunc:
		c.unsupported(x.Position(), x.Name)
	default:
		c.unsupported(x.Position(), fmt.Sprintf("expression %T", x))
	}
}

func (c *compiler) binary(x *ast.Binary) {
	if x.L == nil {
		c.unsupported(x.Position(), "a comparison in a simple CASE's WHEN")
		return
	}
	op := strings.ToUpper(x.Op)
	if op == "+" || op == "-" {
		// Trino keeps a date a date when an interval of days, months or
		// years is added; DuckDB makes a timestamp.
		if d, ok := foldDate(x); ok {
			c.w("DATE ", literal(d))
			return
		}
		if iv, ok := x.R.(*ast.Literal); ok && iv.Kind == ast.LitInterval && dateUnit(iv.Type) && c.isDate(x.L) {
			c.w("CAST((")
			c.expr(x.L)
			c.w(" ", op, " ")
			c.expr(x.R)
			c.w(") AS DATE)")
			return
		}
	}
	c.w("(")
	c.expr(x.L)
	c.w(" ", op, " ")
	c.expr(x.R)
	c.w(")")
}

// dateUnit reports whether an interval literal of these fields keeps a date
// a date when added.
func dateUnit(fields string) bool {
	switch fields {
	case "YEAR", "MONTH", "WEEK", "DAY", "YEAR TO MONTH":
		return true
	}
	return false
}

// isDate reports whether x is known to be of type date.
func (c *compiler) isDate(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.Literal:
		return x.Kind == ast.LitTyped && x.Type == "date"
	case *ast.Cast:
		return x.Typ != nil && x.Typ.Name == "date"
	case *ast.Name:
		return c.columnType(x) == "date"
	case *ast.Call:
		return x.FuncName() == "date" || x.FuncName() == "current_date"
	case *ast.Current:
		return x.Name == "CURRENT_DATE"
	case *ast.Binary:
		_, ok := foldDate(x)
		return ok
	}
	return false
}

// foldDate computes DATE 'd' ± INTERVAL 'n' unit, as Trino does (a date,
// month ends clamped).
func foldDate(x *ast.Binary) (string, bool) {
	var base time.Time
	switch l := x.L.(type) {
	case *ast.Literal:
		if l.Kind != ast.LitTyped || l.Type != "date" {
			return "", false
		}
		t, err := time.Parse("2006-01-02", strings.TrimSpace(l.Value))
		if err != nil {
			return "", false
		}
		base = t
	case *ast.Binary:
		d, ok := foldDate(l)
		if !ok {
			return "", false
		}
		base, _ = time.Parse("2006-01-02", d)
	default:
		return "", false
	}
	iv, ok := x.R.(*ast.Literal)
	if !ok || iv.Kind != ast.LitInterval {
		return "", false
	}
	n, err := strconv.Atoi(strings.TrimSpace(iv.Value))
	if err != nil || n < -100000 || n > 100000 {
		return "", false
	}
	if iv.Neg {
		n = -n
	}
	if x.Op == "-" {
		n = -n
	} else if x.Op != "+" {
		return "", false
	}
	var out time.Time
	switch iv.Type {
	case "DAY":
		out = base.AddDate(0, 0, n)
	case "WEEK":
		out = base.AddDate(0, 0, 7*n)
	case "MONTH":
		out = addMonths(base, n)
	case "YEAR":
		out = addMonths(base, 12*n)
	default:
		return "", false
	}
	return out.Format("2006-01-02"), true
}

// addMonths adds months clamping the day to the month's end, as Trino
// (and Java's LocalDate) does: 2024-01-31 + 1 month = 2024-02-29.
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC)
}

func (c *compiler) lit(x *ast.Literal) {
	switch x.Kind {
	case ast.LitString:
		c.w(literal(x.Value))
	case ast.LitNumber:
		c.w(x.Value)
	case ast.LitBool:
		c.w(strings.ToUpper(x.Value))
	case ast.LitNull:
		c.w("NULL")
	case ast.LitBinary:
		c.w("from_hex(", literal(x.Value), ")")
	case ast.LitInterval:
		c.interval(x)
	case ast.LitTyped:
		c.typedLit(x)
	}
}

func (c *compiler) interval(x *ast.Literal) {
	v := strings.TrimSpace(x.Value)
	sign := ""
	if x.Neg {
		sign = "-"
	}
	switch x.Type {
	case "YEAR", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND":
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			c.failAt(trino.InvalidFunctionArg, x.Position(), "Invalid INTERVAL %s value: %s", x.Type, v)
			return
		}
		c.w("(", sign, "INTERVAL ", literal(v+" "+strings.ToLower(x.Type)), ")")
	case "YEAR TO MONTH":
		y, m, ok := strings.Cut(v, "-")
		yi, e1 := strconv.Atoi(y)
		mi, e2 := strconv.Atoi(m)
		if !ok || e1 != nil || e2 != nil {
			c.failAt(trino.InvalidFunctionArg, x.Position(), "Invalid INTERVAL YEAR TO MONTH value: %s", v)
			return
		}
		c.w("(", sign, "INTERVAL ", literal(fmt.Sprintf("%d years %d months", yi, mi)), ")")
	default:
		c.unsupported(x.Position(), "INTERVAL … "+x.Type)
	}
}

func (c *compiler) typedLit(x *ast.Literal) {
	v := x.Value
	switch x.Type {
	case "date", "time":
		c.w(strings.ToUpper(x.Type), " ", literal(v))
	case "timestamp":
		if hasZone(v) {
			c.w("TIMESTAMPTZ ", literal(v))
		} else {
			c.w("TIMESTAMP ", literal(v))
		}
	case "decimal":
		p, s, ok := decimalShape(v)
		if !ok {
			c.failAt(trino.InvalidCastArgument, x.Position(), "Cannot cast '%s' to DECIMAL", v)
			return
		}
		c.w(fmt.Sprintf("CAST(%s AS DECIMAL(%d,%d))", literal(strings.TrimSpace(v)), p, s))
	case "double", "real", "bigint", "integer", "smallint", "tinyint", "boolean", "uuid":
		c.w("CAST(", literal(v), " AS ", c.typeName(&ast.Type{Name: x.Type}), ")")
	case "varchar", "char":
		c.w(literal(v))
	default:
		c.unsupported(x.Position(), "a literal of type "+x.Type)
	}
}

// hasZone reports whether a timestamp literal names a zone or offset.
func hasZone(v string) bool {
	v = strings.TrimSpace(v)
	i := strings.LastIndexAny(v, " +-")
	if i < 0 {
		return false
	}
	tail := v[i+1:]
	if v[i] == ' ' {
		return tail != "" && (tail[0] < '0' || tail[0] > '9')
	}
	// +hh:mm or -hh:mm after the time part.
	return strings.Contains(v[:i], ":") && strings.Contains(tail, ":")
}

// decimalShape is the precision and scale Trino gives DECIMAL 'v'.
func decimalShape(v string) (int, int, bool) {
	v = strings.TrimLeft(strings.TrimSpace(v), "+-")
	intPart, frac, _ := strings.Cut(v, ".")
	if intPart == "" && frac == "" {
		return 0, 0, false
	}
	for _, r := range intPart + frac {
		if r < '0' || r > '9' {
			return 0, 0, false
		}
	}
	digits := len(strings.TrimLeft(intPart, "0")) + len(frac)
	if digits == 0 {
		digits = 1
	}
	if digits > 38 {
		return 0, 0, false
	}
	return digits, len(frac), true
}

func (c *compiler) current(x *ast.Current) {
	switch x.Name {
	case "CURRENT_DATE":
		c.w("current_date")
	case "CURRENT_TIMESTAMP":
		c.w("current_timestamp")
	case "LOCALTIMESTAMP":
		c.w("CAST(current_localtimestamp() AS TIMESTAMP)")
	case "CURRENT_TIME", "LOCALTIME":
		c.w("CAST(current_localtimestamp() AS TIME)")
	case "CURRENT_USER":
		c.w(literal(c.sess.User))
	case "CURRENT_CATALOG":
		c.nullableString(c.sess.Catalog)
	case "CURRENT_SCHEMA":
		c.nullableString(c.sess.Schema)
	default:
		c.unsupported(x.Position(), x.Name)
	}
}

func (c *compiler) nullableString(s string) {
	if s == "" {
		c.w("CAST(NULL AS VARCHAR)")
		return
	}
	c.w(literal(s))
}

// param prints the text of an EXECUTE … USING argument in place of a '?'.
func (c *compiler) param(x *ast.Param) {
	if c.inParam {
		c.failAt(trino.SyntaxError, x.Position(), "a parameter value cannot contain a parameter")
		return
	}
	i := x.Index - 1
	if i < 0 || i >= len(c.params) {
		c.failAt(trino.GenericUserError, x.Position(), "Incorrect number of parameters: %d given, parameter %d is used", len(c.params), x.Index)
		return
	}
	e, err := parseExpr(c.params[i])
	if err != nil {
		c.failAt(trino.SyntaxError, x.Position(), "parameter %d: %v", x.Index, err)
		return
	}
	c.inParam = true
	c.w("(")
	c.expr(e)
	c.w(")")
	c.inParam = false
}

// parseExpr parses one expression, the text of a parameter value.
func parseExpr(text string) (ast.Expr, error) {
	st, err := ast.Parser{MaxBytes: 64 << 10}.Parse("SELECT " + text)
	if err != nil {
		return nil, err
	}
	if qs, ok := st.(*ast.QueryStmt); ok && qs.Query.With == nil && qs.Query.OrderBy == nil && qs.Query.Limit == nil {
		if s, ok := qs.Query.Body.(*ast.Select); ok && len(s.Items) == 1 && s.From == nil && s.Where == nil && s.GroupBy == nil {
			if sc, ok := s.Items[0].(*ast.SingleColumn); ok && sc.Alias == nil {
				return sc.Expr, nil
			}
		}
	}
	return nil, fmt.Errorf("%q is not a single expression", text)
}

func (c *compiler) window(w *ast.Window) {
	c.w(" OVER ")
	if w.Ref != nil {
		c.w(quote(w.Ref.Norm()))
		return
	}
	c.w("(")
	c.windowSpec(w.Spec)
	c.w(")")
}

func (c *compiler) windowSpec(s *ast.WindowSpec) {
	if s == nil {
		return
	}
	if len(s.Measures) > 0 || len(s.Defines) > 0 {
		c.unsupported(s.Position(), "row pattern recognition in a window")
	}
	sep := ""
	if s.Existing != nil {
		c.w(quote(s.Existing.Norm()))
		sep = " "
	}
	if len(s.PartitionBy) > 0 {
		c.w(sep, "PARTITION BY ")
		c.exprs(s.PartitionBy)
		sep = " "
	}
	if len(s.OrderBy) > 0 {
		c.w(sep, "ORDER BY ")
		c.sortItems(s.OrderBy)
		sep = " "
	}
	if f := s.Frame; f != nil {
		c.w(sep, strings.ToUpper(f.Unit), " ")
		if f.End != nil {
			c.w("BETWEEN ")
		}
		c.frameBound(f.Start)
		if f.End != nil {
			c.w(" AND ")
			c.frameBound(f.End)
		}
	}
}

func (c *compiler) frameBound(b *ast.FrameBound) {
	if b == nil {
		return
	}
	if b.Value != nil {
		c.expr(b.Value)
		c.w(" ")
	}
	c.w(strings.ToUpper(b.Kind))
}
