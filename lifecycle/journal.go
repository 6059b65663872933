package lifecycle

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/meridian-lake/meridian/internal/store"
)

// execMigrations are the executor's tables (owner "lifecycle-exec"). A job
// is one run of a plan (or a dry run of one); its journal has a row per
// action and a row per object, each written before the work (intent) and
// after it (done). Times are Unix nanoseconds, 0 for "not yet".
var execMigrations = []string{
	`CREATE TABLE lifecycle_jobs (
		id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, plan TEXT NOT NULL,
		started INTEGER NOT NULL, finished INTEGER NOT NULL DEFAULT 0,
		owner TEXT NOT NULL, lease_until INTEGER NOT NULL,
		actions INTEGER NOT NULL DEFAULT 0, actions_done INTEGER NOT NULL DEFAULT 0,
		copied INTEGER NOT NULL DEFAULT 0, tagged INTEGER NOT NULL DEFAULT 0, recovered INTEGER NOT NULL DEFAULT 0,
		skipped INTEGER NOT NULL DEFAULT 0, changed INTEGER NOT NULL DEFAULT 0,
		bytes_moved INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '');
	CREATE INDEX lifecycle_jobs_by_start ON lifecycle_jobs (started);
	CREATE TABLE lifecycle_journal_actions (
		job TEXT NOT NULL REFERENCES lifecycle_jobs (id), action TEXT NOT NULL, bucket TEXT NOT NULL, prefix TEXT NOT NULL,
		tbl TEXT NOT NULL, part TEXT NOT NULL, from_class TEXT NOT NULL, to_class TEXT NOT NULL, method TEXT NOT NULL,
		intent_at INTEGER NOT NULL, done_at INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (job, action));
	CREATE TABLE lifecycle_journal (
		job TEXT NOT NULL REFERENCES lifecycle_jobs (id), action TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL,
		from_class TEXT NOT NULL, to_class TEXT NOT NULL, method TEXT NOT NULL, size INTEGER NOT NULL,
		intent_at INTEGER NOT NULL, done_at INTEGER NOT NULL DEFAULT 0, outcome TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (job, bucket, key));
	CREATE INDEX lifecycle_journal_pending ON lifecycle_journal (job, action, done_at)`,
}

// Job kinds.
const (
	KindApply  = "apply"
	KindDryRun = "dry-run"
)

// Job statuses. A job that is "running" but whose owner is gone (killed)
// is resumed by the next apply.
const (
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
	// StatusAbandoned: an operator gave up on an unfinished job (Abandon).
	StatusAbandoned = "abandoned"
)

// Outcomes of one object in the journal.
const (
	// OutcomeCopied: the object was copied into the new class by this job.
	OutcomeCopied = "copied"
	// OutcomeTagged: the object was tagged for the bucket lifecycle rule.
	OutcomeTagged = "tagged"
	// OutcomeRecovered: a job killed after the copy and before writing
	// "done" left the intent; the rerun's HeadObject found the object
	// already in the new class and did not copy it again.
	OutcomeRecovered = "recovered"
	// OutcomeChanged: the object's class is neither the plan's From nor
	// its To (it changed since planning); it was left alone.
	OutcomeChanged = "changed"
	// OutcomeGone: the object was deleted since planning.
	OutcomeGone = "gone"
)

// Job is one recorded executor run.
type Job struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`
	Status   string    `json:"status"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	// Owner is host:pid of the process that runs (or ran) it.
	Owner       string `json:"owner"`
	Actions     int64  `json:"actions"`
	ActionsDone int64  `json:"actions_done"`
	// Copied, Tagged and Recovered count objects moved (or tagged) by the
	// job; Skipped counts objects already in the target class that the job
	// did not journal; Changed counts objects left alone.
	Copied     int64  `json:"copied"`
	Tagged     int64  `json:"tagged"`
	Recovered  int64  `json:"recovered"`
	Skipped    int64  `json:"skipped"`
	Changed    int64  `json:"changed"`
	BytesMoved int64  `json:"bytes_moved"`
	Error      string `json:"error,omitempty"`
}

