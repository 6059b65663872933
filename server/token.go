package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"
)

// Routing tokens make Meridian replicas stateless. The proxy rewrites
// every follow-up URI a cluster hands out (nextUri, partialCancelUri, and
// spooled uri/ackUri when spooling is let through) into
//
//	https://meridian.example/v1/statement/meridian/{token}
//
// where the token names the cluster, the upstream path and query to call
// there, the query id, optionally the user, and an expiry, all under an
// HMAC-SHA256. Any replica holding the key routes the follow-up without
// asking anyone; a token that was forged, altered, or signed with a key
// no longer configured is refused before anything reaches a cluster.
//
// The token is one path segment: base64url(payload) "." base64url(mac),
// characters [A-Za-z0-9_-.] only, so it needs no escaping. The method
// (GET, HEAD, DELETE) is the client's; the token says where, not what.
//
// Payload, version 1 (binary, big-endian):
//
//	0x01 | expiry unix seconds (8 bytes) |
//	uvarint len, cluster | uvarint len, query id | uvarint len, user | uvarint len, upstream
//
// Key rotation: configure the new key first and the old one second on
// every replica; tokens signed with either verify. Once the old tokens
// have expired (their TTL), drop the old key.

// RoutePrefix is the path under which Meridian serves follow-ups:
// RoutePrefix + token.
const RoutePrefix = "/v1/statement/meridian/"

// Limits on routing tokens and their fields. A Route over them yields a
// token that Verify refuses; Route.Check says so before signing.
const (
	// MaxTokenBytes bounds a token Verify will look at.
	MaxTokenBytes = 6 << 10
	// MaxUpstreamBytes bounds Route.Upstream.
	MaxUpstreamBytes = 4 << 10
	// maxRouteFieldBytes bounds Cluster, QueryID and User.
	maxRouteFieldBytes = 128
	// MinKeyBytes is the shortest routing key accepted.
	MinKeyBytes = 32
	// maxKeyBytes is the longest, and maxKeys the most at once.
	maxKeyBytes = 1024
	maxKeys     = 8
	tokenV1     = 1
)

// Reasons Verify refuses a token; the proxy answers the client with
// their text.
var (
	// ErrTokenForged: the token is malformed, too long, or its MAC does
	// not match any configured key.
	ErrTokenForged = errors.New("forged or tampered routing token")
	// ErrTokenExpired: the token verified but its expiry has passed.
	ErrTokenExpired = errors.New("expired routing token")
)

// Route is what a routing token carries.
type Route struct {
	// Cluster is the id of the cluster that runs the query.
	Cluster string
	// Upstream is the path and query to call on that cluster, e.g.
	// "/v1/statement/executing/20241030_150409_00000_zhg55/y0f7…/1"; the
	// cluster's base URL comes from the registry, never from the token.
	Upstream string
	// Expiry is when the token stops working; it is kept to the second.
	// A zero Expiry makes a token that is already expired.
	Expiry time.Time
	// QueryID is the query's id, for logs and the decision record.
	QueryID string
	// User, when set, is who started the query; the proxy may require a
	// follow-up's authenticated user to match (clients resend their
	// credentials), so that a token is no use to anyone else.
	User string
}

// Check reports a field over the limits, which would make a token Verify
// refuses.
func (rt Route) Check() error {
	switch {
	case rt.Cluster == "":
		return errors.New("route: no cluster")
	case len(rt.Cluster) > maxRouteFieldBytes || len(rt.QueryID) > maxRouteFieldBytes || len(rt.User) > maxRouteFieldBytes:
		return fmt.Errorf("route: cluster, query id and user are limited to %d bytes", maxRouteFieldBytes)
	case len(rt.Upstream) > MaxUpstreamBytes:
		return fmt.Errorf("route: upstream is over %d bytes", MaxUpstreamBytes)
	case !strings.HasPrefix(rt.Upstream, "/"):
		return errors.New("route: upstream must be a path starting with /")
	}
	return nil
}

