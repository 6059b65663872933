package sql

// Inspect traverses the tree rooted at n in depth-first order, calling f for
// every node. If f returns false, Inspect skips that node's children. It
// reaches every expression, query and relation in the tree, including those
// inside opaque forms (JSON functions, table function arguments, MATCH_RECOGNIZE),
// so a caller looking for table references or subqueries misses none.
func Inspect(n Node, f func(Node) bool) {
	w := walker{f: f}
	w.node(n)
}

type walker struct{ f func(Node) bool }

func (w *walker) exprs(xs []Expr) {
	for _, x := range xs {
		w.node(x)
	}
}

func (w *walker) sorts(items []*SortItem) {
	for _, s := range items {
		w.node(s.Expr)
	}
}

func (w *walker) props(ps []*Property) {
	for _, p := range ps {
		w.node(p.Value)
	}
}

func (w *walker) spec(s *WindowSpec) {
	if s == nil {
		return
	}
	w.exprs(s.PartitionBy)
	w.sorts(s.OrderBy)
	if s.Frame != nil {
		for _, b := range []*FrameBound{s.Frame.Start, s.Frame.End} {
			if b != nil {
				w.node(b.Value)
			}
		}
	}
	for _, m := range s.Measures {
		w.node(m.Expr)
	}
	for _, m := range s.Defines {
		w.node(m.Expr)
	}
}

func (w *walker) query(q *Query) {
	if q != nil {
		w.node(q)
	}
}

