package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/trinodb/trino-go-client/trino"

	"github.com/meridian-lake/meridian/server"
)

// echoIdentity answers with the identity RequireIdentity put in the
// request's context.
var echoIdentity = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id, ok := server.IdentityFrom(r.Context())
	if !ok {
		http.Error(w, "no identity in context", http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(id)
})

// authReply is one response, read whole.
type authReply struct {
	status     int
	body       string
	challenges []string
	id         server.Identity
}

func authGet(t *testing.T, client *http.Client, url string, header http.Header) authReply {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	rep := authReply{status: resp.StatusCode, body: string(b), challenges: resp.Header.Values("WWW-Authenticate")}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &rep.id); err != nil {
			t.Fatalf("decode identity %q: %v", b, err)
		}
	}
	return rep
}

func basicHeader(user, password string) http.Header {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, password)
	return r.Header
}

func newBasicAuth(t testing.TB) *server.BasicAuth {
	t.Helper()
	b, err := server.NewBasicAuth(demoUsers(t), server.BasicConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBasicAuthOverTLS runs HTTP Basic through RequireIdentity on a real
// TLS server on 127.0.0.1.
func TestBasicAuthOverTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(server.RequireIdentity(newBasicAuth(t), echoIdentity))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name       string
		header     http.Header
		wantStatus int
		wantUser   string
		wantBody   string
	}{
		{"right password", basicHeader("anna", "anna-secret"), 200, "anna", ""},
		{"right password again (cached)", basicHeader("anna", "anna-secret"), 200, "anna", ""},
		{"admin", basicHeader("ops", "ops-secret"), 200, "ops", ""},
		{"wrong password", basicHeader("anna", "sam-secret"), 401, "", "invalid user name or password"},
		{"unknown user", basicHeader("mallory", "anna-secret"), 401, "", "invalid user name or password"},
		{"empty password", basicHeader("anna", ""), 401, "", "invalid user name or password"},
		{"bad user name", basicHeader("an na", "x"), 401, "", "invalid user name or password"},
		{"password too long for bcrypt", basicHeader("anna", "anna-secret"+strings.Repeat("x", 70)), 401, "", "invalid user name or password"},
		{"no credentials", nil, 401, "", "authentication required"},
		{"bearer instead", http.Header{"Authorization": {"Bearer abc"}}, 401, "", "accepts a user name and password"},
		{"huge header", http.Header{"Authorization": {"Basic " + strings.Repeat("A", 20<<10)}}, 401, "", "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := authGet(t, srv.Client(), srv.URL+"/v1/statement", tc.header)
			if rep.status != tc.wantStatus {
				t.Fatalf("status %d (%s), want %d", rep.status, rep.body, tc.wantStatus)
			}
			if tc.wantStatus == 200 {
				if rep.id.User != tc.wantUser || !rep.id.Authenticated || rep.id.Method != server.MethodPassword {
					t.Errorf("identity %+v, want authenticated %s by password", rep.id, tc.wantUser)
				}
				return
			}
			if diff := cmp.Diff(rep.challenges, []string{`Basic realm="Meridian"`}); diff != "" {
				t.Errorf("WWW-Authenticate (-got +want):\n%s", diff)
			}
			if !strings.Contains(rep.body, tc.wantBody) {
				t.Errorf("body %q, want it to contain %q", rep.body, tc.wantBody)
			}
			if strings.Contains(rep.body, "secret") {
				t.Errorf("body %q echoes the password", rep.body)
			}
		})
	}
}

// TestBasicAuthRefusedOverHTTP: even the right password is refused over
// plain HTTP, with a message saying to use HTTPS.
func TestBasicAuthRefusedOverHTTP(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(server.RequireIdentity(newBasicAuth(t), echoIdentity))
	t.Cleanup(srv.Close)
	rep := authGet(t, srv.Client(), srv.URL+"/v1/statement", basicHeader("anna", "anna-secret"))
	if rep.status != 401 || !strings.Contains(rep.body, "only over HTTPS") {
		t.Errorf("Basic over HTTP: %d %q, want 401 saying to use HTTPS", rep.status, rep.body)
	}
}

