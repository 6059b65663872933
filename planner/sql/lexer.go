package sql

import (
	"strings"
	"unicode/utf8"
)

// TokenKind classifies a lexical token.
type TokenKind uint8

// Token kinds. Keywords are lexed as Ident; the parser matches them by text.
const (
	TokEOF          TokenKind = iota
	TokIdent                  // unquoted identifier or keyword
	TokQuotedIdent            // "identifier"
	TokString                 // 'string'
	TokUnicodeStr             // U&'string'
	TokBinary                 // X'hex'
	TokDollarString           // $$body$$
	TokInteger                // 42, 0x2A, 1_000
	TokDecimal                // 1.5, .5
	TokDouble                 // 1e10
	TokParam                  // ?
	TokOp                     // punctuation and operators
)

func (k TokenKind) String() string {
	switch k {
	case TokEOF:
		return "end of input"
	case TokIdent:
		return "identifier"
	case TokQuotedIdent:
		return "quoted identifier"
	case TokString, TokUnicodeStr, TokDollarString:
		return "string"
	case TokBinary:
		return "binary literal"
	case TokInteger, TokDecimal, TokDouble:
		return "number"
	case TokParam:
		return "parameter"
	default:
		return "operator"
	}
}

// Token is one lexical token. Text is the exact source text; Val is the decoded
// value (identifier name without quotes, string contents without escapes).
type Token struct {
	Kind     TokenKind
	Reserved bool // an unquoted identifier that is a reserved word
	Text     string
	Val      string
	Pos      Pos
}

// Pos is a position in the statement text: 1-based line and column (in
// characters, like Trino) and the byte offset.
type Pos struct {
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	Offset int `json:"-"`
}

