package meridian_test

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/meridian-lake/meridian"

// allowed lists, for each package (or package prefix ending in "/"), the
// module packages it may import directly. Imports point downward only
// (ARCHITECTURE.md, "Layout"); anything not listed is refused, so a new
// package must be placed in the graph on purpose.
var allowed = map[string][]string{
	"cmd/":            {"*"},
	"server":          {"planner", "planner/sql", "catalog", "policy", "cluster", "internal/"},
	"planner":         {"planner/sql", "catalog", "policy", "cluster", "internal/"},
	"planner/sql":     {},
	"catalog":         {"internal/"},
	"policy":          {"rego", "internal/"},
	"rego":            {},
	"cluster":         {"internal/"},
	"lifecycle":       {"catalog", "policy", "internal/"},
	"engine":          {"planner/sql", "catalog", "internal/"},
	"catalog/demo":    {"catalog", "internal/"},
	"internal/":       {"internal/"},
	"internal/corpus": {},
}

// onlyImportedBy names packages that only the listed packages may import
// (tests aside): the engine belongs to its binary, the data generator and the
// test harnesses stay out of the statement path.
var onlyImportedBy = map[string][]string{
	"engine":            {"cmd/meridian-engine"},
	"internal/tpch":     {"catalog/demo", "engine"},
	"internal/corpus":   {},
	"internal/s3test":   {},
	"internal/pgtest":   {},
	"internal/regoplan": {"policy"},
	"internal/loopback": {"internal/s3test", "internal/pgtest"},
	"internal/e2e":      {},
}

type goPackage struct {
	ImportPath  string
	Dir         string
	Imports     []string
	TestImports []string
	Deps        []string
	CgoFiles    []string
	GoFiles     []string
	Standard    bool
}

func listPackages(t *testing.T, args ...string) []goPackage {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json"}, args...)...)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

func rule(pkg string) ([]string, bool) {
	if r, ok := allowed[pkg]; ok {
		return r, true
	}
	best := ""
	for k := range allowed {
		if strings.HasSuffix(k, "/") && strings.HasPrefix(pkg, k) && len(k) > len(best) {
			best = k
		}
	}
	r, ok := allowed[best]
	return r, ok && best != ""
}

func permits(rules []string, dep string) bool {
	for _, r := range rules {
		if r == "*" || r == dep || strings.HasSuffix(r, "/") && strings.HasPrefix(dep, r) {
			return true
		}
	}
	return false
}

// TestImportGraph keeps the layout's import rules true.
func TestImportGraph(t *testing.T) {
	for _, p := range listPackages(t, "./...") {
		name, ok := rel(p.ImportPath)
		if !ok || name == "" {
			continue
		}
		rules, ok := rule(name)
		if !ok {
			t.Errorf("package %s has no place in the import graph: add it to allowed in layout_test.go", name)
			continue
		}
		for _, imp := range p.Imports {
			dep, ok := rel(imp)
			if !ok {
				continue
			}
			if !permits(rules, dep) {
				t.Errorf("%s imports %s: not allowed by the layout (ARCHITECTURE.md)", name, dep)
			}
			if only, ok := onlyImportedBy[dep]; ok && !slices.Contains(only, name) {
				t.Errorf("%s imports %s: only %v may (and tests)", name, dep, only)
			}
		}
	}
}

// TestPackageDocs requires every package to have a doc.go whose package
// comment says what it is and who may import it.
func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t, "./...") {
		name, _ := rel(p.ImportPath)
		if name == "" || len(p.GoFiles) == 0 {
			continue
		}
		path := filepath.Join(p.Dir, "doc.go")
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Errorf("package %s: %v (every package needs a doc.go)", name, err)
			continue
		}
		if f.Doc == nil || len(strings.Fields(f.Doc.Text())) < 12 {
			t.Errorf("package %s: doc.go needs a package comment saying what it does, where it sits and who may import it", name)
			continue
		}
		if !strings.Contains(strings.ToLower(f.Doc.Text()), "import") {
			t.Errorf("package %s: the package comment should say who may import it", name)
		}
	}
}

// TestMeridianIsPureGo keeps cgo out of the meridian binary: it must build
// anywhere Go does. Only meridian-engine uses cgo (DuckDB).
func TestMeridianIsPureGo(t *testing.T) {
	for _, p := range listPackages(t, "-deps", "./cmd/meridian") {
		// The standard library's optional cgo (net, os/user) is not a dependency on C.
		if len(p.CgoFiles) > 0 && !p.Standard {
			t.Errorf("cmd/meridian depends on %s, which uses cgo", p.ImportPath)
		}
	}
}
