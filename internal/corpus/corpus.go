package corpus

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// EnvDir overrides where the corpus is looked for.
const EnvDir = "MERIDIAN_CORPUS"

// Dir returns the corpus directory: $MERIDIAN_CORPUS, or shared/corpus beside
// the repository that holds the working directory. It fails the test when the
// corpus is missing: a corpus test that silently passes without it would
// prove nothing.
func Dir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			c := filepath.Join(dir, "..", "shared", "corpus")
			if _, err := os.Stat(c); err != nil {
				tb.Fatalf("corpus not found at %s (set %s): %v", c, EnvDir, err)
			}
			return c
		}
		if filepath.Dir(dir) == dir {
			tb.Fatalf("corpus not found: no go.mod above %s (set %s)", wd, EnvDir)
		}
	}
}

// Read returns a corpus file's text.
func Read(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// Statements returns the text of every *.sql file in the named sets (tpch,
// tpcds, trino-syntax), keyed by set/file, and the keys in order.
func Statements(tb testing.TB, sets ...string) (map[string]string, []string) {
	tb.Helper()
	dir := Dir(tb)
	out := map[string]string{}
	var names []string
	for _, set := range sets {
		files, err := filepath.Glob(filepath.Join(dir, set, "*.sql"))
		if err != nil {
			tb.Fatal(err)
		}
		if len(files) == 0 {
			tb.Fatalf("no statements in %s", filepath.Join(dir, set))
		}
		for _, f := range files {
			key := set + "/" + filepath.Base(f)
			out[key] = Read(tb, f)
			names = append(names, key)
		}
	}
	sort.Strings(names)
	return out, names
}
