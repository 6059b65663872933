package sql_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/planner/sql"
)

// tok is the part of a token TestTokenize checks.
type tok struct {
	Kind     sql.TokenKind
	Text     string
	Val      string
	Reserved bool
}

func ident(s string) tok   { return tok{Kind: sql.TokIdent, Text: s, Val: s} }
func keyword(s string) tok { return tok{Kind: sql.TokIdent, Text: s, Val: s, Reserved: true} }
func op(s string) tok      { return tok{Kind: sql.TokOp, Text: s, Val: s} }
func number(k sql.TokenKind, s string) tok {
	return tok{Kind: k, Text: s, Val: s}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []tok
	}{
		{"identifiers keep their case", "abc Mixed_Case1 _x", []tok{ident("abc"), ident("Mixed_Case1"), ident("_x")}},
		{"reserved words in any case", "select From where2", []tok{keyword("select"), keyword("From"), ident("where2")}},
		{"quoted identifier", `"a b"`, []tok{{Kind: sql.TokQuotedIdent, Text: `"a b"`, Val: "a b"}}},
		{"quoted identifier with doubled quotes", `"say ""hi"""`, []tok{{Kind: sql.TokQuotedIdent, Text: `"say ""hi"""`, Val: `say "hi"`}}},
		{"quoted reserved word is not reserved", `"select"`, []tok{{Kind: sql.TokQuotedIdent, Text: `"select"`, Val: "select"}}},
		{"quoted non-ASCII identifier", `"Ünï"`, []tok{{Kind: sql.TokQuotedIdent, Text: `"Ünï"`, Val: "Ünï"}}},
		{"string", "'abc'", []tok{{Kind: sql.TokString, Text: "'abc'", Val: "abc"}}},
		{"string with doubled quotes", "'it''s'''", []tok{{Kind: sql.TokString, Text: "'it''s'''", Val: "it's'"}}},
		{"empty string", "''", []tok{{Kind: sql.TokString, Text: "''", Val: ""}}},
		{"multi-line string", "'a\nb'", []tok{{Kind: sql.TokString, Text: "'a\nb'", Val: "a\nb"}}},
		{"string keeps comment markers", "'-- /*'", []tok{{Kind: sql.TokString, Text: "'-- /*'", Val: "-- /*"}}},
		{"Unicode string is decoded by the parser", `U&'\0041'`, []tok{{Kind: sql.TokUnicodeStr, Text: `U&'\0041'`, Val: `\0041`}}},
		{"Unicode string with UESCAPE", `u&'!0041' UESCAPE '!'`, []tok{
			{Kind: sql.TokUnicodeStr, Text: `u&'!0041'`, Val: `!0041`}, keyword("UESCAPE"), {Kind: sql.TokString, Text: "'!'", Val: "!"},
		}},
		{"U without & is an identifier", "U 'a'", []tok{ident("U"), {Kind: sql.TokString, Text: "'a'", Val: "a"}}},
		{"binary", "X'0F 1a' x'AB'", []tok{{Kind: sql.TokBinary, Text: "X'0F 1a'", Val: "0F 1a"}, {Kind: sql.TokBinary, Text: "x'AB'", Val: "AB"}}},
		{"decimals", "1.5 .5 1. 1_0.2_5", []tok{number(sql.TokDecimal, "1.5"), number(sql.TokDecimal, ".5"), number(sql.TokDecimal, "1."), number(sql.TokDecimal, "1_0.2_5")}},
		{"doubles", "1e10 1.5E-3 1E+2 .5e1", []tok{number(sql.TokDouble, "1e10"), number(sql.TokDouble, "1.5E-3"), number(sql.TokDouble, "1E+2"), number(sql.TokDouble, ".5e1")}},
		{"two-character operators", "<> != -> => || :: <= >= {- -}", []tok{op("<>"), op("!="), op("->"), op("=>"), op("||"), op("::"), op("<="), op(">="), op("{-"), op("-}")}},
		{"one-character operators", "=<>+*/%.,()[]:;@|^&~", []tok{
			op("="), op("<>"), op("+"), op("*"), op("/"), op("%"), op("."), op(","), op("("), op(")"),
			op("["), op("]"), op(":"), op(";"), op("@"), op("|"), op("^"), op("&"), op("~"),
		}},
		{"minus is not a comment", "a - -b", []tok{ident("a"), op("-"), op("-"), ident("b")}},
		{"qualified name", "a.b.c", []tok{ident("a"), op("."), ident("b"), op("."), ident("c")}},
		{"line comment", "a -- b c\nd", []tok{ident("a"), ident("d")}},
		{"line comment at the end", "a --", []tok{ident("a")}},
		{"block comment", "a /* b\n c */d", []tok{ident("a"), ident("d")}},
		{"block comment is not nested", "a /* /* */ b", []tok{ident("a"), ident("b")}},
		{"dollar string", "$$it's $x$$$", []tok{{Kind: sql.TokDollarString, Text: "$$it's $x$$", Val: "it's $x"}, op("$")}},
		{"tagged dollar string", "$fn$ $$ $fn$", []tok{{Kind: sql.TokDollarString, Text: "$fn$ $$ $fn$", Val: " $$ "}}},
		{"parameters", "? ?", []tok{{Kind: sql.TokParam, Text: "?", Val: "?"}, {Kind: sql.TokParam, Text: "?", Val: "?"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			toks, err := sql.Tokenize(tc.src, 0)
			if err != nil {
				t.Fatalf("Tokenize(%q) = %v", tc.src, err)
			}
			if last := toks[len(toks)-1]; last.Kind != sql.TokEOF || last.Pos.Offset != len(tc.src) {
				t.Errorf("Tokenize(%q) ends with %+v, want EOF at offset %d", tc.src, last, len(tc.src))
			}
			var got []tok
			for _, tk := range toks[:len(toks)-1] {
				got = append(got, tok{Kind: tk.Kind, Text: tk.Text, Val: tk.Val, Reserved: tk.Reserved})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Tokenize(%q) mismatch (-want +got):\n%s", tc.src, diff)
			}
		})
	}
}

