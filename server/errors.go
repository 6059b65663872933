package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/meridian-lake/meridian/policy"
)

// Sentinels an Authorize function wraps to say why a caller is refused. The
// message of the returned error is shown to the client.
var (
	// ErrUnauthenticated: the request carries no identity (HTTP 401).
	ErrUnauthenticated = errors.New("authentication required")
	// ErrForbidden: the caller is known but may not do this (HTTP 403).
	ErrForbidden = errors.New("forbidden")
)

// Error codes of the REST API: the "code" of every error response. They
// are stable; clients switch on them, not on messages.
const (
	CodeInvalidPolicy    = "INVALID_POLICY"     // 400: the pack does not parse or compile; file, line, column
	CodeBadRequest       = "BAD_REQUEST"        // 400: malformed JSON, unknown field, bad parameter (named in "param")
	CodeUnauthenticated  = "UNAUTHENTICATED"    // 401
	CodeForbidden        = "FORBIDDEN"          // 403
	CodeNotFound         = "NOT_FOUND"          // 404: no such version, route, or nothing to roll back to
	CodeMethodNotAllowed = "METHOD_NOT_ALLOWED" // 405: see the Allow header
	CodeTestsFailed      = "TESTS_FAILED"       // 409: activation refused; the failing tests are in "tests"
	CodeTooLarge         = "TOO_LARGE"          // 413: the request body is over the limit
	CodeInternal         = "INTERNAL"           // 500: details are in the log, never in the response
)

// errorBody is the JSON every error response carries under "error".
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Param names the query parameter or JSON field at fault.
	Param string `json:"param,omitempty"`
	// File, Line and Column point into an invalid policy pack.
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Tests are the failing tests that refused an activation.
	Tests []failedTest `json:"tests,omitempty"`
	// Allow lists the methods a route accepts (with 405).
	Allow []string `json:"allow,omitempty"`
}

// failedTest is one failing test of a version that could not be activated.
type failedTest struct {
	Name  string `json:"name"`
	File  string `json:"file"`
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// paramError is a bad query parameter or JSON field; param may be empty
// when the body as a whole is at fault.
type paramError struct {
	param, msg string
}

func (e *paramError) Error() string {
	if e.param == "" {
		return e.msg
	}
	return e.param + ": " + e.msg
}

func badRequest(param, format string, args ...any) error {
	return &paramError{param: param, msg: fmt.Sprintf(format, args...)}
}

// notFoundError says what was not found, in words for the client.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

// testsFailedError refuses an activation: the version's tests do not pass.
type testsFailedError struct {
	msg    string
	failed []failedTest
}

func (e *testsFailedError) Error() string { return e.msg }

// methodError is a known route asked with a method it does not serve.
type methodError struct{ allow []string }

func (e *methodError) Error() string { return "method not allowed" }

// writeError is the one place that turns an error into a response: the
// status, the stable code, and what the client may see. Anything it does
// not recognise is internal: logged with the user, answered generically.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, user string, err error) {
	var (
		status = http.StatusInternalServerError
		body   = errorBody{Code: CodeInternal, Message: "internal error; the details are in the server log"}

		pe   *paramError
		nf   *notFoundError
		tf   *testsFailedError
		me   *methodError
		pack *policy.PackError
		mb   *http.MaxBytesError
	)
	switch {
	case errors.As(err, &pe):
		status, body = http.StatusBadRequest, errorBody{Code: CodeBadRequest, Message: pe.Error(), Param: pe.param}
	case errors.As(err, &mb):
		status, body = http.StatusRequestEntityTooLarge, errorBody{Code: CodeTooLarge,
			Message: fmt.Sprintf("the request body is over the limit of %d bytes (%d MiB)", mb.Limit, mb.Limit>>20)}
	case errors.Is(err, ErrUnauthenticated):
		status, body = http.StatusUnauthorized, errorBody{Code: CodeUnauthenticated, Message: err.Error()}
	case errors.Is(err, ErrForbidden):
		status, body = http.StatusForbidden, errorBody{Code: CodeForbidden, Message: err.Error()}
	case errors.As(err, &tf):
		status, body = http.StatusConflict, errorBody{Code: CodeTestsFailed, Message: tf.msg, Tests: tf.failed}
	case errors.As(err, &pack):
		status, body = http.StatusBadRequest, errorBody{Code: CodeInvalidPolicy, Message: pack.Message,
			File: pack.File, Line: pack.Line, Column: pack.Column}
	case errors.As(err, &nf):
		status, body = http.StatusNotFound, errorBody{Code: CodeNotFound, Message: nf.msg}
	case errors.Is(err, policy.ErrNoVersion):
		status, body = http.StatusNotFound, errorBody{Code: CodeNotFound, Message: "no such policy version"}
	case errors.As(err, &me):
		w.Header().Set("Allow", strings.Join(me.allow, ", "))
		status, body = http.StatusMethodNotAllowed, errorBody{Code: CodeMethodNotAllowed,
			Message: fmt.Sprintf("%s is not served here; use %s", r.Method, strings.Join(me.allow, ", ")), Allow: me.allow}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; there is no one to answer and nothing to fix.
		return
	default:
		log.ErrorContext(r.Context(), "policy API: request failed", "user", user, "err", err)
	}
	_ = writeJSON(w, status, struct {
		Error errorBody `json:"error"`
	}{body}) // an errorBody always encodes
}

// writeJSON answers with v as JSON. v is encoded before anything is
// written, so a handler can still return the error and get an error
// response.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n')) // a client that went away cannot be told
	return nil
}
