package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/meridian-lake/meridian/internal/trino"
)

// page is one batch of result rows on its way from the statement's producer
// to the client.
type page struct {
	data  []byte // a JSON array of rows; nil when there are none
	rows  int
	final bool // nothing follows and the statement succeeded
}

// query is one submitted statement: the producer goroutine runs it and hands
// pages over a channel with room for one, so at most a few pages exist at a
// time whatever the result's size; client requests take them one per token.
type query struct {
	e           *Engine
	id, slug    string
	user        string
	fingerprint string
	created     time.Time
	ctx         context.Context
	cancel      context.CancelFunc
	headers     http.Header // sent with every reply: Set-Catalog, Added-Prepare, …
	updateType  string

	pages chan page
	fetch sync.Mutex // one client request takes pages at a time

	mu          sync.Mutex
	state       string
	columns     []trino.Column
	err         *trino.Error
	token       int64  // the last token answered
	last        []byte // the reply to token, for a repeated request
	access      time.Time
	done        bool // the reply without nextUri has been built
	ended       bool // the producer has stopped
	rows, bytes int64
	updateCount *int64
	started     time.Time
	finished    time.Time
}

func (e *Engine) newQuery(user, fingerprint string) *query {
	ctx, cancel := context.WithCancel(context.Background())
	now := time.Now()
	return &query{
		e:           e,
		id:          e.ids.next(),
		slug:        newSlug(),
		user:        user,
		fingerprint: fingerprint,
		created:     now,
		ctx:         ctx,
		cancel:      cancel,
		headers:     http.Header{},
		pages:       make(chan page, 1),
		state:       trino.StateQueued,
		access:      now,
	}
}

// idle is how long since the client last asked for this query, and whether
// the query has come to an end.
func (q *query) idle(now time.Time) (time.Duration, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return now.Sub(q.access), q.done || q.ended && q.err != nil
}

// fail ends the query with err unless it has already ended; the producer is
// interrupted through the query's context.
func (q *query) fail(err *trino.Error) {
	q.mu.Lock()
	if q.err == nil && !q.done {
		q.err = err
		q.state = trino.StateFailed
	}
	q.mu.Unlock()
	q.cancel()
}

func (q *query) setRunning() {
	q.mu.Lock()
	if q.state == trino.StateQueued {
		q.state = trino.StateRunning
		q.started = time.Now()
	}
	q.mu.Unlock()
}

func (q *query) setColumns(cols []column) error {
	wire := make([]trino.Column, len(cols))
	for i, c := range cols {
		var err error
		if wire[i], err = c.wire(); err != nil {
			return err
		}
	}
	q.mu.Lock()
	q.columns = wire
	q.mu.Unlock()
	return nil
}

