package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/meridian-lake/meridian/policy"
)

// PolicyAPI is the compliance REST API, mounted under /v1/meridian/:
//
//	GET  /v1/meridian/policies                  list versions, newest first
//	GET  /v1/meridian/policies/{id}             one version, with its files
//	POST /v1/meridian/policies                  upload a candidate version (201)
//	POST /v1/meridian/policies/validate         compile an uploaded pack; nothing is stored
//	POST /v1/meridian/policies/{id}/test        run a stored version's tests
//	POST /v1/meridian/policies/{id}/impact      dry-run a version on recorded decisions
//	POST /v1/meridian/policies/{id}/activate    activate a version whose tests pass
//	POST /v1/meridian/policies/rollback         re-activate the previously active version
//	GET  /v1/meridian/policies/history          activations and rollbacks, newest first
//	GET  /v1/meridian/decisions                 decision records, newest first
//
// Every request is authorized for its Action before its body is read.
// Errors are JSON, {"error": {"code", "message", …}}, with the stable codes
// of errors.go.
type PolicyAPI struct {
	// Registry holds the policy versions, the activation history and the
	// decision records; activating a version swaps the engine that decides
	// statements. Required.
	Registry *policy.Registry

	// Authorize is asked, for every request, whether its caller may do
	// action, and returns the caller's name: the author of an upload, the
	// actor of an activation or rollback. A client-supplied author is
	// ignored. Its error should wrap ErrUnauthenticated (401) or
	// ErrForbidden (403), and its message is shown to the client; any other
	// error refuses the request as internal. Required; RoleAuthorizer builds
	// one from an identity source.
	Authorize func(r *http.Request, action Action) (actor string, err error)

	// Logger receives internal errors, under the keys user and err; policy
	// files and decision inputs are never logged. Nil discards the log.
	Logger *slog.Logger
}

// Limits on what a client may send or ask for.
const (
	// MaxBodyBytes bounds a request body: a pack of policy.MaxPackBytes,
	// with room for JSON string escaping.
	MaxBodyBytes = 2 * policy.MaxPackBytes
	// MaxDecisions bounds ?limit= of the decision and history queries.
	MaxDecisions = 10_000
	// MaxImpactDecisions bounds the recorded decisions one dry run
	// evaluates: "last" at most this, and a window its newest this many.
	MaxImpactDecisions = 100_000
	// maxMessageBytes bounds a version's message.
	maxMessageBytes = 4 << 10
	// defaultLimit is the page size of the decision and history queries.
	defaultLimit = 100
)

// apiFunc is a route's handler: it writes a response on success and
// returns an error otherwise, which writeError turns into the response.
type apiFunc func(w http.ResponseWriter, r *http.Request, actor string) error

// Handler returns the API's routes. It panics if Registry or Authorize is
// nil: the API cannot run, and must not run open, without them.
func (a *PolicyAPI) Handler() http.Handler {
	if a.Registry == nil || a.Authorize == nil {
		panic("server: PolicyAPI needs a Registry and an Authorize function")
	}
	mux := http.NewServeMux()
	for _, rt := range []struct {
		pattern string
		action  Action
		h       apiFunc
	}{
		{"GET /v1/meridian/policies", ActionRead, a.list},
		{"GET /v1/meridian/policies/{id}", ActionRead, a.show},
		{"POST /v1/meridian/policies", ActionUpload, a.upload},
		{"POST /v1/meridian/policies/validate", ActionValidate, a.validate},
		{"POST /v1/meridian/policies/{id}/test", ActionTest, a.test},
		{"POST /v1/meridian/policies/{id}/impact", ActionImpact, a.impact},
		{"POST /v1/meridian/policies/{id}/activate", ActionActivate, a.activate},
		{"POST /v1/meridian/policies/rollback", ActionRollback, a.rollback},
		{"GET /v1/meridian/policies/history", ActionRead, a.history},
		{"GET /v1/meridian/decisions", ActionRead, a.decisions},
	} {
		mux.Handle(rt.pattern, a.serve(rt.action, rt.h))
	}
	return &router{mux: mux, log: a.logger()}
}

func (a *PolicyAPI) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// serve authorizes a request for action, then runs h; any error from either
// goes to writeError.
func (a *PolicyAPI) serve(action Action, h apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, err := a.Authorize(r, action)
		if err == nil && strings.TrimSpace(actor) == "" {
			err = errors.New("authorize: no error and no actor") // fail closed
		}
		if err == nil {
			err = h(w, r, actor)
		}
		if err != nil {
			writeError(w, r, a.logger(), actor, err)
		}
	})
}

