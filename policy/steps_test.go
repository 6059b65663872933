package policy

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"

	policies "github.com/meridian-lake/meridian/rego"
)

// stepCounter counts what OPA does for one evaluation: expressions
// evaluated and rule bodies, comprehensions and negations entered.
type stepCounter struct{ exprs, enters int }

func (s *stepCounter) Enabled() bool { return true }

func (s *stepCounter) Config() topdown.TraceConfig { return topdown.TraceConfig{} }

func (s *stepCounter) TraceEvent(ev topdown.Event) {
	switch ev.Op {
	case topdown.EvalOp:
		s.exprs++
	case topdown.EnterOp:
		s.enters++
	}
}

// BenchmarkDecideSteps reports the work of one cold decision for the
// five-table statement of BenchmarkDecide with the default pack, in OPA's
// units: a pack change that makes decisions slower shows here first, without
// the noise of timing.
func BenchmarkDecideSteps(b *testing.B) {
	raw, err := os.ReadFile("testdata/scenarios.json")
	if err != nil {
		b.Fatal(err)
	}
	var scs []struct {
		Name  string `json:"name"`
		Input Input  `json:"input"`
	}
	if err := json.Unmarshal(raw, &scs); err != nil {
		b.Fatal(err)
	}
	var in *Input
	for i := range scs {
		if strings.HasPrefix(scs[i].Name, "aggregate export: five tables across three regions") {
			in = &scs[i].Input
		}
	}
	if in == nil {
		b.Fatal("no five-table scenario")
	}
	p, err := LoadFS(policies.FS)
	if err != nil {
		b.Fatal(err)
	}
	c, err := Compile(context.Background(), p)
	if err != nil {
		b.Fatal(err)
	}
	var s stepCounter
	n := 0
	for b.Loop() {
		x := *in
		x.Subject.User = "user" + strconv.Itoa(n)
		n++
		if _, err := c.query.Eval(context.Background(), rego.EvalParsedInput(x.value()), rego.EvalQueryTracer(&s)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.exprs)/float64(n), "exprs/op")
	b.ReportMetric(float64(s.enters)/float64(n), "enters/op")
}
