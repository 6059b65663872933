package planner

import (
	"strings"

	"github.com/meridian-lake/meridian/planner/sql"
)

// maxUnwrap bounds EXECUTE IMMEDIATE nested in EXECUTE IMMEDIATE.
const maxUnwrap = 4

// statement analyses stmt into a and returns its kind.
func (an *analyzer) statement(a *Analysis, stmt sql.Statement) {
	a.Kind = statementKind(stmt)
	top := &scope{}
	switch s := stmt.(type) {
	case *sql.QueryStmt:
		a.Output = outputColumns(an.query(s.Query, top, nil))
	case *sql.Insert:
		an.addTable(s.Table, Write)
		a.Output = outputColumns(an.query(s.Query, top, nil))
	case *sql.CreateTableAs:
		an.addTable(s.Name, Write)
		an.properties(s.Props)
		a.Output = outputColumns(renameColumns(an.query(s.Query, top, nil), s.Columns))
	case *sql.CreateTable:
		an.addTable(s.Name, DDL)
		for _, like := range s.Likes {
			an.addTable(like, Meta)
		}
		an.properties(s.Props)
		for _, c := range s.Columns {
			an.expr(c.Default, top, nil)
		}
	case *sql.CreateView:
		an.addTable(s.Name, DDL)
		an.properties(s.Props)
		a.Output = outputColumns(an.query(s.Query, top, nil))
	case *sql.Delete:
		blk := an.target(s.Table, nil)
		an.expr(s.Where, blk, nil)
		an.predicates(s.Where, blk)
	case *sql.Update:
		blk := an.target(s.Table, nil)
		for _, set := range s.Sets {
			an.expr(set.Value, blk, nil)
		}
		an.expr(s.Where, blk, nil)
		an.predicates(s.Where, blk)
	case *sql.Merge:
		blk := an.target(s.Target, s.Alias)
		an.relation(s.Source, blk, nil)
		an.expr(s.On, blk, nil)
		for _, c := range s.Cases {
			an.expr(c.Cond, blk, nil)
			for _, set := range c.Sets {
				an.expr(set.Value, blk, nil)
			}
			for _, v := range c.Values {
				an.expr(v, blk, nil)
			}
		}
	case *sql.Truncate:
		an.addTable(s.Table, Write)
	case *sql.TableExecute:
		blk := an.target(s.Table, nil)
		for _, arg := range s.Args {
			an.expr(arg, blk, nil)
		}
		an.expr(s.Where, blk, nil)
		an.predicates(s.Where, blk)
	case *sql.Explain:
		inner := &Analysis{}
		an.statement(inner, s.Stmt)
		a.Inner, a.Output = inner.Kind, inner.Output
	case *sql.Prepare:
		inner := &Analysis{}
		an.statement(inner, s.Stmt)
		a.Inner, a.Output = inner.Kind, inner.Output
	case *sql.Execute:
		for _, x := range s.Using {
			an.expr(x, top, nil)
		}
		text, ok := an.prepared(s.Name)
		if !ok {
			an.addOpaque("EXECUTE " + s.Name.Norm() + " runs a prepared statement whose text is not in this statement; send the prepared statement header so it can be checked")
			return
		}
		an.unwrap(a, text, "EXECUTE of a prepared statement")
	case *sql.ExecuteImmediate:
		an.executeImmediate(a, s)
	case *sql.Describe:
		an.addTable(s.Table, Meta)
	case *sql.DescribeIO:
		if s.Query != nil {
			a.Output = outputColumns(an.query(s.Query, top, nil))
		} else {
			an.addOpaque("DESCRIBE " + strings.ToUpper(a.Kind[len("describe_"):]) + " " + s.Name.Norm() +
				" describes a prepared statement whose text is not in this statement; send the prepared statement header so it can be checked")
		}
	case *sql.Show:
		switch {
		case s.Query != nil:
			an.query(s.Query, top, nil)
		case s.What == "STATS":
			// Column statistics reveal minimum and maximum values: a read of all columns.
			an.addColumn(an.addTable(s.Target, Read).table, "*")
		case s.Table:
			an.addTable(s.Target, Meta)
		}
	case *sql.CallStmt:
		an.addOpaque("CALL " + s.Name.String() + ": procedures may name tables in string arguments")
		for _, x := range s.Args {
			an.expr(x, top, nil)
		}
	case *sql.Privilege:
		if s.On == "TABLE" || s.On == "BRANCH" {
			an.addTable(s.Object, DDL)
		}
	case *sql.Comment:
		name := s.Name
		if s.On == "COLUMN" && len(name.Parts) > 1 {
			name = &sql.QualifiedName{Parts: name.Parts[:len(name.Parts)-1]}
		}
		if s.On != "COLUMN" || len(s.Name.Parts) > 1 {
			an.addTable(name, DDL)
		}
	case *sql.Analyze:
		an.addTable(s.Table, DDL)
		an.properties(s.Props)
	case *sql.DDL:
		switch s.Object {
		case "table", "view", "materialized_view":
			an.addTable(s.Name, DDL)
			if s.NewName != nil {
				an.addTable(s.NewName, DDL)
			}
		}
		an.properties(s.Props)
		for _, x := range s.Exprs {
			an.expr(x, top, nil)
		}
		if s.Column != nil {
			an.expr(s.Column.Default, top, nil)
		}
		if s.Function != nil {
			for _, x := range s.Function.Body {
				an.expr(x, top, nil)
			}
		}
	case *sql.SetSession:
		an.expr(s.Value, top, nil)
	}
}

