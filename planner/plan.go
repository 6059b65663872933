package planner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/cluster"
	"github.com/meridian-lake/meridian/internal/trino"
	"github.com/meridian-lake/meridian/planner/sql"
	"github.com/meridian-lake/meridian/policy"
)

// Resolver is what planning needs of the catalog.
type Resolver interface {
	Resolve(ctx context.Context, ref catalog.TableRef) (catalog.TableInfo, error)
}

// Decider decides policy inputs: *policy.Engine.
type Decider interface {
	DecideVersion(ctx context.Context, in *policy.Input) (policy.Decision, int64, error)
}

// Planner turns a statement into a Plan: analysis, resolution, the policy
// decision and the cluster to run on.
type Planner struct {
	Catalog  Resolver
	Policy   Decider
	Clusters *cluster.Registry
	Parser   sql.Parser
	// MaxViewDepth bounds view expansion (default 8).
	MaxViewDepth int
	// Now returns the time of the plan (default time.Now).
	Now func() time.Time
}

// Request is one statement and who sends it.
type Request struct {
	// SQL is the statement text as the client sent it.
	SQL     string
	Session Session
	// Prepared are the client's prepared statements (name → text).
	Prepared map[string]string
	Subject  policy.Subject
	// Purpose is the declared purpose ("" when none).
	Purpose    string
	Source     string
	ClientTags []string
	QueryID    string
}

// PlannedTable is one table of the plan as resolved.
type PlannedTable struct {
	Name           string `json:"name"`
	Access         Access `json:"access"`
	Region         string `json:"region"`
	Classification string `json:"classification"`
	Bytes          int64  `json:"bytes"`
	// View names the view through which the table is read, if any.
	View string `json:"view,omitempty"`
	// Missing is set for a write target that does not exist yet.
	Missing bool `json:"missing,omitempty"`
}

// Plan is what Meridian decided about a statement.
type Plan struct {
	QueryID string `json:"query_id"`
	// Statement is the normalised text (literals replaced by ?) and
	// Fingerprint its hash: safe to log and store.
	Statement   string `json:"statement"`
	Fingerprint string `json:"fingerprint"`
	// SQL is the text to forward: the statement as the decision's
	// obligations require it (Rewritten says whether it differs). It holds
	// the statement's literals: never log or store it.
	SQL       string         `json:"-"`
	Rewritten bool           `json:"rewritten,omitempty"`
	Analysis  *Analysis      `json:"analysis"`
	Tables    []PlannedTable `json:"tables"`
	// Reads are the partitions the statement reads, after pruning.
	Reads    []TableRead       `json:"reads,omitempty"`
	Input    *policy.Input     `json:"input"`
	Decision policy.Decision   `json:"decision"`
	Version  int64             `json:"policy_version"`
	Cluster  string            `json:"cluster,omitempty"`
	Region   string            `json:"region,omitempty"`
	Why      string            `json:"why,omitempty"`
	Error    *trino.Error      `json:"-"`
	ErrorDoc *trino.QueryError `json:"error,omitempty"`
	Timings  Timings           `json:"timings"`
	At       time.Time         `json:"at"`

	choice cluster.Choice
}

// Timings of the planning steps.
type Timings struct {
	Analyze time.Duration `json:"analyze_ns"`
	Resolve time.Duration `json:"resolve_ns"`
	Decide  time.Duration `json:"decide_ns"`
	Total   time.Duration `json:"total_ns"`
}

// Chosen is the cluster the statement runs on (nil when it is refused).
func (p *Plan) Chosen() *cluster.Cluster { return p.choice.Cluster }

// Allowed reports whether the statement may run.
func (p *Plan) Allowed() bool { return p.Error == nil && p.choice.Cluster != nil }

const defaultViewDepth = 8

