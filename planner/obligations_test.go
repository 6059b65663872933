package planner

import (
	"strings"
	"testing"

	"github.com/meridian-lake/meridian/planner/sql"
	"github.com/meridian-lake/meridian/policy"
)

func TestMinGroupSize(t *testing.T) {
	ok := map[string]string{
		"SELECT count(*) FROM t":                                                              "SELECT count(*) FROM t HAVING count(*) >= 5",
		"SELECT count(*) FROM t;":                                                             "SELECT count(*) FROM t HAVING count(*) >= 5 ;",
		"SELECT c, count(*) FROM t GROUP BY c -- by country":                                  "SELECT c, count(*) FROM t GROUP BY c HAVING count(*) >= 5 -- by country",
		"SELECT c, count(*) FROM t GROUP BY c ORDER BY c LIMIT 3":                             "SELECT c, count(*) FROM t GROUP BY c HAVING count(*) >= 5 ORDER BY c LIMIT 3",
		"SELECT c, count(*) FROM t GROUP BY c HAVING sum(x) > 1 ORDER BY 2":                   "SELECT c, count(*) FROM t GROUP BY c HAVING (sum(x) > 1) AND count(*) >= 5 ORDER BY 2",
		"SELECT c, count(*) n FROM t GROUP BY c ORDER BY (n) DESC":                            "SELECT c, count(*) n FROM t GROUP BY c HAVING count(*) >= 5 ORDER BY (n) DESC",
		"SELECT c, count(*) FROM t GROUP BY c OFFSET 2 LIMIT 1":                               "SELECT c, count(*) FROM t GROUP BY c HAVING count(*) >= 5 OFFSET 2 LIMIT 1",
		"SELECT c, count(*) FROM t GROUP BY c FETCH FIRST 2 ROWS ONLY":                        "SELECT c, count(*) FROM t GROUP BY c HAVING count(*) >= 5 FETCH FIRST 2 ROWS ONLY",
		"WITH x AS (SELECT * FROM t ORDER BY 1 LIMIT 9) SELECT c, count(*) FROM x GROUP BY c": "WITH x AS (SELECT * FROM t ORDER BY 1 LIMIT 9) SELECT c, count(*) FROM x GROUP BY c HAVING count(*) >= 5",
	}
	for in, want := range ok {
		got, err := minGroupSize(in, 5, sql.Parser{})
		if err != nil || got != want {
			t.Errorf("%s:\n got %q, %v\nwant %q", in, got, err, want)
		}
	}
	for _, bad := range []string{
		"SELECT count(*) FROM t UNION ALL SELECT count(*) FROM u",
		"EXECUTE q USING 1",
		"EXECUTE IMMEDIATE 'SELECT count(*) FROM t'",
		"EXPLAIN SELECT count(*) FROM t",
		"VALUES 1",
		"SELECT count(*) FROM t LIMIT ALL",
	} {
		if out, err := minGroupSize(bad, 5, sql.Parser{}); err == nil || err.Code.Name != "PERMISSION_DENIED" {
			t.Errorf("%s: rewritten to %q, want a refusal", bad, out)
		}
	}
}

func TestEnforceObligations(t *testing.T) {
	d := policy.Decision{Allow: true, Obligations: map[string]any{"audit": "full", "min_group_size": 10.0}}
	out, err := enforce("SELECT count(*) FROM t", d, sql.Parser{})
	if err != nil || !strings.HasSuffix(out, "HAVING count(*) >= 10") {
		t.Fatalf("enforce = %q, %v", out, err)
	}
	for _, obl := range []map[string]any{{"min_group_size": 2.5}, {"min_group_size": "ten"}, {"min_group_size": 0.0}, {"watermark": true}} {
		if _, err := enforce("SELECT count(*) FROM t", policy.Decision{Allow: true, Obligations: obl}, sql.Parser{}); err == nil {
			t.Errorf("obligations %v enforced, want a refusal", obl)
		}
	}
}