// send hands a page to the client side, waiting while the previous one has
// not been taken.
func (q *query) send(ctx context.Context, p page) error {
	q.mu.Lock()
	q.rows += int64(p.rows)
	q.bytes += int64(len(p.data))
	q.mu.Unlock()
	select {
	case q.pages <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// end records how the producer finished and closes the page channel.
func (q *query) end(err error) {
	q.mu.Lock()
	if err != nil && q.err == nil {
		q.err = queryError(err)
		q.state = trino.StateFailed
	}
	q.ended = true
	q.finished = time.Now()
	q.mu.Unlock()
	close(q.pages)
}

// reply answers a client request for token: the same reply again for the
// last token, the next one for the token after it. It returns the HTTP
// status instead when the token is stale (410) or unknown (404).
func (q *query) reply(ctx context.Context, token int64, base string) ([]byte, int) {
	q.fetch.Lock()
	defer q.fetch.Unlock()
	q.mu.Lock()
	q.access = time.Now()
	switch {
	case token == q.token:
		b := q.last
		q.mu.Unlock()
		return b, http.StatusOK
	case token < q.token:
		q.mu.Unlock()
		return nil, http.StatusGone
	case token != q.token+1 || q.done:
		q.mu.Unlock()
		return nil, http.StatusNotFound
	}
	q.mu.Unlock()
	b, ok := q.advance(ctx, token, base)
	if !ok {
		return nil, 0 // the client went away; the token was not used
	}
	q.mu.Lock()
	q.token, q.last = token, b
	q.access = time.Now()
	q.mu.Unlock()
	return b, http.StatusOK
}

// advance builds the reply for token: the next page, the end, or progress
// only when nothing arrives within MaxWait.
func (q *query) advance(ctx context.Context, token int64, base string) ([]byte, bool) {
	if b, failed := q.failedReply(base); failed {
		return b, true
	}
	t := time.NewTimer(q.e.cfg.MaxWait)
	defer t.Stop()
	select {
	case p, ok := <-q.pages:
		if !ok {
			if b, failed := q.failedReply(base); failed {
				return b, true
			}
			return q.build(base, nil, token, true), true
		}
		if b, failed := q.failedReply(base); failed {
			return b, true // cancelled while the page waited
		}
		return q.build(base, p.data, token, p.final), true
	case <-t.C:
		return q.build(base, nil, token, false), true
	case <-ctx.Done():
		return nil, false
	}
}

func (q *query) failedReply(base string) ([]byte, bool) {
	q.mu.Lock()
	failed := q.err != nil
	q.mu.Unlock()
	if !failed {
		return nil, false
	}
	return q.build(base, nil, 0, true), true
}

// build renders a reply. final means there is no nextUri: the query
// finished (or failed, when q.err is set).
func (q *query) build(base string, data []byte, token int64, final bool) []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	r := trino.QueryResults{
		ID:       q.id,
		InfoURI:  base + "/ui/query.html?" + q.id,
		Columns:  q.columns,
		Stats:    q.statsLocked(),
		Warnings: []trino.Warning{},
	}
	switch {
	case q.err != nil:
		r.Error = q.err.QueryError()
		r.Columns = nil
		r.Stats.State = trino.StateFailed
		q.done = true
	case final:
		r.Stats.State = trino.StateFinished
		r.UpdateType = q.updateType
		r.UpdateCount = q.updateCount
		q.done = true
	default:
		phase := "executing"
		if q.state == trino.StateQueued {
			phase = "queued"
		}
		r.NextURI = q.uri(base, phase, token+1)
		if q.state != trino.StateQueued {
			r.PartialCancelURI = base + "/v1/statement/executing/partialCancel/" + q.id + "/0/" + q.slug + "/" + strconv.FormatInt(token+1, 10)
		}
	}
	if q.done && q.finished.IsZero() {
		q.finished = time.Now()
	}
	b, err := json.Marshal(r)
	if err != nil { // only plain data reaches here; a failure is a bug
		panic("engine: encode QueryResults: " + err.Error())
	}
	if len(data) > 0 && q.err == nil {
		// The rows are already JSON: splice them in rather than have
		// json.Marshal validate and copy a whole page again.
		out := make([]byte, 0, len(b)+len(data)+8)
		out = append(out, b[:len(b)-1]...)
		out = append(out, `,"data":`...)
		out = append(out, data...)
		b = append(out, '}')
	}
	return b
}

func (q *query) uri(base, phase string, token int64) string {
	return base + "/v1/statement/" + phase + "/" + q.id + "/" + q.slug + "/" + strconv.FormatInt(token, 10)
}

// statsLocked reports what the engine knows: rows and bytes are the result
// rows produced so far and their JSON size (DuckDB does not report its
// input), elapsed time is wall time since submission.
func (q *query) statsLocked() trino.Stats {
	now := time.Now()
	end := now
	if !q.finished.IsZero() {
		end = q.finished
	}
	s := trino.Stats{
		State:             q.state,
		Queued:            q.state == trino.StateQueued,
		Scheduled:         q.state != trino.StateQueued,
		Nodes:             1,
		ElapsedTimeMillis: end.Sub(q.created).Milliseconds(),
		ProcessedRows:     q.rows,
		ProcessedBytes:    q.bytes,
	}
	s.WallTimeMillis = s.ElapsedTimeMillis
	if q.started.IsZero() {
		s.QueuedTimeMillis = s.ElapsedTimeMillis
	} else {
		s.QueuedTimeMillis = q.started.Sub(q.created).Milliseconds()
	}
	return s
}