func (w *walker) node(n Node) {
	if n == nil || isNilNode(n) || !w.f(n) {
		return
	}
	switch n := n.(type) {
	// Expressions.
	case *Name, *Literal, *Param, *Current, *Descriptor:
		if c, ok := n.(*Current); ok {
			w.node(c.Precision)
		}
	case *Unary:
		w.node(n.X)
	case *Binary:
		w.node(n.L)
		w.node(n.R)
	case *Like:
		w.node(n.X)
		w.node(n.Pattern)
		w.node(n.Escape)
	case *Between:
		w.node(n.X)
		w.node(n.Lo)
		w.node(n.Hi)
	case *In:
		w.node(n.X)
		w.exprs(n.List)
		w.query(n.Query)
	case *IsNull:
		w.node(n.X)
	case *Exists:
		w.query(n.Query)
	case *Subquery:
		w.query(n.Query)
	case *Quantified:
		w.node(n.X)
		w.query(n.Query)
	case *Case:
		w.node(n.Operand)
		for _, wh := range n.Whens {
			w.node(wh)
		}
		w.node(n.Else)
	case *When:
		w.node(n.Cond)
		w.node(n.Result)
	case *Cast:
		w.node(n.X)
	case *Call:
		w.node(n.Receiver)
		w.exprs(n.Args)
		w.sorts(n.OrderBy)
		w.node(n.Filter)
		if n.Over != nil {
			w.node(n.Over)
		}
	case *Window:
		if n.Spec != nil {
			w.node(n.Spec)
		}
	case *WindowSpec:
		w.spec(n)
	case *NamedArg:
		w.node(n.Value)
	case *Lambda:
		w.node(n.Body)
	case *Subscript:
		w.node(n.X)
		w.node(n.Index)
	case *Dereference:
		w.node(n.X)
	case *Array:
		w.exprs(n.Elems)
	case *Row:
		w.exprs(n.Elems)
	case *AtTimeZone:
		w.node(n.X)
		w.node(n.Zone)
	case *JSONFunc:
		w.exprs(n.Args)
	case *TableArg:
		w.node(n.Rel)
		w.exprs(n.PartitionBy)
		w.sorts(n.OrderBy)

	// Queries.
	case *Query:
		if n.With != nil {
			for _, c := range n.With.CTEs {
				w.node(c)
			}
			for _, fn := range n.With.Functions {
				w.node(fn)
			}
			w.props(n.With.Session)
		}
		w.node(n.Body)
		w.sorts(n.OrderBy)
		w.node(n.Offset)
		w.node(n.Limit)
		w.node(n.Fetch)
	case *CTE:
		w.query(n.Query)
	case *Function:
		w.exprs(n.Body)
	case *Select:
		for _, it := range n.Items {
			w.node(it)
		}
		for _, r := range n.From {
			w.node(r)
		}
		w.node(n.Where)
		if n.GroupBy != nil {
			for _, g := range n.GroupBy.Elements {
				for _, set := range g.Sets {
					w.exprs(set)
				}
			}
		}
		w.node(n.Having)
		for _, d := range n.Windows {
			w.node(d.Spec)
		}
	case *SingleColumn:
		w.node(n.Expr)
	case *AllColumns:
		w.node(n.Prefix)
	case *SetOp:
		w.node(n.Left)
		w.node(n.Right)
	case *Values:
		w.exprs(n.Rows)
	case *TableQuery:
	case *ParenQuery:
		w.query(n.Query)

	// Relations.
	case *Table:
		w.node(n.AsOf)
	case *Aliased:
		w.node(n.Rel)
	case *Sampled:
		w.node(n.Rel)
		w.node(n.Percent)
	case *Join:
		w.node(n.Left)
		w.node(n.Right)
		w.node(n.On)
	case *SubqueryRel:
		w.query(n.Query)
	case *Unnest:
		w.exprs(n.Exprs)
	case *TableFunction:
		w.exprs(n.Args)
	case *JSONTable:
		w.exprs(n.Args)
	case *MatchRecognize:
		w.node(n.Rel)
		w.node(n.Spec)
	case *Nearest:
		w.node(n.Rel)
		w.node(n.Where)
		w.node(n.Match)

	// Statements.
	case *QueryStmt:
		w.query(n.Query)
	case *Insert:
		w.query(n.Query)
	case *CreateTableAs:
		w.props(n.Props)
		w.query(n.Query)
	case *CreateTable:
		w.props(n.Props)
		for _, c := range n.Columns {
			w.column(c)
		}
	case *CreateView:
		w.props(n.Props)
		w.node(n.Grace)
		w.query(n.Query)
	case *Delete:
		w.node(n.Where)
	case *Update:
		for _, s := range n.Sets {
			w.node(s.Value)
		}
		w.node(n.Where)
	case *Merge:
		w.node(n.Source)
		w.node(n.On)
		for _, c := range n.Cases {
			w.node(c.Cond)
			for _, s := range c.Sets {
				w.node(s.Value)
			}
			w.exprs(c.Values)
		}
	case *Truncate, *Execute, *Deallocate, *Describe, *Use, *ResetSession, *Privilege, *Transaction:
		if e, ok := n.(*Execute); ok {
			w.exprs(e.Using)
		}
	case *Explain:
		w.node(n.Stmt)
	case *Prepare:
		w.node(n.Stmt)
	case *ExecuteImmediate:
		w.node(n.SQL)
		w.exprs(n.Using)
	case *DescribeIO:
		w.query(n.Query)
	case *Show:
		w.query(n.Query)
		w.node(n.Like)
		w.node(n.Escape)
	case *SetSession:
		w.node(n.Value)
	case *CallStmt:
		w.exprs(n.Args)
	case *Comment:
		w.node(n.Text)
	case *Analyze:
		w.props(n.Props)
	case *TableExecute:
		w.exprs(n.Args)
		w.node(n.Where)
	case *DDL:
		w.exprs(n.Exprs)
		w.props(n.Props)
		if n.Column != nil {
			w.column(n.Column)
		}
		if n.Function != nil {
			w.node(n.Function)
		}
	}
}

func (w *walker) column(c *ColumnDef) {
	w.node(c.Default)
	w.props(c.Props)
}

// isNilNode reports a typed nil stored in an interface (a nil *Query passed as Node).
func isNilNode(n Node) bool {
	switch n := n.(type) {
	case *Query:
		return n == nil
	case *WindowSpec:
		return n == nil
	case *Window:
		return n == nil
	case *Function:
		return n == nil
	case *When:
		return n == nil
	}
	return false
}