// JournalEntry is one object's row in a job's journal.
type JournalEntry struct {
	Job     string       `json:"job"`
	Action  string       `json:"action"`
	Bucket  string       `json:"bucket"`
	Key     string       `json:"key"`
	From    StorageClass `json:"from"`
	To      StorageClass `json:"to"`
	Method  string       `json:"method"`
	Size    int64        `json:"size"`
	Intent  time.Time    `json:"intent"`
	Done    time.Time    `json:"done,omitzero"`
	Outcome string       `json:"outcome,omitempty"`
}

// journal is the executor's view of the tables.
type journal struct {
	db *store.DB
}

func newJobID(now time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// owner names this process, so a later run on the same host can tell that
// the job's process is gone.
func owner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// ownerGone reports whether the owner host:pid is a process on this host
// that no longer exists.
func ownerGone(o string) bool {
	host, pidText, ok := strings.Cut(o, ":")
	me, _ := os.Hostname()
	if !ok || host != me {
		return false
	}
	var pid int
	if _, err := fmt.Sscan(pidText, &pid); err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func (j *journal) create(ctx context.Context, id, kind string, plan *Plan, now time.Time, lease time.Duration) error {
	data, err := json.Marshal(plan)
	if err != nil {
		return fmt.Errorf("journal: encode plan: %w", err)
	}
	_, err = j.db.ExecContext(ctx, `INSERT INTO lifecycle_jobs (id, kind, status, plan, started, owner, lease_until, actions)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, kind, StatusRunning, string(data), now.UnixNano(), owner(),
		now.Add(lease).UnixNano(), len(plan.Actions))
	if err != nil {
		return fmt.Errorf("journal: create job: %w", err)
	}
	return nil
}

// claim finds the newest unfinished apply job that nobody runs (its lease
// ran out, or its owner on this host is gone) and takes it over. It returns
// the job's id and plan, or ok false when there is none.
func (j *journal) claim(ctx context.Context, now time.Time, lease time.Duration) (id string, plan *Plan, ok bool, err error) {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return "", nil, false, fmt.Errorf("journal: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id, owner, lease_until, plan FROM lifecycle_jobs
		WHERE kind = ? AND finished = 0 ORDER BY started DESC`, KindApply)
	if err != nil {
		return "", nil, false, fmt.Errorf("journal: %w", err)
	}
	var data string
	var busy []string
	for rows.Next() {
		var o string
		var until int64
		if err := rows.Scan(&id, &o, &until, &data); err != nil {
			rows.Close()
			return "", nil, false, fmt.Errorf("journal: %w", err)
		}
		if now.UnixNano() >= until || ownerGone(o) {
			ok = true
			break
		}
		busy = append(busy, id+" (run by "+o+")")
	}
	rows.Close()
	if !ok {
		if len(busy) > 0 {
			return "", nil, false, fmt.Errorf("%w: %s", ErrJobRunning, strings.Join(busy, ", "))
		}
		return "", nil, false, nil
	}
	plan = new(Plan)
	if err := json.Unmarshal([]byte(data), plan); err != nil {
		return "", nil, false, fmt.Errorf("journal: job %s: stored plan: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE lifecycle_jobs SET owner = ?, lease_until = ?, status = ?, error = '' WHERE id = ?`,
		owner(), now.Add(lease).UnixNano(), StatusRunning, id); err != nil {
		return "", nil, false, fmt.Errorf("journal: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", nil, false, fmt.Errorf("journal: %w", err)
	}
	return id, plan, true, nil
}

// ErrJobRunning: another process holds an unfinished apply job.
var ErrJobRunning = errors.New("another apply job is running; wait for it or for its lease to run out")

func (j *journal) renew(ctx context.Context, id string, until time.Time) error {
	_, err := j.db.ExecContext(ctx, `UPDATE lifecycle_jobs SET lease_until = ? WHERE id = ? AND owner = ?`, until.UnixNano(), id, owner())
	if err != nil {
		return fmt.Errorf("journal: renew lease: %w", err)
	}
	return nil
}

// finish records the end of job id with its counts (recomputed from the
// journal for apply jobs, so a resumed job reports the whole run).
func (j *journal) finish(ctx context.Context, id string, c Counts, now time.Time, runErr error) error {
	status, msg, finished := StatusDone, "", now.UnixNano()
	if runErr != nil {
		status, msg, finished = StatusFailed, runErr.Error(), 0
	}
	_, err := j.db.ExecContext(ctx, `UPDATE lifecycle_jobs SET status = ?, finished = ?, error = ?, actions_done = ?,
		copied = ?, tagged = ?, recovered = ?, skipped = ?, changed = ?, bytes_moved = ?, lease_until = 0 WHERE id = ?`,
		status, finished, msg, c.ActionsDone, c.Copied, c.Tagged, c.Recovered, c.Skipped, c.Changed, c.BytesMoved, id)
	if err != nil {
		return fmt.Errorf("journal: finish job %s: %w", id, err)
	}
	return nil
}

// Abandon marks the unfinished apply job id as finished without completing
// it (status "abandoned"), so apply stops resuming it; what it moved stays
// moved and journalled.
func Abandon(ctx context.Context, db *store.DB, id string) error {
	if err := db.Migrate(ctx, "lifecycle-exec", execMigrations); err != nil {
		return err
	}
	res, err := db.ExecContext(ctx, `UPDATE lifecycle_jobs SET status = ?, finished = ?, lease_until = 0 WHERE id = ? AND finished = 0`,
		StatusAbandoned, time.Now().UnixNano(), id)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("no unfinished lifecycle job %q: `meridian lifecycle jobs` lists them", id)
	}
	return nil
}

// actionState returns whether the action has an intent and whether it is
// done in job.
func (j *journal) actionState(ctx context.Context, job, action string) (intent, done bool, err error) {
	var doneAt int64
	err = j.db.QueryRowContext(ctx, `SELECT done_at FROM lifecycle_journal_actions WHERE job = ? AND action = ?`, job, action).Scan(&doneAt)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("journal: %w", err)
	}
	return true, doneAt != 0, nil
}

func (j *journal) actionIntent(ctx context.Context, job string, a Action, method string, now time.Time) error {
	_, err := j.db.ExecContext(ctx, `INSERT INTO lifecycle_journal_actions (job, action, bucket, prefix, tbl, part, from_class, to_class, method, intent_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job, action) DO NOTHING`,
		job, a.ID, a.Bucket, a.Prefix, a.Table, a.Partition, string(a.From), string(a.To), method, now.UnixNano())
	if err != nil {
		return fmt.Errorf("journal: action %s intent: %w", a.ID, err)
	}
	return nil
}

func (j *journal) actionDone(ctx context.Context, job, action string, now time.Time) error {
	_, err := j.db.ExecContext(ctx, `UPDATE lifecycle_journal_actions SET done_at = ? WHERE job = ? AND action = ?`, now.UnixNano(), job, action)
	if err != nil {
		return fmt.Errorf("journal: action %s done: %w", action, err)
	}
	return nil
}

// intents writes the intent rows of objs, in one transaction, before any
// of them is touched. Objects already journalled in job are left as they are.
func (j *journal) intents(ctx context.Context, job string, a Action, method string, objs []Object, now time.Time) error {
	if len(objs) == 0 {
		return nil
	}
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO lifecycle_journal (job, action, bucket, key, from_class, to_class, method, size, intent_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job, bucket, key) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer st.Close()
	for _, o := range objs {
		if _, err := st.ExecContext(ctx, job, a.ID, o.Bucket, o.Key, string(a.From), string(a.To), method, o.Size, now.UnixNano()); err != nil {
			return fmt.Errorf("journal: intent s3://%s/%s: %w", o.Bucket, o.Key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// doneMark is one object's completion.
type doneMark struct {
	bucket, key, outcome string
	at                   time.Time
	// flushed, on a mark with no object, asks the writer to report when
	// every mark before it is committed.
	flushed chan error
}

// dones writes completions in one transaction.
func (j *journal) dones(ctx context.Context, job string, marks []doneMark) error {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `UPDATE lifecycle_journal SET done_at = ?, outcome = ? WHERE job = ? AND bucket = ? AND key = ? AND done_at = 0`)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer st.Close()
	for _, m := range marks {
		if m.flushed != nil {
			continue
		}
		if _, err := st.ExecContext(ctx, m.at.UnixNano(), m.outcome, job, m.bucket, m.key); err != nil {
			return fmt.Errorf("journal: done s3://%s/%s: %w", m.bucket, m.key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// journalled returns the keys of action's objects in job, with whether
// each is done.
func (j *journal) journalled(ctx context.Context, job, action string) (map[string]bool, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT key, done_at FROM lifecycle_journal WHERE job = ? AND action = ?`, job, action)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		var done int64
		if err := rows.Scan(&k, &done); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		out[k] = done != 0
	}
	return out, rows.Err()
}

// counts totals job's journal.
func (j *journal) counts(ctx context.Context, job string) (Counts, error) {
	var c Counts
	err := j.db.QueryRowContext(ctx, `SELECT
		coalesce(sum(outcome = 'copied'), 0), coalesce(sum(outcome = 'tagged'), 0), coalesce(sum(outcome = 'recovered'), 0),
		coalesce(sum(outcome IN ('changed', 'gone')), 0),
		coalesce(sum(CASE WHEN outcome IN ('copied', 'recovered') THEN size ELSE 0 END), 0)
		FROM lifecycle_journal WHERE job = ?`, job).Scan(&c.Copied, &c.Tagged, &c.Recovered, &c.Changed, &c.BytesMoved)
	if err != nil {
		return c, fmt.Errorf("journal: %w", err)
	}
	if err := j.db.QueryRowContext(ctx, `SELECT count(*) FROM lifecycle_journal_actions WHERE job = ? AND done_at != 0`, job).Scan(&c.ActionsDone); err != nil {
		return c, fmt.Errorf("journal: %w", err)
	}
	return c, nil
}

const jobColumns = `id, kind, status, started, finished, owner, actions, actions_done, copied, tagged, recovered, skipped, changed, bytes_moved, error`

func scanJob(sc interface{ Scan(...any) error }) (Job, error) {
	var jb Job
	var started, finished int64
	err := sc.Scan(&jb.ID, &jb.Kind, &jb.Status, &started, &finished, &jb.Owner, &jb.Actions, &jb.ActionsDone,
		&jb.Copied, &jb.Tagged, &jb.Recovered, &jb.Skipped, &jb.Changed, &jb.BytesMoved, &jb.Error)
	jb.Started = time.Unix(0, started).UTC()
	if finished != 0 {
		jb.Finished = time.Unix(0, finished).UTC()
	}
	return jb, err
}

// Jobs returns the recorded jobs, newest first, at most limit.
func Jobs(ctx context.Context, db *store.DB, limit int) ([]Job, error) {
	if err := db.Migrate(ctx, "lifecycle-exec", execMigrations); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT `+jobColumns+` FROM lifecycle_jobs ORDER BY started DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		jb, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		out = append(out, jb)
	}
	return out, rows.Err()
}

// JobByID returns one job.
func JobByID(ctx context.Context, db *store.DB, id string) (Job, error) {
	if err := db.Migrate(ctx, "lifecycle-exec", execMigrations); err != nil {
		return Job{}, err
	}
	jb, err := scanJob(db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM lifecycle_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("no lifecycle job %q: `meridian lifecycle jobs` lists them", id)
	}
	if err != nil {
		return Job{}, fmt.Errorf("journal: %w", err)
	}
	return jb, nil
}

// Journal returns job's object entries in the order they were written.
func Journal(ctx context.Context, db *store.DB, job string) ([]JournalEntry, error) {
	if err := db.Migrate(ctx, "lifecycle-exec", execMigrations); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT job, action, bucket, key, from_class, to_class, method, size, intent_at, done_at, outcome
		FROM lifecycle_journal WHERE job = ? ORDER BY intent_at, bucket, key`, job)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var out []JournalEntry
	for rows.Next() {
		var e JournalEntry
		var intent, done int64
		if err := rows.Scan(&e.Job, &e.Action, &e.Bucket, &e.Key, &e.From, &e.To, &e.Method, &e.Size, &intent, &done, &e.Outcome); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		e.Intent = time.Unix(0, intent).UTC()
		if done != 0 {
			e.Done = time.Unix(0, done).UTC()
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