// Plan plans one statement. It never fails: a statement that may not run
// gets a Plan whose Error says why (a Trino error for the client).
func (pl *Planner) Plan(ctx context.Context, req Request) *Plan {
	now := time.Now
	if pl.Now != nil {
		now = pl.Now
	}
	start := time.Now()
	p := &Plan{QueryID: req.QueryID, At: now(), SQL: req.SQL}
	defer func() {
		p.Timings.Total = time.Since(start)
		if p.Error != nil {
			p.ErrorDoc = p.Error.QueryError()
		}
	}()
	p.Statement, p.Fingerprint = sql.Normalize(req.SQL)

	// Analysis, with column lists from the catalog for exact attribution.
	resolved := map[string]*resolution{}
	resolve := func(name string) *resolution {
		if r, ok := resolved[name]; ok {
			return r
		}
		r := &resolution{}
		ref, err := catalog.ParseTableRef(name)
		if err != nil {
			r.err = err
		} else {
			info, err := pl.Catalog.Resolve(ctx, ref)
			r.info, r.err = info, err
		}
		resolved[name] = r
		return r
	}
	opts := Options{Parser: pl.Parser, Prepared: req.Prepared, Columns: func(table string) ([]string, bool) {
		r := resolve(table)
		if r.err != nil || r.info.Kind != catalog.KindTable {
			return nil, false
		}
		cols := make([]string, len(r.info.Columns))
		for i, c := range r.info.Columns {
			cols[i] = c.Name
		}
		return cols, true
	}}
	t0 := time.Now()
	a := Analyze(req.SQL, req.Session, opts)
	p.Analysis = a
	p.Timings.Analyze = time.Since(t0)

	// Resolution of every table, views expanded.
	t0 = time.Now()
	tables, rerr := pl.resolveAll(ctx, a, resolve)
	p.Timings.Resolve = time.Since(t0)
	if err := rerr; err != nil {
		// Refused before policy: the record still says what and why.
		p.Input = pl.input(req, a, p.Fingerprint, nil)
		p.Decision = policy.Decision{Regions: []string{}, Violations: []policy.Violation{
			{Rule: "resolve." + strings.ToLower(err.Code.Name), Message: err.Message}}}
		p.Error = err
		return p
	}
	p.Tables = make([]PlannedTable, len(tables))
	for i, t := range tables {
		p.Tables[i] = t.planned()
	}
	p.Reads = reads(a, tables)
	archivedReads := unreadable(p.Reads, tables)

	// The decision.
	p.Input = pl.input(req, a, p.Fingerprint, tables)
	for i := range p.Input.Tables {
		p.Input.Tables[i].UnreadablePartitions = len(archivedReads[p.Input.Tables[i].Name])
	}
	t0 = time.Now()
	d, version, err := pl.Policy.DecideVersion(ctx, p.Input)
	p.Timings.Decide = time.Since(t0)
	p.Decision, p.Version = d, version
	if err != nil || !d.Allow {
		p.Error = denial(d)
		return p
	}
	// Compliance first, then availability: archived partitions cannot be
	// read until restored.
	if aerr := archived(archivedReads); aerr != nil {
		p.Error = aerr
		return p
	}
	if len(d.Obligations) > 0 {
		out, oerr := enforce(req.SQL, d, pl.Parser)
		if oerr != nil {
			p.Error = oerr
			return p
		}
		p.Rewritten = out != req.SQL
		p.SQL = out
	}

	// The cluster.
	bytes := map[string]int64{}
	region := map[string]string{}
	for _, t := range tables {
		region[t.name] = t.region
	}
	for _, r := range p.Reads {
		bytes[region[r.Table]] += r.Bytes
	}
	ch, err := pl.Clusters.Choose(d.Regions, bytes)
	if err != nil {
		p.Error = trino.Errorf(trino.NoNodesAvailable, "%v", err)
		return p
	}
	p.choice = ch
	p.Cluster, p.Region, p.Why = ch.Cluster.Name, ch.Cluster.Region, ch.Why
	return p
}

type resolution struct {
	info catalog.TableInfo
	err  error
}