// reserved lists Trino's reserved keywords: they cannot be used as unquoted
// identifiers.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`ALTER AND AS BETWEEN BY CASE CAST CONSTRAINT CREATE CROSS CUBE
		CURRENT_CATALOG CURRENT_DATE CURRENT_PATH CURRENT_ROLE CURRENT_SCHEMA CURRENT_TIME
		CURRENT_TIMESTAMP CURRENT_USER DEALLOCATE DELETE DESCRIBE DISTINCT DROP ELSE END ESCAPE
		EXCEPT EXECUTE EXISTS EXTRACT FALSE FOR FROM FULL GROUP GROUPING HAVING IN INNER INSERT
		INTERSECT INTO IS JOIN JSON_ARRAY JSON_EXISTS JSON_OBJECT JSON_QUERY JSON_TABLE JSON_VALUE
		LEFT LIKE LISTAGG LOCALTIME LOCALTIMESTAMP NATURAL NORMALIZE NOT NULL ON OR ORDER OUTER
		PREPARE RECURSIVE RIGHT ROLLUP SELECT SKIP TABLE THEN TRIM TRUE UESCAPE UNION UNNEST USING
		VALUES WHEN WHERE WITH`) {
		reserved[w] = true
	}
}

// keywords interns the upper-case form of every word the parser switches on,
// so matching a token against them allocates nothing.
var keywords = map[string]string{}

func init() {
	for w := range reserved {
		keywords[w] = w
	}
	for _, w := range strings.Fields(`INTERVAL TRY_CAST ARRAY ROW POSITION SUBSTRING DOUBLE RUNNING FINAL
		LIMIT OFFSET FETCH WINDOW TABLESAMPLE MATCH_RECOGNIZE MATCH PARTITION PRUNE KEEP`) {
		keywords[w] = w
	}
}

// upperWord returns the interned upper-case form of s if s is a word the
// parser knows, else "".
func upperWord(s string) string {
	var buf [32]byte
	if len(s) > len(buf) {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return keywords[string(buf[:len(s)])]
}

// IsReserved reports whether word (any case) is a Trino reserved keyword.
func IsReserved(word string) bool {
	var buf [32]byte
	if len(word) > len(buf) {
		return false
	}
	for i := 0; i < len(word); i++ {
		c := word[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return reserved[string(buf[:len(word)])]
}

type lexer struct {
	src       string
	off       int
	line      int
	lineStart int // byte offset of the current line's start
	colOff    int // a byte offset on the current line whose column is colNum
	colNum    int
	maxTokens int
	toks      []Token
}

// Tokenize splits src into tokens, ending with an EOF token. maxTokens <= 0
// means no limit.
func Tokenize(src string, maxTokens int) ([]Token, error) {
	return tokenizeInto(src, maxTokens, make([]Token, 0, len(src)/6+8))
}

// tokenizeInto is Tokenize appending to buf, so callers can reuse buffers.
func tokenizeInto(src string, maxTokens int, buf []Token) ([]Token, error) {
	lx := lexer{src: src, line: 1, maxTokens: maxTokens}
	lx.toks = buf
	for {
		t, err := lx.next()
		if err != nil {
			return lx.toks, err
		}
		lx.toks = append(lx.toks, t)
		if t.Kind == TokEOF {
			return lx.toks, nil
		}
		if lx.maxTokens > 0 && len(lx.toks) > lx.maxTokens {
			return lx.toks, &Error{Name: ErrTooLarge, Message: "statement has more than " + itoa(lx.maxTokens) + " tokens; split it into smaller statements", Pos: t.Pos}
		}
	}
}

func (lx *lexer) pos(off int) Pos {
	// Columns count characters, not bytes, as Trino does. Tokens arrive in
	// order, so counting from the last known column keeps lexing linear.
	if lx.colNum == 0 || lx.colOff < lx.lineStart || lx.colOff > off {
		lx.colOff, lx.colNum = lx.lineStart, 1
	}
	lx.colNum += utf8.RuneCountInString(lx.src[lx.colOff:off])
	lx.colOff = off
	return Pos{Line: lx.line, Column: lx.colNum, Offset: off}
}

func (lx *lexer) errAt(off int, msg string) *Error {
	return &Error{Name: ErrSyntax, Message: msg, Pos: lx.pos(off)}
}

// advanceLines moves the line bookkeeping over src[from:to].
func (lx *lexer) advanceLines(from, to int) {
	for i := from; i < to; i++ {
		if lx.src[i] == '\n' {
			lx.line++
			lx.lineStart = i + 1
		}
	}
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool {
	return isLetter(c) || c == '_'
}
func isIdentPart(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }

func (lx *lexer) skipSpaceAndComments() error {
	for lx.off < len(lx.src) {
		c := lx.src[lx.off]
		switch {
		case c == '\n':
			lx.off++
			lx.line++
			lx.lineStart = lx.off
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			lx.off++
		case c == '-' && lx.off+1 < len(lx.src) && lx.src[lx.off+1] == '-':
			end := strings.IndexByte(lx.src[lx.off:], '\n')
			if end < 0 {
				lx.off = len(lx.src)
			} else {
				lx.off += end
			}
		case c == '/' && lx.off+1 < len(lx.src) && lx.src[lx.off+1] == '*':
			end := strings.Index(lx.src[lx.off+2:], "*/")
			if end < 0 {
				return lx.errAt(lx.off, "unterminated comment: '/*' has no closing '*/'")
			}
			stop := lx.off + 2 + end + 2
			lx.advanceLines(lx.off, stop)
			lx.off = stop
		default:
			return nil
		}
	}
	return nil
}

func (lx *lexer) next() (Token, error) {
	if err := lx.skipSpaceAndComments(); err != nil {
		return Token{}, err
	}
	start := lx.off
	if start >= len(lx.src) {
		return Token{Kind: TokEOF, Pos: lx.pos(start)}, nil
	}
	c := lx.src[start]
	switch {
	case (c == 'U' || c == 'u') && strings.HasPrefix(lx.src[start+1:], "&'"):
		return lx.quoted(start, start+2, '\'', TokUnicodeStr)
	case (c == 'X' || c == 'x') && start+1 < len(lx.src) && lx.src[start+1] == '\'':
		t, err := lx.quoted(start, start+1, '\'', TokBinary)
		if err != nil {
			return t, err
		}
		// Whitespace may separate the digits, newlines included, so errors
		// are reported at t.Pos: the line bookkeeping has moved past start.
		digits := 0
		for i := 0; i < len(t.Val); i++ {
			switch c := t.Val[i]; {
			case isHex(c):
				digits++
			case c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v':
				return t, &Error{Name: ErrSyntax, Message: "binary literal can only contain hexadecimal digits", Pos: t.Pos}
			}
		}
		if digits%2 != 0 {
			return t, &Error{Name: ErrSyntax, Message: "binary literal must contain an even number of digits", Pos: t.Pos}
		}
		return t, nil
	case isIdentStart(c):
		end := start + 1
		for end < len(lx.src) && isIdentPart(lx.src[end]) {
			end++
		}
		if end < len(lx.src) && lx.src[end] >= utf8.RuneSelf {
			return Token{}, lx.errAt(end, "identifiers may contain only ASCII letters, digits and '_' unless quoted; surround the identifier with double quotes")
		}
		lx.off = end
		text := lx.src[start:end]
		return Token{Kind: TokIdent, Text: text, Val: text, Reserved: IsReserved(text), Pos: lx.pos(start)}, nil
	case isDigit(c) || c == '.' && start+1 < len(lx.src) && isDigit(lx.src[start+1]):
		return lx.number(start)
	case c == '\'':
		return lx.quoted(start, start, '\'', TokString)
	case c == '"':
		t, err := lx.quoted(start, start, '"', TokQuotedIdent)
		if err == nil && t.Val == "" {
			return t, lx.errAt(start, "zero-length delimited identifier not allowed")
		}
		return t, err
	case c == '`':
		return Token{}, lx.errAt(start, "backquoted identifiers are not supported; use double quotes to quote identifiers")
	case c == '$' && lx.dollarTag(start) != "":
		return lx.dollarString(start)
	case c == '?':
		lx.off++
		return Token{Kind: TokParam, Text: "?", Val: "?", Pos: lx.pos(start)}, nil
	}
	if c >= utf8.RuneSelf {
		r, _ := utf8.DecodeRuneInString(lx.src[start:])
		return Token{}, lx.errAt(start, "unexpected character '"+string(r)+"'")
	}
	// Operators: longest match first.
	for _, op := range [...]string{"<>", "!=", "<=", ">=", "||", "->", "=>", "::", "{-", "-}"} {
		if strings.HasPrefix(lx.src[start:], op) {
			lx.off += 2
			return Token{Kind: TokOp, Text: op, Val: op, Pos: lx.pos(start)}, nil
		}
	}
	if strings.IndexByte("=<>+-*/%.,()[]:;@|{}^$&~!", c) >= 0 {
		lx.off++
		s := lx.src[start : start+1]
		return Token{Kind: TokOp, Text: s, Val: s, Pos: lx.pos(start)}, nil
	}
	return Token{}, lx.errAt(start, "unexpected character '"+string(c)+"'")
}

