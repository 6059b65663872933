package sql

import "strings"

// query parses [WITH …] queryNoWith.
func (p *parser) query() *Query {
	p.enter()
	defer p.leave()
	pos := p.pos()
	var with *With
	if p.isKw("WITH") {
		with = p.with()
	}
	return p.queryRest(pos, with, p.queryPrimary())
}

// queryRest continues a query whose first primary has been parsed: set
// operations, then ORDER BY, OFFSET, LIMIT / FETCH.
func (p *parser) queryRest(pos Pos, with *With, first QueryBody) *Query {
	q := &Query{at: at{pos}, With: with, Body: p.setOps(first)}
	if p.acceptKw("ORDER", "BY") {
		q.OrderBy = p.sortItems()
	}
	if p.acceptKw("OFFSET") {
		q.Offset = p.value()
		if !p.acceptKw("ROWS") {
			p.acceptKw("ROW")
		}
	}
	switch {
	case p.acceptKw("LIMIT"):
		if !p.acceptKw("ALL") {
			q.Limit = p.value()
		}
	case p.isKw("FETCH"):
		p.i++
		if !p.acceptKw("FIRST") {
			p.expectKw("NEXT")
		}
		if p.isAnyKw("ROW", "ROWS") {
			// FETCH FIRST ROW ONLY: the count is one, not absent.
			q.Fetch = &Literal{at: at{p.pos()}, Kind: LitNumber, Value: "1"}
		} else {
			q.Fetch = p.value()
		}
		if !p.acceptKw("ROWS") {
			p.expectKw("ROW")
		}
		if !p.acceptKw("ONLY") {
			p.expectKw("WITH", "TIES")
		}
	}
	return q
}

// setOps parses UNION and EXCEPT (left-associative) over INTERSECT terms,
// which bind tighter, as in Trino.
func (p *parser) setOps(left QueryBody) QueryBody {
	left = p.intersects(left)
	for p.isAnyKw("UNION", "EXCEPT") {
		op := p.setOpHead()
		op.Left = left
		op.Right = p.intersects(p.queryPrimary())
		left = op
	}
	return left
}

func (p *parser) intersects(left QueryBody) QueryBody {
	for p.isKw("INTERSECT") {
		op := p.setOpHead()
		op.Left = left
		op.Right = p.queryPrimary()
		left = op
	}
	return left
}

func (p *parser) setOpHead() *SetOp {
	t := p.advance()
	op := &SetOp{at: at{t.Pos}, Op: strings.ToUpper(t.Text)}
	if p.acceptKw("ALL") {
		op.All = true
	} else {
		p.acceptKw("DISTINCT")
	}
	if p.acceptKw("CORRESPONDING") {
		op.Corresponding = true
		if p.acceptKw("BY") {
			p.identList()
		}
	}
	return op
}

func (p *parser) queryPrimary() QueryBody {
	pos := p.pos()
	switch {
	case p.isKw("SELECT"):
		return p.selectBody()
	case p.isKw("VALUES"):
		p.i++
		return &Values{at: at{pos}, Rows: p.exprList()}
	case p.isKw("TABLE"):
		p.i++
		return &TableQuery{at: at{pos}, Name: p.qualifiedName()}
	case p.isOp("("):
		p.i++
		q := p.query()
		p.expectOp(")")
		return &ParenQuery{at: at{pos}, Query: q}
	}
	p.unexpected("SELECT, VALUES, TABLE, WITH or '('")
	return nil
}

func (p *parser) with() *With {
	w := &With{}
	for p.isKw("WITH") {
		switch {
		case p.isKw("WITH", "SESSION"):
			p.i += 2
			for {
				name := p.qualifiedName()
				p.expectOp("=")
				w.Session = append(w.Session, &Property{Name: name, Value: p.expr()})
				if !p.acceptOp(",") {
					break
				}
			}
		case p.isKw("WITH", "FUNCTION"):
			p.i++
			for {
				w.Functions = append(w.Functions, p.function())
				if !p.acceptOp(",") {
					break
				}
			}
		default:
			p.i++
			w.Recursive = p.acceptKw("RECURSIVE")
			for {
				c := &CTE{at: at{p.pos()}, Name: p.ident()}
				if p.isOp("(") {
					c.Columns = p.identList()
				}
				p.expectKw("AS")
				p.expectOp("(")
				c.Query = p.query()
				p.expectOp(")")
				w.CTEs = append(w.CTEs, c)
				if !p.acceptOp(",") {
					break
				}
			}
			return w
		}
	}
	return w
}

