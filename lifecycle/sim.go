package lifecycle

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/meridian-lake/meridian/internal/store"
)

// SimulatedStorageClasses is a SIMULATOR of S3 storage classes for S3
// servers that ignore them (versitygw, MinIO; LIFECYCLE.md, "Local S3
// servers"). It wraps a real [S3Store]: every list, head, get, copy, tag and
// delete still goes to the server, and the simulator adds what the server
// lacks, following the AWS rules in LIFECYCLE.md:
//
//   - each object's class and the time it entered it, kept in the state
//     database so a killed process loses nothing (an object it has no
//     record of is STANDARD since its LastModified, as a PUT without a class
//     would be on AWS);
//   - GetObject and CopyObject of a GLACIER or DEEP_ARCHIVE object that is
//     not restored fail with [ErrInvalidObjectState] (403 on AWS);
//   - RestoreObject takes simulated time per tier (GLACIER: Expedited 5
//     min, Standard 5 h, Bulk 12 h; DEEP_ARCHIVE: Standard 12 h, Bulk 48 h;
//     the upper bounds AWS quotes), read from the injected clock, and the
//     restored copy expires after the requested days;
//   - leaving a class (copy to another class, delete) before its minimum
//     duration records an early-deletion charge for the remaining days;
//     copies and restores record their request and retrieval charges.
//
// The class changes only after the server's copy succeeded: a process
// killed between the two leaves the object in its old class, as if the
// copy had not completed, and a rerun that checks the class before copying
// (doc.go) copies it once more and converges.
//
// It is a test double for storage-class behaviour only; against AWS the
// plain S3Store is used, and code taking an [ObjectStore] must not know
// which it has.
type SimulatedStorageClasses struct {
	inner  *S3Store
	db     *store.DB
	pricer *Pricer
	now    func() time.Time
}

var _ ObjectStore = (*SimulatedStorageClasses)(nil)

// simMigrations are the simulator's tables in the state database (owner
// "lifecycle-sim"). Times are Unix nanoseconds; amounts nano-dollars.
var simMigrations = []string{
	`CREATE TABLE lifecycle_sim_objects (
		bucket TEXT NOT NULL, key TEXT NOT NULL, class TEXT NOT NULL, since INTEGER NOT NULL,
		restore_ready INTEGER NOT NULL DEFAULT 0, restore_expires INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (bucket, key));
	CREATE TABLE lifecycle_sim_charges (
		seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL,
		kind TEXT NOT NULL, class TEXT NOT NULL, bytes INTEGER NOT NULL, days INTEGER NOT NULL, amount INTEGER NOT NULL)`,
}

// NewSimulatedStorageClasses wraps inner, keeping the simulated state in db
// and pricing charges with pricer; now is the simulation's clock.
func NewSimulatedStorageClasses(ctx context.Context, inner *S3Store, db *store.DB, pricer *Pricer, now func() time.Time) (*SimulatedStorageClasses, error) {
	if inner == nil || db == nil || pricer == nil || now == nil {
		return nil, errors.New("storage-class simulator: store, database, pricer and clock are all required")
	}
	if err := db.Migrate(ctx, "lifecycle-sim", simMigrations); err != nil {
		return nil, err
	}
	return &SimulatedStorageClasses{inner: inner, db: db, pricer: pricer, now: now}, nil
}

// restoreTime is how long a simulated restore takes.
func restoreTime(c StorageClass, t RestoreTier) (time.Duration, bool) {
	switch {
	case c == Glacier && t == Expedited:
		return 5 * time.Minute, true
	case c == Glacier && t == StandardTier:
		return 5 * time.Hour, true
	case c == Glacier && t == Bulk:
		return 12 * time.Hour, true
	case c == DeepArchive && t == StandardTier:
		return 12 * time.Hour, true
	case c == DeepArchive && t == Bulk:
		return 48 * time.Hour, true
	}
	return 0, false
}

// simState is the simulator's record of one object.
type simState struct {
	class          StorageClass
	since          time.Time
	ready, expires time.Time // zero: no restore
}

func (s *SimulatedStorageClasses) state(ctx context.Context, o Object) (simState, error) {
	var class string
	var since, ready, expires int64
	err := s.db.QueryRowContext(ctx, `SELECT class, since, restore_ready, restore_expires FROM lifecycle_sim_objects WHERE bucket = ? AND key = ?`,
		o.Bucket, o.Key).Scan(&class, &since, &ready, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return simState{class: Standard, since: o.LastModified}, nil
	}
	if err != nil {
		return simState{}, fmt.Errorf("storage-class simulator: %w", err)
	}
	st := simState{class: StorageClass(class), since: time.Unix(0, since).UTC()}
	if ready != 0 {
		st.ready, st.expires = time.Unix(0, ready).UTC(), time.Unix(0, expires).UTC()
	}
	return st, nil
}

