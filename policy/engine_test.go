package policy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/meridian-lake/meridian/policy"
	policies "github.com/meridian-lake/meridian/rego"
)

func defaultPack(tb testing.TB) *policy.Compiled {
	tb.Helper()
	p, err := policy.LoadFS(policies.FS)
	if err != nil {
		tb.Fatalf("load the default pack: %v", err)
	}
	c, err := policy.Compile(context.Background(), p)
	if err != nil {
		tb.Fatalf("compile the default pack: %v", err)
	}
	return c
}

// TestDefaultPackTests runs the pack's *_test.rego through OPA's tester, as
// `opa test rego/` does, and reports coverage of the rules.
func TestDefaultPackTests(t *testing.T) {
	c := defaultPack(t)
	rep, err := c.Pack().Test(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if !r.Pass {
			t.Errorf("%s (%s:%d): %s", r.Name, r.File, r.Line, r.Error)
		}
	}
	if !rep.OK() {
		t.Fatalf("rego tests: %d passed, %d failed", rep.Passed, rep.Failed)
	}
	t.Logf("rego tests: %d passed, coverage %.1f%%", rep.Passed, rep.Coverage)
	fmt.Printf("policy pack: %d Rego tests passed, coverage %.1f%%\n", rep.Passed, rep.Coverage)
	if rep.Coverage < 90 {
		t.Errorf("coverage of the pack is %.1f%%, want at least 90%%", rep.Coverage)
	}
}

type scenario struct {
	Name  string         `json:"name"`
	Data  map[string]any `json:"data"` // overrides of rego/data/<key>.json, deep-merged
	Input policy.Input   `json:"input"`
	Want  struct {
		Allow       bool           `json:"allow"`
		Regions     []string       `json:"regions"`
		Rules       []string       `json:"rules"`
		Obligations map[string]any `json:"obligations"`
	} `json:"want"`
}

func loadScenarios(tb testing.TB) []scenario {
	tb.Helper()
	data, err := os.ReadFile("testdata/scenarios.json")
	if err != nil {
		tb.Fatal(err)
	}
	var sc []scenario
	if err := json.Unmarshal(data, &sc); err != nil {
		tb.Fatal(err)
	}
	return sc
}

// TestScenarios is the scenario table: input → allow, regions, rule ids.
func TestScenarios(t *testing.T) {
	base := defaultPack(t)
	scenarios := loadScenarios(t)
	if len(scenarios) < 40 {
		t.Fatalf("%d scenarios, want at least 40", len(scenarios))
	}
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			c := base
			if sc.Data != nil {
				c = withData(t, base.Pack(), sc.Data)
			}
			d, err := policy.NewEngine(c, time.Second).Decide(context.Background(), &sc.Input)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			var rules []string
			for _, v := range d.Violations {
				rules = append(rules, v.Rule)
				if v.Message == "" {
					t.Errorf("violation %s has no message", v.Rule)
				}
			}
			slices.Sort(rules)
			got := struct {
				Allow   bool
				Regions []string
				Rules   []string
			}{d.Allow, d.Regions, rules}
			want := struct {
				Allow   bool
				Regions []string
				Rules   []string
			}{sc.Want.Allow, sc.Want.Regions, sc.Want.Rules}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("decision (-want +got):\n%s\nviolations: %+v", diff, d.Violations)
			}
		})
	}
}

// TestBaselineMessages: the original design's denial names the GDPR rule,
// the table and the regions.
func TestBaselineMessages(t *testing.T) {
	eng := policy.NewEngine(defaultPack(t), time.Second)
	for _, sc := range loadScenarios(t) {
		if !strings.HasPrefix(sc.Name, "baseline: US user") {
			continue
		}
		d, _ := eng.Decide(context.Background(), &sc.Input)
		if d.Allow || len(d.Violations) == 0 {
			t.Fatalf("baseline US SELECT * allowed: %+v", d)
		}
		v := d.Violations[0]
		if !strings.HasPrefix(v.Rule, "gdpr.") || v.Table != "iceberg.eu.eu_users" ||
			!strings.Contains(v.Message, "eu") || !strings.Contains(v.Message, "us") {
			t.Errorf("violation %+v: want a gdpr.* rule naming iceberg.eu.eu_users and the regions eu and us", v)
		}
		return
	}
	t.Fatal("no baseline US scenario")
}

