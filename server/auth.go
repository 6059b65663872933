package server

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"
)

// MultiAuth picks an Authenticator by the request's Authorization scheme,
// so one listener can take passwords and bearer tokens:
//
//	Authorization: Basic …   → Basic
//	Authorization: Bearer …  → Bearer
//	no Authorization         → Header (development mode), if set
//
// A nil field refuses its kind of credential. The 401 of a request with
// no credentials carries a challenge for every configured scheme.
type MultiAuth struct {
	Basic  Authenticator
	Bearer Authenticator
	Header Authenticator
}

var _ Authenticator = MultiAuth{}

// Authenticate dispatches r.
func (m MultiAuth) Authenticate(r *http.Request) (Identity, error) {
	var a Authenticator
	switch authScheme(r) {
	case "basic":
		a = m.Basic
		if a == nil && m.Header != nil {
			a = m.Header // it explains why a password is refused
		}
	case "bearer":
		a = m.Bearer
	case "":
		a = m.Header
	}
	if a != nil {
		id, err := a.Authenticate(r)
		var ae *AuthError
		if errors.As(err, &ae) && errors.Is(ae.Err, ErrNoCredentials) {
			ae.Challenges = m.challenges()
		}
		return id, err
	}
	return Identity{}, &AuthError{
		Msg:        "authentication required: " + m.accepts(),
		Challenges: m.challenges(),
		Err:        ErrNoCredentials,
	}
}

func (m MultiAuth) challenges() []string {
	var cs []string
	if m.Basic != nil || m.Header != nil {
		cs = append(cs, basicChallenge)
	}
	if m.Bearer != nil {
		cs = append(cs, bearerChallenge)
	}
	return cs
}

func (m MultiAuth) accepts() string {
	switch {
	case m.Basic != nil && m.Bearer != nil:
		return "send a user name and password (HTTP Basic over HTTPS) or a bearer token"
	case m.Basic != nil:
		return "send a user name and password (HTTP Basic over HTTPS)"
	case m.Bearer != nil:
		return "send a bearer token (Authorization: Bearer)"
	case m.Header != nil:
		return "set X-Trino-User"
	}
	return "this server has no authentication configured"
}

// authCache remembers verified credentials, keyed by a SHA-256 of them
// (never the secret itself), each until its expiry. It holds at most size
// entries: when full, expired ones go first, else arbitrary ones.
type authCache struct {
	size int
	mu   sync.RWMutex
	m    map[[sha256.Size]byte]authEntry
}

type authEntry struct {
	id      Identity
	expires time.Time
}

func newAuthCache(size int) *authCache {
	return &authCache{size: size, m: make(map[[sha256.Size]byte]authEntry)}
}

func (c *authCache) get(key [sha256.Size]byte, now time.Time) (Identity, bool) {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return Identity{}, false
	}
	return e.id, true
}

func (c *authCache) put(key [sha256.Size]byte, id Identity, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.size {
		for k, old := range c.m {
			if !now.Before(old.expires) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.size {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = authEntry{id: id, expires: expires}
}

func (c *authCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// sharedIdentity readies an identity to be handed to every cache hit:
// with clipped slices, an append by a caller copies instead of writing
// into the cached one.
func sharedIdentity(id Identity) Identity {
	id.Groups, id.Purposes, id.Roles = slices.Clip(id.Groups), slices.Clip(id.Purposes), slices.Clip(id.Roles)
	return id
}
