package sql

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// Default limits. Every statement Meridian reads comes from an untrusted
// client, so size, nesting and token count are bounded.
const (
	DefaultMaxBytes  = 1 << 20
	DefaultMaxDepth  = 200
	DefaultMaxTokens = 500_000
)

// Parser parses Trino SQL within limits. The zero value uses the defaults.
type Parser struct {
	// MaxBytes bounds the statement text (default 1 MiB).
	MaxBytes int
	// MaxDepth bounds the nesting of expressions, queries and relations (default 200).
	MaxDepth int
	// MaxTokens bounds the number of tokens (default 500,000).
	MaxTokens int
}

func (o Parser) withDefaults() Parser {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = DefaultMaxTokens
	}
	return o
}

// Parse parses one statement with the default limits.
func Parse(src string) (Statement, error) { return Parser{}.Parse(src) }

// Parse parses exactly one statement; a trailing ';' is allowed.
func (o Parser) Parse(src string) (Statement, error) {
	// The tree keeps no reference to the tokens, so their buffer is reused.
	bp := tokenPool.Get().(*[]Token)
	defer func() {
		if cap(*bp) <= maxPooledTokens {
			clear(*bp) // drop the references to src; the rest is already zero
			*bp = (*bp)[:0]
			tokenPool.Put(bp)
		}
	}()
	toks, err := o.tokenizeInto(src, (*bp)[:0])
	*bp = toks
	if err != nil {
		return nil, err
	}
	return o.parseTokens(src, toks)
}

// Script is one statement of a multi-statement text: its source and its parse.
type Script struct {
	Text string    // the statement's text, without the separating ';'
	Pos  Pos       // where it starts in the whole text
	Stmt Statement // nil when Err is set
	Err  error
}

// ParseScript splits src into ';'-separated statements and parses each. A
// statement that fails to parse does not stop the others. Empty statements are
// skipped. The error is for the text as a whole (size, encoding, lexing).
func (o Parser) ParseScript(src string) ([]Script, error) {
	toks, err := o.tokenize(src)
	if err != nil {
		return nil, err
	}
	var out []Script
	for _, span := range splitTokens(toks) {
		seg := append(toks[span[0]:span[1]:span[1]], Token{Kind: TokEOF, Pos: toks[span[1]].Pos})
		first, last := seg[0], toks[span[1]-1]
		text := src[first.Pos.Offset : last.Pos.Offset+len(last.Text)]
		s := Script{Text: text, Pos: first.Pos}
		s.Stmt, s.Err = o.parseTokens(src, seg)
		if s.Err != nil {
			s.Stmt = nil
		}
		out = append(out, s)
	}
	return out, nil
}

// maxPooledTokens bounds the token buffers kept for reuse.
const maxPooledTokens = 1 << 16

var tokenPool = sync.Pool{New: func() any { b := make([]Token, 0, 1024); return &b }}

func (o Parser) tokenize(src string) ([]Token, error) {
	return o.tokenizeInto(src, make([]Token, 0, len(src)/6+8))
}

