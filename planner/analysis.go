package planner

import (
	"errors"
	"sort"
	"strings"

	"github.com/meridian-lake/meridian/planner/sql"
)

// Session is the part of a Trino session that analysis needs: the defaults
// that qualify unqualified names.
type Session struct {
	Catalog string
	Schema  string
}

// Access is how a statement touches a table.
type Access string

// Access kinds, as in the corpus: read (rows are read, including EXPLAIN,
// view bodies and MERGE sources), write (rows are inserted, updated, deleted
// or replaced), ddl (the table's definition or grants change), meta (only its
// metadata is shown: DESCRIBE, SHOW COLUMNS, CREATE TABLE … LIKE).
const (
	Read  Access = "read"
	Write Access = "write"
	DDL   Access = "ddl"
	Meta  Access = "meta"
)

// Analysis modes.
const (
	ModeAST          = "ast"          // the statement was parsed and fully analysed
	ModeConservative = "conservative" // parsing failed; tables are over-approximated
)

// Analysis is what a statement does, read from its text alone.
type Analysis struct {
	// Kind is the statement kind: "select", "insert", "create_table_as",
	// "explain", "show_tables", "drop_table", …
	Kind string `json:"kind"`
	// Inner is the kind of the wrapped statement for EXPLAIN, PREPARE and
	// EXECUTE IMMEDIATE.
	Inner string `json:"inner,omitempty"`
	// Mode is ModeAST or ModeConservative.
	Mode string `json:"analysis"`
	// Tables lists every table the statement touches, fully qualified and
	// lower-case, sorted by name then access. A table touched two ways is
	// listed twice.
	Tables []TableAccess `json:"tables"`
	// Columns lists, per table, the columns the statement reads ("*" for all).
	Columns map[string][]string `json:"columns"`
	// Output describes each output column (for INSERT and CTAS, the rows written).
	Output []OutputColumn `json:"output"`
	// Predicates are comparisons of base-table columns with literals, for
	// partition pruning. They hold literal values from the statement: use them
	// in memory, never log or store them.
	Predicates []Predicate `json:"predicates,omitempty"`
	// GroupBy lists the base columns that aggregates are grouped by, anywhere
	// in the statement. An aggregate grouped by a personal identifier is data
	// about one person, however aggregated its output looks.
	GroupBy []string `json:"group_by,omitempty"`
	// Ambiguous lists unqualified column names that could belong to more than
	// one table in scope; they are attributed to every candidate.
	Ambiguous []string `json:"ambiguous_columns,omitempty"`
	// Opaque explains why the statement's tables cannot all be known from its
	// text (EXECUTE of a prepared name, pass-through table functions, CALL…).
	// Policy must deny a statement with opaque parts.
	Opaque []string `json:"opaque,omitempty"`
	// References counts how often each table is named in the statement:
	// predicates prune a table's partitions only when it is named once
	// (two references may read different rows).
	References map[string]int `json:"-"`
	// Error is set when the statement could not be parsed; Mode is then
	// ModeConservative.
	Error *sql.Error `json:"error,omitempty"`
}

// TableAccess is one table and how it is touched.
type TableAccess struct {
	Name   string `json:"name"`
	Access Access `json:"access"`
	// Base is the table behind a metadata table (t for t$snapshots).
	Base string `json:"base,omitempty"`
	// Partial is set when the session lacked the catalog or schema needed to
	// qualify the name; such a table cannot be resolved.
	Partial bool `json:"partial,omitempty"`
}

// OutputColumn is one column of the statement's result.
type OutputColumn struct {
	Name string `json:"name"`
	// Aggregated is true when the value comes only through reducing aggregates
	// (count, sum, avg, …) and carries no raw column value. Value-preserving
	// aggregates (min, max, arbitrary, array_agg, …) count as raw.
	Aggregated bool `json:"aggregated"`
	// Raw lists the base columns ("table.column", "table.*") whose values
	// reach this output column outside a reducing aggregate.
	Raw []string `json:"raw,omitempty"`
}

// Predicate is column op literal on a base table column.
type Predicate struct {
	Table  string   `json:"table"`
	Column string   `json:"column"`
	Op     string   `json:"op"` // =, <>, <, <=, >, >=, in, is null, is not null
	Values []string `json:"values,omitempty"`
	Type   string   `json:"type,omitempty"` // literal type: "date", "timestamp", "number", "string", …
}

// Options tune analysis.
type Options struct {
	// Parser sets parse limits; zero means the defaults.
	Parser sql.Parser
	// Columns, when set, returns a table's column names; it makes column
	// attribution exact where the text alone is ambiguous.
	Columns func(table string) ([]string, bool)
	// Prepared are the client's prepared statements (name → text, from
	// X-Trino-Prepared-Statement): EXECUTE name is analysed as the text it
	// runs. Without it EXECUTE name is opaque.
	Prepared map[string]string
}

