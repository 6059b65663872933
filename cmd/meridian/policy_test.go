package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/internal/store"
	"github.com/meridian-lake/meridian/policy"
	policies "github.com/meridian-lake/meridian/rego"
)

// runPolicyCmd runs `meridian policy args...` on the state in dir, as dora.
func runPolicyCmd(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("MERIDIAN_DIR", dir)
	t.Setenv("MERIDIAN_CONFIG", "")
	t.Setenv("MERIDIAN_ACTOR", "dora")
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"policy"}, args...), nil, &out, &errb)
	return out.String(), errb.String(), code
}

// mustPolicy runs a policy command that must succeed.
func mustPolicy(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, errs, code := runPolicyCmd(t, dir, args...)
	if code != exitOK {
		t.Fatalf("policy %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errs)
	}
	return out
}

// copyShipped writes the shipped pack into a new directory, with extra
// files (path → content) added or replaced.
func copyShipped(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		return writeFile(filepath.Join(dir, p), data)
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, data := range extra {
		if err := writeFile(filepath.Join(dir, p), []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeFile(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, data, 0o644)
}

func packHash(t *testing.T, dir string) string {
	t.Helper()
	p, err := policy.LoadFS(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	return p.Hash()
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v in:\n%s", err, s)
	}
	return v
}

func TestPolicyVersionsFresh(t *testing.T) {
	state := t.TempDir()
	out := mustPolicy(t, state, "versions")
	if !regexp.MustCompile(`(?m)^1\s+\*\s+[0-9a-f]{12}\s.*meridian\s.*the shipped policy pack$`).MatchString(out) {
		t.Errorf("versions of a fresh state does not show the shipped version 1 active:\n%s", out)
	}
	if !strings.Contains(out, "\nversion 1 decides with plan\n") {
		t.Errorf("versions does not say what decides for the active version:\n%s", out)
	}
	vs := decodeJSON[[]policy.Version](t, mustPolicy(t, state, "versions", "--json"))
	if len(vs) == 1 && vs[0].Evaluator != policy.EvaluatorPlan {
		t.Errorf("versions --json: evaluator %q, want %q", vs[0].Evaluator, policy.EvaluatorPlan)
	}
	shipped, err := policy.LoadFS(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || !vs[0].Active || vs[0].Hash != shipped.Hash() || vs[0].Tests.Failed != 0 || vs[0].Tests.Passed == 0 {
		t.Errorf("versions --json = %+v, want one active version with the shipped hash %.12s and passing tests", vs, shipped.Hash())
	}
}

func TestPolicyPushSyntaxError(t *testing.T) {
	state := t.TempDir()
	dir := copyShipped(t, map[string]string{"broken.rego": "package meridian\n\nbroken := {\n"})
	out, errs, code := runPolicyCmd(t, state, "push", dir, "-m", "a typo")
	if code != exitFailed {
		t.Errorf("push of a pack with a syntax error: exit %d, want %d", code, exitFailed)
	}
	want := regexp.MustCompile(regexp.QuoteMeta(filepath.Join(dir, "broken.rego")) + `:4:\d+: `)
	if !want.MatchString(errs) || out != "" {
		t.Errorf("push error does not name the file and line as %s:4:col:\nstdout:\n%s\nstderr:\n%s", filepath.Join(dir, "broken.rego"), out, errs)
	}
	if vs := decodeJSON[[]policy.Version](t, mustPolicy(t, state, "versions", "--json")); len(vs) != 1 {
		t.Errorf("a pack that does not parse was stored: %d versions", len(vs))
	}
}

// TestPolicyWorkflow: push a changed pack, activate it, see the history,
// roll back.
func TestPolicyWorkflow(t *testing.T) {
	state := t.TempDir()
	meridianRego, err := fs.ReadFile(policies.FS, "meridian.rego")
	if err != nil {
		t.Fatal(err)
	}
	dir := copyShipped(t, map[string]string{"meridian.rego": string(meridianRego) + "\n# Reviewed by the DPO.\n"})
	hash := packHash(t, dir)

	out := mustPolicy(t, state, "push", dir, "-m", "DPO review")
	for _, re := range []string{
		`stored version 2  hash ` + hash[:12] + `  by dora: DPO review`,
		`tests: [1-9]\d* passed, 0 failed; coverage \d+\.\d%`,
		`next: meridian policy impact 2, then meridian policy activate 2`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("push output lacks %s:\n%s", re, out)
		}
	}
	if out := mustPolicy(t, state, "activate", "2"); !strings.Contains(out, "version 2 ("+hash[:12]+") is active") {
		t.Errorf("activate output:\n%s", out)
	}
	active := func() int64 {
		for _, v := range decodeJSON[[]policy.Version](t, mustPolicy(t, state, "versions", "--json")) {
			if v.Active {
				return v.ID
			}
		}
		return 0
	}
	if got := active(); got != 2 {
		t.Errorf("after activate 2, version %d is active", got)
	}
	out = mustPolicy(t, state, "history")
	if !regexp.MustCompile(`(?m)^\S+ \S+\s+activate\s+2\s+` + hash[:12] + `\s+dora\s+DPO review\n.*activate\s+1\s+[0-9a-f]{12}\s+meridian\s`).MatchString(out) {
		t.Errorf("history does not show activate 2 by dora, then activate 1 by meridian:\n%s", out)
	}
	if out := mustPolicy(t, state, "rollback"); !strings.Contains(out, "rolled back from version 2: version 1") {
		t.Errorf("rollback output:\n%s", out)
	}
	if got := active(); got != 1 {
		t.Errorf("after rollback, version %d is active, want 1", got)
	}
	var actions []string
	for _, a := range decodeJSON[[]policy.Activation](t, mustPolicy(t, state, "history", "--json")) {
		actions = append(actions, fmt.Sprintf("%s %d %s", a.Action, a.VersionID, a.Actor))
	}
	if want := []string{"rollback 1 dora", "activate 2 dora", "activate 1 meridian"}; !slices.Equal(actions, want) {
		t.Errorf("history --json = %v, want %v", actions, want)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"activate", "99"}, exitFailed, "no such policy version"},
		{[]string{"activate", "two"}, exitUsage, "not a version id"},
		{[]string{"impact", "99"}, exitFailed, "no such policy version"},
	} {
		if _, errs, code := runPolicyCmd(t, state, tc.args...); code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("policy %v: exit %d, %q; want exit %d saying %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}

// TestPolicyFailingTests: a version whose tests fail is stored, named as
// such, and cannot be activated.
func TestPolicyFailingTests(t *testing.T) {
	state := t.TempDir()
	dir := copyShipped(t, map[string]string{"zz_test.rego": "package meridian_test\n\ntest_always_fails if false\n"})
	out, errs, code := runPolicyCmd(t, state, "push", dir, "-m", "with a failing test")
	if code != exitFailed || !strings.Contains(out, "stored version 2") ||
		!regexp.MustCompile(`FAIL\s+\S*meridian_test\.test_always_fails\s+`+regexp.QuoteMeta(filepath.Join(dir, "zz_test.rego"))+`:3`).MatchString(out) ||
		!strings.Contains(errs, "1 of") || !strings.Contains(errs, "cannot be activated") {
		t.Errorf("push with a failing test: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if _, errs, code := runPolicyCmd(t, state, "activate", "2"); code != exitFailed || !strings.Contains(errs, "test_always_fails") {
		t.Errorf("activate of a failing version: exit %d, %q; want exit 1 naming the test", code, errs)
	}
	if _, _, code := runPolicyCmd(t, state, "test", "2"); code != exitFailed {
		t.Errorf("test 2: exit %d, want 1", code)
	}
	if _, _, code := runPolicyCmd(t, state, "test", dir); code != exitFailed {
		t.Errorf("test DIR: exit %d, want 1", code)
	}
	if out := mustPolicy(t, state, "test"); !regexp.MustCompile(`^version 1: [1-9]\d* passed, 0 failed; coverage`).MatchString(out) {
		t.Errorf("test of the active version:\n%s", out)
	}
}

// TestPolicyBundle: a version written as a bundle is accepted by push with
// the same hash.
func TestPolicyBundle(t *testing.T) {
	state := t.TempDir()
	file := filepath.Join(t.TempDir(), "meridian.tar.gz")
	out := mustPolicy(t, state, "bundle", "-o", file)
	shipped := decodeJSON[[]policy.Version](t, mustPolicy(t, state, "versions", "--json"))[0]
	if want := fmt.Sprintf("wrote %s: version 1, revision v1-%.12s", file, shipped.Hash); !strings.Contains(out, want) {
		t.Errorf("bundle output %q, want %q", out, want)
	}
	type pushed struct {
		ID          int64   `json:"id"`
		Hash        string  `json:"hash"`
		Revision    string  `json:"revision"`
		SameContent []int64 `json:"same_content_as"`
		CanActivate bool    `json:"can_activate"`
	}
	got := decodeJSON[pushed](t, mustPolicy(t, state, "push", file, "-m", "round trip", "--json"))
	if got.ID != 2 || got.Hash != shipped.Hash || got.Revision != "v1-"+shipped.Hash[:12] || !slices.Equal(got.SameContent, []int64{1}) || !got.CanActivate {
		t.Errorf("push of the bundle = %+v, want version 2 with the shipped hash %.12s, same content as 1", got, shipped.Hash)
	}
	if out := mustPolicy(t, state, "push", file, "-m", "again"); !strings.Contains(out, "same content as version 1, 2") ||
		!strings.Contains(out, fmt.Sprintf("from bundle %s, revision \"v1-%.12s\"", file, shipped.Hash)) {
		t.Errorf("push of the bundle, text:\n%s", out)
	}
	// A bundle of a given version, and a damaged one.
	mustPolicy(t, state, "bundle", "--version", "2", "-o", file)
	if err := os.WriteFile(file, []byte("not a bundle"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := runPolicyCmd(t, state, "push", file, "-m", "junk"); code != exitFailed || !strings.Contains(errs, "bundle "+file+": not a bundle") {
		t.Errorf("push of a damaged bundle: exit %d, %q", code, errs)
	}
}

// withRegistry opens the registry of the state in dir, as the commands do,
// for a test to record decisions.
func withRegistry(t *testing.T, dir string, fn func(ctx context.Context, reg *policy.Registry)) {
	t.Helper()
	t.Setenv("MERIDIAN_DIR", dir)
	t.Setenv("MERIDIAN_CONFIG", "")
	cfg, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.Store)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	shipped, err := policy.LoadFS(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := policy.OpenRegistry(ctx, db, shipped, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fn(ctx, reg)
}

// euAggregate is the design's baseline: an EU analyst counts EU users by
// country; the shipped policy runs it in the EU.
func euAggregate(user string) policy.Input {
	return policy.Input{
		Version: 1,
		Subject: policy.Subject{User: user, Groups: []string{"analysts"}, Region: "eu", Purposes: []string{"analytics"}, Authenticated: true},
		Request: policy.Request{Purpose: "analytics", Source: "trino-cli", ClientTags: []string{}, QueryID: "q-" + user},
		Statement: policy.Statement{Kind: "select", Analysis: "ast", Fingerprint: "sha256:agg",
			Opaque: []string{}, WritesTo: []policy.Write{}},
		Tables: []policy.Table{{Name: "iceberg.eu.eu_users", Access: "read", Region: "eu", Classification: "personal",
			Purposes: []string{"analytics", "support"}, ColumnsRead: []string{"country"}, PIIColumnsRead: []string{},
			PIIInOutput: []string{}, PIIGroupedBy: []string{}, OutputAggregated: true, RetentionDays: 365}},
		Regions: map[string]policy.RegionInfo{"eu": {Jurisdiction: "EEA", Healthy: true}, "us": {Jurisdiction: "US", Healthy: true}},
	}
}

// TestPolicyImpact: a candidate that blocks one user flips exactly that
// user's recorded allows, grouped by rule, table and user.
func TestPolicyImpact(t *testing.T) {
	state := t.TempDir()
	allowedMallory := 0
	withRegistry(t, state, func(ctx context.Context, reg *policy.Registry) {
		now := time.Now()
		for i, user := range []string{"alice", "mallory", "alice", "mallory", "bob"} {
			in := euAggregate(user)
			d, err := reg.Engine().Decide(ctx, &in)
			if err != nil {
				t.Fatal(err)
			}
			if !d.Allow {
				t.Fatalf("the shipped policy denies the baseline aggregate: %+v", d)
			}
			if user == "mallory" {
				allowedMallory++
			}
			rec := &policy.Record{ID: fmt.Sprintf("d%d", i), At: now.Add(time.Duration(i-10) * time.Minute), QueryID: in.Request.QueryID, User: user,
				Statement: "SELECT country, count(*) FROM iceberg.eu.eu_users WHERE country = ? GROUP BY country", Tables: []string{"iceberg.eu.eu_users"},
				Allow: d.Allow, Regions: d.Regions, Violations: d.Violations, VersionID: 1, Input: &in}
			if err := reg.Write(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
	})
	dir := copyShipped(t, map[string]string{
		"blocked.rego": `package meridian

violation contains {"rule": "org.blocked_user", "table": "", "message": msg} if {
	input.subject.user in data.data.blocked.users
	msg := sprintf("user %q is blocked; ask the DPO", [input.subject.user])
}
`,
		"blocked_test.rego": `package meridian_test

import data.meridian

test_blocked_user_is_denied if {
	not meridian.decision.allow with input as {"version": 1, "subject": {"user": "mallory"}}
}
`,
		"data/blocked.json": `{"blocked": {"users": ["mallory"]}}`,
	})
	mustPolicy(t, state, "push", dir, "-m", "block mallory")

	rep := decodeJSON[policy.ImpactReport](t, mustPolicy(t, state, "impact", "2", "--json"))
	var users []string
	for _, g := range rep.ByUser {
		users = append(users, g.Key)
	}
	if rep.Evaluated != 5 || rep.Changed != allowedMallory || rep.AllowToDeny != allowedMallory || rep.DenyToAllow != 0 ||
		len(rep.ByRule) != 1 || rep.ByRule[0].Key != "org.blocked_user" || !slices.Equal(users, []string{"mallory"}) {
		t.Errorf("impact 2 --json: evaluated %d, changed %d (%d allow→deny), by rule %v, by user %v; want 5 evaluated, %d allow→deny by org.blocked_user, all mallory's",
			rep.Evaluated, rep.Changed, rep.AllowToDeny, rep.ByRule, users, allowedMallory)
	}

	out := mustPolicy(t, state, "impact", "2")
	for _, re := range []string{
		`Impact of version 2 \([0-9a-f]{12}\) on the last 1000 recorded decisions: 5 evaluated, 2 would change`,
		`allow → deny\s+2\n\s+deny → allow\s+0\n\s+regions changed\s+0`,
		`By rule:\n  org\.blocked_user  2\n    \S+ \S+\s+mallory\s+allow→deny\s+SELECT country`,
		`By table:\n  iceberg\.eu\.eu_users  2\n`,
		`By user:\n  mallory  2\n`,
		`First 2 of 2 changes:\nWHEN\s+USER\s+CHANGE\s+BEFORE\s+AFTER\s+STATEMENT\n\S+ \S+\s+mallory\s+allow→deny\s+allow \(eu\)\s+deny \(org\.blocked_user\)\s+SELECT`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("impact output lacks %s:\n%s", re, out)
		}
	}
	for _, tc := range []struct {
		args      []string
		evaluated int
		changed   int
	}{
		{[]string{"--user", "alice"}, 2, 0},
		{[]string{"--last", "2"}, 2, 1}, // d4 (bob), d3 (mallory)
		{[]string{"--since", "5m"}, 0, 0},
		{[]string{"--since", "1h", "--table", "iceberg.eu.eu_users"}, 5, 2},
		{[]string{"--table", "iceberg.us.users"}, 0, 0},
	} {
		rep := decodeJSON[policy.ImpactReport](t, mustPolicy(t, state, append([]string{"impact", "2", "--json"}, tc.args...)...))
		if rep.Evaluated != tc.evaluated || rep.Changed != tc.changed {
			t.Errorf("impact 2 %v: %d evaluated, %d changed; want %d, %d", tc.args, rep.Evaluated, rep.Changed, tc.evaluated, tc.changed)
		}
	}
	if out := mustPolicy(t, state, "impact", "2", "--user", "alice"); !strings.Contains(out, "of user alice: 2 evaluated, 0 would change") {
		t.Errorf("impact with no change:\n%s", out)
	}
	if _, errs, code := runPolicyCmd(t, state, "impact", "2", "--last", "5", "--since", "1h"); code != exitUsage || !strings.Contains(errs, "not both") {
		t.Errorf("impact with --last and --since: exit %d, %q", code, errs)
	}
}

// TestPolicyLog: recorded decisions, filtered.
func TestPolicyLog(t *testing.T) {
	state := t.TempDir()
	withRegistry(t, state, func(ctx context.Context, reg *policy.Registry) {
		now := time.Now()
		for _, r := range []struct {
			id, user string
			ago      time.Duration
			allow    bool
			rules    []string
			tables   []string
		}{
			{"old", "anna", 72 * time.Hour, true, nil, []string{"iceberg.eu.guests"}},
			{"deny2", "sam", 2 * time.Hour, false, []string{"gdpr.transfer", "gdpr.purpose"}, []string{"iceberg.eu.guests", "iceberg.us.bookings"}},
			{"allow1", "sam", 30 * time.Minute, true, nil, []string{"iceberg.us.bookings"}},
			{"deny1", "bob", 10 * time.Minute, false, []string{"gdpr.transfer"}, []string{"iceberg.eu.guests"}},
		} {
			var vs []policy.Violation
			for _, rule := range r.rules {
				vs = append(vs, policy.Violation{Rule: rule, Message: "m"})
			}
			var regions []string
			if r.allow {
				regions = []string{"eu", "us"}
			}
			in := euAggregate(r.user)
			if err := reg.Write(ctx, &policy.Record{ID: r.id, At: now.Add(-r.ago), User: r.user, Tables: r.tables,
				Statement: "SELECT * FROM " + r.tables[0] + " WHERE id = ?", Allow: r.allow, Regions: regions, Violations: vs, VersionID: 1, Input: &in}); err != nil {
				t.Fatal(err)
			}
		}
	})
	out := mustPolicy(t, state, "log")
	for _, re := range []string{
		`(?m)^TIME\s+USER\s+OUTCOME\s+RULES\s+TABLES\s+STATEMENT$`,
		`(?m)^\S+ \S+Z\s+bob\s+deny\s+gdpr\.transfer\s+iceberg\.eu\.guests\s+SELECT \* FROM iceberg\.eu\.guests WHERE id = \?$`,
		`(?m)^\S+ \S+Z\s+sam\s+deny\s+gdpr\.transfer,gdpr\.purpose\s+iceberg\.eu\.guests,iceberg\.us\.bookings\s+SELECT`,
		`(?m)^\S+ \S+Z\s+sam\s+allow \(eu,us\)\s+-\s+iceberg\.us\.bookings\s+SELECT`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("log output lacks %s:\n%s", re, out)
		}
	}
	ids := func(args ...string) []string {
		var out []string
		for _, r := range decodeJSON[[]policy.Record](t, mustPolicy(t, state, append([]string{"log", "--json"}, args...)...)) {
			out = append(out, r.ID)
		}
		return out
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"deny1", "allow1", "deny2", "old"}},
		{[]string{"--user", "sam"}, []string{"allow1", "deny2"}},
		{[]string{"--table", "iceberg.eu.guests"}, []string{"deny1", "deny2", "old"}},
		{[]string{"--rule", "gdpr.purpose"}, []string{"deny2"}},
		{[]string{"--outcome", "deny"}, []string{"deny1", "deny2"}},
		{[]string{"--outcome", "allow", "--since", "1h"}, []string{"allow1"}},
		{[]string{"--since", "7d", "--user", "anna"}, []string{"old"}},
		{[]string{"--since", "1d", "--user", "anna"}, nil},
		{[]string{"--limit", "1"}, []string{"deny1"}},
	} {
		if got := ids(tc.args...); !slices.Equal(got, tc.want) {
			t.Errorf("log %v = %v, want %v", tc.args, got, tc.want)
		}
	}
	if out := mustPolicy(t, state, "log", "--user", "nobody"); out != "no recorded decisions match\n" {
		t.Errorf("log with no match: %q", out)
	}
	for _, bad := range [][]string{
		{"log", "--outcome", "maybe"},
		{"log", "--since", "yesterday"},
		{"log", "--last", "3"},
		{"log", "extra"},
	} {
		if _, errs, code := runPolicyCmd(t, state, bad...); code != exitUsage || errs == "" {
			t.Errorf("policy %v: exit %d, want %d with a message", bad, code, exitUsage)
		}
	}
}

func TestPolicyUsage(t *testing.T) {
	state := t.TempDir()
	dir := copyShipped(t, nil)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "want a subcommand"},
		{[]string{"nope"}, `unknown subcommand "nope"`},
		{[]string{"push", dir}, "needs -m MESSAGE"},
		{[]string{"push", filepath.Join(dir, "nosuch"), "-m", "x"}, "no such file"},
		{[]string{"push", "-m", "x"}, "takes one argument"},
		{[]string{"rollback", "1"}, "takes no arguments"},
		{[]string{"bundle"}, "needs -o FILE"},
		{[]string{"versions", "-m", "x"}, "--m does not apply to versions"},
		{[]string{"test", "nosuch-dir"}, "no such file"},
	} {
		if out, errs, code := runPolicyCmd(t, state, tc.args...); code != exitUsage || !strings.Contains(errs, tc.want) || out != "" {
			t.Errorf("policy %v: exit %d, stderr %q; want exit %d saying %q", tc.args, code, errs, exitUsage, tc.want)
		}
	}
	if out, _, code := runPolicyCmd(t, state, "-h"); code != exitOK && !strings.Contains(out, "Subcommands:") {
		t.Errorf("policy -h: exit %d", code)
	}
}

// TestPolicyPurge: purge deletes decision records older than the retention
// setting and keeps the rest.
func TestPolicyPurge(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	withRegistry(t, dir, func(ctx context.Context, reg *policy.Registry) {
		for i, age := range []time.Duration{400 * 24 * time.Hour, 30 * 24 * time.Hour, time.Hour} {
			rec := &policy.Record{ID: fmt.Sprintf("r%d", i), At: now.Add(-age), User: "anna", Allow: true,
				Regions: []string{"eu"}, Input: &policy.Input{Version: 1}}
			if err := reg.Write(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
	})
	out := mustPolicy(t, dir, "purge")
	if !strings.Contains(out, "deleted 1 decision records") || !strings.Contains(out, "retention 365 days") {
		t.Errorf("purge said %q, want 1 deleted with the 365-day retention", out)
	}
	withRegistry(t, dir, func(ctx context.Context, reg *policy.Registry) {
		recs, err := reg.Decisions(ctx, policy.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs[0].ID != "r2" || recs[1].ID != "r1" {
			t.Errorf("after purge: %+v, want r2 and r1", recs)
		}
	})
	if _, _, code := runPolicyCmd(t, dir, "purge", "extra"); code != exitUsage {
		t.Errorf("purge with an argument: exit %d, want %d", code, exitUsage)
	}
}

// TestPolicyEvaluatorSetting: policy.evaluator defaults to plan, accepts
// topdown and refuses anything else with a message naming both.
func TestPolicyEvaluatorSetting(t *testing.T) {
	for _, c := range []struct{ yaml, want, err string }{
		{"", "plan", ""},
		{"policy: {evaluator: topdown}\n", "topdown", ""},
		{"policy: {evaluator: wasm}\n", "", `policy.evaluator "wasm": want plan (the default) or topdown`},
	} {
		path := filepath.Join(t.TempDir(), "meridian.yaml")
		if err := os.WriteFile(path, []byte(c.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig(path)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: err %v, want %q", c.yaml, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.yaml, err)
		case c.err == "" && cfg.Policy.Evaluator != c.want:
			t.Errorf("%q: evaluator %q, want %q", c.yaml, cfg.Policy.Evaluator, c.want)
		}
	}
}
