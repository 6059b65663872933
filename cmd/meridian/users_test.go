package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meridian-lake/meridian/server"
)

func TestUsersAddList(t *testing.T) {
	file := filepath.Join(t.TempDir(), "users.yaml")
	runIt := func(stdin string, args ...string) (string, int) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"users"}, args...), strings.NewReader(stdin), &out, &errb)
		return out.String() + errb.String(), code
	}
	if out, code := runIt("s3cret\n", "add", "anna", "--file", file, "--region", "eu", "--purposes", "analytics,support", "--cost", "4"); code != 0 {
		t.Fatalf("add: %d %s", code, out)
	}
	if out, code := runIt("other\n", "add", "anna", "--file", file, "--region", "us", "--cost", "4"); code != 0 || !strings.Contains(out, "replaced") {
		t.Fatalf("replace: %d %s", code, out)
	}
	runIt("pw\n", "add", "dora", "--file", file, "--roles", "compliance", "--cost", "4")
	out, code := runIt("", "list", "--file", file)
	if code != 0 || !strings.Contains(out, "anna") || !strings.Contains(out, "region us") || !strings.Contains(out, "compliance") || strings.Contains(out, "$2") {
		t.Fatalf("list: %d %s", code, out)
	}
	// The file is what Meridian reads, and the password checks.
	b, _ := os.ReadFile(file)
	users, err := server.ParseUsers(b)
	if err != nil || users.Len() != 2 {
		t.Fatalf("ParseUsers: %v", err)
	}
	if _, code := runIt("", "add", "x", "--file", file); code != exitUsage {
		t.Fatalf("add without a password: exit %d", code)
	}
	if _, code := runIt("pw\n", "add", "bad user!", "--file", file, "--cost", "4"); code == 0 {
		t.Fatal("a bad user name was accepted")
	}
	if out, code := runIt("pw\n", "hash", "--cost", "4"); code != 0 || !strings.HasPrefix(out, "$2") {
		t.Fatalf("hash: %d %s", code, out)
	}
}
