package planner

import (
	"strings"

	"github.com/meridian-lake/meridian/planner/sql"
)

// reducingAggregates turn many values into one that does not reproduce any
// input value, so their output is no raw column.
var reducingAggregates = setOf(`count count_if sum avg approx_distinct approx_percentile
	approx_set bool_and bool_or every bitwise_and_agg bitwise_or_agg bitwise_xor_agg checksum
	corr covar_pop covar_samp geometric_mean kurtosis skewness stddev stddev_pop stddev_samp
	variance var_pop var_samp regr_intercept regr_slope entropy numeric_histogram qdigest_agg
	tdigest_agg make_set_digest merge_set_digest khyperloglog_agg merge reduce_agg
	classification_miss_rate classification_fall_out classification_precision
	classification_recall classification_thresholds evaluate_classifier_predictions`)

// valueAggregates are aggregates whose result is (or contains) input values:
// min, max, arbitrary, array_agg… Their output counts as raw.
var valueAggregates = setOf(`min max min_by max_by arbitrary any_value array_agg map_agg
	multimap_agg histogram listagg set_agg set_union map_union approx_most_frequent
	convex_hull_agg geometry_union_agg spatial_partitioning learn_classifier learn_regressor`)

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// read analyses an expression whose value does not reach the output (WHERE,
// ON, HAVING, ORDER BY, window specifications): the columns it reads are
// recorded, but no lineage is built.
func (an *analyzer) read(x sql.Expr, sc *scope, ctes *cteScope) {
	an.discard++
	an.expr(x, sc, ctes)
	an.discard--
}

// merge adds o to l unless the lineage is being discarded.
func (an *analyzer) merge(l *lineage, o lineage) {
	if an.discard == 0 {
		l.add(o)
	}
}

// expr analyses an expression: it records the columns read and returns the
// lineage of its value.
func (an *analyzer) expr(x sql.Expr, sc *scope, ctes *cteScope) lineage {
	switch n := x.(type) {
	case nil:
		return lineage{}
	case *sql.Name:
		parts := make([]string, len(n.Parts))
		for i, p := range n.Parts {
			parts[i] = p.Norm()
		}
		return an.resolveName(sc, parts)
	case *sql.Literal, *sql.Param, *sql.Descriptor:
		return lineage{}
	case *sql.Call:
		return an.call(n, sc, ctes)
	case *sql.Lambda:
		inner := &scope{parent: sc, lambda: map[string]bool{}}
		for _, p := range n.Params {
			inner.lambda[p.Norm()] = true
		}
		l := an.expr(n.Body, inner, ctes)
		l.isDirect = false
		return l
	case *sql.Subquery:
		cols, outer := an.correlated(n.Query, sc, ctes)
		l := outer
		for _, c := range cols {
			an.merge(&l, c.lin)
		}
		return l
	case *sql.Exists:
		// Whether rows exist is a fact about many rows, an aggregate, but a
		// correlated EXISTS is also a per-row function of the outer columns.
		_, outer := an.correlated(n.Query, sc, ctes)
		outer.hasAgg = true
		return outer
	case *sql.In:
		l := an.expr(n.X, sc, ctes)
		l.isDirect = false
		for _, e := range n.List {
			an.merge(&l, an.expr(e, sc, ctes))
		}
		if n.Query != nil {
			cols, outer := an.correlated(n.Query, sc, ctes)
			an.merge(&l, outer)
			for _, c := range cols {
				an.merge(&l, c.lin)
			}
		}
		return l
	case *sql.Quantified:
		l := an.expr(n.X, sc, ctes)
		cols, outer := an.correlated(n.Query, sc, ctes)
		an.merge(&l, outer)
		for _, c := range cols {
			an.merge(&l, c.lin)
		}
		return l
	case *sql.TableArg:
		inner := &scope{parent: sc}
		an.relation(n.Rel, inner, ctes)
		return lineage{}
	// The common forms directly; the rest through Inspect below.
	case *sql.Binary:
		l := an.expr(n.L, sc, ctes)
		an.merge(&l, an.expr(n.R, sc, ctes))
		return l
	case *sql.Unary:
		l := an.expr(n.X, sc, ctes)
		l.isDirect = false
		return l
	case *sql.Cast:
		l := an.expr(n.X, sc, ctes)
		l.isDirect = false
		return l
	case *sql.Between:
		l := an.expr(n.X, sc, ctes)
		an.merge(&l, an.expr(n.Lo, sc, ctes))
		an.merge(&l, an.expr(n.Hi, sc, ctes))
		return l
	case *sql.IsNull:
		l := an.expr(n.X, sc, ctes)
		l.isDirect = false
		return l
	case *sql.Case:
		l := an.expr(n.Operand, sc, ctes)
		for _, w := range n.Whens {
			an.merge(&l, an.expr(w.Cond, sc, ctes))
			an.merge(&l, an.expr(w.Result, sc, ctes))
		}
		an.merge(&l, an.expr(n.Else, sc, ctes))
		return l
	}
	// Any other form: the union of its parts.
	var out lineage
	self := true
	sql.Inspect(x, func(c sql.Node) bool {
		if self {
			self = false
			return true
		}
		if e, ok := c.(sql.Expr); ok {
			an.merge(&out, an.expr(e, sc, ctes))
			return false
		}
		if w, ok := c.(*sql.WindowSpec); ok {
			an.windowSpec(w, sc, ctes)
			return false
		}
		return true
	})
	out.isDirect = false
	return out
}

