package policy

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Record is one decision as the audit trail keeps it. Statement is the
// normalised text with literals replaced by '?', so no personal value from a
// literal is stored; Input is the decision input, kept for impact analysis.
type Record struct {
	ID          string      `json:"id"`
	At          time.Time   `json:"at"`
	QueryID     string      `json:"query_id"`
	User        string      `json:"user"`
	Fingerprint string      `json:"fingerprint"`
	Statement   string      `json:"statement"`
	Tables      []string    `json:"tables"`
	Allow       bool        `json:"allow"`
	Regions     []string    `json:"regions"`
	Violations  []Violation `json:"violations"`
	VersionID   int64       `json:"version_id"`
	EvalMicros  int64       `json:"eval_us"`
	Input       *Input      `json:"input,omitempty"`
}

// Write stores a decision record before the statement may be forwarded.
// With a journal open (OpenJournal, as meridian serve does) the record is
// appended to it, synced when the journal syncs, and reaches the store in
// the background; queries wait for it. Otherwise it is committed to the
// store, records written at the same time sharing one commit (group
// commit): each Write still returns only once its record is on disk, but
// concurrent statements do not queue for one sync each.
func (r *Registry) Write(ctx context.Context, rec *Record) error {
	if rec.ID == "" || rec.Input == nil {
		return errRecordIncomplete
	}
	r.groupMu.Lock()
	j := r.journal
	r.groupMu.Unlock()
	if j != nil {
		return j.append(rec)
	}
	p := &pendingRecord{rec: rec, done: make(chan error, 1)}
	// Records are queued only under groupMu, so the committer, which stops
	// under it too, never leaves one behind. When the queue is full the
	// writer waits for room: writing alone would only add one more writer
	// contending for the database's lock.
	r.groupMu.Lock()
	if r.group == nil {
		r.group = make(chan *pendingRecord, maxGroup)
		go r.commitGroups(r.group)
	}
	select {
	case r.group <- p:
		r.groupMu.Unlock()
	case <-ctx.Done():
		r.groupMu.Unlock()
		return ctx.Err()
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		// The record may still be committed; the statement is not forwarded.
		return ctx.Err()
	}
}

// maxGroup bounds the records one commit takes.
const maxGroup = 256

type pendingRecord struct {
	rec  *Record
	done chan error
}

// commitGroups writes what Write queues, as many records per commit as are
// waiting, and stops after a second without any (the next Write starts it
// again).
func (r *Registry) commitGroups(ch chan *pendingRecord) {
	idle := time.NewTimer(time.Second)
	defer idle.Stop()
	batch := make([]*pendingRecord, 0, maxGroup)
	recs := make([]*Record, 0, maxGroup)
	for {
		select {
		case p := <-ch:
			batch = append(batch[:0], p)
		drain:
			for len(batch) < maxGroup {
				select {
				case q := <-ch:
					batch = append(batch, q)
				default:
					break drain
				}
			}
			recs = recs[:0]
			for _, q := range batch {
				recs = append(recs, q.rec)
			}
			err := r.WriteBatch(context.Background(), recs)
			if err != nil && len(batch) > 1 {
				// One bad record must not fail the others: write each alone.
				for _, q := range batch {
					q.done <- r.WriteBatch(context.Background(), []*Record{q.rec})
				}
			} else {
				for _, q := range batch {
					q.done <- err
				}
			}
			idle.Reset(time.Second)
		case <-idle.C:
			// A writer may hold groupMu while it waits for room in a full
			// queue: then this is not idle, and the queue must be drained.
			if !r.groupMu.TryLock() {
				idle.Reset(time.Millisecond)
				continue
			}
			if len(ch) > 0 {
				r.groupMu.Unlock()
				idle.Reset(time.Second)
				continue
			}
			r.group = nil
			r.groupMu.Unlock()
			return
		}
	}
}

// WriteBatch stores several decision records in one transaction (imports,
// tests, benchmarks); each is as durable as with Write once it returns.
func (r *Registry) WriteBatch(ctx context.Context, recs []*Record) error {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("policy: write decision: %w", err)
	}
	defer tx.Rollback()
	ins, err := prepareInserts(ctx, tx, false)
	if err != nil {
		return err
	}
	defer ins.close()
	for _, rec := range recs {
		if rec.ID == "" || rec.Input == nil {
			return errRecordIncomplete
		}
		input, err := json.Marshal(rec.Input)
		if err != nil {
			return err
		}
		if err := ins.insert(ctx, rec, input); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("policy: write decision: %w", err)
	}
	return nil
}

var errRecordIncomplete = errors.New("policy: a decision record needs an id and its input")

// recordInserts are the statements that store decision records, prepared
// once per transaction.
type recordInserts struct {
	decision, table, rule *sql.Stmt
}

// prepareInserts prepares them in tx; with replay, a record whose id is
// stored already is skipped.
func prepareInserts(ctx context.Context, tx *sql.Tx, replay bool) (*recordInserts, error) {
	verb := "INSERT"
	if replay {
		verb = "INSERT OR IGNORE"
	}
	var ins recordInserts
	var err error
	if ins.decision, err = tx.PrepareContext(ctx, verb+` INTO policy_decisions
		(id, at, query_id, user_name, fingerprint, statement, allow, regions, violations, version_id, eval_us, input)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`); err != nil {
		return nil, fmt.Errorf("policy: write decision: %w", err)
	}
	if ins.table, err = tx.PrepareContext(ctx, `INSERT INTO policy_decision_tables (seq, table_name) VALUES (?, ?)`); err != nil {
		ins.close()
		return nil, fmt.Errorf("policy: write decision: %w", err)
	}
	if ins.rule, err = tx.PrepareContext(ctx, `INSERT INTO policy_decision_rules (seq, rule) VALUES (?, ?)`); err != nil {
		ins.close()
		return nil, fmt.Errorf("policy: write decision: %w", err)
	}
	return &ins, nil
}

