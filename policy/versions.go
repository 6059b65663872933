package policy

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/meridian-lake/meridian/internal/store"
)

// migrations are policy's tables in the state store.
var migrations = []string{
	`CREATE TABLE policy_versions (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		hash TEXT NOT NULL,
		author TEXT NOT NULL,
		message TEXT NOT NULL,
		created_at TEXT NOT NULL,
		files TEXT NOT NULL,
		tests_passed INTEGER NOT NULL,
		tests_failed INTEGER NOT NULL,
		coverage REAL NOT NULL
	);
	CREATE TABLE policy_activations (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		version_id INTEGER NOT NULL REFERENCES policy_versions (id),
		actor TEXT NOT NULL,
		action TEXT NOT NULL,
		at TEXT NOT NULL
	);
	CREATE TABLE policy_decisions (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		id TEXT NOT NULL UNIQUE,
		at TEXT NOT NULL,
		query_id TEXT NOT NULL,
		user_name TEXT NOT NULL,
		fingerprint TEXT NOT NULL,
		statement TEXT NOT NULL,
		allow INTEGER NOT NULL,
		regions TEXT NOT NULL,
		violations TEXT NOT NULL,
		version_id INTEGER NOT NULL,
		eval_us INTEGER NOT NULL,
		input TEXT NOT NULL
	);
	CREATE INDEX policy_decisions_at ON policy_decisions (at);
	CREATE INDEX policy_decisions_user ON policy_decisions (user_name, at);
	CREATE TABLE policy_decision_tables (
		seq INTEGER NOT NULL REFERENCES policy_decisions (seq) ON DELETE CASCADE,
		table_name TEXT NOT NULL
	);
	CREATE INDEX policy_decision_tables_name ON policy_decision_tables (table_name, seq);
	CREATE TABLE policy_decision_rules (
		seq INTEGER NOT NULL REFERENCES policy_decisions (seq) ON DELETE CASCADE,
		rule TEXT NOT NULL
	);
	CREATE INDEX policy_decision_rules_rule ON policy_decision_rules (rule, seq)`,
	// Reading a record's tables and cascading deletes look rows up by seq.
	`CREATE INDEX policy_decision_tables_seq ON policy_decision_tables (seq);
	CREATE INDEX policy_decision_rules_seq ON policy_decision_rules (seq)`,
	// How far each decision journal is indexed (see journal.go).
	`CREATE TABLE policy_journals (
		dir TEXT PRIMARY KEY,
		gen INTEGER NOT NULL,
		off INTEGER NOT NULL
	)`,
}

// Version is a stored policy version.
type Version struct {
	ID        int64      `json:"id"`
	Hash      string     `json:"hash"`
	Author    string     `json:"author"`
	Message   string     `json:"message"`
	CreatedAt time.Time  `json:"created_at"`
	Tests     TestReport `json:"tests"`
	Active    bool       `json:"active"`
	// Evaluator is, for the active version, what decides its statements in
	// this process (Compiled.Evaluator): "plan", or "topdown: " and why.
	Evaluator string `json:"evaluator,omitempty"`
}

// Activation is one change of the active version.
type Activation struct {
	VersionID int64     `json:"version_id"`
	Actor     string    `json:"actor"`
	Action    string    `json:"action"` // activate | rollback
	At        time.Time `json:"at"`
}

// Registry stores policy versions and decides which one the engine serves.
// Activations are serialised: two concurrent activations cannot interleave.
type Registry struct {
	db     *store.DB
	engine *Engine
	now    func() time.Time

	mu sync.Mutex // serialises activations

	groupMu sync.Mutex
	group   chan *pendingRecord // nil when no group committer runs
	journal *journal            // set by OpenJournal
}

// ErrNoVersion: the requested version does not exist, or nothing is active.
var ErrNoVersion = errors.New("no such policy version")

// OpenRegistry prepares the state store and returns a registry. When no
// version is active yet, fallback (the shipped pack) is stored and activated
// by actor "meridian", so a fresh system always has a version to roll back to.
// The returned Engine serves the active version.
func OpenRegistry(ctx context.Context, db *store.DB, fallback *Pack, timeout time.Duration) (*Registry, error) {
	if err := db.Migrate(ctx, "policy", migrations); err != nil {
		return nil, err
	}
	r := &Registry{db: db, now: time.Now}
	id, err := r.activeID(ctx)
	if errors.Is(err, ErrNoVersion) {
		v, err := r.Push(ctx, fallback, "meridian", "the shipped policy pack")
		if err != nil {
			return nil, fmt.Errorf("policy: the shipped pack: %w", err)
		}
		if err := r.record(ctx, v.ID, "meridian", "activate"); err != nil {
			return nil, err
		}
		id = v.ID
	} else if err != nil {
		return nil, err
	}
	c, err := r.compiled(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("policy: the active version %d no longer compiles: %w", id, err)
	}
	r.engine = NewEngine(c, timeout)
	return r, nil
}

