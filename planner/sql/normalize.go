package sql

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Normalize returns a statement's text with every literal value replaced by
// '?', comments dropped, spacing made uniform and unquoted words in upper
// case, and a fingerprint ("sha256:…") that is equal for statements that
// differ only in literal values, spacing, comments or the length of a literal
// list (IN (1, 2, 3) and IN (4) share one). It is what decision records keep:
// no personal value from a literal survives it. Text that does not lex is
// normalised up to the first error; the rest is replaced by "…".
func Normalize(src string) (text, fingerprint string) {
	toks, err := Tokenize(src, DefaultMaxTokens)
	var b strings.Builder
	prev := ""
	emit := func(s string) {
		if b.Len() > 0 && needsSpace(prev, s) {
			b.WriteByte(' ')
		}
		b.WriteString(s)
		prev = s
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		var s string
		switch t.Kind {
		case TokEOF:
			continue
		case TokString, TokUnicodeStr, TokBinary, TokDollarString, TokInteger, TokDecimal, TokDouble, TokParam:
			s = "?"
			// A list of literals collapses to one: ?, ?, ? → ?
			if prev == "," && strings.HasSuffix(b.String(), "?,") {
				continue
			}
		case TokIdent:
			s = strings.ToUpper(t.Text)
		case TokQuotedIdent:
			s = t.Text
		default:
			s = t.Text
		}
		if s == "," && prev == "?" && i+1 < len(toks) && isLiteral(toks[i+1]) {
			// Keep the comma only if the list goes on past literals.
			j := i + 1
			for j < len(toks) && (isLiteral(toks[j]) || toks[j].Kind == TokOp && toks[j].Text == ",") {
				j++
			}
			i = j - 1
			continue
		}
		emit(s)
	}
	if err != nil {
		emit("…")
	}
	text = b.String()
	sum := sha256.Sum256([]byte(text))
	return text, "sha256:" + hex.EncodeToString(sum[:])
}

func isLiteral(t Token) bool {
	switch t.Kind {
	case TokString, TokUnicodeStr, TokBinary, TokDollarString, TokInteger, TokDecimal, TokDouble, TokParam:
		return true
	}
	return false
}

func needsSpace(prev, next string) bool {
	switch {
	case prev == "(" || prev == "." || prev == "[" || prev == "::":
		return false
	case next == ")" || next == "," || next == "." || next == "]" || next == "::" || next == ";":
		return false
	case next == "(" && prev != "" && (isWordStart(prev[0]) && !IsReserved(prev) || prev[0] == '"'):
		return false // a call: count(…), not IN (…)
	}
	return true
}

func isWordStart(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' }
