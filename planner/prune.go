package planner

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/trino"
)

// TableRead is what a statement reads of one table: the partitions left
// after pruning by its predicates (all of them when nothing prunes) and
// their bytes. Lifecycle keeps the partitions read in queryable storage.
type TableRead struct {
	Table string `json:"table"`
	// Partitions are partition keys ("check_in_day=2024-01-31"); nil when
	// the table is not partitioned or nothing could be pruned ("all").
	Partitions []string `json:"partitions,omitempty"`
	// Pruned is the number of partitions the predicates excluded.
	Pruned int   `json:"pruned,omitempty"`
	Bytes  int64 `json:"bytes"`
}

// reads works out the partitions each read table's predicates keep.
// Pruning is conservative: only a table named once in the statement, only
// predicates on the source column of an identity, day, month or year
// partition field, only literal dates, timestamps, strings and numbers;
// anything else keeps the partition.
func reads(a *Analysis, tables []*table) []TableRead {
	var out []TableRead
	seen := map[string]bool{}
	for _, t := range tables {
		if t.access != Read || t.info == nil || t.info.Kind != catalog.KindTable || seen[t.name] {
			continue
		}
		seen[t.name] = true
		r := TableRead{Table: t.name, Bytes: t.bytes}
		if len(t.info.Partitions) == 0 || len(t.info.Partition) == 0 || a.References[t.name] != 1 {
			out = append(out, r)
			continue
		}
		var preds []Predicate
		for _, p := range a.Predicates {
			if p.Table == t.name {
				preds = append(preds, p)
			}
		}
		if len(preds) == 0 {
			out = append(out, r)
			continue
		}
		r.Bytes = 0
		for _, ps := range t.info.Partitions {
			if keeps(t.info.Partition, ps, preds) {
				r.Partitions = append(r.Partitions, ps.Key)
				r.Bytes += ps.Bytes
			} else {
				r.Pruned++
			}
		}
		if r.Pruned == 0 {
			r.Partitions, r.Bytes = nil, t.bytes
		} else if r.Partitions == nil {
			r.Partitions = []string{}
		}
		out = append(out, r)
	}
	return out
}

// keeps reports whether partition ps may hold rows matching every predicate.
func keeps(spec []catalog.PartitionField, ps catalog.PartitionStats, preds []Predicate) bool {
	for _, f := range spec {
		v, ok := ps.Values[f.Name]
		if !ok || v == "null" {
			continue
		}
		tr := strings.ToLower(f.Transform)
		for _, p := range preds {
			if !strings.EqualFold(p.Column, f.Source) {
				continue
			}
			if !fieldKeeps(tr, v, p) {
				return false
			}
		}
	}
	return true
}

// fieldKeeps decides one partition value against one predicate.
func fieldKeeps(transform, value string, p Predicate) bool {
	if lo, hi, ok := valueRange(transform, value); ok {
		// A time partition: [lo, hi).
		in := func(lit string) (bool, bool) {
			x, ok := literalTime(lit)
			if !ok {
				return true, false
			}
			return !x.Before(lo) && x.Before(hi), true
		}
		switch p.Op {
		case "=":
			keep, _ := in(first(p.Values))
			return keep
		case "in":
			for _, v := range p.Values {
				if keep, ok := in(v); keep || !ok {
					return true
				}
			}
			return false
		case "<", "<=", ">", ">=":
			x, ok := literalTime(first(p.Values))
			if !ok {
				return true
			}
			switch p.Op {
			case "<":
				return lo.Before(x)
			case "<=":
				return !lo.After(x)
			default: // > and >=: some value in [lo, hi) is at or above x
				return x.Before(hi)
			}
		}
		return true
	}
	if transform != "identity" {
		return true
	}
	// An identity partition of a string or number: exact matches only.
	switch p.Op {
	case "=":
		return first(p.Values) == value
	case "in":
		for _, v := range p.Values {
			if v == value {
				return true
			}
		}
		return false
	}
	return true
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// valueRange is the time range a partition value covers, for day, month,
// year and identity-of-a-date fields.
func valueRange(transform, v string) (lo, hi time.Time, ok bool) {
	switch transform {
	case "day", "identity":
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return lo, hi, false
		}
		return t, t.AddDate(0, 0, 1), true
	case "month":
		t, err := time.Parse("2006-01", v)
		if err != nil {
			return lo, hi, false
		}
		return t, t.AddDate(0, 1, 0), true
	case "year":
		t, err := time.Parse("2006", v)
		if err != nil {
			return lo, hi, false
		}
		return t, t.AddDate(1, 0, 0), true
	}
	return lo, hi, false
}

// literalTime reads a date or timestamp literal's value.
func literalTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04:05", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// unreadable lists, per table read, the partitions the statement would read
// that sit in storage that cannot be read now (archived, not restored).
func unreadable(reads []TableRead, tables []*table) map[string][]string {
	info := map[string]*catalog.TableInfo{}
	for _, t := range tables {
		if t.info != nil {
			info[t.name] = t.info
		}
	}
	out := map[string][]string{}
	for _, r := range reads {
		ti := info[r.Table]
		if ti == nil || len(ti.UnreadablePartitions) == 0 {
			continue
		}
		if r.Partitions == nil {
			out[r.Table] = append([]string(nil), ti.UnreadablePartitions...)
			continue
		}
		for _, p := range r.Partitions {
			if slices.Contains(ti.UnreadablePartitions, p) {
				out[r.Table] = append(out[r.Table], p)
			}
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

// archived refuses a statement that would read unreadable partitions,
// naming them and the command that restores them.
func archived(un map[string][]string) *trino.Error {
	if len(un) == 0 {
		return nil
	}
	var names []string
	for t := range un {
		names = append(names, t)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, t := range names {
		if i > 0 {
			b.WriteString("; ")
		}
		parts := un[t]
		shown := parts
		if len(shown) > 5 {
			shown = shown[:5]
		}
		fmt.Fprintf(&b, "%d partition(s) of %s are in archive storage and cannot be read until restored (%s", len(parts), t, strings.Join(shown, ", "))
		if len(parts) > len(shown) {
			fmt.Fprintf(&b, ", and %d more", len(parts)-len(shown))
		}
		b.WriteString("): restore them with `meridian lifecycle restore " + t)
		for _, p := range shown {
			b.WriteString(" --partition " + p)
		}
		b.WriteString("`")
	}
	b.WriteString(", or narrow the statement's predicates to partitions in readable storage")
	return &trino.Error{Code: trino.GenericUserError, Message: b.String()}
}
