package policy

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestResult is one test_* rule of a pack.
type TestResult struct {
	Name    string        `json:"name"` // package.test_name
	File    string        `json:"file"`
	Line    int           `json:"line"`
	Pass    bool          `json:"pass"`
	Error   string        `json:"error,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// TestReport is a pack's test run.
type TestReport struct {
	Results []TestResult `json:"results"`
	Passed  int          `json:"passed"`
	Failed  int          `json:"failed"`
	// Coverage is the share of the pack's rule lines (tests excluded) the
	// tests evaluated, in percent.
	Coverage float64 `json:"coverage"`
}

// OK reports whether every test passed and there was at least one.
func (r TestReport) OK() bool { return r.Failed == 0 && r.Passed > 0 }

// Test runs the pack's *_test.rego tests against its rules and data, as
// `opa test` would, and measures coverage of the rules.
func (p *Pack) Test(ctx context.Context) (TestReport, error) {
	var rep TestReport
	if len(p.tests) == 0 {
		return rep, &PackError{Message: "the pack has no tests (*_test.rego)"}
	}
	all := maps.Clone(p.modules)
	maps.Copy(all, p.tests)
	cov := cover.New()
	store := inmem.NewFromObject(copyData(p.data))
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return rep, err
	}
	defer store.Abort(ctx, txn)
	ch, err := tester.NewRunner().
		SetDefaultRegoVersion(ast.RegoV1).
		SetStore(store).
		SetModules(all).
		SetCoverageQueryTracer(cov).
		SetTimeout(30*time.Second).
		RunTests(ctx, txn)
	if err != nil {
		return rep, regoError("", err)
	}
	for r := range ch {
		tr := TestResult{Name: r.Package + "." + r.Name, Pass: !r.Fail && r.Error == nil, Elapsed: r.Duration}
		if r.Location != nil {
			tr.File, tr.Line = r.Location.File, r.Location.Row
		}
		if r.Error != nil {
			tr.Error = r.Error.Error()
		} else if r.Fail {
			tr.Error = "failed"
			if r.FailedAt != nil {
				tr.Error = fmt.Sprintf("failed at %s", r.FailedAt.Location)
			}
		}
		if tr.Pass {
			rep.Passed++
		} else {
			rep.Failed++
		}
		rep.Results = append(rep.Results, tr)
	}
	sort.Slice(rep.Results, func(i, j int) bool { return rep.Results[i].Name < rep.Results[j].Name })
	rep.Coverage = cov.Report(p.modules).Coverage
	return rep, nil
}