// Signer signs and verifies routing tokens. It is safe for concurrent
// use.
type Signer struct {
	keys []*macKey
	now  func() time.Time
}

// macKey pools HMAC states for one key: setting one up costs more than
// the MAC of a short payload.
type macKey struct {
	pool sync.Pool
}

func (k *macKey) sum(dst, payload []byte) []byte {
	h := k.pool.Get().(hash.Hash)
	h.Reset()
	h.Write(payload)
	dst = h.Sum(dst)
	k.pool.Put(h)
	return dst
}

// NewSigner returns a Signer that signs with keys[0] and verifies with any
// of keys (rotation). Keys are at least MinKeyBytes of random bytes (see
// ParseKeys, GenerateKey). now is the clock; nil means time.Now.
func NewSigner(keys [][]byte, now func() time.Time) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("routing tokens: no key configured; generate one with `openssl rand -base64 32`")
	}
	if len(keys) > maxKeys {
		return nil, fmt.Errorf("routing tokens: %d keys, at most %d", len(keys), maxKeys)
	}
	if now == nil {
		now = time.Now
	}
	s := &Signer{now: now}
	for i, k := range keys {
		if len(k) < MinKeyBytes || len(k) > maxKeyBytes {
			return nil, fmt.Errorf("routing tokens: key %d is %d bytes; keys are %d to %d bytes", i+1, len(k), MinKeyBytes, maxKeyBytes)
		}
		key := append([]byte(nil), k...)
		s.keys = append(s.keys, &macKey{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}})
	}
	return s, nil
}

var tokenB64 = base64.RawURLEncoding.Strict()

// Sign returns the token for rt.
func (s *Signer) Sign(rt Route) string {
	payload := make([]byte, 0, 9+4*binary.MaxVarintLen16+len(rt.Cluster)+len(rt.QueryID)+len(rt.User)+len(rt.Upstream))
	payload = append(payload, tokenV1)
	payload = binary.BigEndian.AppendUint64(payload, uint64(rt.Expiry.Unix()))
	for _, f := range []string{rt.Cluster, rt.QueryID, rt.User, rt.Upstream} {
		payload = binary.AppendUvarint(payload, uint64(len(f)))
		payload = append(payload, f...)
	}
	var macBuf [sha256.Size]byte
	mac := s.keys[0].sum(macBuf[:0], payload)
	out := make([]byte, tokenB64.EncodedLen(len(payload))+1+tokenB64.EncodedLen(len(mac)))
	tokenB64.Encode(out, payload)
	n := tokenB64.EncodedLen(len(payload))
	out[n] = '.'
	tokenB64.Encode(out[n+1:], mac)
	return string(out)
}

// Path returns RoutePrefix + the token for rt: the path the proxy puts in
// a rewritten URI.
func (s *Signer) Path(rt Route) string { return RoutePrefix + s.Sign(rt) }

// TokenFromPath returns the token of a path under RoutePrefix.
func TokenFromPath(path string) (string, bool) {
	tok, ok := strings.CutPrefix(path, RoutePrefix)
	if !ok || tok == "" || strings.Contains(tok, "/") {
		return "", false
	}
	return tok, true
}

// Verify checks a token and returns its route. It refuses with an error
// wrapping ErrTokenForged or ErrTokenExpired; the expiry is looked at
// only once the MAC has matched.
func (s *Signer) Verify(token string) (Route, error) {
	forged := func(why string) (Route, error) {
		return Route{}, fmt.Errorf("%w: %s", ErrTokenForged, why)
	}
	if len(token) > MaxTokenBytes {
		return forged("too long")
	}
	enc, encMAC, ok := strings.Cut(token, ".")
	if !ok || enc == "" || tokenB64.DecodedLen(len(encMAC)) != sha256.Size {
		return forged("malformed")
	}
	payload := make([]byte, tokenB64.DecodedLen(len(enc)))
	if _, err := tokenB64.Decode(payload, []byte(enc)); err != nil {
		return forged("malformed")
	}
	var got, want [sha256.Size]byte
	if _, err := tokenB64.Decode(got[:], []byte(encMAC)); err != nil {
		return forged("malformed")
	}
	match := false
	for _, k := range s.keys {
		// Every key is tried, so that timing does not say which matched.
		if hmac.Equal(k.sum(want[:0], payload), got[:]) {
			match = true
		}
	}
	if !match {
		return forged("signature does not match")
	}
	rt, err := decodeRoute(payload)
	if err != nil {
		return forged(err.Error())
	}
	if !s.now().Before(rt.Expiry) {
		return Route{}, fmt.Errorf("%w: it expired at %s; run the query again", ErrTokenExpired, rt.Expiry.UTC().Format(time.RFC3339))
	}
	return rt, nil
}

