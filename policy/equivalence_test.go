package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	policies "github.com/meridian-lake/meridian/rego"
)

// The equivalence test: the shipped pack (rego/) may be rewritten for speed,
// but it must decide every input exactly as the reference pack does
// (testdata/reference-pack, the pack before the rewrite). It compares whole
// decisions (allow, regions, violations with rule, table and message,
// obligations) on every scenario and on pseudo-random mutations of them,
// under several variants of the policy data.

// equivalenceN is the number of mutated inputs TestPackEquivalence checks;
// MERIDIAN_EQUIVALENCE_N raises it for a thorough run before a pack change.
func equivalenceN(t *testing.T) int {
	n := 3000
	if s := os.Getenv("MERIDIAN_EQUIVALENCE_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			t.Fatalf("MERIDIAN_EQUIVALENCE_N=%q: want a non-negative integer", s)
		}
		n = v
	}
	return n
}

// packPair is the reference and the shipped pack compiled with the same
// policy data.
type packPair struct {
	name         string
	ref, shipped *Compiled
}

// dataVariants are policy data overrides (deep-merged over data/<key>.json,
// or, for a nil map, the pack without any data file) under which the packs
// must agree. The first is the pack's own data.
var dataVariants = []struct {
	name     string
	override map[string]any
}{
	{"shipped data", map[string]any{}},
	{"aggregate export disabled", map[string]any{"settings": map[string]any{"aggregate_export": map[string]any{"enabled": false}}}},
	{"min group size 25", map[string]any{"settings": map[string]any{"aggregate_export": map[string]any{"min_group_size": 25}}}},
	{"min group size 0", map[string]any{"settings": map[string]any{"aggregate_export": map[string]any{"min_group_size": 0}}}},
	{"grants to analysts and support", map[string]any{"grants": map[string]any{
		"iceberg.eu.guest_health": []any{"analysts", "support"}, "iceberg.eu.eu_users": []any{}}}},
	{"transfers for analytics to the US and JP", map[string]any{"transfers": map[string]any{
		"EEA": map[string]any{"US": map[string]any{"analytics": map[string]any{"mechanism": "SCC"}}},
		"US":  map[string]any{"EEA": map[string]any{"support": map[string]any{"mechanism": "BCR"}}, "JP": map[string]any{"analytics": true}}}}},
	{"malformed adequacy and transfers", map[string]any{
		"adequacy":  map[string]any{"EEA": map[string]any{"JP": false, "US": "yes"}, "US": "EEA"},
		"transfers": map[string]any{"EEA": map[string]any{"US": []any{"support"}}}}},
	{"no policy data", nil},
}

// loadReference reads the reference pack.
func loadReference(t *testing.T) *Pack {
	t.Helper()
	p, err := LoadFS(os.DirFS("testdata/reference-pack"))
	if err != nil {
		t.Fatalf("load the reference pack: %v", err)
	}
	return p
}

// withDataFiles returns p's files with the data documents overridden (nil:
// without data files).
func withDataFiles(t *testing.T, p *Pack, override map[string]any) *Pack {
	t.Helper()
	var files []File
	for _, f := range p.Files {
		if strings.HasSuffix(f.Path, "_test.rego") {
			continue
		}
		if strings.HasSuffix(f.Path, ".json") {
			if override == nil {
				continue
			}
			key := strings.TrimSuffix(path.Base(f.Path), ".json")
			if val, ok := override[key]; ok {
				var doc map[string]any
				if err := json.Unmarshal(f.Data, &doc); err != nil {
					t.Fatal(err)
				}
				deepMerge(doc, map[string]any{key: val})
				b, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				f = File{Path: f.Path, Data: b}
			}
		}
		files = append(files, f)
	}
	np, err := NewPack(files)
	if err != nil {
		t.Fatal(err)
	}
	return np
}

func deepMerge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				deepMerge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func compilePair(t *testing.T, name string, ref, shipped *Pack, override map[string]any) packPair {
	t.Helper()
	ctx := context.Background()
	rc, err := Compile(ctx, withDataFiles(t, ref, override))
	if err != nil {
		t.Fatalf("%s: compile the reference pack: %v", name, err)
	}
	sc, err := Compile(ctx, withDataFiles(t, shipped, override))
	if err != nil {
		t.Fatalf("%s: compile the shipped pack: %v", name, err)
	}
	return packPair{name: name, ref: rc, shipped: sc}
}

