package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/meridian-lake/meridian/planner"
	"github.com/meridian-lake/meridian/planner/sql"
)

// writeJSON prints one JSON object per statement, one per line.
func writeJSON(w io.Writer, analyses []*planner.Analysis) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // keep ">" readable in predicates
	for _, a := range analyses {
		// *sql.Error marshals as {"name", "message", "line", "column"}.
		if err := enc.Encode(a); err != nil {
			return err
		}
	}
	return nil
}

// writeText prints each statement's analysis as aligned tables.
func writeText(w io.Writer, analyses []*planner.Analysis) error {
	p := &textPrinter{w: w}
	for i, a := range analyses {
		p.statement(i+1, a)
	}
	return p.err
}

// textPrinter writes blocks (a statement's header, its tables) separated by
// blank lines, until the first write error, which it keeps.
type textPrinter struct {
	w       io.Writer
	err     error
	written bool
}

// block starts a block: a blank line unless it is the first.
func (p *textPrinter) block() {
	if p.written {
		p.line("")
	}
	p.written = true
}

func (p *textPrinter) line(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

// table prints a block of rows (the first is the header), indented and aligned.
func (p *textPrinter) table(rows [][]string) {
	p.block()
	if p.err != nil {
		return
	}
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\n", strings.Join(r, "\t"))
	}
	p.err = tw.Flush()
}

func (p *textPrinter) statement(n int, a *planner.Analysis) {
	kind := a.Kind
	if a.Inner != "" {
		kind += " " + a.Inner
	}
	p.block()
	p.line("statement %d: %s (%s)", n, cell(kind), a.Mode)
	if a.Error != nil {
		p.line("  error: %s", errorText(a.Error))
		p.line("  note: the statement could not be parsed; the tables shown are a conservative")
		p.line("        over-approximation (every name that could be a table, read in full)")
	}

	if len(a.Tables) == 0 {
		p.block()
		p.line("  no tables")
	} else {
		rows := [][]string{{"TABLE", "ACCESS"}}
		notes := false
		for _, t := range a.Tables {
			rows = append(rows, []string{cell(t.Name), string(t.Access)})
			notes = notes || t.Partial || t.Base != ""
		}
		if notes {
			rows[0] = append(rows[0], "NOTE")
			for i, t := range a.Tables {
				note := "-"
				switch {
				case t.Partial:
					note = "partial name: set --catalog and --schema to qualify it"
				case t.Base != "":
					note = "metadata table of " + cell(t.Base)
				}
				rows[i+1] = append(rows[i+1], note)
			}
		}
		p.table(rows)
	}

	if len(a.Columns) > 0 {
		rows := [][]string{{"TABLE", "COLUMNS"}}
		for _, t := range sortedTables(a) {
			rows = append(rows, []string{cell(t), cells(a.Columns[t])})
		}
		p.table(rows)
	}

	if len(a.Output) > 0 {
		rows := [][]string{{"OUTPUT", "AGGREGATED", "RAW SOURCES"}}
		for _, o := range a.Output {
			agg := "no"
			if o.Aggregated {
				agg = "yes"
			}
			rows = append(rows, []string{cell(o.Name), agg, cells(o.Raw)})
		}
		p.table(rows)
	}

	if len(a.GroupBy) > 0 {
		p.block()
		p.line("  GROUPED BY: %s", cells(a.GroupBy))
	}

	if len(a.Predicates) > 0 {
		rows := [][]string{{"PREDICATE", "OP", "VALUE", "TYPE"}}
		for _, pr := range a.Predicates {
			vals := make([]string, len(pr.Values))
			for i, v := range pr.Values {
				vals[i] = literal(v, pr.Type)
			}
			rows = append(rows, []string{cell(pr.Table + "." + pr.Column), pr.Op, orDash(strings.Join(vals, ", ")), orDash(cell(pr.Type))})
		}
		p.table(rows)
	}

	if len(a.Ambiguous) > 0 {
		p.block()
		p.line("  AMBIGUOUS COLUMNS: %s (attributed to every table in scope)", cells(a.Ambiguous))
	}

	if len(a.Opaque) > 0 {
		p.block()
		p.line("  OPAQUE (policy denies statements whose tables cannot all be known)")
		for _, r := range a.Opaque {
			p.line("  - %s", cell(r))
		}
	}
}

// errorText is "SYNTAX_ERROR at line 1:8: message", as Trino words it.
func errorText(e *sql.Error) string {
	if e.Pos.Line == 0 {
		return fmt.Sprintf("%s: %s", e.Name, cell(e.Message))
	}
	return fmt.Sprintf("%s at line %d:%d: %s", e.Name, e.Pos.Line, e.Pos.Column, cell(e.Message))
}

// sortedTables lists the tables of a.Columns in the order of a.Tables (which
// the planner sorts), then any others by name.
func sortedTables(a *planner.Analysis) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range a.Tables {
		if _, ok := a.Columns[t.Name]; ok && !seen[t.Name] {
			seen[t.Name] = true
			out = append(out, t.Name)
		}
	}
	var rest []string
	for t := range a.Columns {
		if !seen[t] {
			rest = append(rest, t)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// literal shows a predicate value as SQL would: numbers and booleans bare,
// anything else quoted, so a comma inside a value cannot be misread.
func literal(v, typ string) string {
	switch typ {
	case "number", "boolean":
		return cell(v)
	}
	return cell("'" + strings.ReplaceAll(v, "'", "''") + "'")
}

// cell makes a value safe for one table cell: names come from the user's SQL
// and may hold tabs, newlines or terminal control characters, which are shown
// escaped instead.
func cell(s string) string {
	if strings.ContainsFunc(s, unicode.IsControl) {
		q := strconv.Quote(s)
		return q[1 : len(q)-1]
	}
	return s
}

func cells(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = cell(s)
	}
	return orDash(strings.Join(out, ", "))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
