package lifecycle

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/store"
)

// restoreMigrations are the restore and partition-state tables (owner
// "lifecycle_restore"; the executor's journal is owner "lifecycle"). Times
// are Unix nanoseconds.
var restoreMigrations = []string{
	`CREATE TABLE lifecycle_partition_states (
		table_name TEXT NOT NULL, partition TEXT NOT NULL, class TEXT NOT NULL,
		restored_until INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL,
		PRIMARY KEY (table_name, partition));
	CREATE TABLE lifecycle_restore_jobs (
		id INTEGER PRIMARY KEY AUTOINCREMENT, table_name TEXT NOT NULL, partitions TEXT NOT NULL,
		tier TEXT NOT NULL, days INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
		status TEXT NOT NULL);
	CREATE TABLE lifecycle_restore_objects (
		job INTEGER NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL, partition TEXT NOT NULL,
		status TEXT NOT NULL, ready_until INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (job, bucket, key))`,
}

const (
	// maxRestoreObjects bounds one restore job.
	maxRestoreObjects = 1_000_000
	// Restore job and object statuses.
	restoreRequested  = "requested"   // RestoreObject accepted, not ready yet
	restoreReady      = "ready"       // a readable copy exists until ready_until
	restoreNotArchive = "not-archive" // the object was readable already
	jobInProgress     = "in-progress"
	jobDone           = "done"
)

// PartitionStateStore records the storage class of each partition of each
// table and any restore, in the state database, and answers the catalog's
// question which partitions a query cannot read (catalog.PartitionStates).
//
// It is asked at every statement's resolution, so it keeps each table's
// rows for statesTTL: a change made by this process (a move, a refresh, a
// restore) shows at once, one made by another process (meridian lifecycle
// apply or restore) within statesTTL. Whether a restore still covers a
// partition is judged against the clock at each call, never cached.
type PartitionStateStore struct {
	db  *store.DB
	now func() time.Time

	mu     sync.Mutex
	cached map[string]statesEntry // table → rows
}

// statesTTL bounds how long another process's change to partition states
// may go unseen.
const statesTTL = time.Second

type statesEntry struct {
	rows   []stateRow
	loaded time.Time
}

type stateRow struct {
	partition, class string
	until            int64
}

var _ catalog.PartitionStates = (*PartitionStateStore)(nil)

// NewPartitionStateStore migrates the restore tables in db; now is the
// clock restores are judged by (time.Now in production).
func NewPartitionStateStore(ctx context.Context, db *store.DB, now func() time.Time) (*PartitionStateStore, error) {
	if db == nil || now == nil {
		return nil, errors.New("lifecycle: partition states need a state database and a clock")
	}
	if err := db.Migrate(ctx, "lifecycle_restore", restoreMigrations); err != nil {
		return nil, err
	}
	return &PartitionStateStore{db: db, now: now, cached: map[string]statesEntry{}}, nil
}

// forget drops table's cached rows (this process changed them).
func (s *PartitionStateStore) forget(table string) {
	s.mu.Lock()
	delete(s.cached, table)
	s.mu.Unlock()
}

