package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/server"
)

const (
	testIssuer   = "https://idp.example"
	testAudience = "meridian"
)

// jwtClock is the clock of the JWT tests: tokens are made relative to it.
var jwtClock = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

type jwtKeys struct {
	rsa, rsa2 *rsa.PrivateKey
	ec        *ecdsa.PrivateKey
	ed        ed25519.PrivateKey
}

var (
	jwtKeysOnce sync.Once
	jwtKeysVal  jwtKeys
)

// testJWTKeys are generated once per test binary: RSA keys are slow.
func testJWTKeys(t testing.TB) jwtKeys {
	t.Helper()
	jwtKeysOnce.Do(func() {
		var k jwtKeys
		var err error
		if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
		jwtKeysVal = k
	})
	return jwtKeysVal
}

// jwkOf is the public JWK of key.
func jwkOf(kid string, key crypto.Signer) map[string]string {
	enc := base64.RawURLEncoding.EncodeToString
	switch pub := key.Public().(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": enc(pub.N.Bytes()), "e": enc(big.NewInt(int64(pub.E)).Bytes())}
	case *ecdsa.PublicKey:
		b, _ := pub.Bytes()
		return map[string]string{"kty": "EC", "kid": kid, "crv": "P-256", "x": enc(b[1:33]), "y": enc(b[33:])}
	case ed25519.PublicKey:
		return map[string]string{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": enc(pub)}
	}
	panic("unknown key type")
}

func jwksJSON(keys ...map[string]string) []byte {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// standardJWKS holds the three test keys under kids rsa-1, ec-1, ed-1,
// plus an encryption key that must be skipped.
func standardJWKS(t testing.TB) []byte {
	k := testJWTKeys(t)
	enc := jwkOf("enc-1", k.rsa2)
	enc["use"] = "enc"
	return jwksJSON(jwkOf("rsa-1", k.rsa), jwkOf("ec-1", k.ec), jwkOf("ed-1", k.ed), enc)
}

func signTestJWT(t testing.TB, key crypto.Signer, kid, alg string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(alg), claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validClaims(user string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testIssuer, "aud": []string{testAudience, "other"}, "sub": user,
		"iat": jwtClock.Add(-time.Minute).Unix(), "exp": jwtClock.Add(time.Hour).Unix(),
		"groups": []string{"analysts", "APAC Analysts"}, "region": "apac", "purposes": []string{"analytics"},
		"roles": []string{"analyst", "offline_access"},
	}
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// newTestJWTAuth verifies with standardJWKS from a file, at jwtClock.
func newTestJWTAuth(t testing.TB, mutate func(*server.JWTConfig)) *server.JWTAuth {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, standardJWKS(t), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := server.JWTConfig{Issuer: testIssuer, Audience: testAudience, JWKSFile: path, Now: func() time.Time { return jwtClock }}
	if mutate != nil {
		mutate(&cfg)
	}
	a, err := server.NewJWTAuth(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// bearer is a request carrying tok, as if over TLS.
func bearer(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v1/statement", nil)
	r.TLS = &tls.ConnectionState{}
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// TestJWTAuthRefusedOverHTTP: a valid token on plain HTTP is refused
// unless AllowPlainHTTP says a TLS-terminating proxy is in front.
func TestJWTAuthRefusedOverHTTP(t *testing.T) {
	t.Parallel()
	k := testJWTKeys(t)
	tok := signTestJWT(t, k.ec, "ec-1", "ES256", validClaims("kenji"))
	srv := httptest.NewServer(server.RequireIdentity(newTestJWTAuth(t, nil), echoIdentity))
	t.Cleanup(srv.Close)
	rep := authGet(t, srv.Client(), srv.URL+"/v1/statement", http.Header{"Authorization": {"Bearer " + tok}})
	if rep.status != 401 || !strings.Contains(rep.body, "only over HTTPS") {
		t.Errorf("bearer over HTTP: %d %q, want 401 saying HTTPS", rep.status, rep.body)
	}
	behindProxy := httptest.NewServer(server.RequireIdentity(newTestJWTAuth(t, func(c *server.JWTConfig) { c.AllowPlainHTTP = true }), echoIdentity))
	t.Cleanup(behindProxy.Close)
	if rep := authGet(t, behindProxy.Client(), behindProxy.URL, http.Header{"Authorization": {"Bearer " + tok}}); rep.status != 200 || rep.id.User != "kenji" {
		t.Errorf("bearer over HTTP with AllowPlainHTTP: %d %s", rep.status, rep.body)
	}
}

func TestJWTAuth(t *testing.T) {
	t.Parallel()
	k := testJWTKeys(t)
	a := newTestJWTAuth(t, nil)
	kenji := server.Identity{User: "kenji", Groups: []string{"analysts", "APAC Analysts"}, Region: "apac",
		Purposes: []string{"analytics"}, Roles: []string{"analyst"}, Authenticated: true, Method: "jwt"}

	// alg=none, and HS256 keyed with the RSA public key (algorithm confusion).
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims("kenji")).SignedString(jwt.UnsafeAllowNoneSignatureType)
	pubDER := k.rsa.PublicKey.N.Bytes()
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims("kenji")).SignedString(pubDER)
	good := signTestJWT(t, k.rsa, "rsa-1", "RS256", validClaims("kenji"))
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+testIssuer+`","aud":"meridian","sub":"ops","roles":["admin"],"exp":9999999999}`)) + "." + parts[2]

	for _, tc := range []struct {
		name  string
		token string
		want  server.Identity
		msg   string // for a refusal
	}{
		{"RS256", good, kenji, ""},
		{"ES256", signTestJWT(t, k.ec, "ec-1", "ES256", validClaims("kenji")), kenji, ""},
		{"EdDSA", signTestJWT(t, k.ed, "ed-1", "EdDSA", validClaims("kenji")), kenji, ""},
		{"no kid, one fitting key", signTestJWT(t, k.ec, "", "ES256", validClaims("kenji")), kenji, ""},
		{"admin role, one group as a string", signTestJWT(t, k.rsa, "rsa-1", "RS256", with(validClaims("ops"), "roles", []string{"admin", "admin"}, "groups", "ops", "region", nil, "purposes", nil)),
			server.Identity{User: "ops", Groups: []string{"ops"}, Roles: []string{"admin"}, Authenticated: true, Method: "jwt"}, ""},
		{"expired within leeway", signTestJWT(t, k.rsa, "rsa-1", "RS256", with(validClaims("kenji"), "exp", jwtClock.Add(-10*time.Second).Unix())), kenji, ""},
		{"expired", signTestJWT(t, k.rsa, "rsa-1", "RS256", with(validClaims("kenji"), "exp", jwtClock.Add(-time.Minute).Unix())), server.Identity{}, "has expired"},
		{"not yet valid", signTestJWT(t, k.rsa, "rsa-1", "RS256", with(validClaims("kenji"), "nbf", jwtClock.Add(time.Minute).Unix())), server.Identity{}, "not valid yet"},
		{"issued in the future", signTestJWT(t, k.rsa, "rsa-1", "RS256", with(validClaims("kenji"), "iat", jwtClock.Add(time.Minute).Unix())), server.Identity{}, "not valid yet"},
		{"no exp", signTestJWT(t, k.rsa, "rsa-1", "RS256", with(validClaims("kenji"), "exp", nil)), server.Identity{}, "lacks a required claim"},
		{"wrong issuer", signTestJWT(t, k.rsa, "rsa-1", "RS256", with(validClaims("kenji"), "iss", "https://evil.example")), server.Identity{}, "not issued for this server"},
		{"wrong audience", signTestJWT(t, k.rsa, "rsa-1", "RS256", with(validClaims("kenji"), "aud", "trino")), server.Identity{}, "not issued for this server"},
		{"no audience", signTestJWT(t, k.rsa, "rsa-1", "RS256", with(validClaims("kenji"), "aud", nil)), server.Identity{}, "lacks a required claim"},
		{"alg none", none, server.Identity{}, "does not verify"},
		{"HS256 with the public key", hs, server.Identity{}, "does not verify"},
		{"tampered claims", tampered, server.Identity{}, "does not verify"},
		{"signed by another key, known kid", signTestJWT(t, k.rsa2, "rsa-1", "RS256", validClaims("kenji")), server.Identity{}, "does not verify"},
		{"unknown kid", signTestJWT(t, k.rsa2, "rsa-9", "RS256", validClaims("kenji")), server.Identity{}, "does not verify"},
		{"encryption key refused", signTestJWT(t, k.rsa2, "enc-1", "RS256", validClaims("kenji")), server.Identity{}, "does not verify"},
		{"EdDSA key, ES256 header", signTestJWT(t, k.ec, "ed-1", "ES256", validClaims("kenji")), server.Identity{}, "does not verify"},
		{"no user", signTestJWT(t, k.rsa, "rsa-1", "RS256", with(validClaims("kenji"), "sub", nil)), server.Identity{}, "claim sub is missing"},
		{"bad user", signTestJWT(t, k.rsa, "rsa-1", "RS256", with(validClaims("kenji"), "sub", "ken ji")), server.Identity{}, "has ' '"},
		{"groups not strings", signTestJWT(t, k.rsa, "rsa-1", "RS256", with(validClaims("kenji"), "groups", []int{1})), server.Identity{}, "not a string"},
		{"region not a string", signTestJWT(t, k.rsa, "rsa-1", "RS256", with(validClaims("kenji"), "region", 7)), server.Identity{}, "claim region is not a string"},
		{"garbage", "not.a.jwt", server.Identity{}, "does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := a.Authenticate(bearer(tc.token))
			if tc.msg != "" {
				var ae *server.AuthError
				if !errors.As(err, &ae) || !errors.Is(err, server.ErrBadCredentials) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("Authenticate = %v, want bad credentials saying %q", err, tc.msg)
				}
				if len(ae.Challenges) != 1 || !strings.HasPrefix(ae.Challenges[0], `Bearer realm="Meridian", error="invalid_token"`) {
					t.Errorf("challenges %q", ae.Challenges)
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

func TestJWTAuthCustomClaims(t *testing.T) {
	t.Parallel()
	k := testJWTKeys(t)
	a := newTestJWTAuth(t, func(c *server.JWTConfig) {
		c.UserClaim, c.RolesClaim, c.RegionClaim = "preferred_username", "realm_access.roles", "attrs.home"
		c.Algorithms = []string{"ES256"}
	})
	claims := with(validClaims("uuid-1"), "preferred_username", "dora@example.com",
		"realm_access", map[string]any{"roles": []string{"compliance", "uma_authorization"}},
		"attrs", map[string]any{"home": "eu"}, "region", nil)
	got, err := a.Authenticate(bearer(signTestJWT(t, k.ec, "ec-1", "ES256", claims)))
	if err != nil {
		t.Fatal(err)
	}
	if got.User != "dora@example.com" || got.Region != "eu" || !cmp.Equal(got.Roles, []string{"compliance"}) {
		t.Errorf("identity %+v, want dora@example.com in eu with the compliance role", got)
	}
	// RS256 is not among the algorithms now.
	if _, err := a.Authenticate(bearer(signTestJWT(t, k.rsa, "rsa-1", "RS256", claims))); !errors.Is(err, server.ErrBadCredentials) {
		t.Errorf("RS256 with only ES256 allowed: %v", err)
	}
}

// jwksServer serves a JWKS over HTTP on 127.0.0.1 and counts fetches.
type jwksServer struct {
	*httptest.Server
	body    atomic.Pointer[[]byte]
	status  atomic.Int64
	fetches atomic.Int64
}

func startJWKSServer(t *testing.T, body []byte) *jwksServer {
	s := &jwksServer{}
	s.body.Store(&body)
	s.status.Store(200)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		w.WriteHeader(int(s.status.Load()))
		_, _ = w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

// TestJWTAuthJWKSURL: the key set is fetched once, refetched when a token
// names a new key (rotation) at most once per MinRefreshInterval, and
// refetched when it is older than RefreshInterval.
func TestJWTAuthJWKSURL(t *testing.T) {
	t.Parallel()
	k := testJWTKeys(t)
	js := startJWKSServer(t, jwksJSON(jwkOf("rsa-1", k.rsa)))
	var now atomic.Pointer[time.Time]
	start := jwtClock
	now.Store(&start)
	advance := func(d time.Duration) { n := now.Load().Add(d); now.Store(&n) }
	a, err := server.NewJWTAuth(server.JWTConfig{Issuer: testIssuer, Audience: testAudience, JWKSURL: js.URL + "/jwks",
		MinRefreshInterval: time.Minute, RefreshInterval: time.Hour, Leeway: 5 * time.Minute,
		Now: func() time.Time { return *now.Load() }})
	if err != nil {
		t.Fatal(err)
	}
	step := func(name, tok string, wantOK bool, wantFetches int64) {
		t.Helper()
		_, err := a.Authenticate(bearer(tok))
		if (err == nil) != wantOK {
			t.Errorf("%s: Authenticate = %v, want ok=%v", name, err, wantOK)
		}
		if n := js.fetches.Load(); n != wantFetches {
			t.Errorf("%s: %d fetches, want %d", name, n, wantFetches)
		}
	}
	old := signTestJWT(t, k.rsa, "rsa-1", "RS256", validClaims("kenji"))
	step("first use fetches", old, true, 1)
	step("second use is cached", old, true, 1)

	// The provider rotates to rsa-2, a while later.
	advance(2 * time.Minute)
	js.body.Store(new(jwksJSON(jwkOf("rsa-2", k.rsa2))))
	rotated := signTestJWT(t, k.rsa2, "rsa-2", "RS256", validClaims("kenji"))
	step("new kid refetches", rotated, true, 2)
	step("old kid is gone", old, false, 2) // within MinRefreshInterval: no fetch
	forged := signTestJWT(t, k.rsa, "made-up", "RS256", validClaims("kenji"))
	step("made-up kid does not refetch", forged, false, 2)
	advance(2 * time.Minute)
	step("made-up kid after the interval refetches once", forged, false, 3)
	step("and not again", forged, false, 3)

	advance(2 * time.Hour)
	step("an old key set is refetched", signTestJWT(t, k.rsa2, "rsa-2", "RS256", with(validClaims("kenji"), "exp", now.Load().Add(time.Hour).Unix())), true, 4)
}

// TestJWTAuthJWKSUnavailable: when the keys cannot be fetched, clients get
// 503 (which they retry), not 401, and nothing reaches the handler.
func TestJWTAuthJWKSUnavailable(t *testing.T) {
	t.Parallel()
	k := testJWTKeys(t)
	js := startJWKSServer(t, []byte("oops"))
	js.status.Store(500)
	a, err := server.NewJWTAuth(server.JWTConfig{Issuer: testIssuer, Audience: testAudience, JWKSURL: js.URL,
		Now: func() time.Time { return jwtClock }})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("Refresh = %v, want HTTP 500", err)
	}
	var reached atomic.Bool
	srv := httptest.NewTLSServer(server.RequireIdentity(a, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Store(true) })))
	t.Cleanup(srv.Close)
	tok := signTestJWT(t, k.rsa, "rsa-1", "RS256", validClaims("kenji"))
	for _, path := range []string{"/v1/statement", "/v1/meridian/policies"} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("%s: a 503 carries a credential challenge", path)
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s with the JWKS down: %d, Retry-After %q; want 503 with Retry-After", path, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if reached.Load() {
		t.Error("a request reached the handler without its token verified")
	}
}

func TestJWTConfigValidate(t *testing.T) {
	base := server.JWTConfig{Issuer: testIssuer, Audience: testAudience, JWKSURL: "https://idp.example/jwks"}
	for _, tc := range []struct {
		name   string
		mutate func(*server.JWTConfig)
		want   string
	}{
		{"no issuer", func(c *server.JWTConfig) { c.Issuer = "" }, "issuer is required"},
		{"no audience", func(c *server.JWTConfig) { c.Audience = "" }, "audience is required"},
		{"no jwks", func(c *server.JWTConfig) { c.JWKSURL = "" }, "exactly one"},
		{"both", func(c *server.JWTConfig) { c.JWKSFile = "x" }, "exactly one"},
		{"plain http", func(c *server.JWTConfig) { c.JWKSURL = "http://idp.example/jwks" }, "must be https"},
		{"HS256", func(c *server.JWTConfig) { c.Algorithms = []string{"HS256"} }, "not supported"},
		{"leeway", func(c *server.JWTConfig) { c.Leeway = time.Hour }, "leeway"},
	} {
		cfg := base
		tc.mutate(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate = %v, want %q", tc.name, err, tc.want)
		}
	}
	loop := base
	loop.JWKSURL = "http://127.0.0.1:9/jwks"
	if err := loop.Validate(); err != nil {
		t.Errorf("http on loopback: %v", err)
	}
}

func TestJWKSFileErrors(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	k := testJWTKeys(t)
	enc := jwkOf("e", k.rsa)
	enc["use"] = "enc"
	for _, tc := range []struct {
		name, body, want string
	}{
		{"not json", "{", "not a JWKS"},
		{"small rsa", string(jwksJSON(jwkOf("s", small))), "under 2048 bits"},
		{"only encryption keys", string(jwksJSON(enc)), "no usable signature key"},
		{"bad base64", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"***"}]}`, "not base64url"},
		{"short ed25519", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`, "32 bytes"},
		{"bad ec point", `{"keys":[{"kty":"EC","crv":"P-256","x":"` + strings.Repeat("A", 43) + `","y":"` + strings.Repeat("A", 43) + `"}]}`, "P-256 key"},
	} {
		path := filepath.Join(t.TempDir(), "jwks.json")
		if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := server.NewJWTAuth(server.JWTConfig{Issuer: testIssuer, Audience: testAudience, JWKSFile: path})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: NewJWTAuth = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// BenchmarkJWTAuth: a remembered token (every follow-up of a query) and a
// full signature check per algorithm.
func BenchmarkJWTAuth(b *testing.B) {
	k := testJWTKeys(b)
	cached := newTestJWTAuth(b, nil)
	cold := newTestJWTAuth(b, func(c *server.JWTConfig) { c.CacheSize = 1 })
	for _, tc := range []struct {
		alg, kid string
		key      crypto.Signer
	}{{"RS256", "rsa-1", k.rsa}, {"ES256", "ec-1", k.ec}, {"EdDSA", "ed-1", k.ed}} {
		b.Run("cached-"+tc.alg, func(b *testing.B) {
			benchAuth(b, cached, bearer(signTestJWT(b, tc.key, tc.kid, tc.alg, validClaims("kenji"))))
		})
		b.Run("verify-"+tc.alg, func(b *testing.B) {
			// Two tokens in turn through a cache of one: every check misses.
			rs := []*http.Request{
				bearer(signTestJWT(b, tc.key, tc.kid, tc.alg, validClaims("kenji"))),
				bearer(signTestJWT(b, tc.key, tc.kid, tc.alg, validClaims("sam"))),
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := cold.Authenticate(rs[i%2]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// TestJWTAuthCacheRespectsExpiry: a remembered token stops working at its
// exp (plus leeway) however long the cache TTL.
func TestJWTAuthCacheRespectsExpiry(t *testing.T) {
	t.Parallel()
	k := testJWTKeys(t)
	now := jwtClock
	a := newTestJWTAuth(t, func(c *server.JWTConfig) {
		c.CacheTTL = 10 * time.Minute
		c.Now = func() time.Time { return now }
	})
	tok := signTestJWT(t, k.ec, "ec-1", "ES256", with(validClaims("kenji"), "exp", jwtClock.Add(30*time.Second).Unix()))
	for _, step := range []struct {
		at     time.Duration
		wantOK bool
	}{{0, true}, {20 * time.Second, true}, {50 * time.Second, true}, {61 * time.Second, false}} {
		now = jwtClock.Add(step.at)
		if _, err := a.Authenticate(bearer(tok)); (err == nil) != step.wantOK {
			t.Errorf("at +%v: %v, want ok=%v", step.at, err, step.wantOK)
		}
	}
}
