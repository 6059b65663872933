package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/internal/store"
	"github.com/meridian-lake/meridian/policy"
	policies "github.com/meridian-lake/meridian/rego"
	"github.com/meridian-lake/meridian/server"
)

// who is the caller of a request, as the test identity headers carry it.
type who struct {
	user  string
	roles string // comma-separated
}

var (
	dora   = who{"dora", "compliance"} // the DPO's team: may do everything
	adam   = who{"adam", "admin"}      // may read
	sam    = who{"sam", "analyst"}     // may do nothing here
	nobody = who{}                     // no identity
)

// headerIdentity stands in for the proxy's authentication (a later issue).
func headerIdentity(r *http.Request) (string, []string, bool) {
	user := r.Header.Get("X-Test-User")
	if user == "" {
		return "", nil, false
	}
	return user, strings.Split(r.Header.Get("X-Test-Roles"), ","), true
}

// syncBuffer is a log sink the server's goroutines write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	reg  *policy.Registry
	db   *store.DB
	url  string
	logs *syncBuffer
}

// start serves a PolicyAPI over a real registry on a fresh SQLite store,
// holding the shipped pack as its only, active version.
func start(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg, err := policy.OpenRegistry(ctx, db, shippedPack(t), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	api := &server.PolicyAPI{
		Registry:  reg,
		Authorize: server.RoleAuthorizer(headerIdentity),
		Logger:    slog.New(slog.NewJSONHandler(logs, nil)),
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return &env{reg: reg, db: db, url: srv.URL, logs: logs}
}

func shippedPack(t *testing.T) *policy.Pack {
	t.Helper()
	p, err := policy.LoadFS(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// apiError is an error response.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Param   string `json:"param"`
		File    string `json:"file"`
		Line    int    `json:"line"`
		Column  int    `json:"column"`
		Tests   []struct {
			Name string `json:"name"`
			File string `json:"file"`
			Line int    `json:"line"`
		} `json:"tests"`
	} `json:"error"`
}

// call sends body (JSON-encoded unless it is a string or an io.Reader) as
// caller and decodes the response into out (when not nil). It returns the
// status code.
func (e *env) call(t *testing.T, caller who, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case io.Reader:
		rd = b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if caller.user != "" {
		req.Header.Set("X-Test-User", caller.user)
		req.Header.Set("X-Test-Roles", caller.roles)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q, want JSON; body %s", method, path, ct, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// wantError checks that a request fails with status and code.
func (e *env) wantError(t *testing.T, caller who, method, path string, body any, status int, code string) apiError {
	t.Helper()
	var got apiError
	if st := e.call(t, caller, method, path, body, &got); st != status || got.Error.Code != code {
		t.Errorf("%s %s as %q: %d %s (%s), want %d %s", method, path, caller.user, st, got.Error.Code, got.Error.Message, status, code)
	}
	return got
}

type file struct {
	Path string `json:"path"`
	Data string `json:"data"`
}

type upload struct {
	Author  string `json:"author,omitempty"`
	Message string `json:"message"`
	Files   []file `json:"files"`
}

func filesOf(p *policy.Pack) []file {
	var out []file
	for _, f := range p.Files {
		out = append(out, file{f.Path, string(f.Data)})
	}
	return out
}

// blocking is the shipped pack plus a rule, with its own test, that
// refuses every statement of user: it denies more.
func blocking(t *testing.T, user string) []file {
	t.Helper()
	return append(filesOf(shippedPack(t)),
		file{"blocked.rego", `package meridian

violation contains {"rule": "org.blocked_user", "table": "", "message": msg} if {
	input.subject.user in data.data.blocked.users
	msg := sprintf("user %q is blocked; ask the DPO", [input.subject.user])
}
`},
		file{"blocked_test.rego", `package meridian_test

import data.meridian

test_blocked_user_is_denied if {
	not meridian.decision.allow with input as {"version": 1, "subject": {"user": "` + user + `"}}
}
`},
		file{"data/blocked.json", `{"blocked": {"users": ["` + user + `"]}}`},
	)
}

// failing compiles, but its one test fails.
var failing = []file{
	{"p.rego", "package meridian\ndecision := {\"allow\": false, \"regions\": [], \"violations\": []}\n"},
	{"p_test.rego", "package meridian_test\nimport data.meridian\ntest_allows if meridian.decision.allow\n"},
}

type version struct {
	ID      int64  `json:"id"`
	Hash    string `json:"hash"`
	Author  string `json:"author"`
	Message string `json:"message"`
	Active  bool   `json:"active"`
	Tests   struct {
		Passed int `json:"passed"`
		Failed int `json:"failed"`
	} `json:"tests"`
	Files []file `json:"files"`
}

func (e *env) versions(t *testing.T) []version {
	t.Helper()
	var out struct{ Versions []version }
	if st := e.call(t, adam, "GET", "/v1/meridian/policies", nil, &out); st != http.StatusOK {
		t.Fatalf("list versions: %d", st)
	}
	return out.Versions
}

func active(vs []version) []int64 {
	var out []int64
	for _, v := range vs {
		if v.Active {
			out = append(out, v.ID)
		}
	}
	return out
}

// baseline is an input the shipped pack allows: an EU analyst counts EU
// users by country, in the EU.
func baseline(user string) *policy.Input {
	return &policy.Input{
		Version: 1,
		Subject: policy.Subject{User: user, Groups: []string{"analysts"}, Region: "eu", Purposes: []string{"analytics"}, Authenticated: true},
		Request: policy.Request{Purpose: "analytics", Source: "trino-cli", ClientTags: []string{}, QueryID: "q"},
		Statement: policy.Statement{Kind: "select", Analysis: "ast", Fingerprint: "sha256:select",
			WritesTo: []policy.Write{}, Opaque: []string{}},
		Tables: []policy.Table{{Name: "iceberg.eu.eu_users", Access: "read", Region: "eu", Classification: "personal",
			Purposes: []string{"analytics", "support"}, ColumnsRead: []string{"country"}, PIIColumnsRead: []string{},
			PIIInOutput: []string{}, PIIGroupedBy: []string{}, OutputAggregated: true, RetentionDays: 365}},
		Regions: map[string]policy.RegionInfo{"eu": {Jurisdiction: "EEA", Healthy: true}, "us": {Jurisdiction: "US", Healthy: true}},
	}
}

// TestListShowsShipped: a fresh system lists the shipped pack as the one,
// active version, shows its files, and has its activation in the history.
func TestListShowsShipped(t *testing.T) {
	e := start(t)
	vs := e.versions(t)
	if len(vs) != 1 || !vs[0].Active || vs[0].Author != "meridian" || vs[0].Tests.Passed == 0 || vs[0].Tests.Failed != 0 {
		t.Fatalf("versions = %+v, want the shipped pack, active, by meridian, its tests passing", vs)
	}
	var one version
	if st := e.call(t, adam, "GET", fmt.Sprintf("/v1/meridian/policies/%d", vs[0].ID), nil, &one); st != http.StatusOK {
		t.Fatalf("show: %d", st)
	}
	if diff := cmp.Diff(one.Files, filesOf(shippedPack(t))); diff != "" || one.Hash != vs[0].Hash {
		t.Errorf("show version %d: hash %s (want %s), files (-got +want):\n%s", vs[0].ID, one.Hash, vs[0].Hash, diff)
	}
	e.wantError(t, adam, "GET", "/v1/meridian/policies/99", nil, http.StatusNotFound, "NOT_FOUND")
}

// TestUploadInvalid: a syntax error is refused at upload with file and
// line; nothing is stored. Validation says the same, and stores nothing.
func TestUploadInvalid(t *testing.T) {
	e := start(t)
	bad := upload{Message: "broken", Files: []file{{"x.rego", "package meridian\n\ndecision := {\n"}}}
	for _, path := range []string{"/v1/meridian/policies", "/v1/meridian/policies/validate"} {
		got := e.wantError(t, dora, "POST", path, bad, http.StatusBadRequest, "INVALID_POLICY")
		if got.Error.File != "x.rego" || got.Error.Line < 3 || got.Error.Message == "" {
			t.Errorf("POST %s: error %+v, want x.rego, line 3 or later, and a message", path, got.Error)
		}
	}
	// Checks of the pack itself are INVALID_POLICY too: a package outside the root.
	got := e.wantError(t, dora, "POST", "/v1/meridian/policies",
		upload{Message: "m", Files: []file{{"a.rego", "package elsewhere\n\nx := 1\n"}}}, http.StatusBadRequest, "INVALID_POLICY")
	if got.Error.File != "a.rego" || got.Error.Line != 1 {
		t.Errorf("package outside the root: %+v, want a.rego line 1", got.Error)
	}
	if vs := e.versions(t); len(vs) != 1 {
		t.Errorf("%d versions after refused uploads, want 1", len(vs))
	}

	var ok struct {
		Valid bool
		Hash  string
	}
	if st := e.call(t, dora, "POST", "/v1/meridian/policies/validate", upload{Files: blocking(t, "zed")}, &ok); st != http.StatusOK || !ok.Valid || ok.Hash == "" {
		t.Errorf("validate a good pack: %d %+v, want 200 valid with a hash", st, ok)
	}
	if vs := e.versions(t); len(vs) != 1 {
		t.Errorf("validation stored a version: %d versions", len(vs))
	}
}

// TestComplianceWorkflow: upload a candidate that blocks a user, test it,
// dry-run it on recorded decisions and see exactly that user's allows flip,
// activate it, roll back, and read the history.
func TestComplianceWorkflow(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	shipped := e.versions(t)[0].ID

	// Upload: the author is the caller, whatever the body says.
	var cand version
	st := e.call(t, dora, "POST", "/v1/meridian/policies",
		upload{Author: "mallory", Message: "block zed", Files: blocking(t, "zed")}, &cand)
	if st != http.StatusCreated {
		t.Fatalf("upload: %d, want 201", st)
	}
	if cand.ID == shipped || cand.Author != "dora" || cand.Message != "block zed" || cand.Active || cand.Tests.Failed != 0 || cand.Tests.Passed == 0 {
		t.Errorf("uploaded version = %+v, want a new inactive version by dora whose tests pass", cand)
	}
	base := fmt.Sprintf("/v1/meridian/policies/%d", cand.ID)

	var rep policy.TestReport
	if st := e.call(t, dora, "POST", base+"/test", nil, &rep); st != http.StatusOK {
		t.Fatalf("test: %d", st)
	}
	i := slices.IndexFunc(rep.Results, func(r policy.TestResult) bool { return r.Name == "data.meridian_test.test_blocked_user_is_denied" })
	if !rep.OK() || i < 0 || !rep.Results[i].Pass || rep.Results[i].File != "blocked_test.rego" {
		t.Errorf("test report: %d passed, %d failed; the new test at %d; want all passing, with test_blocked_user_is_denied", rep.Passed, rep.Failed, i)
	}

	// Record decisions of the active version: alice and zed, alternately.
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for n := range 6 {
		user := []string{"alice", "zed"}[n%2]
		in := baseline(user)
		d, err := e.reg.Engine().Decide(ctx, in)
		if err != nil || !d.Allow {
			t.Fatalf("the shipped pack on the baseline for %s: %+v, %v; want an allow", user, d, err)
		}
		rec := &policy.Record{ID: fmt.Sprintf("d%d", n), At: t0.Add(time.Duration(n) * time.Minute), QueryID: fmt.Sprintf("q%d", n),
			User: user, Fingerprint: "fp", Statement: "SELECT count(*) FROM eu_users WHERE country = ?", Tables: []string{"iceberg.eu.eu_users"},
			Allow: true, Regions: d.Regions, VersionID: shipped, Input: in}
		if err := e.reg.Write(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name          string
		req           string
		evaluated     int
		wantChangedID []string
	}{
		{"last 6", `{"last": 6}`, 6, []string{"d5", "d3", "d1"}},
		{"last 2", `{"last": 2}`, 2, []string{"d5"}},
		{"alice only", `{"last": 100, "user": "alice"}`, 3, nil},
		{"a window", fmt.Sprintf(`{"from": %q, "to": %q}`, t0.Format(time.RFC3339), t0.Add(2*time.Minute).Format(time.RFC3339)), 2, []string{"d1"}},
		{"by table", `{"last": 100, "table": "iceberg.eu.eu_users"}`, 6, []string{"d5", "d3", "d1"}},
		{"other table", `{"last": 100, "table": "iceberg.us.bookings"}`, 0, nil},
	} {
		var got policy.ImpactReport
		if st := e.call(t, dora, "POST", base+"/impact", tc.req, &got); st != http.StatusOK {
			t.Errorf("impact %s: %d", tc.name, st)
			continue
		}
		var ids []string
		for _, c := range got.Changes {
			ids = append(ids, c.DecisionID)
			if c.Kind != policy.AllowToDeny || c.User != "zed" || !slices.Contains(c.After.Rules, "org.blocked_user") {
				t.Errorf("impact %s: change %+v, want zed's allow turned deny by org.blocked_user", tc.name, c)
			}
		}
		if got.Evaluated != tc.evaluated || got.Changed != len(tc.wantChangedID) || !slices.Equal(ids, tc.wantChangedID) {
			t.Errorf("impact %s: evaluated %d, changed %d %v; want %d, %v", tc.name, got.Evaluated, got.Changed, ids, tc.evaluated, tc.wantChangedID)
		}
	}
	for _, tc := range []struct{ req, param string }{
		{`{}`, "last"},
		{`{"last": 0}`, "last"},
		{`{"last": 5, "from": "2026-11-01T00:00:00Z"}`, "last"},
		{`{"from": "yesterday"}`, "from"},
		{`{"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}`, "to"},
		{`{"last": "ten"}`, "last"},
		{`{"last": 5, "outcome": "deny"}`, "outcome"},
	} {
		got := e.wantError(t, dora, "POST", base+"/impact", tc.req, http.StatusBadRequest, "BAD_REQUEST")
		if got.Error.Param != tc.param {
			t.Errorf("impact %s: param %q (%s), want %q", tc.req, got.Error.Param, got.Error.Message, tc.param)
		}
	}
	e.wantError(t, dora, "POST", "/v1/meridian/policies/99/impact", `{"last": 5}`, http.StatusNotFound, "NOT_FOUND")

	// Activate: the candidate serves, and says so in the list.
	var act version
	if st := e.call(t, dora, "POST", base+"/activate", nil, &act); st != http.StatusOK || act.ID != cand.ID || !act.Active {
		t.Fatalf("activate: %d %+v", st, act)
	}
	if got := active(e.versions(t)); !slices.Equal(got, []int64{cand.ID}) {
		t.Errorf("active after activation: %v, want [%d]", got, cand.ID)
	}
	if d, _ := e.reg.Engine().Decide(ctx, baseline("zed")); d.Allow {
		t.Errorf("after activation the engine still allows zed")
	}

	// Roll back: the shipped pack serves again.
	var back version
	if st := e.call(t, dora, "POST", "/v1/meridian/policies/rollback", nil, &back); st != http.StatusOK || back.ID != shipped {
		t.Fatalf("rollback: %d %+v, want version %d", st, back, shipped)
	}
	if got := active(e.versions(t)); !slices.Equal(got, []int64{shipped}) {
		t.Errorf("active after rollback: %v, want [%d]", got, shipped)
	}
	if d, _ := e.reg.Engine().Decide(ctx, baseline("zed")); !d.Allow {
		t.Errorf("after rollback the engine still denies zed")
	}

	var hist struct{ Activations []policy.Activation }
	if st := e.call(t, adam, "GET", "/v1/meridian/policies/history", nil, &hist); st != http.StatusOK {
		t.Fatalf("history: %d", st)
	}
	var got []string
	for _, a := range hist.Activations {
		got = append(got, fmt.Sprintf("%s %d by %s", a.Action, a.VersionID, a.Actor))
	}
	want := []string{fmt.Sprintf("rollback %d by dora", shipped), fmt.Sprintf("activate %d by dora", cand.ID), fmt.Sprintf("activate %d by meridian", shipped)}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("history (-got +want):\n%s", diff)
	}
	if st := e.call(t, adam, "GET", "/v1/meridian/policies/history?limit=1", nil, &hist); st != http.StatusOK || len(hist.Activations) != 1 {
		t.Errorf("history?limit=1: %d, %d activations", st, len(hist.Activations))
	}
}

// TestActivateFailingTests: a version whose tests fail is stored, but its
// activation is refused with 409 naming the test; the active version stays.
func TestActivateFailingTests(t *testing.T) {
	e := start(t)
	shipped := e.versions(t)[0].ID
	var v version
	if st := e.call(t, dora, "POST", "/v1/meridian/policies", upload{Message: "allow nothing, claim otherwise", Files: failing}, &v); st != http.StatusCreated {
		t.Fatalf("upload: %d, want 201 (failing tests block activation, not upload)", st)
	}
	if v.Tests.Failed != 1 {
		t.Errorf("recorded tests = %+v, want 1 failure", v.Tests)
	}
	got := e.wantError(t, dora, "POST", fmt.Sprintf("/v1/meridian/policies/%d/activate", v.ID), nil, http.StatusConflict, "TESTS_FAILED")
	if len(got.Error.Tests) != 1 || got.Error.Tests[0].Name != "data.meridian_test.test_allows" || got.Error.Tests[0].File != "p_test.rego" ||
		got.Error.Tests[0].Line != 3 || !strings.Contains(got.Error.Message, "test_allows") {
		t.Errorf("refusal = %+v, want test_allows at p_test.rego:3, named in the message", got.Error)
	}
	if a := active(e.versions(t)); !slices.Equal(a, []int64{shipped}) {
		t.Errorf("active after a refused activation: %v, want [%d]", a, shipped)
	}
	e.wantError(t, dora, "POST", "/v1/meridian/policies/99/activate", nil, http.StatusNotFound, "NOT_FOUND")
	// One activation only: nothing to roll back to.
	e.wantError(t, dora, "POST", "/v1/meridian/policies/rollback", nil, http.StatusNotFound, "NOT_FOUND")
}

// TestDecisionQueries: records are found by user, table, rule, outcome and
// time; their inputs are sent only to compliance, and only when asked for.
func TestDecisionQueries(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	write := func(id, user string, tables []string, allow bool, rules []string, at time.Time) {
		var vs []policy.Violation
		for _, r := range rules {
			vs = append(vs, policy.Violation{Rule: r, Message: "m"})
		}
		in := &policy.Input{Version: 1, Subject: policy.Subject{User: user, Purposes: []string{"secret-purpose"}}}
		if err := e.reg.Write(ctx, &policy.Record{ID: id, At: at, User: user, Tables: tables, Allow: allow, Violations: vs, Input: in}); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "anna", []string{"iceberg.eu.guests"}, true, nil, t0)
	write("b", "sam", []string{"iceberg.eu.guests", "iceberg.us.bookings"}, false, []string{"gdpr.transfer", "gdpr.purpose"}, t0.Add(time.Hour))
	write("c", "sam", []string{"iceberg.us.bookings"}, true, nil, t0.Add(2*time.Hour))

	query := func(caller who, q string) ([]policy.Record, string) {
		t.Helper()
		var out struct{ Decisions []policy.Record }
		if st := e.call(t, caller, "GET", "/v1/meridian/decisions"+q, nil, &out); st != http.StatusOK {
			t.Errorf("decisions%s: %d", q, st)
		}
		var ids []string
		for _, r := range out.Decisions {
			ids = append(ids, r.ID)
		}
		return out.Decisions, strings.Join(ids, ",")
	}
	for _, tc := range []struct{ q, want string }{
		{"", "c,b,a"},
		{"?user=sam", "c,b"},
		{"?table=iceberg.eu.guests", "b,a"},
		{"?rule=gdpr.purpose", "b"},
		{"?outcome=deny", "b"},
		{"?outcome=allow&user=sam", "c"},
		{"?from=2026-11-01T00:30:00Z&to=2026-11-01T01:30:00Z", "b"},
		{"?from=2026-11-01T01:00:00Z", "c,b"},
		{"?limit=1", "c"},
		{"?user=nobody", ""},
	} {
		if _, got := query(adam, tc.q); got != tc.want {
			t.Errorf("decisions%s = %q, want %q", tc.q, got, tc.want)
		}
	}
	recs, _ := query(adam, "?user=sam&outcome=deny")
	if len(recs) != 1 || len(recs[0].Tables) != 2 || len(recs[0].Violations) != 2 || recs[0].Input != nil {
		t.Errorf("record b read back as %+v, want 2 tables, 2 violations, no input", recs)
	}
	recs, _ = query(dora, "?input=false")
	for _, r := range recs {
		if r.Input != nil {
			t.Errorf("record %s carries its input unasked", r.ID)
		}
	}
	recs, _ = query(dora, "?input=true&user=anna")
	if len(recs) != 1 || recs[0].Input == nil || recs[0].Input.Subject.User != "anna" {
		t.Errorf("compliance asking for inputs got %+v, want anna's record with its input", recs)
	}
	e.wantError(t, adam, "GET", "/v1/meridian/decisions?input=true", nil, http.StatusForbidden, "FORBIDDEN")

	for _, tc := range []struct{ q, param string }{
		{"?outcome=maybe", "outcome"},
		{"?limit=0", "limit"},
		{"?limit=10001", "limit"},
		{"?limit=ten", "limit"},
		{"?from=yesterday", "from"},
		{"?to=2026-11-01", "to"},
		{"?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "to"},
		{"?input=please", "input"},
		{"?usr=sam", "usr"},
		{"?user=sam&user=anna", "user"},
	} {
		got := e.wantError(t, adam, "GET", "/v1/meridian/decisions"+tc.q, nil, http.StatusBadRequest, "BAD_REQUEST")
		if got.Error.Param != tc.param || !strings.Contains(got.Error.Message, tc.param) {
			t.Errorf("decisions%s: error %+v, want one naming %q", tc.q, got.Error, tc.param)
		}
	}
	if _, got := query(adam, "?limit=10000"); got != "c,b,a" {
		t.Errorf("limit=10000: %q", got)
	}
	if strings.Contains(e.logs.String(), "secret-purpose") {
		t.Errorf("a decision input reached the log:\n%s", e.logs)
	}
}

// TestAuthorization: compliance may do everything, admin may read, an
// analyst nothing, and a request without identity is unauthenticated.
func TestAuthorization(t *testing.T) {
	e := start(t)
	shipped := fmt.Sprintf("/v1/meridian/policies/%d", e.versions(t)[0].ID)
	good := upload{Message: "m", Files: blocking(t, "zed")}
	routes := []struct {
		method, path string
		body         any
		read         bool
	}{
		{"GET", "/v1/meridian/policies", nil, true},
		{"GET", shipped, nil, true},
		{"GET", "/v1/meridian/policies/history", nil, true},
		{"GET", "/v1/meridian/decisions", nil, true},
		{"POST", "/v1/meridian/policies", good, false},
		{"POST", "/v1/meridian/policies/validate", good, false},
		{"POST", shipped + "/test", nil, false},
		{"POST", shipped + "/impact", `{"last": 1}`, false},
		{"POST", shipped + "/activate", nil, false},
		{"POST", "/v1/meridian/policies/rollback", nil, false},
	}
	for _, rt := range routes {
		e.wantError(t, nobody, rt.method, rt.path, rt.body, http.StatusUnauthorized, "UNAUTHENTICATED")
		e.wantError(t, sam, rt.method, rt.path, rt.body, http.StatusForbidden, "FORBIDDEN")
		if rt.read {
			if st := e.call(t, adam, rt.method, rt.path, rt.body, nil); st != http.StatusOK {
				t.Errorf("%s %s as admin: %d, want 200", rt.method, rt.path, st)
			}
		} else {
			e.wantError(t, adam, rt.method, rt.path, rt.body, http.StatusForbidden, "FORBIDDEN")
		}
	}
	if vs := e.versions(t); len(vs) != 1 {
		t.Errorf("refused callers changed the versions: %d", len(vs))
	}
	// Compliance may do everything (rollback has nothing to roll back to).
	for _, rt := range routes[:len(routes)-1] {
		if st := e.call(t, dora, rt.method, rt.path, rt.body, nil); st/100 != 2 {
			t.Errorf("%s %s as compliance: %d, want 2xx", rt.method, rt.path, st)
		}
	}
}

// TestAuthorizeFailsClosed: an Authorize that errs without a sentinel, or
// answers with no actor, refuses the request as internal and is logged.
func TestAuthorizeFailsClosed(t *testing.T) {
	e := start(t)
	for name, authorize := range map[string]func(*http.Request, server.Action) (string, error){
		"error":    func(*http.Request, server.Action) (string, error) { return "", fmt.Errorf("identity source down") },
		"no actor": func(*http.Request, server.Action) (string, error) { return "", nil },
	} {
		logs := &syncBuffer{}
		api := &server.PolicyAPI{Registry: e.reg, Authorize: authorize, Logger: slog.New(slog.NewJSONHandler(logs, nil))}
		srv := httptest.NewServer(api.Handler())
		e2 := &env{reg: e.reg, url: srv.URL}
		got := e2.wantError(t, dora, "POST", "/v1/meridian/policies/rollback", nil, http.StatusInternalServerError, "INTERNAL")
		if strings.Contains(got.Error.Message, "identity") {
			t.Errorf("%s: internal detail in the response: %q", name, got.Error.Message)
		}
		if !strings.Contains(logs.String(), `"level":"ERROR"`) {
			t.Errorf("%s: not logged: %q", name, logs.String())
		}
		srv.Close()
	}
	if len(e.versions(t)) != 1 {
		t.Errorf("a refused request changed something")
	}
}

// TestRequestLimits: oversized bodies, unknown fields, bad ids, unknown
// routes and methods are refused with JSON errors.
func TestRequestLimits(t *testing.T) {
	e := start(t)
	huge := `{"message": "m", "files": [{"path": "a.rego", "data": "` + strings.Repeat("x", server.MaxBodyBytes) + `"}]}`
	got := e.wantError(t, dora, "POST", "/v1/meridian/policies", huge, http.StatusRequestEntityTooLarge, "TOO_LARGE")
	if !strings.Contains(got.Error.Message, fmt.Sprint(server.MaxBodyBytes)) {
		t.Errorf("413 message %q does not state the limit", got.Error.Message)
	}
	// The same without a Content-Length: the limit holds while reading.
	e.wantError(t, dora, "POST", "/v1/meridian/policies", io.MultiReader(strings.NewReader(huge)), http.StatusRequestEntityTooLarge, "TOO_LARGE")

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code, param        string
	}{
		{"unknown field", "POST", "/v1/meridian/policies", `{"message": "m", "files": [], "autor": "x"}`, 400, "BAD_REQUEST", "autor"},
		{"unknown file field", "POST", "/v1/meridian/policies", `{"message": "m", "files": [{"path": "a.rego", "body": "x"}]}`, 400, "BAD_REQUEST", "body"},
		{"no message", "POST", "/v1/meridian/policies", upload{Files: blocking(t, "zed")}, 400, "BAD_REQUEST", "message"},
		{"no files", "POST", "/v1/meridian/policies", `{"message": "m", "files": []}`, 400, "BAD_REQUEST", "files"},
		{"wrong type", "POST", "/v1/meridian/policies", `{"message": 7, "files": []}`, 400, "BAD_REQUEST", "message"},
		{"not JSON", "POST", "/v1/meridian/policies", `message=m`, 400, "BAD_REQUEST", ""},
		{"empty body", "POST", "/v1/meridian/policies", nil, 400, "BAD_REQUEST", ""},
		{"two values", "POST", "/v1/meridian/policies/1/impact", `{"last": 1} {"last": 2}`, 400, "BAD_REQUEST", ""},
		{"id not a number", "GET", "/v1/meridian/policies/abc", nil, 400, "BAD_REQUEST", "id"},
		{"id zero", "POST", "/v1/meridian/policies/0/activate", nil, 400, "BAD_REQUEST", "id"},
		{"id negative", "POST", "/v1/meridian/policies/-1/test", nil, 400, "BAD_REQUEST", "id"},
		{"id with sign", "GET", "/v1/meridian/policies/+1", nil, 400, "BAD_REQUEST", "id"},
		{"id overflows", "GET", "/v1/meridian/policies/99999999999999999999", nil, 400, "BAD_REQUEST", "id"},
		{"unknown parameter", "GET", "/v1/meridian/policies?all=1", nil, 400, "BAD_REQUEST", "all"},
		{"unknown route", "GET", "/v1/meridian/nothing", nil, 404, "NOT_FOUND", ""},
		{"wrong method", "DELETE", "/v1/meridian/policies/1", nil, 405, "METHOD_NOT_ALLOWED", ""},
	} {
		got := e.wantError(t, dora, tc.method, tc.path, tc.body, tc.status, tc.code)
		if got.Error.Param != tc.param {
			t.Errorf("%s: param %q (%s), want %q", tc.name, got.Error.Param, got.Error.Message, tc.param)
		}
	}
	if vs := e.versions(t); len(vs) != 1 {
		t.Errorf("refused requests stored versions: %d", len(vs))
	}
}

// TestInternalErrorsAreLogged: a failing store answers 500 with a generic
// message; the log has the user and the error, and no policy file.
func TestInternalErrorsAreLogged(t *testing.T) {
	e := start(t)
	// A rejected upload is the client's problem: not logged, and its files never are.
	e.wantError(t, dora, "POST", "/v1/meridian/policies",
		upload{Message: "m", Files: []file{{"x.rego", "package meridian\n# TOP-SECRET-RULE\ndecision := {\n"}}}, 400, "INVALID_POLICY")
	if logs := e.logs.String(); logs != "" {
		t.Errorf("a client error was logged:\n%s", logs)
	}
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	got := e.wantError(t, adam, "GET", "/v1/meridian/policies", nil, http.StatusInternalServerError, "INTERNAL")
	if strings.Contains(got.Error.Message, "sql") || strings.Contains(got.Error.Message, "closed") {
		t.Errorf("internal detail in the response: %q", got.Error.Message)
	}
	e.wantError(t, dora, "POST", "/v1/meridian/policies", upload{Message: "m", Files: blocking(t, "TOP-SECRET-USER")}, http.StatusInternalServerError, "INTERNAL")
	logs := e.logs.String()
	var line struct {
		Level, Msg, User, Err string
	}
	if err := json.Unmarshal([]byte(strings.SplitN(logs, "\n", 2)[0]), &line); err != nil {
		t.Fatalf("log %q: %v", logs, err)
	}
	if line.Level != "ERROR" || line.User != "adam" || !strings.Contains(line.Err, "list versions") {
		t.Errorf("log line = %+v, want an error with user adam and the cause", line)
	}
	if strings.Contains(logs, "TOP-SECRET") {
		t.Errorf("policy file contents reached the log:\n%s", logs)
	}
}
