package engine

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/meridian-lake/meridian/internal/trino"
	parse "github.com/meridian-lake/meridian/planner/sql"
)

// ServeHTTP serves Trino's coordinator endpoints (PROTOCOL.md).
func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.handler.ServeHTTP(w, r)
}

func (e *Engine) routes() *http.ServeMux {
	m := http.NewServeMux()
	{
		m.HandleFunc("POST /v1/statement", e.submit)
		for _, phase := range []string{"queued", "executing"} {
			m.HandleFunc("GET /v1/statement/"+phase+"/{id}/{slug}/{token}", e.next)
			m.HandleFunc("HEAD /v1/statement/"+phase+"/{id}/{slug}/{token}", e.head)
			m.HandleFunc("DELETE /v1/statement/"+phase+"/{id}/{slug}/{token}", e.cancelStatement)
		}
		m.HandleFunc("DELETE /v1/statement/executing/partialCancel/{id}/{stage}/{slug}/{token}", e.partialCancel)
		m.HandleFunc("GET /v1/info", e.info)
		m.HandleFunc("GET /v1/info/state", e.infoState)
		m.HandleFunc("GET /v1/query/{id}", e.queryInfo)
		m.HandleFunc("DELETE /v1/query/{id}", e.cancelQuery)
	}
	return m
}

func writeJSON(w http.ResponseWriter, q *query, body []byte) {
	if q != nil {
		for k, vs := range q.headers {
			w.Header()[k] = vs
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// submit answers POST /v1/statement: it plans the statement and starts it,
// replying QUEUED with the first nextUri; a statement that cannot start
// fails at once, with HTTP 200 and the error.
func (e *Engine) submit(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(e.cfg.MaxStatementBytes)+1))
	base := trino.BaseURL(r)
	if err != nil {
		http.Error(w, "cannot read the statement", http.StatusBadRequest)
		return
	}
	text := string(body)
	_, fingerprint := parse.Normalize(text)
	req, reqErr := parseRequest(r.Header)
	q := e.newQuery(req.sess.User, fingerprint)
	req.sess.QueryID = q.id
	fail := func(err error) {
		q.fail(queryError(err))
		q.mu.Lock()
		q.ended = true
		q.mu.Unlock()
		b := q.build(base, nil, 0, true)
		q.mu.Lock()
		q.last = b
		q.mu.Unlock()
		e.add(q)
		writeJSON(w, nil, b)
		e.logEnd(q)
	}
	switch {
	case reqErr != nil:
		fail(reqErr)
		return
	case len(body) > e.cfg.MaxStatementBytes:
		fail(trino.Errorf(trino.QueryTextTooLarge, "Query text length (%d) exceeds the maximum length (%d)", len(body), e.cfg.MaxStatementBytes))
		return
	}
	p, err := e.plan(r.Context(), text, req)
	if err != nil {
		fail(err)
		return
	}
	q.headers, q.updateType = p.headers, p.updateType
	if !e.add(q) {
		fail(errShuttingDown)
		return
	}
	j := p.job
	if j == nil {
		j = func(ctx context.Context, q *query) error {
			q.setRunning()
			return q.send(ctx, page{final: true})
		}
	}
	first := q.build(base, nil, 0, false)
	q.mu.Lock()
	q.last = first
	q.mu.Unlock()
	e.start(q, j)
	writeJSON(w, q, first)
}

// find returns the query a follow-up URI names, or writes 404 when the id is
// unknown or the slug is not the query's.
func (e *Engine) find(w http.ResponseWriter, r *http.Request) (*query, int64, bool) {
	q := e.lookup(r.PathValue("id"))
	if q == nil || r.PathValue("slug") != q.slug {
		http.Error(w, "query not found", http.StatusNotFound)
		return nil, 0, false
	}
	token, err := strconv.ParseInt(r.PathValue("token"), 10, 64)
	if err != nil || token < 0 {
		http.Error(w, "bad token", http.StatusNotFound)
		return nil, 0, false
	}
	return q, token, true
}

func (e *Engine) next(w http.ResponseWriter, r *http.Request) {
	q, token, ok := e.find(w, r)
	if !ok {
		return
	}
	body, status := q.reply(r.Context(), token, trino.BaseURL(r))
	switch status {
	case http.StatusOK:
		writeJSON(w, q, body)
	case 0: // the client went away
	case http.StatusGone:
		http.Error(w, "token already used", http.StatusGone)
	default:
		http.Error(w, "unknown token", status)
	}
}

func (e *Engine) head(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := e.find(w, r); ok {
		w.WriteHeader(http.StatusOK)
	}
}

// cancelStatement is DELETE on a nextUri: the query is cancelled and DuckDB
// interrupted.
func (e *Engine) cancelStatement(w http.ResponseWriter, r *http.Request) {
	if q, _, ok := e.find(w, r); ok {
		q.fail(errCanceled)
		w.WriteHeader(http.StatusNoContent)
	}
}

// partialCancel would stop one stage; the engine has one stage and keeps it.
func (e *Engine) partialCancel(w http.ResponseWriter, r *http.Request) {
	if q := e.lookup(r.PathValue("id")); q == nil || q.slug != r.PathValue("slug") {
		http.Error(w, "query not found", http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (e *Engine) cancelQuery(w http.ResponseWriter, r *http.Request) {
	q := e.lookup(r.PathValue("id"))
	if q == nil {
		http.Error(w, "query not found", http.StatusNotFound)
		return
	}
	q.fail(errCanceled)
	w.WriteHeader(http.StatusNoContent)
}

// queryInfo is GET /v1/query/{id}: state and statistics, never the SQL text.
func (e *Engine) queryInfo(w http.ResponseWriter, r *http.Request) {
	q := e.lookup(r.PathValue("id"))
	if q == nil {
		http.Error(w, "query not found", http.StatusNotFound)
		return
	}
	q.mu.Lock()
	stats := q.statsLocked()
	info := struct {
		QueryID     string            `json:"queryId"`
		State       string            `json:"state"`
		Self        string            `json:"self"`
		Session     map[string]string `json:"session"`
		Fingerprint string            `json:"fingerprint"`
		QueryStats  trino.Stats       `json:"queryStats"`
		ErrorCode   *trino.Code       `json:"errorCode,omitempty"`
	}{QueryID: q.id, State: stats.State, Self: trino.BaseURL(r) + "/v1/query/" + q.id,
		Session: map[string]string{"user": q.user}, Fingerprint: q.fingerprint, QueryStats: stats}
	switch {
	case q.err != nil:
		info.State = trino.StateFailed
		info.ErrorCode = &q.err.Code
	case q.ended:
		info.State = trino.StateFinished
	}
	q.mu.Unlock()
	b, _ := json.Marshal(info)
	writeJSON(w, nil, b)
}

func (e *Engine) info(w http.ResponseWriter, r *http.Request) {
	var in trino.Info
	in.NodeVersion.Version = e.cfg.Version
	in.Environment = e.cfg.Region
	in.Coordinator = true
	in.Uptime = time.Since(e.started).Round(time.Second).String()
	b, _ := json.Marshal(in)
	writeJSON(w, nil, b)
}

func (e *Engine) infoState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, nil, []byte(`"ACTIVE"`))
}
