package server

import (
	"fmt"
	"net/http"
	"slices"
)

// Action is what a request to the compliance API does; every request is
// authorized for exactly the action of its route.
type Action string

// Actions of the compliance API.
const (
	// ActionRead lists and shows versions, the activation history and
	// decision records (without their inputs).
	ActionRead Action = "read"
	// ActionReadInputs reads the decision input stored with each record
	// (?input=true): who asked, with which groups and purposes. It is
	// checked in addition to ActionRead.
	ActionReadInputs Action = "read_inputs"
	ActionUpload     Action = "upload"
	ActionValidate   Action = "validate"
	ActionTest       Action = "test"
	ActionImpact     Action = "impact"
	ActionActivate   Action = "activate"
	ActionRollback   Action = "rollback"
)

// actionWords says an action in words, for the 403 message.
var actionWords = map[Action]string{
	ActionRead:       "read policy versions and decision records",
	ActionReadInputs: "read decision inputs",
	ActionUpload:     "upload policy versions",
	ActionValidate:   "validate policy packs",
	ActionTest:       "run policy tests",
	ActionImpact:     "dry-run policy versions",
	ActionActivate:   "activate policy versions",
	ActionRollback:   "roll back the policy",
}

// Roles RoleAuthorizer knows.
const (
	// RoleCompliance may do everything in the compliance API.
	RoleCompliance = "compliance"
	// RoleAdmin may read versions, history and decision records, not their
	// inputs, and may change nothing: policy is the compliance team's.
	// Outside the policy API (RequireRole), admin may use every API.
	RoleAdmin = "admin"
)

// RoleAuthorizer returns an Authorize function for PolicyAPI built on
// roles: compliance may do everything, admin may read, anyone else (an
// analyst) nothing. identify returns the caller's user name and roles, and
// ok false when the request carries no identity (401); RequestIdentity is
// the one for requests behind RequireIdentity.
func RoleAuthorizer(identify func(*http.Request) (user string, roles []string, ok bool)) func(*http.Request, Action) (string, error) {
	return func(r *http.Request, action Action) (string, error) {
		user, roles, ok := identify(r)
		if !ok || user == "" {
			return "", ErrUnauthenticated
		}
		if slices.Contains(roles, RoleCompliance) || action == ActionRead && slices.Contains(roles, RoleAdmin) {
			return user, nil
		}
		verb, known := actionWords[action]
		if !known {
			verb = string(action)
		}
		needs := RoleCompliance
		if action == ActionRead {
			needs = RoleAdmin + " or " + RoleCompliance
		}
		return "", fmt.Errorf("%w: %s may not %s; that needs the %s role", ErrForbidden, user, verb, needs)
	}
}