func (o Parser) tokenizeInto(src string, buf []Token) ([]Token, error) {
	o = o.withDefaults()
	if len(src) > o.MaxBytes {
		return nil, &Error{Name: ErrTooLarge, Message: fmt.Sprintf("statement is %d bytes, over the limit of %d bytes", len(src), o.MaxBytes)}
	}
	if !utf8.ValidString(src) {
		off := 0
		for off < len(src) {
			r, n := utf8.DecodeRuneInString(src[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		lx := lexer{src: src, line: 1}
		lx.advanceLines(0, off)
		return nil, &Error{Name: ErrSyntax, Message: "statement is not valid UTF-8", Pos: lx.pos(off)}
	}
	return tokenizeInto(src, o.MaxTokens, buf)
}

// splitTokens returns [start, end) token spans of the ';'-separated statements,
// ignoring semicolons inside parentheses and BEGIN … END routine bodies.
// BEGIN opens a body only in a function definition (CREATE FUNCTION, WITH
// FUNCTION), where a routine body can follow; elsewhere it is an ordinary
// name. CASE … END matters only inside a body, where CASE statements hold ';'.
func splitTokens(toks []Token) [][2]int {
	var spans [][2]int
	start, parens := 0, 0
	var blocks []string
	function := false // the current statement defines a function
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.Kind == TokEOF || t.Kind == TokOp && t.Text == ";" && parens == 0 && len(blocks) == 0:
			if i > start {
				spans = append(spans, [2]int{start, i})
			}
			start = i + 1
			function = false
			if t.Kind == TokEOF {
				return spans
			}
		case t.Kind == TokOp && t.Text == "(":
			parens++
		case t.Kind == TokOp && t.Text == ")":
			if parens > 0 {
				parens--
			}
		case t.Kind == TokIdent && strings.EqualFold(t.Text, "FUNCTION") && i > start && isAnyFold(toks[i-1].Text, "CREATE", "REPLACE", "WITH"):
			function = true
		case t.Kind == TokIdent && (strings.EqualFold(t.Text, "BEGIN") && (function || len(blocks) > 0) || strings.EqualFold(t.Text, "CASE") && len(blocks) > 0):
			blocks = append(blocks, strings.ToUpper(t.Text))
		case t.Kind == TokIdent && strings.EqualFold(t.Text, "END") && len(blocks) > 0:
			nxt := toks[i+1]
			if nxt.Kind == TokIdent && isAnyFold(nxt.Text, "IF", "LOOP", "WHILE", "REPEAT") {
				i++ // END IF and friends close a control block, not BEGIN
				continue
			}
			blocks = blocks[:len(blocks)-1]
			if nxt.Kind == TokIdent && strings.EqualFold(nxt.Text, "CASE") {
				i++
			}
		}
	}
	return spans
}

func isAnyFold(s string, words ...string) bool {
	for _, w := range words {
		if strings.EqualFold(s, w) {
			return true
		}
	}
	return false
}

// bailout carries a parse error up the recursive descent to parseTokens.
type bailout struct{ err *Error }

type parser struct {
	src      string
	toks     []Token
	i        int
	depth    int
	maxDepth int
	params   int
	// inNearest > 0 while parsing NEAREST (FROM …), where MATCH ends the relation.
	inNearest int
}

func (o Parser) parseTokens(src string, toks []Token) (stmt Statement, err error) {
	o = o.withDefaults()
	p := &parser{src: src, toks: toks, maxDepth: o.MaxDepth}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				// A bug, not bad input: never crash the caller over it.
				err = &Error{Name: ErrInternal, Message: fmt.Sprintf("internal parser error: %v", r), Pos: p.peek().Pos}
				return
			}
			err = b.err
		}
	}()
	if p.peek().Kind == TokEOF {
		p.fail("empty statement: expected a SQL statement")
	}
	s := p.statement()
	p.acceptOp(";")
	if p.peek().Kind != TokEOF {
		p.unexpected("end of statement")
	}
	return s, nil
}

// ErrInternal names a parser bug surfaced as an error instead of a panic.
const ErrInternal = "GENERIC_INTERNAL_ERROR"

// ---- token cursor ----

func (p *parser) peek() *Token { return &p.toks[p.i] }

func (p *parser) peekAt(n int) *Token {
	if p.i+n < len(p.toks) {
		return &p.toks[p.i+n]
	}
	return &p.toks[len(p.toks)-1]
}

func (p *parser) advance() *Token {
	t := &p.toks[p.i]
	if t.Kind != TokEOF {
		p.i++
	}
	return t
}

func (p *parser) pos() Pos { return p.peek().Pos }

func isKwTok(t *Token, kw string) bool {
	return t.Kind == TokIdent && len(t.Text) == len(kw) && strings.EqualFold(t.Text, kw)
}

// isKw reports whether the next tokens are the keywords kws, in order.
func (p *parser) isKw(kws ...string) bool {
	for i, kw := range kws {
		if !isKwTok(p.peekAt(i), kw) {
			return false
		}
	}
	return true
}

func (p *parser) isAnyKw(kws ...string) bool {
	t := p.peek()
	for _, kw := range kws {
		if isKwTok(t, kw) {
			return true
		}
	}
	return false
}

// acceptKw consumes the keyword sequence kws if it is next.
func (p *parser) acceptKw(kws ...string) bool {
	if !p.isKw(kws...) {
		return false
	}
	p.i += len(kws)
	return true
}

func (p *parser) expectKw(kws ...string) {
	for _, kw := range kws {
		if !isKwTok(p.peek(), kw) {
			p.unexpected(strings.Join(kws, " "))
		}
		p.i++
	}
}

func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.Kind == TokOp && t.Text == op
}

