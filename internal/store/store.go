package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// Config says where the state database is.
type Config struct {
	// Path is the SQLite file (created if missing). ":memory:" keeps the state
	// in memory for tests.
	Path string `yaml:"path"`
	// BusyTimeout is how long a writer waits for a lock held by another
	// process before failing (default 5s).
	BusyTimeout time.Duration `yaml:"busy_timeout"`
	// Sync is how a commit reaches the disk: "full" (the default) syncs
	// every commit, so decision records survive a power loss; "normal"
	// leaves syncing to checkpoints, so they survive a crash of Meridian
	// but not of the machine, for a faster statement path.
	Sync string `yaml:"sync"`
}

func (c Config) withDefaults() Config {
	if c.BusyTimeout <= 0 {
		c.BusyTimeout = 5 * time.Second
	}
	if c.Sync == "" {
		c.Sync = "full"
	}
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Path == "" {
		return errors.New("store: path is empty: set the state database file")
	}
	if c.Sync != "full" && c.Sync != "normal" {
		return fmt.Errorf("store: sync %q: want full (every commit synced) or normal (synced at checkpoints)", c.Sync)
	}
	return nil
}

// DB is the state database.
type DB struct {
	*sql.DB
	path string
}

// Open opens (creating if needed) the state database.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dsn := cfg.Path
	if dsn != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o755); err != nil {
			return nil, fmt.Errorf("store: create directory for %s: %w", cfg.Path, err)
		}
		dsn = "file:" + (&url.URL{Path: cfg.Path}).EscapedPath()
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+strings.ToUpper(cfg.Sync)+")") // full by default: decision records survive a power loss
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", dsn+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", cfg.Path, err)
	}
	if cfg.Path == ":memory:" {
		db.SetMaxOpenConns(1) // every connection would get its own empty database
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", cfg.Path, err)
	}
	s := &DB{DB: db, path: cfg.Path}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		owner TEXT NOT NULL, step INTEGER NOT NULL, applied_at TEXT NOT NULL,
		PRIMARY KEY (owner, step))`); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", cfg.Path, err)
	}
	return s, nil
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Migrate applies, in order and each in its own transaction, the steps of
// owner's schema that have not run yet. Steps are append-only: never edit or
// reorder a released step, add a new one.
func (db *DB) Migrate(ctx context.Context, owner string, steps []string) error {
	for i, step := range steps {
		if err := db.migrateStep(ctx, owner, i+1, step); err != nil {
			return fmt.Errorf("store: migrate %s step %d: %w", owner, i+1, err)
		}
	}
	return nil
}

func (db *DB) migrateStep(ctx context.Context, owner string, n int, step string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var done int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE owner = ? AND step = ?`, owner, n).Scan(&done); err != nil {
		return err
	}
	if done > 0 {
		return nil
	}
	for _, stmt := range strings.Split(step, ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (owner, step, applied_at) VALUES (?, ?, ?)`,
		owner, n, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return err
	}
	return tx.Commit()
}
