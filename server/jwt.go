package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"

	"github.com/meridian-lake/meridian/internal/cfgfile"
)

// JWTConfig configures JWTAuth, the production identity source: bearer
// tokens issued by an OIDC provider, verified with its published keys.
type JWTConfig struct {
	// Issuer must equal the token's iss claim. Required.
	Issuer string
	// Audience must be among the token's aud claim. Required.
	Audience string
	// JWKSFile is a JSON Web Key Set on disk. Exactly one of JWKSFile and
	// JWKSURL is required.
	JWKSFile string
	// JWKSURL is where the provider publishes its keys (its jwks_uri).
	// It must be https, except on a loopback host. The set is fetched on
	// first use, refetched after RefreshInterval, and refetched early
	// when a token names a key it does not hold (the provider rotated),
	// at most once per MinRefreshInterval.
	JWKSURL string
	// Algorithms the tokens may be signed with, of RS256, ES256 and
	// EdDSA. Default all three.
	Algorithms []string
	// Leeway allowed on exp, nbf and iat for clock skew. Default 30s, at
	// most 5m.
	Leeway time.Duration
	// UserClaim names the claim holding the user name. Default "sub";
	// often "preferred_username" or "email". A dotted name
	// ("realm_access.roles") walks into nested objects.
	UserClaim string
	// GroupsClaim names the groups claim (a list, or one string).
	// Default "groups".
	GroupsClaim string
	// RegionClaim names the home region claim. Default "region".
	RegionClaim string
	// PurposesClaim names the permitted purposes claim. Default
	// "purposes".
	PurposesClaim string
	// RolesClaim names the claim holding Meridian roles; values other
	// than analyst, compliance and admin are ignored. Default "roles".
	RolesClaim string
	// FetchTimeout bounds one JWKS fetch. Default 5s.
	FetchTimeout time.Duration
	// RefreshInterval is how old a fetched JWKS may get. Default 1h.
	RefreshInterval time.Duration
	// MinRefreshInterval spaces refetches caused by unknown key ids, so
	// that tokens with made-up ids cannot hammer the provider. Default
	// 30s.
	MinRefreshInterval time.Duration
	// CacheTTL is how long a verified token is remembered, so that a
	// query's follow-ups (which resend it) skip the signature check; never
	// past the token's exp. A key dropped from the JWKS stops working for
	// tokens already seen after at most this long. Default 1m, at most
	// 10m.
	CacheTTL time.Duration
	// CacheSize bounds the remembered tokens. Default 10,000.
	CacheSize int
	// AllowPlainHTTP accepts tokens on plain HTTP connections. A token is
	// a credential a listener can replay until it expires, so by default
	// it is accepted only over TLS; set this only when a TLS-terminating
	// proxy on a trusted network sits in front of Meridian.
	AllowPlainHTTP bool
	// HTTPClient fetches JWKSURL; nil means a client without redirects.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Limits on what a JWKS source and a token may hold.
const (
	maxJWKSBytes   = 1 << 20
	maxJWKSKeys    = 100
	maxClaimValues = 256
	maxClaimBytes  = 256
)

var jwtAlgorithms = []string{"RS256", "ES256", "EdDSA"}

func (c JWTConfig) withDefaults() JWTConfig {
	if len(c.Algorithms) == 0 {
		c.Algorithms = jwtAlgorithms
	}
	if c.Leeway == 0 {
		c.Leeway = 30 * time.Second
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.UserClaim, "sub")
	def(&c.GroupsClaim, "groups")
	def(&c.RegionClaim, "region")
	def(&c.PurposesClaim, "purposes")
	def(&c.RolesClaim, "roles")
	if c.FetchTimeout == 0 {
		c.FetchTimeout = 5 * time.Second
	}
	if c.RefreshInterval == 0 {
		c.RefreshInterval = time.Hour
	}
	if c.MinRefreshInterval == 0 {
		c.MinRefreshInterval = 30 * time.Second
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = time.Minute
	}
	if c.CacheSize == 0 {
		c.CacheSize = 10_000
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports what is missing or out of range.
func (c JWTConfig) Validate() error {
	switch {
	case c.Issuer == "":
		return errors.New("jwt: issuer is required")
	case c.Audience == "":
		return errors.New("jwt: audience is required")
	case (c.JWKSFile == "") == (c.JWKSURL == ""):
		return errors.New("jwt: set exactly one of a JWKS file and a JWKS URL")
	case c.Leeway < 0 || c.Leeway > 5*time.Minute:
		return fmt.Errorf("jwt: leeway %v is outside 0..5m", c.Leeway)
	case c.FetchTimeout < 0 || c.RefreshInterval < 0 || c.MinRefreshInterval < 0:
		return errors.New("jwt: negative interval")
	case c.CacheTTL < 0 || c.CacheTTL > 10*time.Minute:
		return fmt.Errorf("jwt: cache TTL %v is outside 0..10m", c.CacheTTL)
	case c.CacheSize < 0 || c.CacheSize > 1_000_000:
		return fmt.Errorf("jwt: cache size %d is outside 0..1000000", c.CacheSize)
	}
	for _, a := range c.Algorithms {
		if !slices.Contains(jwtAlgorithms, a) {
			return fmt.Errorf("jwt: algorithm %q is not supported; use %s", a, strings.Join(jwtAlgorithms, ", "))
		}
	}
	if c.JWKSURL != "" {
		u, err := url.Parse(c.JWKSURL)
		if err != nil {
			return fmt.Errorf("jwt: JWKS URL: %w", err)
		}
		if u.Scheme != "https" && (u.Scheme != "http" || !loopbackHost(u.Hostname())) {
			return fmt.Errorf("jwt: JWKS URL %s must be https (plain http only on a loopback host)", c.JWKSURL)
		}
	}
	return nil
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// JWTAuth authenticates bearer tokens.
type JWTAuth struct {
	cfg    JWTConfig
	parser *jwt.Parser
	keys   atomic.Pointer[jwkSet]
	group  singleflight.Group
	cache  *authCache

	mu        sync.Mutex
	lastFetch time.Time // last attempt, for MinRefreshInterval
}

var _ Authenticator = (*JWTAuth)(nil)

// jwkSet is a parsed key set.
type jwkSet struct {
	keys    []jwkKey
	fetched time.Time
}

type jwkKey struct {
	kid string
	alg string // the JWK's alg, or "" when it does not say
	key any    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// NewJWTAuth returns a JWTAuth. A JWKS file is read now; a JWKS URL is
// fetched on first use (call Refresh to fetch it at start-up).
func NewJWTAuth(cfg JWTConfig) (*JWTAuth, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	a := &JWTAuth{
		cfg:   cfg,
		cache: newAuthCache(cfg.CacheSize),
		parser: jwt.NewParser(
			jwt.WithValidMethods(cfg.Algorithms),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithLeeway(cfg.Leeway),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(cfg.Now),
		),
	}
	if cfg.JWKSFile != "" {
		data, err := cfgfile.Read(cfg.JWKSFile, maxJWKSBytes)
		if err != nil {
			return nil, fmt.Errorf("jwt: JWKS file: %w", err)
		}
		set, err := parseJWKS(data)
		if err != nil {
			return nil, fmt.Errorf("jwt: JWKS file %s: %w", cfg.JWKSFile, err)
		}
		set.fetched = cfg.Now()
		a.keys.Store(set)
	}
	return a, nil
}

// Refresh fetches the JWKS URL now (nothing to do for a file).
func (a *JWTAuth) Refresh(ctx context.Context) error {
	if a.cfg.JWKSURL == "" {
		return nil
	}
	a.mu.Lock()
	a.lastFetch = a.cfg.Now()
	a.mu.Unlock()
	_, err := a.fetch(ctx)
	return err
}

// fetch gets the JWKS, collapsing concurrent calls into one.
func (a *JWTAuth) fetch(ctx context.Context) (*jwkSet, error) {
	v, err, _ := a.group.Do("jwks", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.FetchTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.cfg.JWKSURL, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := a.cfg.HTTPClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("fetch JWKS: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("fetch JWKS %s: HTTP %d", a.cfg.JWKSURL, resp.StatusCode)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
		if err != nil {
			return nil, fmt.Errorf("fetch JWKS: %w", err)
		}
		if len(data) > maxJWKSBytes {
			return nil, fmt.Errorf("fetch JWKS %s: over the limit of %d bytes", a.cfg.JWKSURL, maxJWKSBytes)
		}
		set, err := parseJWKS(data)
		if err != nil {
			return nil, fmt.Errorf("JWKS from %s: %w", a.cfg.JWKSURL, err)
		}
		set.fetched = a.cfg.Now()
		a.keys.Store(set)
		return set, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*jwkSet), nil
}

// keySet returns the current keys, fetching them when there are none or
// they are old; a failed refresh keeps the old keys.
func (a *JWTAuth) keySet(ctx context.Context) (*jwkSet, error) {
	set := a.keys.Load()
	if a.cfg.JWKSURL == "" {
		return set, nil
	}
	if set == nil {
		if !a.claimRefetch() {
			return nil, errors.New("no JWKS yet: the last fetch failed moments ago")
		}
		return a.fetch(ctx)
	}
	if a.cfg.Now().Sub(set.fetched) > a.cfg.RefreshInterval && a.claimRefetch() {
		if fresh, err := a.fetch(ctx); err == nil {
			return fresh, nil
		}
	}
	return set, nil
}

// claimRefetch reports whether MinRefreshInterval has passed since the
// last fetch, and if so counts this one as the last.
func (a *JWTAuth) claimRefetch() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Now()
	if !a.lastFetch.IsZero() && now.Sub(a.lastFetch) < a.cfg.MinRefreshInterval {
		return false
	}
	a.lastFetch = now
	return true
}

// lookup finds the key for a token's kid and alg.
func (s *jwkSet) lookup(kid, alg string) (any, bool) {
	if s == nil {
		return nil, false
	}
	var found any
	n := 0
	for _, k := range s.keys {
		if (kid != "" && k.kid != kid) || !keyFits(k, alg) {
			continue
		}
		found = k.key
		n++
	}
	// Without a kid, the key must be the only one that fits.
	return found, n == 1
}

func keyFits(k jwkKey, alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch k.key.(type) {
	case *rsa.PublicKey:
		return alg == "RS256"
	case *ecdsa.PublicKey:
		return alg == "ES256"
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// Authenticate verifies the request's bearer token and maps its claims to
// an Identity.
func (a *JWTAuth) Authenticate(r *http.Request) (Identity, error) {
	refuse := func(err error, msg string) (Identity, error) {
		c := bearerChallenge
		if !errors.Is(err, ErrNoCredentials) {
			c += `, error="invalid_token"`
		}
		return Identity{}, &AuthError{Msg: msg, Challenges: []string{c}, Err: err}
	}
	header := r.Header.Get("Authorization")
	scheme, raw, _ := strings.Cut(header, " ")
	switch {
	case header == "" || !strings.EqualFold(scheme, "bearer"):
		return refuse(ErrNoCredentials, "authentication required: send a bearer token (Authorization: Bearer) from the identity provider")
	case len(header) > maxAuthorizationBytes:
		return refuse(ErrBadCredentials, "the bearer token is too large")
	}
	if r.TLS == nil && !a.cfg.AllowPlainHTTP {
		return refuse(ErrPasswordOverHTTP, "Meridian accepts bearer tokens only over HTTPS: connect with https:// to its TLS port")
	}
	raw = strings.TrimSpace(raw)
	key := sha256.Sum256([]byte(raw))
	now := a.cfg.Now()
	if id, hit := a.cache.get(key, now); hit {
		return id, nil
	}
	ctx := r.Context()
	var fetchErr error
	keyfunc := func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		alg := t.Method.Alg()
		set, err := a.keySet(ctx)
		if err != nil {
			fetchErr = err
			return nil, err
		}
		if k, ok := set.lookup(kid, alg); ok {
			return k, nil
		}
		// An unknown key may be a rotation we have not seen yet.
		if a.cfg.JWKSURL != "" && a.claimRefetch() {
			if set, err = a.fetch(ctx); err != nil {
				fetchErr = err
				return nil, err
			}
			if k, ok := set.lookup(kid, alg); ok {
				return k, nil
			}
		}
		return nil, fmt.Errorf("no %s key with kid %q in the JWKS", alg, kid)
	}
	claims := jwt.MapClaims{}
	if _, err := a.parser.ParseWithClaims(raw, claims, keyfunc); err != nil {
		switch {
		case fetchErr != nil:
			return refuse(fmt.Errorf("%w: %w", ErrAuthUnavailable, fetchErr), "cannot fetch the identity provider's signing keys; retry later")
		case errors.Is(err, jwt.ErrTokenExpired):
			return refuse(fmt.Errorf("%w: %w", ErrBadCredentials, err), "the bearer token has expired; get a new one from the identity provider")
		case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
			return refuse(fmt.Errorf("%w: %w", ErrBadCredentials, err), "the bearer token is not valid yet; check the clocks")
		case errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenInvalidAudience):
			return refuse(fmt.Errorf("%w: %w", ErrBadCredentials, err), "the bearer token was not issued for this server (issuer or audience)")
		case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
			return refuse(fmt.Errorf("%w: %w", ErrBadCredentials, err), "the bearer token lacks a required claim (exp, iss or aud)")
		}
		return refuse(fmt.Errorf("%w: %w", ErrBadCredentials, err), "the bearer token does not verify")
	}
	id, err := a.identity(claims)
	if err != nil {
		return refuse(fmt.Errorf("%w: %w", ErrBadCredentials, err), "the bearer token's claims are unusable: "+err.Error())
	}
	id = sharedIdentity(id)
	expires := now.Add(a.cfg.CacheTTL)
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil && exp.Before(expires) {
		expires = exp.Time
	}
	a.cache.put(key, id, expires, now)
	return id, nil
}

// identity maps verified claims to an Identity.
func (a *JWTAuth) identity(c jwt.MapClaims) (Identity, error) {
	user, err := claimString(c, a.cfg.UserClaim)
	if err != nil {
		return Identity{}, err
	}
	if err := checkUserName(user); err != nil {
		return Identity{}, fmt.Errorf("claim %s: %w", a.cfg.UserClaim, err)
	}
	id := Identity{User: user, Authenticated: true, Method: MethodJWT}
	if _, ok := claimValue(c, a.cfg.RegionClaim); ok {
		if id.Region, err = claimString(c, a.cfg.RegionClaim); err != nil {
			return Identity{}, err
		}
	}
	if id.Groups, err = claimStrings(c, a.cfg.GroupsClaim); err != nil {
		return Identity{}, err
	}
	if id.Purposes, err = claimStrings(c, a.cfg.PurposesClaim); err != nil {
		return Identity{}, err
	}
	roles, err := claimStrings(c, a.cfg.RolesClaim)
	if err != nil {
		return Identity{}, err
	}
	for _, r := range roles {
		if slices.Contains(knownRoles, r) && !slices.Contains(id.Roles, r) {
			id.Roles = append(id.Roles, r)
		}
	}
	if len(id.Roles) == 0 {
		id.Roles = []string{RoleAnalyst}
	}
	return id, nil
}

// claimValue finds a claim, walking a dotted name into nested objects
// when there is no claim of that exact name.
func claimValue(c jwt.MapClaims, name string) (any, bool) {
	if v, ok := c[name]; ok {
		return v, true
	}
	var cur any = map[string]any(c)
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func claimString(c jwt.MapClaims, name string) (string, error) {
	v, ok := claimValue(c, name)
	if !ok {
		return "", fmt.Errorf("claim %s is missing", name)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("claim %s is not a string", name)
	}
	if err := checkClaimValue(name, s); err != nil {
		return "", err
	}
	return s, nil
}

// claimStrings reads a list claim: absent is empty; one string is a list
// of one.
func claimStrings(c jwt.MapClaims, name string) ([]string, error) {
	v, ok := claimValue(c, name)
	if !ok || v == nil {
		return nil, nil
	}
	var out []string
	switch v := v.(type) {
	case string:
		out = []string{v}
	case []any:
		if len(v) > maxClaimValues {
			return nil, fmt.Errorf("claim %s has %d values, over the limit of %d", name, len(v), maxClaimValues)
		}
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("claim %s holds a value that is not a string", name)
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	default:
		return nil, fmt.Errorf("claim %s is neither a string nor a list of strings", name)
	}
	for _, s := range out {
		if err := checkClaimValue(name, s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkClaimValue keeps claim values printable and short: providers use
// spaces and slashes in group names, so the users file's character set
// would be too strict here.
func checkClaimValue(name, s string) error {
	if s == "" || len(s) > maxClaimBytes {
		return fmt.Errorf("claim %s: values must be 1 to %d bytes", name, maxClaimBytes)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("claim %s: a value holds an unprintable character", name)
		}
	}
	return nil
}

// jwkJSON is one key of a JWKS as published.
type jwkJSON struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS parses a JWKS, keeping the signature keys it can use: RSA of
// at least 2048 bits, EC P-256 and Ed25519. Keys of other kinds (for
// encryption, other curves) are skipped; a set with none left is an error.
func parseJWKS(data []byte) (*jwkSet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not a JWKS: %w", err)
	}
	if len(doc.Keys) > maxJWKSKeys {
		return nil, fmt.Errorf("%d keys, over the limit of %d", len(doc.Keys), maxJWKSKeys)
	}
	set := &jwkSet{}
	for i, raw := range doc.Keys {
		var k jwkJSON
		if err := json.Unmarshal(raw, &k); err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		key, err := k.publicKey()
		if err != nil {
			return nil, fmt.Errorf("key %d (kid %q): %w", i, k.Kid, err)
		}
		if key != nil {
			set.keys = append(set.keys, jwkKey{kid: k.Kid, alg: k.Alg, key: key})
		}
	}
	if len(set.keys) == 0 {
		return nil, errors.New("no usable signature key (RSA ≥ 2048 bits, EC P-256, Ed25519)")
	}
	return set, nil
}

// publicKey decodes k, or returns nil for a kind this server does not use.
func (k jwkJSON) publicKey() (any, error) {
	b64 := func(field, s string) ([]byte, error) {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("%s is not base64url", field)
		}
		return b, nil
	}
	switch k.Kty {
	case "RSA":
		n, err := b64("n", k.N)
		if err != nil {
			return nil, err
		}
		e, err := b64("e", k.E)
		if err != nil {
			return nil, err
		}
		if len(e) > 4 {
			return nil, errors.New("e is too large")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
			return nil, errors.New("RSA key under 2048 bits or with a bad exponent")
		}
		return pub, nil
	case "EC":
		if k.Crv != "P-256" {
			return nil, nil
		}
		x, err := b64("x", k.X)
		if err != nil {
			return nil, err
		}
		y, err := b64("y", k.Y)
		if err != nil {
			return nil, err
		}
		if len(x) != 32 || len(y) != 32 {
			return nil, errors.New("P-256 coordinates must be 32 bytes")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, fmt.Errorf("P-256 key: %w", err)
		}
		return pub, nil
	case "OKP":
		if k.Crv != "Ed25519" {
			return nil, nil
		}
		x, err := b64("x", k.X)
		if err != nil {
			return nil, err
		}
		if len(x) != ed25519.PublicKeySize {
			return nil, errors.New("Ed25519 key must be 32 bytes")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, nil
}