func (p *parser) isOpAt(n int, op string) bool {
	t := p.peekAt(n)
	return t.Kind == TokOp && t.Text == op
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectOp(op string) {
	if !p.acceptOp(op) {
		p.unexpected("'" + op + "'")
	}
}

func (p *parser) fail(msg string) {
	panic(bailout{&Error{Name: ErrSyntax, Message: msg, Pos: p.pos()}})
}

// unexpected fails the way Trino reports a syntax error: the offending token
// and what would have been accepted there.
func (p *parser) unexpected(expecting string) {
	t := p.peek()
	what := "<EOF>"
	if t.Kind != TokEOF {
		what = t.Text
		if len(what) > 40 {
			cut := 40 // on a character boundary: the message must stay valid UTF-8
			for !utf8.RuneStart(what[cut]) {
				cut--
			}
			what = what[:cut] + "…"
		}
	}
	p.fail(fmt.Sprintf("mismatched input '%s'. Expecting: %s", what, expecting))
}

func (p *parser) enter() {
	p.depth++
	if p.depth > p.maxDepth {
		panic(bailout{&Error{Name: ErrSyntax, Message: fmt.Sprintf("statement is nested too deeply (more than %d levels); simplify it or split it up", p.maxDepth), Pos: p.pos()}})
	}
}

func (p *parser) leave() { p.depth-- }

// ---- identifiers ----

// isIdent reports whether the next token can be an identifier.
func (p *parser) isIdent() bool {
	t := p.peek()
	return t.Kind == TokQuotedIdent || t.Kind == TokIdent && !t.Reserved
}

func (p *parser) ident() *Ident {
	t := p.peek()
	switch {
	case t.Kind == TokQuotedIdent:
		p.i++
		return &Ident{at: at{t.Pos}, Name: t.Val, Quoted: true}
	case t.Kind == TokIdent && !t.Reserved:
		p.i++
		return &Ident{at: at{t.Pos}, Name: t.Val}
	case t.Kind == TokIdent:
		p.fail(fmt.Sprintf("mismatched input '%s'. Expecting: identifier ('%s' is a reserved word; quote it as \"%s\" to use it as a name)", t.Text, t.Text, strings.ToLower(t.Text)))
	}
	p.unexpected("identifier")
	return nil
}

// identOrKeyword accepts any identifier, including reserved words (used where
// Trino allows any word, such as property names after a dot).
func (p *parser) identOrKeyword() *Ident {
	t := p.peek()
	if t.Kind == TokIdent {
		p.i++
		return &Ident{at: at{t.Pos}, Name: t.Val}
	}
	return p.ident()
}

func (p *parser) qualifiedName() *QualifiedName {
	first := p.ident()
	q := &QualifiedName{at: at{first.P}, Parts: []*Ident{first}}
	for p.isOp(".") && (p.peekAt(1).Kind == TokIdent || p.peekAt(1).Kind == TokQuotedIdent) {
		p.i++
		q.Parts = append(q.Parts, p.ident())
	}
	return q
}

func (p *parser) identList() []*Ident {
	p.expectOp("(")
	var ids []*Ident
	for {
		ids = append(ids, p.ident())
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return ids
}

// stringLit parses a string literal and returns its value.
func (p *parser) stringLit() *Literal {
	t := p.peek()
	switch t.Kind {
	case TokString, TokUnicodeStr, TokDollarString:
		p.i++
		lit := &Literal{at: at{t.Pos}, Kind: LitString, Value: t.Val}
		if t.Kind == TokUnicodeStr {
			esc := '\\'
			if p.acceptKw("UESCAPE") {
				e := p.peek()
				if e.Kind != TokString {
					p.unexpected("string")
				}
				r, n := utf8.DecodeRuneInString(e.Val)
				if n == 0 || n != len(e.Val) || r < utf8.RuneSelf && isHex(byte(r)) || strings.ContainsRune("+'\" \t\n\r\f\v", r) {
					panic(bailout{&Error{Name: ErrSyntax, Message: "invalid Unicode escape character: '" + e.Val + "'", Pos: e.Pos}})
				}
				esc = r
				p.i++
			}
			// The value is the decoded text, as for any other string literal.
			v, msg := decodeUnicode(t.Val, esc)
			if msg != "" {
				panic(bailout{&Error{Name: ErrSyntax, Message: msg, Pos: t.Pos}})
			}
			lit.Value = v
		}
		return lit
	}
	p.unexpected("string")
	return nil
}

// skipBalanced skips tokens through the ')' that closes an already-consumed '('.
func (p *parser) skipBalanced() {
	depth := 1
	for depth > 0 {
		t := p.advance()
		switch {
		case t.Kind == TokEOF:
			p.unexpected("')'")
		case t.Kind == TokOp && t.Text == "(":
			depth++
		case t.Kind == TokOp && t.Text == ")":
			depth--
		}
	}
}
