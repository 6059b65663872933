package sql_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/planner/sql"
)

// syntaxErrorTests are statements Trino rejects, with where and how. They also
// seed FuzzParse.
var syntaxErrorTests = []struct {
	name         string
	src          string
	line, column int
	msg          string // the message starts with this
}{
	{"missing relation", "SELECT * FROM", 1, 14, "mismatched input '<EOF>'. Expecting: identifier"},
	{"misspelled keyword", "SELEC 1", 1, 1, "mismatched input 'SELEC'. Expecting: a SQL statement"},
	{"missing operand", "SELECT 1 +", 1, 11, "mismatched input '<EOF>'. Expecting: expression"},
	{"unclosed parenthesis", "SELECT (1", 1, 10, "mismatched input '<EOF>'. Expecting: ')'"},
	{"missing condition", "SELECT * FROM t WHERE", 1, 22, "mismatched input '<EOF>'. Expecting: expression"},
	{"garbage after statement", "SELECT 1 2", 1, 10, "mismatched input '2'. Expecting: end of statement"},
	{"second statement", "SELECT 1; SELECT 2", 1, 11, "mismatched input 'SELECT'. Expecting: end of statement"},
	{"reserved word as identifier", "SELECT * FROM select", 1, 15, "mismatched input 'select'. Expecting: identifier ('select' is a reserved word"},
	{"join without condition", "SELECT * FROM t JOIN u", 1, 23, "mismatched input '<EOF>'. Expecting: ON or USING"},
	{"case without end", "SELECT CASE WHEN a THEN 1", 1, 26, "mismatched input '<EOF>'. Expecting: END"},
	{"long token is shortened", "SELECT 1 '" + strings.Repeat("x", 60) + "'", 1, 10, "mismatched input ''" + strings.Repeat("x", 39) + "…'"},
	{"long token is shortened between characters", "SELECT 1 '" + strings.Repeat("é", 30) + "'", 1, 10, "mismatched input ''" + strings.Repeat("é", 19) + "…'"},
	{"error on line 3", "SELECT a,\n  b\nFROM t WHERE x = = 1", 3, 18, "mismatched input '='. Expecting: expression"},
	{"columns count characters", "SELECT 'é',\n  'ü' + )", 2, 9, "mismatched input ')'. Expecting: expression"},
	{"after a multi-line string", "SELECT 'a\nb', )", 2, 5, "mismatched input ')'"},
	{"after a multi-line comment", "/* one\ntwo */ SELEC 1", 2, 8, "mismatched input 'SELEC'"},
	{"after a line comment", "-- é\nSELECT * FROM t WHERE", 2, 22, "mismatched input '<EOF>'"},
	{"empty input", "", 1, 1, "empty statement"},
	{"only whitespace", " \n ", 2, 2, "empty statement"},
	{"only a line comment", "-- nothing", 1, 11, "empty statement"},
	{"only a block comment", "/* nothing */", 1, 14, "empty statement"},
	{"only a semicolon", ";", 1, 1, "mismatched input ';'"},

	// Lexical errors.
	{"unterminated string", "SELECT 'abc", 1, 8, "unterminated string"},
	{"unterminated multi-line string", "SELECT 1,\n 'a\nb", 2, 2, "unterminated string"},
	{"unterminated comment", "SELECT 1 /* a\nb", 1, 10, "unterminated comment"},
	{"unterminated quoted identifier", `SELECT "abc`, 1, 8, "unterminated quoted identifier"},
	{"unterminated dollar string", "SELECT $$abc", 1, 8, "unterminated $$ string"},
	{"backquoted identifier", "SELECT `a`", 1, 8, "backquoted identifiers are not supported"},
	{"empty quoted identifier", `SELECT ""`, 1, 8, "zero-length delimited identifier not allowed"},
	{"identifier starting with a digit", "SELECT 1abc", 1, 8, "identifiers must not start with a digit"},
	{"non-ASCII in an identifier", "SELECT aé", 1, 9, "identifiers may contain only ASCII letters"},
	{"unexpected character", "SELECT 1 # 2", 1, 10, "unexpected character '#'"},
	{"unexpected non-ASCII character", "SELECT 1 € 2", 1, 10, "unexpected character '€'"},
	{"malformed hex number", "SELECT 0x", 1, 8, "malformed number literal"},
	{"binary literal with a non-hex digit", "SELECT X'0G'", 1, 8, "binary literal can only contain hexadecimal digits"},
	{"binary literal with odd digits", "SELECT X'0F0'", 1, 8, "binary literal must contain an even number of digits"},
	{"multi-line binary literal with a non-hex digit", "SELECT X'0F\nG'", 1, 8, "binary literal can only contain hexadecimal digits"},
	{"invalid Unicode escape", `SELECT U&'\00G1'`, 1, 8, "invalid hexadecimal digit"},
	{"incomplete Unicode escape", `SELECT U&'\004'`, 1, 8, "incomplete escape sequence"},
	{"surrogate Unicode escape", `SELECT U&'\D800'`, 1, 8, "invalid Unicode code point"},
	{"hex digit as UESCAPE", `SELECT U&'a' UESCAPE 'a'`, 1, 22, "invalid Unicode escape character"},
	{"long UESCAPE", `SELECT U&'a' UESCAPE '!!'`, 1, 22, "invalid Unicode escape character"},
	{"invalid UTF-8", "SELECT 'a',\n '\xff'", 2, 3, "statement is not valid UTF-8"},
}

