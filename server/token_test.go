package server_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/server"
)

var (
	tokenKeyA = bytes.Repeat([]byte{0xA1}, 32)
	tokenKeyB = bytes.Repeat([]byte{0xB2}, 32)
	tokenNow  = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
)

func newTestSigner(t testing.TB, keys ...[]byte) *server.Signer {
	t.Helper()
	s, err := server.NewSigner(keys, func() time.Time { return tokenNow })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testRoute() server.Route {
	return server.Route{
		Cluster:  "eu-1",
		Upstream: "/v1/statement/executing/20241030_150409_00000_zhg55/y0f7a3b2c1/1?x=1",
		Expiry:   tokenNow.Add(10 * time.Minute),
		QueryID:  "20241030_150409_00000_zhg55",
		User:     "anna",
	}
}

func TestTokenRoundTrip(t *testing.T) {
	s := newTestSigner(t, tokenKeyA)
	for _, rt := range []server.Route{
		testRoute(),
		{Cluster: "c", Upstream: "/", Expiry: tokenNow.Add(time.Second)},
		{Cluster: strings.Repeat("c", 128), Upstream: "/" + strings.Repeat("u", server.MaxUpstreamBytes-1),
			QueryID: strings.Repeat("q", 128), User: strings.Repeat("u", 128), Expiry: tokenNow.Add(time.Hour)},
	} {
		if err := rt.Check(); err != nil {
			t.Fatalf("Check(%+v) = %v", rt, err)
		}
		tok := s.Sign(rt)
		if len(tok) > server.MaxTokenBytes {
			t.Errorf("token of %d bytes, over MaxTokenBytes", len(tok))
		}
		if strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") != "" {
			t.Errorf("token %q has characters that need escaping in a path", tok)
		}
		got, err := s.Verify(tok)
		if err != nil {
			t.Fatalf("Verify(Sign(%v)) = %v", rt.Cluster, err)
		}
		if diff := cmp.Diff(got, rt); diff != "" {
			t.Errorf("Verify(Sign(route)) mismatch (-got +want):\n%s", diff)
		}
	}
}

// TestTokenRejects: every tampering is ErrTokenForged, an old token is
// ErrTokenExpired, and the two never mix.
func TestTokenRejects(t *testing.T) {
	s := newTestSigner(t, tokenKeyA)
	good := s.Sign(testRoute())
	payload, mac, _ := strings.Cut(good, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)

	// Re-point the token at another cluster, keeping the MAC.
	otherCluster := testRoute()
	otherCluster.Cluster = "us-1"
	repointed, _, _ := strings.Cut(newTestSigner(t, tokenKeyB).Sign(otherCluster), ".")

	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-1] ^= 1
	expired := testRoute()
	expired.Expiry = tokenNow.Add(-time.Second)
	atNow := testRoute()
	atNow.Expiry = tokenNow

	for _, tc := range []struct {
		name, token string
		want        error
	}{
		{"empty", "", server.ErrTokenForged},
		{"no dot", payload + mac, server.ErrTokenForged},
		{"no payload", "." + mac, server.ErrTokenForged},
		{"short mac", payload + "." + mac[:20], server.ErrTokenForged},
		{"mac not base64", payload + "." + strings.Repeat("*", len(mac)), server.ErrTokenForged},
		{"payload not base64", "!!!." + mac, server.ErrTokenForged},
		{"flipped payload bit", base64.RawURLEncoding.EncodeToString(flipped) + "." + mac, server.ErrTokenForged},
		{"other cluster, old mac", repointed + "." + mac, server.ErrTokenForged},
		{"signed with another key", newTestSigner(t, tokenKeyB).Sign(testRoute()), server.ErrTokenForged},
		{"too long", strings.Repeat("A", server.MaxTokenBytes+1) + "." + mac, server.ErrTokenForged},
		{"padded", payload + "=." + mac, server.ErrTokenForged},
		{"expired", s.Sign(expired), server.ErrTokenExpired},
		{"expires now", s.Sign(atNow), server.ErrTokenExpired},
		{"zero expiry", s.Sign(server.Route{Cluster: "eu-1", Upstream: "/"}), server.ErrTokenExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt, err := s.Verify(tc.token)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			other := server.ErrTokenExpired
			if tc.want == server.ErrTokenExpired {
				other = server.ErrTokenForged
			}
			if errors.Is(err, other) {
				t.Errorf("Verify = %v, also matches %v", err, other)
			}
			if rt != (server.Route{}) {
				t.Errorf("Verify returned a route with its error: %+v", rt)
			}
			if !strings.HasPrefix(err.Error(), tc.want.Error()) {
				t.Errorf("message %q does not start with %q", err, tc.want)
			}
		})
	}
}

// TestTokenRotation: the new key signs, both verify, and a replica that
// dropped the old key refuses tokens made with it.
func TestTokenRotation(t *testing.T) {
	old := newTestSigner(t, tokenKeyA)
	rotating := newTestSigner(t, tokenKeyB, tokenKeyA)
	rotated := newTestSigner(t, tokenKeyB)

	oldToken := old.Sign(testRoute())
	newToken := rotating.Sign(testRoute())
	for _, tc := range []struct {
		name   string
		s      *server.Signer
		token  string
		wantOK bool
	}{
		{"rotating verifies old", rotating, oldToken, true},
		{"rotating verifies new", rotating, newToken, true},
		{"old replica refuses new", old, newToken, false},
		{"rotated refuses old", rotated, oldToken, false},
		{"rotated verifies new", rotated, newToken, true},
	} {
		_, err := tc.s.Verify(tc.token)
		if (err == nil) != tc.wantOK {
			t.Errorf("%s: Verify = %v, want ok=%v", tc.name, err, tc.wantOK)
		}
	}
	if rotating.Sign(testRoute()) != rotated.Sign(testRoute()) {
		t.Error("a rotating signer does not sign with its first key")
	}
}

