package server

import (
	"crypto/tls"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func basicTestUsers(t *testing.T, costs ...int) *Users {
	t.Helper()
	var b strings.Builder
	b.WriteString("users:\n")
	for i, c := range costs {
		h, err := HashPassword(fmt.Sprintf("pw%d", i), c)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  - {name: u%d, password_hash: %q}\n", i, h)
	}
	us, err := ParseUsers([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return us
}

// TestDummyHashMatchesCost: an unknown user is compared against a hash of
// the file's highest cost, so it takes as long as a real user's check.
func TestDummyHashMatchesCost(t *testing.T) {
	us := basicTestUsers(t, 4, 6, 5)
	cost, err := bcrypt.Cost(us.dummy)
	if err != nil || cost != 6 {
		t.Errorf("dummy hash cost %d (%v), want 6", cost, err)
	}
	if u, ok := us.verify("nobody", "pw0"); ok || u != nil {
		t.Errorf("verify(nobody) = %v, %v", u, ok)
	}
	if _, ok := us.verify("u1", "pw1"); !ok {
		t.Error("verify(u1, pw1) failed")
	}
	if _, ok := us.verify("u1", "pw0"); ok {
		t.Error("verify(u1, pw0) succeeded")
	}
}

// TestBasicCache: a success is remembered under a hash of the credentials
// until the TTL, a failure never; the cache stays within its size.
func TestBasicCache(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	b, err := NewBasicAuth(basicTestUsers(t, 4, 4, 4), BasicConfig{CacheTTL: time.Minute, CacheSize: 2, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	try := func(user, pw string) error {
		r := httptest.NewRequest("GET", "/v1/statement", nil)
		r.TLS = &tls.ConnectionState{}
		r.SetBasicAuth(user, pw)
		_, err := b.Authenticate(r)
		return err
	}
	entries := func() int { return b.state.Load().cache.len() }
	if err := try("u0", "wrong"); err == nil || entries() != 0 {
		t.Fatalf("wrong password: %v, %d cached", err, entries())
	}
	if err := try("u0", "pw0"); err != nil || entries() != 1 {
		t.Fatalf("right password: %v, %d cached", err, entries())
	}
	st := b.state.Load()
	e := st.cache.m[credentialKey("u0", "pw0")]
	if !e.expires.Equal(now.Add(time.Minute)) || e.id.User != "u0" {
		t.Errorf("cache entry %+v", e)
	}
	for k := range st.cache.m {
		if strings.Contains(string(k[:]), "pw0") {
			t.Error("the cache key holds the password")
		}
	}
	// A hit does not extend the entry; past the TTL it is checked again.
	now = now.Add(30 * time.Second)
	if err := try("u0", "pw0"); err != nil || !st.cache.m[credentialKey("u0", "pw0")].expires.Equal(e.expires) {
		t.Errorf("hit: %v, entry %+v", err, st.cache.m[credentialKey("u0", "pw0")])
	}
	now = now.Add(time.Minute)
	if err := try("u0", "pw0"); err != nil || !st.cache.m[credentialKey("u0", "pw0")].expires.Equal(now.Add(time.Minute)) {
		t.Errorf("after TTL: %v, entry %+v", err, st.cache.m[credentialKey("u0", "pw0")])
	}
	// Size 2: a third user evicts, never grows past it.
	for _, u := range []string{"u1", "u2"} {
		if err := try(u, "pw"+u[1:]); err != nil {
			t.Fatal(err)
		}
		if n := entries(); n > 2 {
			t.Errorf("%d entries, over the size of 2", n)
		}
	}
}
