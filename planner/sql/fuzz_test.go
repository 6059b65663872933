package sql_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/meridian-lake/meridian/internal/corpus"
	"github.com/meridian-lake/meridian/planner/sql"
)

// parseBound is how long one fuzz input may take. The parser is linear; this
// only catches loops, with room for slow, instrumented fuzzing workers.
const parseBound = 5 * time.Second

// FuzzParse checks what must hold for any input: Parse and ParseScript return
// within a bound and never panic; an error is a *sql.Error naming a client
// error (a GENERIC_INTERNAL_ERROR is a recovered panic, so a bug) at a position
// inside the input; on success Inspect terminates and every node it visits has
// a position inside the input; and a statement Parse accepts is one statement
// to ParseScript, with the same tree.
func FuzzParse(f *testing.F) {
	stmts, names := corpus.Statements(f, "tpch", "tpcds", "trino-syntax")
	for _, name := range names {
		f.Add(stmts[name])
	}
	for _, tc := range syntaxErrorTests {
		f.Add(tc.src)
	}
	for _, tc := range scriptTests {
		f.Add(tc.src)
	}
	for _, tc := range limitTests {
		f.Add(tc.src)
	}
	for _, tc := range fuzzRegressions {
		f.Add(tc.src)
	}
	f.Fuzz(checkInput)
}

// fuzzRegressions are inputs that once crashed the parser or broke one of
// FuzzParse's properties.
var fuzzRegressions = []struct {
	name string
	src  string
	want string // the error name; "" for success
}{
	{"binary literal across lines", "SELECT X'0\nF'", ""},
	{"bad binary literal across lines", "SELECT X'0\nG'", sql.ErrSyntax},
	{"semicolon in a privilege list", "DENY ;ON A TO A", sql.ErrSyntax},
}

func TestFuzzRegressions(t *testing.T) {
	for _, tc := range fuzzRegressions {
		t.Run(tc.name, func(t *testing.T) {
			checkInput(t, tc.src)
			_, err := sql.Parse(tc.src)
			var pe *sql.Error
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Parse(%q) = %v, want success", tc.src, err)
			case tc.want != "" && (!errors.As(err, &pe) || pe.Name != tc.want):
				t.Errorf("Parse(%q) = %v, want %s", tc.src, err, tc.want)
			}
		})
	}
}

// checkInput checks FuzzParse's properties for src.
func checkInput(t *testing.T, src string) {
	t.Helper()
	var stmt sql.Statement
	var err error
	var scripts []sql.Script
	var scriptErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		stmt, err = sql.Parse(src)
		scripts, scriptErr = sql.Parser{}.ParseScript(src)
	}()
	select {
	case <-done:
	case <-time.After(parseBound):
		t.Fatalf("Parse(%q) did not return within %v", src, parseBound)
	}
	checkParse(t, src, src, stmt, err)
	if scriptErr != nil {
		checkError(t, src, scriptErr)
	}
	for _, s := range scripts {
		checkPos(t, src, "script", s.Pos)
		if s.Pos.Offset+len(s.Text) > len(src) || src[s.Pos.Offset:s.Pos.Offset+len(s.Text)] != s.Text {
			t.Errorf("ParseScript(%q): script %q is not the text at its position %+v", src, s.Text, s.Pos)
		}
		checkParse(t, src, s.Text, s.Stmt, s.Err)
	}
	if err == nil && (len(scripts) != 1 || !reflect.DeepEqual(scripts[0].Stmt, stmt)) {
		t.Errorf("ParseScript(%q) = %d statements, want the one Parse returns", src, len(scripts))
	}
}

// checkParse checks one parse result of text, a part of src.
func checkParse(t *testing.T, src, text string, stmt sql.Statement, err error) {
	t.Helper()
	if err != nil {
		if stmt != nil {
			t.Errorf("Parse(%q) = %T, %v, want no statement with an error", text, stmt, err)
		}
		checkError(t, src, err)
		return
	}
	if stmt == nil {
		t.Fatalf("Parse(%q) = nil, nil, want a statement or an error", text)
	}
	sql.Inspect(stmt, func(n sql.Node) bool {
		checkPos(t, src, reflect.TypeOf(n).String(), n.Position())
		return true
	})
}

func checkError(t *testing.T, src string, err error) {
	t.Helper()
	var pe *sql.Error
	if !errors.As(err, &pe) {
		t.Fatalf("Parse(%q) = %T %v, want *sql.Error", src, err, err)
	}
	switch pe.Name {
	case sql.ErrSyntax:
		checkPos(t, src, "error", pe.Pos)
	case sql.ErrTooLarge:
		if pe.Pos.Line != 0 { // a token-count error has a position; a size error has none
			checkPos(t, src, "error", pe.Pos)
		}
	default:
		t.Fatalf("Parse(%q) = %v, want a %s or %s error", src, err, sql.ErrSyntax, sql.ErrTooLarge)
	}
	if pe.Message == "" || !utf8.ValidString(pe.Message) {
		t.Errorf("Parse(%q) = error %s with message %q, want valid UTF-8 text", src, pe.Name, pe.Message)
	}
}

// checkPos checks that pos lies in src and that its line and column (1-based,
// in characters) agree with its byte offset.
func checkPos(t *testing.T, src, what string, pos sql.Pos) {
	t.Helper()
	if pos.Offset < 0 || pos.Offset > len(src) {
		t.Fatalf("Parse(%q): %s offset %d is outside the input", src, what, pos.Offset)
	}
	before := src[:pos.Offset]
	line := 1 + strings.Count(before, "\n")
	column := 1 + utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:])
	if pos.Line != line || pos.Column != column {
		t.Errorf("Parse(%q): %s at %d:%d, want %d:%d (offset %d)", src, what, pos.Line, pos.Column, line, column, pos.Offset)
	}
}