// rawDecision evaluates data.meridian.decision on a raw input (any JSON
// value, so missing fields, nulls and wrong types are possible) and renders
// the result, or the error, as text.
func rawDecision(c *Compiled, in ast.Value) string {
	rs, err := c.query.Eval(context.Background(), rego.EvalParsedInput(in))
	switch {
	case err != nil:
		return "error: " + err.Error()
	case len(rs) == 0:
		return "undefined"
	case len(rs) != 1 || len(rs[0].Expressions) != 1:
		return fmt.Sprintf("%d results", len(rs))
	}
	b, err := json.Marshal(rs[0].Expressions[0].Value)
	if err != nil {
		return "marshal: " + err.Error()
	}
	return string(b)
}

// planDecision is rawDecision by the version's plan (internal/regoplan)
// instead of topdown. Errors render as "error" alone: the two evaluators
// word them differently, and either denies.
func planDecision(c *Compiled, in ast.Value) string {
	t, err := c.eval(context.Background(), in, nil)
	switch {
	case err != nil:
		return "error"
	case t == nil:
		return "undefined"
	}
	v, err := ast.JSON(t.Value)
	if err != nil {
		return "json: " + err.Error()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "marshal: " + err.Error()
	}
	return string(b)
}

// errorless renders any error decision as "error", as planDecision does.
func errorless(decision string) string {
	if strings.HasPrefix(decision, "error: ") {
		return "error"
	}
	return decision
}

// topdownOnly is c deciding with topdown, as a version whose plan cannot be
// run does.
func topdownOnly(c *Compiled) *Compiled { return c.withoutPlan("topdown only (test)") }

// typedDecision is the production path: the input as the planner builds it,
// converted by Input.value, and the decision as the engine decodes it.
func typedDecision(c *Compiled, in *Input) string {
	d, err := c.evaluate(context.Background(), in, 0)
	b, _ := json.Marshal(d)
	if err != nil {
		return "error: " + err.Error() + " " + string(b)
	}
	return string(b)
}

