package lifecycle

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ScheduledJob is one scheduled lifecycle job.
type ScheduledJob struct {
	// Name identifies the job in history ("expire-snapshots").
	Name string
	// Spec is a five-field cron schedule in UTC (ParseCron).
	Spec string
	// Run does the work. Its context ends when the scheduler stops or
	// loses its lease.
	Run func(ctx context.Context) error
}

// SchedulerConfig configures a Scheduler. The zero value of each field
// takes the default in its comment.
type SchedulerConfig struct {
	// Dialect is the state database's SQL dialect: "sqlite" (default) or
	// "postgres" (several replicas sharing one database).
	Dialect string
	// Owner names this replica in the lease and the history (default
	// hostname-pid-random).
	Owner string
	// Lease is how long a lease lasts without renewal (default 1 minute);
	// it is renewed every Lease/3. A replica that dies holding it delays
	// the jobs by at most this long.
	Lease time.Duration
	// Tick is how often the scheduler checks its lease and the schedules
	// (default 1 second).
	Tick time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives job failures (default: discard).
	Logger *slog.Logger
}

func (c SchedulerConfig) withDefaults() SchedulerConfig {
	if c.Dialect == "" {
		c.Dialect = "sqlite"
	}
	if c.Owner == "" {
		host, _ := os.Hostname()
		var b [4]byte
		rand.Read(b[:])
		c.Owner = host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
	}
	if c.Lease == 0 {
		c.Lease = time.Minute
	}
	if c.Tick == 0 {
		c.Tick = time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks the configuration.
func (c SchedulerConfig) Validate() error {
	if c.Dialect != "sqlite" && c.Dialect != "postgres" {
		return fmt.Errorf("lifecycle scheduler: dialect %q: want sqlite or postgres", c.Dialect)
	}
	if c.Lease < time.Second || c.Tick <= 0 || c.Tick > c.Lease/3 {
		return fmt.Errorf("lifecycle scheduler: lease %v, tick %v: want a lease of at least 1s and a tick under a third of it", c.Lease, c.Tick)
	}
	if len(c.Owner) > 200 {
		return errors.New("lifecycle scheduler: owner longer than 200 bytes")
	}
	return nil
}

// leaseName is the one lock all lifecycle schedulers share.
const leaseName = "lifecycle-scheduler"

// maxErrorText bounds the error text kept per run.
const maxErrorText = 1000

// Scheduler runs lifecycle jobs on their cron schedules on one replica at
// a time: replicas sharing a state database compete for one lease row
// (owner + expiry, renewed); only the holder starts jobs, and each
// scheduled minute of each job is recorded once (a unique row per job and
// slot), so even a lease handover never runs a slot twice. Runs are kept
// as job history.
type Scheduler struct {
	db   *sql.DB
	cfg  SchedulerConfig
	jobs []scheduledJob
}

type scheduledJob struct {
	ScheduledJob
	cron *Cron
}

// NewScheduler checks the jobs and creates the lease and history tables
// in db if needed. Pass a *store.DB's embedded *sql.DB for SQLite.
func NewScheduler(ctx context.Context, db *sql.DB, jobs []ScheduledJob, cfg SchedulerConfig) (*Scheduler, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if db == nil {
		return nil, errors.New("lifecycle scheduler: no database")
	}
	s := &Scheduler{db: db, cfg: cfg}
	seen := map[string]bool{}
	for _, j := range jobs {
		if j.Name == "" || seen[j.Name] || j.Run == nil {
			return nil, fmt.Errorf("lifecycle scheduler: job %q: a unique name and a Run function are required", j.Name)
		}
		seen[j.Name] = true
		c, err := ParseCron(j.Spec)
		if err != nil {
			return nil, fmt.Errorf("lifecycle scheduler: job %s: %w", j.Name, err)
		}
		s.jobs = append(s.jobs, scheduledJob{ScheduledJob: j, cron: c})
	}
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if cfg.Dialect == "postgres" {
		id = "BIGSERIAL PRIMARY KEY"
	}
	for _, ddl := range []string{
		`CREATE TABLE IF NOT EXISTS lifecycle_scheduler_lease (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS lifecycle_job_runs (id ` + id + `, job TEXT NOT NULL, owner TEXT NOT NULL,
			scheduled BIGINT NOT NULL, started BIGINT NOT NULL, finished BIGINT NOT NULL DEFAULT 0,
			status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '', UNIQUE (job, scheduled))`,
	} {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			return nil, fmt.Errorf("lifecycle scheduler: create tables: %w", err)
		}
	}
	return s, nil
}

// Owner is the name this scheduler holds the lease under.
func (s *Scheduler) Owner() string { return s.cfg.Owner }

// q rewrites ? placeholders as $n for PostgreSQL.
func (s *Scheduler) q(query string) string {
	if s.cfg.Dialect != "postgres" {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// acquire takes or renews the lease; it reports whether this scheduler
// holds it until now+Lease. The upsert succeeds only when the row is ours
// or expired, in one statement, so two replicas cannot both win.
func (s *Scheduler) acquire(ctx context.Context) (bool, error) {
	now := s.cfg.Now()
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO lifecycle_scheduler_lease (name, owner, expires) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
		WHERE lifecycle_scheduler_lease.owner = excluded.owner OR lifecycle_scheduler_lease.expires <= ?`),
		leaseName, s.cfg.Owner, now.Add(s.cfg.Lease).UnixNano(), now.UnixNano())
	if err != nil {
		return false, fmt.Errorf("lifecycle scheduler: lease: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("lifecycle scheduler: lease: %w", err)
	}
	return n == 1, nil
}

// release gives the lease up so another replica need not wait for it to
// expire.
func (s *Scheduler) release(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM lifecycle_scheduler_lease WHERE name = ? AND owner = ?`), leaseName, s.cfg.Owner)
	return err
}

// Run schedules the jobs until ctx ends, then waits for running jobs and
// releases the lease. While another replica holds the lease it only
// checks, every Tick, whether the lease is free.
func (s *Scheduler) Run(ctx context.Context) error {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		running = map[string]bool{}
		held    bool
		lastTry time.Time
		next    = map[string]time.Time{}
		jobs    = leaseScope{ctx: ctx, cancel: func() {}}
	)
	defer func() {
		jobs.cancel()
		wg.Wait()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.release(rctx); err != nil {
			s.cfg.Logger.Warn("lifecycle scheduler: release lease", "err", err)
		}
	}()
	ticker := time.NewTicker(s.cfg.Tick)
	defer ticker.Stop()
	for {
		now := s.cfg.Now()
		if !held || now.Sub(lastTry) >= s.cfg.Lease/3 {
			ok, err := s.acquire(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.cfg.Logger.Warn("lifecycle scheduler: lease check failed", "err", err)
				ok = false
			}
			switch {
			case ok && !held:
				jobs = newLeaseScope(ctx)
				for _, j := range s.jobs {
					next[j.Name] = s.firstSlot(ctx, j, now)
				}
			case !ok && held:
				jobs.cancel() // lost the lease: stop what we started
			}
			held, lastTry = ok, now
		}
		if held {
			for _, j := range s.jobs {
				slot := next[j.Name]
				if slot.IsZero() || now.Before(slot) {
					continue
				}
				next[j.Name], _ = j.cron.Next(now)
				mu.Lock()
				busy := running[j.Name]
				if !busy {
					running[j.Name] = true
				}
				mu.Unlock()
				if busy {
					continue // the previous run is still going: skip this slot
				}
				jctx := jobs.ctx
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { mu.Lock(); delete(running, j.Name); mu.Unlock() }()
					s.runOnce(jctx, j, slot)
				}()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// firstSlot is the first slot a new lease holder runs for j: the slot
// after the last one recorded, when that is less than a lease old (a
// previous holder died before running it; the unique (job, slot) row keeps
// it from running twice), else the next one after now.
func (s *Scheduler) firstSlot(ctx context.Context, j scheduledJob, now time.Time) time.Time {
	from := now
	var last sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT max(scheduled) FROM lifecycle_job_runs WHERE job = ?`), j.Name).Scan(&last)
	if err != nil {
		s.cfg.Logger.Warn("lifecycle scheduler: last run of "+j.Name, "err", err)
	} else if last.Valid {
		if t := time.Unix(0, last.Int64); t.After(now.Add(-s.cfg.Lease)) && t.Before(now) {
			from = t
		}
	}
	n, _ := j.cron.Next(from)
	return n
}

// leaseScope is the context of the jobs started under one lease tenure.
type leaseScope struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newLeaseScope(parent context.Context) leaseScope {
	ctx, cancel := context.WithCancel(parent)
	return leaseScope{ctx: ctx, cancel: cancel}
}

// runOnce claims the (job, slot) row and runs the job, recording the end.
func (s *Scheduler) runOnce(ctx context.Context, j scheduledJob, slot time.Time) {
	var id int64
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO lifecycle_job_runs (job, owner, scheduled, started, status) VALUES (?, ?, ?, ?, 'running')
		ON CONFLICT (job, scheduled) DO NOTHING RETURNING id`), j.Name, s.cfg.Owner, slot.UnixNano(), s.cfg.Now().UnixNano()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return // another replica ran this slot
	}
	if err != nil {
		s.cfg.Logger.Warn("lifecycle scheduler: record run of "+j.Name, "err", err)
		return
	}
	status, text := "ok", ""
	if err := runJob(ctx, j.Run); err != nil {
		status, text = "failed", err.Error()
		if len(text) > maxErrorText {
			text = text[:maxErrorText]
		}
		s.cfg.Logger.Error("lifecycle job "+j.Name+" failed", "err", err)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.db.ExecContext(fctx, s.q(`UPDATE lifecycle_job_runs SET finished = ?, status = ?, error = ? WHERE id = ?`),
		s.cfg.Now().UnixNano(), status, text, id); err != nil {
		s.cfg.Logger.Warn("lifecycle scheduler: record end of "+j.Name, "err", err)
	}
}

// runJob runs fn, turning a panic into an error so one job cannot take
// the scheduler down.
func runJob(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(ctx)
}

// JobRun is one run in the job history.
type JobRun struct {
	ID        int64     `json:"id"`
	Job       string    `json:"job"`
	Owner     string    `json:"owner"`
	Scheduled time.Time `json:"scheduled"`
	Started   time.Time `json:"started"`
	// Finished is zero while the run is going.
	Finished time.Time `json:"finished,omitzero"`
	// Status is "running", "ok" or "failed".
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// JobHistory returns the latest runs, newest first (at most limit,
// 1 to 10,000; default 100). A database no scheduler has used yet has
// no history.
func JobHistory(ctx context.Context, db *sql.DB, limit int) ([]JobRun, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 10_000)
	// No placeholders: the same text runs on SQLite and PostgreSQL.
	rows, err := db.QueryContext(ctx, `SELECT id, job, owner, scheduled, started, finished, status, error
		FROM lifecycle_job_runs ORDER BY id DESC LIMIT `+strconv.Itoa(limit))
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "no such table") || strings.Contains(msg, "does not exist") {
			return nil, nil
		}
		return nil, fmt.Errorf("lifecycle: job history: %w", err)
	}
	defer rows.Close()
	var out []JobRun
	for rows.Next() {
		var r JobRun
		var sched, start, fin int64
		if err := rows.Scan(&r.ID, &r.Job, &r.Owner, &sched, &start, &fin, &r.Status, &r.Error); err != nil {
			return nil, fmt.Errorf("lifecycle: job history: %w", err)
		}
		r.Scheduled, r.Started = time.Unix(0, sched).UTC(), time.Unix(0, start).UTC()
		if fin != 0 {
			r.Finished = time.Unix(0, fin).UTC()
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
