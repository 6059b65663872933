package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runCLI runs the program with args and stdin, with no MERIDIAN_* defaults
// from the developer's environment.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("MERIDIAN_CATALOG", "")
	t.Setenv("MERIDIAN_SCHEMA", "")
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunCommands(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // substrings
		wantStderr []string
	}{
		{"no command", nil, exitUsage, nil, []string{"Usage:", "plan ", "version ", "help "}},
		{"unknown command", []string{"serve2"}, exitUsage, nil, []string{`unknown command "serve2"`, "Usage:"}},
		{"--help", []string{"--help"}, exitOK, []string{"Usage:", "plan "}, nil},
		{"help", []string{"help"}, exitOK, []string{"Usage:", "plan ", "show how a SQL statement is analysed"}, nil},
		{"help plan", []string{"help", "plan"}, exitOK, []string{"Usage: meridian plan", "-max-bytes", "MERIDIAN_CATALOG", "Exit status"}, nil},
		{"help unknown", []string{"help", "nope"}, exitUsage, nil, []string{`unknown command "nope"`}},
		{"plan -h", []string{"plan", "-h"}, exitOK, nil, []string{"Usage: meridian plan", "-catalog"}},
		{"version", []string{"version"}, exitOK, []string{"meridian ", "go1."}, nil},
		{"version with argument", []string{"version", "x"}, exitUsage, nil, []string{"takes no arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tt.args...)
			if code != tt.wantCode {
				t.Errorf("run(%q) = %d, want %d; stderr:\n%s", tt.args, code, tt.wantCode, stderr)
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("run(%q) stdout lacks %q:\n%s", tt.args, s, stdout)
				}
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("run(%q) stderr lacks %q:\n%s", tt.args, s, stderr)
				}
			}
			if len(tt.wantStdout) == 0 && stdout != "" {
				t.Errorf("run(%q) wrote to stdout, want nothing:\n%s", tt.args, stdout)
			}
		})
	}
}

// TestUsageListsEveryCommand keeps the usage text generated from the table.
func TestUsageListsEveryCommand(t *testing.T) {
	var b bytes.Buffer
	usage(&b)
	for _, c := range commands() {
		if !strings.Contains(b.String(), "  "+c.name+" ") || !strings.Contains(b.String(), c.summary) {
			t.Errorf("usage does not list %s (%s):\n%s", c.name, c.summary, b.String())
		}
	}
}