// lookup heads the object on the server and reads its simulated state.
func (s *SimulatedStorageClasses) lookup(ctx context.Context, bucket, key string) (Object, simState, error) {
	o, err := s.inner.Head(ctx, bucket, key)
	if err != nil {
		return o, simState{}, err
	}
	st, err := s.state(ctx, o)
	return o, st, err
}

// readable reports whether a query could read the object now.
func (st simState) readable(now time.Time) bool {
	return st.class.Queryable() || !st.ready.IsZero() && !now.Before(st.ready) && now.Before(st.expires)
}

func (s *SimulatedStorageClasses) apply(o *Object, st simState) {
	o.Class, o.ClassSince, o.Restore = st.class, st.since, ""
	now := s.now()
	switch {
	case st.ready.IsZero() || !now.Before(st.expires):
	case now.Before(st.ready):
		o.Restore = `ongoing-request="true"`
	default:
		o.Restore = `ongoing-request="false", expiry-date="` + st.expires.Format(http.TimeFormat) + `"`
	}
}

// ListPage implements ObjectStore: the server's page with simulated classes.
func (s *SimulatedStorageClasses) ListPage(ctx context.Context, bucket, prefix, token string, max int32) (Page, error) {
	p, err := s.inner.ListPage(ctx, bucket, prefix, token, max)
	if err != nil {
		return p, err
	}
	for i := range p.Objects {
		st, err := s.state(ctx, p.Objects[i])
		if err != nil {
			return Page{}, err
		}
		s.apply(&p.Objects[i], st)
	}
	return p, nil
}

// Head implements ObjectStore.
func (s *SimulatedStorageClasses) Head(ctx context.Context, bucket, key string) (Object, error) {
	o, st, err := s.lookup(ctx, bucket, key)
	if err != nil {
		return Object{}, err
	}
	s.apply(&o, st)
	return o, nil
}

// Get implements ObjectStore: archived objects need a finished restore.
func (s *SimulatedStorageClasses) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	_, st, err := s.lookup(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	if !st.readable(s.now()) {
		return nil, fmt.Errorf("get s3://%s/%s (%s): %w", bucket, key, st.class, ErrInvalidObjectState)
	}
	return s.inner.Get(ctx, bucket, key)
}

// Copy implements ObjectStore: a real self-copy on the server, then the
// new class from now on. Leaving the old class early is charged.
func (s *SimulatedStorageClasses) Copy(ctx context.Context, bucket, key string, to StorageClass) error {
	if !to.Known() {
		return fmt.Errorf("copy s3://%s/%s: unknown class %q", bucket, key, to)
	}
	o, st, err := s.lookup(ctx, bucket, key)
	if err != nil {
		return err
	}
	now := s.now()
	if !st.readable(now) {
		return fmt.Errorf("copy s3://%s/%s (%s): %w", bucket, key, st.class, ErrInvalidObjectState)
	}
	if err := s.inner.rewrite(ctx, bucket, key); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage-class simulator: %w", err)
	}
	defer tx.Rollback()
	if err := s.chargeEarly(ctx, tx, o, st, now); err != nil {
		return err
	}
	put := mulDiv(1, int64(s.pricer.region.PutPer1000), 1000)
	if err := s.charge(ctx, tx, now, o, "copy", to, 0, put); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lifecycle_sim_objects (bucket, key, class, since) VALUES (?, ?, ?, ?)
		ON CONFLICT (bucket, key) DO UPDATE SET class = excluded.class, since = excluded.since, restore_ready = 0, restore_expires = 0`,
		bucket, key, string(to), now.UnixNano()); err != nil {
		return fmt.Errorf("storage-class simulator: %w", err)
	}
	return commit(tx)
}

// Tag implements ObjectStore (tags are real on the server).
func (s *SimulatedStorageClasses) Tag(ctx context.Context, bucket, key string, tags map[string]string) error {
	return s.inner.Tag(ctx, bucket, key, tags)
}

// Delete implements ObjectStore, charging an early deletion.
func (s *SimulatedStorageClasses) Delete(ctx context.Context, bucket, key string) error {
	o, st, err := s.lookup(ctx, bucket, key)
	if errors.Is(err, ErrNotFound) {
		return s.inner.Delete(ctx, bucket, key) // S3 deletes of missing keys succeed
	}
	if err != nil {
		return err
	}
	if err := s.inner.Delete(ctx, bucket, key); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage-class simulator: %w", err)
	}
	defer tx.Rollback()
	if err := s.chargeEarly(ctx, tx, o, st, s.now()); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM lifecycle_sim_objects WHERE bucket = ? AND key = ?`, bucket, key); err != nil {
		return fmt.Errorf("storage-class simulator: %w", err)
	}
	return commit(tx)
}

// maxRestoreDays bounds a restore's lifetime (AWS's limit).
const maxRestoreDays = 30000

