package planner

import (
	"strconv"

	"github.com/meridian-lake/meridian/planner/sql"
)

// query analyses q in the enclosing scope outer and returns its columns.
func (an *analyzer) query(q *sql.Query, outer *scope, ctes *cteScope) []column {
	if q.With != nil {
		ctes = an.with(q.With, outer, ctes)
	}
	cols, blk := an.body(q.Body, outer, ctes)
	if len(q.OrderBy) > 0 {
		if blk == nil {
			blk = &scope{parent: outer}
		}
		blk.aliases = make(map[string]lineage, len(cols))
		for _, c := range cols {
			blk.aliases[c.name] = c.lin
		}
		for _, it := range q.OrderBy {
			an.orderItem(it.Expr, blk, ctes)
		}
	}
	an.expr(q.Offset, outer, ctes)
	an.expr(q.Limit, outer, ctes)
	an.expr(q.Fetch, outer, ctes)
	return cols
}

// orderItem resolves an ORDER BY item: output names first, then input columns.
func (an *analyzer) orderItem(x sql.Expr, blk *scope, ctes *cteScope) {
	if n, ok := x.(*sql.Name); ok && len(n.Parts) == 1 {
		if _, ok := blk.aliases[n.Parts[0].Norm()]; ok {
			return
		}
	}
	an.read(x, blk, ctes)
}

func (an *analyzer) with(w *sql.With, outer *scope, ctes *cteScope) *cteScope {
	for _, p := range w.Session {
		an.expr(p.Value, outer, ctes)
	}
	for _, f := range w.Functions {
		for _, x := range f.Body {
			an.expr(x, &scope{parent: outer}, ctes)
		}
	}
	if len(w.CTEs) == 0 {
		return ctes
	}
	inner := &cteScope{parent: ctes, defs: map[string]*source{}}
	for _, c := range w.CTEs {
		name := c.Name.Norm()
		if w.Recursive {
			// The recursive reference sees the declared columns.
			self := &source{names: [][]string{{name}}}
			for _, id := range c.Columns {
				self.cols = append(self.cols, column{name: id.Norm()})
			}
			if len(self.cols) == 0 {
				self.any = &lineage{}
			}
			inner.defs[name] = self
		}
		cols := an.query(c.Query, outer, inner)
		def := &source{names: [][]string{{name}}, cols: renameColumns(cols, c.Columns)}
		if w.Recursive {
			// Rows of later iterations come from the recursive part too.
			*inner.defs[name] = *def
		} else {
			inner.defs[name] = def
		}
	}
	return inner
}

func renameColumns(cols []column, names []*sql.Ident) []column {
	out := append([]column(nil), cols...)
	for i, id := range names {
		if i < len(out) {
			out[i].name = id.Norm()
		} else {
			out = append(out, column{name: id.Norm()})
		}
	}
	return out
}

// body analyses a query body; for a SELECT it also returns the block scope,
// which ORDER BY may refer to.
func (an *analyzer) body(b sql.QueryBody, outer *scope, ctes *cteScope) ([]column, *scope) {
	switch b := b.(type) {
	case *sql.Select:
		return an.selectBlock(b, outer, ctes)
	case *sql.SetOp:
		left, _ := an.body(b.Left, outer, ctes)
		right, _ := an.body(b.Right, outer, ctes)
		out := append([]column(nil), left...)
		for i := range out {
			if i < len(right) {
				out[i].lin.add(right[i].lin)
			}
		}
		return out, nil
	case *sql.Values:
		var out []column
		for _, row := range b.Rows {
			elems := []sql.Expr{row}
			if r, ok := row.(*sql.Row); ok {
				elems = r.Elems
			}
			for i, e := range elems {
				l := an.expr(e, outer, ctes)
				if i >= len(out) {
					out = append(out, column{name: "_col" + strconv.Itoa(i)})
				}
				out[i].lin.add(l)
			}
		}
		return out, nil
	case *sql.TableQuery:
		blk := &scope{parent: outer}
		src := an.namedRelation(b.Name, nil, ctes)
		blk.sources = append(blk.sources, src)
		return an.starColumns(src), blk
	case *sql.ParenQuery:
		return an.query(b.Query, outer, ctes), nil
	}
	return nil, nil
}