// table is a resolved table of the statement, or of a view it reads.
type table struct {
	name     string
	access   Access
	info     *catalog.TableInfo // nil for a missing write target
	region   string
	bytes    int64
	view     string   // the view it is read through
	columns  []string // columns read; "*" for all
	rawOut   []string // its columns whose raw values reach the output
	groupBy  []string // its columns used as grouping keys
	allAggOK bool     // the statement's output is only aggregates
}

func (t *table) planned() PlannedTable {
	pt := PlannedTable{Name: t.name, Access: t.access, Region: t.region, Bytes: t.bytes, View: t.view, Missing: t.info == nil}
	if t.info != nil {
		pt.Classification = string(t.info.Classification)
	}
	return pt
}

// resolveAll resolves the analysis' tables and expands views into the
// tables they read. A table that cannot be resolved refuses the statement,
// except a write target that does not exist yet (CREATE TABLE AS).
func (pl *Planner) resolveAll(ctx context.Context, a *Analysis, resolve func(string) *resolution) ([]*table, *trino.Error) {
	maxDepth := pl.MaxViewDepth
	if maxDepth <= 0 {
		maxDepth = defaultViewDepth
	}
	raw, group := lineageByTable(a)
	allAgg := aggregateOutput(a)
	var out []*table
	var add func(a *Analysis, view string, depth int, raw, group map[string][]string, allAgg bool) *trino.Error
	add = func(a *Analysis, view string, depth int, raw, group map[string][]string, allAgg bool) *trino.Error {
		for _, ta := range a.Tables {
			if ta.Partial {
				return trino.Errorf(trino.MissingSchemaName,
					"table %s is not fully qualified and the session has no catalog and schema: qualify it as catalog.schema.table or run USE catalog.schema first", ta.Name)
			}
			name := ta.Name
			if ta.Base != "" {
				name = ta.Base
			}
			r := resolve(name)
			t := &table{name: ta.Name, access: ta.Access, view: view, columns: a.Columns[ta.Name],
				rawOut: raw[ta.Name], groupBy: group[ta.Name], allAggOK: allAgg}
			if r.err != nil {
				var ce *catalog.Error
				switch {
				case errors.As(r.err, &ce) && errors.Is(ce.Kind, catalog.ErrTableNotFound) && (ta.Access == Write || ta.Access == DDL):
					t.region = catalog.RegionUnknown // created by the statement
					out = append(out, t)
					continue
				case errors.Is(r.err, catalog.ErrTableNotFound):
					return trino.Errorf(trino.TableNotFound, "Table '%s' does not exist", ta.Name)
				case errors.Is(r.err, catalog.ErrCatalogNotFound):
					return trino.Errorf(trino.CatalogNotFound, "Catalog '%s' not found", strings.SplitN(ta.Name, ".", 2)[0])
				default:
					return trino.Errorf(trino.GenericInternalError,
						"Meridian cannot check table %s (%v), so the statement is refused: retry, or ask the operators to check the catalog", ta.Name, r.err)
				}
			}
			info := r.info
			t.info, t.region = &info, info.Region
			if info.Snapshot != nil {
				t.bytes = info.Snapshot.Bytes
			}
			out = append(out, t)
			if info.Kind != catalog.KindView || ta.Access != Read {
				continue
			}
			// A view never hides the tables it reads.
			if depth >= maxDepth {
				return trino.Errorf(trino.NotSupported, "view %s nests views more than %d deep; Meridian cannot check it", ta.Name, maxDepth)
			}
			// "default" is what iceberg-go writes when no dialect is given;
			// such a body must still parse as Trino SQL below.
			if d := strings.ToLower(info.ViewDialect); d != "" && d != "trino" && d != "default" {
				return trino.Errorf(trino.NotSupported, "view %s is defined in %s SQL, which Meridian cannot check; define it in Trino SQL", ta.Name, info.ViewDialect)
			}
			inner := Analyze(info.ViewSQL, Session{Catalog: info.Ref.Catalog, Schema: info.Ref.Schema}, Options{Parser: pl.Parser})
			if inner.Mode != ModeAST || len(inner.Opaque) > 0 {
				return trino.Errorf(trino.NotSupported, "view %s cannot be analysed, so the tables it reads cannot be checked", ta.Name)
			}
			// The view's columns reach the output as the outer statement
			// uses them: raw when the view is read raw, else aggregated.
			innerRaw, innerGroup := lineageByTable(inner)
			viewRaw := len(raw[ta.Name]) > 0 || !allAgg
			if !viewRaw {
				innerRaw = nil
			}
			if len(group[ta.Name]) > 0 {
				for k, v := range innerRaw {
					innerGroup[k] = append(innerGroup[k], v...)
				}
			}
			if err := add(inner, ta.Name, depth+1, innerRaw, innerGroup, allAgg && !viewRaw); err != nil {
				return err
			}
		}
		return nil
	}
	if err := add(a, "", 0, raw, group, allAgg); err != nil {
		return nil, err
	}
	return out, nil
}

