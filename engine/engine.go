package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/meridian-lake/meridian/catalog"
)

// Config configures one regional engine. Zero values take the defaults
// noted on each field.
type Config struct {
	// Region is the region this engine serves ("eu"). /v1/info reports it as
	// the environment.
	Region string
	// Allowed are the warehouse locations this region may read
	// ("s3://lake-eu/", "file:///var/lake/eu/"); tables elsewhere fail.
	Allowed []string
	// CacheDir holds local copies of remote data files ("" = none).
	CacheDir string
	// MemoryLimit is DuckDB's memory_limit ("4GB"); "" keeps DuckDB's default
	// (80% of the machine's memory).
	MemoryLimit string
	// Threads is DuckDB's worker thread count (0 = one per CPU).
	Threads int
	// PageRows bounds the rows of one result page (default 10,000).
	PageRows int
	// PageBytes bounds the JSON bytes of one page's rows (default 1 MiB). A
	// page always holds at least one row, so a single huge row can exceed it.
	PageBytes int
	// MaxRunning bounds the statements running in DuckDB at once (default
	// 8); later ones wait in state QUEUED.
	MaxRunning int
	// MaxWait is how long a client's request waits for the next page before
	// it is answered with progress only (default 1s), as Trino long-polls.
	MaxWait time.Duration
	// ClientTimeout cancels and forgets a query whose client has not asked
	// for its next page for this long (default 5m, Trino's
	// query.client.timeout).
	ClientTimeout time.Duration
	// Retain is how long a finished query stays queryable through
	// /v1/query/{id} and repeated page requests (default 1m).
	Retain time.Duration
	// MaxStatementBytes bounds the statement text (default 1 MiB).
	MaxStatementBytes int
	// Version is reported by /v1/info (default "meridian-engine").
	Version string
	// Compile, when set, replaces the Lake's compiler. Tests plug in a
	// pass-through compiler to exercise the protocol without tables.
	Compile CompileFunc
}

// CompileFunc turns one Trino statement into DuckDB SQL on conn; see
// Lake.Compile.
type CompileFunc func(ctx context.Context, conn *sql.Conn, text string, sess Session, params []string) (*Compiled, error)

func (c Config) withDefaults() Config {
	if c.PageRows <= 0 {
		c.PageRows = 10_000
	}
	if c.PageBytes <= 0 {
		c.PageBytes = 1 << 20
	}
	if c.MaxRunning <= 0 {
		c.MaxRunning = 8
	}
	if c.MaxWait <= 0 {
		c.MaxWait = time.Second
	}
	if c.ClientTimeout <= 0 {
		c.ClientTimeout = 5 * time.Minute
	}
	if c.Retain <= 0 {
		c.Retain = time.Minute
	}
	if c.MaxStatementBytes <= 0 {
		c.MaxStatementBytes = 1 << 20
	}
	if c.Version == "" {
		c.Version = "meridian-engine"
	}
	return c
}

// Validate says what is wrong with the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Region == "" {
		errs = append(errs, errors.New("engine: region is required"))
	}
	if len(c.Allowed) == 0 && c.Compile == nil {
		errs = append(errs, fmt.Errorf("engine %s: no allowed warehouse locations: list the region's locations in the catalog config or pass --allow", c.Region))
	}
	if c.Threads < 0 {
		errs = append(errs, errors.New("engine: threads must not be negative"))
	}
	return errors.Join(errs...)
}

// Engine is one region's Trino-protocol coordinator over DuckDB. It is an
// http.Handler; Close cancels what runs and closes DuckDB.
type Engine struct {
	cfg     Config
	cat     *catalog.Catalog
	db      *sql.DB
	log     *slog.Logger
	compile CompileFunc
	ids     *idSource
	started time.Time
	handler http.Handler

	mu      sync.Mutex
	queries map[string]*query
	closed  bool

	executing atomic.Int64 // DuckDB statements in flight
	wg        sync.WaitGroup
	stop      chan struct{}
}

// New opens an in-memory DuckDB database with cfg's limits and returns an
// Engine serving cat's tables. log receives one line per query.
func New(cfg Config, cat *catalog.Catalog, log *slog.Logger) (*Engine, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := url.Values{}
	if cfg.MemoryLimit != "" {
		q.Set("memory_limit", cfg.MemoryLimit)
	}
	if cfg.Threads > 0 {
		q.Set("threads", strconv.Itoa(cfg.Threads))
	}
	dsn := ""
	if len(q) > 0 {
		dsn = "?" + q.Encode()
	}
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("engine: open DuckDB: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(cfg.MaxRunning)
	db.SetMaxIdleConns(cfg.MaxRunning)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("engine: open DuckDB: %w", err)
	}
	e := &Engine{
		cfg:     cfg,
		cat:     cat,
		db:      db,
		log:     log.With("region", cfg.Region),
		compile: cfg.Compile,
		ids:     newIDSource(),
		started: time.Now(),
		queries: map[string]*query{},
		stop:    make(chan struct{}),
	}
	if e.compile == nil {
		lake, err := NewLake(cat, LakeConfig{Region: cfg.Region, Allowed: cfg.Allowed, CacheDir: cfg.CacheDir})
		if err != nil {
			db.Close()
			return nil, err
		}
		e.compile = lake.Compile
	}
	e.handler = e.routes()
	e.wg.Add(1)
	go e.reap()
	return e, nil
}

// Close cancels every query, waits for them to stop and closes DuckDB.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	qs := make([]*query, 0, len(e.queries))
	for _, q := range e.queries {
		qs = append(qs, q)
	}
	e.mu.Unlock()
	close(e.stop)
	for _, q := range qs {
		q.fail(errShuttingDown)
	}
	e.wg.Wait()
	return e.db.Close()
}

// Executing is the number of statements DuckDB is running or streaming now.
func (e *Engine) Executing() int { return int(e.executing.Load()) }

// Queries is the number of queries the engine holds (running, or finished
// and retained).
func (e *Engine) Queries() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.queries)
}

// DB is the engine's DuckDB database, for tests that inspect it.
func (e *Engine) DB() *sql.DB { return e.db }

// reap cancels abandoned queries and forgets finished ones.
func (e *Engine) reap() {
	defer e.wg.Done()
	every := min(e.cfg.Retain, e.cfg.ClientTimeout) / 4
	every = max(every, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case now := <-t.C:
			e.reapOnce(now)
		}
	}
}

func (e *Engine) reapOnce(now time.Time) {
	e.mu.Lock()
	var abandoned []*query
	for id, q := range e.queries {
		idle, done := q.idle(now)
		switch {
		case done && idle > e.cfg.Retain:
			delete(e.queries, id)
		case !done && idle > e.cfg.ClientTimeout:
			abandoned = append(abandoned, q)
		}
	}
	e.mu.Unlock()
	for _, q := range abandoned {
		q.fail(errAbandoned(e.cfg.ClientTimeout))
	}
}

func (e *Engine) add(q *query) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.queries[q.id] = q
	return true
}

func (e *Engine) lookup(id string) *query {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.queries[id]
}
