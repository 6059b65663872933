package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/meridian-lake/meridian/internal/store"
)

// AllPartitions is the partition key of a read that was not pruned: the
// statement may have read every partition of the table.
const AllPartitions = "*"

// Limits on what one access record may hold; the proxy passes names it took
// from a client's statement, so they are bounded like any external input.
const (
	maxAccessName = 1024
	maxAccessID   = 256
	// maxAccessPartitions is the most partition keys recorded for one
	// table and statement; a statement that read more is recorded as a read
	// of AllPartitions, which keeps every partition queryable (the safe
	// side).
	maxAccessPartitions = 1000
)

// accessMigrations are the access history's tables (owner
// "lifecycle-access"). One row per statement, table and partition read;
// times are Unix nanoseconds. began holds when recording started: reads
// before it are unknown, which the optimizer must not mistake for "never
// read".
var accessMigrations = []string{
	`CREATE TABLE lifecycle_access (
		seq INTEGER PRIMARY KEY AUTOINCREMENT, query_id TEXT NOT NULL, at INTEGER NOT NULL, user TEXT NOT NULL,
		tbl TEXT NOT NULL, part TEXT NOT NULL, bytes INTEGER NOT NULL DEFAULT 0);
	CREATE INDEX lifecycle_access_by_partition ON lifecycle_access (tbl, part, at);
	CREATE INDEX lifecycle_access_by_time ON lifecycle_access (at);
	CREATE TABLE lifecycle_access_began (began INTEGER NOT NULL);
	INSERT INTO lifecycle_access_began (began) VALUES (CAST(unixepoch('subsec') * 1000000000 AS INTEGER))`,
}

// AccessRecord is what one statement read of one table.
type AccessRecord struct {
	// QueryID is the statement's query id.
	QueryID string
	// At is when the statement was allowed.
	At time.Time
	// User is who ran it.
	User string
	// Table is the table's canonical Trino name (catalog.schema.table), as
	// catalog.TableRef.String spells it.
	Table string
	// Partitions are the partition keys the statement read after pruning,
	// in the catalog's PartitionStats.Key form ("check_in_day=2024-01-31");
	// nil (or AllPartitions) when it was not pruned.
	Partitions []string
	// Bytes is the planner's estimate of the bytes read from the table.
	Bytes int64
}

// AccessLog is the access history in the state store: the proxy records
// every allowed statement's reads, and lifecycle reads them back as an
// [AccessHistory]. It is safe for concurrent use.
//
// Concurrent Record calls share transactions (group commit): a commit
// waits for the disk, and the statements that arrive meanwhile are written
// together in the next one, so the cost per statement falls as load rises
// while every Record still returns only once its rows are durable.
type AccessLog struct {
	db *store.DB

	mu      sync.Mutex
	writing bool
	queue   []*accessBatch
}

// accessBatch is one Record call waiting for its commit.
type accessBatch struct {
	recs []AccessRecord
	done chan error
}

// NewAccessLog opens the access history in db, creating its tables.
func NewAccessLog(ctx context.Context, db *store.DB) (*AccessLog, error) {
	if db == nil {
		return nil, errors.New("access log: no state database")
	}
	if err := db.Migrate(ctx, "lifecycle-access", accessMigrations); err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	return &AccessLog{db: db}, nil
}

// Record stores what one statement read: one record per table, written in
// one transaction with one INSERT per table. It is on the statement path,
// so it does no reads and holds no lock beyond the write.
func (l *AccessLog) Record(ctx context.Context, recs ...AccessRecord) error {
	if len(recs) == 0 {
		return nil
	}
	for i := range recs {
		if err := recs[i].check(); err != nil {
			return err
		}
	}
	b := &accessBatch{recs: recs, done: make(chan error, 1)}
	l.mu.Lock()
	l.queue = append(l.queue, b)
	if l.writing {
		// Wait for the writer to commit this batch, or to hand over the
		// writing. Waiters do not give up on their context: a writer may be
		// handing over to them, and the wait is bounded by the store's busy
		// timeout.
		l.mu.Unlock()
		if err := <-b.done; !errors.Is(err, errAccessLead) {
			return err
		}
		l.mu.Lock()
	} else {
		l.writing = true
	}
	// This call writes everything queued, its own batch included.
	batches := l.queue
	l.queue = nil
	l.mu.Unlock()
	var all []AccessRecord
	for _, q := range batches {
		all = append(all, q.recs...)
	}
	// Not the caller's context: other callers' rows ride on this commit.
	err := l.write(context.WithoutCancel(ctx), all)
	for _, q := range batches {
		q.done <- err
	}
	// Hand the writing to the oldest waiter, so no caller writes for
	// others for ever under steady load.
	l.mu.Lock()
	if len(l.queue) > 0 {
		l.queue[0].done <- errAccessLead
	} else {
		l.writing = false
	}
	l.mu.Unlock()
	return <-b.done
}

// errAccessLead tells a waiting Record call to write the queue itself.
var errAccessLead = errors.New("access log: write the queue")