// activeCompiled is the version the engine serves; nil before there is one.
func (r *Registry) activeCompiled() *Compiled {
	if r.engine == nil {
		return nil
	}
	return r.engine.Active()
}

// Engine is the engine serving the active version.
func (r *Registry) Engine() *Engine { return r.engine }

// Push stores a candidate version. It must parse and compile (errors name
// file, line and column); its tests are run and recorded but do not block
// the upload: they block activation.
func (r *Registry) Push(ctx context.Context, p *Pack, author, message string) (Version, error) {
	if strings.TrimSpace(author) == "" {
		return Version{}, errors.New("policy: a version needs an author")
	}
	if _, err := Compile(ctx, p); err != nil {
		return Version{}, err
	}
	rep, err := p.Test(ctx)
	if err != nil {
		var pe *PackError
		if !errors.As(err, &pe) {
			return Version{}, err
		}
		rep = TestReport{} // no tests: recorded as 0 passed, so it cannot be activated
	}
	files, err := json.Marshal(p.Files)
	if err != nil {
		return Version{}, err
	}
	now := r.now().UTC()
	res, err := r.db.ExecContext(ctx, `INSERT INTO policy_versions
		(hash, author, message, created_at, files, tests_passed, tests_failed, coverage) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Hash(), author, message, now.Format(time.RFC3339Nano), string(files), rep.Passed, rep.Failed, rep.Coverage)
	if err != nil {
		return Version{}, fmt.Errorf("policy: store version: %w", err)
	}
	id, _ := res.LastInsertId()
	return Version{ID: id, Hash: p.Hash(), Author: author, Message: message, CreatedAt: now, Tests: rep}, nil
}

// Activate makes version id active: it must compile and its tests must pass;
// otherwise the error says why and the active version keeps serving.
func (r *Registry) Activate(ctx context.Context, id int64, actor string) (Version, error) {
	return r.activate(ctx, id, actor, "activate")
}

// Rollback re-activates the version that was active before the current one.
func (r *Registry) Rollback(ctx context.Context, actor string) (Version, error) {
	r.mu.Lock()
	acts, err := r.activations(ctx, 0)
	r.mu.Unlock()
	if err != nil {
		return Version{}, err
	}
	if len(acts) < 2 {
		return Version{}, fmt.Errorf("policy: rollback: %w: no earlier active version", ErrNoVersion)
	}
	current := acts[0].VersionID
	for _, a := range acts[1:] {
		if a.VersionID != current {
			return r.activate(ctx, a.VersionID, actor, "rollback")
		}
	}
	return Version{}, fmt.Errorf("policy: rollback: %w: no earlier active version", ErrNoVersion)
}

func (r *Registry) activate(ctx context.Context, id int64, actor, action string) (Version, error) {
	if strings.TrimSpace(actor) == "" {
		return Version{}, errors.New("policy: an activation needs an actor")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v, err := r.version(ctx, id)
	if err != nil {
		return Version{}, err
	}
	c, err := r.compiled(ctx, id)
	if err != nil {
		return Version{}, fmt.Errorf("policy: version %d cannot be activated: %w", id, err)
	}
	rep, err := c.Pack().Test(ctx)
	if err != nil {
		return Version{}, fmt.Errorf("policy: version %d cannot be activated: %w", id, err)
	}
	if !rep.OK() {
		var failed []string
		for _, t := range rep.Results {
			if !t.Pass {
				failed = append(failed, fmt.Sprintf("%s (%s:%d): %s", t.Name, t.File, t.Line, t.Error))
			}
		}
		return Version{}, fmt.Errorf("policy: version %d cannot be activated: %d of %d tests fail: %s",
			id, rep.Failed, rep.Passed+rep.Failed, strings.Join(failed, "; "))
	}
	if err := r.record(ctx, id, actor, action); err != nil {
		return Version{}, err
	}
	r.engine.Swap(c)
	v.Active, v.Tests = true, rep
	return v, nil
}

func (r *Registry) record(ctx context.Context, id int64, actor, action string) error {
	_, err := r.db.ExecContext(ctx, `INSERT INTO policy_activations (version_id, actor, action, at) VALUES (?, ?, ?, ?)`,
		id, actor, action, r.now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("policy: record activation: %w", err)
	}
	return nil
}

// Active returns the active version's id.
func (r *Registry) ActiveID(ctx context.Context) (int64, error) { return r.activeID(ctx) }

func (r *Registry) activeID(ctx context.Context) (int64, error) {
	var id int64
	err := r.db.QueryRowContext(ctx, `SELECT version_id FROM policy_activations ORDER BY id DESC LIMIT 1`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNoVersion
	}
	return id, err
}

// Compiled loads and compiles a stored version (for impact analysis).
func (r *Registry) Compiled(ctx context.Context, id int64) (*Compiled, error) {
	return r.compiled(ctx, id)
}

func (r *Registry) compiled(ctx context.Context, id int64) (*Compiled, error) {
	var raw string
	err := r.db.QueryRowContext(ctx, `SELECT files FROM policy_versions WHERE id = ?`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("policy: version %d: %w", id, ErrNoVersion)
	}
	if err != nil {
		return nil, err
	}
	var files []File
	if err := json.Unmarshal([]byte(raw), &files); err != nil {
		return nil, fmt.Errorf("policy: version %d is corrupt: %w", id, err)
	}
	p, err := NewPack(files)
	if err != nil {
		return nil, err
	}
	c, err := Compile(ctx, p)
	if err != nil {
		return nil, err
	}
	c.version = id
	if err := r.checkPlan(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

func (r *Registry) version(ctx context.Context, id int64) (Version, error) {
	vs, err := r.list(ctx, `WHERE id = ?`, id)
	if err != nil {
		return Version{}, err
	}
	if len(vs) == 0 {
		return Version{}, fmt.Errorf("policy: version %d: %w", id, ErrNoVersion)
	}
	return vs[0], nil
}

// Versions lists the stored versions, newest first.
func (r *Registry) Versions(ctx context.Context) ([]Version, error) { return r.list(ctx, "") }

func (r *Registry) list(ctx context.Context, where string, args ...any) ([]Version, error) {
	active, err := r.activeID(ctx)
	if err != nil && !errors.Is(err, ErrNoVersion) {
		return nil, err
	}
	rows, err := r.db.QueryContext(ctx, `SELECT id, hash, author, message, created_at, tests_passed, tests_failed, coverage
		FROM policy_versions `+where+` ORDER BY id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var v Version
		var at string
		if err := rows.Scan(&v.ID, &v.Hash, &v.Author, &v.Message, &at, &v.Tests.Passed, &v.Tests.Failed, &v.Tests.Coverage); err != nil {
			return nil, err
		}
		v.CreatedAt, _ = time.Parse(time.RFC3339Nano, at)
		v.Active = v.ID == active
		if c := r.activeCompiled(); v.Active && c != nil && c.Version() == v.ID {
			v.Evaluator = c.Evaluator()
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// History lists activations and rollbacks, newest first (limit <= 0: all).
func (r *Registry) History(ctx context.Context, limit int) ([]Activation, error) {
	return r.activations(ctx, limit)
}

func (r *Registry) activations(ctx context.Context, limit int) ([]Activation, error) {
	q := `SELECT version_id, actor, action, at FROM policy_activations ORDER BY id DESC`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := r.db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Activation
	for rows.Next() {
		var a Activation
		var at string
		if err := rows.Scan(&a.VersionID, &a.Actor, &a.Action, &at); err != nil {
			return nil, err
		}
		a.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Refresh makes the engine serve the version active in the state store, if
// another process (the CLI, another replica) activated one since. It
// returns whether the engine changed.
func (r *Registry) Refresh(ctx context.Context) (bool, error) {
	id, err := r.activeID(ctx)
	if err != nil {
		return false, err
	}
	if r.engine.Active().version == id {
		return false, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.engine.Active().version == id {
		return false, nil
	}
	c, err := r.compiled(ctx, id)
	if err != nil {
		return false, fmt.Errorf("policy: the active version %d does not compile here: %w", id, err)
	}
	r.engine.Swap(c)
	return true, nil
}

// Watch calls Refresh every interval until ctx ends, reporting each change
// or failure to report (which may be nil). The engine keeps serving its
// version when a refresh fails.
func (r *Registry) Watch(ctx context.Context, interval time.Duration, report func(changed bool, err error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changed, err := r.Refresh(ctx)
			if report != nil && (changed || err != nil) {
				report(changed, err)
			}
		}
	}
}