func (an *analyzer) call(c *sql.Call, sc *scope, ctes *cteScope) lineage {
	var args lineage
	if c.Receiver != nil {
		an.merge(&args, an.expr(c.Receiver, sc, ctes))
	}
	for _, a := range c.Args {
		an.merge(&args, an.expr(a, sc, ctes))
	}
	an.read(c.Filter, sc, ctes)
	for _, s := range c.OrderBy {
		an.read(s.Expr, sc, ctes)
	}
	if c.Over != nil {
		an.windowSpec(c.Over.Spec, sc, ctes)
	}
	if c.Measure {
		return lineage{}
	}
	name := c.Name.Parts[len(c.Name.Parts)-1].Norm()
	switch {
	case c.Over != nil:
		// A window function returns one value per row: not an anonymising aggregate.
		args.isDirect = false
		return args
	case name == "grouping":
		return lineage{}
	case reducingAggregates[name]:
		return args.aggregated()
	case valueAggregates[name]:
		args.hasAgg = true
		args.isDirect = false
		return args
	}
	args.isDirect = false
	return args
}

// predicates records column-versus-literal conjuncts of cond for pruning.
func (an *analyzer) predicates(cond sql.Expr, sc *scope) {
	switch n := cond.(type) {
	case *sql.Binary:
		switch n.Op {
		case "AND":
			an.predicates(n.L, sc)
			an.predicates(n.R, sc)
		case "=", "<>", "<", "<=", ">", ">=":
			col, lit, op := n.L, n.R, n.Op
			if _, ok := constant(col); ok {
				col, lit, op = lit, col, flip(op)
			}
			an.predicate(sc, col, op, lit)
		}
	case *sql.Between:
		if !n.Not {
			an.predicate(sc, n.X, ">=", n.Lo)
			an.predicate(sc, n.X, "<=", n.Hi)
		}
	case *sql.In:
		if n.Not || n.Query != nil {
			return
		}
		ref := an.directColumn(sc, n.X)
		if ref == nil {
			return
		}
		p := Predicate{Table: ref.table, Column: ref.column, Op: "in"}
		for _, e := range n.List {
			v, ok := constant(e)
			if !ok {
				return
			}
			p.Values = append(p.Values, v.value)
			p.Type = v.typ
		}
		an.preds = append(an.preds, p)
	case *sql.IsNull:
		if ref := an.directColumn(sc, n.X); ref != nil {
			op := "is null"
			if n.Not {
				op = "is not null"
			}
			an.preds = append(an.preds, Predicate{Table: ref.table, Column: ref.column, Op: op})
		}
	}
}

func (an *analyzer) predicate(sc *scope, colExpr sql.Expr, op string, litExpr sql.Expr) {
	v, ok := constant(litExpr)
	if !ok {
		return
	}
	if ref := an.directColumn(sc, colExpr); ref != nil {
		an.preds = append(an.preds, Predicate{Table: ref.table, Column: ref.column, Op: op, Values: []string{v.value}, Type: v.typ})
	}
}

// directColumn returns the base column x is, if it is exactly one.
func (an *analyzer) directColumn(sc *scope, x sql.Expr) *colRef {
	n, ok := x.(*sql.Name)
	if !ok {
		return nil
	}
	parts := make([]string, len(n.Parts))
	for i, p := range n.Parts {
		parts[i] = p.Norm()
	}
	// An ambiguous name resolves to several columns and has no direct one.
	if l := an.resolveName(sc, parts); l.isDirect {
		return &l.direct
	}
	return nil
}

type constValue struct{ value, typ string }

// constant returns the value of a literal, a typed literal, a negated number
// or a CAST of a literal.
func constant(x sql.Expr) (constValue, bool) {
	switch n := x.(type) {
	case *sql.Literal:
		switch n.Kind {
		case sql.LitString:
			return constValue{n.Value, "string"}, true
		case sql.LitNumber:
			return constValue{n.Value, "number"}, true
		case sql.LitBool:
			return constValue{n.Value, "boolean"}, true
		case sql.LitTyped:
			return constValue{n.Value, n.Type}, true
		}
	case *sql.Unary:
		if n.Op == "-" {
			if v, ok := constant(n.X); ok && v.typ == "number" {
				return constValue{"-" + v.value, v.typ}, true
			}
		}
	case *sql.Cast:
		if v, ok := constant(n.X); ok {
			v.typ = n.Typ.Name
			return v, true
		}
	}
	return constValue{}, false
}

func flip(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}
