package server

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// BasicConfig tunes BasicAuth. The zero value is usable.
type BasicConfig struct {
	// CacheTTL is how long a verified user name and password are
	// remembered, so that a query's follow-up requests, which all resend
	// Authorization, do not each pay for a bcrypt comparison. SetUsers
	// forgets them all, so a removed user or changed password takes
	// effect at once. Default 2m, at most 15m.
	CacheTTL time.Duration
	// CacheSize bounds the remembered credentials. Default 10,000.
	CacheSize int
	// MaxConcurrent bounds the bcrypt comparisons running at once; more
	// wait for a slot as long as their request lives. It keeps a flood of
	// wrong passwords from taking every core. Default 2 × GOMAXPROCS.
	MaxConcurrent int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c BasicConfig) withDefaults() BasicConfig {
	if c.CacheTTL == 0 {
		c.CacheTTL = 2 * time.Minute
	}
	if c.CacheSize == 0 {
		c.CacheSize = 10_000
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = 2 * runtime.GOMAXPROCS(0)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports a setting out of range.
func (c BasicConfig) Validate() error {
	switch {
	case c.CacheTTL < 0 || c.CacheTTL > 15*time.Minute:
		return fmt.Errorf("basic auth: cache TTL %v is outside 0..15m", c.CacheTTL)
	case c.CacheSize < 0 || c.CacheSize > 1_000_000:
		return fmt.Errorf("basic auth: cache size %d is outside 0..1000000", c.CacheSize)
	case c.MaxConcurrent < 0:
		return fmt.Errorf("basic auth: max concurrent %d is negative", c.MaxConcurrent)
	}
	return nil
}

// maxAuthorizationBytes bounds the Authorization header an authenticator
// looks at; a JWT with many groups fits easily.
const maxAuthorizationBytes = 16 << 10

// BasicAuth authenticates HTTP Basic user names and passwords against a
// users file, and only over TLS.
type BasicAuth struct {
	cfg   BasicConfig
	state atomic.Pointer[basicState]
	slots chan struct{}
	group singleflight.Group
}

var _ Authenticator = (*BasicAuth)(nil)

// basicState is one users file and the credentials verified against it;
// SetUsers replaces both at once.
type basicState struct {
	users *Users
	cache *authCache
}

// NewBasicAuth returns a BasicAuth over users.
func NewBasicAuth(users *Users, cfg BasicConfig) (*BasicAuth, error) {
	if users == nil {
		return nil, errors.New("basic auth: no users file")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	b := &BasicAuth{cfg: cfg, slots: make(chan struct{}, cfg.MaxConcurrent)}
	b.SetUsers(users)
	return b, nil
}

// SetUsers replaces the users file, forgetting every remembered
// credential.
func (b *BasicAuth) SetUsers(users *Users) {
	if users == nil {
		panic("server: BasicAuth.SetUsers(nil)")
	}
	b.state.Store(&basicState{users: users, cache: newAuthCache(b.cfg.CacheSize)})
}

// Messages a client sees; they never say whether the user exists.
const (
	msgPasswordOverHTTP = "Meridian accepts passwords only over HTTPS: connect with https:// to its TLS port. " +
		"(For local development only, a server started with --insecure-trust-user-header takes the user name without a password.)"
	msgBadPassword = "invalid user name or password"
)

// Authenticate checks the request's Basic credentials.
func (b *BasicAuth) Authenticate(r *http.Request) (Identity, error) {
	refuse := func(err error, msg string) (Identity, error) {
		return Identity{}, &AuthError{Msg: msg, Challenges: []string{basicChallenge}, Err: err}
	}
	header := r.Header.Get("Authorization")
	if header == "" {
		return refuse(ErrNoCredentials, "authentication required: send a user name and password (HTTP Basic over HTTPS)")
	}
	if len(header) > maxAuthorizationBytes {
		return refuse(ErrBadCredentials, "the Authorization header is too large")
	}
	name, password, ok := r.BasicAuth()
	if !ok {
		return refuse(ErrNoCredentials, "this server accepts a user name and password (HTTP Basic); the Authorization header holds something else")
	}
	if r.TLS == nil {
		return refuse(ErrPasswordOverHTTP, msgPasswordOverHTTP)
	}
	if checkUserName(name) != nil || password == "" || len(password) > maxPasswordBytes {
		return refuse(ErrBadCredentials, msgBadPassword)
	}

	st := b.state.Load()
	key := credentialKey(name, password)
	now := b.cfg.Now()
	if id, hit := st.cache.get(key, now); hit {
		return id, nil
	}

	// Identical credentials arriving together (a client's burst of
	// queries) share one comparison.
	v, err, _ := b.group.Do(string(key[:]), func() (any, error) {
		select {
		case b.slots <- struct{}{}:
		case <-r.Context().Done():
			return nil, fmt.Errorf("%w: waiting for a password check: %w", ErrAuthUnavailable, r.Context().Err())
		}
		defer func() { <-b.slots }()
		u, ok := st.users.verify(name, password)
		if !ok {
			return nil, ErrBadCredentials
		}
		return u, nil
	})
	switch {
	case errors.Is(err, ErrAuthUnavailable):
		return refuse(err, "authentication is busy; retry")
	case err != nil:
		return refuse(err, msgBadPassword)
	}
	id := sharedIdentity(v.(*User).Identity(MethodPassword))
	st.cache.put(key, id, now.Add(b.cfg.CacheTTL), now)
	return id, nil
}

// credentialKey is what the cache is keyed by: never the password itself.
func credentialKey(name, password string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(password))
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// authScheme is the scheme of the request's Authorization header,
// lower-cased, or "" without one.
func authScheme(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, _, _ := strings.Cut(h, " ")
	return strings.ToLower(scheme)
}
