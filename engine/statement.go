package engine

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/meridian-lake/meridian/internal/trino"
	parse "github.com/meridian-lake/meridian/planner/sql"
)

// plan is what a statement turns into before it runs: the response headers
// that change the client's session, the update type, and the job producing
// its rows (nil for statements without rows).
type plan struct {
	headers    http.Header
	updateType string
	job        job
}

// compressPreparedAbove is where Added-Prepare values switch to $zstd:.
const compressPreparedAbove = 4096

// plan parses text and decides how to run it. Session statements (USE,
// PREPARE, SET SESSION, transactions) take effect here, as response headers.
func (e *Engine) plan(ctx context.Context, text string, req request) (*plan, error) {
	stmt, err := parse.Parser{MaxBytes: e.cfg.MaxStatementBytes}.Parse(text)
	if err != nil {
		return nil, err
	}
	return e.planStmt(ctx, stmt, text, req, nil, 0)
}

func (e *Engine) planStmt(ctx context.Context, stmt parse.Statement, text string, req request, params []string, depth int) (*plan, error) {
	p := &plan{headers: http.Header{}}
	sess := req.sess
	switch stmt.(type) {
	case *parse.Prepare, *parse.Execute, *parse.ExecuteImmediate, *parse.DescribeIO:
		// Their ? markers belong to the statement they prepare or run.
	default:
		if err := checkParams(stmt, params); err != nil {
			return nil, err
		}
	}
	switch s := stmt.(type) {
	case *parse.Use:
		cat := sess.Catalog
		if s.Catalog != nil {
			cat = s.Catalog.Norm()
		}
		if cat == "" {
			return nil, located(trino.Errorf(trino.MissingCatalogName, "Catalog must be specified when session catalog is not set"), s)
		}
		schema := s.Schema.Norm()
		if err := e.checkSchema(ctx, cat, schema); err != nil {
			return nil, located(err, s)
		}
		p.headers.Set(trino.HeaderSetCatalog, cat)
		p.headers.Set(trino.HeaderSetSchema, schema)
		p.updateType = "USE"
	case *parse.Prepare:
		if _, isPrepare := s.Stmt.(*parse.Prepare); isPrepare {
			return nil, notSupported(s.Stmt, "Invalid statement type for prepared statement: PREPARE")
		}
		p.headers.Add(trino.HeaderAddedPrepare, trino.EncodePrepared(s.Name.Name, s.Text, compressPreparedAbove))
		p.updateType = "PREPARE"
	case *parse.Deallocate:
		if _, ok := lookupPrepared(req.prepared, s.Name.Name); !ok {
			return nil, located(trino.Errorf(trino.NotFound, "Prepared statement not found: %s", s.Name.Name), s)
		}
		p.headers.Add(trino.HeaderDeallocatedPrepare, url.QueryEscape(s.Name.Name))
		p.updateType = "DEALLOCATE"
	case *parse.Execute:
		inner, ok := lookupPrepared(req.prepared, s.Name.Name)
		if !ok {
			return nil, located(trino.Errorf(trino.NotFound, "Prepared statement not found: %s", s.Name.Name), s)
		}
		return e.planExecute(ctx, s, inner, text, req, depth)
	case *parse.ExecuteImmediate:
		lit, ok := s.SQL.(*parse.Literal)
		if !ok || lit.Kind != parse.LitString {
			return nil, notSupported(s.SQL, "EXECUTE IMMEDIATE needs a string literal")
		}
		return e.planExecute(ctx, s, lit.Value, text, req, depth)
	case *parse.SetSession:
		lit, ok := s.Value.(*parse.Literal)
		if !ok || lit.Kind == parse.LitNull {
			return nil, notSupported(s.Value, "SET SESSION value must be a literal")
		}
		p.headers.Add(trino.HeaderSetSession, s.Name.String()+"="+url.QueryEscape(lit.Value))
		p.updateType = "SET SESSION"
	case *parse.ResetSession:
		p.headers.Add(trino.HeaderClearSession, s.Name.String())
		p.updateType = "RESET SESSION"
	case *parse.Transaction:
		// Transactions are accepted and do nothing: each statement commits on
		// its own, as in Trino's autocommit mode.
		switch s.Verb {
		case "START":
			p.headers.Set(trino.HeaderStartedTransactionID, transactionID())
			p.updateType = "START TRANSACTION"
		default:
			p.headers.Set(trino.HeaderClearTransactionID, "true")
			p.updateType = s.Verb
		}
	case *parse.Show:
		j, err := e.showJob(s, sess)
		if err != nil {
			return nil, err
		}
		p.job = j
	case *parse.Describe:
		ref, err := tableRef(s.Table, sess)
		if err != nil {
			return nil, err
		}
		p.job = e.columnsJob(ref, nil, s.Table)
	case *parse.DescribeIO:
		if s.Output {
			return nil, notSupported(s, "DESCRIBE OUTPUT is not supported by the local engine")
		}
		inner, ok := lookupPrepared(req.prepared, s.Name.Name)
		if !ok {
			return nil, located(trino.Errorf(trino.NotFound, "Prepared statement not found: %s", s.Name.Name), s)
		}
		innerStmt, err := parse.Parser{MaxBytes: e.cfg.MaxStatementBytes}.Parse(inner)
		if err != nil {
			return nil, err
		}
		p.job = describeInput(e, countParams(innerStmt))
	default:
		update, dml := updateTypeOf(stmt)
		p.updateType = update
		p.job = e.compiled(text, sess, params, dml)
	}
	return p, nil
}