func (an *analyzer) selectBlock(s *sql.Select, outer *scope, ctes *cteScope) ([]column, *scope) {
	blk := &scope{parent: outer}
	for _, r := range s.From {
		an.relation(r, blk, ctes)
	}
	an.read(s.Where, blk, ctes)
	an.predicates(s.Where, blk)
	var ordinals []int
	if s.GroupBy != nil {
		for _, g := range s.GroupBy.Elements {
			for _, set := range g.Sets {
				for _, x := range set {
					if lit, ok := x.(*sql.Literal); ok && lit.Kind == sql.LitNumber {
						if n, err := strconv.Atoi(lit.Value); err == nil {
							ordinals = append(ordinals, n) // names an output column
						}
						continue
					}
					an.groupKey(an.expr(x, blk, ctes))
				}
			}
		}
	}
	an.read(s.Having, blk, ctes)
	for _, d := range s.Windows {
		an.windowSpec(d.Spec, blk, ctes)
	}
	var cols []column
	for i, item := range s.Items {
		switch it := item.(type) {
		case *sql.SingleColumn:
			l := an.expr(it.Expr, blk, ctes)
			cols = append(cols, column{name: outputName(it, i), lin: l})
		case *sql.AllColumns:
			cols = append(cols, an.allColumns(it, blk, ctes)...)
		}
	}
	for _, n := range ordinals {
		if n >= 1 && n <= len(cols) {
			an.groupKey(cols[n-1].lin)
		}
	}
	if s.GroupBy != nil && s.GroupBy.Auto {
		// GROUP BY AUTO groups by every output column that is not an aggregate.
		for _, c := range cols {
			if !c.lin.hasAgg {
				an.groupKey(c.lin)
			}
		}
	}
	return cols, blk
}

// groupKey records the base columns of a grouping key.
func (an *analyzer) groupKey(l lineage) {
	for _, r := range l.raw {
		an.groupBy[r.String()] = true
	}
}

func outputName(it *sql.SingleColumn, i int) string {
	if it.Alias != nil {
		return it.Alias.Norm()
	}
	switch x := it.Expr.(type) {
	case *sql.Name:
		return x.Parts[len(x.Parts)-1].Norm()
	case *sql.Dereference:
		return x.Field.Norm()
	}
	return "_col" + strconv.Itoa(i)
}

func (an *analyzer) allColumns(it *sql.AllColumns, blk *scope, ctes *cteScope) []column {
	var cols []column
	if it.Prefix == nil {
		for _, src := range blk.sources {
			cols = append(cols, an.starColumns(src)...)
		}
		return cols
	}
	if n, ok := it.Prefix.(*sql.Name); ok {
		qual := make([]string, len(n.Parts))
		for i, p := range n.Parts {
			qual[i] = p.Norm()
		}
		for s := blk; s != nil; s = s.parent {
			for _, src := range s.sources {
				if src.matches(qual) {
					cols = an.starColumns(src)
					return renameColumns(cols, it.Aliases)
				}
			}
		}
	}
	// (row expression).*: the fields of a row value.
	l := an.expr(it.Prefix, blk, ctes)
	cols = []column{{name: "*", lin: l}}
	return renameColumns(cols, it.Aliases)
}

// relation analyses a FROM item, appending the relations it introduces to blk.
// Relations already in blk are visible to lateral references (UNNEST,
// LATERAL, table function arguments).
func (an *analyzer) relation(r sql.Relation, blk *scope, ctes *cteScope) {
	switch r := r.(type) {
	case *sql.Table:
		an.expr(r.AsOf, blk, ctes)
		blk.sources = append(blk.sources, an.namedRelation(r.Name, r.Branch, ctes))
	case *sql.Aliased:
		start := len(blk.sources)
		an.relation(r.Rel, blk, ctes)
		added := blk.sources[start:]
		var src *source
		if len(added) == 1 && len(r.Columns) == 0 {
			// Keep the relation (a base table stays a base table), renamed.
			cp := *added[0]
			src = &cp
		} else {
			src = &source{}
			if len(added) == 1 && added[0].table == "" {
				src.cols, src.stars, src.any = added[0].cols, added[0].stars, added[0].any
			} else {
				src.stars = append([]*source(nil), added...)
			}
			if len(r.Columns) > 0 {
				src.cols = renameColumns(an.positional(src, len(r.Columns)), r.Columns)
				src.stars, src.any = nil, nil
			}
		}
		src.names = [][]string{{r.Alias.Norm()}}
		blk.sources = append(blk.sources[:start], src)
	case *sql.Sampled:
		an.relation(r.Rel, blk, ctes)
		an.expr(r.Percent, blk, ctes)
	case *sql.Join:
		start := len(blk.sources)
		an.relation(r.Left, blk, ctes)
		mid := len(blk.sources)
		an.relation(r.Right, blk, ctes)
		an.read(r.On, blk, ctes)
		an.predicates(r.On, blk)
		// USING (c) names c on both sides: not ambiguous, both.
		left := &scope{sources: blk.sources[start:mid]}
		right := &scope{sources: blk.sources[mid:]}
		for _, id := range r.Using {
			an.unqualified(left, id.Norm())
			an.unqualified(right, id.Norm())
		}
	case *sql.SubqueryRel:
		outer := blk.parent
		if r.Lateral {
			outer = blk
		}
		cols := an.query(r.Query, outer, ctes)
		blk.sources = append(blk.sources, &source{cols: cols})
	case *sql.Unnest:
		var l lineage
		for _, x := range r.Exprs {
			l.add(an.expr(x, blk, ctes))
		}
		blk.sources = append(blk.sources, &source{any: &l})
	case *sql.TableFunction:
		blk.sources = append(blk.sources, an.tableFunction(r, blk, ctes))
	case *sql.JSONTable:
		var l lineage
		for _, x := range r.Args {
			l.add(an.expr(x, blk, ctes))
		}
		blk.sources = append(blk.sources, &source{any: &l})
	case *sql.MatchRecognize:
		start := len(blk.sources)
		an.relation(r.Rel, blk, ctes)
		input := append([]*source(nil), blk.sources[start:]...)
		ps := &scope{parent: blk.parent, sources: input, pattern: true}
		l := an.windowSpec(r.Spec, ps, ctes)
		blk.sources = append(blk.sources[:start], &source{stars: input, any: &l})
	case *sql.Nearest:
		an.relation(r.Rel, blk, ctes)
		an.expr(r.Where, blk, ctes)
		an.expr(r.Match, blk, ctes)
	}
}

