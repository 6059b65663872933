package sql_test

import (
	"strings"
	"testing"

	"github.com/meridian-lake/meridian/planner/sql"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT * FROM guests WHERE email = 'anna@example.org'", "SELECT * FROM GUESTS WHERE EMAIL = ?"},
		{"select count(*) from eu_users where country = 'France' -- who asks?", "SELECT COUNT(*) FROM EU_USERS WHERE COUNTRY = ?"},
		{"SELECT x FROM t WHERE id IN (1, 2, 3) AND d > DATE '2024-01-01'", "SELECT X FROM T WHERE ID IN (?) AND D > DATE ?"},
		{"SELECT \"Full Name\" FROM t /* secret: 4111 1111 */ WHERE n = -42.5e3", "SELECT \"Full Name\" FROM T WHERE N = - ?"},
		{"EXECUTE IMMEDIATE 'SELECT * FROM t WHERE ssn = ''123-45-6789''' USING 7", "EXECUTE IMMEDIATE ? USING ?"},
		{"SELECT a, b FROM t WHERE c = ?", "SELECT A, B FROM T WHERE C = ?"},
		{"INSERT INTO t VALUES (1, 'x'), (2, 'y')", "INSERT INTO T VALUES (?), (?)"},
	} {
		got, _ := sql.Normalize(tc.in)
		if got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	_, f1 := sql.Normalize("SELECT * FROM t WHERE id IN (1,2,3)")
	_, f2 := sql.Normalize("select *\nfrom T where ID in (42) -- x")
	_, f3 := sql.Normalize("SELECT * FROM t WHERE id NOT IN (1)")
	if f1 != f2 || f1 == f3 || !strings.HasPrefix(f1, "sha256:") {
		t.Errorf("fingerprints %s %s %s: want the first two equal and the third different", f1, f2, f3)
	}
}

// TestNormalizeKeepsNoLiteral: no literal value of any corpus-like statement
// survives normalisation.
func TestNormalizeKeepsNoLiteral(t *testing.T) {
	secrets := []string{"anna@example.org", "4111", "123-45-6789", "Geheim", "0xCAFE", "$$body$$"}
	src := "SELECT 'anna@example.org', 4111, U&'Geheim', X'CAFE', $$body$$, 0xCAFE FROM t WHERE s = '123-45-6789'"
	got, _ := sql.Normalize(src)
	for _, s := range secrets {
		if strings.Contains(got, s) || strings.Contains(got, strings.Trim(s, "$")) && s == "$$body$$" {
			t.Errorf("Normalize kept %q: %q", s, got)
		}
	}
	// Unlexable text keeps nothing after the error.
	got, _ = sql.Normalize("SELECT * FROM t WHERE s = 'unterminated anna@example.org")
	if strings.Contains(got, "anna") {
		t.Errorf("Normalize of unlexable text kept a literal: %q", got)
	}
}
