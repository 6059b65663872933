package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/trino"
	parse "github.com/meridian-lake/meridian/planner/sql"
)

// The metadata statements answer from the catalog, without DuckDB. Every
// table of the shared catalog is listed, as a regional Trino cluster would;
// reading one outside the region's locations fails at query time.

func varcharCol(name string) column { return column{name: name, typ: "varchar", enc: encodeString} }

func (e *Engine) showJob(s *parse.Show, sess Session) (job, error) {
	like, err := likePattern(s.Like, s.Escape)
	if err != nil {
		return nil, located(err, s)
	}
	switch s.What {
	case "CATALOGS":
		return func(ctx context.Context, q *query) error {
			q.setRunning()
			var rows [][]any
			for _, c := range e.catalogs() {
				if like.match(c) {
					rows = append(rows, []any{c})
				}
			}
			return e.emit(ctx, q, []column{varcharCol("Catalog")}, rows)
		}, nil
	case "SCHEMAS":
		cat := sess.Catalog
		if s.Target != nil {
			if len(s.Target.Parts) != 1 {
				return nil, located(trino.Errorf(trino.SyntaxError, "Too many parts in catalog name: %s", s.Target), s.Target)
			}
			cat = s.Target.Parts[0].Norm()
		}
		if cat == "" {
			return nil, located(trino.Errorf(trino.MissingCatalogName, "Catalog must be specified when session catalog is not set"), s)
		}
		return func(ctx context.Context, q *query) error {
			q.setRunning()
			if err := e.checkCatalog(cat); err != nil {
				return located(err, s)
			}
			names, err := e.cat.Namespaces(ctx, cat)
			if err != nil {
				return err
			}
			var rows [][]any
			for _, n := range names {
				if like.match(n) {
					rows = append(rows, []any{n})
				}
			}
			return e.emit(ctx, q, []column{varcharCol("Schema")}, rows)
		}, nil
	case "TABLES":
		cat, schema := sess.Catalog, sess.Schema
		if s.Target != nil {
			switch parts := s.Target.Parts; len(parts) {
			case 1:
				schema = parts[0].Norm()
			case 2:
				cat, schema = parts[0].Norm(), parts[1].Norm()
			default:
				return nil, located(trino.Errorf(trino.SyntaxError, "Too many parts in schema name: %s", s.Target), s.Target)
			}
		}
		if cat == "" {
			return nil, located(trino.Errorf(trino.MissingCatalogName, "Catalog must be specified when session catalog is not set"), s)
		}
		if schema == "" {
			return nil, located(trino.Errorf(trino.MissingSchemaName, "Schema must be specified when session schema is not set"), s)
		}
		return func(ctx context.Context, q *query) error {
			q.setRunning()
			if err := e.checkSchema(ctx, cat, schema); err != nil {
				return located(err, s)
			}
			refs, err := e.cat.Tables(ctx, cat, schema)
			if err != nil {
				return err
			}
			var rows [][]any
			for _, r := range refs {
				if like.match(r.Table) {
					rows = append(rows, []any{r.Table})
				}
			}
			return e.emit(ctx, q, []column{varcharCol("Table")}, rows)
		}, nil
	case "COLUMNS":
		ref, err := tableRef(s.Target, sess)
		if err != nil {
			return nil, err
		}
		return e.columnsJob(ref, like, s.Target), nil
	}
	return nil, notSupported(s, "SHOW %s is not supported by the local engine", s.What)
}

// columnsJob answers DESCRIBE t and SHOW COLUMNS FROM t.
func (e *Engine) columnsJob(ref catalog.TableRef, like *likeMatcher, at parse.Node) job {
	return func(ctx context.Context, q *query) error {
		q.setRunning()
		if err := e.checkCatalog(ref.Catalog); err != nil {
			return located(err, at)
		}
		info, err := e.cat.Resolve(ctx, ref)
		if err != nil {
			if errors.Is(err, catalog.ErrTableNotFound) {
				return located(trino.Errorf(trino.TableNotFound, "Table '%s' does not exist", ref), at)
			}
			return err
		}
		var rows [][]any
		for _, c := range info.Columns {
			if !like.match(c.Name) {
				continue
			}
			t, err := trinoTypeOfIceberg(c.Type)
			if err != nil {
				return trino.Errorf(trino.NotSupported, "column %s of %s: %v", c.Name, ref, err)
			}
			rows = append(rows, []any{c.Name, t, "", ""})
		}
		return e.emit(ctx, q, []column{varcharCol("Column"), varcharCol("Type"), varcharCol("Extra"), varcharCol("Comment")}, rows)
	}
}