// router answers requests no route matches in the API's JSON, telling a
// wrong method (405) from an unknown path (404).
type router struct {
	mux *http.ServeMux
	log *slog.Logger
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := rt.mux.Handler(r); pattern != "" {
		rt.mux.ServeHTTP(w, r)
		return
	}
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := rt.mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	var err error = &notFoundError{msg: fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path)}
	if len(allow) > 0 {
		err = &methodError{allow: allow}
	}
	writeError(w, r, rt.log, "", err)
}

// packFile is a policy file as the API carries it: its text, not base64.
type packFile struct {
	Path string `json:"path"`
	Data string `json:"data"`
}

// uploadRequest is the body of an upload or a validation.
type uploadRequest struct {
	// Author is accepted and ignored: the author is the authorized caller.
	Author  string     `json:"author"`
	Message string     `json:"message"`
	Files   []packFile `json:"files"`
}

// pack checks the files (syntax, paths, limits) into a policy pack.
func (u *uploadRequest) pack() (*policy.Pack, error) {
	if len(u.Files) == 0 {
		return nil, badRequest("files", "a pack needs at least one file")
	}
	files := make([]policy.File, len(u.Files))
	for i, f := range u.Files {
		if f.Path == "" {
			return nil, badRequest(fmt.Sprintf("files[%d].path", i), "missing")
		}
		files[i] = policy.File{Path: f.Path, Data: []byte(f.Data)}
	}
	return policy.NewPack(files)
}

// versionList is the answer of GET /v1/meridian/policies.
type versionList struct {
	Versions []policy.Version `json:"versions"`
}

func (a *PolicyAPI) list(w http.ResponseWriter, r *http.Request, _ string) error {
	if _, err := query(r); err != nil {
		return err
	}
	vs, err := a.Registry.Versions(r.Context())
	if err != nil {
		return fmt.Errorf("list versions: %w", err)
	}
	if vs == nil {
		vs = []policy.Version{}
	}
	return writeJSON(w, http.StatusOK, versionList{Versions: vs})
}

// versionFiles is one version with its files.
type versionFiles struct {
	policy.Version
	Files []packFile `json:"files"`
}

func (a *PolicyAPI) show(w http.ResponseWriter, r *http.Request, _ string) error {
	id, err := versionID(r)
	if err != nil {
		return err
	}
	if _, err := query(r); err != nil {
		return err
	}
	vs, err := a.Registry.Versions(r.Context())
	if err != nil {
		return fmt.Errorf("show version %d: %w", id, err)
	}
	out := versionFiles{Files: []packFile{}}
	found := false
	for _, v := range vs {
		if v.ID == id {
			out.Version, found = v, true
		}
	}
	if !found {
		return versionNotFound(id, policy.ErrNoVersion)
	}
	c, err := a.Registry.Compiled(r.Context(), id)
	if err != nil {
		return versionNotFound(id, fmt.Errorf("show version %d: %w", id, err))
	}
	for _, f := range c.Pack().Files {
		out.Files = append(out.Files, packFile{Path: f.Path, Data: string(f.Data)})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *PolicyAPI) upload(w http.ResponseWriter, r *http.Request, actor string) error {
	var req uploadRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(req.Message) == "":
		return badRequest("message", "say what this version changes and why")
	case len(req.Message) > maxMessageBytes:
		return badRequest("message", "over the limit of %d bytes", maxMessageBytes)
	}
	p, err := req.pack()
	if err != nil {
		return err
	}
	v, err := a.Registry.Push(r.Context(), p, actor, req.Message)
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	w.Header().Set("Location", fmt.Sprintf("/v1/meridian/policies/%d", v.ID))
	return writeJSON(w, http.StatusCreated, v)
}

// validation is the answer of a successful validation.
type validation struct {
	Valid bool   `json:"valid"`
	Hash  string `json:"hash"`
	Files int    `json:"files"`
}

func (a *PolicyAPI) validate(w http.ResponseWriter, r *http.Request, _ string) error {
	var req uploadRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	p, err := req.pack()
	if err != nil {
		return err
	}
	if _, err := policy.Compile(r.Context(), p); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	return writeJSON(w, http.StatusOK, validation{Valid: true, Hash: p.Hash(), Files: len(p.Files)})
}

