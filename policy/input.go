package policy

import (
	"sort"

	"github.com/open-policy-agent/opa/v1/ast"
)

// InputVersion is the version of the decision input this package builds.
const InputVersion = 1

// Input is the decision input (GOVERNANCE.md, "Decision input", version 1).
type Input struct {
	Version   int                   `json:"version"`
	Subject   Subject               `json:"subject"`
	Request   Request               `json:"request"`
	Statement Statement             `json:"statement"`
	Tables    []Table               `json:"tables"`
	Regions   map[string]RegionInfo `json:"regions"`
}

// Subject is who asks, and where the results go.
type Subject struct {
	User          string   `json:"user"`
	Groups        []string `json:"groups"`
	Region        string   `json:"region"`
	Purposes      []string `json:"purposes"`
	Authenticated bool     `json:"authenticated"`
}

// Request is what the client declared about the statement.
type Request struct {
	Purpose    string   `json:"purpose"`
	Source     string   `json:"source"`
	ClientTags []string `json:"client_tags"`
	QueryID    string   `json:"query_id"`
}

// Statement describes the statement as analysed.
type Statement struct {
	Kind        string   `json:"kind"`
	Analysis    string   `json:"analysis"`
	Fingerprint string   `json:"fingerprint"`
	Opaque      []string `json:"opaque"`
	WritesTo    []Write  `json:"writes_to"`
}

// Write is a table a statement writes, and its region.
type Write struct {
	Table  string `json:"table"`
	Region string `json:"region"`
}

// Table is one table the statement touches, one way.
type Table struct {
	Name                 string   `json:"name"`
	Access               string   `json:"access"`
	Region               string   `json:"region"`
	Classification       string   `json:"classification"`
	Purposes             []string `json:"purposes"`
	ColumnsRead          []string `json:"columns_read"`
	PIIColumnsRead       []string `json:"pii_columns_read"`
	PIIInOutput          []string `json:"pii_in_output"`
	PIIGroupedBy         []string `json:"pii_grouped_by"`
	OutputAggregated     bool     `json:"output_aggregated"`
	RetentionDays        int      `json:"retention_days"`
	UnreadablePartitions int      `json:"unreadable_partitions"`
}

// RegionInfo is what policy knows of a region.
type RegionInfo struct {
	Jurisdiction string `json:"jurisdiction"`
	Healthy      bool   `json:"healthy"`
}

// Decision is the policy's answer (data.meridian.decision).
type Decision struct {
	Allow       bool           `json:"allow"`
	Regions     []string       `json:"regions"`
	Violations  []Violation    `json:"violations"`
	Obligations map[string]any `json:"obligations,omitempty"`
}

// Violation is one rule a statement breaks, with what would make it pass.
type Violation struct {
	Rule    string `json:"rule"`
	Table   string `json:"table,omitempty"`
	Message string `json:"message"`
}

// value builds the input as an OPA value directly, without a JSON round trip:
// this is on the path of every statement.
func (in *Input) value() ast.Value {
	tables := make([]*ast.Term, len(in.Tables))
	for i := range in.Tables {
		t := &in.Tables[i]
		tables[i] = ast.ObjectTerm(
			item("name", ast.StringTerm(t.Name)),
			item("access", ast.StringTerm(t.Access)),
			item("region", ast.StringTerm(t.Region)),
			item("classification", ast.StringTerm(t.Classification)),
			item("purposes", stringArray(t.Purposes)),
			item("columns_read", stringArray(t.ColumnsRead)),
			item("pii_columns_read", stringArray(t.PIIColumnsRead)),
			item("pii_in_output", stringArray(t.PIIInOutput)),
			item("pii_grouped_by", stringArray(t.PIIGroupedBy)),
			item("output_aggregated", ast.BooleanTerm(t.OutputAggregated)),
			item("retention_days", ast.IntNumberTerm(t.RetentionDays)),
			item("unreadable_partitions", ast.IntNumberTerm(t.UnreadablePartitions)),
		)
	}
	writes := make([]*ast.Term, len(in.Statement.WritesTo))
	for i, w := range in.Statement.WritesTo {
		writes[i] = ast.ObjectTerm(item("table", ast.StringTerm(w.Table)), item("region", ast.StringTerm(w.Region)))
	}
	names := make([]string, 0, len(in.Regions))
	for r := range in.Regions {
		names = append(names, r)
	}
	sort.Strings(names)
	regions := make([][2]*ast.Term, 0, len(names))
	for _, r := range names {
		ri := in.Regions[r]
		regions = append(regions, item(r, ast.ObjectTerm(
			item("jurisdiction", ast.StringTerm(ri.Jurisdiction)),
			item("healthy", ast.BooleanTerm(ri.Healthy)),
		)))
	}
	return ast.NewObject(
		item("version", ast.IntNumberTerm(in.Version)),
		item("subject", ast.ObjectTerm(
			item("user", ast.StringTerm(in.Subject.User)),
			item("groups", stringArray(in.Subject.Groups)),
			item("region", ast.StringTerm(in.Subject.Region)),
			item("purposes", stringArray(in.Subject.Purposes)),
			item("authenticated", ast.BooleanTerm(in.Subject.Authenticated)),
		)),
		item("request", ast.ObjectTerm(
			item("purpose", ast.StringTerm(in.Request.Purpose)),
			item("source", ast.StringTerm(in.Request.Source)),
			item("client_tags", stringArray(in.Request.ClientTags)),
			item("query_id", ast.StringTerm(in.Request.QueryID)),
		)),
		item("statement", ast.ObjectTerm(
			item("kind", ast.StringTerm(in.Statement.Kind)),
			item("analysis", ast.StringTerm(in.Statement.Analysis)),
			item("fingerprint", ast.StringTerm(in.Statement.Fingerprint)),
			item("opaque", stringArray(in.Statement.Opaque)),
			item("writes_to", ast.ArrayTerm(writes...)),
		)),
		item("tables", ast.ArrayTerm(tables...)),
		item("regions", ast.ObjectTerm(regions...)),
	)
}

func item(k string, v *ast.Term) [2]*ast.Term { return ast.Item(ast.StringTerm(k), v) }

func stringArray(ss []string) *ast.Term {
	ts := make([]*ast.Term, len(ss))
	for i, s := range ss {
		ts[i] = ast.StringTerm(s)
	}
	return ast.ArrayTerm(ts...)
}