// function parses FUNCTION name(params) RETURNS type characteristics body.
func (p *parser) function() *Function {
	pos := p.pos()
	p.expectKw("FUNCTION")
	f := &Function{at: at{pos}, Name: p.qualifiedName()}
	p.expectOp("(")
	for !p.isOp(")") {
		p.ident()
		p.dataType()
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	p.expectKw("RETURNS")
	p.dataType()
	for {
		switch {
		case p.acceptKw("LANGUAGE"):
			p.ident()
		case p.acceptKw("NOT", "DETERMINISTIC"), p.acceptKw("DETERMINISTIC"):
		case p.acceptKw("RETURNS", "NULL", "ON", "NULL", "INPUT"), p.acceptKw("CALLED", "ON", "NULL", "INPUT"):
		case p.acceptKw("SECURITY"):
			if !p.acceptKw("DEFINER") {
				p.expectKw("INVOKER")
			}
		case p.acceptKw("COMMENT"):
			p.stringLit()
		case p.isKw("WITH") && p.isOpAt(1, "("):
			p.i++
			p.properties()
		default:
			f.Body = p.routineBody()
			return f
		}
	}
}

// routineBody parses RETURN expr, BEGIN … END, or AS 'definition'. Compound
// bodies are scanned rather than modelled, but every subquery inside is parsed
// and kept, so no table reference can hide in a routine.
func (p *parser) routineBody() []Expr {
	switch {
	case p.acceptKw("RETURN"):
		return []Expr{p.expr()}
	case p.acceptKw("AS"):
		p.stringLit()
		return nil
	case p.isKw("BEGIN"):
		p.i++
		var found []Expr
		blocks := 1
		for blocks > 0 {
			t := p.peek()
			switch {
			case t.Kind == TokEOF:
				p.unexpected("END")
			case isKwTok(t, "RETURN"):
				p.i++
				if !p.isOp(";") {
					found = append(found, p.expr())
				}
			case t.Kind == TokOp && t.Text == "(" && p.peekAt(1).Kind == TokIdent && isAnyFold(p.peekAt(1).Text, "SELECT", "WITH", "VALUES"):
				pos := p.advance().Pos
				q := p.query()
				p.expectOp(")")
				found = append(found, &Subquery{at: at{pos}, Query: q})
			case isKwTok(t, "BEGIN") || isKwTok(t, "CASE"):
				p.i++
				blocks++
			case isKwTok(t, "END"):
				p.i++
				if p.isAnyKw("IF", "LOOP", "WHILE", "REPEAT") {
					p.i++
					continue
				}
				p.acceptKw("CASE")
				blocks--
			default:
				p.i++
			}
		}
		return found
	}
	p.unexpected("RETURN, BEGIN or AS")
	return nil
}

func (p *parser) properties() []*Property {
	p.expectOp("(")
	var props []*Property
	for {
		prop := &Property{Name: p.qualifiedName()}
		p.expectOp("=")
		if !p.acceptKw("DEFAULT") {
			prop.Value = p.expr()
		}
		props = append(props, prop)
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return props
}

func (p *parser) selectBody() *Select {
	s := &Select{at: at{p.advance().Pos}}
	if p.acceptKw("DISTINCT") {
		s.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	for {
		s.Items = append(s.Items, p.selectItem())
		if !p.acceptOp(",") {
			break
		}
	}
	if p.acceptKw("FROM") {
		for {
			s.From = append(s.From, p.relation())
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if p.acceptKw("WHERE") {
		s.Where = p.expr()
	}
	if p.acceptKw("GROUP", "BY") {
		s.GroupBy = p.groupBy()
	}
	if p.acceptKw("HAVING") {
		s.Having = p.expr()
	}
	if p.isKw("WINDOW") && p.isIdentAt(1) && isKwTok(p.peekAt(2), "AS") {
		p.i++
		for {
			d := &WindowDef{Name: p.ident()}
			p.expectKw("AS")
			pos := p.pos()
			p.expectOp("(")
			d.Spec = p.windowSpec(pos)
			p.expectOp(")")
			s.Windows = append(s.Windows, d)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	return s
}

func (p *parser) isIdentAt(n int) bool {
	t := p.peekAt(n)
	return t.Kind == TokQuotedIdent || t.Kind == TokIdent && !t.Reserved
}

func (p *parser) selectItem() SelectItem {
	pos := p.pos()
	if p.acceptOp("*") {
		return &AllColumns{at: at{pos}}
	}
	x := p.expr()
	if p.isOp(".") && p.isOpAt(1, "*") {
		p.i += 2
		all := &AllColumns{at: at{pos}, Prefix: x}
		if p.acceptKw("AS") {
			all.Aliases = p.identList()
		}
		return all
	}
	col := &SingleColumn{at: at{pos}, Expr: x}
	if p.acceptKw("AS") {
		col.Alias = p.ident()
	} else if p.isIdent() && !p.isClauseWord() {
		col.Alias = p.ident()
	}
	return col
}

// isClauseWord reports whether the non-reserved word at the cursor starts a
// clause rather than being an implicit alias.
func (p *parser) isClauseWord() bool {
	t := p.peek()
	if t.Kind != TokIdent {
		return false
	}
	switch upperWord(t.Text) {
	case "LIMIT", "OFFSET", "FETCH":
		return true
	case "WINDOW":
		return p.isIdentAt(1) && isKwTok(p.peekAt(2), "AS")
	case "TABLESAMPLE":
		return p.isAnyKwAt(1, "BERNOULLI", "SYSTEM")
	case "MATCH_RECOGNIZE":
		return p.isOpAt(1, "(")
	case "MATCH":
		return p.inNearest > 0
	case "PARTITION":
		return isKwTok(p.peekAt(1), "BY") // TABLE(t) PARTITION BY … in a table function call
	case "PRUNE", "KEEP":
		return isKwTok(p.peekAt(1), "WHEN")
	}
	return false
}

func (p *parser) isAnyKwAt(n int, kws ...string) bool {
	t := p.peekAt(n)
	for _, kw := range kws {
		if isKwTok(t, kw) {
			return true
		}
	}
	return false
}

func (p *parser) groupBy() *GroupBy {
	g := &GroupBy{}
	if p.acceptKw("DISTINCT") {
		g.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	if p.isKw("AUTO") && !p.isOpAt(1, "(") && !p.isOpAt(1, ",") && !p.isOpAt(1, ".") {
		p.i++
		g.Auto = true
		return g
	}
	for {
		g.Elements = append(g.Elements, p.groupingElement())
		if !p.acceptOp(",") {
			return g
		}
	}
}

func (p *parser) groupingElement() *GroupingElement {
	switch {
	case p.isKw("ROLLUP") || p.isKw("CUBE"):
		kind := strings.ToUpper(p.advance().Text)
		p.expectOp("(")
		var xs []Expr
		if !p.isOp(")") {
			xs = p.exprList()
		}
		p.expectOp(")")
		return &GroupingElement{Kind: kind, Sets: [][]Expr{xs}}
	case p.acceptKw("GROUPING", "SETS"):
		p.expectOp("(")
		g := &GroupingElement{Kind: "GROUPING SETS"}
		for {
			g.Sets = append(g.Sets, p.groupingSet())
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
		return g
	}
	return &GroupingElement{Sets: [][]Expr{p.groupingSet()}}
}

// groupingSet parses (a, b), () or a single expression.
func (p *parser) groupingSet() []Expr {
	if p.isOp("(") && p.isOpAt(1, ")") {
		p.i += 2
		return nil
	}
	x := p.expr()
	if r, ok := x.(*Row); ok && r.Names == nil && r.P.Offset < len(p.src) && p.src[r.P.Offset] == '(' {
		return r.Elems
	}
	return []Expr{x}
}

// ---- relations ----

// relation parses a join chain.
func (p *parser) relation() Relation {
	p.enter()
	defer p.leave()
	return p.joins(p.sampled())
}

var joinTypes = map[string]string{"JOIN": "INNER", "INNER": "INNER", "LEFT": "LEFT", "RIGHT": "RIGHT", "FULL": "FULL"}

func (p *parser) isJoinStart() bool {
	t := p.peek()
	if t.Kind != TokIdent {
		return false
	}
	switch upperWord(t.Text) {
	case "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL":
		return true
	}
	return false
}

func (p *parser) joins(left Relation) Relation {
	for p.isJoinStart() {
		pos := p.pos()
		j := &Join{at: at{pos}, Left: left}
		switch {
		case p.acceptKw("CROSS", "JOIN"):
			j.Type = "CROSS"
			j.Right = p.joinRight()
			left = j
			continue
		case p.acceptKw("NATURAL"):
			j.Natural = true
		}
		j.Type = p.joinType()
		j.Right = p.joinRight()
		if j.Natural {
			left = j
			continue
		}
		if !p.isKw("ON") && !p.isKw("USING") && p.isJoinStart() {
			// a JOIN b JOIN c ON … ON …: the right side is itself a join.
			p.enter()
			j.Right = p.joins(j.Right)
			p.leave()
		}
		switch {
		case p.acceptKw("ON"):
			j.On = p.expr()
		case p.acceptKw("USING"):
			j.Using = p.identList()
		default:
			p.unexpected("ON or USING")
		}
		left = j
	}
	return left
}

func (p *parser) joinType() string {
	t := p.advance()
	typ := joinTypes[strings.ToUpper(t.Text)]
	if typ == "" {
		p.i--
		p.unexpected("JOIN")
	}
	if !isKwTok(t, "JOIN") {
		if typ != "INNER" {
			p.acceptKw("OUTER")
		}
		p.expectKw("JOIN")
	}
	return typ
}

func (p *parser) joinRight() Relation {
	if p.isKw("NEAREST") && p.isOpAt(1, "(") {
		return p.nearest()
	}
	return p.sampled()
}

func (p *parser) nearest() Relation {
	pos := p.advance().Pos
	p.expectOp("(")
	p.expectKw("FROM")
	p.inNearest++
	n := &Nearest{at: at{pos}, Rel: p.relation()}
	p.inNearest--
	if p.acceptKw("WHERE") {
		n.Where = p.expr()
	}
	p.expectKw("MATCH")
	n.Match = p.expr()
	p.expectOp(")")
	return n
}

func (p *parser) sampled() Relation {
	r := p.patternRecognition()
	if p.isKw("TABLESAMPLE") && p.isAnyKwAt(1, "BERNOULLI", "SYSTEM") {
		pos := p.advance().Pos
		method := strings.ToUpper(p.advance().Text)
		p.expectOp("(")
		pct := p.expr()
		p.expectOp(")")
		return &Sampled{at: at{pos}, Rel: r, Method: method, Percent: pct}
	}
	return r
}

func (p *parser) patternRecognition() Relation {
	r := p.aliased(p.relationPrimary())
	if !(p.isKw("MATCH_RECOGNIZE") && p.isOpAt(1, "(")) {
		return r
	}
	pos := p.advance().Pos
	p.expectOp("(")
	spec := &WindowSpec{at: at{pos}}
	if p.acceptKw("PARTITION", "BY") {
		spec.PartitionBy = p.exprList()
	}
	if p.acceptKw("ORDER", "BY") {
		spec.OrderBy = p.sortItems()
	}
	if p.acceptKw("MEASURES") {
		spec.Measures = p.measures()
	}
	switch {
	case p.acceptKw("ONE", "ROW", "PER", "MATCH"):
	case p.acceptKw("ALL", "ROWS", "PER", "MATCH"):
		switch {
		case p.acceptKw("SHOW", "EMPTY", "MATCHES"), p.acceptKw("OMIT", "EMPTY", "MATCHES"), p.acceptKw("WITH", "UNMATCHED", "ROWS"):
		}
	}
	p.patternClauses(spec)
	p.expectOp(")")
	return p.aliased(&MatchRecognize{at: at{pos}, Rel: r, Spec: spec})
}

// aliased parses an optional [AS] alias [(columns)] after r.
func (p *parser) aliased(r Relation) Relation {
	pos := p.pos()
	var alias *Ident
	switch {
	case p.acceptKw("AS"):
		alias = p.ident()
	case p.isIdent() && !p.isClauseWord():
		alias = p.ident()
	default:
		return r
	}
	a := &Aliased{at: at{pos}, Rel: r, Alias: alias}
	if p.isOp("(") {
		a.Columns = p.identList()
	}
	return a
}

func (p *parser) relationPrimary() Relation {
	pos := p.pos()
	switch {
	case p.isOp("("):
		p.i++
		if p.startsQuery() {
			q := p.query()
			p.expectOp(")")
			return &SubqueryRel{at: at{pos}, Query: q}
		}
		inner := p.relation()
		if sq, ok := inner.(*SubqueryRel); ok && p.isSetOpOrQueryTail() {
			q := p.queryRest(pos, nil, &ParenQuery{at: at{sq.P}, Query: sq.Query})
			inner = &SubqueryRel{at: at{pos}, Query: q}
		}
		p.expectOp(")")
		return inner
	case p.isKw("UNNEST"):
		p.i++
		p.expectOp("(")
		u := &Unnest{at: at{pos}, Exprs: p.exprList()}
		p.expectOp(")")
		u.Ordinality = p.acceptKw("WITH", "ORDINALITY")
		return u
	case p.isKw("LATERAL") && p.isOpAt(1, "("):
		p.i += 2
		q := p.query()
		p.expectOp(")")
		return &SubqueryRel{at: at{pos}, Query: q, Lateral: true}
	case p.isKw("TABLE") && p.isOpAt(1, "("):
		p.i += 2
		f := p.tableFunction(pos)
		p.expectOp(")")
		return f
	case p.isKw("JSON_TABLE") && p.isOpAt(1, "("):
		return p.jsonTable()
	}
	t := &Table{at: at{pos}, Name: p.qualifiedName()}
	if p.acceptOp("@") {
		t.Branch = p.ident()
	}
	if p.isKw("FOR") && p.isAnyKwAt(1, "VERSION", "TIMESTAMP") {
		p.i++
		t.Period = strings.ToUpper(p.advance().Text)
		p.expectKw("AS", "OF")
		t.AsOf = p.value()
	}
	return t
}

func (p *parser) tableFunction(pos Pos) *TableFunction {
	f := &TableFunction{at: at{pos}, Name: p.qualifiedName()}
	p.expectOp("(")
	p.enter()
	defer p.leave()
	for !p.isOp(")") && !p.isKw("COPARTITION") {
		var name *Ident
		apos := p.pos()
		if p.isIdent() && p.isOpAt(1, "=>") {
			name = p.ident()
			p.i++
		}
		v := p.tableFunctionArg()
		if name != nil {
			v = &NamedArg{at: at{apos}, Name: name, Value: v}
		}
		f.Args = append(f.Args, v)
		if !p.acceptOp(",") {
			break
		}
	}
	if p.acceptKw("COPARTITION") {
		p.expectOp("(")
		p.skipBalanced()
	}
	p.expectOp(")")
	return f
}

func (p *parser) tableFunctionArg() Expr {
	pos := p.pos()
	switch {
	case p.isKw("TABLE") && p.isOpAt(1, "("):
		p.i += 2
		var rel Relation
		if p.startsQuery() {
			rel = &SubqueryRel{at: at{p.pos()}, Query: p.query()}
		} else {
			rel = &Table{at: at{p.pos()}, Name: p.qualifiedName()}
		}
		p.expectOp(")")
		rel = p.aliased(rel)
		a := &TableArg{at: at{pos}, Rel: rel}
		if p.acceptKw("PARTITION", "BY") {
			if p.isOp("(") {
				p.i++
				if !p.isOp(")") {
					a.PartitionBy = p.exprList()
				}
				p.expectOp(")")
			} else {
				a.PartitionBy = []Expr{p.expr()}
			}
		}
		switch {
		case p.acceptKw("PRUNE", "WHEN", "EMPTY"), p.acceptKw("KEEP", "WHEN", "EMPTY"):
		}
		if p.acceptKw("ORDER", "BY") {
			if p.isOp("(") && !p.startsQueryAt(1) {
				p.i++
				a.OrderBy = p.sortItems()
				p.expectOp(")")
			} else {
				// Unparenthesised, ORDER BY takes one item: a ',' ends the argument.
				a.OrderBy = []*SortItem{p.sortItem()}
			}
		}
		return a
	case p.isKw("DESCRIPTOR") && p.isOpAt(1, "("):
		p.i += 2
		d := &Descriptor{at: at{pos}}
		for {
			d.Names = append(d.Names, p.ident())
			if p.isIdent() {
				p.dataType()
			}
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
		return d
	}
	return p.expr()
}

func (p *parser) startsQueryAt(n int) bool {
	return p.isAnyKwAt(n, "SELECT", "WITH", "VALUES")
}

// jsonTable parses JSON_TABLE(…). The context item and path are parsed as
// expressions; in the rest (COLUMNS, PLAN, error clauses) every PASSING and
// DEFAULT value and every subquery is parsed and kept.
func (p *parser) jsonTable() Relation {
	pos := p.advance().Pos
	p.expectOp("(")
	p.enter()
	defer p.leave()
	jt := &JSONTable{at: at{pos}, Args: []Expr{p.expr()}}
	depth := 1
	for depth > 0 {
		t := p.peek()
		switch {
		case t.Kind == TokEOF:
			p.unexpected("')'")
		case t.Kind == TokOp && t.Text == "(" && p.startsQueryAt(1):
			spos := p.advance().Pos
			q := p.query()
			p.expectOp(")")
			jt.Args = append(jt.Args, &Subquery{at: at{spos}, Query: q})
		case t.Kind == TokOp && t.Text == "(":
			p.i++
			depth++
		case t.Kind == TokOp && t.Text == ")":
			p.i++
			depth--
		case isKwTok(t, "PASSING"):
			p.i++
			for {
				jt.Args = append(jt.Args, p.expr())
				p.expectKw("AS")
				p.ident()
				if !p.acceptOp(",") {
					break
				}
			}
		case isKwTok(t, "DEFAULT"):
			p.i++
			jt.Args = append(jt.Args, p.expr())
		default:
			p.i++
		}
	}
	return jt
}