// decodeUnicode decodes the escapes of a U&'…' literal's value: esc followed
// by four hex digits, by '+' and six hex digits, or by esc itself. It returns
// a message on a malformed escape.
func decodeUnicode(s string, esc rune) (string, string) {
	if !strings.ContainsRune(s, esc) {
		return s, ""
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r != esc {
			b.WriteRune(r)
			continue
		}
		if strings.HasPrefix(s[i:], string(esc)) {
			b.WriteRune(esc)
			i += n
			continue
		}
		digits := 4
		if strings.HasPrefix(s[i:], "+") {
			digits = 6
			i++
		}
		if i+digits > len(s) {
			return "", "incomplete escape sequence in Unicode string literal"
		}
		cp := 0
		for _, c := range []byte(s[i : i+digits]) {
			if !isHex(c) {
				return "", "invalid hexadecimal digit in Unicode string literal escape: '" + string(rune(c)) + "'"
			}
			cp = cp<<4 | hexVal(c)
		}
		i += digits
		if cp > utf8.MaxRune || 0xD800 <= cp && cp <= 0xDFFF {
			return "", "invalid Unicode code point in Unicode string literal"
		}
		b.WriteRune(rune(cp))
	}
	return b.String(), ""
}

func hexVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// quoted lexes a literal whose opening quote is at q; the token starts at start.
// A doubled quote stands for one.
func (lx *lexer) quoted(start, q int, quote byte, kind TokenKind) (Token, error) {
	var b strings.Builder
	i := q + 1
	seg := i
	for {
		j := strings.IndexByte(lx.src[i:], quote)
		if j < 0 {
			what := "string"
			if kind == TokQuotedIdent {
				what = "quoted identifier"
			}
			return Token{}, lx.errAt(start, "unterminated "+what)
		}
		i += j
		if i+1 < len(lx.src) && lx.src[i+1] == quote {
			b.WriteString(lx.src[seg : i+1])
			i += 2
			seg = i
			continue
		}
		break
	}
	var val string
	if b.Len() == 0 {
		val = lx.src[seg:i]
	} else {
		b.WriteString(lx.src[seg:i])
		val = b.String()
	}
	end := i + 1
	t := Token{Kind: kind, Text: lx.src[start:end], Val: val, Pos: lx.pos(start)}
	lx.advanceLines(start, end)
	lx.off = end
	return t, nil
}