// rawScenario is a scenario of testdata/scenarios.json with its input kept
// as JSON.
type rawScenario struct {
	Name  string          `json:"name"`
	Data  map[string]any  `json:"data"`
	Input json.RawMessage `json:"input"`
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPackEquivalence: the shipped pack decides exactly as the reference
// pack, on every scenario and on equivalenceN mutations of them; and each
// pack's plan (internal/regoplan) decides exactly as OPA's topdown does.
func TestPackEquivalence(t *testing.T) {
	raw, err := os.ReadFile("testdata/scenarios.json")
	if err != nil {
		t.Fatal(err)
	}
	var scs []rawScenario
	if err := json.Unmarshal(raw, &scs); err != nil {
		t.Fatal(err)
	}
	if len(scs) < 40 {
		t.Fatalf("%d scenarios, want at least 40", len(scs))
	}
	ref := loadReference(t)
	shipped, err := LoadFS(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	pairs := make([]packPair, len(dataVariants))
	for i, v := range dataVariants {
		pairs[i] = compilePair(t, v.name, ref, shipped, v.override)
	}
	for _, p := range pairs {
		for _, c := range []*Compiled{p.ref, p.shipped} {
			if c.Evaluator() != "plan" {
				t.Fatalf("%s: a pack decides with %s, want its plan", p.name, c.Evaluator())
			}
		}
	}
	if r, s := pairs[0].ref.cache, pairs[0].shipped.cache; (r == nil) != (s == nil) || r != nil && r.withQueryID != s.withQueryID {
		t.Errorf("decision cache: reference %+v, shipped %+v; want the same keying", r, s)
	}

	var (
		mu      sync.Mutex
		diffs   int
		checked int
		seen    = map[string]int{} // decisions per rule id, and allows
	)
	report := func(what, pair string, in any, want, got string) {
		mu.Lock()
		defer mu.Unlock()
		diffs++
		if diffs <= 5 {
			b, _ := json.Marshal(in)
			t.Errorf("%s (data: %s): decisions differ\ninput: %s\nreference: %s\nshipped:   %s", what, pair, b, want, got)
		}
	}
	check := func(what string, p packPair, in any) {
		v, err := ast.InterfaceToValue(in)
		if err != nil {
			t.Errorf("%s: input: %v", what, err)
			return
		}
		want, got := rawDecision(p.ref, v), rawDecision(p.shipped, v)
		if want != got {
			report(what, p.name, in, want, got)
		}
		// Each pack's plan decides as topdown does.
		for _, c := range []struct {
			name     string
			c        *Compiled
			decision string
		}{{"reference", p.ref, want}, {"shipped", p.shipped, got}} {
			if pd := planDecision(c.c, v); pd != errorless(c.decision) {
				report(what+" ("+c.name+" pack: topdown, then its plan)", p.name, in, c.decision, pd)
			}
		}
		mu.Lock()
		for _, rule := range ruleIDs {
			if strings.Contains(want, `"rule":"`+rule+`"`) {
				seen[rule]++
			}
		}
		if strings.HasPrefix(want, `{"allow":true`) {
			seen["allow"]++
		}
		mu.Unlock()
		// The typed path too, when the input has the planner's shape.
		if b, err := json.Marshal(in); err == nil {
			var typed Input
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if dec.Decode(&typed) == nil {
				want, got := typedDecision(p.ref, &typed), typedDecision(p.shipped, &typed)
				if want != got {
					report(what+" (typed)", p.name, in, want, got)
				}
				if td := typedDecision(topdownOnly(p.shipped), &typed); errorless(td) != errorless(got) {
					report(what+" (typed, shipped pack: topdown, then its plan)", p.name, in, td, got)
				}
			}
		}
		mu.Lock()
		checked++
		mu.Unlock()
	}

	// Every scenario, with its own data override, and under every variant.
	bases := make([]any, len(scs))
	for i, sc := range scs {
		bases[i] = decodeJSON(t, sc.Input)
		if sc.Data != nil {
			p := compilePair(t, "scenario "+sc.Name, ref, shipped, sc.Data)
			check(sc.Name, p, bases[i])
		}
		for _, p := range pairs {
			check(sc.Name, p, bases[i])
		}
	}

	// Mutations, spread over goroutines; each is derived from its own seed,
	// so a failure reproduces whatever the schedule.
	n := equivalenceN(t)
	const workers = 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				r := rand.New(rand.NewPCG(20261122, uint64(i)))
				in := mutate(r, deepCopy(bases[r.IntN(len(bases))]), bases)
				p := pairs[0]
				if r.IntN(3) == 0 {
					p = pairs[r.IntN(len(pairs))]
				}
				check(fmt.Sprintf("mutation %d", i), p, in)
			}
		})
	}
	wg.Wait()
	if diffs > 0 {
		t.Fatalf("%d of %d decisions differ between the reference and the shipped pack", diffs, checked)
	}
	t.Logf("%d inputs (%d scenarios, %d mutations): the shipped pack decides exactly as the reference", checked, len(scs), n)
	t.Logf("decisions that allow or name each rule: %v", seen)
	for _, rule := range ruleIDs {
		if seen[rule] == 0 {
			t.Errorf("no input fired %s: the mutations no longer reach it", rule)
		}
	}
}

// ruleIDs are the rule ids of the default pack (meridian.rego's header).
var ruleIDs = []string{"input.invalid", "statement.opaque", "statement.conservative", "region.unknown", "region.none",
	"gdpr.residency", "gdpr.transfer", "gdpr.purpose", "gdpr.special_category", "gdpr.cross_border_write"}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// missing is a choice that removes the field.
type missingT struct{}

var missing = missingT{}

func pick(r *rand.Rand, choices ...any) any {
	return deepCopy(choices[r.IntN(len(choices))])
}

// set sets obj[key] to v, or removes it for missing; obj not being an
// object leaves it alone.
func set(obj any, key string, v any) {
	m, ok := obj.(map[string]any)
	if !ok {
		return
	}
	if v == missing {
		delete(m, key)
		return
	}
	m[key] = v
}