func TestTokenPath(t *testing.T) {
	s := newTestSigner(t, tokenKeyA)
	p := s.Path(testRoute())
	tok, ok := server.TokenFromPath(p)
	if !ok || !strings.HasPrefix(p, "/v1/statement/meridian/") {
		t.Fatalf("TokenFromPath(%q) = %q, %v", p, tok, ok)
	}
	if _, err := s.Verify(tok); err != nil {
		t.Errorf("Verify(token of Path) = %v", err)
	}
	for _, bad := range []string{"/v1/statement/meridian/", "/v1/statement/meridian/a/b", "/v1/statement/executing/x", ""} {
		if _, ok := server.TokenFromPath(bad); ok {
			t.Errorf("TokenFromPath(%q) ok, want not", bad)
		}
	}
}

func TestRouteCheck(t *testing.T) {
	for _, rt := range []server.Route{
		{Upstream: "/"},
		{Cluster: "c", Upstream: "v1/statement"},
		{Cluster: "c", Upstream: "/" + strings.Repeat("u", server.MaxUpstreamBytes)},
		{Cluster: strings.Repeat("c", 129), Upstream: "/"},
		{Cluster: "c", Upstream: "/", User: strings.Repeat("u", 129)},
	} {
		if err := rt.Check(); err == nil {
			t.Errorf("Check(%.40v…) = nil, want an error", rt)
		}
	}
	// What Check refuses for size, Verify refuses too.
	s := newTestSigner(t, tokenKeyA)
	big := server.Route{Cluster: "c", Upstream: "/" + strings.Repeat("u", server.MaxUpstreamBytes), Expiry: tokenNow.Add(time.Hour)}
	if _, err := s.Verify(s.Sign(big)); !errors.Is(err, server.ErrTokenForged) {
		t.Errorf("Verify(oversized route) = %v, want ErrTokenForged", err)
	}
}

func TestParseKeys(t *testing.T) {
	k32 := bytes.Repeat([]byte{7}, 32)
	hexK := strings.Repeat("07", 32)
	b64K := base64.StdEncoding.EncodeToString(k32)
	for _, tc := range []struct {
		name    string
		in      []string
		want    [][]byte
		wantErr string
	}{
		{"hex", []string{hexK}, [][]byte{k32}, ""},
		{"hex prefix", []string{"hex:" + hexK}, [][]byte{k32}, ""},
		{"base64", []string{b64K}, [][]byte{k32}, ""},
		{"base64 prefix", []string{"base64:" + b64K}, [][]byte{k32}, ""},
		{"raw url base64", []string{base64.RawURLEncoding.EncodeToString(k32)}, [][]byte{k32}, ""},
		{"two keys", []string{hexK, base64.StdEncoding.EncodeToString(tokenKeyA)}, [][]byte{k32, tokenKeyA}, ""},
		{"none", nil, nil, "none configured"},
		{"short", []string{strings.Repeat("07", 31)}, nil, "31 bytes, need at least 32"},
		{"short base64", []string{base64.StdEncoding.EncodeToString(k32[:16])}, nil, "16 bytes"},
		{"garbage", []string{"not a key!"}, nil, "neither hex nor base64"},
		{"bad hex", []string{"hex:zz"}, nil, "not valid hex"},
		{"repeat", []string{hexK, b64K}, nil, "repeats key 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := server.ParseKeys(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseKeys = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("ParseKeys mismatch (-got +want):\n%s", diff)
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	a, b := server.GenerateKey(), server.GenerateKey()
	if a == b {
		t.Fatal("GenerateKey returned the same key twice")
	}
	keys, err := server.ParseKeys([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys[0]) != 32 {
		t.Errorf("generated key of %d bytes, want 32", len(keys[0]))
	}
	if _, err := server.NewSigner(keys, nil); err != nil {
		t.Errorf("NewSigner(generated keys) = %v", err)
	}
}

func TestNewSignerRefusesShortKeys(t *testing.T) {
	for _, keys := range [][][]byte{nil, {make([]byte, 31)}, {tokenKeyA, make([]byte, 8)}} {
		if _, err := server.NewSigner(keys, nil); err == nil {
			t.Errorf("NewSigner(%d keys) accepted a bad key set", len(keys))
		}
	}
}

func FuzzToken(f *testing.F) {
	s := newTestSigner(f, tokenKeyA)
	f.Add(s.Sign(testRoute()))
	f.Add("")
	f.Add(".")
	f.Add("AQ.AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		rt, err := s.Verify(tok)
		if err != nil {
			if !errors.Is(err, server.ErrTokenForged) && !errors.Is(err, server.ErrTokenExpired) {
				t.Fatalf("Verify(%q) = untyped error %v", tok, err)
			}
			return
		}
		// Whatever verifies signs back to itself.
		if again := s.Sign(rt); again != tok {
			t.Fatalf("Verify(%q) ok but Sign(route) = %q", tok, again)
		}
	})
}

func BenchmarkTokenSignVerify(b *testing.B) {
	s := newTestSigner(b, tokenKeyA, tokenKeyB)
	rt := testRoute()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(s.Sign(rt)); err != nil {
			b.Fatal(err)
		}
	}
}
