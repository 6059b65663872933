package policy

import (
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
// this is on the path of every statement. Keys, booleans, small numbers and
// empty arrays are OPA's shared immutable terms (evaluation never changes
// the input), and the other terms come from a few blocks, so a decision
// allocates little more than what differs between inputs.
func (in *Input) value() ast.Value {
	var a terms
	tables := a.slice(len(in.Tables))
	for i := range in.Tables {
		t := &in.Tables[i]
		tables[i] = a.object(
			[2]*ast.Term{keyName, a.str(t.Name)},
			[2]*ast.Term{keyAccess, a.str(t.Access)},
			[2]*ast.Term{keyRegion, a.str(t.Region)},
			[2]*ast.Term{keyClassification, a.str(t.Classification)},
			[2]*ast.Term{keyPurposes, a.strings(t.Purposes)},
			[2]*ast.Term{keyColumnsRead, a.strings(t.ColumnsRead)},
			[2]*ast.Term{keyPIIColumnsRead, a.strings(t.PIIColumnsRead)},
			[2]*ast.Term{keyPIIInOutput, a.strings(t.PIIInOutput)},
			[2]*ast.Term{keyPIIGroupedBy, a.strings(t.PIIGroupedBy)},
			[2]*ast.Term{keyOutputAggregated, ast.InternedTerm(t.OutputAggregated)},
			[2]*ast.Term{keyRetentionDays, ast.InternedTerm(t.RetentionDays)},
			[2]*ast.Term{keyUnreadablePartitions, ast.InternedTerm(t.UnreadablePartitions)},
		)
	}
	writes := ast.InternedEmptyArray
	if len(in.Statement.WritesTo) > 0 {
		ws := a.slice(len(in.Statement.WritesTo))
		for i, w := range in.Statement.WritesTo {
			ws[i] = a.object([2]*ast.Term{keyTable, a.str(w.Table)}, [2]*ast.Term{keyRegion, a.str(w.Region)})
		}
		writes = a.array(ws)
	}
	regions := make([][2]*ast.Term, 0, len(in.Regions))
	for r, ri := range in.Regions { // an object's keys need no order
		regions = append(regions, [2]*ast.Term{a.str(r), a.object(
			[2]*ast.Term{keyJurisdiction, a.str(ri.Jurisdiction)},
			[2]*ast.Term{keyHealthy, ast.InternedTerm(ri.Healthy)},
		)})
	}
	return ast.NewObject(
		[2]*ast.Term{keyVersion, ast.InternedTerm(in.Version)},
		[2]*ast.Term{keySubject, a.object(
			[2]*ast.Term{keyUser, a.str(in.Subject.User)},
			[2]*ast.Term{keyGroups, a.strings(in.Subject.Groups)},
			[2]*ast.Term{keyRegion, a.str(in.Subject.Region)},
			[2]*ast.Term{keyPurposes, a.strings(in.Subject.Purposes)},
			[2]*ast.Term{keyAuthenticated, ast.InternedTerm(in.Subject.Authenticated)},
		)},
		[2]*ast.Term{keyRequest, a.object(
			[2]*ast.Term{keyPurpose, a.str(in.Request.Purpose)},
			[2]*ast.Term{keySource, a.str(in.Request.Source)},
			[2]*ast.Term{keyClientTags, a.strings(in.Request.ClientTags)},
			[2]*ast.Term{keyQueryID, a.str(in.Request.QueryID)},
		)},
		[2]*ast.Term{keyStatement, a.object(
			[2]*ast.Term{keyKind, a.str(in.Statement.Kind)},
			[2]*ast.Term{keyAnalysis, a.str(in.Statement.Analysis)},
			[2]*ast.Term{keyFingerprint, a.str(in.Statement.Fingerprint)},
			[2]*ast.Term{keyOpaque, a.strings(in.Statement.Opaque)},
			[2]*ast.Term{keyWritesTo, writes},
		)},
		[2]*ast.Term{keyTables, a.array(tables)},
		[2]*ast.Term{keyRegions, a.object(regions...)},
	)
}

// The input's keys, built once.
var (
	keyVersion, keySubject, keyRequest, keyStatement = inputKey("version"), inputKey("subject"), inputKey("request"), inputKey("statement")
	keyTables, keyRegions, keyUser, keyGroups        = inputKey("tables"), inputKey("regions"), inputKey("user"), inputKey("groups")
	keyRegion, keyPurposes, keyAuthenticated         = inputKey("region"), inputKey("purposes"), inputKey("authenticated")
	keyPurpose, keySource, keyClientTags, keyQueryID = inputKey("purpose"), inputKey("source"), inputKey("client_tags"), inputKey("query_id")
	keyKind, keyAnalysis, keyFingerprint, keyOpaque  = inputKey("kind"), inputKey("analysis"), inputKey("fingerprint"), inputKey("opaque")
	keyWritesTo, keyTable, keyName, keyAccess        = inputKey("writes_to"), inputKey("table"), inputKey("name"), inputKey("access")
	keyClassification, keyColumnsRead                = inputKey("classification"), inputKey("columns_read")
	keyPIIColumnsRead, keyPIIInOutput                = inputKey("pii_columns_read"), inputKey("pii_in_output")
	keyPIIGroupedBy, keyOutputAggregated             = inputKey("pii_grouped_by"), inputKey("output_aggregated")
	keyRetentionDays, keyUnreadablePartitions        = inputKey("retention_days"), inputKey("unreadable_partitions")
	keyJurisdiction, keyHealthy                      = inputKey("jurisdiction"), inputKey("healthy")
)

func inputKey(s string) *ast.Term { return ast.StringTerm(s) }

// terms hands out the terms of one input from blocks, one allocation per
// block instead of one per term.
type terms struct {
	block []ast.Term
}

const termBlock = 64

func (a *terms) next(v ast.Value) *ast.Term {
	if len(a.block) == 0 {
		a.block = make([]ast.Term, termBlock)
	}
	t := &a.block[0]
	a.block = a.block[1:]
	t.Value = v
	return t
}

// str is s as a term: OPA's shared one for "" and the strings it interns.
func (a *terms) str(s string) *ast.Term {
	if ast.HasInternedValue(s) {
		return ast.InternedTerm(s)
	}
	return a.next(ast.String(s))
}

func (a *terms) slice(n int) []*ast.Term {
	if n == 0 {
		return nil
	}
	return make([]*ast.Term, n)
}

func (a *terms) array(ts []*ast.Term) *ast.Term {
	if len(ts) == 0 {
		return ast.InternedEmptyArray
	}
	return a.next(ast.NewArray(ts...))
}

func (a *terms) object(items ...[2]*ast.Term) *ast.Term {
	return a.next(ast.NewObject(items...))
}

// strings is ss as an array term; nil and empty are the shared empty array.
func (a *terms) strings(ss []string) *ast.Term {
	if len(ss) == 0 {
		return ast.InternedEmptyArray
	}
	ts := make([]*ast.Term, len(ss))
	for i, s := range ss {
		ts[i] = a.str(s)
	}
	return a.array(ts)
}
