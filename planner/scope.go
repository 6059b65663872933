package planner

import (
	"slices"
	"strings"

	"github.com/meridian-lake/meridian/planner/sql"
)

// colRef is a base table column; column "*" stands for all of them.
type colRef struct{ table, column string }

func (c colRef) String() string { return c.table + "." + c.column }

// lineage says which base columns reach a value, and how.
//
// Lineages share their slices: every slice a lineage holds has len == cap, so
// an append always copies and never writes into another lineage's array.
type lineage struct {
	raw      []colRef // values that flow as they are (or transformed per row)
	agg      []colRef // values that flow only through reducing aggregates
	hasAgg   bool     // the value is (partly) produced by an aggregate
	isDirect bool     // the value is exactly the base column direct (for pruning)
	direct   colRef
}

func (l *lineage) add(o lineage) {
	l.raw = mergeRefs(l.raw, o.raw)
	l.agg = mergeRefs(l.agg, o.agg)
	l.hasAgg = l.hasAgg || o.hasAgg
	l.isDirect = false
}

// aggregated moves everything into the aggregated side: the value is now the
// output of a reducing aggregate over these columns.
func (l lineage) aggregated() lineage {
	return lineage{agg: mergeRefs(l.agg, l.raw), hasAgg: true}
}

// dedupLimit bounds the linear duplicate check in mergeRefs; longer lists
// keep duplicates until they are reported (refStrings removes them).
const dedupLimit = 16

// mergeRefs returns a ∪ b as a new (or shared, capacity-capped) slice.
func mergeRefs(a, b []colRef) []colRef {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b[:len(b):len(b)]
	}
	out := make([]colRef, len(a), len(a)+len(b))
	copy(out, a)
	for _, r := range b {
		if len(a) <= dedupLimit && slices.Contains(a, r) {
			continue
		}
		out = append(out, r)
	}
	return out[:len(out):len(out)]
}