// Analyze parses src and analyses it. When parsing fails it falls back to a
// conservative analysis: every identifier chain that could name a table is
// reported as read, with Error set.
func Analyze(src string, s Session, o Options) *Analysis {
	stmt, err := o.Parser.Parse(src)
	if err != nil {
		var pe *sql.Error
		if !errors.As(err, &pe) {
			pe = &sql.Error{Name: sql.ErrSyntax, Message: err.Error()}
		}
		if pe.Name == sql.ErrTooLarge {
			// Too large to read safely, so not read at all: policy must deny.
			a := &Analysis{Mode: ModeConservative, Kind: "unknown", Tables: []TableAccess{},
				Columns: map[string][]string{}, Output: []OutputColumn{}, Error: pe,
				Opaque: []string{"statement exceeds the parser's limits and was not read"}}
			return a
		}
		a := Conservative(src, s)
		a.Error = pe
		return a
	}
	return AnalyzeStatement(stmt, s, o)
}

// AnalyzeStatement analyses a parsed statement.
func AnalyzeStatement(stmt sql.Statement, s Session, o Options) *Analysis {
	an := newAnalyzer(s, o)
	a := &Analysis{Mode: ModeAST}
	an.statement(a, stmt)
	an.finish(a)
	return a
}

type tableKey struct {
	name   string
	access Access
}

// analyzer accumulates what one statement touches.
type analyzer struct {
	session   Session
	opts      Options
	tables    map[tableKey]TableAccess
	columns   map[colRef]bool
	ambiguous map[string]bool
	preds     []Predicate
	refs      map[string]int
	opaque    []string
	groupBy   map[string]bool
	captures  []*capture
	mode      string
	depth     int // nesting of EXECUTE IMMEDIATE unwrapping
	discard   int // > 0 while analysing expressions whose lineage is not needed
}

func newAnalyzer(s Session, o Options) *analyzer {
	return &analyzer{
		session:   Session{Catalog: strings.ToLower(s.Catalog), Schema: strings.ToLower(s.Schema)},
		opts:      o,
		tables:    map[tableKey]TableAccess{},
		columns:   make(map[colRef]bool, 16),
		ambiguous: map[string]bool{},
		groupBy:   map[string]bool{},
	}
}

// qualify turns a name as written into the parts of a fully qualified table
// name, lower-case.
func (an *analyzer) qualify(q *sql.QualifiedName) (parts []string, partial bool) {
	parts = make([]string, 0, 3)
	switch len(q.Parts) {
	case 1:
		parts = append(parts, an.session.Catalog, an.session.Schema)
		partial = an.session.Catalog == "" || an.session.Schema == ""
	case 2:
		parts = append(parts, an.session.Catalog)
		partial = an.session.Catalog == ""
	}
	for _, p := range q.Parts {
		parts = append(parts, p.Norm())
	}
	if partial {
		kept := parts[:0]
		for _, p := range parts {
			if p != "" {
				kept = append(kept, p)
			}
		}
		parts = kept
	}
	return parts, partial
}

// TableName joins name parts into the canonical dotted form. A part that
// holds a dot or a double quote is quoted, so the name stays unambiguous:
// jmx.current."a.b:type=c".
func TableName(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		if strings.ContainsAny(p, `."`) {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(p, `"`, `""`))
			b.WriteByte('"')
		} else {
			b.WriteString(p)
		}
	}
	return b.String()
}

// addTable records a table access and returns the table's source.
func (an *analyzer) addTable(q *sql.QualifiedName, access Access) *source {
	parts, partial := an.qualify(q)
	name := TableName(parts)
	ta := TableAccess{Name: name, Access: access, Partial: partial}
	if last := parts[len(parts)-1]; strings.IndexByte(last, '$') > 0 {
		base := append(append([]string(nil), parts[:len(parts)-1]...), last[:strings.IndexByte(last, '$')])
		ta.Base = TableName(base)
	}
	an.tables[tableKey{name, access}] = ta
	if an.refs == nil {
		an.refs = map[string]int{}
	}
	an.refs[name]++
	return an.tableSource(name, parts)
}

func (an *analyzer) addColumn(table, column string) {
	an.columns[colRef{table, column}] = true
}

func (an *analyzer) addOpaque(reason string) {
	for _, r := range an.opaque {
		if r == reason {
			return
		}
	}
	an.opaque = append(an.opaque, reason)
}

func (an *analyzer) finish(a *Analysis) {
	a.Tables = make([]TableAccess, 0, len(an.tables))
	for _, t := range an.tables {
		a.Tables = append(a.Tables, t)
	}
	sort.Slice(a.Tables, func(i, j int) bool {
		if a.Tables[i].Name != a.Tables[j].Name {
			return a.Tables[i].Name < a.Tables[j].Name
		}
		return a.Tables[i].Access < a.Tables[j].Access
	})
	a.Columns = map[string][]string{}
	for c := range an.columns {
		a.Columns[c.table] = append(a.Columns[c.table], c.column)
	}
	for _, cols := range a.Columns {
		sort.Strings(cols)
	}
	a.Ambiguous = sortedKeys(an.ambiguous)
	a.GroupBy = sortedKeys(an.groupBy)
	a.Predicates = an.preds
	a.References = an.refs
	a.Opaque = an.opaque
	if an.mode != "" {
		a.Mode = an.mode
	}
	if a.Output == nil {
		a.Output = []OutputColumn{}
	}
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