func TestTokenizeIntegers(t *testing.T) {
	for _, src := range []string{"0", "42", "1_000", "1_000_000", "0x1F", "0X1f", "0x1_F", "0b101", "0B1_0", "0o17", "0O7"} {
		toks, err := sql.Tokenize(src, 0)
		if err != nil || len(toks) != 2 || toks[0].Kind != sql.TokInteger || toks[0].Text != src {
			t.Errorf("Tokenize(%q) = %+v, %v, want one integer token", src, toks, err)
		}
	}
}

func TestTokenizeErrors(t *testing.T) {
	tests := []struct {
		src          string
		line, column int
	}{
		{"0x", 1, 1},
		{"0x_1", 1, 1},
		{"0b2", 1, 1},
		{"1__0", 1, 1},
		{"1_", 1, 1},
		{"1e", 1, 1},
		{"a=1AND", 1, 3},
		{"1é", 1, 1},
		{"'a", 1, 1},
		{"x\n  \"a", 2, 3},
		{"$$a$", 1, 1},
		{"a /* b", 1, 3},
		{"X'1'", 1, 1},
		{"X'1G'", 1, 1},
		{"`a`", 1, 1},
		{"#", 1, 1},
		{"é", 1, 1},
		{`""`, 1, 1},
	}
	for _, tc := range tests {
		_, err := sql.Tokenize(tc.src, 0)
		var pe *sql.Error
		if !errors.As(err, &pe) || pe.Name != sql.ErrSyntax || pe.Pos.Line != tc.line || pe.Pos.Column != tc.column {
			t.Errorf("Tokenize(%q) = %v, want a %s at %d:%d", tc.src, err, sql.ErrSyntax, tc.line, tc.column)
		}
	}
}

func TestTokenizeMaxTokens(t *testing.T) {
	// Four tokens and EOF fit a limit of four.
	if _, err := sql.Tokenize("a b c d", 4); err != nil {
		t.Errorf("Tokenize(%q, 4) = %v, want success", "a b c d", err)
	}
	_, err := sql.Tokenize("a b c d e", 4)
	var pe *sql.Error
	if !errors.As(err, &pe) || pe.Name != sql.ErrTooLarge || pe.Pos.Column != 9 {
		t.Errorf("Tokenize(%q, 4) = %v, want %s at the fifth token", "a b c d e", err, sql.ErrTooLarge)
	}
}

