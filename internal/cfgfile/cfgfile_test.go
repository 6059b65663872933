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
