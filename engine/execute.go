package engine

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/meridian-lake/meridian/internal/trino"
)

// job produces a statement's result through q.send.
type job func(ctx context.Context, q *query) error

// start runs j for q on a goroutine the engine waits for on Close.
func (e *Engine) start(q *query, j job) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer q.cancel()
		err := j(q.ctx, q)
		q.end(err)
		e.logEnd(q)
	}()
}

// pager cuts encoded rows into pages bounded by rows and by bytes.
type pager struct {
	cols     []column
	buf      []byte
	row      []byte
	rows     int
	lastLen  int // bytes of the previous page
	maxRows  int
	maxBytes int
}

func (e *Engine) newPager(cols []column) *pager {
	return &pager{cols: cols, maxRows: e.cfg.PageRows, maxBytes: e.cfg.PageBytes}
}

// add encodes one row. When the row does not fit the current page, that page
// is returned, complete, and the row starts the next one.
func (p *pager) add(vals []any) (*page, error) {
	r := append(p.row[:0], '[')
	for i, v := range vals {
		if i > 0 {
			r = append(r, ',')
		}
		var err error
		if r, err = appendValue(r, p.cols[i].enc, v); err != nil {
			return nil, fmt.Errorf("column %s: %w", p.cols[i].name, err)
		}
	}
	r = append(r, ']')
	p.row = r
	var full *page
	if p.rows > 0 && (p.rows >= p.maxRows || len(p.buf)+len(r)+2 > p.maxBytes) {
		full = p.take(false)
	}
	if p.rows == 0 {
		if p.buf == nil {
			// Pages of one result are alike: size the next as the last.
			p.buf = make([]byte, 0, max(min(p.lastLen, p.maxBytes), 4096)+len(r)+2)
		}
		p.buf = append(p.buf, '[')
	} else {
		p.buf = append(p.buf, ',')
	}
	p.buf = append(p.buf, r...)
	p.rows++
	return full, nil
}

// take returns the rows gathered so far as a page and starts a new one.
func (p *pager) take(final bool) *page {
	pg := &page{final: final, rows: p.rows}
	if p.rows > 0 {
		pg.data = append(p.buf, ']')
	}
	p.lastLen = len(pg.data)
	p.buf, p.rows = nil, 0
	return pg
}

// emit sends fixed rows, such as SHOW results, as pages.
func (e *Engine) emit(ctx context.Context, q *query, cols []column, rows [][]any) error {
	if err := q.setColumns(cols); err != nil {
		return err
	}
	p := e.newPager(cols)
	for _, r := range rows {
		full, err := p.add(r)
		if err != nil {
			return err
		}
		if full != nil {
			if err := q.send(ctx, *full); err != nil {
				return err
			}
		}
	}
	return q.send(ctx, *p.take(true))
}

// compiled is the job of a statement DuckDB runs: take a connection (the
// query stays QUEUED while all are busy), compile, execute and stream.
func (e *Engine) compiled(text string, sess Session, params []string, update bool) job {
	return func(ctx context.Context, q *query) error {
		conn, err := e.db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		q.setRunning()
		c, err := e.compile(ctx, conn, text, sess, params)
		if err != nil {
			return err
		}
		if c.Release != nil {
			defer c.Release()
		}
		e.executing.Add(1)
		defer e.executing.Add(-1)
		rows, err := conn.QueryContext(ctx, c.SQL)
		if err != nil {
			return err
		}
		defer rows.Close()
		if update {
			return e.updateCount(ctx, q, rows)
		}
		return e.stream(ctx, q, rows, sess)
	}
}

// stream turns DuckDB's cursor into pages as the client takes them.
func (e *Engine) stream(ctx context.Context, q *query, rows *sql.Rows, sess Session) error {
	types, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	loc := time.UTC
	if sess.TimeZone != "" {
		if l, err := time.LoadLocation(sess.TimeZone); err == nil {
			loc = l
		}
	}
	cols := make([]column, len(types))
	for i, t := range types {
		if cols[i], err = duckColumn(t.Name(), t.DatabaseTypeName(), loc); err != nil {
			return err
		}
	}
	if err := q.setColumns(cols); err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	p := e.newPager(cols)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		full, err := p.add(vals)
		if err != nil {
			return err
		}
		if full != nil {
			if err := q.send(ctx, *full); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return q.send(ctx, *p.take(true))
}

// updateCount reports a DML statement's affected rows the way Trino does:
// one bigint column "rows" and updateCount.
func (e *Engine) updateCount(ctx context.Context, q *query, rows *sql.Rows) error {
	var n int64
	if rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return err
		}
		switch x := v.(type) {
		case int64:
			n = x
		case int32:
			n = int64(x)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	q.updateCount = &n
	q.mu.Unlock()
	return e.emit(ctx, q, []column{{name: "rows", typ: "bigint", enc: encodeInt}}, [][]any{{n}})
}

// logEnd writes the query's one log line: never its text, only the
// literal-free fingerprint.
func (e *Engine) logEnd(q *query) {
	q.mu.Lock()
	state, rows := q.state, q.rows
	if q.err == nil {
		state = trino.StateFinished
	}
	var errName string
	if q.err != nil {
		errName = q.err.Code.Name
	}
	elapsed := q.finished.Sub(q.created)
	q.mu.Unlock()
	attrs := []any{"query_id", q.id, "user", q.user, "state", state, "rows", rows,
		"elapsed_ms", elapsed.Milliseconds(), "fingerprint", q.fingerprint}
	if errName != "" {
		attrs = append(attrs, "err", errName)
	}
	e.log.Info("query", attrs...)
}
