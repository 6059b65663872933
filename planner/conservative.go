package planner

import (
	"errors"
	"strings"

	"github.com/meridian-lake/meridian/planner/sql"
)

// maxStringDepth bounds how deep Conservative looks into string literals that
// may themselves hold SQL (EXECUTE IMMEDIATE '…').
const maxStringDepth = 2

// Conservative over-approximates the tables of a statement that could not be
// parsed: every identifier chain in the text (and in its string literals,
// which may hold SQL) that could name a table is reported as read, with all
// columns. String literals are read only when they look like SQL, so values
// in literals do not become table names. The candidates are not all tables:
// resolution must keep only those that name real tables before anything is
// recorded. It never fails: unlexable text is skipped one byte at a time.
func Conservative(src string, s Session) *Analysis {
	an := newAnalyzer(s, Options{})
	a := &Analysis{Mode: ModeConservative, Kind: "unknown"}
	if len(src) > sql.DefaultMaxBytes {
		an.addOpaque("statement exceeds the size limit and was not read")
		an.finish(a)
		return a
	}
	first := true
	an.scanChains(strings.ToValidUTF8(src, " "), 0, func(kind string) {
		if first {
			a.Kind = kind
			first = false
		}
	})
	an.finish(a)
	return a
}

// scanChains reports identifier chains in src as table candidates.
func (an *analyzer) scanChains(src string, depth int, firstWord func(string)) {
	off := 0
	for off < len(src) {
		toks, err := sql.Tokenize(src[off:], 0)
		an.chains(toks, depth, firstWord)
		firstWord = func(string) {}
		if err == nil {
			return
		}
		var pe *sql.Error
		if !errors.As(err, &pe) {
			return
		}
		off += pe.Pos.Offset + 1
	}
}

func (an *analyzer) chains(toks []sql.Token, depth int, firstWord func(string)) {
	isName := func(t sql.Token) bool {
		return t.Kind == sql.TokQuotedIdent || t.Kind == sql.TokIdent && !t.Reserved
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if i == 0 && t.Kind == sql.TokIdent {
			firstWord(strings.ToLower(t.Text))
		}
		if (t.Kind == sql.TokString || t.Kind == sql.TokUnicodeStr || t.Kind == sql.TokDollarString) && depth < maxStringDepth && looksLikeSQL(t.Val) {
			an.scanChains(t.Val, depth+1, func(string) {})
			continue
		}
		if !isName(t) {
			continue
		}
		// Collect the chain a.b.c…
		parts := []*sql.Ident{{Name: t.Val, Quoted: t.Kind == sql.TokQuotedIdent}}
		j := i + 1
		for j+1 < len(toks) && toks[j].Kind == sql.TokOp && toks[j].Text == "." && isName(toks[j+1]) {
			parts = append(parts, &sql.Ident{Name: toks[j+1].Val, Quoted: toks[j+1].Kind == sql.TokQuotedIdent})
			j += 2
		}
		i = j - 1
		if j < len(toks) && toks[j].Kind == sql.TokOp && toks[j].Text == "(" {
			continue // a function call
		}
		// A table is always a prefix of a chain: t, s.t, c.s.t, c.s.t.column.
		for k := 1; k <= min(len(parts), 3); k++ {
			src := an.addTable(&sql.QualifiedName{Parts: parts[:k]}, Read)
			an.addColumn(src.table, "*")
		}
	}
}

// sqlWords mark a string literal that may hold a statement. Other literals
// are values, often personal ones, and are never turned into table names.
var sqlWords = []string{"SELECT", "FROM", "JOIN", "INTO", "TABLE", "UPDATE", "MERGE", "DELETE", "EXECUTE"}

func looksLikeSQL(s string) bool {
	toks, _ := sql.Tokenize(s, 0)
	for _, t := range toks {
		if t.Kind != sql.TokIdent {
			continue
		}
		for _, w := range sqlWords {
			if strings.EqualFold(t.Text, w) {
				return true
			}
		}
	}
	return false
}
