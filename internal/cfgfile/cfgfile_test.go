package cfgfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadAndDecode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("a: 1\nb: x\n"), 0o600)
	data, err := Read(path, 100)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		A int    `yaml:"a"`
		B string `yaml:"b"`
	}
	if err := DecodeStrict(data, &v); err != nil || v.A != 1 || v.B != "x" {
		t.Fatalf("%+v %v", v, err)
	}
	if _, err := Read(path, 5); err == nil || !strings.Contains(err.Error(), "over 5 bytes") {
		t.Fatalf("limit: %v", err)
	}
	var w struct{ A int }
	if err := DecodeStrict([]byte("a: 1\nc: 2\n"), &w); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("unknown key: %v", err)
	}
	if err := DecodeStrict(nil, &w); err != nil {
		t.Fatalf("empty: %v", err)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing"), 10); !os.IsNotExist(err) {
		t.Fatalf("missing: %v", err)
	}
}

// TestWriteAtomic: the file holds the data with the mode, replaces what was
// there, and no temporary file is left beside it.
func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "users.yaml")
	for _, data := range []string{"first", "second, longer"} {
		if err := WriteAtomic(name, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil || string(got) != data {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
	}
	if st, _ := os.Stat(name); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%d files in the directory, want 1", len(entries))
	}
	if err := WriteAtomic(filepath.Join(dir, "missing", "x"), []byte("x"), 0o600); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
}
