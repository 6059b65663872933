package catalog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// migrations are catalog's tables in the state store.
var migrations = []string{
	`CREATE TABLE catalog_governance_events (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		at TEXT NOT NULL,
		actor TEXT NOT NULL,
		table_name TEXT NOT NULL,
		property TEXT NOT NULL,
		old_value TEXT,
		new_value TEXT,
		status TEXT NOT NULL
	);
	CREATE INDEX catalog_governance_events_table ON catalog_governance_events (table_name, at)`,
}

// Event is one recorded governance edit.
type Event struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Table    string    `json:"table"`
	Property string    `json:"property"`
	Old      *string   `json:"old"` // nil: the property was not set
	New      *string   `json:"new"` // nil: the property was removed
	// Status is "pending" until the catalog commit, then "applied" or "failed".
	Status string `json:"status"`
}

// Tag sets governance properties on a table. Keys are as NormalizeTagKey
// accepts them; values are validated as Resolve would read them. Every change
// is recorded before and after the catalog commit, with actor.
func (c *Catalog) Tag(ctx context.Context, ref TableRef, actor string, set map[string]string) ([]Event, error) {
	updates := iceberg.Properties{}
	for k, v := range set {
		prop, err := NormalizeTagKey(k)
		if err != nil {
			return nil, err
		}
		if err := c.checkValue(prop, v); err != nil {
			return nil, &Error{Kind: ErrInvalidProperty, Table: ref.String(), Property: prop, Msg: err.Error()}
		}
		updates[prop] = v
	}
	return c.edit(ctx, ref, actor, updates, nil)
}

// Untag removes governance properties from a table, recorded like Tag.
func (c *Catalog) Untag(ctx context.Context, ref TableRef, actor string, keys []string) ([]Event, error) {
	var removals []string
	for _, k := range keys {
		prop, err := NormalizeTagKey(k)
		if err != nil {
			return nil, err
		}
		removals = append(removals, prop)
	}
	return c.edit(ctx, ref, actor, nil, removals)
}

func (c *Catalog) checkValue(prop, v string) error {
	switch prop {
	case PropClassification:
		_, err := parseClassification(v)
		return err
	case PropRetentionDays:
		_, err := parseRetention(v)
		return err
	case PropResidency:
		r := strings.ToLower(strings.TrimSpace(v))
		if !c.regions.names[r] {
			return fmt.Errorf("%q is not a configured region (configured: %s)", v, strings.Join(c.Regions(), ", "))
		}
		return nil
	default: // purposes, column tags
		_, err := parseList(v)
		return err
	}
}

func (c *Catalog) edit(ctx context.Context, ref TableRef, actor string, updates iceberg.Properties, removals []string) ([]Event, error) {
	if c.audit == nil {
		return nil, errors.New("catalog: no state store configured: governance edits must be recorded, so they are refused")
	}
	if strings.TrimSpace(actor) == "" {
		return nil, errors.New("catalog: a governance edit needs an actor (who is making it)")
	}
	if len(updates) == 0 && len(removals) == 0 {
		return nil, errors.New("catalog: nothing to change")
	}
	b, err := c.backend(ctx, ref.Catalog)
	if err != nil {
		return nil, err
	}
	tbl, err := b.cat.LoadTable(ctx, table.Identifier{ref.Schema, ref.Table})
	if err != nil {
		if isNotFound(err) {
			return nil, &Error{Kind: ErrTableNotFound, Catalog: ref.Catalog, Table: ref.String(), Msg: "no such table"}
		}
		return nil, &Error{Kind: ErrUnavailable, Catalog: ref.Catalog, Table: ref.String(), Msg: "cannot load table metadata", Err: err}
	}
	for k := range updates {
		if col, ok := columnOfTagProperty(k); ok {
			if _, found := tbl.Schema().FindFieldByNameCaseInsensitive(col); !found {
				return nil, &Error{Kind: ErrInvalidProperty, Table: ref.String(), Property: k, Msg: fmt.Sprintf("the table has no column %q", col)}
			}
		}
	}
	current := tbl.Properties()
	var events []Event
	now := c.now().UTC()
	for _, k := range slices.Sorted(maps.Keys(updates)) {
		v := updates[k]
		events = append(events, Event{At: now, Actor: actor, Table: ref.String(), Property: k, Old: propPtr(current, k), New: &v})
	}
	for _, k := range removals {
		if _, ok := current[k]; ok {
			events = append(events, Event{At: now, Actor: actor, Table: ref.String(), Property: k, Old: propPtr(current, k)})
		}
	}
	if len(events) == 0 {
		return nil, nil // removing tags that are not set changes nothing
	}
	if err := c.record(ctx, events); err != nil {
		return nil, err
	}
	txn := tbl.NewTransaction()
	err = nil
	if len(updates) > 0 {
		err = txn.SetProperties(updates)
	}
	if err == nil && len(removals) > 0 {
		err = txn.RemoveProperties(removals)
	}
	if err == nil {
		_, err = txn.Commit(ctx)
	}
	c.Invalidate(ref)
	status := "applied"
	if err != nil {
		status = "failed"
	}
	if serr := c.setStatus(ctx, events, status); serr != nil && err == nil {
		err = serr
	}
	for i := range events {
		events[i].Status = status
	}
	if err != nil {
		return events, &Error{Kind: ErrUnavailable, Catalog: ref.Catalog, Table: ref.String(), Msg: "commit failed", Err: err}
	}
	return events, nil
}

func propPtr(m iceberg.Properties, k string) *string {
	if v, ok := m[k]; ok {
		return &v
	}
	return nil
}

func (c *Catalog) record(ctx context.Context, events []Event) error {
	tx, err := c.audit.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("catalog: record governance edit: %w", err)
	}
	defer tx.Rollback()
	for i := range events {
		e := &events[i]
		e.Status = "pending"
		res, err := tx.ExecContext(ctx, `INSERT INTO catalog_governance_events
			(at, actor, table_name, property, old_value, new_value, status) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.At.Format(time.RFC3339Nano), e.Actor, e.Table, e.Property, e.Old, e.New, e.Status)
		if err != nil {
			return fmt.Errorf("catalog: record governance edit: %w", err)
		}
		e.ID, _ = res.LastInsertId()
	}
	return tx.Commit()
}

func (c *Catalog) setStatus(ctx context.Context, events []Event, status string) error {
	for _, e := range events {
		if _, err := c.audit.ExecContext(ctx, `UPDATE catalog_governance_events SET status = ? WHERE id = ?`, status, e.ID); err != nil {
			return fmt.Errorf("catalog: record governance edit outcome: %w", err)
		}
	}
	return nil
}

// Events returns the recorded governance edits of a table ("" for all),
// newest first, at most limit.
func (c *Catalog) Events(ctx context.Context, tableName string, limit int) ([]Event, error) {
	if c.audit == nil {
		return nil, errors.New("catalog: no state store configured")
	}
	if limit <= 0 {
		limit = 100
	}
	rows, err := c.audit.QueryContext(ctx, `SELECT id, at, actor, table_name, property, old_value, new_value, status
		FROM catalog_governance_events WHERE (? = '' OR table_name = ?) ORDER BY id DESC LIMIT ?`, tableName, tableName, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Table, &e.Property, &e.Old, &e.New, &e.Status); err != nil {
			return nil, err
		}
		e.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, e)
	}
	return out, rows.Err()
}