func (a *PolicyAPI) test(w http.ResponseWriter, r *http.Request, _ string) error {
	id, err := versionID(r)
	if err != nil {
		return err
	}
	c, err := a.Registry.Compiled(r.Context(), id)
	if err != nil {
		return versionNotFound(id, fmt.Errorf("test version %d: %w", id, err))
	}
	rep, err := c.Pack().Test(r.Context())
	if err != nil {
		return fmt.Errorf("test version %d: %w", id, err)
	}
	return writeJSON(w, http.StatusOK, rep)
}

// impactRequest chooses the recorded decisions a dry run replays: the last
// N, or those in a window; optionally only a user's, a table's or those a
// rule denied.
type impactRequest struct {
	Last  *int   `json:"last"`
	From  string `json:"from"`
	To    string `json:"to"`
	User  string `json:"user"`
	Table string `json:"table"`
	Rule  string `json:"rule"`
}

func (q *impactRequest) filter() (policy.Filter, error) {
	f := policy.Filter{User: q.User, Table: q.Table, Rule: q.Rule}
	window := q.From != "" || q.To != ""
	switch {
	case q.Last != nil && window:
		return f, badRequest("last", "give last or a window (from, to), not both")
	case q.Last != nil:
		if *q.Last < 1 || *q.Last > MaxImpactDecisions {
			return f, badRequest("last", "must be between 1 and %d", MaxImpactDecisions)
		}
		f.Limit = *q.Last
		return f, nil
	case !window:
		return f, badRequest("last", `say which decisions to replay: {"last": N} or {"from": …, "to": …} (RFC 3339)`)
	}
	var err error
	if f.From, err = parseTime("from", q.From); err != nil {
		return f, err
	}
	if f.To, err = parseTime("to", q.To); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return f, badRequest("to", "must be after from")
	}
	f.Limit = MaxImpactDecisions
	return f, nil
}

func (a *PolicyAPI) impact(w http.ResponseWriter, r *http.Request, _ string) error {
	id, err := versionID(r)
	if err != nil {
		return err
	}
	var req impactRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	f, err := req.filter()
	if err != nil {
		return err
	}
	c, err := a.Registry.Compiled(r.Context(), id)
	if err != nil {
		return versionNotFound(id, fmt.Errorf("impact of version %d: %w", id, err))
	}
	rep, err := a.Registry.Impact(r.Context(), c, f)
	if err != nil {
		return fmt.Errorf("impact of version %d: %w", id, err)
	}
	return writeJSON(w, http.StatusOK, rep)
}

func (a *PolicyAPI) activate(w http.ResponseWriter, r *http.Request, actor string) error {
	id, err := versionID(r)
	if err != nil {
		return err
	}
	v, err := a.Registry.Activate(r.Context(), id, actor)
	if errors.Is(err, policy.ErrNoVersion) {
		return versionNotFound(id, err)
	}
	if err != nil {
		return a.refusal(r.Context(), id, fmt.Errorf("activate version %d: %w", id, err))
	}
	return writeJSON(w, http.StatusOK, v)
}

// refusal explains why Activate refused version id: when its tests fail,
// which ones. The registry says so only in prose, so the tests are run
// again; that costs a test run, and only on the refusal path.
func (a *PolicyAPI) refusal(ctx context.Context, id int64, err error) error {
	c, cerr := a.Registry.Compiled(ctx, id)
	if cerr != nil {
		return err
	}
	rep, terr := c.Pack().Test(ctx)
	var pe *policy.PackError
	switch {
	case errors.As(terr, &pe):
		return &testsFailedError{msg: fmt.Sprintf("version %d cannot be activated: %s", id, pe.Message)}
	case terr != nil || rep.OK():
		return err
	}
	tf := &testsFailedError{}
	var names []string
	for _, t := range rep.Results {
		if !t.Pass {
			tf.failed = append(tf.failed, failedTest{Name: t.Name, File: t.File, Line: t.Line, Error: t.Error})
			names = append(names, t.Name)
		}
	}
	tf.msg = fmt.Sprintf("version %d cannot be activated: %d of %d tests fail: %s",
		id, rep.Failed, rep.Passed+rep.Failed, strings.Join(names, ", "))
	return tf
}

func (a *PolicyAPI) rollback(w http.ResponseWriter, r *http.Request, actor string) error {
	v, err := a.Registry.Rollback(r.Context(), actor)
	if errors.Is(err, policy.ErrNoVersion) {
		return &notFoundError{msg: "there is no earlier active version to roll back to"}
	}
	if err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	return writeJSON(w, http.StatusOK, v)
}

// activationList is the answer of GET /v1/meridian/policies/history.
type activationList struct {
	Activations []policy.Activation `json:"activations"`
}

