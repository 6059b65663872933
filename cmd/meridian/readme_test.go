package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The configuration example in the README is a configuration Meridian
// accepts: the documentation cannot drift from the code.
func TestREADMEConfigExample(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "## Configuration")
	if i < 0 {
		t.Fatal("README has no Configuration section")
	}
	start := strings.Index(text[i:], "```yaml\n")
	end := strings.Index(text[i+start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no yaml block in the Configuration section")
	}
	example := text[i+start+8 : i+start+8+end]
	path := filepath.Join(t.TempDir(), "meridian.yaml")
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatalf("the README's example does not load: %v", err)
	}
	if len(cfg.Clusters.Clusters) != 2 || cfg.Serve.TLSListen != ":8443" || len(cfg.Lifecycle.Budgets) != 2 || cfg.Store.Sync != "full" {
		t.Fatalf("loaded %+v", cfg)
	}
	if err := cfg.Lifecycle.withDefaults().validate(); err != nil {
		t.Fatalf("lifecycle section: %v", err)
	}
}