// aggregateOutput reports whether every row of the statement's output
// describes a group rather than a row of a table: the statement aggregates
// (GROUP BY or an aggregate), and each output column is an aggregate or
// carries only grouping keys. Whether a grouping key is personal is the
// policy's business (pii_grouped_by).
func aggregateOutput(a *Analysis) bool {
	grouped := len(a.GroupBy) > 0
	for _, o := range a.Output {
		grouped = grouped || o.Aggregated
	}
	if !grouped || len(a.Output) == 0 {
		return false
	}
	for _, o := range a.Output {
		if o.Aggregated {
			continue
		}
		for _, r := range o.Raw {
			if !slices.Contains(a.GroupBy, r) {
				return false
			}
		}
	}
	return true
}

// lineageByTable splits the analysis' raw output sources and grouping keys
// ("table.column") by table.
func lineageByTable(a *Analysis) (raw, group map[string][]string) {
	raw, group = map[string][]string{}, map[string][]string{}
	split := func(m map[string][]string, tc string) {
		i := strings.LastIndexByte(tc, '.')
		if i <= 0 {
			return
		}
		t, c := tc[:i], tc[i+1:]
		if !slices.Contains(m[t], c) {
			m[t] = append(m[t], c)
		}
	}
	for _, o := range a.Output {
		for _, r := range o.Raw {
			split(raw, r)
		}
	}
	for _, g := range a.GroupBy {
		split(group, g)
	}
	return raw, group
}

// input builds the policy input (GOVERNANCE.md, version 1).
func (pl *Planner) input(req Request, a *Analysis, fingerprint string, tables []*table) *policy.Input {
	in := &policy.Input{
		Version: policy.InputVersion,
		Subject: req.Subject,
		Request: policy.Request{Purpose: req.Purpose, Source: req.Source, ClientTags: nonNil(req.ClientTags), QueryID: req.QueryID},
		Statement: policy.Statement{Kind: a.Kind, Analysis: a.Mode, Fingerprint: fingerprint,
			Opaque: nonNil(a.Opaque), WritesTo: []policy.Write{}},
		Tables:  make([]policy.Table, 0, len(tables)),
		Regions: map[string]policy.RegionInfo{},
	}
	if a.Inner != "" && (a.Kind == "execute" || a.Kind == "execute_immediate" || a.Kind == "prepare") {
		in.Statement.Kind = a.Inner
	}
	in.Subject.Groups, in.Subject.Purposes = nonNil(in.Subject.Groups), nonNil(in.Subject.Purposes)
	for _, t := range tables {
		if t.info != nil && t.info.Kind == catalog.KindView && t.access == Read {
			continue // a view holds no data: the tables it reads are listed
		}
		pt := policy.Table{Name: t.name, Access: string(t.access), Region: t.region,
			Purposes: []string{}, ColumnsRead: []string{}, PIIColumnsRead: []string{}, PIIInOutput: []string{}, PIIGroupedBy: []string{}}
		if t.info == nil {
			// A table the statement creates: nothing is known of it yet.
			pt.Classification = string(catalog.Unclassified)
		} else {
			pt.Classification = string(t.info.Classification)
			pt.Purposes = nonNil(t.info.Purposes)
			pt.RetentionDays = t.info.RetentionDays
			pt.ColumnsRead = expandColumns(t.columns, t.info)
			pii := piiColumns(t.info)
			pt.PIIColumnsRead = intersect(pt.ColumnsRead, pii)
			pt.PIIInOutput = intersect(expandColumns(t.rawOut, t.info), pii)
			pt.PIIGroupedBy = intersect(expandColumns(t.groupBy, t.info), pii)
			// Only groups leave the statement (personal grouping keys are
			// reported in pii_grouped_by).
			pt.OutputAggregated = t.allAggOK
		}
		if t.access == Write {
			in.Statement.WritesTo = append(in.Statement.WritesTo, policy.Write{Table: t.name, Region: t.region})
		}
		in.Tables = append(in.Tables, pt)
	}
	if pl.Clusters != nil {
		for _, r := range pl.Clusters.Regions() {
			in.Regions[r.Name] = policy.RegionInfo{Jurisdiction: r.Jurisdiction, Healthy: pl.Clusters.RegionHealthy(r.Name)}
		}
	}
	return in
}

