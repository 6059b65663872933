package sql

import "strings"

func (p *parser) statement() Statement {
	// EXPLAIN and PREPARE nest statements.
	p.enter()
	defer p.leave()
	t := p.peek()
	pos := t.Pos
	if t.Kind == TokOp && t.Text == "(" {
		return &QueryStmt{at: at{pos}, Query: p.query()}
	}
	if t.Kind != TokIdent {
		p.unexpected("a SQL statement")
	}
	switch strings.ToUpper(t.Text) {
	case "SELECT", "WITH", "VALUES", "TABLE":
		return &QueryStmt{at: at{pos}, Query: p.query()}
	case "INSERT":
		return p.insert()
	case "CREATE":
		return p.create()
	case "ALTER":
		return p.alter()
	case "DROP":
		return p.drop()
	case "DELETE":
		p.i++
		p.expectKw("FROM")
		d := &Delete{at: at{pos}, Table: p.qualifiedName()}
		d.Branch = p.branch()
		if p.acceptKw("WHERE") {
			d.Where = p.expr()
		}
		return d
	case "UPDATE":
		return p.update()
	case "MERGE":
		return p.merge()
	case "TRUNCATE":
		p.i++
		p.expectKw("TABLE")
		return &Truncate{at: at{pos}, Table: p.qualifiedName()}
	case "SHOW":
		return p.show()
	case "DESCRIBE", "DESC":
		return p.describe()
	case "EXPLAIN":
		return p.explain()
	case "USE":
		p.i++
		first := p.ident()
		u := &Use{at: at{pos}, Schema: first}
		if p.acceptOp(".") {
			u.Catalog, u.Schema = first, p.ident()
		}
		return u
	case "SET":
		return p.set()
	case "RESET":
		p.i++
		if p.acceptKw("SESSION", "AUTHORIZATION") {
			return &DDL{at: at{pos}, Kind: "reset_session_authorization"}
		}
		p.expectKw("SESSION")
		return &ResetSession{at: at{pos}, Name: p.qualifiedName()}
	case "PREPARE":
		p.i++
		pr := &Prepare{at: at{pos}, Name: p.ident()}
		p.expectKw("FROM")
		start := p.pos().Offset
		pr.Stmt = p.statement()
		// The text ends with the statement's last token: no ';', no trailing comment.
		last := p.toks[p.i-1]
		pr.Text = p.src[start : last.Pos.Offset+len(last.Text)]
		return pr
	case "EXECUTE":
		p.i++
		if p.acceptKw("IMMEDIATE") {
			e := &ExecuteImmediate{at: at{pos}, SQL: p.primary()}
			if p.acceptKw("USING") {
				e.Using = p.exprList()
			}
			return e
		}
		e := &Execute{at: at{pos}, Name: p.ident()}
		if p.acceptKw("USING") {
			e.Using = p.exprList()
		}
		return e
	case "DEALLOCATE":
		p.i++
		p.expectKw("PREPARE")
		return &Deallocate{at: at{pos}, Name: p.ident()}
	case "START":
		p.i++
		p.expectKw("TRANSACTION")
		tx := &Transaction{at: at{pos}, Verb: "START"}
		for p.peek().Kind == TokIdent {
			var mode []string
			for p.peek().Kind == TokIdent {
				mode = append(mode, strings.ToUpper(p.advance().Text))
			}
			tx.Modes = append(tx.Modes, strings.Join(mode, " "))
			if !p.acceptOp(",") {
				break
			}
		}
		return tx
	case "COMMIT", "ROLLBACK":
		verb := strings.ToUpper(p.advance().Text)
		p.acceptKw("WORK")
		return &Transaction{at: at{pos}, Verb: verb}
	case "CALL":
		p.i++
		c := &CallStmt{at: at{pos}, Name: p.qualifiedName()}
		p.expectOp("(")
		for !p.isOp(")") {
			c.Args = append(c.Args, p.callArg())
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
		return c
	case "GRANT", "REVOKE", "DENY":
		return p.privilege()
	case "COMMENT":
		p.i++
		p.expectKw("ON")
		c := &Comment{at: at{pos}}
		switch {
		case p.acceptKw("TABLE"):
			c.On = "TABLE"
		case p.acceptKw("VIEW"):
			c.On = "VIEW"
		case p.acceptKw("COLUMN"):
			c.On = "COLUMN"
		default:
			p.unexpected("TABLE, VIEW or COLUMN")
		}
		c.Name = p.qualifiedName()
		p.expectKw("IS")
		if p.acceptKw("NULL") {
			return c
		}
		c.Text = p.stringLit()
		return c
	case "ANALYZE":
		p.i++
		a := &Analyze{at: at{pos}, Table: p.qualifiedName()}
		if p.isKw("WITH") {
			p.i++
			a.Props = p.properties()
		}
		return a
	case "REFRESH":
		p.i++
		p.expectKw("MATERIALIZED", "VIEW")
		return &DDL{at: at{pos}, Kind: "refresh_materialized_view", Object: "materialized_view", Name: p.qualifiedName()}
	}
	p.unexpected("a SQL statement (SELECT, INSERT, CREATE, …)")
	return nil
}

func (p *parser) branch() *Ident {
	if p.acceptOp("@") {
		return p.ident()
	}
	return nil
}

func (p *parser) insert() Statement {
	pos := p.advance().Pos
	p.expectKw("INTO")
	ins := &Insert{at: at{pos}, Table: p.qualifiedName()}
	ins.Branch = p.branch()
	if p.isOp("(") && !p.startsQueryAt(1) && !p.isOpAt(1, "(") {
		ins.Columns = p.identList()
	}
	ins.Query = p.query()
	return ins
}

func (p *parser) update() Statement {
	pos := p.advance().Pos
	u := &Update{at: at{pos}, Table: p.qualifiedName()}
	u.Branch = p.branch()
	p.expectKw("SET")
	for {
		col := p.ident()
		p.expectOp("=")
		u.Sets = append(u.Sets, &Assignment{Column: col, Value: p.expr()})
		if !p.acceptOp(",") {
			break
		}
	}
	if p.acceptKw("WHERE") {
		u.Where = p.expr()
	}
	return u
}

func (p *parser) merge() Statement {
	pos := p.advance().Pos
	p.expectKw("INTO")
	m := &Merge{at: at{pos}, Target: p.qualifiedName()}
	m.Branch = p.branch()
	if p.acceptKw("AS") || p.isIdent() {
		m.Alias = p.ident()
	}
	p.expectKw("USING")
	m.Source = p.relation()
	p.expectKw("ON")
	m.On = p.expr()
	for p.acceptKw("WHEN") {
		c := &MergeCase{Matched: true}
		if p.acceptKw("NOT") {
			c.Matched = false
		}
		p.expectKw("MATCHED")
		if p.acceptKw("AND") {
			c.Cond = p.expr()
		}
		p.expectKw("THEN")
		switch {
		case p.acceptKw("DELETE"):
			c.Action = "DELETE"
		case p.acceptKw("UPDATE", "SET"):
			c.Action = "UPDATE"
			for {
				col := p.ident()
				p.expectOp("=")
				c.Sets = append(c.Sets, &Assignment{Column: col, Value: p.expr()})
				if !p.acceptOp(",") {
					break
				}
			}
		case p.acceptKw("INSERT"):
			c.Action = "INSERT"
			if p.isOp("(") {
				c.Columns = p.identList()
			}
			p.expectKw("VALUES")
			p.expectOp("(")
			c.Values = p.exprList()
			p.expectOp(")")
		default:
			p.unexpected("UPDATE, DELETE or INSERT")
		}
		m.Cases = append(m.Cases, c)
	}
	if len(m.Cases) == 0 {
		p.unexpected("WHEN")
	}
	return m
}

func (p *parser) explain() Statement {
	pos := p.advance().Pos
	e := &Explain{at: at{pos}}
	if p.acceptKw("ANALYZE") {
		e.Analyze = true
		if p.acceptKw("VERBOSE") {
			e.Options = append(e.Options, "VERBOSE")
		}
	}
	if p.isOp("(") && !p.startsQueryAt(1) {
		p.i++
		for {
			var opt []string
			for p.peek().Kind == TokIdent {
				opt = append(opt, strings.ToUpper(p.advance().Text))
			}
			if len(opt) == 0 {
				p.unexpected("TYPE or FORMAT")
			}
			e.Options = append(e.Options, strings.Join(opt, " "))
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	}
	e.Stmt = p.statement()
	return e
}

func (p *parser) describe() Statement {
	pos := p.advance().Pos
	switch {
	case p.isAnyKw("INPUT", "OUTPUT") && (p.isIdentAt(1) || p.isOpAt(1, "(")) && !p.isOpAt(1, "."):
		d := &DescribeIO{at: at{pos}, Output: isKwTok(p.advance(), "OUTPUT")}
		if d.Output && p.acceptOp("(") {
			d.Query = p.query()
			p.expectOp(")")
			return d
		}
		d.Name = p.ident()
		return d
	}
	return &Describe{at: at{pos}, Table: p.qualifiedName()}
}

func (p *parser) show() Statement {
	pos := p.advance().Pos
	s := &Show{at: at{pos}}
	likeClause := func() {
		if p.acceptKw("LIKE") {
			s.Like = p.stringLit()
			if p.acceptKw("ESCAPE") {
				s.Escape = p.stringLit()
			}
		}
	}
	fromTarget := func() {
		if p.acceptKw("FROM") || p.acceptKw("IN") {
			s.Target = p.qualifiedName()
		}
	}
	switch {
	case p.acceptKw("CATALOGS"):
		s.What = "CATALOGS"
		likeClause()
	case p.acceptKw("SCHEMAS"):
		s.What = "SCHEMAS"
		fromTarget()
		likeClause()
	case p.acceptKw("TABLES"):
		s.What = "TABLES"
		fromTarget()
		likeClause()
	case p.acceptKw("COLUMNS"):
		s.What, s.Table = "COLUMNS", true
		if !p.acceptKw("FROM") {
			p.expectKw("IN")
		}
		s.Target = p.qualifiedName()
		likeClause()
	case p.acceptKw("CREATE"):
		s.Table = true
		switch {
		case p.acceptKw("TABLE"):
			s.What = "CREATE TABLE"
		case p.acceptKw("VIEW"):
			s.What = "CREATE VIEW"
		case p.acceptKw("MATERIALIZED", "VIEW"):
			s.What = "CREATE MATERIALIZED VIEW"
		case p.acceptKw("SCHEMA"):
			s.What, s.Table = "CREATE SCHEMA", false
		case p.acceptKw("FUNCTION"):
			s.What, s.Table = "CREATE FUNCTION", false
		default:
			p.unexpected("TABLE, VIEW, MATERIALIZED VIEW, SCHEMA or FUNCTION")
		}
		s.Target = p.qualifiedName()
	case p.acceptKw("FUNCTIONS"):
		s.What = "FUNCTIONS"
		fromTarget()
		likeClause()
	case p.acceptKw("SESSION"):
		s.What = "SESSION"
		likeClause()
	case p.acceptKw("GRANTS"):
		s.What = "GRANTS"
		if p.acceptKw("ON") {
			s.Table = true
			if p.acceptKw("SCHEMA") {
				s.Table = false
			} else {
				p.acceptKw("TABLE")
			}
			s.Target = p.qualifiedName()
		}
	case p.acceptKw("ROLE", "GRANTS"):
		s.What = "ROLE GRANTS"
		fromTarget()
	case p.acceptKw("CURRENT", "ROLES"):
		s.What = "CURRENT ROLES"
		fromTarget()
	case p.acceptKw("ROLES"):
		s.What = "ROLES"
		fromTarget()
	case p.acceptKw("BRANCHES"):
		s.What, s.Table = "BRANCHES", true
		if !p.acceptKw("FROM") {
			p.expectKw("IN")
		}
		p.acceptKw("TABLE")
		s.Target = p.qualifiedName()
	case p.acceptKw("STATS"):
		s.What = "STATS"
		p.expectKw("FOR")
		if p.acceptOp("(") {
			s.Query = p.query()
			p.expectOp(")")
		} else {
			s.Target, s.Table = p.qualifiedName(), true
		}
	default:
		p.unexpected("CATALOGS, SCHEMAS, TABLES, COLUMNS, CREATE, FUNCTIONS, SESSION, GRANTS, ROLES, BRANCHES or STATS")
	}
	return s
}

func (p *parser) set() Statement {
	pos := p.advance().Pos
	switch {
	case p.acceptKw("SESSION", "AUTHORIZATION"):
		d := &DDL{at: at{pos}, Kind: "set_session_authorization"}
		if t := p.peek(); t.Kind == TokString {
			d.Exprs = []Expr{p.stringLit()}
		} else {
			p.ident()
		}
		return d
	case p.acceptKw("SESSION"):
		s := &SetSession{at: at{pos}, Name: p.qualifiedName()}
		p.expectOp("=")
		s.Value = p.expr()
		return s
	case p.acceptKw("ROLE"):
		d := &DDL{at: at{pos}, Kind: "set_role"}
		if !p.acceptKw("ALL") && !p.acceptKw("NONE") {
			p.ident()
		}
		if p.acceptKw("IN") {
			p.ident()
		}
		return d
	case p.acceptKw("PATH"):
		d := &DDL{at: at{pos}, Kind: "set_path"}
		for {
			p.qualifiedName()
			if !p.acceptOp(",") {
				break
			}
		}
		return d
	case p.acceptKw("TIME", "ZONE"):
		d := &DDL{at: at{pos}, Kind: "set_time_zone"}
		if !p.acceptKw("LOCAL") {
			d.Exprs = []Expr{p.expr()}
		}
		return d
	}
	p.unexpected("SESSION, ROLE, PATH or TIME ZONE")
	return nil
}

func (p *parser) privilege() Statement {
	t := p.advance()
	pv := &Privilege{at: at{t.Pos}, Verb: strings.ToUpper(t.Text)}
	if pv.Verb == "REVOKE" {
		switch {
		case p.acceptKw("GRANT", "OPTION", "FOR"), p.acceptKw("ADMIN", "OPTION", "FOR"):
		}
	}
	// Role grants: GRANT r1, r2 TO … (no ON clause).
	start := p.i
	var words []string
	for !p.isKw("ON") && !p.isKw("TO") && !p.isKw("FROM") && (p.peek().Kind == TokIdent || p.peek().Kind == TokQuotedIdent || p.isOp(",")) {
		tk := p.advance()
		if tk.Kind != TokOp {
			words = append(words, strings.ToUpper(tk.Text))
		}
	}
	if !p.isKw("ON") {
		p.i = start
		return p.roleGrant(pv)
	}
	pv.Privileges = words
	p.expectKw("ON")
	switch {
	case p.acceptKw("SCHEMA"):
		pv.On = "SCHEMA"
	case p.acceptKw("BRANCH"):
		pv.On = "BRANCH"
		pv.Branch = p.ident()
		p.expectKw("IN")
		p.acceptKw("TABLE")
	default:
		p.acceptKw("TABLE")
		pv.On = "TABLE"
	}
	pv.Object = p.qualifiedName()
	if pv.Verb == "REVOKE" {
		p.expectKw("FROM")
	} else {
		p.expectKw("TO")
	}
	pv.Grantees = p.principals()
	if p.acceptKw("WITH", "GRANT", "OPTION") {
		pv.Privileges = append(pv.Privileges, "WITH GRANT OPTION")
	}
	return pv
}

func (p *parser) principals() []string {
	var out []string
	for {
		if p.isAnyKw("USER", "ROLE") && p.isIdentAt(1) {
			p.i++
		}
		out = append(out, p.ident().Norm())
		if !p.acceptOp(",") {
			return out
		}
	}
}

func (p *parser) roleGrant(pv *Privilege) Statement {
	d := &DDL{at: at{pv.P}, Kind: strings.ToLower(pv.Verb) + "_roles", Object: "role"}
	for {
		p.ident()
		if !p.acceptOp(",") {
			break
		}
	}
	if pv.Verb == "REVOKE" {
		p.expectKw("FROM")
	} else {
		p.expectKw("TO")
	}
	p.principals()
	switch {
	case p.acceptKw("WITH", "ADMIN", "OPTION"):
	}
	if p.acceptKw("GRANTED", "BY") {
		p.principals()
	}
	if p.acceptKw("IN") {
		p.ident()
	}
	return d
}

func (p *parser) create() Statement {
	pos := p.advance().Pos
	replace := p.acceptKw("OR", "REPLACE")
	switch {
	case p.acceptKw("TABLE"):
		return p.createTable(pos, replace)
	case p.acceptKw("VIEW"):
		return p.createView(pos, replace, false)
	case p.acceptKw("MATERIALIZED", "VIEW"):
		return p.createView(pos, replace, true)
	case p.acceptKw("SCHEMA"):
		d := &DDL{at: at{pos}, Kind: "create_schema", Object: "schema"}
		p.acceptKw("IF", "NOT", "EXISTS")
		d.Name = p.qualifiedName()
		if p.acceptKw("AUTHORIZATION") {
			p.principals()
		}
		if p.isKw("WITH") {
			p.i++
			d.Props = p.properties()
		}
		return d
	case p.acceptKw("CATALOG"):
		d := &DDL{at: at{pos}, Kind: "create_catalog", Object: "catalog"}
		p.acceptKw("IF", "NOT", "EXISTS")
		d.Name = p.qualifiedName()
		p.expectKw("USING")
		p.ident()
		if p.acceptKw("COMMENT") {
			p.stringLit()
		}
		if p.acceptKw("AUTHORIZATION") {
			p.principals()
		}
		if p.isKw("WITH") {
			p.i++
			d.Props = p.properties()
		}
		return d
	case p.acceptKw("ROLE"):
		d := &DDL{at: at{pos}, Kind: "create_role", Object: "role", Name: p.qualifiedName()}
		if p.acceptKw("WITH", "ADMIN") {
			p.principals()
		}
		if p.acceptKw("IN") {
			p.ident()
		}
		return d
	case p.isKw("FUNCTION"):
		f := p.function()
		return &DDL{at: at{pos}, Kind: "create_function", Object: "function", Name: f.Name, Function: f}
	case p.acceptKw("BRANCH"):
		p.acceptKw("IF", "NOT", "EXISTS")
		p.ident()
		p.expectKw("IN")
		p.expectKw("TABLE")
		d := &DDL{at: at{pos}, Kind: "create_branch", Object: "table", Name: p.qualifiedName()}
		if p.acceptKw("FROM") {
			p.ident()
		}
		if p.isKw("WITH") {
			p.i++
			d.Props = p.properties()
		}
		return d
	}
	p.unexpected("TABLE, VIEW, MATERIALIZED VIEW, SCHEMA, CATALOG, ROLE, FUNCTION or BRANCH")
	return nil
}

func (p *parser) createTable(pos Pos, replace bool) Statement {
	ifNot := p.acceptKw("IF", "NOT", "EXISTS")
	name := p.qualifiedName()
	var cols []*Ident
	var defs []*ColumnDef
	var likes []*QualifiedName
	isCTAS := false
	if p.isOp("(") {
		// A column list without types is CTAS's column aliases.
		if p.isIdentAt(1) && (p.isOpAt(2, ",") || p.isOpAt(2, ")")) {
			cols = p.identList()
			isCTAS = true
		} else {
			p.i++
			for {
				if p.acceptKw("LIKE") {
					likes = append(likes, p.qualifiedName())
					switch {
					case p.acceptKw("INCLUDING", "PROPERTIES"), p.acceptKw("EXCLUDING", "PROPERTIES"):
					}
				} else {
					defs = append(defs, p.columnDef())
				}
				if !p.acceptOp(",") {
					break
				}
			}
			p.expectOp(")")
		}
	}
	if p.acceptKw("COMMENT") {
		p.stringLit()
	}
	var props []*Property
	if p.isKw("WITH") && p.isOpAt(1, "(") {
		p.i++
		props = p.properties()
	}
	if p.isKw("AS") && (len(defs) > 0 || len(likes) > 0) {
		// CREATE TABLE … AS takes column names only, not definitions.
		p.unexpected("WITH or end of statement")
	}
	if p.acceptKw("AS") || isCTAS {
		if isCTAS && !p.isKw("SELECT") && !p.isKw("WITH") && !p.isKw("VALUES") && !p.isKw("TABLE") && !p.isOp("(") {
			p.unexpected("AS")
		}
		c := &CreateTableAs{at: at{pos}, Name: name, Replace: replace, IfNotExists: ifNot, Columns: cols, Props: props}
		if p.isOp("(") {
			qpos := p.advance().Pos
			c.Query = p.query()
			p.expectOp(")")
			if p.isSetOpOrQueryTail() {
				// AS (SELECT …) UNION (SELECT …): the parentheses began a larger query.
				c.Query = p.queryRest(qpos, nil, &ParenQuery{at: at{qpos}, Query: c.Query})
			}
		} else {
			c.Query = p.query()
		}
		if p.acceptKw("WITH", "NO", "DATA") {
			c.NoData = true
		} else {
			p.acceptKw("WITH", "DATA")
		}
		return c
	}
	if len(defs) == 0 && len(likes) == 0 {
		p.unexpected("'(' or AS")
	}
	return &CreateTable{at: at{pos}, Name: name, Replace: replace, IfNotExists: ifNot, Columns: defs, Likes: likes, Props: props}
}

func (p *parser) columnDef() *ColumnDef {
	c := &ColumnDef{Name: p.ident(), Typ: p.dataType()}
	for {
		switch {
		case p.acceptKw("DEFAULT"):
			c.Default = p.expr()
		case p.acceptKw("NOT", "NULL"):
			c.NotNull = true
		case p.acceptKw("COMMENT"):
			p.stringLit()
		case p.isKw("WITH") && p.isOpAt(1, "("):
			p.i++
			c.Props = p.properties()
		default:
			return c
		}
	}
}

func (p *parser) createView(pos Pos, replace, materialized bool) Statement {
	v := &CreateView{at: at{pos}, Replace: replace, Materialized: materialized}
	v.IfNotExists = p.acceptKw("IF", "NOT", "EXISTS")
	v.Name = p.qualifiedName()
	for {
		switch {
		case p.acceptKw("COMMENT"):
			p.stringLit()
		case p.acceptKw("SECURITY"):
			if !p.acceptKw("DEFINER") {
				p.expectKw("INVOKER")
			}
		case p.acceptKw("GRACE", "PERIOD"):
			v.Grace = p.value()
		case p.acceptKw("WHEN", "STALE"):
			if !p.acceptKw("INLINE") {
				p.expectKw("FAIL")
			}
		case p.isKw("WITH") && p.isOpAt(1, "("):
			p.i++
			v.Props = p.properties()
		default:
			p.expectKw("AS")
			v.Query = p.query()
			return v
		}
	}
}

// objectKind parses TABLE | VIEW | MATERIALIZED VIEW | SCHEMA | … after ALTER or DROP.
func (p *parser) objectKind() string {
	switch {
	case p.acceptKw("TABLE"):
		return "table"
	case p.acceptKw("VIEW"):
		return "view"
	case p.acceptKw("MATERIALIZED", "VIEW"):
		return "materialized_view"
	case p.acceptKw("SCHEMA"):
		return "schema"
	case p.acceptKw("CATALOG"):
		return "catalog"
	case p.acceptKw("ROLE"):
		return "role"
	case p.acceptKw("FUNCTION"):
		return "function"
	case p.acceptKw("BRANCH"):
		return "branch"
	}
	p.unexpected("TABLE, VIEW, MATERIALIZED VIEW, SCHEMA, CATALOG, ROLE, FUNCTION or BRANCH")
	return ""
}

func (p *parser) drop() Statement {
	pos := p.advance().Pos
	obj := p.objectKind()
	p.acceptKw("IF", "EXISTS")
	if obj == "branch" {
		p.ident()
		p.expectKw("IN")
		p.expectKw("TABLE")
		return &DDL{at: at{pos}, Kind: "drop_branch", Object: "table", Name: p.qualifiedName()}
	}
	d := &DDL{at: at{pos}, Kind: "drop_" + obj, Object: obj, Name: p.qualifiedName()}
	if obj == "function" && p.acceptOp("(") {
		for !p.isOp(")") {
			p.dataType()
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	}
	if obj == "role" && p.acceptKw("IN") {
		p.ident()
	}
	if !p.acceptKw("CASCADE") {
		p.acceptKw("RESTRICT")
	}
	return d
}

func (p *parser) alter() Statement {
	pos := p.advance().Pos
	obj := p.objectKind()
	if obj == "branch" {
		p.ident()
		p.expectKw("IN")
		p.expectKw("TABLE")
		d := &DDL{at: at{pos}, Kind: "alter_branch", Object: "table", Name: p.qualifiedName()}
		p.expectKw("FAST", "FORWARD", "TO")
		p.ident()
		return d
	}
	p.acceptKw("IF", "EXISTS")
	name := p.qualifiedName()
	d := &DDL{at: at{pos}, Kind: "alter_" + obj, Object: obj, Name: name}
	switch {
	case p.acceptKw("RENAME", "TO"):
		d.Kind = "rename_" + obj
		d.NewName = p.qualifiedName()
	case p.acceptKw("SET", "AUTHORIZATION"):
		p.principals()
	case p.acceptKw("SET", "PROPERTIES"):
		for {
			prop := &Property{Name: p.qualifiedName()}
			p.expectOp("=")
			if !p.acceptKw("DEFAULT") {
				prop.Value = p.expr()
			}
			d.Props = append(d.Props, prop)
			if !p.acceptOp(",") {
				break
			}
		}
	case obj == "view" && p.acceptKw("REFRESH"):
		d.Kind = "refresh_view"
	case obj == "materialized_view" && p.acceptKw("REFRESH"):
		d.Kind = "refresh_materialized_view"
	case obj == "table" && p.isKw("EXECUTE"):
		p.i++
		te := &TableExecute{at: at{pos}, Table: name, Procedure: p.ident()}
		if p.acceptOp("(") {
			for !p.isOp(")") {
				te.Args = append(te.Args, p.callArg())
				if !p.acceptOp(",") {
					break
				}
			}
			p.expectOp(")")
		}
		if p.acceptKw("WHERE") {
			te.Where = p.expr()
		}
		return te
	case obj == "table" && p.acceptKw("ADD", "COLUMN"):
		p.acceptKw("IF", "NOT", "EXISTS")
		d.Kind = "add_column"
		d.Column = p.columnDef()
		switch {
		case p.acceptKw("FIRST"), p.acceptKw("LAST"):
		case p.acceptKw("AFTER"):
			p.ident()
		}
	case obj == "table" && p.acceptKw("DROP", "COLUMN"):
		p.acceptKw("IF", "EXISTS")
		d.Kind = "drop_column"
		p.qualifiedName()
	case obj == "table" && p.acceptKw("RENAME", "COLUMN"):
		p.acceptKw("IF", "EXISTS")
		d.Kind = "rename_column"
		p.qualifiedName()
		p.expectKw("TO")
		p.ident()
	case obj == "table" && p.acceptKw("ALTER", "COLUMN"):
		d.Kind = "alter_column"
		p.qualifiedName()
		switch {
		case p.acceptKw("SET", "DATA", "TYPE"):
			p.dataType()
		case p.acceptKw("DROP", "NOT", "NULL"):
		case p.acceptKw("SET", "DEFAULT"):
			d.Exprs = append(d.Exprs, p.expr())
		case p.acceptKw("DROP", "DEFAULT"):
		default:
			p.unexpected("SET DATA TYPE or DROP NOT NULL")
		}
	case obj == "schema" || obj == "catalog":
		p.unexpected("RENAME TO or SET AUTHORIZATION")
	default:
		p.unexpected("RENAME, SET, ADD, DROP, ALTER or EXECUTE")
	}
	return d
}
