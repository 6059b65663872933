package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
)

// InsecureHeaderWarning is logged (WARN) once when the development mode
// --insecure-trust-user-header is on.
const InsecureHeaderWarning = "INSECURE: --insecure-trust-user-header is on: any client can claim to be any user by " +
	"setting X-Trino-User, with no password, and gets that user's regions, purposes and roles. " +
	"Use it only on a development machine; never expose this port to a network."

// HeaderConfig configures HeaderAuth.
type HeaderConfig struct {
	// Users, when set, supplies the attributes (region, groups, purposes,
	// roles) of the users it lists; no password is asked.
	Users *Users
	// Default holds the attributes of users not in Users: Region, Groups,
	// Purposes and Roles (RoleAnalyst when empty). Its User,
	// Authenticated and Method are ignored.
	Default Identity
	// RejectUnknown refuses users that Users does not list.
	RejectUnknown bool
}

// HeaderAuth is the insecure development mode: it takes the user name
// from X-Trino-User (or X-Presto-User) on trust. Identities it returns
// have Authenticated false, which the policy can read.
type HeaderAuth struct {
	cfg  HeaderConfig
	once sync.Once
}

var _ Authenticator = (*HeaderAuth)(nil)

// NewHeaderAuth returns a HeaderAuth.
func NewHeaderAuth(cfg HeaderConfig) (*HeaderAuth, error) {
	if cfg.RejectUnknown && cfg.Users == nil {
		return nil, fmt.Errorf("trusted header auth: RejectUnknown needs a users file")
	}
	d := &cfg.Default
	if d.Region != "" {
		if err := checkAttr("region", d.Region); err != nil {
			return nil, fmt.Errorf("trusted header auth: default %w", err)
		}
	}
	for _, l := range []struct {
		f string
		v []string
	}{{"groups", d.Groups}, {"purposes", d.Purposes}, {"roles", d.Roles}} {
		if err := checkAttrs(l.f, l.v); err != nil {
			return nil, fmt.Errorf("trusted header auth: default %w", err)
		}
	}
	for _, r := range d.Roles {
		if !slices.Contains(knownRoles, r) {
			return nil, fmt.Errorf("trusted header auth: unknown default role %q", r)
		}
	}
	if len(d.Roles) == 0 {
		d.Roles = []string{RoleAnalyst}
	}
	return &HeaderAuth{cfg: cfg}, nil
}

// Warn logs InsecureHeaderWarning at WARN, once however often it is
// called.
func (h *HeaderAuth) Warn(ctx context.Context, log *slog.Logger) {
	h.once.Do(func() { log.WarnContext(ctx, InsecureHeaderWarning) })
}

// Authenticate takes the user from X-Trino-User. A password is refused
// rather than ignored: a client that sends one believes it is checked.
func (h *HeaderAuth) Authenticate(r *http.Request) (Identity, error) {
	refuse := func(err error, msg string) (Identity, error) {
		return Identity{}, &AuthError{Msg: msg, Challenges: []string{basicChallenge}, Err: err}
	}
	if authScheme(r) == "basic" {
		if r.TLS == nil {
			return refuse(ErrPasswordOverHTTP, msgPasswordOverHTTP)
		}
		return refuse(ErrBadCredentials, "this port does not check passwords (it trusts X-Trino-User); connect without a password or to the port that checks them")
	}
	name, presto := r.Header.Get("X-Trino-User"), r.Header.Get("X-Presto-User")
	switch {
	case name == "" && presto == "":
		return refuse(ErrNoCredentials, "authentication required: this development server takes the user name from X-Trino-User (e.g. trino --user NAME)")
	case name == "":
		name = presto
	case presto != "" && presto != name:
		return refuse(ErrBadCredentials, "X-Trino-User and X-Presto-User name different users")
	}
	if err := checkUserName(name); err != nil {
		return refuse(ErrBadCredentials, "X-Trino-User: "+err.Error())
	}
	return h.Identity(name)
}

// Identity returns the identity this mode gives name without a request:
// for follow-ups, which trino-go-client sends with an empty X-Trino-User
// (take the name from the routing token's Route.User), and for
// `meridian plan --user NAME`.
func (h *HeaderAuth) Identity(name string) (Identity, error) {
	if err := checkUserName(name); err != nil {
		return Identity{}, &AuthError{Msg: "user: " + err.Error(), Challenges: []string{basicChallenge}, Err: ErrBadCredentials}
	}
	if u, ok := h.cfg.Users.Lookup(name); ok {
		return u.Identity(MethodTrustedHeader), nil
	}
	if h.cfg.RejectUnknown {
		return Identity{}, &AuthError{Msg: fmt.Sprintf("user %q is not in the users file", name), Challenges: []string{basicChallenge}, Err: ErrBadCredentials}
	}
	d := h.cfg.Default
	return Identity{
		User:     name,
		Groups:   slices.Clone(d.Groups),
		Region:   d.Region,
		Purposes: slices.Clone(d.Purposes),
		Roles:    slices.Clone(d.Roles),
		Method:   MethodTrustedHeader,
	}, nil
}