func (e *Engine) catalogs() []string {
	if e.cat == nil {
		return nil
	}
	return e.cat.Catalogs()
}

func (e *Engine) checkCatalog(name string) *trino.Error {
	if !slices.Contains(e.catalogs(), name) {
		return trino.Errorf(trino.CatalogNotFound, "Catalog '%s' not found", name)
	}
	return nil
}

// checkSchema fails unless catalog.schema exists.
func (e *Engine) checkSchema(ctx context.Context, cat, schema string) *trino.Error {
	if err := e.checkCatalog(cat); err != nil {
		return err
	}
	names, err := e.cat.Namespaces(ctx, cat)
	if err != nil {
		return queryError(err)
	}
	if !slices.Contains(names, schema) {
		return trino.Errorf(trino.SchemaNotFound, "Schema '%s' does not exist", schema)
	}
	return nil
}

// tableRef completes a table name with the session's catalog and schema.
func tableRef(name *parse.QualifiedName, sess Session) (catalog.TableRef, error) {
	parts := make([]string, len(name.Parts))
	for i, p := range name.Parts {
		parts[i] = p.Norm()
	}
	switch len(parts) {
	case 1:
		if sess.Catalog == "" {
			return catalog.TableRef{}, located(trino.Errorf(trino.MissingCatalogName, "Catalog must be specified when session catalog is not set"), name)
		}
		if sess.Schema == "" {
			return catalog.TableRef{}, located(trino.Errorf(trino.MissingSchemaName, "Schema must be specified when session schema is not set"), name)
		}
		return catalog.TableRef{Catalog: sess.Catalog, Schema: sess.Schema, Table: parts[0]}, nil
	case 2:
		if sess.Catalog == "" {
			return catalog.TableRef{}, located(trino.Errorf(trino.MissingCatalogName, "Catalog must be specified when session catalog is not set"), name)
		}
		return catalog.TableRef{Catalog: sess.Catalog, Schema: parts[0], Table: parts[1]}, nil
	case 3:
		return catalog.TableRef{Catalog: parts[0], Schema: parts[1], Table: parts[2]}, nil
	}
	return catalog.TableRef{}, located(trino.Errorf(trino.SyntaxError, "Too many dots in table name: %s", name), name)
}

// likeMatcher is a SQL LIKE pattern; nil matches everything.
type likeMatcher struct{ re *regexp.Regexp }

func (m *likeMatcher) match(s string) bool { return m == nil || m.re.MatchString(s) }