func (ins *recordInserts) close() {
	for _, st := range []*sql.Stmt{ins.decision, ins.table, ins.rule} {
		if st != nil {
			st.Close()
		}
	}
}

// insert stores rec with its input already encoded.
func (ins *recordInserts) insert(ctx context.Context, rec *Record, input []byte) error {
	if rec.ID == "" || len(input) == 0 {
		return errRecordIncomplete
	}
	regions, _ := json.Marshal(nonNil(rec.Regions))
	viol, _ := json.Marshal(rec.Violations)
	res, err := ins.decision.ExecContext(ctx,
		rec.ID, rec.At.UTC().Format(time.RFC3339Nano), rec.QueryID, rec.User, rec.Fingerprint, rec.Statement,
		rec.Allow, string(regions), string(viol), rec.VersionID, rec.EvalMicros, string(input))
	if err != nil {
		return fmt.Errorf("policy: write decision %s: %w", rec.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // replayed: stored already
	}
	seq, _ := res.LastInsertId()
	for _, t := range rec.Tables {
		if _, err := ins.table.ExecContext(ctx, seq, t); err != nil {
			return fmt.Errorf("policy: write decision %s: %w", rec.ID, err)
		}
	}
	seen := map[string]bool{}
	for _, v := range rec.Violations {
		if seen[v.Rule] {
			continue
		}
		seen[v.Rule] = true
		if _, err := ins.rule.ExecContext(ctx, seq, v.Rule); err != nil {
			return fmt.Errorf("policy: write decision %s: %w", rec.ID, err)
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Filter selects decision records. Zero fields select everything.
type Filter struct {
	User  string
	Table string
	Rule  string
	// Outcome is "allow", "deny" or "".
	Outcome string
	From    time.Time
	To      time.Time
	// Limit bounds the result (default 100; newest first).
	Limit int
	// WithInput loads each record's decision input.
	WithInput bool
}

// Decisions returns the records that match f, newest first.
func (r *Registry) Decisions(ctx context.Context, f Filter) ([]Record, error) {
	var out []Record
	err := r.scan(ctx, f, func(rec Record) error {
		out = append(out, rec)
		return nil
	})
	return out, err
}

// scan streams the records that match f, newest first, to fn.
func (r *Registry) scan(ctx context.Context, f Filter, fn func(Record) error) error {
	// Records still in the journal first reach the store.
	r.groupMu.Lock()
	j := r.journal
	r.groupMu.Unlock()
	if j != nil {
		if err := j.wait(ctx); err != nil {
			return err
		}
	}
	var where []string
	var args []any
	if f.User != "" {
		where, args = append(where, "d.user_name = ?"), append(args, f.User)
	}
	if f.Table != "" {
		where = append(where, "d.seq IN (SELECT seq FROM policy_decision_tables WHERE table_name = ?)")
		args = append(args, f.Table)
	}
	if f.Rule != "" {
		where = append(where, "d.seq IN (SELECT seq FROM policy_decision_rules WHERE rule = ?)")
		args = append(args, f.Rule)
	}
	switch f.Outcome {
	case "allow":
		where = append(where, "d.allow = 1")
	case "deny":
		where = append(where, "d.allow = 0")
	case "":
	default:
		return fmt.Errorf("policy: outcome %q: use allow or deny", f.Outcome)
	}
	if !f.From.IsZero() {
		where, args = append(where, "d.at >= ?"), append(args, f.From.UTC().Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		where, args = append(where, "d.at < ?"), append(args, f.To.UTC().Format(time.RFC3339Nano))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	inputCol := "''"
	if f.WithInput {
		inputCol = "d.input"
	}
	q := `SELECT d.seq, d.id, d.at, d.query_id, d.user_name, d.fingerprint, d.statement, d.allow, d.regions, d.violations,
		d.version_id, d.eval_us, ` + inputCol + `,
		(SELECT group_concat(table_name, char(31)) FROM policy_decision_tables t WHERE t.seq = d.seq)
		FROM policy_decisions d`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY d.seq DESC LIMIT %d", limit)
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("policy: query decisions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			rec                      Record
			seq                      int64
			at, regions, viol, input string
			tables                   *string
		)
		if err := rows.Scan(&seq, &rec.ID, &at, &rec.QueryID, &rec.User, &rec.Fingerprint, &rec.Statement, &rec.Allow,
			&regions, &viol, &rec.VersionID, &rec.EvalMicros, &input, &tables); err != nil {
			return err
		}
		rec.At, _ = time.Parse(time.RFC3339Nano, at)
		_ = json.Unmarshal([]byte(regions), &rec.Regions)
		_ = json.Unmarshal([]byte(viol), &rec.Violations)
		if tables != nil && *tables != "" {
			rec.Tables = strings.Split(*tables, "\x1f")
		}
		if input != "" {
			rec.Input = &Input{}
			if err := json.Unmarshal([]byte(input), rec.Input); err != nil {
				return fmt.Errorf("policy: decision %s: stored input is corrupt: %w", rec.ID, err)
			}
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Purge deletes decision records older than before (the retention setting)
// and returns how many.
func (r *Registry) Purge(ctx context.Context, before time.Time) (int64, error) {
	res, err := r.db.ExecContext(ctx, `DELETE FROM policy_decisions WHERE at < ?`, before.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return 0, fmt.Errorf("policy: purge decisions: %w", err)
	}
	return res.RowsAffected()
}