// planExecute plans a prepared statement's text with the EXECUTE's
// arguments, whose source texts replace its ? markers.
func (e *Engine) planExecute(ctx context.Context, exec parse.Statement, inner, text string, req request, depth int) (*plan, error) {
	if depth > 0 {
		return nil, notSupported(exec, "a prepared statement cannot run EXECUTE")
	}
	params, err := usingTexts(text, exec)
	if err != nil {
		return nil, err
	}
	stmt, err := parse.Parser{MaxBytes: e.cfg.MaxStatementBytes}.Parse(inner)
	if err != nil {
		return nil, err
	}
	switch stmt.(type) {
	case *parse.Prepare, *parse.Execute, *parse.ExecuteImmediate, *parse.Deallocate:
		return nil, notSupported(exec, "Invalid statement type for prepared statement")
	}
	return e.planStmt(ctx, stmt, inner, req, params, depth+1)
}

func lookupPrepared(m map[string]string, name string) (string, bool) {
	if s, ok := m[name]; ok {
		return s, true
	}
	for k, s := range m {
		if strings.EqualFold(k, name) {
			return s, true
		}
	}
	return "", false
}

// usingTexts returns the source text of each EXECUTE … USING argument, split
// at the top-level commas after USING.
func usingTexts(src string, exec parse.Statement) ([]string, error) {
	var want int
	switch s := exec.(type) {
	case *parse.Execute:
		want = len(s.Using)
	case *parse.ExecuteImmediate:
		want = len(s.Using)
	}
	if want == 0 {
		return nil, nil
	}
	toks, err := parse.Tokenize(src, parse.DefaultMaxTokens)
	if err != nil {
		return nil, err
	}
	i := 0
	for ; i < len(toks); i++ {
		if toks[i].Kind == parse.TokIdent && strings.EqualFold(toks[i].Text, "USING") {
			break
		}
	}
	var out []string
	depth, first := 0, i+1
	flush := func(last int) {
		if last >= first {
			out = append(out, src[toks[first].Pos.Offset:toks[last].Pos.Offset+len(toks[last].Text)])
		}
	}
	for j := i + 1; j < len(toks); j++ {
		t := toks[j]
		if t.Kind == parse.TokEOF || t.Kind == parse.TokOp && t.Text == ";" && depth == 0 {
			flush(j - 1)
			break
		}
		if t.Kind == parse.TokOp {
			switch t.Text {
			case "(", "[":
				depth++
			case ")", "]":
				depth--
			case ",":
				if depth == 0 {
					flush(j - 1)
					first = j + 1
				}
			}
		}
	}
	if len(out) != want {
		return nil, trino.Errorf(trino.GenericInternalError, "could not split the %d EXECUTE arguments", want)
	}
	return out, nil
}

// countParams counts the ? markers of a statement.
func countParams(stmt parse.Statement) int {
	n := 0
	parse.Inspect(stmt, func(x parse.Node) bool {
		if _, ok := x.(*parse.Param); ok {
			n++
		}
		return true
	})
	return n
}

func checkParams(stmt parse.Statement, params []string) error {
	if n := countParams(stmt); n != len(params) {
		return trino.Errorf(trino.InvalidParameter, "Incorrect number of parameters: expected %d but found %d", n, len(params))
	}
	return nil
}

// updateTypeOf names what a statement does, as Trino's updateType, and says
// whether DuckDB answers it with an affected-row count.
func updateTypeOf(stmt parse.Statement) (string, bool) {
	switch s := stmt.(type) {
	case *parse.QueryStmt, *parse.Explain:
		return "", false
	case *parse.Insert:
		return "INSERT", true
	case *parse.Delete:
		return "DELETE", true
	case *parse.Update:
		return "UPDATE", true
	case *parse.Merge:
		return "MERGE", true
	case *parse.CreateTableAs:
		return "CREATE TABLE", true
	case *parse.CreateTable:
		return "CREATE TABLE", false
	case *parse.DDL:
		return strings.ToUpper(strings.ReplaceAll(s.Kind, "_", " ")), false
	}
	return "", false
}

func describeInput(e *Engine, n int) job {
	return func(ctx context.Context, q *query) error {
		rows := make([][]any, n)
		for i := range rows {
			rows[i] = []any{int64(i), "unknown"}
		}
		return e.emit(ctx, q, []column{
			{name: "Position", typ: "bigint", enc: encodeInt},
			{name: "Type", typ: "varchar", enc: encodeString},
		}, rows)
	}
}
