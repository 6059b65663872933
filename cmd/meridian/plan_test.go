package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// planLine is the documented part of one line of plan --json.
type planLine struct {
	Kind     string              `json:"kind"`
	Analysis string              `json:"analysis"`
	Tables   []map[string]any    `json:"tables"`
	Columns  map[string][]string `json:"columns"`
	Output   []struct {
		Name       string   `json:"name"`
		Aggregated bool     `json:"aggregated"`
		Raw        []string `json:"raw"`
	} `json:"output"`
	Predicates []map[string]any `json:"predicates"`
	Error      map[string]any   `json:"error"`
}

// decodeLines checks that out is JSON Lines, one object per line with the
// fields every analysis has, and decodes them.
func decodeLines(t *testing.T, out string) []planLine {
	t.Helper()
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("output does not end with a newline:\n%s", out)
	}
	var lines []planLine
	for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &raw); err != nil {
			t.Fatalf("line %d is not one JSON object: %v\n%s", i+1, err, l)
		}
		for _, k := range []string{"kind", "analysis", "tables", "columns", "output"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("line %d lacks %q: %s", i+1, k, l)
			}
		}
		var pl planLine
		if err := json.Unmarshal([]byte(l), &pl); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		lines = append(lines, pl)
	}
	return lines
}

func syntaxError(line, column int) map[string]any {
	return map[string]any{"name": "SYNTAX_ERROR", "line": float64(line), "column": float64(column)}
}

// checkError compares an error object with want, which has no message: the
// message must be present and name the offending input, and no other field
// may appear.
func checkError(t *testing.T, got, want map[string]any, offending string) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Errorf("error = %v, want none", got)
		}
		return
	}
	msg, _ := got["message"].(string)
	if !strings.Contains(msg, offending) {
		t.Errorf("error message = %q, want it to name %q", msg, offending)
	}
	rest := map[string]any{}
	for k, v := range got {
		if k != "message" {
			rest[k] = v
		}
	}
	if d := cmp.Diff(want, rest); d != "" {
		t.Errorf("error mismatch (-want +got):\n%s", d)
	}
}