// TestBasicAuthSetUsers: a replaced users file takes effect at once, even
// for credentials just cached.
func TestBasicAuthSetUsers(t *testing.T) {
	t.Parallel()
	b := newBasicAuth(t)
	srv := httptest.NewTLSServer(server.RequireIdentity(b, echoIdentity))
	t.Cleanup(srv.Close)
	if rep := authGet(t, srv.Client(), srv.URL, basicHeader("sam", "sam-secret")); rep.status != 200 {
		t.Fatalf("sam: %d %s", rep.status, rep.body)
	}
	h, err := server.HashPassword("new-secret", testHashCost)
	if err != nil {
		t.Fatal(err)
	}
	us, err := server.ParseUsers([]byte(fmt.Sprintf("users:\n  - name: sam\n    password_hash: %q\n", h)))
	if err != nil {
		t.Fatal(err)
	}
	b.SetUsers(us)
	if rep := authGet(t, srv.Client(), srv.URL, basicHeader("sam", "sam-secret")); rep.status != 401 {
		t.Errorf("old password after SetUsers: %d, want 401", rep.status)
	}
	if rep := authGet(t, srv.Client(), srv.URL, basicHeader("sam", "new-secret")); rep.status != 200 {
		t.Errorf("new password after SetUsers: %d, want 200", rep.status)
	}
	if rep := authGet(t, srv.Client(), srv.URL, basicHeader("anna", "anna-secret")); rep.status != 401 {
		t.Errorf("removed user after SetUsers: %d, want 401", rep.status)
	}
}

func TestBasicConfigValidate(t *testing.T) {
	for _, cfg := range []server.BasicConfig{{CacheTTL: -1}, {CacheTTL: 16 * 60e9}, {CacheSize: -1}, {MaxConcurrent: -2}} {
		if _, err := server.NewBasicAuth(demoUsers(t), cfg); err == nil {
			t.Errorf("NewBasicAuth(%+v) accepted it", cfg)
		}
	}
	if _, err := server.NewBasicAuth(nil, server.BasicConfig{}); err == nil {
		t.Error("NewBasicAuth(nil users) accepted it")
	}
}

// trinoStatementHandler is a tiny Trino coordinator: POST /v1/statement
// answers with a nextUri, whose GET answers one row holding the user the
// identity in the context names. It counts the requests that reached it.
func trinoStatementHandler(hits *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		id, _ := server.IdentityFrom(r.Context())
		w.Header().Set("Content-Type", "application/json")
		base := "http://" + r.Host
		if r.TLS != nil {
			base = "https://" + r.Host
		}
		if r.Method == http.MethodPost && r.URL.Path == "/v1/statement" {
			fmt.Fprintf(w, `{"id":"20260501_120000_00000_abcde","infoUri":"%[1]s/ui","nextUri":"%[1]s/v1/statement/executing/20260501_120000_00000_abcde/x/1","stats":{"state":"QUEUED"}}`, base)
			return
		}
		fmt.Fprintf(w, `{"id":"20260501_120000_00000_abcde","infoUri":"%s/ui","columns":[{"name":"who","type":"varchar","typeSignature":{"rawType":"varchar","arguments":[]}}],"data":[[%q]],"stats":{"state":"FINISHED"}}`, base, id.User+"/"+id.Method)
	})
}