// write inserts recs in one transaction, one INSERT per record.
func (l *AccessLog) write(ctx context.Context, recs []AccessRecord) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("access log: %w", err)
	}
	defer tx.Rollback()
	var q strings.Builder
	for _, r := range recs {
		parts := r.Partitions
		if len(parts) == 0 || len(parts) > maxAccessPartitions {
			parts = []string{AllPartitions}
		}
		q.Reset()
		q.WriteString(`INSERT INTO lifecycle_access (query_id, at, user, tbl, part, bytes) VALUES `)
		args := make([]any, 0, 6*len(parts))
		// The byte estimate is the table's; it is kept on the first row so
		// sums over rows stay right.
		bytes := r.Bytes
		for i, p := range parts {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, r.QueryID, r.At.UnixNano(), r.User, r.Table, p, bytes)
			bytes = 0
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("access log: record %s: %w", r.QueryID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("access log: %w", err)
	}
	return nil
}

func (r AccessRecord) check() error {
	switch {
	case r.QueryID == "" || len(r.QueryID) > maxAccessID:
		return fmt.Errorf("access log: query id %q: want 1 to %d bytes", r.QueryID, maxAccessID)
	case len(r.User) > maxAccessID:
		return fmt.Errorf("access log: query %s: user name over %d bytes", r.QueryID, maxAccessID)
	case r.Table == "" || len(r.Table) > maxAccessName:
		return fmt.Errorf("access log: query %s: table name empty or over %d bytes", r.QueryID, maxAccessName)
	case r.At.IsZero():
		return fmt.Errorf("access log: query %s: no time", r.QueryID)
	case r.Bytes < 0:
		return fmt.Errorf("access log: query %s: negative byte estimate", r.QueryID)
	}
	for _, p := range r.Partitions {
		if p == "" || len(p) > maxAccessName {
			return fmt.Errorf("access log: query %s table %s: partition key empty or over %d bytes", r.QueryID, r.Table, maxAccessName)
		}
	}
	return nil
}

// Began is when recording started: the earlier of the log's creation and
// its oldest record (a history imported from elsewhere may predate it).
func (l *AccessLog) Began(ctx context.Context) (time.Time, error) {
	var began int64
	err := l.db.QueryRowContext(ctx, `SELECT min(b) FROM (SELECT min(began) AS b FROM lifecycle_access_began
		UNION ALL SELECT min(at) FROM lifecycle_access)`).Scan(&began)
	if err != nil {
		return time.Time{}, fmt.Errorf("access log: %w", err)
	}
	return time.Unix(0, began).UTC(), nil
}

// Summary reads the last access and the number of reads per table and
// partition since since (or since recording began, if later), in one
// query. The result is what the optimizer takes.
func (l *AccessLog) Summary(ctx context.Context, since time.Time) (*AccessSummary, error) {
	began, err := l.Began(ctx)
	if err != nil {
		return nil, err
	}
	if since.Before(began) {
		since = began
	}
	rows, err := l.db.QueryContext(ctx, `SELECT tbl, part, max(at), count(DISTINCT query_id) FROM lifecycle_access
		WHERE at >= ? GROUP BY tbl, part`, since.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	defer rows.Close()
	s := &AccessSummary{Since: since, Reads: map[[2]string]Access{}}
	for rows.Next() {
		var tbl, part string
		var last, count int64
		if err := rows.Scan(&tbl, &part, &last, &count); err != nil {
			return nil, fmt.Errorf("access log: %w", err)
		}
		s.Reads[[2]string{tbl, part}] = Access{Last: time.Unix(0, last).UTC(), Count: count}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	return s, nil
}

// Purge deletes the records older than before and returns how many went.
// Recording is then taken to have begun at before.
func (l *AccessLog) Purge(ctx context.Context, before time.Time) (int64, error) {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("access log: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM lifecycle_access WHERE at < ?`, before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("access log: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE lifecycle_access_began SET began = max(began, ?)`, before.UnixNano()); err != nil {
		return 0, fmt.Errorf("access log: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("access log: %w", err)
	}
	return res.RowsAffected()
}

// AccessSummary is the access history as read from an [AccessLog]: the
// last read and the number of statements per table and partition. A read
// of [AllPartitions] counts for every partition of its table.
type AccessSummary struct {
	// Since is when the summarised period began.
	Since time.Time
	// Reads maps {table, partition key} to its reads; key AllPartitions
	// holds the unpruned reads of a table.
	Reads map[[2]string]Access
}

var _ AccessHistory = (*AccessSummary)(nil)

// Access implements AccessHistory: the partition's own reads combined with
// the table's unpruned ones.
func (s *AccessSummary) Access(_ context.Context, table, partition string) (Access, error) {
	a := s.Reads[[2]string{table, partition}]
	if partition != AllPartitions {
		if all, ok := s.Reads[[2]string{table, AllPartitions}]; ok {
			a.Count += all.Count
			if all.Last.After(a.Last) {
				a.Last = all.Last
			}
		}
	}
	a.Since = s.Since
	return a, nil
}