func TestTokenPositions(t *testing.T) {
	type at struct {
		Text                 string
		Line, Column, Offset int
	}
	tests := []struct {
		name string
		src  string
		want []at
	}{
		{"first line", "SELECT a,b", []at{{"SELECT", 1, 1, 0}, {"a", 1, 8, 7}, {",", 1, 9, 8}, {"b", 1, 10, 9}, {"", 1, 11, 10}}},
		{"lines", "a\n  b\n\nc\n", []at{{"a", 1, 1, 0}, {"b", 2, 3, 4}, {"c", 4, 1, 7}, {"", 5, 1, 9}}},
		{"CRLF", "a\r\nb", []at{{"a", 1, 1, 0}, {"b", 2, 1, 3}, {"", 2, 2, 4}}},
		{"a tab is one column", "\ta", []at{{"a", 1, 2, 1}, {"", 1, 3, 2}}},
		{"after two-byte characters", `'é' "ü" x`, []at{{"'é'", 1, 1, 0}, {`"ü"`, 1, 5, 5}, {"x", 1, 9, 10}, {"", 1, 10, 11}}},
		{"after three-byte characters", "'日本' x", []at{{"'日本'", 1, 1, 0}, {"x", 1, 6, 9}, {"", 1, 7, 10}}},
		{"after four-byte characters", `"😀" x`, []at{{`"😀"`, 1, 1, 0}, {"x", 1, 5, 7}, {"", 1, 6, 8}}},
		{"after a multi-line string", "a 'b\nçd' e", []at{{"a", 1, 1, 0}, {"'b\nçd'", 1, 3, 2}, {"e", 2, 5, 10}, {"", 2, 6, 11}}},
		{"after a multi-line quoted identifier", "\"a\nb\" c", []at{{"\"a\nb\"", 1, 1, 0}, {"c", 2, 4, 6}, {"", 2, 5, 7}}},
		{"after a multi-line comment", "a /* é\n ü */ b", []at{{"a", 1, 1, 0}, {"b", 2, 7, 15}, {"", 2, 8, 16}}},
		{"after a line comment", "a -- é\nb", []at{{"a", 1, 1, 0}, {"b", 2, 1, 8}, {"", 2, 2, 9}}},
		{"after a multi-line dollar string", "$$a\né$$ b", []at{{"$$a\né$$", 1, 1, 0}, {"b", 2, 5, 9}, {"", 2, 6, 10}}},
		{"after a multi-line binary literal", "X'0\nF' b", []at{{"X'0\nF'", 1, 1, 0}, {"b", 2, 4, 7}, {"", 2, 5, 8}}},
		{"comment then string on one line", "/* é */ 'ü' x", []at{{"'ü'", 1, 9, 9}, {"x", 1, 13, 14}, {"", 1, 14, 15}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			toks, err := sql.Tokenize(tc.src, 0)
			if err != nil {
				t.Fatalf("Tokenize(%q) = %v", tc.src, err)
			}
			var got []at
			for _, tk := range toks {
				got = append(got, at{tk.Text, tk.Pos.Line, tk.Pos.Column, tk.Pos.Offset})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Tokenize(%q) positions mismatch (-want +got):\n%s", tc.src, diff)
			}
		})
	}
}

func TestIsReserved(t *testing.T) {
	tests := []struct {
		word string
		want bool
	}{
		{"SELECT", true},
		{"select", true},
		{"CuRrEnT_TiMeStAmP", true},
		{"uescape", true},
		{"table", true},
		{"tables", false},
		{"data", false},
		{"begin", false},
		{"", false},
		{"a_very_long_word_that_is_not_a_keyword_at_all", false},
	}
	for _, tc := range tests {
		if got := sql.IsReserved(tc.word); got != tc.want {
			t.Errorf("IsReserved(%q) = %v, want %v", tc.word, got, tc.want)
		}
	}
}