// expandColumns turns a column list that holds "*" into every column.
func expandColumns(cols []string, info *catalog.TableInfo) []string {
	if slices.Contains(cols, "*") {
		all := make([]string, len(info.Columns))
		for i, c := range info.Columns {
			all[i] = strings.ToLower(c.Name)
		}
		return all
	}
	out := slices.Clone(cols)
	sort.Strings(out)
	return nonNil(slices.Compact(out))
}

func piiColumns(info *catalog.TableInfo) []string {
	var out []string
	for _, c := range info.Columns {
		if c.PII() {
			out = append(out, strings.ToLower(c.Name))
		}
	}
	return out
}

func intersect(a, b []string) []string {
	out := []string{}
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// denial renders a refused decision as the client's error: every violation
// with its rule, table and what would make it pass.
func denial(d policy.Decision) *trino.Error {
	if len(d.Violations) == 0 {
		return trino.Errorf(trino.PermissionDenied, "Access Denied: no region may run this statement under the active policy")
	}
	var b strings.Builder
	b.WriteString("Access Denied: ")
	for i, v := range d.Violations {
		if i > 0 {
			b.WriteString(" | ")
		}
		if v.Table != "" {
			fmt.Fprintf(&b, "[%s] %s: %s", v.Rule, v.Table, v.Message)
		} else {
			fmt.Fprintf(&b, "[%s] %s", v.Rule, v.Message)
		}
	}
	return &trino.Error{Code: trino.PermissionDenied, Message: b.String()}
}

// Record is the decision record of the plan, to be written before the
// statement is forwarded.
func (p *Plan) Record(id string) *policy.Record {
	rec := &policy.Record{ID: id, At: p.At, QueryID: p.QueryID, Fingerprint: p.Fingerprint, Statement: p.Statement,
		Allow: p.Allowed(), Regions: p.Decision.Regions, Violations: p.Decision.Violations, VersionID: p.Version,
		EvalMicros: p.Timings.Decide.Microseconds(), Input: p.Input}
	if p.Input != nil {
		rec.User = p.Input.Subject.User
	}
	for _, t := range p.Tables {
		if !slices.Contains(rec.Tables, t.Name) {
			rec.Tables = append(rec.Tables, t.Name)
		}
	}
	if p.Error != nil && p.Decision.Allow {
		// Allowed by policy but not run (no cluster): the record says why.
		rec.Violations = append(slices.Clone(rec.Violations), policy.Violation{Rule: "cluster." + strings.ToLower(p.Error.Code.Name), Message: p.Error.Message})
	}
	return rec
}