func strs(ss ...string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

var (
	regionNames  = []any{"eu", "us", "apac", "uk", "unknown", "mars", "", nil, missing, strs("eu"), json.Number("5")}
	classes      = []any{"public", "internal", "personal", "special", "", "Public", "secret", nil, missing, json.Number("5"), strs("public")}
	accesses     = []any{"read", "read", "write", "ddl", "meta", "sideways", "", nil, missing, strs("meta")}
	purposeLists = []any{strs(), strs("analytics"), strs("support"), strs("analytics", "support"), strs("billing"), strs("marketing", "analytics"), nil, missing, "analytics", []any{json.Number("1"), "support"}}
	columnLists  = []any{strs(), strs(), strs("email"), strs("email", "name"), nil, missing, "email", map[string]any{"email": true}}
	aggregated   = []any{true, true, false, nil, missing, "true"}
	tableNames   = []any{"iceberg.eu.eu_users", "iceberg.eu.guest_health", "iceberg.eu.bookings", "iceberg.us.copy", "iceberg.eu.biometrics", "", nil, missing, json.Number("5")}
	userPurposes = []any{strs(), strs("analytics"), strs("support"), strs("analytics", "support"), strs("billing", "analytics"), strs("marketing"), nil, missing, "analytics", []any{json.Number("2")}}
	groupLists   = []any{strs("analysts"), strs("support", "dpo-approved-support"), strs("dpo-approved-support"), strs("support"), strs(), nil, missing, "dpo-approved-support", []any{json.Number("1"), "analysts"}}
	requestPurps = []any{"", "analytics", " Analytics ", "support", "SUPPORT", "marketing", "billing", "  ", nil, missing, json.Number("3")}
	clientTags   = []any{strs(), strs("purpose=analytics"), strs("team=growth", "purpose=support"), strs("purpose=analytics", "purpose=support"), strs("purpose= Billing "), strs("purpose="), strs("purpose=analytics", "purpose=analytics"), nil, missing, "purpose=analytics", []any{json.Number("1"), "purpose=support"}}
	kinds        = []any{"select", "insert", "create_table_as", "merge", "update", "delete", "unknown", "", nil, missing}
	analyses     = []any{"ast", "ast", "conservative", "partial", "", nil, missing, json.Number("1")}
	opaques      = []any{strs(), nil, missing, strs("table function system.query"), strs("a", "b"), "EXECUTE IMMEDIATE", []any{json.Number("1")}}
	versions     = []any{json.Number("1"), json.Number("2"), "1", nil, missing, json.Number("1.0")}
	subjectRegs  = []any{"eu", "us", "apac", "uk", "mars", "", nil, missing, strs("eu"), map[string]any{"eu": true}, json.Number("5")}
)

func regionSet(r *rand.Rand) any {
	full := map[string]any{
		"eu":   map[string]any{"jurisdiction": "EEA", "healthy": true},
		"us":   map[string]any{"jurisdiction": "US", "healthy": true},
		"apac": map[string]any{"jurisdiction": "JP", "healthy": true},
	}
	switch r.IntN(12) {
	case 0:
		delete(full, "apac")
	case 1:
		full = map[string]any{"eu": map[string]any{"jurisdiction": "EEA", "healthy": false}}
	case 2:
		full["uk"] = map[string]any{"jurisdiction": "UK", "healthy": true}
	case 3:
		full["eu"] = map[string]any{"healthy": true}
	case 4:
		full["mars"] = map[string]any{"jurisdiction": "MARS"}
	case 5:
		full["eu"] = map[string]any{"jurisdiction": json.Number("5")}
	case 6:
		full["apac"] = "JP"
	case 7:
		return pick(r, strs("eu"), nil, missing, map[string]any{})
	case 8:
		full["us"] = map[string]any{"jurisdiction": ""}
	case 9:
		full["ch"] = map[string]any{"jurisdiction": "CH"}
		full["us2"] = map[string]any{"jurisdiction": "US"}
	}
	return full
}

func writeTargets(r *rand.Rand) any {
	switch r.IntN(8) {
	case 0:
		return pick(r, nil, missing, strs(), "iceberg.us.copy", strs("iceberg.us.copy"))
	case 1:
		return []any{map[string]any{"table": "iceberg.us.copy"}}
	}
	n := 1 + r.IntN(2)
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"table": pick(r, "iceberg.eu.copy", "iceberg.us.copy", "iceberg.apac.copy", "", json.Number("1")),
			"region": pick(r, "eu", "us", "apac", "uk", "unknown", "", nil, missing)}
		if out[i].(map[string]any)["region"] == missing {
			delete(out[i].(map[string]any), "region")
		}
	}
	return out
}

