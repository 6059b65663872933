package planner_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/meridian-lake/meridian/internal/corpus"
	"github.com/meridian-lake/meridian/planner"
)

// TestCorpus measures the SQL front end on ../shared/corpus: every TPC query
// and at least 285 of the 300 documentation statements parse, and the tables
// reported equal the expected ones exactly.
func TestCorpus(t *testing.T) {
	dir := corpus.Dir(t)
	errata := readErrata(t, "testdata/corpus_errata.tsv")
	var failures []string
	fail := func(format string, args ...any) { failures = append(failures, fmt.Sprintf(format, args...)) }
	summary := []string{}

	for _, set := range []struct{ name, schema string }{{"tpch", "tpch"}, {"tpcds", "tpcds"}} {
		expected := readTSV(t, filepath.Join(dir, set.name, "expected_tables.tsv"))
		parsed, exact := 0, 0
		for _, row := range expected {
			file, want := row[0], splitSet(row[1])
			src := corpus.Read(t, filepath.Join(dir, set.name, file))
			a := planner.Analyze(src, planner.Session{Catalog: "iceberg", Schema: set.schema}, planner.Options{})
			if a.Error != nil {
				fail("%s/%s: parse error: %v", set.name, file, a.Error)
				continue
			}
			parsed++
			for _, e := range errata[set.name+"/"+file] {
				if !want[e] {
					fail("%s/%s: erratum %s is no longer in the corpus; remove it from corpus_errata.tsv", set.name, file, e)
				}
				delete(want, e)
			}
			got := map[string]bool{}
			for _, ta := range a.Tables {
				if ta.Access != planner.Read {
					fail("%s/%s: %s reported as %s, want read", set.name, file, ta.Name, ta.Access)
				}
				got[ta.Name] = true
			}
			if d := setDiff(got, want); d != "" {
				fail("%s/%s: tables differ: %s", set.name, file, d)
				continue
			}
			exact++
		}
		summary = append(summary, fmt.Sprintf("%s %d/%d parsed, %d/%d exact", set.name, parsed, len(expected), exact, len(expected)))
		if parsed != len(expected) || exact != len(expected) {
			fail("%s: want every query parsed with its exact table set", set.name)
		}
	}

	// Documentation statements.
	syn := filepath.Join(dir, "trino-syntax")
	sources := readTSV(t, filepath.Join(syn, "sources.tsv"))
	wantTables := map[string]map[string]bool{}
	for _, row := range readTSV(t, filepath.Join(syn, "expected_tables.tsv")) {
		if wantTables[row[0]] == nil {
			wantTables[row[0]] = map[string]bool{}
		}
		wantTables[row[0]][row[3]+" "+row[1]] = true
	}
	session := planner.Session{Catalog: "example", Schema: "default"}
	parsed, exact, none, noneOK, opaque, opaqueOK := 0, 0, 0, 0, 0, 0
	for _, row := range sources {
		file, expect := row[0], row[4]
		a := planner.Analyze(corpus.Read(t, filepath.Join(syn, file)), session, planner.Options{})
		if a.Error != nil {
			fail("trino-syntax/%s: parse error: %v", file, a.Error)
		} else {
			parsed++
		}
		got := map[string]bool{}
		for _, ta := range a.Tables {
			got[ta.Name+" "+string(ta.Access)] = true
		}
		switch {
		case expect == "tables":
			if d := setDiff(got, wantTables[file]); d != "" {
				fail("trino-syntax/%s: (table, access) differ: %s", file, d)
			} else {
				exact++
			}
		case expect == "none":
			none++
			if len(got) != 0 {
				fail("trino-syntax/%s: no tables expected, got %v", file, keys(got))
			} else {
				noneOK++
			}
		case strings.Contains(expect, "string literal (nation)"):
			// EXECUTE IMMEDIATE 'SELECT … FROM nation': Meridian reads the literal.
			opaque++
			if got["example.default.nation read"] && len(a.Opaque) == 0 {
				opaqueOK++
			} else {
				fail("trino-syntax/%s: want nation read from the EXECUTE IMMEDIATE literal, got %v opaque %v", file, keys(got), a.Opaque)
			}
		case strings.HasPrefix(expect, "omitted"):
			// Tables not in the text: the statement must be marked opaque so policy denies it.
			opaque++
			if len(a.Opaque) > 0 {
				opaqueOK++
			} else {
				fail("trino-syntax/%s (%s): want the statement marked opaque", file, expect)
			}
		}
	}
	summary = append(summary, fmt.Sprintf("trino-syntax %d/%d parsed, %d/%d exact, %d/%d without tables, %d/%d opaque or unwrapped",
		parsed, len(sources), exact, len(wantTables), noneOK, none, opaqueOK, opaque))
	if parsed < 285 {
		fail("trino-syntax: %d parsed, want at least 285", parsed)
	}
	if exact != len(wantTables) {
		fail("trino-syntax: %d of %d statements with expected tables are exact; want all (zero missed tables)", exact, len(wantTables))
	}
	t.Logf("corpus: %s (corpus errata: %d)", strings.Join(summary, "; "), countErrata(errata))
	fmt.Printf("corpus: %s (corpus errata: %d)\n", strings.Join(summary, "; "), countErrata(errata))
	for _, f := range failures {
		t.Error(f)
	}
}

func readTSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			continue // header
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func readErrata(t *testing.T, path string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 4 {
			t.Fatalf("%s: bad line %q", path, line)
		}
		out[f[0]+"/"+f[1]] = append(out[f[0]+"/"+f[1]], f[2])
	}
	return out
}

func countErrata(m map[string][]string) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}

func splitSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out[p] = true
		}
	}
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// setDiff describes how got differs from want, or returns "".
func setDiff(got, want map[string]bool) string {
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return fmt.Sprintf("missing %v, extra %v", missing, extra)
}