// rows returns table's recorded rows, from the cache when fresh.
func (s *PartitionStateStore) rows(ctx context.Context, table string) ([]stateRow, error) {
	s.mu.Lock()
	e, ok := s.cached[table]
	s.mu.Unlock()
	if ok && time.Since(e.loaded) < statesTTL {
		return e.rows, nil
	}
	loaded := time.Now()
	rows, err := s.db.QueryContext(ctx, `SELECT partition, class, restored_until FROM lifecycle_partition_states WHERE table_name = ?`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []stateRow
	for rows.Next() {
		var r stateRow
		if err := rows.Scan(&r.partition, &r.class, &r.until); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.cached) >= 10_000 {
		clear(s.cached)
	}
	s.cached[table] = statesEntry{rows: out, loaded: loaded}
	s.mu.Unlock()
	return out, nil
}

// PartitionStates implements catalog.PartitionStates: every partition of
// ref recorded in a class other than STANDARD, unreadable when the class is
// an archive class and no restore covers now.
func (s *PartitionStateStore) PartitionStates(ctx context.Context, ref catalog.TableRef) (map[string]catalog.PartitionState, error) {
	rows, err := s.rows(ctx, ref.String())
	if err != nil {
		return nil, fmt.Errorf("lifecycle: partition states of %s: %w", ref, err)
	}
	now := s.now().UnixNano()
	out := make(map[string]catalog.PartitionState, len(rows))
	for _, r := range rows {
		c := StorageClass(r.class)
		out[r.partition] = catalog.PartitionState{StorageClass: r.class, Unreadable: !c.Queryable() && now >= r.until}
	}
	return out, nil
}

// RecordClass records that partition of table now sits in class (the
// executor calls it after moving a partition). A move clears any restore.
func (s *PartitionStateStore) RecordClass(ctx context.Context, table, partition string, class StorageClass) error {
	if !class.Known() {
		return fmt.Errorf("lifecycle: record %s %s: unknown class %q", table, partition, class)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO lifecycle_partition_states (table_name, partition, class, restored_until, updated)
		VALUES (?, ?, ?, 0, ?) ON CONFLICT (table_name, partition) DO UPDATE SET class = excluded.class, restored_until = 0, updated = excluded.updated`,
		table, partition, string(class), s.now().UnixNano())
	s.forget(table)
	if err != nil {
		return fmt.Errorf("lifecycle: record %s %s: %w", table, partition, err)
	}
	return nil
}

// Refresh recomputes the states of one table from its storage: the class
// of each live file of the current snapshot (the coldest per partition),
// and for archived files whether a restore made them readable (HeadObject's
// x-amz-restore). It replaces what was recorded for the table and returns
// the new states.
func (s *PartitionStateStore) Refresh(ctx context.Context, view *TableFiles, objects ObjectStore) (map[string]catalog.PartitionState, error) {
	bucket, prefix, err := splitS3(view.Location + "/")
	if err != nil {
		return nil, err
	}
	listed := map[string]Object{}
	if _, err := List(ctx, objects, bucket, []string{prefix}, ListConfig{}, func(o Object) error {
		if !IsMetadataPath(o.Key) {
			listed["s3://"+o.Bucket+"/"+o.Key] = o
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("lifecycle: refresh %s: %w", view.Table, err)
	}
	type agg struct {
		class StorageClass
		until int64 // min restore expiry over archived files; -1: one is not restored
	}
	parts := map[string]*agg{}
	for _, f := range view.Files {
		if !f.Live {
			continue
		}
		o, ok := listed[f.Path]
		if !ok {
			return nil, fmt.Errorf("lifecycle: refresh %s: live file %s is missing from storage", view.Table, f.Path)
		}
		a := parts[f.Partition]
		if a == nil {
			a = &agg{class: Standard, until: int64(1<<63 - 1)}
			parts[f.Partition] = a
		}
		if coldness(o.Class) > coldness(a.class) {
			a.class = o.Class
		}
		if !o.Class.Archive() {
			continue
		}
		h, err := objects.Head(ctx, o.Bucket, o.Key)
		if err != nil {
			return nil, fmt.Errorf("lifecycle: refresh %s: %w", view.Table, err)
		}
		until := restoredUntil(h.Restore)
		if until.IsZero() {
			a.until = -1
		} else if a.until >= 0 {
			a.until = min(a.until, until.UnixNano())
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM lifecycle_partition_states WHERE table_name = ?`, view.Table); err != nil {
		return nil, fmt.Errorf("lifecycle: refresh %s: %w", view.Table, err)
	}
	now := s.now().UnixNano()
	for p, a := range parts {
		if a.class == Standard {
			continue
		}
		until := int64(0)
		if a.class.Archive() && a.until > 0 {
			until = a.until
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO lifecycle_partition_states (table_name, partition, class, restored_until, updated) VALUES (?, ?, ?, ?, ?)`,
			view.Table, p, string(a.class), until, now); err != nil {
			return nil, fmt.Errorf("lifecycle: refresh %s: %w", view.Table, err)
		}
	}
	err = tx.Commit()
	s.forget(view.Table)
	if err != nil {
		return nil, fmt.Errorf("lifecycle: refresh %s: %w", view.Table, err)
	}
	return s.PartitionStates(ctx, mustRef(view.Table))
}

func mustRef(s string) catalog.TableRef {
	r, err := catalog.ParseTableRef(s)
	if err != nil {
		return catalog.TableRef{Table: s}
	}
	return r
}

// coldness orders classes by Classes (warmest first).
func coldness(c StorageClass) int { return slices.Index(Classes, c) }

// restoredUntil reads x-amz-restore: the expiry of a finished restore, or
// zero while none is finished.
func restoredUntil(h string) time.Time {
	if !strings.Contains(h, `ongoing-request="false"`) {
		return time.Time{}
	}
	_, rest, ok := strings.Cut(h, `expiry-date="`)
	if !ok {
		return time.Time{}
	}
	v, _, _ := strings.Cut(rest, `"`)
	t, err := http.ParseTime(v)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Restorer issues restores of archived partitions and tracks them.
type Restorer struct {
	states  *PartitionStateStore
	cat     *catalog.Catalog
	objects ObjectStore
}

// NewRestorer returns a Restorer recording in states, resolving tables
// through cat and restoring through objects.
func NewRestorer(states *PartitionStateStore, cat *catalog.Catalog, objects ObjectStore) (*Restorer, error) {
	if states == nil || cat == nil || objects == nil {
		return nil, errors.New("lifecycle: a restorer needs partition states, a catalog and an object store")
	}
	return &Restorer{states: states, cat: cat, objects: objects}, nil
}

// RestoreJob is one restore request and its progress.
type RestoreJob struct {
	ID         int64       `json:"id"`
	Table      string      `json:"table"`
	Partitions []string    `json:"partitions"`
	Tier       RestoreTier `json:"tier"`
	Days       int         `json:"days"`
	Created    time.Time   `json:"created"`
	Updated    time.Time   `json:"updated"`
	// Status is "in-progress" or "done" (every object readable).
	Status string `json:"status"`
	// Objects counts the live files of the partitions; Requested those
	// still being restored; Ready those readable now.
	Objects   int `json:"objects"`
	Requested int `json:"requested"`
	Ready     int `json:"ready"`
}

// RestoreCommand is the command a person runs to restore partitions of
// table (what a refused statement should suggest).
func RestoreCommand(table string, partitions []string) string {
	var b strings.Builder
	b.WriteString("meridian lifecycle restore " + table)
	for _, p := range partitions {
		b.WriteString(" --partition " + p)
	}
	return b.String()
}

// Restore asks for a readable copy, for days, at tier's speed, of every
// archived live file of the named partitions of table
// ("catalog.schema.table"; partitions in the catalog's key form; none
// means every unreadable partition). Objects already readable are noted,
// not restored; a restore already running counts as requested.
func (r *Restorer) Restore(ctx context.Context, table string, partitions []string, tier RestoreTier, days int) (RestoreJob, error) {
	job := RestoreJob{Tier: tier, Days: days}
	if days < 1 || days > maxRestoreDays {
		return job, fmt.Errorf("lifecycle: restore for %d days: want 1 to %d", days, maxRestoreDays)
	}
	switch tier {
	case Expedited, StandardTier, Bulk:
	default:
		return job, fmt.Errorf("lifecycle: restore tier %q: want Expedited, Standard or Bulk", tier)
	}
	ref, err := catalog.ParseTableRef(table)
	if err != nil {
		return job, err
	}
	job.Table = ref.String()
	tbl, err := OpenTable(ctx, r.cat, ref)
	if err != nil {
		return job, err
	}
	view, err := ReadTableFiles(ctx, job.Table, tbl)
	if err != nil {
		return job, err
	}
	live := map[string][]*FileRef{}
	for _, f := range view.Files {
		if f.Live {
			live[f.Partition] = append(live[f.Partition], f)
		}
	}
	if len(partitions) == 0 {
		states, err := r.states.PartitionStates(ctx, ref)
		if err != nil {
			return job, err
		}
		for p, st := range states {
			if st.Unreadable && live[p] != nil {
				partitions = append(partitions, p)
			}
		}
		if len(partitions) == 0 {
			return job, fmt.Errorf("lifecycle: %s has no unreadable partitions to restore", job.Table)
		}
	}
	partitions = slices.Compact(slices.Sorted(slices.Values(partitions)))
	var files []*FileRef
	for _, p := range partitions {
		fs, ok := live[p]
		if !ok {
			known := slices.Sorted(maps.Keys(live))
			return job, fmt.Errorf("lifecycle: %s has no partition %q (partitions look like %q)", job.Table, p, known[:min(3, len(known))])
		}
		files = append(files, fs...)
	}
	if len(files) > maxRestoreObjects {
		return job, fmt.Errorf("lifecycle: restore of %d objects: at most %d per job; name fewer partitions", len(files), maxRestoreObjects)
	}
	now := r.states.now()
	pj, _ := json.Marshal(partitions)
	res, err := r.states.db.ExecContext(ctx, `INSERT INTO lifecycle_restore_jobs (table_name, partitions, tier, days, created, updated, status) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		job.Table, string(pj), string(tier), days, now.UnixNano(), now.UnixNano(), jobInProgress)
	if err != nil {
		return job, fmt.Errorf("lifecycle: record restore: %w", err)
	}
	if job.ID, err = res.LastInsertId(); err != nil {
		return job, fmt.Errorf("lifecycle: record restore: %w", err)
	}
	for _, f := range files {
		bucket, key, err := splitS3(f.Path)
		if err != nil {
			return job, err
		}
		o, err := r.objects.Head(ctx, bucket, key)
		if err != nil {
			return job, fmt.Errorf("lifecycle: restore job %d: %w", job.ID, err)
		}
		status := restoreNotArchive
		if o.Class.Archive() {
			status = restoreRequested
			err := r.objects.Restore(ctx, bucket, key, int32(days), tier)
			if err != nil && !errors.Is(err, ErrRestoreInProgress) {
				return job, fmt.Errorf("lifecycle: restore job %d: %w", job.ID, err)
			}
		}
		if _, err := r.states.db.ExecContext(ctx, `INSERT INTO lifecycle_restore_objects (job, bucket, key, partition, status) VALUES (?, ?, ?, ?, ?)`,
			job.ID, bucket, key, f.Partition, status); err != nil {
			return job, fmt.Errorf("lifecycle: restore job %d: %w", job.ID, err)
		}
	}
	return r.RestoreStatus(ctx, job.ID)
}

// RestoreStatus polls the objects of job id still being restored (HeadObject
// shows whether the restore finished), records those now readable and,
// when every object of a partition is, the partition's restore expiry, so
// the catalog shows it readable.
func (r *Restorer) RestoreStatus(ctx context.Context, id int64) (RestoreJob, error) {
	job, err := r.loadJob(ctx, id)
	if err != nil {
		return job, err
	}
	type obj struct {
		bucket, key, part, status string
		until                     int64
	}
	rows, err := r.states.db.QueryContext(ctx, `SELECT bucket, key, partition, status, ready_until FROM lifecycle_restore_objects WHERE job = ? ORDER BY bucket, key`, id)
	if err != nil {
		return job, fmt.Errorf("lifecycle: restore job %d: %w", id, err)
	}
	var objs []obj
	for rows.Next() {
		var o obj
		if err := rows.Scan(&o.bucket, &o.key, &o.part, &o.status, &o.until); err != nil {
			rows.Close()
			return job, fmt.Errorf("lifecycle: restore job %d: %w", id, err)
		}
		objs = append(objs, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return job, err
	}
	now := r.states.now()
	for i := range objs {
		o := &objs[i]
		if o.status == restoreReady && now.UnixNano() >= o.until {
			o.status = restoreRequested // the restored copy expired
		}
		if o.status != restoreRequested {
			continue
		}
		h, err := r.objects.Head(ctx, o.bucket, o.key)
		if err != nil {
			return job, fmt.Errorf("lifecycle: restore job %d: %w", id, err)
		}
		until := restoredUntil(h.Restore)
		if until.IsZero() || !until.After(now) {
			continue
		}
		o.status, o.until = restoreReady, until.UnixNano()
		if _, err := r.states.db.ExecContext(ctx, `UPDATE lifecycle_restore_objects SET status = ?, ready_until = ? WHERE job = ? AND bucket = ? AND key = ?`,
			o.status, o.until, id, o.bucket, o.key); err != nil {
			return job, fmt.Errorf("lifecycle: restore job %d: %w", id, err)
		}
	}
	// A partition is readable until its earliest restored copy expires,
	// once every one of its archived objects is restored.
	partUntil := map[string]int64{}
	pending := map[string]bool{}
	job.Objects, job.Requested, job.Ready = len(objs), 0, 0
	for _, o := range objs {
		switch o.status {
		case restoreRequested:
			job.Requested++
			pending[o.part] = true
		case restoreReady:
			job.Ready++
			if u, ok := partUntil[o.part]; !ok || o.until < u {
				partUntil[o.part] = o.until
			}
		default:
			job.Ready++
		}
	}
	for p, u := range partUntil {
		if pending[p] {
			continue
		}
		_, err := r.states.db.ExecContext(ctx, `UPDATE lifecycle_partition_states SET restored_until = ?, updated = ? WHERE table_name = ? AND partition = ?`,
			u, now.UnixNano(), job.Table, p)
		r.states.forget(job.Table)
		if err != nil {
			return job, fmt.Errorf("lifecycle: restore job %d: %w", id, err)
		}
	}
	job.Status = jobInProgress
	if job.Requested == 0 {
		job.Status = jobDone
	}
	job.Updated = now
	if _, err := r.states.db.ExecContext(ctx, `UPDATE lifecycle_restore_jobs SET status = ?, updated = ? WHERE id = ?`, job.Status, now.UnixNano(), id); err != nil {
		return job, fmt.Errorf("lifecycle: restore job %d: %w", id, err)
	}
	return job, nil
}

// RestoreJobs lists the latest restore jobs, newest first, as recorded
// (without polling).
func (r *Restorer) RestoreJobs(ctx context.Context, limit int) ([]RestoreJob, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := r.states.db.QueryContext(ctx, `SELECT id FROM lifecycle_restore_jobs ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := make([]RestoreJob, 0, len(ids))
	for _, id := range ids {
		j, err := r.loadJob(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

func (r *Restorer) loadJob(ctx context.Context, id int64) (RestoreJob, error) {
	j := RestoreJob{ID: id}
	var parts, tier string
	var created, updated int64
	err := r.states.db.QueryRowContext(ctx, `SELECT table_name, partitions, tier, days, created, updated, status FROM lifecycle_restore_jobs WHERE id = ?`, id).
		Scan(&j.Table, &parts, &tier, &j.Days, &created, &updated, &j.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return j, fmt.Errorf("lifecycle: no restore job %d", id)
	}
	if err != nil {
		return j, fmt.Errorf("lifecycle: restore job %d: %w", id, err)
	}
	j.Tier, j.Created, j.Updated = RestoreTier(tier), time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	if err := json.Unmarshal([]byte(parts), &j.Partitions); err != nil {
		return j, fmt.Errorf("lifecycle: restore job %d: %w", id, err)
	}
	err = r.states.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(CASE WHEN status = ? THEN 1 ELSE 0 END), 0) FROM lifecycle_restore_objects WHERE job = ?`,
		restoreRequested, id).Scan(&j.Objects, &j.Requested)
	if err != nil {
		return j, fmt.Errorf("lifecycle: restore job %d: %w", id, err)
	}
	j.Ready = j.Objects - j.Requested
	return j, nil
}