func compile(t *testing.T, files ...string) *policy.Compiled {
	t.Helper()
	var fs []policy.File
	for i := 0; i+1 < len(files); i += 2 {
		fs = append(fs, policy.File{Path: files[i], Data: []byte(files[i+1])})
	}
	p, err := policy.NewPack(fs)
	if err != nil {
		t.Fatal(err)
	}
	c, err := policy.Compile(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFailClosed: an undefined, malformed, inconsistent, failing or slow
// policy denies, with a reason.
func TestFailClosed(t *testing.T) {
	in := &policy.Input{Version: 1, Regions: map[string]policy.RegionInfo{"eu": {Jurisdiction: "EEA"}}}
	for _, tc := range []struct {
		name, src, rule string
		timeout         time.Duration
	}{
		{"undefined", "package meridian\ndecision := {\"allow\": true, \"regions\": [\"eu\"], \"violations\": []} if input.nosuch", policy.RuleUndefined, 0},
		{"allow not a boolean", "package meridian\ndecision := {\"allow\": \"yes\", \"regions\": [\"eu\"], \"violations\": []}", policy.RuleInvalid, 0},
		{"regions missing", "package meridian\ndecision := {\"allow\": true, \"violations\": []}", policy.RuleInvalid, 0},
		{"allow without region", "package meridian\ndecision := {\"allow\": true, \"regions\": [], \"violations\": []}", policy.RuleInconsistent, 0},
		{"allow with violations", "package meridian\ndecision := {\"allow\": true, \"regions\": [\"eu\"], \"violations\": [{\"rule\": \"x\", \"message\": \"m\"}]}", policy.RuleInconsistent, 0},
		{"conflict error", "package meridian\ndecision := {\"allow\": true} if input.version == 1\ndecision := {\"allow\": false} if input.version > 0", policy.RuleError, 0},
		{"timeout", "package meridian\ndecision := {\"allow\": true, \"regions\": [\"eu\"], \"violations\": []} if count([x | some x in numbers.range(1, 50000000)]) > 0", policy.RuleTimeout, 20 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := policy.NewEngine(compile(t, "p.rego", tc.src), tc.timeout)
			start := time.Now()
			d, err := eng.Decide(context.Background(), in)
			if err == nil {
				t.Errorf("Decide error = nil, want an error")
			}
			if d.Allow || len(d.Violations) != 1 || d.Violations[0].Rule != tc.rule {
				t.Errorf("Decide = %+v, want a deny with rule %s", d, tc.rule)
			}
			if tc.timeout > 0 && time.Since(start) > 2*time.Second {
				t.Errorf("a %s timeout took %s", tc.timeout, time.Since(start))
			}
		})
	}
}

// TestSwap: a new version serves the next decision; the old one is returned.
func TestSwap(t *testing.T) {
	allow := compile(t, "p.rego", "package meridian\ndecision := {\"allow\": true, \"regions\": [\"eu\"], \"violations\": []}")
	denyAll := compile(t, "p.rego", "package meridian\ndecision := {\"allow\": false, \"regions\": [], \"violations\": [{\"rule\": \"closed\", \"message\": \"closed\"}]}")
	eng := policy.NewEngine(allow, 0)
	in := &policy.Input{Version: 1}
	if d, _ := eng.Decide(context.Background(), in); !d.Allow {
		t.Fatalf("first version denied: %+v", d)
	}
	if old := eng.Swap(denyAll); old != allow {
		t.Errorf("Swap returned %p, want the previous version %p", old, allow)
	}
	if d, _ := eng.Decide(context.Background(), in); d.Allow {
		t.Errorf("after Swap: allowed, want the new version's deny")
	}
}

// TestBadPacks: every kind of bad upload is refused with a message naming
// where the problem is.
func TestBadPacks(t *testing.T) {
	good := "package meridian\ndecision := {\"allow\": false, \"regions\": [], \"violations\": []}\n"
	for _, tc := range []struct {
		name  string
		files []policy.File
		want  policy.PackError
	}{
		{"syntax error", []policy.File{{Path: "a.rego", Data: []byte("package meridian\n\ndecision := {\n")}},
			policy.PackError{File: "a.rego", Line: 4}},
		{"v0 syntax", []policy.File{{Path: "a.rego", Data: []byte("package meridian\ndeny[msg] { msg := \"x\" }\n")}},
			policy.PackError{File: "a.rego", Line: 2}},
		{"invalid json", []policy.File{{Path: "a.rego", Data: []byte(good)}, {Path: "data/x.json", Data: []byte("{\"a\": ")}},
			policy.PackError{File: "data/x.json"}},
		{"json not an object", []policy.File{{Path: "a.rego", Data: []byte(good)}, {Path: "data/x.json", Data: []byte("[1]")}},
			policy.PackError{File: "data/x.json"}},
		{"package outside the root", []policy.File{{Path: "a.rego", Data: []byte("package system.authz\nallow := true\n")}},
			policy.PackError{File: "a.rego", Line: 1}},
		{"test package outside the root in a rule file", []policy.File{{Path: "a.rego", Data: []byte("package meridian_test\nx := true\n")}},
			policy.PackError{File: "a.rego", Line: 1}},
		{"file too large", []policy.File{{Path: "a.rego", Data: []byte(good + strings.Repeat("#", policy.MaxFileBytes))}},
			policy.PackError{File: "a.rego"}},
		{"not a policy file", []policy.File{{Path: "a.rego", Data: []byte(good)}, {Path: "run.sh", Data: []byte("rm -rf /")}},
			policy.PackError{File: "run.sh"}},
		{"path escapes", []policy.File{{Path: "../a.rego", Data: []byte(good)}},
			policy.PackError{File: "../a.rego"}},
		{"no modules", []policy.File{{Path: "data/x.json", Data: []byte("{}")}},
			policy.PackError{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.NewPack(tc.files)
			var pe *policy.PackError
			if !errors.As(err, &pe) {
				t.Fatalf("NewPack error = %v, want a *PackError", err)
			}
			if pe.File != tc.want.File || tc.want.Line != 0 && pe.Line != tc.want.Line || pe.Message == "" {
				t.Errorf("NewPack error = %+v, want file %q line %d with a message", pe, tc.want.File, tc.want.Line)
			}
		})
	}
	// Compiles but never defines the decision.
	p, err := policy.NewPack([]policy.File{{Path: "a.rego", Data: []byte("package meridian.other\nx := 1\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := policy.Compile(context.Background(), p); err == nil || !strings.Contains(err.Error(), policy.DecisionRef) {
		t.Errorf("Compile of a pack without the decision: %v, want an error naming %s", err, policy.DecisionRef)
	}
	// Compile errors (unsafe variables) carry file:line:col.
	p, err = policy.NewPack([]policy.File{{Path: "b.rego", Data: []byte("package meridian\n\ndecision := x if { y > 1 }\n")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = policy.Compile(context.Background(), p)
	var pe *policy.PackError
	if !errors.As(err, &pe) || pe.File != "b.rego" || pe.Line != 3 {
		t.Errorf("Compile error = %v, want b.rego:3", err)
	}
}

// TestPackHash: the hash changes with any content and not with file order.
func TestPackHash(t *testing.T) {
	a := policy.File{Path: "a.rego", Data: []byte("package meridian\ndecision := 1\n")}
	b := policy.File{Path: "data/d.json", Data: []byte("{\"k\": 1}")}
	p1, _ := policy.NewPack([]policy.File{a, b})
	p2, _ := policy.NewPack([]policy.File{b, a})
	b.Data = []byte("{\"k\": 2}")
	p3, _ := policy.NewPack([]policy.File{a, b})
	if p1.Hash() != p2.Hash() || p1.Hash() == p3.Hash() || len(p1.Hash()) != 64 {
		t.Errorf("hashes %s %s %s: want equal for reordered files, different for changed data", p1.Hash(), p2.Hash(), p3.Hash())
	}
}

// withData compiles a variant of pack whose data/<key>.json documents are
// deep-merged with override[key].
func withData(t *testing.T, pack *policy.Pack, override map[string]any) *policy.Compiled {
	t.Helper()
	files := slices.Clone(pack.Files)
	for key, val := range override {
		i := slices.IndexFunc(files, func(f policy.File) bool { return f.Path == "data/"+key+".json" })
		if i < 0 {
			t.Fatalf("override of %s: no data/%s.json in the pack", key, key)
		}
		var doc map[string]any
		if err := json.Unmarshal(files[i].Data, &doc); err != nil {
			t.Fatal(err)
		}
		merge(doc, map[string]any{key: val})
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		files[i] = policy.File{Path: files[i].Path, Data: b}
	}
	p, err := policy.NewPack(files)
	if err != nil {
		t.Fatal(err)
	}
	c, err := policy.Compile(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}