// dollarTag returns the opening "$tag$" at off, or "".
func (lx *lexer) dollarTag(off int) string {
	i := off + 1
	for i < len(lx.src) && isIdentPart(lx.src[i]) {
		i++
	}
	if i < len(lx.src) && lx.src[i] == '$' {
		return lx.src[off : i+1]
	}
	return ""
}

func (lx *lexer) dollarString(start int) (Token, error) {
	tag := lx.dollarTag(start)
	body := start + len(tag)
	j := strings.Index(lx.src[body:], tag)
	if j < 0 {
		return Token{}, lx.errAt(start, "unterminated "+tag+" string")
	}
	end := body + j + len(tag)
	t := Token{Kind: TokDollarString, Text: lx.src[start:end], Val: lx.src[body : body+j], Pos: lx.pos(start)}
	lx.advanceLines(start, end)
	lx.off = end
	return t, nil
}

func (lx *lexer) number(start int) (Token, error) {
	src := lx.src
	i := start
	digits := func(ok func(byte) bool) int {
		n := 0
		for i < len(src) {
			if ok(src[i]) {
				n++
				i++
			} else if src[i] == '_' && n > 0 && i+1 < len(src) && ok(src[i+1]) {
				i++
			} else {
				break
			}
		}
		return n
	}
	kind := TokInteger
	if src[i] == '0' && i+1 < len(src) && strings.IndexByte("xXbBoO", src[i+1]) >= 0 {
		var ok func(byte) bool
		switch src[i+1] | 0x20 {
		case 'x':
			ok = isHex
		case 'b':
			ok = func(c byte) bool { return c == '0' || c == '1' }
		default:
			ok = func(c byte) bool { return '0' <= c && c <= '7' }
		}
		i += 2
		if digits(ok) == 0 {
			return Token{}, lx.errAt(start, "malformed number literal")
		}
	} else {
		digits(isDigit)
		if i < len(src) && src[i] == '.' && !(i+1 < len(src) && src[i+1] == '.') {
			kind = TokDecimal
			i++
			digits(isDigit)
		}
		if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
			j := i + 1
			if j < len(src) && (src[j] == '+' || src[j] == '-') {
				j++
			}
			if j < len(src) && isDigit(src[j]) {
				i = j
				digits(isDigit)
				kind = TokDouble
			}
		}
	}
	if i < len(src) && (isIdentPart(src[i]) || src[i] >= utf8.RuneSelf) {
		return Token{}, lx.errAt(start, "identifiers must not start with a digit; surround the identifier with double quotes")
	}
	lx.off = i
	text := src[start:i]
	return Token{Kind: kind, Text: text, Val: text, Pos: lx.pos(start)}, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