// positional returns n columns of src in order, for column aliases
// (t(a, b)). Where the columns are not known, each stands for all of src.
func (an *analyzer) positional(src *source, n int) []column {
	cols := an.starColumns(src)
	if len(cols) >= n && !hasStar(cols) {
		return cols[:n]
	}
	var all lineage
	for _, c := range cols {
		all.add(c.lin)
	}
	out := make([]column, n)
	for i := range out {
		out[i].lin = all
	}
	return out
}

func hasStar(cols []column) bool {
	for _, c := range cols {
		if c.name == "*" {
			return true
		}
	}
	return false
}

// namedRelation is a table reference: a CTE when the name is unqualified and
// a CTE of that name is in scope, a base table otherwise.
func (an *analyzer) namedRelation(q *sql.QualifiedName, branch *sql.Ident, ctes *cteScope) *source {
	if len(q.Parts) == 1 && branch == nil {
		if def := ctes.lookup(q.Parts[0].Norm()); def != nil {
			cp := *def
			return &cp
		}
	}
	return an.addTable(q, Read)
}

// Table functions whose tables are all in their TABLE(…) arguments.
var knownTableFunctions = map[string]bool{
	"sequence": true, "exclude_columns": true,
	"system.sequence": true, "system.exclude_columns": true,
	"system.builtin.sequence": true, "system.builtin.exclude_columns": true,
}

func (an *analyzer) tableFunction(f *sql.TableFunction, blk *scope, ctes *cteScope) *source {
	name := f.Name.String()
	last := f.Name.Parts[len(f.Name.Parts)-1].Norm()
	switch {
	case knownTableFunctions[name]:
	case last == "query" || last == "raw_query":
		an.addOpaque("pass-through table function " + name + ": the remote query's tables are inside a string")
	case last == "table_changes":
		an.addOpaque("table function " + name + " names its table in string arguments")
	default:
		an.addOpaque("table function " + name + " may read tables the statement does not name")
	}
	out := &source{any: &lineage{}}
	for _, arg := range f.Args {
		if na, ok := arg.(*sql.NamedArg); ok {
			arg = na.Value
		}
		switch a := arg.(type) {
		case *sql.TableArg:
			// A table argument is its own relation, in the enclosing scope.
			inner := &scope{parent: blk}
			an.relation(a.Rel, inner, ctes)
			for _, x := range a.PartitionBy {
				an.expr(x, inner, ctes)
			}
			for _, s := range a.OrderBy {
				an.expr(s.Expr, inner, ctes)
			}
			out.stars = append(out.stars, inner.sources...)
		case *sql.Descriptor:
		default:
			out.any.add(an.expr(arg, blk, ctes))
		}
	}
	return out
}

// windowSpec analyses a window or pattern specification; the returned lineage
// is that of its measures.
func (an *analyzer) windowSpec(w *sql.WindowSpec, sc *scope, ctes *cteScope) lineage {
	if w == nil {
		return lineage{}
	}
	if len(w.Measures) > 0 || len(w.Defines) > 0 {
		sc = &scope{parent: sc, pattern: true}
	}
	for _, x := range w.PartitionBy {
		an.read(x, sc, ctes)
	}
	for _, s := range w.OrderBy {
		an.read(s.Expr, sc, ctes)
	}
	if w.Frame != nil {
		for _, b := range []*sql.FrameBound{w.Frame.Start, w.Frame.End} {
			if b != nil {
				an.read(b.Value, sc, ctes)
			}
		}
	}
	var l lineage
	for _, m := range w.Measures {
		l.add(an.expr(m.Expr, sc, ctes))
	}
	for _, d := range w.Defines {
		an.read(d.Expr, sc, ctes)
	}
	return l
}

// outputColumns turns analysed columns into the public form.
func outputColumns(cols []column) []OutputColumn {
	out := make([]OutputColumn, 0, len(cols))
	for _, c := range cols {
		out = append(out, OutputColumn{
			Name:       c.name,
			Aggregated: c.lin.hasAgg && len(c.lin.raw) == 0,
			Raw:        refStrings(c.lin.raw),
		})
	}
	return out
}