func likePattern(pattern, escape parse.Expr) (*likeMatcher, *trino.Error) {
	if pattern == nil {
		return nil, nil
	}
	lit, ok := pattern.(*parse.Literal)
	if !ok {
		return nil, trino.Errorf(trino.NotSupported, "LIKE needs a string literal")
	}
	var esc rune = -1
	if escape != nil {
		el, ok := escape.(*parse.Literal)
		if !ok || len([]rune(el.Value)) != 1 {
			return nil, trino.Errorf(trino.InvalidFunctionArg, "Escape string must be a single character")
		}
		esc = []rune(el.Value)[0]
	}
	var b strings.Builder
	b.WriteString("(?s)^")
	rs := []rune(lit.Value)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; {
		case c == esc:
			if i+1 >= len(rs) {
				return nil, trino.Errorf(trino.InvalidFunctionArg, "Escape character must be followed by '%%', '_' or the escape character itself")
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case c == '%':
			b.WriteString(".*")
		case c == '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, trino.Errorf(trino.InvalidFunctionArg, "bad LIKE pattern: %v", err)
	}
	return &likeMatcher{re: re}, nil
}

// trinoTypeOfIceberg maps an Iceberg type, as iceberg-go prints it ("long",
// "decimal(10, 2)", "list<string>", "struct<1: a: optional int>"), to the
// Trino type Trino's Iceberg connector shows for it.
func trinoTypeOfIceberg(s string) (string, error) {
	p := icebergTypeParser{s: s}
	t, err := p.parse(0)
	if err != nil {
		return "", err
	}
	if p.i != len(p.s) {
		return "", fmt.Errorf("unexpected %q in type %q", p.s[p.i:], s)
	}
	return t, nil
}

type icebergTypeParser struct {
	s string
	i int
}

func (p *icebergTypeParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *icebergTypeParser) accept(tok string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *icebergTypeParser) word() string {
	p.space()
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] >= 'a' && p.s[p.i] <= 'z' || p.s[p.i] == '_' || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *icebergTypeParser) parse(depth int) (string, error) {
	if depth > 64 {
		return "", errors.New("type nested too deeply")
	}
	w := p.word()
	switch w {
	case "boolean", "date", "uuid", "double":
		return w, nil
	case "int":
		return "integer", nil
	case "long":
		return "bigint", nil
	case "float":
		return "real", nil
	case "string":
		return "varchar", nil
	case "binary":
		return "varbinary", nil
	case "time":
		return "time(6)", nil
	case "timestamp":
		return "timestamp(6)", nil
	case "timestamptz":
		return "timestamp(6) with time zone", nil
	case "timestamp_ns":
		return "timestamp(9)", nil
	case "timestamptz_ns":
		return "timestamp(9) with time zone", nil
	case "fixed":
		if !p.accept("[") {
			return "", errors.New("fixed without length")
		}
		p.word()
		if !p.accept("]") {
			return "", errors.New("fixed without ']'")
		}
		return "varbinary", nil
	case "decimal":
		if !p.accept("(") {
			return "", errors.New("decimal without precision")
		}
		prec, err1 := strconv.Atoi(p.word())
		p.accept(",")
		scale, err2 := strconv.Atoi(p.word())
		if err1 != nil || err2 != nil || !p.accept(")") {
			return "", errors.New("bad decimal type")
		}
		return fmt.Sprintf("decimal(%d,%d)", prec, scale), nil
	case "list":
		if !p.accept("<") {
			return "", errors.New("list without '<'")
		}
		el, err := p.parse(depth + 1)
		if err != nil {
			return "", err
		}
		if !p.accept(">") {
			return "", errors.New("list without '>'")
		}
		return "array(" + el + ")", nil
	case "map":
		if !p.accept("<") {
			return "", errors.New("map without '<'")
		}
		k, err := p.parse(depth + 1)
		if err != nil {
			return "", err
		}
		p.accept(",")
		v, err := p.parse(depth + 1)
		if err != nil {
			return "", err
		}
		if !p.accept(">") {
			return "", errors.New("map without '>'")
		}
		return "map(" + k + ", " + v + ")", nil
	case "struct":
		if !p.accept("<") {
			return "", errors.New("struct without '<'")
		}
		var fields []string
		for !p.accept(">") {
			if len(fields) > 0 && !p.accept(",") {
				return "", errors.New("struct fields without ','")
			}
			p.word() // field id
			if !p.accept(":") {
				return "", errors.New("struct field without id")
			}
			p.space()
			end := strings.Index(p.s[p.i:], ": ")
			if end < 0 {
				return "", errors.New("struct field without name")
			}
			name := p.s[p.i : p.i+end]
			p.i += end + 2
			if !p.accept("required ") && !p.accept("optional ") {
				return "", errors.New("struct field without required/optional")
			}
			t, err := p.parse(depth + 1)
			if err != nil {
				return "", err
			}
			p.space()
			if p.i < len(p.s) && p.s[p.i] == '(' { // a field doc
				level := 0
				for ; p.i < len(p.s); p.i++ {
					if p.s[p.i] == '(' {
						level++
					} else if p.s[p.i] == ')' {
						if level--; level == 0 {
							p.i++
							break
						}
					}
				}
			}
			fields = append(fields, quoteField(name)+" "+t)
			if p.i >= len(p.s) {
				return "", errors.New("unterminated struct")
			}
		}
		return "row(" + strings.Join(fields, ", ") + ")", nil
	}
	return "", fmt.Errorf("unknown Iceberg type %q", w)
}
