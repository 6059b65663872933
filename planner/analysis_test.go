package planner_test

import (
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/meridian-lake/meridian/planner"
	"github.com/meridian-lake/meridian/planner/sql"
)

var update = flag.Bool("update", false, "rewrite testdata/analysis/*.json from the current analysis")

// goldenCase is one analysis test: a statement, its session, and the
// analysis expected of it. The files are data: regenerate them with -update,
// then read the diff before committing it.
type goldenCase struct {
	Comment string            `json:"comment"`
	Catalog string            `json:"catalog,omitempty"`
	Schema  string            `json:"schema,omitempty"`
	Query   string            `json:"query"`
	Want    *planner.Analysis `json:"want"`
}

func TestAnalysisGolden(t *testing.T) {
	files := []string{
		"testdata/analysis/tables.json",
		"testdata/analysis/output.json",
		"testdata/analysis/statements.json",
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var cases []goldenCase
		if err := json.Unmarshal(data, &cases); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for i := range cases {
			c := &cases[i]
			got := planner.Analyze(c.Query, planner.Session{Catalog: c.Catalog, Schema: c.Schema}, planner.Options{})
			if *update {
				c.Want = got
				continue
			}
			t.Run(c.Comment, func(t *testing.T) {
				if diff := cmp.Diff(c.Want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(sql.Pos{}, "Offset"), cmpopts.IgnoreFields(planner.Analysis{}, "References")); diff != "" {
					t.Errorf("Analyze(%q) mismatch (-want +got):\n%s", c.Query, diff)
				}
			})
		}
		if *update {
			out, err := json.MarshalIndent(cases, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, append(out, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