func (a *PolicyAPI) history(w http.ResponseWriter, r *http.Request, _ string) error {
	q, err := query(r, "limit")
	if err != nil {
		return err
	}
	limit, err := parseLimit(q)
	if err != nil {
		return err
	}
	acts, err := a.Registry.History(r.Context(), limit)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if acts == nil {
		acts = []policy.Activation{}
	}
	return writeJSON(w, http.StatusOK, activationList{Activations: acts})
}

// decisionList is the answer of GET /v1/meridian/decisions.
type decisionList struct {
	Decisions []policy.Record `json:"decisions"`
}

func (a *PolicyAPI) decisions(w http.ResponseWriter, r *http.Request, _ string) error {
	q, err := query(r, "user", "table", "rule", "outcome", "from", "to", "limit", "input")
	if err != nil {
		return err
	}
	f := policy.Filter{User: q.Get("user"), Table: q.Get("table"), Rule: q.Get("rule"), Outcome: q.Get("outcome")}
	if f.Outcome != "" && f.Outcome != "allow" && f.Outcome != "deny" {
		return badRequest("outcome", "must be allow or deny")
	}
	if f.From, err = parseTime("from", q.Get("from")); err != nil {
		return err
	}
	if f.To, err = parseTime("to", q.Get("to")); err != nil {
		return err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return badRequest("to", "must be after from")
	}
	if f.Limit, err = parseLimit(q); err != nil {
		return err
	}
	if s := q.Get("input"); s != "" {
		if f.WithInput, err = strconv.ParseBool(s); err != nil {
			return badRequest("input", "must be true or false")
		}
	}
	if f.WithInput {
		// Inputs say who asked with which groups and purposes: a second,
		// narrower permission than reading the records.
		if _, err := a.Authorize(r, ActionReadInputs); err != nil {
			return err
		}
	}
	recs, err := a.Registry.Decisions(r.Context(), f)
	if err != nil {
		return fmt.Errorf("query decisions: %w", err)
	}
	if recs == nil {
		recs = []policy.Record{}
	}
	if !f.WithInput {
		for i := range recs {
			recs[i].Input = nil // never sent unless asked for and allowed
		}
	}
	return writeJSON(w, http.StatusOK, decisionList{Decisions: recs})
}

// versionID reads the {id} of a route: a positive integer.
func versionID(r *http.Request) (int64, error) {
	s := r.PathValue("id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || s[0] == '+' {
		return 0, badRequest("id", "a policy version id is a positive integer")
	}
	return id, nil
}

// versionNotFound words a missing version for the client; other errors
// pass through.
func versionNotFound(id int64, err error) error {
	if errors.Is(err, policy.ErrNoVersion) {
		return &notFoundError{msg: fmt.Sprintf("policy version %d does not exist", id)}
	}
	return err
}

// query parses the query string, refusing parameters a route does not
// know (a misspelt filter must not silently widen a query) and repeats.
func query(r *http.Request, known ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest("", "the query string is malformed")
	}
	for name, vs := range q {
		switch {
		case !slices.Contains(known, name):
			if len(known) == 0 {
				return nil, badRequest(name, "unknown parameter; this endpoint takes none")
			}
			return nil, badRequest(name, "unknown parameter; use %s", strings.Join(known, ", "))
		case len(vs) > 1:
			return nil, badRequest(name, "given more than once")
		}
	}
	return q, nil
}

func parseLimit(q url.Values) (int, error) {
	s := q.Get("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxDecisions {
		return 0, badRequest("limit", "must be an integer between 1 and %d", MaxDecisions)
	}
	return n, nil
}

// parseTime reads an RFC 3339 time; empty is the zero time (no bound).
func parseTime(param, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, badRequest(param, "want an RFC 3339 time such as 2026-11-01T00:00:00Z")
	}
	return t, nil
}

// decodeBody reads one JSON object of at most MaxBodyBytes into v,
// refusing unknown fields.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength > MaxBodyBytes {
		return &http.MaxBytesError{Limit: MaxBodyBytes}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return bodyError(err)
		}
		return badRequest("", "the body holds more than one JSON value")
	}
	return nil
}

// bodyError words a JSON decoding error for the client.
func bodyError(err error) error {
	var (
		mb  *http.MaxBytesError
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mb):
		return err
	case errors.Is(err, io.EOF):
		return badRequest("", "the request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "the JSON body ends too early")
	case errors.As(err, &syn):
		return badRequest("", "invalid JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		return badRequest(typ.Field, "wrong type: JSON %s", typ.Value)
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badRequest(strings.Trim(field, `"`), "unknown field")
	}
	return badRequest("", "the request body could not be read")
}