// refStrings renders refs as sorted, unique "table.column" strings.
func refStrings(refs []colRef) []string {
	if len(refs) == 0 {
		return nil
	}
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// column is an output column of a query or derived relation.
type column struct {
	name string
	lin  lineage
}

// source is a relation visible to column references in a query block.
type source struct {
	// names are the qualifiers that select this source: an alias, or for an
	// unaliased base table its name, schema.name and catalog.schema.name.
	names [][]string
	// table is the base table's qualified name; empty for derived relations.
	table string
	// known holds a base table's columns when the catalog supplied them.
	known map[string]bool
	// cols are a derived relation's columns, in order.
	cols []column
	// stars are relations spread into this one by SELECT *; their columns are
	// part of this one but not listed in cols.
	stars []*source
	// any, when set, answers for every column name: UNNEST, table function
	// and MATCH_RECOGNIZE outputs whose columns are not known from the text.
	any *lineage
}

type presence uint8

const (
	absent presence = iota
	maybe
	present
)

// has says whether src has a column named col.
func (s *source) has(col string) presence {
	if s.table != "" {
		if s.known == nil {
			return maybe
		}
		if s.known[col] {
			return present
		}
		return absent
	}
	for _, c := range s.cols {
		if c.name == col {
			return present
		}
	}
	if s.any != nil {
		return maybe
	}
	best := absent
	for _, st := range s.stars {
		if p := st.has(col); p > best {
			best = p
		}
	}
	return best
}

func (s *source) matches(qual []string) bool {
	for _, n := range s.names {
		if len(n) == len(qual) {
			ok := true
			for i := range n {
				if n[i] != qual[i] {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// scope is one query block's view of relations, chained to enclosing blocks
// for correlated references.
type scope struct {
	parent  *scope
	sources []*source
	// lambda holds lambda parameter names: they shadow columns.
	lambda map[string]bool
	// pattern is set inside MATCH_RECOGNIZE and row-pattern windows, where a
	// qualifier that names no relation is a pattern variable over the input.
	pattern bool
	// aliases are output column names, visible to ORDER BY.
	aliases map[string]lineage
}

// cteScope holds the common table expressions visible at a point.
type cteScope struct {
	parent *cteScope
	defs   map[string]*source
}

func (c *cteScope) lookup(name string) *source {
	for ; c != nil; c = c.parent {
		if s, ok := c.defs[name]; ok {
			return s
		}
	}
	return nil
}

// column resolves col in src, recording the base columns read.
func (an *analyzer) sourceColumn(src *source, col string) lineage {
	if src.table != "" {
		an.addColumn(src.table, col)
		ref := colRef{src.table, col}
		return lineage{raw: []colRef{ref}, isDirect: true, direct: ref}
	}
	for _, c := range src.cols {
		if c.name == col {
			l := c.lin
			return l
		}
	}
	if src.any != nil {
		l := *src.any
		l.isDirect = false
		return l
	}
	var out lineage
	n := 0
	for _, st := range src.stars {
		if st.has(col) != absent {
			l := an.sourceColumn(st, col)
			if n == 0 {
				out = l
			} else {
				out.add(l)
			}
			n++
		}
	}
	return out
}

// starColumns expands src for SELECT * or src.*.
func (an *analyzer) starColumns(src *source) []column {
	if src.table != "" {
		an.addColumn(src.table, "*")
		return []column{{name: "*", lin: lineage{raw: []colRef{{src.table, "*"}}}}}
	}
	out := append([]column(nil), src.cols...)
	if src.any != nil {
		out = append(out, column{name: "*", lin: *src.any})
	}
	for _, st := range src.stars {
		out = append(out, an.starColumns(st)...)
	}
	return out
}

// resolveName resolves an identifier chain used as a value.
func (an *analyzer) resolveName(sc *scope, parts []string) lineage {
	if len(parts) == 0 {
		return lineage{}
	}
	for s := sc; s != nil; s = s.parent {
		if s.lambda[parts[0]] {
			return lineage{}
		}
	}
	// Qualified: the longest qualifier that names a relation wins.
	if len(parts) >= 2 {
		for k := min(len(parts)-1, 3); k >= 1; k-- {
			qual, col := parts[:k], parts[k]
			for s := sc; s != nil; s = s.parent {
				for _, src := range s.sources {
					if src.matches(qual) {
						return an.outer(s, an.sourceColumn(src, col))
					}
				}
			}
		}
		for s := sc; s != nil; s = s.parent {
			if s.pattern {
				// A pattern variable: A.price is the input's price.
				return an.unqualified(sc, parts[1])
			}
		}
	}
	// Unqualified, or a row field access on an unqualified column (col.field).
	return an.unqualified(sc, parts[0])
}

// unqualified resolves a bare column name in the innermost scope that may
// hold it; when several relations there may hold it, it is attributed to all.
func (an *analyzer) unqualified(sc *scope, col string) lineage {
	for s := sc; s != nil; s = s.parent {
		var buf [8]*source
		cands := buf[:0]
		sure := 0
		for _, src := range s.sources {
			switch src.has(col) {
			case present:
				cands = append(cands, src)
				sure++
			case maybe:
				cands = append(cands, src)
			}
		}
		if len(cands) == 0 {
			if l, ok := s.aliases[col]; ok {
				return l
			}
			continue
		}
		if sure == 1 && an.opts.Columns != nil {
			// The catalog told us the columns: take the certain match only.
			for _, src := range cands {
				if src.has(col) == present {
					return an.outer(s, an.sourceColumn(src, col))
				}
			}
		}
		if len(cands) == 1 {
			return an.outer(s, an.sourceColumn(cands[0], col))
		}
		an.ambiguous[col] = true
		var out lineage
		raw := make([]colRef, 0, len(cands))
		for _, src := range cands {
			if src.table != "" {
				an.addColumn(src.table, col)
				raw = append(raw, colRef{src.table, col})
				continue
			}
			out.add(an.sourceColumn(src, col))
		}
		out.raw = mergeRefs(out.raw, raw[:len(raw):len(raw)])
		return an.outer(s, out)
	}
	return lineage{}
}

// capture collects the columns that a subquery expression takes from the
// query around it: a correlated subquery's value is a per-row function of
// them, so they reach its output raw.
type capture struct {
	boundary *scope // the scope the subquery expression appears in
	lin      lineage
}

// outer notes that a column resolved in scope s; every open capture whose
// boundary is s or inside s receives it.
func (an *analyzer) outer(s *scope, l lineage) lineage {
	for _, c := range an.captures {
		for b := c.boundary; b != nil; b = b.parent {
			if b == s {
				c.lin.add(lineage{raw: mergeRefs(l.raw, l.agg)})
				break
			}
		}
	}
	return l
}

// correlated analyses a subquery in scope sc and returns its columns and the
// lineage of the outer columns it references.
func (an *analyzer) correlated(q *sql.Query, sc *scope, ctes *cteScope) ([]column, lineage) {
	c := &capture{boundary: sc}
	an.captures = append(an.captures, c)
	cols := an.query(q, sc, ctes)
	an.captures = an.captures[:len(an.captures)-1]
	return cols, c.lin
}

// tableSource is the source for a base table, answering to its name suffixes.
func (an *analyzer) tableSource(name string, parts []string) *source {
	src := &source{table: name}
	for k := 1; k <= len(parts); k++ {
		src.names = append(src.names, parts[len(parts)-k:])
	}
	if an.opts.Columns != nil {
		if cols, ok := an.opts.Columns(name); ok {
			src.known = make(map[string]bool, len(cols))
			for _, c := range cols {
				src.known[strings.ToLower(c)] = true
			}
		}
	}
	return src
}