func trinoQueryOne(dsn string) (string, error) {
	db, err := sql.Open("trino", dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var who string
	err = db.QueryRowContext(context.Background(), "SELECT current_user").Scan(&who)
	return who, err
}

var trinoClientSeq atomic.Int64

// TestTrinoClientBasicOverTLS: the real trino-go-client logs in with a
// password over TLS, and its follow-up GET, which resends Authorization,
// is authenticated too. Over plain HTTP the client itself refuses to send
// the password, and a password sent anyway is refused by us.
func TestTrinoClientBasicOverTLS(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	tlsSrv := httptest.NewTLSServer(server.RequireIdentity(newBasicAuth(t), trinoStatementHandler(&hits)))
	t.Cleanup(tlsSrv.Close)
	name := fmt.Sprintf("meridian-auth-test-%d", trinoClientSeq.Add(1))
	if err := trino.RegisterCustomClient(name, tlsSrv.Client()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { trino.DeregisterCustomClient(name) })
	hostport := strings.TrimPrefix(tlsSrv.URL, "https://")

	who, err := trinoQueryOne(fmt.Sprintf("https://anna:anna-secret@%s?custom_client=%s", hostport, name))
	if err != nil {
		t.Fatalf("query over TLS with the right password: %v", err)
	}
	if who != "anna/password" {
		t.Errorf("the follow-up ran as %q, want anna/password", who)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("%d requests reached the handler, want 2 (POST and its follow-up)", n)
	}

	_, err = trinoQueryOne(fmt.Sprintf("https://anna:wrong@%s?custom_client=%s", hostport, name))
	var qf *trino.ErrQueryFailed
	if !errors.As(err, &qf) || qf.StatusCode != 401 || !strings.Contains(err.Error(), "invalid user name or password") {
		t.Errorf("wrong password: %v, want a 401 saying invalid user name or password", err)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("a refused request reached the handler (%d hits)", n)
	}

	// Plain HTTP: the client will not send a password.
	httpSrv := httptest.NewServer(server.RequireIdentity(newBasicAuth(t), trinoStatementHandler(&hits)))
	t.Cleanup(httpSrv.Close)
	_, err = trinoQueryOne(fmt.Sprintf("http://anna:anna-secret@%s", strings.TrimPrefix(httpSrv.URL, "http://")))
	if err == nil || !strings.Contains(err.Error(), "TLS/SSL is required") {
		t.Errorf("trino-go-client with a password over HTTP: %v, want its TLS refusal", err)
	}
	// And a client that sends one anyway is refused by us.
	rep := authGet(t, httpSrv.Client(), httpSrv.URL+"/v1/statement", basicHeader("anna", "anna-secret"))
	if rep.status != 401 || !strings.Contains(rep.body, "only over HTTPS") {
		t.Errorf("password over HTTP: %d %q", rep.status, rep.body)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("a password over HTTP reached the handler (%d hits)", n)
	}
}

// TestTrinoClientTrustedHeader: in development mode the client connects
// over plain HTTP with only a user name; the handler sees that user's
// attributes, not authenticated.
func TestTrinoClientTrustedHeader(t *testing.T) {
	t.Parallel()
	ha, err := server.NewHeaderAuth(server.HeaderConfig{Users: demoUsers(t)})
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	// The follow-up carries an empty X-Trino-User; the proxy routes it by
	// its token, so only the POST is authenticated here.
	h := trinoStatementHandler(&hits)
	mux := http.NewServeMux()
	mux.Handle("POST /v1/statement", server.RequireIdentity(ha, h))
	mux.Handle("GET /v1/statement/executing/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Trino-User") != "" {
			t.Errorf("follow-up X-Trino-User = %q; PROTOCOL.md says it is empty", r.Header.Get("X-Trino-User"))
		}
		id, err := ha.Identity("sam") // as the proxy would, from Route.User
		if err != nil {
			t.Error(err)
		}
		h.ServeHTTP(w, r.WithContext(server.WithIdentity(r.Context(), id)))
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	who, err := trinoQueryOne(fmt.Sprintf("http://sam@%s", strings.TrimPrefix(srv.URL, "http://")))
	if err != nil {
		t.Fatal(err)
	}
	if who != "sam/trusted-header" {
		t.Errorf("ran as %q, want sam/trusted-header", who)
	}
}

func TestHeaderAuth(t *testing.T) {
	t.Parallel()
	ha, err := server.NewHeaderAuth(server.HeaderConfig{Users: demoUsers(t),
		Default: server.Identity{Region: "us", Purposes: []string{"analytics"}}})
	if err != nil {
		t.Fatal(err)
	}
	strict, err := server.NewHeaderAuth(server.HeaderConfig{Users: demoUsers(t), RejectUnknown: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		a      server.Authenticator
		header http.Header
		want   server.Identity
		err    error
		msg    string
	}{
		{"known user", ha, http.Header{"X-Trino-User": {"anna"}},
			server.Identity{User: "anna", Groups: []string{"analysts"}, Region: "eu", Purposes: []string{"analytics", "support"},
				Roles: []string{"analyst"}, Method: "trusted-header"}, nil, ""},
		{"unknown user gets defaults", ha, http.Header{"X-Trino-User": {"zoe"}},
			server.Identity{User: "zoe", Region: "us", Purposes: []string{"analytics"}, Roles: []string{"analyst"}, Method: "trusted-header"}, nil, ""},
		{"presto alias", ha, http.Header{"X-Presto-User": {"dora"}},
			server.Identity{User: "dora", Region: "eu", Roles: []string{"compliance"}, Method: "trusted-header"}, nil, ""},
		{"no user", ha, http.Header{}, server.Identity{}, server.ErrNoCredentials, "X-Trino-User"},
		{"conflicting aliases", ha, http.Header{"X-Trino-User": {"anna"}, "X-Presto-User": {"ops"}}, server.Identity{}, server.ErrBadCredentials, "different users"},
		{"bad name", ha, http.Header{"X-Trino-User": {"anna,ops"}}, server.Identity{}, server.ErrBadCredentials, "has ','"},
		{"password over http", ha, basicHeader("anna", "anna-secret"), server.Identity{}, server.ErrPasswordOverHTTP, "only over HTTPS"},
		{"unknown user refused", strict, http.Header{"X-Trino-User": {"zoe"}}, server.Identity{}, server.ErrBadCredentials, "not in the users file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/v1/statement", nil)
			r.Header = tc.header
			got, err := tc.a.Authenticate(r)
			if tc.err != nil {
				var ae *server.AuthError
				if !errors.Is(err, tc.err) || !errors.As(err, &ae) || !errors.Is(err, server.ErrUnauthenticated) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("Authenticate = %v, want an *AuthError for %v saying %q", err, tc.err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("identity (-got +want):\n%s", diff)
			}
		})
	}
}

func TestHeaderAuthWarnsOnce(t *testing.T) {
	t.Parallel()
	ha, err := server.NewHeaderAuth(server.HeaderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	ha.Warn(context.Background(), log)
	ha.Warn(context.Background(), log)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"level":"WARN"`) || !strings.Contains(lines[0], "INSECURE") {
		t.Errorf("log = %q, want one WARN line with the insecure warning", buf.String())
	}
}

func TestNewHeaderAuthRefusesBadDefaults(t *testing.T) {
	for _, cfg := range []server.HeaderConfig{
		{RejectUnknown: true},
		{Default: server.Identity{Roles: []string{"root"}}},
		{Default: server.Identity{Region: "eu west"}},
	} {
		if _, err := server.NewHeaderAuth(cfg); err == nil {
			t.Errorf("NewHeaderAuth(%+v) accepted it", cfg)
		}
	}
}

// TestMultiAuth: one listener takes passwords and, without credentials,
// offers every scheme it accepts.
func TestMultiAuth(t *testing.T) {
	t.Parallel()
	m := server.MultiAuth{Basic: newBasicAuth(t), Bearer: newTestJWTAuth(t, nil)}
	srv := httptest.NewTLSServer(server.RequireIdentity(m, echoIdentity))
	t.Cleanup(srv.Close)
	if rep := authGet(t, srv.Client(), srv.URL, basicHeader("dora", "dora-secret")); rep.status != 200 || rep.id.User != "dora" {
		t.Errorf("basic through MultiAuth: %d %s", rep.status, rep.body)
	}
	tok := signTestJWT(t, testJWTKeys(t).rsa, "rsa-1", "RS256", validClaims("kenji"))
	if rep := authGet(t, srv.Client(), srv.URL, http.Header{"Authorization": {"Bearer " + tok}}); rep.status != 200 || rep.id.User != "kenji" {
		t.Errorf("bearer through MultiAuth: %d %s", rep.status, rep.body)
	}
	rep := authGet(t, srv.Client(), srv.URL, nil)
	want := []string{`Basic realm="Meridian"`, `Bearer realm="Meridian"`}
	if rep.status != 401 || !cmp.Equal(rep.challenges, want) {
		t.Errorf("no credentials: %d, challenges %q, want 401 with %q", rep.status, rep.challenges, want)
	}
	rep = authGet(t, srv.Client(), srv.URL, http.Header{"Authorization": {"Negotiate abc"}})
	if rep.status != 401 || !strings.Contains(rep.body, "bearer token") {
		t.Errorf("negotiate: %d %q", rep.status, rep.body)
	}
}

// apiErrorBody is the JSON error of the /v1/meridian/ APIs.
type apiErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// TestRequireRole: the admin and compliance APIs behind RequireRole, with
// identities from the development header mode.
func TestRequireRole(t *testing.T) {
	t.Parallel()
	ha, err := server.NewHeaderAuth(server.HeaderConfig{Users: demoUsers(t)})
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux := http.NewServeMux()
	mux.Handle("/v1/meridian/policies", server.RequireRole(server.RoleCompliance, ok))
	mux.Handle("/v1/meridian/clusters", server.RequireRole(server.RoleAdmin, ok))
	authed := httptest.NewServer(server.RequireIdentity(ha, mux))
	t.Cleanup(authed.Close)
	bare := httptest.NewServer(mux) // no RequireIdentity in front: no identity
	t.Cleanup(bare.Close)

	for _, tc := range []struct {
		srv      *httptest.Server
		user     string
		path     string
		status   int
		code     string
		contains string
	}{
		{authed, "dora", "/v1/meridian/policies", 200, "", ""},
		{authed, "ops", "/v1/meridian/policies", 200, "", ""},
		{authed, "ops", "/v1/meridian/clusters", 200, "", ""},
		{authed, "anna", "/v1/meridian/policies", 403, "FORBIDDEN", "anna may not use /v1/meridian/policies; that needs the compliance role"},
		{authed, "anna", "/v1/meridian/clusters", 403, "FORBIDDEN", "needs the admin role"},
		{authed, "dora", "/v1/meridian/clusters", 403, "FORBIDDEN", "dora may not use /v1/meridian/clusters"},
		{authed, "zoe", "/v1/meridian/clusters", 403, "FORBIDDEN", "zoe may not"},
		{authed, "", "/v1/meridian/clusters", 401, "UNAUTHENTICATED", "X-Trino-User"},
		{bare, "ops", "/v1/meridian/clusters", 401, "UNAUTHENTICATED", "authenticated caller with the admin role"},
	} {
		t.Run(fmt.Sprintf("%s %s", tc.user, tc.path), func(t *testing.T) {
			h := http.Header{}
			if tc.user != "" {
				h.Set("X-Trino-User", tc.user)
			}
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, tc.srv.URL+tc.path, nil)
			req.Header = h
			resp, err := tc.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tc.status)
			}
			if tc.status == 200 {
				return
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			var e apiErrorBody
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("decode %q: %v", b, err)
			}
			if e.Error.Code != tc.code || !strings.Contains(e.Error.Message, tc.contains) {
				t.Errorf("error %+v, want %s containing %q", e.Error, tc.code, tc.contains)
			}
			if (tc.status == 401) != (resp.Header.Get("WWW-Authenticate") != "") {
				t.Errorf("status %d with WWW-Authenticate %q", tc.status, resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

// TestRoleAuthorizerFromContext: RoleAuthorizer over RequestIdentity keeps
// the policy API's rules: compliance may change policy, admin may read,
// an analyst nothing, no identity is 401.
func TestRoleAuthorizerFromContext(t *testing.T) {
	t.Parallel()
	authorize := server.RoleAuthorizer(server.RequestIdentity)
	us := demoUsers(t)
	as := func(name string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/v1/meridian/policies", nil)
		if u, ok := us.Lookup(name); ok {
			r = r.WithContext(server.WithIdentity(r.Context(), u.Identity(server.MethodPassword)))
		}
		return r
	}
	for _, tc := range []struct {
		user   string
		action server.Action
		want   error
	}{
		{"dora", server.ActionActivate, nil},
		{"dora", server.ActionReadInputs, nil},
		{"ops", server.ActionRead, nil},
		{"ops", server.ActionActivate, server.ErrForbidden},
		{"anna", server.ActionRead, server.ErrForbidden},
		{"nobody", server.ActionRead, server.ErrUnauthenticated},
	} {
		actor, err := authorize(as(tc.user), tc.action)
		if !errors.Is(err, tc.want) || (tc.want == nil && actor != tc.user) {
			t.Errorf("%s %s: %q, %v, want %v", tc.user, tc.action, actor, err, tc.want)
		}
	}
}

func benchAuth(b *testing.B, a server.Authenticator, r *http.Request) {
	b.Helper()
	if _, err := a.Authenticate(r); err != nil { // warm: the first check pays
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBasicAuth compares a cached check, which every follow-up of a
// query gets, with a full bcrypt check at the default cost.
func BenchmarkBasicAuth(b *testing.B) {
	h, err := server.HashPassword("anna-secret", server.DefaultHashCost)
	if err != nil {
		b.Fatal(err)
	}
	us, err := server.ParseUsers([]byte(fmt.Sprintf("users:\n  - {name: anna, password_hash: %q, region: eu, purposes: [analytics]}\n", h)))
	if err != nil {
		b.Fatal(err)
	}
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/v1/statement/meridian/x", nil)
		r.TLS = &tls.ConnectionState{}
		r.SetBasicAuth("anna", "anna-secret")
		return r
	}
	b.Run("cache-hit", func(b *testing.B) {
		a, err := server.NewBasicAuth(us, server.BasicConfig{})
		if err != nil {
			b.Fatal(err)
		}
		benchAuth(b, a, req())
	})
	b.Run("bcrypt-cost-10", func(b *testing.B) {
		a, err := server.NewBasicAuth(us, server.BasicConfig{CacheSize: 1, CacheTTL: time.Nanosecond})
		if err != nil {
			b.Fatal(err)
		}
		benchAuth(b, a, req())
	})
}