// target records the table a DELETE, UPDATE, MERGE or ALTER TABLE EXECUTE
// writes, and returns a scope in which its columns can be referenced.
func (an *analyzer) target(q *sql.QualifiedName, alias *sql.Ident) *scope {
	src := an.addTable(q, Write)
	if alias != nil {
		src.names = [][]string{{alias.Norm()}}
	}
	return &scope{sources: []*source{src}}
}

func (an *analyzer) properties(props []*sql.Property) {
	for _, p := range props {
		an.expr(p.Value, &scope{}, nil)
	}
}

func (an *analyzer) executeImmediate(a *Analysis, s *sql.ExecuteImmediate) {
	for _, x := range s.Using {
		an.expr(x, &scope{}, nil)
	}
	lit, ok := s.SQL.(*sql.Literal)
	if !ok || lit.Kind != sql.LitString {
		an.addOpaque("EXECUTE IMMEDIATE of an expression: the statement it runs is not in the text")
		return
	}
	an.unwrap(a, lit.Value, "EXECUTE IMMEDIATE")
}

// prepared returns the text of the prepared statement name, as the client
// sent it in X-Trino-Prepared-Statement (names compare case-insensitively
// unless quoted, as Trino's do).
func (an *analyzer) prepared(name *sql.Ident) (string, bool) {
	if text, ok := an.opts.Prepared[name.Name]; ok {
		return text, true
	}
	for k, text := range an.opts.Prepared {
		if !name.Quoted && strings.EqualFold(k, name.Name) {
			return text, true
		}
	}
	return "", false
}

// unwrap analyses text, which the statement runs (EXECUTE IMMEDIATE,
// EXECUTE of a prepared statement), as part of a.
func (an *analyzer) unwrap(a *Analysis, text, what string) {
	if an.depth >= maxUnwrap {
		an.addOpaque(what + " nested too deeply to check")
		return
	}
	an.depth++
	defer func() { an.depth-- }()
	inner, err := an.opts.Parser.Parse(text)
	if err != nil {
		// What would run cannot be parsed: read it conservatively.
		an.mode = ModeConservative
		c := Conservative(text, an.session)
		for _, t := range c.Tables {
			an.tables[tableKey{t.Name, t.Access}] = t
			an.addColumn(t.Name, "*")
		}
		a.Inner = c.Kind
		return
	}
	in := &Analysis{}
	an.statement(in, inner)
	a.Inner, a.Output = in.Kind, in.Output
}

// statementKind names a statement's kind in snake case.
func statementKind(stmt sql.Statement) string {
	switch s := stmt.(type) {
	case *sql.QueryStmt:
		return "select"
	case *sql.Insert:
		return "insert"
	case *sql.CreateTableAs:
		return "create_table_as"
	case *sql.CreateTable:
		return "create_table"
	case *sql.CreateView:
		if s.Materialized {
			return "create_materialized_view"
		}
		return "create_view"
	case *sql.Delete:
		return "delete"
	case *sql.Update:
		return "update"
	case *sql.Merge:
		return "merge"
	case *sql.Truncate:
		return "truncate"
	case *sql.TableExecute:
		return "alter_table_execute"
	case *sql.Explain:
		if s.Analyze {
			return "explain_analyze"
		}
		return "explain"
	case *sql.Prepare:
		return "prepare"
	case *sql.Execute:
		return "execute"
	case *sql.ExecuteImmediate:
		return "execute_immediate"
	case *sql.Deallocate:
		return "deallocate"
	case *sql.Describe:
		return "describe"
	case *sql.DescribeIO:
		if s.Output {
			return "describe_output"
		}
		return "describe_input"
	case *sql.Show:
		return "show_" + strings.ReplaceAll(strings.ToLower(s.What), " ", "_")
	case *sql.Use:
		return "use"
	case *sql.SetSession:
		return "set_session"
	case *sql.ResetSession:
		return "reset_session"
	case *sql.CallStmt:
		return "call"
	case *sql.Privilege:
		return strings.ToLower(s.Verb)
	case *sql.Comment:
		return "comment"
	case *sql.Analyze:
		return "analyze"
	case *sql.Transaction:
		if s.Verb == "START" {
			return "start_transaction"
		}
		return strings.ToLower(s.Verb)
	case *sql.DDL:
		return s.Kind
	}
	return "unknown"
}