// Restore implements ObjectStore for archived objects.
func (s *SimulatedStorageClasses) Restore(ctx context.Context, bucket, key string, days int32, tier RestoreTier) error {
	if days < 1 || days > maxRestoreDays {
		return fmt.Errorf("restore s3://%s/%s: days %d: want 1 to %d", bucket, key, days, maxRestoreDays)
	}
	o, st, err := s.lookup(ctx, bucket, key)
	if err != nil {
		return err
	}
	if !st.class.Archive() {
		return fmt.Errorf("restore s3://%s/%s: %s objects need no restore: %w", bucket, key, st.class, ErrInvalidObjectState)
	}
	took, ok := restoreTime(st.class, tier)
	if !ok {
		return fmt.Errorf("restore s3://%s/%s: tier %q is not offered for %s", bucket, key, tier, st.class)
	}
	now := s.now()
	if !st.ready.IsZero() && now.Before(st.ready) {
		return fmt.Errorf("restore s3://%s/%s: %w", bucket, key, ErrRestoreInProgress)
	}
	ready, fee := now.Add(took), true
	if !st.ready.IsZero() && now.Before(st.expires) {
		ready, fee = now, false // already restored: S3 only extends the expiry
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage-class simulator: %w", err)
	}
	defer tx.Rollback()
	if fee {
		rp := s.pricer.region.Classes[st.class].Restore[tier]
		amount := s.pricer.gbMonth(o.Size, rp.PerGB) + mulDiv(1, int64(rp.Per1000), 1000)
		if err := s.charge(ctx, tx, now, o, "restore-"+string(tier), st.class, 0, amount); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lifecycle_sim_objects (bucket, key, class, since, restore_ready, restore_expires)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (bucket, key) DO UPDATE SET restore_ready = excluded.restore_ready, restore_expires = excluded.restore_expires`,
		bucket, key, string(st.class), st.since.UnixNano(), ready.UnixNano(), ready.Add(time.Duration(days)*day).UnixNano()); err != nil {
		return fmt.Errorf("storage-class simulator: %w", err)
	}
	return commit(tx)
}

// SetClass records that the object entered class at since, as a PUT with
// a storage class or a transition made by a bucket lifecycle rule would on
// AWS. Tests and demo setup use it; the ObjectStore methods never do.
func (s *SimulatedStorageClasses) SetClass(ctx context.Context, bucket, key string, class StorageClass, since time.Time) error {
	if !class.Known() {
		return fmt.Errorf("storage-class simulator: unknown class %q", class)
	}
	if _, err := s.inner.Head(ctx, bucket, key); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO lifecycle_sim_objects (bucket, key, class, since) VALUES (?, ?, ?, ?)
		ON CONFLICT (bucket, key) DO UPDATE SET class = excluded.class, since = excluded.since, restore_ready = 0, restore_expires = 0`,
		bucket, key, string(class), since.UnixNano())
	if err != nil {
		return fmt.Errorf("storage-class simulator: %w", err)
	}
	return nil
}

// Charge is one simulated charge.
type Charge struct {
	At     time.Time
	Bucket string
	Key    string
	// Kind is "early-deletion", "copy" or "restore-<tier>".
	Kind  string
	Class StorageClass
	// Days is the remaining minimum duration an early deletion paid for.
	Days   int64
	Amount Money
}

// Charges returns the charges recorded so far, oldest first.
func (s *SimulatedStorageClasses) Charges(ctx context.Context) ([]Charge, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, bucket, key, kind, class, days, amount FROM lifecycle_sim_charges ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("storage-class simulator: %w", err)
	}
	defer rows.Close()
	var out []Charge
	for rows.Next() {
		var c Charge
		var at int64
		if err := rows.Scan(&at, &c.Bucket, &c.Key, &c.Kind, &c.Class, &c.Days, &c.Amount); err != nil {
			return nil, fmt.Errorf("storage-class simulator: %w", err)
		}
		c.At = time.Unix(0, at).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// chargeEarly records the early-deletion charge for o leaving st.class at
// now, if its minimum duration has not passed.
func (s *SimulatedStorageClasses) chargeEarly(ctx context.Context, tx *sql.Tx, o Object, st simState, now time.Time) error {
	left := st.class.MinDuration() - now.Sub(st.since)
	if left <= 0 {
		return nil
	}
	g := Group{Class: st.class}
	g.add(Object{Size: o.Size, LastModified: st.since, ClassSince: st.since}, now)
	days := int64((left + day - 1) / day)
	return s.charge(ctx, tx, now, o, "early-deletion", st.class, days, s.pricer.EarlyDeletion(g))
}

func (s *SimulatedStorageClasses) charge(ctx context.Context, tx *sql.Tx, at time.Time, o Object, kind string, class StorageClass, days int64, amount Money) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO lifecycle_sim_charges (at, bucket, key, kind, class, bytes, days, amount) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		at.UnixNano(), o.Bucket, o.Key, kind, string(class), o.Size, days, int64(amount))
	if err != nil {
		return fmt.Errorf("storage-class simulator: %w", err)
	}
	return nil
}

func commit(tx *sql.Tx) error {
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storage-class simulator: %w", err)
	}
	return nil
}