func TestPlanJSON(t *testing.T) {
	read := func(name string) map[string]any { return map[string]any{"name": name, "access": "read"} }
	lineitem := `SELECT count(*) FROM "iceberg"."tpch"."lineitem"`
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		check    func(t *testing.T, lines []planLine)
	}{
		{
			name: "qualified aggregate", args: []string{"plan", "--json", lineitem}, wantCode: exitOK,
			check: func(t *testing.T, ls []planLine) {
				if len(ls) != 1 {
					t.Fatalf("got %d lines, want 1", len(ls))
				}
				l := ls[0]
				if l.Kind != "select" || l.Analysis != "ast" {
					t.Errorf("kind, analysis = %q, %q, want select, ast", l.Kind, l.Analysis)
				}
				if d := cmp.Diff([]map[string]any{read("iceberg.tpch.lineitem")}, l.Tables); d != "" {
					t.Errorf("tables mismatch (-want +got):\n%s", d)
				}
				if len(l.Output) != 1 || !l.Output[0].Aggregated || len(l.Output[0].Raw) != 0 {
					t.Errorf("output = %+v, want one aggregated column with no raw sources", l.Output)
				}
				checkError(t, l.Error, nil, "")
			},
		},
		{
			name: "unqualified names use the session flags", wantCode: exitOK,
			args: []string{"plan", "--json", "--catalog", "Iceberg", "--schema", "eu", "SELECT name FROM guests WHERE country = 'FR'"},
			check: func(t *testing.T, ls []planLine) {
				l := ls[0]
				if d := cmp.Diff([]map[string]any{read("iceberg.eu.guests")}, l.Tables); d != "" {
					t.Errorf("tables mismatch (-want +got):\n%s", d)
				}
				if d := cmp.Diff(map[string][]string{"iceberg.eu.guests": {"country", "name"}}, l.Columns); d != "" {
					t.Errorf("columns mismatch (-want +got):\n%s", d)
				}
				if len(l.Output) != 1 || l.Output[0].Aggregated || !cmp.Equal(l.Output[0].Raw, []string{"iceberg.eu.guests.name"}) {
					t.Errorf("output = %+v, want name, raw from iceberg.eu.guests.name", l.Output)
				}
				want := []map[string]any{{"table": "iceberg.eu.guests", "column": "country", "op": "=", "values": []any{"FR"}, "type": "string"}}
				if d := cmp.Diff(want, l.Predicates); d != "" {
					t.Errorf("predicates mismatch (-want +got):\n%s", d)
				}
			},
		},
		{
			name: "syntax error", args: []string{"plan", "--json", "SELECT * FROM"}, wantCode: exitFailed,
			check: func(t *testing.T, ls []planLine) {
				if len(ls) != 1 {
					t.Fatalf("got %d lines, want 1", len(ls))
				}
				if ls[0].Analysis != "conservative" {
					t.Errorf("analysis = %q, want conservative", ls[0].Analysis)
				}
				checkError(t, ls[0].Error, syntaxError(1, 14), "<EOF>")
			},
		},
		{
			name: "unparsable statement is analysed conservatively", wantCode: exitFailed,
			args: []string{"plan", "--json", "--catalog", "iceberg", "--schema", "eu", "SELECT email FROM guests WHERE"},
			check: func(t *testing.T, ls []planLine) {
				l := ls[0]
				if l.Kind != "select" || l.Analysis != "conservative" {
					t.Errorf("kind, analysis = %q, %q, want select, conservative", l.Kind, l.Analysis)
				}
				found := false
				for _, tb := range l.Tables {
					found = found || cmp.Equal(tb, read("iceberg.eu.guests"))
				}
				if !found {
					t.Errorf("tables = %v, want iceberg.eu.guests read among them", l.Tables)
				}
				checkError(t, l.Error, syntaxError(1, 31), "<EOF>")
			},
		},
		{
			name: "several statements, error positions in the whole input", wantCode: exitFailed,
			args: []string{"plan", "--json", "--catalog", "iceberg", "--schema", "eu",
				"SELECT a FROM t; SELECT * FROM;\n  SELECT * FROM\n;\nINSERT INTO u SELECT * FROM t"},
			check: func(t *testing.T, ls []planLine) {
				if len(ls) != 4 {
					t.Fatalf("got %d lines, want 4", len(ls))
				}
				wantKinds := []string{"select", "select", "select", "insert"}
				wantErrs := []map[string]any{nil, syntaxError(1, 31), syntaxError(3, 1), nil}
				for i, l := range ls {
					if l.Kind != wantKinds[i] {
						t.Errorf("statement %d kind = %q, want %q", i+1, l.Kind, wantKinds[i])
					}
					checkError(t, l.Error, wantErrs[i], "")
				}
				want := []map[string]any{read("iceberg.eu.t"), {"name": "iceberg.eu.u", "access": "write"}}
				if d := cmp.Diff(want, ls[3].Tables); d != "" {
					t.Errorf("statement 4 tables mismatch (-want +got):\n%s", d)
				}
			},
		},
		{
			name: "stdin", args: []string{"plan", "--json"}, stdin: lineitem + ";\n" + lineitem, wantCode: exitOK,
			check: func(t *testing.T, ls []planLine) {
				if len(ls) != 2 || ls[1].Tables[0]["name"] != "iceberg.tpch.lineitem" {
					t.Errorf("got %+v, want two statements on iceberg.tpch.lineitem", ls)
				}
			},
		},
		{
			name: "stdin as -, flags after the argument", args: []string{"plan", "-", "--json"}, stdin: lineitem, wantCode: exitOK,
			check: func(t *testing.T, ls []planLine) {
				if len(ls) != 1 || ls[0].Tables[0]["name"] != "iceberg.tpch.lineitem" {
					t.Errorf("got %+v, want one statement on iceberg.tpch.lineitem", ls)
				}
			},
		},
		{
			name: "-- ends the flags", args: []string{"plan", "--json", "--", "-- a comment\nSELECT 1"}, wantCode: exitOK,
			check: func(t *testing.T, ls []planLine) {
				if len(ls) != 1 || ls[0].Kind != "select" || len(ls[0].Tables) != 0 {
					t.Errorf("got %+v, want one select of no table", ls)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("run(%q) = %d, want %d; stderr:\n%s", tt.args, code, tt.wantCode, stderr)
			}
			if stderr != "" {
				t.Errorf("run(%q) wrote to stderr:\n%s", tt.args, stderr)
			}
			tt.check(t, decodeLines(t, stdout))
		})
	}
}

func TestPlanFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.sql")
	src := "SELECT country, count(*) FROM iceberg.eu.guests GROUP BY country;\nSELECT * FROM WHERE x = 1\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "not read", "plan", "--json", "--file", path)
	if code != exitFailed {
		t.Errorf("plan --file = %d, want %d; stderr:\n%s", code, exitFailed, stderr)
	}
	ls := decodeLines(t, stdout)
	if len(ls) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(ls), stdout)
	}
	if ls[0].Tables[0]["name"] != "iceberg.eu.guests" || ls[0].Output[1].Aggregated != true {
		t.Errorf("statement 1 = %+v, want iceberg.eu.guests with an aggregated second column", ls[0])
	}
	checkError(t, ls[1].Error, syntaxError(2, 15), "WHERE")
}

func TestPlanEnvironment(t *testing.T) {
	t.Setenv("MERIDIAN_CATALOG", "hive")
	t.Setenv("MERIDIAN_SCHEMA", "sales")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--json", "SELECT * FROM orders"}, "hive.sales.orders"},
		{[]string{"plan", "--json", "--schema", "eu", "SELECT * FROM orders"}, "hive.eu.orders"}, // flags win
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tt.args, strings.NewReader(""), &out, &errb)
		if code != exitOK {
			t.Errorf("run(%q) = %d, want 0; stderr:\n%s", tt.args, code, errb.String())
			continue
		}
		if ls := decodeLines(t, out.String()); ls[0].Tables[0]["name"] != tt.want {
			t.Errorf("run(%q) tables = %v, want %s", tt.args, ls[0].Tables, tt.want)
		}
	}
}

func TestPlanUsageErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.sql")
	if err := os.WriteFile(big, []byte("SELECT 1 -- "+strings.Repeat("x", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantStderr string
		wantHint   bool // a mistake in the arguments points to the help
	}{
		{"SQL and --file", []string{"plan", "--file", big, "SELECT 1"}, "", "not both", true},
		{"two arguments", []string{"plan", "SELECT 1", "SELECT 2"}, "", "want one SQL argument", true},
		{"unknown flag", []string{"plan", "--explain", "SELECT 1"}, "", "flag provided but not defined: -explain", true},
		{"bad --max-bytes", []string{"plan", "--max-bytes", "0", "SELECT 1"}, "", "--max-bytes must be positive", true},
		{"missing file", []string{"plan", "--file", filepath.Join(dir, "nope.sql")}, "", "nope.sql: no such file", false},
		{"file too large", []string{"plan", "--max-bytes", "64", "--file", big}, "", big + " is over the limit of 64 bytes", false},
		{"stdin too large", []string{"plan", "--max-bytes", "8"}, "SELECT 1;", "standard input is over the limit of 8 bytes", false},
		{"argument too large", []string{"plan", "--max-bytes", "8", "SELECT 1;"}, "", "over the limit of 8", false},
		{"no statement", []string{"plan"}, "  -- nothing\n;;", "no SQL statement", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.stdin, tt.args...)
			if code != exitUsage {
				t.Errorf("run(%q) = %d, want %d", tt.args, code, exitUsage)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("run(%q) stderr = %q, want it to contain %q", tt.args, stderr, tt.wantStderr)
			}
			if stdout != "" {
				t.Errorf("run(%q) stdout = %q, want nothing", tt.args, stdout)
			}
			if hint := strings.Contains(stderr, `Run "meridian help plan" for usage.`); hint != tt.wantHint {
				t.Errorf("run(%q) stderr = %q, hint to the help %v, want %v", tt.args, stderr, hint, tt.wantHint)
			}
			if strings.Contains(stderr, "Plan shows") {
				t.Errorf("run(%q) stderr = %q, want the error without the whole help", tt.args, stderr)
			}
		})
	}
}

// endless is an input that never ends, counting what is read from it.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.n += int64(len(p))
	return len(p), nil
}

// TestPlanInputIsBounded: an endless input is refused after one byte over
// the limit, not read into memory.
func TestPlanInputIsBounded(t *testing.T) {
	in := &endless{}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"plan", "--max-bytes", "1000"}, in, &out, &errb)
	if code != exitUsage {
		t.Errorf("plan of endless input = %d, want %d", code, exitUsage)
	}
	if in.n > 1001 {
		t.Errorf("plan read %d bytes of endless input, want at most 1001", in.n)
	}
	if !strings.Contains(errb.String(), "over the limit of 1000 bytes") {
		t.Errorf("stderr = %q, want the limit named", errb.String())
	}
}

// TestPlanInterrupted: a signal ends a plan waiting on silent input.
func TestPlanInterrupted(t *testing.T) {
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"plan"}, pr, io.Discard, io.Discard) }()
	cancel()
	select {
	case code := <-done:
		if code != exitInterrupted {
			t.Errorf("interrupted plan = %d, want %d", code, exitInterrupted)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("plan did not return after its context was cancelled")
	}
}

func TestPlanHumanGolden(t *testing.T) {
	tests := []struct {
		golden   string
		args     []string
		wantCode int
	}{
		{
			// A join, aggregates, grouping and predicates.
			golden: "plan_human.golden", wantCode: exitOK,
			args: []string{"plan", "--catalog", "iceberg", "--schema", "eu",
				"SELECT g.country, count(*) AS bookings, sum(b.amount) AS revenue\n" +
					"FROM guests g JOIN bookings b ON b.guest_id = g.id\n" +
					"WHERE b.created_at >= DATE '2024-01-01' AND g.country IN ('DE', 'FR')\n" +
					"GROUP BY g.country"},
		},
		{
			// A statement that does not parse among others; an opaque one.
			golden: "plan_human_error.golden", wantCode: exitFailed,
			args: []string{"plan", "--catalog", "iceberg",
				"SELECT * FROM eu.guests;\nSELECT email FROM eu.guests WHERE;\nEXECUTE stmt1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			code, got, stderr := runCLI(t, "", tt.args...)
			if code != tt.wantCode {
				t.Errorf("run(%q) = %d, want %d; stderr:\n%s", tt.args, code, tt.wantCode, stderr)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if d := cmp.Diff(string(want), got); d != "" {
				t.Errorf("human output mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestCellEscapesControlCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"iceberg.eu.guests": "iceberg.eu.guests",
		"a\tb":              `a\tb`,
		"x\ny":              `x\ny`,
		"\x1b[31mred":       `\x1b[31mred`,
		"café":              "café",
	} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}
