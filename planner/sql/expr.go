package sql

import (
	"strings"
)

// expr parses a boolean expression: OR < AND < NOT < predicate.
func (p *parser) expr() Expr {
	p.enter()
	defer p.leave()
	x := p.and()
	for p.isKw("OR") {
		pos := p.advance().Pos
		x = &Binary{at: at{pos}, Op: "OR", L: x, R: p.and()}
	}
	return x
}

func (p *parser) and() Expr {
	x := p.not()
	for p.isKw("AND") {
		pos := p.advance().Pos
		x = &Binary{at: at{pos}, Op: "AND", L: x, R: p.not()}
	}
	return x
}

func (p *parser) not() Expr {
	if p.isKw("NOT") {
		pos := p.advance().Pos
		p.enter()
		defer p.leave()
		return &Unary{at: at{pos}, Op: "NOT", X: p.not()}
	}
	return p.predicate(p.value())
}

var comparisonOps = map[string]bool{"=": true, "<>": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

// predicate parses at most one predicate applied to x.
func (p *parser) predicate(x Expr) Expr {
	t := p.peek()
	pos := t.Pos
	if t.Kind == TokOp && comparisonOps[t.Text] {
		p.i++
		op := t.Text
		if op == "!=" {
			op = "<>"
		}
		if p.isAnyKw("ALL", "ANY", "SOME") && p.isOpAt(1, "(") {
			q := strings.ToUpper(p.advance().Text)
			p.expectOp("(")
			query := p.query()
			p.expectOp(")")
			return &Quantified{at: at{pos}, X: x, Op: op, Quantifier: q, Query: query}
		}
		return &Binary{at: at{pos}, Op: op, L: x, R: p.value()}
	}
	not := false
	if p.isKw("NOT") && p.peekAt(1).Kind == TokIdent && isAnyFold(p.peekAt(1).Text, "BETWEEN", "IN", "LIKE") {
		p.i++
		not = true
	}
	switch {
	case p.acceptKw("BETWEEN"):
		if !p.acceptKw("SYMMETRIC") {
			p.acceptKw("ASYMMETRIC")
		}
		lo := p.value()
		p.expectKw("AND")
		return &Between{at: at{pos}, X: x, Lo: lo, Hi: p.value(), Not: not}
	case p.acceptKw("IN"):
		p.expectOp("(")
		in := &In{at: at{pos}, X: x, Not: not}
		if p.startsQuery() {
			in.Query = p.query()
		} else {
			in.List = p.exprList()
		}
		p.expectOp(")")
		return in
	case p.acceptKw("LIKE"):
		l := &Like{at: at{pos}, X: x, Pattern: p.value(), Not: not}
		if p.acceptKw("ESCAPE") {
			l.Escape = p.value()
		}
		return l
	case not:
		p.unexpected("BETWEEN, IN or LIKE")
	case p.acceptKw("IS"):
		not := p.acceptKw("NOT")
		if p.acceptKw("NULL") {
			return &IsNull{at: at{pos}, X: x, Not: not}
		}
		if p.acceptKw("DISTINCT", "FROM") {
			op := "IS DISTINCT FROM"
			if not {
				op = "IS NOT DISTINCT FROM"
			}
			return &Binary{at: at{pos}, Op: op, L: x, R: p.value()}
		}
		p.unexpected("NULL or DISTINCT FROM")
	}
	return x
}

// startsQuery reports whether a query starts at the cursor (after a '(').
func (p *parser) startsQuery() bool {
	return p.isAnyKw("SELECT", "WITH", "VALUES") || p.isKw("TABLE") && p.peekAt(1).Kind != TokOp
}

func (p *parser) exprList() []Expr {
	var xs []Expr
	for {
		xs = append(xs, p.expr())
		if !p.acceptOp(",") {
			return xs
		}
	}
}

// value parses a value expression: || < +,- < *,/,% < unary < AT TIME ZONE < primary.
func (p *parser) value() Expr {
	x := p.additive()
	for p.isOp("||") {
		pos := p.advance().Pos
		x = &Binary{at: at{pos}, Op: "||", L: x, R: p.additive()}
	}
	return x
}

func (p *parser) additive() Expr {
	x := p.multiplicative()
	for p.isOp("+") || p.isOp("-") {
		t := p.advance()
		x = &Binary{at: at{t.Pos}, Op: t.Text, L: x, R: p.multiplicative()}
	}
	return x
}

func (p *parser) multiplicative() Expr {
	x := p.unary()
	for p.isOp("*") || p.isOp("/") || p.isOp("%") {
		t := p.advance()
		x = &Binary{at: at{t.Pos}, Op: t.Text, L: x, R: p.unary()}
	}
	return x
}

func (p *parser) unary() Expr {
	if p.isOp("-") || p.isOp("+") {
		t := p.advance()
		p.enter()
		defer p.leave()
		return &Unary{at: at{t.Pos}, Op: t.Text, X: p.unary()}
	}
	x := p.postfix(p.primary())
	for p.isKw("AT") {
		pos := p.advance().Pos
		if p.acceptKw("LOCAL") {
			x = &AtTimeZone{at: at{pos}, X: x}
			continue
		}
		p.expectKw("TIME", "ZONE")
		x = &AtTimeZone{at: at{pos}, X: x, Zone: p.postfix(p.primary())}
	}
	return x
}

// postfix applies subscripts, field dereferences and method calls.
func (p *parser) postfix(x Expr) Expr {
	for {
		switch {
		case p.isOp("["):
			pos := p.advance().Pos
			idx := p.expr()
			p.expectOp("]")
			x = &Subscript{at: at{pos}, X: x, Index: idx}
		case p.isOp(".") && (p.peekAt(1).Kind == TokIdent || p.peekAt(1).Kind == TokQuotedIdent):
			p.i++
			field := p.identOrKeyword()
			if p.isOp("(") {
				// Method-call syntax: 'text'.length()
				c := &Call{at: at{field.P}, Name: &QualifiedName{at: at{field.P}, Parts: []*Ident{field}}, Receiver: x}
				p.callArgs(c)
				x = c
				continue
			}
			if n, ok := x.(*Name); ok {
				n.Parts = append(n.Parts, field)
				continue
			}
			x = &Dereference{at: at{field.P}, X: x, Field: field}
		default:
			return x
		}
	}
}

// typedLiteralTypes are the names that Trino's grammar knows as literal
// prefixes; any other identifier followed by a string is a type constructor too.
func (p *parser) primary() Expr {
	t := p.peek()
	pos := t.Pos
	switch t.Kind {
	case TokParam:
		p.i++
		p.params++
		return &Param{at: at{pos}, Index: p.params}
	case TokInteger, TokDecimal, TokDouble:
		p.i++
		return &Literal{at: at{pos}, Kind: LitNumber, Value: t.Val}
	case TokString, TokUnicodeStr, TokDollarString:
		return p.stringLit()
	case TokBinary:
		p.i++
		return &Literal{at: at{pos}, Kind: LitBinary, Value: t.Val}
	case TokQuotedIdent:
		return p.nameOrCall()
	case TokOp:
		switch t.Text {
		case "(":
			return p.parenExpr()
		}
		p.unexpected("expression")
	case TokIdent:
		return p.keywordPrimary(t)
	}
	p.unexpected("expression")
	return nil
}

func (p *parser) keywordPrimary(t *Token) Expr {
	pos := t.Pos
	up := upperWord(t.Text)
	switch up {
	case "TRUE", "FALSE":
		p.i++
		return &Literal{at: at{pos}, Kind: LitBool, Value: strings.ToLower(up)}
	case "NULL":
		p.i++
		return &Literal{at: at{pos}, Kind: LitNull, Value: "null"}
	case "CASE":
		return p.caseExpr()
	case "CAST":
		return p.cast(false)
	case "EXISTS":
		p.i++
		p.expectOp("(")
		q := p.query()
		p.expectOp(")")
		return &Exists{at: at{pos}, Query: q}
	case "EXTRACT":
		p.i++
		p.expectOp("(")
		field := p.identOrKeyword()
		p.expectKw("FROM")
		x := p.expr()
		p.expectOp(")")
		return &Call{at: at{pos}, Name: simpleName(pos, "extract"), Args: []Expr{&Literal{at: at{field.P}, Kind: LitString, Value: strings.ToUpper(field.Name)}, x}}
	case "CURRENT_DATE", "CURRENT_USER", "CURRENT_PATH", "CURRENT_ROLE", "CURRENT_CATALOG", "CURRENT_SCHEMA":
		p.i++
		return &Current{at: at{pos}, Name: up}
	case "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP":
		p.i++
		c := &Current{at: at{pos}, Name: up}
		if p.acceptOp("(") {
			c.Precision = p.expr()
			p.expectOp(")")
		}
		return c
	case "NORMALIZE":
		p.i++
		p.expectOp("(")
		args := []Expr{p.expr()}
		if p.acceptOp(",") {
			form := p.identOrKeyword()
			args = append(args, &Literal{at: at{form.P}, Kind: LitString, Value: strings.ToUpper(form.Name)})
		}
		p.expectOp(")")
		return &Call{at: at{pos}, Name: simpleName(pos, "normalize"), Args: args}
	case "TRIM":
		return p.trim()
	case "LISTAGG":
		return p.listagg()
	case "JSON_EXISTS", "JSON_VALUE", "JSON_QUERY", "JSON_ARRAY", "JSON_OBJECT":
		return p.jsonFunc(up)
	case "GROUPING":
		p.i++
		c := &Call{at: at{pos}, Name: simpleName(pos, "grouping")}
		p.callArgs(c)
		return c
	}
	if t.Reserved {
		p.unexpected("expression")
	}
	next := p.peekAt(1)
	switch up {
	case "INTERVAL":
		if next.Kind == TokString || next.Kind == TokOp && (next.Text == "+" || next.Text == "-") {
			return p.interval()
		}
	case "TRY_CAST":
		if next.Kind == TokOp && next.Text == "(" {
			return p.cast(true)
		}
	case "ARRAY":
		if next.Kind == TokOp && next.Text == "[" {
			p.i += 2
			a := &Array{at: at{pos}}
			if !p.isOp("]") {
				a.Elems = p.exprList()
			}
			p.expectOp("]")
			return a
		}
	case "ROW":
		if next.Kind == TokOp && next.Text == "(" {
			return p.rowCtor()
		}
	case "POSITION":
		if next.Kind == TokOp && next.Text == "(" {
			p.i += 2
			needle := p.value()
			p.expectKw("IN")
			hay := p.value()
			p.expectOp(")")
			return &Call{at: at{pos}, Name: simpleName(pos, "strpos"), Args: []Expr{hay, needle}}
		}
	case "SUBSTRING":
		if next.Kind == TokOp && next.Text == "(" {
			return p.substring()
		}
	case "DOUBLE":
		if isKwTok(next, "PRECISION") && p.peekAt(2).Kind == TokString {
			p.i += 2
			s := p.advance()
			return &Literal{at: at{pos}, Kind: LitTyped, Type: "double", Value: s.Val}
		}
	case "RUNNING", "FINAL":
		// Pattern-recognition processing mode before a navigation function.
		if next.Kind == TokIdent && !next.Reserved && p.isOpAt(2, "(") {
			p.i++
			return p.primary()
		}
	}
	if next.Kind == TokString || next.Kind == TokUnicodeStr {
		// Type constructor: DATE '2024-01-01', TIMESTAMP '…', JSON '…', CHAR '…'.
		p.i++
		s := p.stringLit()
		return &Literal{at: at{pos}, Kind: LitTyped, Type: strings.ToLower(t.Text), Value: s.Value}
	}
	if next.Kind == TokOp && next.Text == "->" {
		id := p.ident()
		p.i++
		return &Lambda{at: at{pos}, Params: []*Ident{id}, Body: p.expr()}
	}
	return p.nameOrCall()
}

func simpleName(pos Pos, name string) *QualifiedName {
	return &QualifiedName{at: at{pos}, Parts: []*Ident{{at: at{pos}, Name: name}}}
}

// nameOrCall parses an identifier chain, a function call, or a type-qualified
// call (varchar::chr(65)).
func (p *parser) nameOrCall() Expr {
	first := p.ident()
	parts := []*Ident{first}
	for p.isOp(".") && (p.peekAt(1).Kind == TokIdent || p.peekAt(1).Kind == TokQuotedIdent) && !p.isOpAt(2, "(") {
		p.i++
		parts = append(parts, p.identOrKeyword())
	}
	if p.isOp(".") && p.isOpAt(2, "(") && (p.peekAt(1).Kind == TokIdent || p.peekAt(1).Kind == TokQuotedIdent) {
		// Qualified function name: schema.fn(…)
		p.i++
		parts = append(parts, p.identOrKeyword())
	}
	if p.isOp("::") {
		p.i++
		fn := p.identOrKeyword()
		name := &QualifiedName{at: at{first.P}, Parts: []*Ident{{at: at{first.P}, Name: first.Name + "::" + fn.Name}}}
		c := &Call{at: at{first.P}, Name: name}
		p.callArgs(c)
		return c
	}
	if p.isOp("(") {
		c := &Call{at: at{first.P}, Name: &QualifiedName{at: at{first.P}, Parts: parts}}
		p.callArgs(c)
		p.callSuffix(c)
		return c
	}
	if len(parts) == 1 && p.isKw("OVER") && (p.isIdentAt(1) || p.isOpAt(1, "(")) {
		// A row-pattern measure evaluated over a window: value OVER w.
		c := &Call{at: at{first.P}, Name: &QualifiedName{at: at{first.P}, Parts: parts}, Measure: true}
		p.callSuffix(c)
		return c
	}
	return &Name{at: at{first.P}, Parts: parts}
}

// callArgs parses '(' [DISTINCT|ALL] args [ORDER BY …] ')' into c.
func (p *parser) callArgs(c *Call) {
	p.expectOp("(")
	p.enter()
	defer p.leave()
	if p.isOp("*") && p.isOpAt(1, ")") {
		p.i += 2
		return
	}
	if p.acceptOp(")") {
		return
	}
	if p.acceptKw("DISTINCT") {
		c.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	for {
		c.Args = append(c.Args, p.callArg())
		if !p.acceptOp(",") {
			break
		}
	}
	if p.acceptKw("ORDER", "BY") {
		c.OrderBy = p.sortItems()
	}
	p.expectOp(")")
}

// callArg parses one argument: name => value, a lambda, or an expression.
func (p *parser) callArg() Expr {
	if p.isIdent() && p.isOpAt(1, "=>") {
		name := p.ident()
		p.i++
		return &NamedArg{at: at{name.P}, Name: name, Value: p.expr()}
	}
	return p.expr()
}

// callSuffix parses WITHIN GROUP, FILTER, null treatment and OVER after a call.
func (p *parser) callSuffix(c *Call) {
	if p.acceptKw("WITHIN", "GROUP") {
		p.expectOp("(")
		p.expectKw("ORDER", "BY")
		c.OrderBy = append(c.OrderBy, p.sortItems()...)
		p.expectOp(")")
	}
	if p.isKw("FILTER") && p.isOpAt(1, "(") {
		p.i += 2
		p.expectKw("WHERE")
		c.Filter = p.expr()
		p.expectOp(")")
	}
	if p.isKw("IGNORE", "NULLS") || p.isKw("RESPECT", "NULLS") {
		p.i += 2
	}
	if p.isKw("OVER") {
		pos := p.advance().Pos
		w := &Window{at: at{pos}}
		if p.isIdent() {
			w.Ref = p.ident()
		} else {
			p.expectOp("(")
			w.Spec = p.windowSpec(pos)
			p.expectOp(")")
		}
		c.Over = w
	}
}

// parenExpr parses what follows '(' in an expression: a subquery, a lambda's
// parameter list, a parenthesised expression or a row constructor.
func (p *parser) parenExpr() Expr {
	pos := p.pos()
	if p.isLambdaParams() {
		p.i++
		var params []*Ident
		for !p.isOp(")") {
			params = append(params, p.ident())
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
		p.expectOp("->")
		return &Lambda{at: at{pos}, Params: params, Body: p.expr()}
	}
	p.expectOp("(")
	p.enter()
	defer p.leave()
	if p.startsQuery() {
		q := p.query()
		p.expectOp(")")
		return &Subquery{at: at{pos}, Query: q}
	}
	x := p.expr()
	if sq, ok := x.(*Subquery); ok && p.isSetOpOrQueryTail() {
		// ((SELECT …) UNION (SELECT …)): the inner subquery began a larger query.
		q := p.queryRest(pos, nil, &ParenQuery{at: at{sq.P}, Query: sq.Query})
		p.expectOp(")")
		return &Subquery{at: at{pos}, Query: q}
	}
	if p.acceptOp(",") {
		r := &Row{at: at{pos}, Elems: []Expr{x}}
		r.Elems = append(r.Elems, p.exprList()...)
		p.expectOp(")")
		return r
	}
	p.expectOp(")")
	return x
}

func (p *parser) isSetOpOrQueryTail() bool {
	return p.isAnyKw("UNION", "INTERSECT", "EXCEPT", "ORDER", "LIMIT", "OFFSET", "FETCH")
}

// isLambdaParams reports whether '(' [ident {, ident}] ')' '->' is next.
func (p *parser) isLambdaParams() bool {
	if !p.isOp("(") {
		return false
	}
	i := 1
	for {
		t := p.peekAt(i)
		if t.Kind == TokOp && t.Text == ")" {
			return p.isOpAt(i+1, "->")
		}
		if !(t.Kind == TokQuotedIdent || t.Kind == TokIdent && !t.Reserved) {
			return false
		}
		i++
		if p.isOpAt(i, ",") {
			i++
		}
	}
}

func (p *parser) caseExpr() Expr {
	pos := p.advance().Pos
	c := &Case{at: at{pos}}
	if !p.isKw("WHEN") {
		c.Operand = p.expr()
	}
	for p.isKw("WHEN") {
		wpos := p.advance().Pos
		w := &When{at: at{wpos}}
		if c.Operand != nil && p.isSimpleCaseOperator() {
			// Extended simple CASE: WHEN > 100, WHEN BETWEEN 1 AND 10, WHEN IS NULL.
			w.Cond = p.predicate(nil)
		} else {
			w.Cond = p.expr()
		}
		p.expectKw("THEN")
		w.Result = p.expr()
		c.Whens = append(c.Whens, w)
	}
	if len(c.Whens) == 0 {
		p.unexpected("WHEN")
	}
	if p.acceptKw("ELSE") {
		c.Else = p.expr()
	}
	p.expectKw("END")
	return c
}

func (p *parser) isSimpleCaseOperator() bool {
	t := p.peek()
	if t.Kind == TokOp && comparisonOps[t.Text] {
		return true
	}
	return p.isAnyKw("BETWEEN", "IN", "LIKE", "IS") || p.isKw("NOT") && p.peekAt(1).Kind == TokIdent && isAnyFold(p.peekAt(1).Text, "BETWEEN", "IN", "LIKE")
}

func (p *parser) cast(try bool) Expr {
	pos := p.advance().Pos
	p.expectOp("(")
	x := p.expr()
	p.expectKw("AS")
	typ := p.dataType()
	p.expectOp(")")
	return &Cast{at: at{pos}, X: x, Typ: typ, Try: try}
}

func (p *parser) interval() Expr {
	pos := p.advance().Pos
	lit := &Literal{at: at{pos}, Kind: LitInterval}
	if p.isOp("-") || p.isOp("+") {
		lit.Neg = p.advance().Text == "-"
	}
	lit.Value = p.stringLit().Value
	from := p.intervalField()
	lit.Type = from
	if p.acceptKw("TO") {
		lit.Type += " TO " + p.intervalField()
	}
	return lit
}

func (p *parser) intervalField() string {
	if p.isAnyKw("YEAR", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND") {
		return strings.ToUpper(p.advance().Text)
	}
	p.unexpected("YEAR, MONTH, DAY, HOUR, MINUTE or SECOND")
	return ""
}

func (p *parser) rowCtor() Expr {
	pos := p.advance().Pos
	p.expectOp("(")
	r := &Row{at: at{pos}}
	named := false
	for {
		x := p.expr()
		r.Elems = append(r.Elems, x)
		var name *Ident
		if p.acceptKw("AS") {
			name = p.ident()
			named = true
		}
		r.Names = append(r.Names, name)
		if !p.acceptOp(",") {
			break
		}
	}
	if !named {
		r.Names = nil
	}
	p.expectOp(")")
	return r
}

func (p *parser) substring() Expr {
	pos := p.advance().Pos
	p.expectOp("(")
	c := &Call{at: at{pos}, Name: simpleName(pos, "substring")}
	c.Args = append(c.Args, p.expr())
	if p.acceptKw("FROM") {
		c.Args = append(c.Args, p.expr())
		if p.acceptKw("FOR") {
			c.Args = append(c.Args, p.expr())
		}
	} else {
		for p.acceptOp(",") {
			c.Args = append(c.Args, p.expr())
		}
	}
	p.expectOp(")")
	return c
}

func (p *parser) trim() Expr {
	pos := p.advance().Pos
	p.expectOp("(")
	c := &Call{at: at{pos}, Name: simpleName(pos, "trim")}
	if p.isAnyKw("BOTH", "LEADING", "TRAILING") {
		spec := strings.ToLower(p.advance().Text)
		if spec == "leading" {
			c.Name = simpleName(pos, "ltrim")
		} else if spec == "trailing" {
			c.Name = simpleName(pos, "rtrim")
		}
		if !p.isKw("FROM") {
			c.Args = append(c.Args, p.value())
		}
		p.expectKw("FROM")
		c.Args = append([]Expr{p.value()}, c.Args...)
		p.expectOp(")")
		return c
	}
	first := p.value()
	switch {
	case p.acceptKw("FROM"):
		c.Args = []Expr{p.value(), first}
	case p.acceptOp(","):
		c.Args = []Expr{first, p.value()}
	default:
		c.Args = []Expr{first}
	}
	p.expectOp(")")
	return c
}

func (p *parser) listagg() Expr {
	pos := p.advance().Pos
	p.expectOp("(")
	c := &Call{at: at{pos}, Name: simpleName(pos, "listagg")}
	if p.acceptKw("DISTINCT") {
		c.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	c.Args = append(c.Args, p.expr())
	if p.acceptOp(",") {
		c.Args = append(c.Args, p.stringLit())
	}
	if p.acceptKw("ON", "OVERFLOW") {
		if !p.acceptKw("ERROR") {
			p.expectKw("TRUNCATE")
			if p.peek().Kind == TokString {
				c.Args = append(c.Args, p.stringLit())
			}
			if !p.acceptKw("WITH", "COUNT") {
				p.expectKw("WITHOUT", "COUNT")
			}
		}
	}
	p.expectOp(")")
	p.callSuffix(c)
	return c
}

// jsonClauseWords are the words that make up JSON function clauses.
var jsonClauseWords = map[string]bool{
	"FORMAT": true, "JSON": true, "ENCODING": true, "UTF8": true, "UTF16": true, "UTF32": true,
	"ON": true, "ERROR": true, "EMPTY": true, "NULL": true, "TRUE": true, "FALSE": true,
	"UNKNOWN": true, "WITH": true, "WITHOUT": true, "CONDITIONAL": true, "UNCONDITIONAL": true,
	"ARRAY": true, "WRAPPER": true, "KEEP": true, "OMIT": true, "QUOTES": true, "SCALAR": true,
	"STRING": true, "ABSENT": true, "UNIQUE": true, "KEYS": true, "OBJECT": true, "LAX": true, "STRICT": true,
}

// jsonFunc parses the JSON functions. Their clauses are kept out of the tree;
// every expression inside (input, path, PASSING values, DEFAULT values, keys and
// values) is kept in Args so no subquery or column is missed.
func (p *parser) jsonFunc(name string) Expr {
	pos := p.advance().Pos
	p.expectOp("(")
	p.enter()
	defer p.leave()
	f := &JSONFunc{at: at{pos}, Name: strings.ToLower(name)}
	wantExpr := true
	for !p.isOp(")") {
		t := p.peek()
		switch {
		case t.Kind == TokEOF:
			p.unexpected("')'")
		case t.Kind == TokOp && (t.Text == "," || t.Text == ":"):
			p.i++
			wantExpr = true
		case isKwTok(t, "PASSING") || isKwTok(t, "DEFAULT") || isKwTok(t, "VALUE") || isKwTok(t, "KEY") && !wantExpr:
			p.i++
			wantExpr = true
		case isKwTok(t, "KEY") && wantExpr && !p.isOpAt(1, ",") && !p.isOpAt(1, ":") && !p.isOpAt(1, ")"):
			p.i++ // JSON_OBJECT(KEY k VALUE v)
		case isKwTok(t, "RETURNING"):
			p.i++
			p.dataType()
			wantExpr = false
		case isKwTok(t, "AS") && !wantExpr:
			p.i++
			p.ident()
		case wantExpr && !(t.Kind == TokIdent && jsonClauseWords[strings.ToUpper(t.Text)] && p.jsonClauseAhead()):
			f.Args = append(f.Args, p.expr())
			wantExpr = false
		case t.Kind == TokIdent:
			p.i++
			wantExpr = false
		default:
			p.unexpected("')'")
		}
	}
	p.expectOp(")")
	return f
}

// jsonClauseAhead decides whether a clause word at the cursor starts a clause
// (NULL ON ERROR, ABSENT ON NULL, WITH UNIQUE KEYS, …) rather than a value.
func (p *parser) jsonClauseAhead() bool {
	t, n := p.peek(), p.peekAt(1)
	switch strings.ToUpper(t.Text) {
	case "NULL", "TRUE", "FALSE", "UNKNOWN", "ERROR", "EMPTY", "ABSENT":
		return isKwTok(n, "ON") || strings.EqualFold(t.Text, "EMPTY") && (isKwTok(n, "ARRAY") || isKwTok(n, "OBJECT"))
	case "ARRAY":
		return !(n.Kind == TokOp && n.Text == "[")
	case "WITH", "WITHOUT", "KEEP", "OMIT", "FORMAT":
		return true
	}
	return false
}

// ---- types ----

func (p *parser) dataType() *Type {
	p.enter()
	defer p.leave()
	pos := p.pos()
	var typ *Type
	switch {
	case p.isKw("ROW") && p.isOpAt(1, "("):
		p.i += 2
		typ = &Type{at: at{pos}, Name: "row"}
		for {
			f := &RowField{}
			if p.isIdent() && p.isRowFieldName() {
				f.Name = p.ident()
			}
			f.Type = p.dataType()
			typ.Fields = append(typ.Fields, f)
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	case p.isKw("INTERVAL"):
		p.i++
		name := "interval " + strings.ToLower(p.intervalField())
		if p.acceptKw("TO") {
			name += " to " + strings.ToLower(p.intervalField())
		}
		typ = &Type{at: at{pos}, Name: name}
	case p.isKw("DOUBLE", "PRECISION"):
		p.i += 2
		typ = &Type{at: at{pos}, Name: "double"}
	case p.isKw("ARRAY") && p.isOpAt(1, "<"):
		p.i += 2
		typ = &Type{at: at{pos}, Name: "array", Args: []*TypeArg{{Type: p.dataType()}}}
		p.expectOp(">")
	case p.isKw("MAP") && p.isOpAt(1, "<"):
		p.i += 2
		typ = &Type{at: at{pos}, Name: "map", Args: []*TypeArg{{Type: p.dataType()}}}
		p.expectOp(",")
		typ.Args = append(typ.Args, &TypeArg{Type: p.dataType()})
		p.expectOp(">")
	default:
		id := p.ident()
		typ = &Type{at: at{pos}, Name: strings.ToLower(id.Name)}
		if p.acceptOp("(") {
			for {
				if t := p.peek(); t.Kind == TokInteger {
					p.i++
					typ.Args = append(typ.Args, &TypeArg{Number: t.Val})
				} else {
					typ.Args = append(typ.Args, &TypeArg{Type: p.dataType()})
				}
				if !p.acceptOp(",") {
					break
				}
			}
			p.expectOp(")")
		}
		if (typ.Name == "timestamp" || typ.Name == "time") && (p.isKw("WITH") || p.isKw("WITHOUT")) {
			with := p.advance()
			p.expectKw("TIME", "ZONE")
			if isKwTok(with, "WITH") {
				typ.Name += " with time zone"
			}
		}
	}
	for p.isKw("ARRAY") {
		// Legacy postfix form: integer ARRAY.
		p.i++
		typ = &Type{at: at{pos}, Name: "array", Args: []*TypeArg{{Type: typ}}}
	}
	return typ
}

// isRowFieldName reports whether the identifier at the cursor names a row
// field (ROW(x bigint)) rather than starting an unnamed field's type.
func (p *parser) isRowFieldName() bool {
	n := p.peekAt(1)
	if n.Kind != TokIdent && n.Kind != TokQuotedIdent {
		return false
	}
	if p.isKw("DOUBLE", "PRECISION") {
		return false
	}
	return !n.Reserved
}

// ---- windows ----

func (p *parser) windowSpec(pos Pos) *WindowSpec {
	s := &WindowSpec{at: at{pos}}
	if p.isIdent() && !p.isAnyKw("PARTITION", "ORDER", "ROWS", "RANGE", "GROUPS", "MEASURES") {
		s.Existing = p.ident()
	}
	if p.acceptKw("PARTITION", "BY") {
		s.PartitionBy = p.exprList()
	}
	if p.acceptKw("ORDER", "BY") {
		s.OrderBy = p.sortItems()
	}
	if p.acceptKw("MEASURES") {
		s.Measures = p.measures()
	}
	if p.isAnyKw("ROWS", "RANGE", "GROUPS") {
		f := &Frame{Unit: strings.ToUpper(p.advance().Text)}
		if p.acceptKw("BETWEEN") {
			f.Start = p.frameBound()
			p.expectKw("AND")
			f.End = p.frameBound()
		} else {
			f.Start = p.frameBound()
		}
		s.Frame = f
	}
	p.patternClauses(s)
	return s
}

func (p *parser) frameBound() *FrameBound {
	switch {
	case p.acceptKw("UNBOUNDED", "PRECEDING"):
		return &FrameBound{Kind: "UNBOUNDED PRECEDING"}
	case p.acceptKw("UNBOUNDED", "FOLLOWING"):
		return &FrameBound{Kind: "UNBOUNDED FOLLOWING"}
	case p.acceptKw("CURRENT", "ROW"):
		return &FrameBound{Kind: "CURRENT ROW"}
	}
	x := p.expr()
	if p.acceptKw("PRECEDING") {
		return &FrameBound{Kind: "PRECEDING", Value: x}
	}
	p.expectKw("FOLLOWING")
	return &FrameBound{Kind: "FOLLOWING", Value: x}
}

func (p *parser) measures() []*Measure {
	var ms []*Measure
	for {
		x := p.expr()
		p.expectKw("AS")
		ms = append(ms, &Measure{Expr: x, Name: p.ident()})
		if !p.acceptOp(",") {
			return ms
		}
	}
}

// patternClauses parses the row-pattern clauses shared by MATCH_RECOGNIZE and
// window specifications: AFTER MATCH SKIP, INITIAL|SEEK, PATTERN, SUBSET, DEFINE.
func (p *parser) patternClauses(s *WindowSpec) {
	if p.acceptKw("AFTER", "MATCH", "SKIP") {
		switch {
		case p.acceptKw("TO", "NEXT", "ROW"), p.acceptKw("PAST", "LAST", "ROW"):
		case p.acceptKw("TO"):
			p.acceptKw("FIRST")
			p.acceptKw("LAST")
			p.ident()
		default:
			p.unexpected("TO or PAST")
		}
	}
	if !p.acceptKw("INITIAL") {
		p.acceptKw("SEEK")
	}
	if p.acceptKw("PATTERN") {
		p.expectOp("(")
		p.skipBalanced()
	}
	if p.acceptKw("SUBSET") {
		for {
			p.ident()
			p.expectOp("=")
			p.identList()
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if p.acceptKw("DEFINE") {
		for {
			name := p.ident()
			p.expectKw("AS")
			s.Defines = append(s.Defines, &Measure{Name: name, Expr: p.expr()})
			if !p.acceptOp(",") {
				break
			}
		}
	}
}

func (p *parser) sortItems() []*SortItem {
	var items []*SortItem
	for {
		items = append(items, p.sortItem())
		if !p.acceptOp(",") {
			return items
		}
	}
}

func (p *parser) sortItem() *SortItem {
	it := &SortItem{Expr: p.expr()}
	if p.acceptKw("DESC") {
		it.Desc = true
	} else {
		p.acceptKw("ASC")
	}
	if p.acceptKw("NULLS") {
		if p.acceptKw("FIRST") {
			it.Nulls = "FIRST"
		} else {
			p.expectKw("LAST")
			it.Nulls = "LAST"
		}
	}
	return it
}