// decodeRoute parses a payload whose MAC has matched.
func decodeRoute(p []byte) (Route, error) {
	if len(p) < 9 || p[0] != tokenV1 {
		return Route{}, errors.New("unknown version")
	}
	rt := Route{Expiry: time.Unix(int64(binary.BigEndian.Uint64(p[1:9])), 0)}
	p = p[9:]
	for i, f := range []*string{&rt.Cluster, &rt.QueryID, &rt.User, &rt.Upstream} {
		n, w := binary.Uvarint(p)
		limit := uint64(maxRouteFieldBytes)
		if i == 3 {
			limit = MaxUpstreamBytes
		}
		if w <= 0 || n > limit || n > uint64(len(p)-w) {
			return Route{}, errors.New("bad field")
		}
		*f = string(p[w : w+int(n)])
		p = p[w+int(n):]
	}
	if len(p) != 0 || rt.Cluster == "" {
		return Route{}, errors.New("bad payload")
	}
	return rt, nil
}

// ParseKeys decodes routing keys from configuration: each "hex:…",
// "base64:…", or bare (hex when it is all hex digits, else base64, with
// or without padding, standard or URL alphabet). Each must decode to at
// least MinKeyBytes; the first signs, all verify.
func ParseKeys(encoded []string) ([][]byte, error) {
	if len(encoded) == 0 {
		return nil, errors.New("routing keys: none configured; generate one with `openssl rand -base64 32`")
	}
	if len(encoded) > maxKeys {
		return nil, fmt.Errorf("routing keys: %d keys, at most %d", len(encoded), maxKeys)
	}
	keys := make([][]byte, 0, len(encoded))
	for i, e := range encoded {
		k, err := decodeKey(strings.TrimSpace(e))
		if err != nil {
			return nil, fmt.Errorf("routing key %d: %w", i+1, err)
		}
		if len(k) < MinKeyBytes {
			return nil, fmt.Errorf("routing key %d: %d bytes, need at least %d random bytes (e.g. openssl rand -base64 32)", i+1, len(k), MinKeyBytes)
		}
		if len(k) > maxKeyBytes {
			return nil, fmt.Errorf("routing key %d: over %d bytes", i+1, maxKeyBytes)
		}
		for j, prev := range keys {
			if hmac.Equal(prev, k) {
				return nil, fmt.Errorf("routing key %d repeats key %d", i+1, j+1)
			}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func decodeKey(s string) ([]byte, error) {
	if h, ok := strings.CutPrefix(s, "hex:"); ok {
		k, err := hex.DecodeString(h)
		if err != nil {
			return nil, errors.New("not valid hex")
		}
		return k, nil
	}
	explicit := false
	if b, ok := strings.CutPrefix(s, "base64:"); ok {
		s, explicit = b, true
	}
	if !explicit && len(s)%2 == 0 {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.Strict().DecodeString(s); err == nil {
			return k, nil
		}
	}
	return nil, errors.New(`neither hex nor base64 (prefix it with "hex:" or "base64:")`)
}

// GenerateKey returns a new random 32-byte routing key, encoded for the
// configuration ("base64:…").
func GenerateKey() string {
	var k [MinKeyBytes]byte
	_, _ = rand.Read(k[:]) // crypto/rand.Read never fails; it panics instead
	return "base64:" + base64.StdEncoding.EncodeToString(k[:])
}
