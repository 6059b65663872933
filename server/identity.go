package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
)

// Identity is who a request comes from, as an Authenticator established
// it. Its attributes are the policy input's subject (GOVERNANCE.md): the
// home region, groups and permitted purposes come from the identity source
// (the users file or the JWT's claims), never from the client's headers.
type Identity struct {
	// User is the authenticated user name; it is passed to the clusters as
	// X-Trino-User.
	User string
	// Groups the user belongs to.
	Groups []string
	// Region is the user's home region ("eu", "us", …); empty when unknown.
	Region string
	// Purposes the user may declare for processing.
	Purposes []string
	// Roles are Meridian's own roles: RoleAnalyst, RoleCompliance,
	// RoleAdmin. They gate the /v1/meridian/ APIs, not SQL.
	Roles []string
	// Authenticated is false only in the insecure development mode, where
	// the user name is taken on trust from X-Trino-User.
	Authenticated bool
	// Method says how the identity was established: MethodPassword,
	// MethodJWT or MethodTrustedHeader.
	Method string
}

// Methods an Identity can be established by.
const (
	MethodPassword      = "password"
	MethodJWT           = "jwt"
	MethodTrustedHeader = "trusted-header"
)

// RoleAnalyst runs statements; it has no access to the /v1/meridian/ APIs.
// RoleCompliance and RoleAdmin are declared in access.go.
const RoleAnalyst = "analyst"

// knownRoles are the roles an identity source may grant; any other value
// in a users file is a mistake and refused.
var knownRoles = []string{RoleAnalyst, RoleCompliance, RoleAdmin}

// HasRole reports whether the identity holds role.
func (id Identity) HasRole(role string) bool { return slices.Contains(id.Roles, role) }

// Authenticator establishes who sent a request. Its error, when it refuses,
// is an *AuthError: the request is answered 401 with its challenges in
// WWW-Authenticate, which is what Trino clients expect.
type Authenticator interface {
	Authenticate(r *http.Request) (Identity, error)
}

// Reasons an Authenticator refuses a request; an *AuthError wraps one of
// them, and every *AuthError also matches ErrUnauthenticated.
var (
	// ErrNoCredentials: the request carries no credentials this server
	// accepts.
	ErrNoCredentials = errors.New("no credentials")
	// ErrBadCredentials: unknown user, wrong password, or a bearer token
	// that does not verify.
	ErrBadCredentials = errors.New("bad credentials")
	// ErrPasswordOverHTTP: a password or bearer token sent over plain
	// HTTP. It is refused even when it is right, so that nobody gets used
	// to sending one.
	ErrPasswordOverHTTP = errors.New("password over plain HTTP")
	// ErrAuthUnavailable: the identity source could not be consulted (the
	// JWKS could not be fetched, or too many password checks are waiting).
	ErrAuthUnavailable = errors.New("authentication unavailable")
)

// AuthError refuses a request with HTTP 401. Msg is for the client, who
// sees it verbatim (trino-go-client prints the response body); the cause
// is for errors.Is and the log.
type AuthError struct {
	// Msg says what went wrong and what to do, without echoing secrets.
	Msg string
	// Challenges go into WWW-Authenticate, one header each, e.g.
	// `Basic realm="Meridian"`.
	Challenges []string
	// Err is the reason: ErrNoCredentials, ErrBadCredentials, … possibly
	// wrapped with detail that is logged, not shown.
	Err error
}

func (e *AuthError) Error() string { return e.Msg }

// Unwrap returns the reason.
func (e *AuthError) Unwrap() error { return e.Err }

// Is makes every AuthError an ErrUnauthenticated, so that writeError
// answers it 401.
func (e *AuthError) Is(target error) bool { return target == ErrUnauthenticated }

// Challenges sent with a 401.
const (
	basicChallenge  = `Basic realm="Meridian"`
	bearerChallenge = `Bearer realm="Meridian"`
)

// codeUnavailable answers a request that could not be authenticated for
// now (503): the identity provider's keys could not be fetched.
const codeUnavailable = "UNAVAILABLE"