// mutate changes a few things in a scenario's input: most mutations keep
// the input well formed, so that the deeper rules are reached, and some
// break its shape.
func mutate(r *rand.Rand, in any, bases []any) any {
	if r.IntN(200) == 0 {
		return pick(r, nil, json.Number("5"), "x", strs("y"), map[string]any{}, map[string]any{"version": json.Number("1")})
	}
	m := in.(map[string]any)
	tablesOf := func() []any {
		ts, _ := m["tables"].([]any)
		return ts
	}
	for range 1 + r.IntN(4) {
		switch k := r.IntN(22); {
		case k < 8: // a field of a table
			ts := tablesOf()
			if len(ts) == 0 {
				continue
			}
			tb := ts[r.IntN(len(ts))]
			switch r.IntN(10) {
			case 0:
				set(tb, "classification", pick(r, classes...))
			case 1:
				set(tb, "region", pick(r, regionNames...))
			case 2:
				set(tb, "access", pick(r, accesses...))
			case 3:
				set(tb, "purposes", pick(r, purposeLists...))
			case 4:
				set(tb, "output_aggregated", pick(r, aggregated...))
			case 5:
				set(tb, "pii_in_output", pick(r, columnLists...))
			case 6:
				set(tb, "pii_grouped_by", pick(r, columnLists...))
			case 7:
				set(tb, "name", pick(r, tableNames...))
			case 8:
				set(tb, "pii_columns_read", pick(r, columnLists...))
			case 9: // an aggregate export, or the opposite
				set(tb, "output_aggregated", true)
				set(tb, "pii_in_output", strs())
				set(tb, "pii_grouped_by", pick(r, strs(), nil, strs("email")))
			}
		case k < 10: // tables added, removed, duplicated
			ts := tablesOf()
			switch r.IntN(4) {
			case 0, 1:
				other, _ := bases[r.IntN(len(bases))].(map[string]any)["tables"].([]any)
				if len(other) > 0 {
					m["tables"] = append(ts, deepCopy(other[r.IntN(len(other))]))
				}
			case 2:
				if len(ts) > 0 {
					i := r.IntN(len(ts))
					m["tables"] = append(ts[:i:i], ts[i+1:]...)
				}
			case 3:
				if len(ts) > 0 {
					m["tables"] = append(ts, deepCopy(ts[r.IntN(len(ts))]))
				}
			}
		case k == 10:
			if r.IntN(4) == 0 {
				set(m, "tables", pick(r, nil, missing, strs(), "iceberg.eu.eu_users", map[string]any{}))
			} else if ts := tablesOf(); len(ts) > 0 && r.IntN(2) == 0 {
				ts[r.IntN(len(ts))] = pick(r, nil, "iceberg.eu.eu_users", json.Number("1"), strs())
			}
		case k == 11:
			set(m["subject"], "region", pick(r, subjectRegs...))
		case k == 12:
			set(m["subject"], "purposes", pick(r, userPurposes...))
		case k == 13:
			set(m["subject"], "groups", pick(r, groupLists...))
		case k == 14:
			set(m["subject"], "user", pick(r, "alice", "bob", "", nil, missing, json.Number("7")))
			if r.IntN(8) == 0 {
				set(m, "subject", pick(r, nil, missing, "alice", map[string]any{}))
			}
		case k == 15:
			set(m["request"], "purpose", pick(r, requestPurps...))
		case k == 16:
			set(m["request"], "client_tags", pick(r, clientTags...))
			if r.IntN(10) == 0 {
				set(m, "request", pick(r, nil, missing, "analytics", map[string]any{}))
			}
		case k == 17:
			st := m["statement"]
			switch r.IntN(3) {
			case 0:
				set(st, "kind", pick(r, kinds...))
			case 1:
				set(st, "analysis", pick(r, analyses...))
			case 2:
				set(st, "opaque", pick(r, opaques...))
			}
			if r.IntN(12) == 0 {
				set(m, "statement", pick(r, nil, missing, "select", map[string]any{}))
			}
		case k == 18:
			set(m["statement"], "writes_to", writeTargets(r))
			if r.IntN(2) == 0 {
				if ts := tablesOf(); len(ts) > 0 {
					set(ts[r.IntN(len(ts))], "access", "write")
				}
			}
		case k == 19:
			set(m, "regions", regionSet(r))
		case k == 20:
			set(m, "version", pick(r, versions...))
		case k == 21: // the same input for a recipient elsewhere with another purpose
			set(m["subject"], "region", pick(r, "eu", "us", "apac", "uk"))
			set(m["request"], "purpose", pick(r, "analytics", "support", ""))
		}
	}
	return m
}
