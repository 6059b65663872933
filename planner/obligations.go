package planner

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/meridian-lake/meridian/internal/trino"
	"github.com/meridian-lake/meridian/planner/sql"
	"github.com/meridian-lake/meridian/policy"
)

// Obligations a decision may carry that Meridian enforces.
const (
	// ObligationMinGroupSize: every group of an aggregate export must hold
	// at least this many rows (small groups re-identify people).
	ObligationMinGroupSize = "min_group_size"
	// ObligationAudit is informational: every decision is recorded anyway.
	ObligationAudit = "audit"
)

// enforce applies the decision's obligations to the statement text: what
// is forwarded is the statement as the obligations require, or the
// statement is refused when they cannot be met. An obligation Meridian does
// not know is a refusal: it cannot be honoured.
func enforce(src string, d policy.Decision, p sql.Parser) (string, *trino.Error) {
	out := src
	for name, v := range d.Obligations {
		switch name {
		case ObligationAudit:
		case ObligationMinGroupSize:
			k, ok := wholeNumber(v)
			if !ok || k < 1 {
				return "", trino.Errorf(trino.PermissionDenied, "Access Denied: the policy asks for a minimum group size of %v, which is not a positive whole number; ask the compliance team to fix data/settings.json", v)
			}
			var err *trino.Error
			if out, err = minGroupSize(out, k, p); err != nil {
				return "", err
			}
		default:
			return "", trino.Errorf(trino.PermissionDenied, "Access Denied: the policy sets obligation %q, which this Meridian cannot enforce, so the statement is refused: ask the compliance team", name)
		}
	}
	return out, nil
}

func wholeNumber(v any) (int, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if f != math.Trunc(f) || f > 1e9 {
		return 0, false
	}
	return int(f), true
}

// minGroupSize rewrites an aggregate query so that groups of fewer than k
// rows are suppressed: HAVING count(*) >= k, joined to an existing HAVING
// with AND. Only a plain SELECT … [GROUP BY …] at the top level can be
// rewritten; anything else is refused, never forwarded unchanged.
func minGroupSize(src string, k int, p sql.Parser) (string, *trino.Error) {
	refuse := func(why string) *trino.Error {
		return trino.Errorf(trino.PermissionDenied,
			"Access Denied: this aggregate export may leave only groups of at least %d rows, which Meridian enforces by adding HAVING count(*) >= %d, but %s: write it as one SELECT … GROUP BY … over the tables, run directly rather than prepared",
			k, k, why)
	}
	stmt, err := p.Parse(src)
	if err != nil {
		return "", refuse("the statement does not parse")
	}
	qs, ok := stmt.(*sql.QueryStmt)
	if !ok {
		return "", refuse("it is not a plain query (EXECUTE, EXPLAIN, INSERT … carry it elsewhere)")
	}
	sel, ok := qs.Query.Body.(*sql.Select)
	if !ok {
		return "", refuse("its top level is not a single SELECT (a set operation, VALUES or TABLE)")
	}
	toks, terr := sql.Tokenize(src, sql.DefaultMaxTokens)
	if terr != nil || len(toks) < 2 {
		return "", refuse("it cannot be tokenized")
	}
	// Where the SELECT's clauses end: before WINDOW, ORDER BY, OFFSET,
	// LIMIT or FETCH, found from the positions of what follows those
	// keywords, else after the last token (before any trailing comment, so
	// that the clause cannot be commented out).
	end := -1
	anchor := func(n sql.Node) {
		if n == nil {
			return
		}
		if off := startOffset(n); end < 0 || off < end {
			end = off
		}
	}
	for _, w := range sel.Windows {
		anchor(w.Name)
	}
	if len(qs.Query.OrderBy) > 0 {
		anchor(qs.Query.OrderBy[0].Expr)
	}
	for _, x := range []sql.Expr{qs.Query.Offset, qs.Query.Limit, qs.Query.Fetch} {
		if x != nil {
			anchor(x)
		}
	}
	insertAt := 0
	if end >= 0 {
		i := tokenAt(toks, end)
		for i > 0 && toks[i-1].Kind == sql.TokOp && toks[i-1].Text == "(" {
			i-- // the anchor's own parentheses
		}
		for i > 0 && clauseWord(toks[i-1]) {
			i--
		}
		insertAt = toks[i].Pos.Offset
	} else {
		last := toks[len(toks)-1]
		for j := len(toks) - 1; j >= 0; j-- {
			if toks[j].Kind != sql.TokEOF && !(toks[j].Kind == sql.TokOp && toks[j].Text == ";") {
				last = toks[j]
				break
			}
		}
		insertAt = last.Pos.Offset + len(last.Text)
	}
	cond := fmt.Sprintf("count(*) >= %d", k)
	rest := src[insertAt:]
	if rest != "" && !strings.ContainsAny(rest[:1], " \t\r\n") {
		rest = " " + rest
	}
	var out string
	if sel.Having != nil {
		h := startOffset(sel.Having)
		out = src[:h] + "(" + strings.TrimRight(src[h:insertAt], " \t\r\n") + ") AND " + cond + rest
	} else {
		out = strings.TrimRight(src[:insertAt], " \t\r\n") + " HAVING " + cond + rest
	}
	// The rewrite must still be one query whose SELECT now has the clause.
	again, err := p.Parse(out)
	if err != nil {
		return "", refuse("the rewritten statement does not parse")
	}
	if q, ok := again.(*sql.QueryStmt); !ok || q.Query.Body.(*sql.Select).Having == nil {
		return "", refuse("the rewritten statement lost the clause")
	}
	return out, nil
}

// startOffset is where n's text starts: the least offset in its subtree
// (an operator node is positioned at its operator).
func startOffset(n sql.Node) int {
	least := n.Position().Offset
	sql.Inspect(n, func(c sql.Node) bool {
		if c != nil {
			if p := c.Position(); (p.Line > 0 || p.Offset > 0) && p.Offset < least {
				least = p.Offset
			}
		}
		return true
	})
	return least
}

// tokenAt is the index of the token starting at offset (or the first after).
func tokenAt(toks []sql.Token, offset int) int {
	for i, t := range toks {
		if t.Pos.Offset >= offset {
			return i
		}
	}
	return len(toks) - 1
}

// clauseWord reports whether t is a keyword that introduces the clauses
// after a SELECT: WINDOW, ORDER BY, OFFSET, LIMIT, FETCH FIRST|NEXT.
func clauseWord(t sql.Token) bool {
	if t.Kind != sql.TokIdent {
		return false
	}
	switch strings.ToUpper(t.Text) {
	case "WINDOW", "ORDER", "BY", "OFFSET", "LIMIT", "FETCH", "FIRST", "NEXT":
		return true
	}
	return false
}