func TestSyntaxErrors(t *testing.T) {
	for _, tc := range syntaxErrorTests {
		t.Run(tc.name, func(t *testing.T) {
			stmt, err := sql.Parse(tc.src)
			var pe *sql.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, %v, want *sql.Error", tc.src, stmt, err)
			}
			if pe.Name != sql.ErrSyntax || pe.Pos.Line != tc.line || pe.Pos.Column != tc.column || !strings.HasPrefix(pe.Message, tc.msg) {
				t.Errorf("Parse(%q) = %v (%s at %d:%d), want %s at %d:%d: %s…", tc.src, err, pe.Name, pe.Pos.Line, pe.Pos.Column, sql.ErrSyntax, tc.line, tc.column, tc.msg)
			}
			if stmt != nil {
				t.Errorf("Parse(%q) returned a statement with its error: %#v", tc.src, stmt)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	_, err := sql.Parse("SELECT * FROM")
	if got, want := err.Error(), "line 1:14: mismatched input '<EOF>'. Expecting: identifier"; got != want {
		t.Errorf("Parse(%q).Error() = %q, want %q", "SELECT * FROM", got, want)
	}
	_, err = sql.Parser{MaxBytes: 4}.Parse("SELECT 1")
	if got, want := err.Error(), "statement is 8 bytes, over the limit of 4 bytes"; got != want {
		t.Errorf("Parser{MaxBytes: 4}.Parse(%q).Error() = %q, want %q", "SELECT 1", got, want)
	}
}

// nest returns open repeated n times, then middle, then close repeated n times.
func nest(n int, open, middle, close string) string {
	return strings.Repeat(open, n) + middle + strings.Repeat(close, n)
}

var limitTests = []struct {
	name   string
	parser sql.Parser
	src    string
	want   string // error name; "" for success
	msg    string // the message contains this
}{
	{"text over MaxBytes", sql.Parser{MaxBytes: 100}, "SELECT " + strings.Repeat("a, ", 40) + "b FROM t", sql.ErrTooLarge, "over the limit of 100 bytes"},
	{"text at MaxBytes", sql.Parser{MaxBytes: 100}, "SELECT " + strings.Repeat("a", 93), "", ""},
	{"tokens over MaxTokens", sql.Parser{MaxTokens: 10}, "SELECT a, b, c, d, e, f FROM t", sql.ErrTooLarge, "more than 10 tokens"},
	{"tokens at MaxTokens", sql.Parser{MaxTokens: 10}, "SELECT a, b, c, d FROM t", "", ""},
	{"parentheses over MaxDepth", sql.Parser{MaxDepth: 50}, "SELECT " + nest(60, "(", "1", ")"), sql.ErrSyntax, "nested too deeply (more than 50 levels)"},
	{"parentheses within MaxDepth", sql.Parser{MaxDepth: 50}, "SELECT " + nest(10, "(", "1", ")"), "", ""},
	{"subqueries over MaxDepth", sql.Parser{MaxDepth: 50}, nest(60, "SELECT * FROM (", "SELECT 1", ")"), sql.ErrSyntax, "nested too deeply"},
	{"subqueries within MaxDepth", sql.Parser{MaxDepth: 50}, nest(5, "SELECT * FROM (", "SELECT 1", ")"), "", ""},
	{"scalar subqueries over MaxDepth", sql.Parser{MaxDepth: 50}, nest(60, "SELECT (", "SELECT 1", ")"), sql.ErrSyntax, "nested too deeply"},
	{"NOT over MaxDepth", sql.Parser{MaxDepth: 50}, "SELECT " + strings.Repeat("NOT ", 60) + "true", sql.ErrSyntax, "nested too deeply"},
	{"NOT within MaxDepth", sql.Parser{MaxDepth: 50}, "SELECT " + strings.Repeat("NOT ", 10) + "true", "", ""},
	{"unary minus over MaxDepth", sql.Parser{MaxDepth: 50}, "SELECT " + strings.Repeat("- ", 60) + "1", sql.ErrSyntax, "nested too deeply"},
	{"types over MaxDepth", sql.Parser{MaxDepth: 50}, "SELECT CAST(x AS " + nest(60, "array(", "int", ")") + ")", sql.ErrSyntax, "nested too deeply"},
	{"EXPLAIN over MaxDepth", sql.Parser{MaxDepth: 50}, strings.Repeat("EXPLAIN ", 60) + "SELECT 1", sql.ErrSyntax, "nested too deeply"},
	{"EXPLAIN within MaxDepth", sql.Parser{MaxDepth: 50}, strings.Repeat("EXPLAIN ", 3) + "SELECT 1", "", ""},
	{"PREPARE over MaxDepth", sql.Parser{MaxDepth: 50}, strings.Repeat("PREPARE p FROM ", 60) + "SELECT 1", sql.ErrSyntax, "nested too deeply"},
	{"right-nested joins over MaxDepth", sql.Parser{MaxDepth: 50}, "SELECT * FROM a" + strings.Repeat(" JOIN a", 60) + strings.Repeat(" ON true", 60), sql.ErrSyntax, "nested too deeply"},
	{"right-nested joins within MaxDepth", sql.Parser{MaxDepth: 50}, "SELECT * FROM a" + strings.Repeat(" JOIN a", 5) + strings.Repeat(" ON true", 5), "", ""},
	{"left-deep joins are not nesting", sql.Parser{MaxDepth: 50}, "SELECT * FROM a" + strings.Repeat(" JOIN a ON true", 100), "", ""},
	{"long sums are not nesting", sql.Parser{MaxDepth: 50}, "SELECT 1" + strings.Repeat(" + 1", 1000), "", ""},
}

func TestLimits(t *testing.T) {
	for _, tc := range limitTests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.parser.Parse(tc.src)
			if tc.want == "" {
				if err != nil {
					t.Errorf("%+v.Parse(%.40q…) = %v, want success", tc.parser, tc.src, err)
				}
				return
			}
			var pe *sql.Error
			if !errors.As(err, &pe) || pe.Name != tc.want || !strings.Contains(pe.Message, tc.msg) {
				t.Errorf("%+v.Parse(%.40q…) = %v, want %s containing %q", tc.parser, tc.src, err, tc.want, tc.msg)
			}
		})
	}
}