// authLog is writeError's logger for refusals, which it never logs.
var authLog = slog.New(slog.DiscardHandler)

type identityKey struct{}

// WithIdentity returns ctx carrying id; RequireIdentity puts the caller's
// identity there for the handlers behind it.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity ctx carries, and false when it carries
// none (the request was not authenticated).
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok && id.User != ""
}

// RequestIdentity is the identify function of RoleAuthorizer for requests
// that passed RequireIdentity:
//
//	api := &PolicyAPI{Registry: reg, Authorize: RoleAuthorizer(RequestIdentity)}
//	mux.Handle("/v1/meridian/", RequireIdentity(auth, api.Handler()))
func RequestIdentity(r *http.Request) (user string, roles []string, ok bool) {
	id, ok := IdentityFrom(r.Context())
	if !ok {
		return "", nil, false
	}
	return id.User, id.Roles, true
}

// RequireIdentity authenticates every request with a and hands it to next
// with the identity in its context (IdentityFrom). A refused request is
// answered 401 with WWW-Authenticate and never reaches next: as JSON
// ({"error": {"code": "UNAUTHENTICATED", …}}) under /v1/meridian/, as the
// bare message elsewhere, because Trino clients print the body of a 401
// as the reason.
func RequireIdentity(a Authenticator, next http.Handler) http.Handler {
	if a == nil || next == nil {
		panic("server: RequireIdentity needs an Authenticator and a handler")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := a.Authenticate(r)
		if err == nil && id.User == "" {
			err = &AuthError{Msg: "authentication produced no user name", Err: ErrBadCredentials} // fail closed
		}
		if err != nil {
			writeAuthError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
	})
}

// RequireRole lets through requests whose identity (IdentityFrom) holds
// role, or RoleAdmin, which may use every API. Others are answered in the
// API's JSON: 401 without an identity, 403 with a message naming the user,
// the path and the role it needs. Mount it behind RequireIdentity:
//
//	RequireIdentity(auth, RequireRole(RoleAdmin, clusterAPI))
//	RequireIdentity(auth, RequireRole(RoleCompliance, policyAPI.Handler()))
//
// Within the policy API, RoleAuthorizer still decides each action.
func RequireRole(role string, next http.Handler) http.Handler {
	if !slices.Contains(knownRoles, role) || next == nil {
		panic(fmt.Sprintf("server: RequireRole(%q): unknown role or nil handler", role))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := IdentityFrom(r.Context())
		var err error
		switch {
		case !ok:
			err = fmt.Errorf("%w: this API needs an authenticated caller with the %s role", ErrUnauthenticated, role)
		case !id.HasRole(role) && !id.HasRole(RoleAdmin):
			err = fmt.Errorf("%w: %s may not use %s; that needs the %s role", ErrForbidden, id.User, r.URL.Path, role)
		}
		if err != nil {
			writeAuthError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeAuthError answers a refused request: 401 with the challenges, or
// 403; in JSON under /v1/meridian/, in plain text for the Trino protocol.
func writeAuthError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusForbidden
	switch {
	case errors.Is(err, ErrAuthUnavailable):
		// Transient: every Trino client retries a 503.
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	case errors.Is(err, ErrUnauthenticated):
		status = http.StatusUnauthorized
		challenges := []string{basicChallenge}
		var ae *AuthError
		if errors.As(err, &ae) && len(ae.Challenges) > 0 {
			challenges = ae.Challenges
		}
		for _, c := range challenges {
			w.Header().Add("WWW-Authenticate", c)
		}
	}
	if strings.HasPrefix(r.URL.Path, "/v1/meridian/") {
		if status == http.StatusServiceUnavailable {
			_ = writeJSON(w, status, struct {
				Error errorBody `json:"error"`
			}{errorBody{Code: codeUnavailable, Message: err.Error()}})
			return
		}
		writeError(w, r, authLog, "", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(err.Error() + "\n")) // a client that went away cannot be told
}