// TestDeepNestingFailsFast feeds 10,000 levels of nesting to the default
// parser: each must be refused quickly, without exhausting the stack.
func TestDeepNestingFailsFast(t *testing.T) {
	const n = 10_000
	tests := []struct{ name, src string }{
		{"parentheses", "SELECT " + nest(n, "(", "1", ")")},
		{"unclosed parentheses", "SELECT " + strings.Repeat("(", n)},
		{"subqueries", nest(n, "SELECT * FROM (", "SELECT 1", ")")},
		{"IN subqueries", nest(n, "SELECT 1 WHERE x IN (", "SELECT 1", ")")},
		{"NOT", "SELECT " + strings.Repeat("NOT ", n) + "true"},
		{"unary minus", "SELECT " + strings.Repeat("- ", n) + "1"},
		{"arrays", "SELECT " + nest(n, "ARRAY[", "1", "]")},
		{"calls", "SELECT " + nest(n, "f(", "1", ")")},
		{"CASE", "SELECT " + strings.Repeat("CASE WHEN ", n) + "1"},
		{"lambdas", "SELECT f(" + strings.Repeat("x -> ", n) + "1)"},
		{"types", "SELECT CAST(x AS " + nest(n, "array(", "int", ")") + ")"},
		{"row types", "SELECT CAST(x AS " + nest(n, "row(a ", "int", ")") + ")"},
		{"relations", "SELECT * FROM " + nest(n, "(", "t", ")")},
		{"EXPLAIN", strings.Repeat("EXPLAIN ", n) + "SELECT 1"},
		{"PREPARE", strings.Repeat("PREPARE p FROM ", n) + "SELECT 1"},
		{"right-nested joins", "SELECT * FROM a" + strings.Repeat(" JOIN a", n)},
		{"set operations", nest(n, "(", "SELECT 1", ") UNION SELECT 1")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := sql.Parse(tc.src)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Parse(%.40q…) took %v, want well under a second", tc.src, d)
			}
			var pe *sql.Error
			if !errors.As(err, &pe) || pe.Name != sql.ErrSyntax || !strings.Contains(pe.Message, "nested too deeply") {
				t.Errorf("Parse(%.40q…) = %v, want %s: nested too deeply", tc.src, err, sql.ErrSyntax)
			}
		})
	}
}
