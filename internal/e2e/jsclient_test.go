package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// jsResult is what js/client.mjs reports for one query.
type jsResult struct {
	ID        string      `json:"id"`
	Columns   int         `json:"columns"`
	Rows      int64       `json:"rows"`
	Checksum  float64     `json:"checksum"`
	Error     *queryError `json:"error"`
	Cancelled bool        `json:"cancelled"`
}

type jsStep struct {
	Name    string            `json:"name"`
	User    string            `json:"user"`
	Schema  string            `json:"schema,omitempty"`
	Session map[string]string `json:"session,omitempty"`
	Queries []string          `json:"queries"`
	Headers map[string]string `json:"headers,omitempty"`
	Cancel  bool              `json:"cancel,omitempty"`
}

// runJS runs the steps through the npm trino-client (js/client.mjs).
func runJS(t *testing.T, server string, steps []jsStep) map[string][]jsResult {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the npm trino-client tests need Node.js (apt-get install nodejs npm)")
	}
	if _, err := os.Stat(filepath.Join("js", "node_modules", "trino-client")); err != nil {
		t.Fatal("the npm trino-client is not installed in internal/e2e/js: run make test (or: cd internal/e2e/js && npm ci)")
	}
	in, _ := json.Marshal(map[string]any{"server": server, "steps": steps})
	cmd := exec.Command(node, "client.mjs")
	cmd.Dir = "js"
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node client.mjs: %v\n%s", err, stderr.Bytes())
	}
	var res map[string][]jsResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node client.mjs printed %q: %v", out, err)
	}
	for _, st := range steps {
		if len(res[st.Name]) != len(st.Queries) {
			t.Fatalf("step %s: %d results for %d queries: %s", st.Name, len(res[st.Name]), len(st.Queries), out)
		}
	}
	return res
}

func TestJSClient(t *testing.T) {
	s := shared(t)
	analytics := map[string]string{"purpose": "analytics"}
	routed := map[string]string{}
	var steps []jsStep
	for _, region := range []string{"eu", "us", "apac"} {
		routed[region] = fmt.Sprintf("SELECT count(*) AS %s FROM iceberg.%s.bookings", nonce(), region)
		steps = append(steps, jsStep{Name: "routed-" + region, User: regionUsers[region], Session: analytics, Queries: []string{routed[region]}})
	}
	cancelled := "SELECT count(*) AS " + nonce() + " FROM iceberg.tpch.lineitem a CROSS JOIN iceberg.tpch.lineitem b " +
		"CROSS JOIN iceberg.tpch.nation n WHERE a.orderkey + b.orderkey + n.nationkey < 0"
	steps = append(steps,
		jsStep{Name: "denied", User: "sam", Session: analytics, Queries: []string{"SELECT * FROM iceberg.eu.guests"}},
		jsStep{Name: "prepared", User: "anna", Session: analytics, Queries: []string{
			"SELECT count(*) FROM iceberg.eu.guests WHERE country = 'FR'",
			"PREPARE q FROM SELECT count(*) FROM iceberg.eu.guests WHERE country = ?",
			"EXECUTE q USING 'FR'",
		}},
		// The second as a client that prepared p elsewhere sends it: the
		// statement only in X-Trino-Prepared-Statement.
		jsStep{Name: "prepared-denied", User: "sam", Session: analytics, Headers: map[string]string{
			"X-Trino-Prepared-Statement": "p=" + url.QueryEscape("SELECT email FROM iceberg.eu.guests WHERE country = ?"),
		}, Queries: []string{
			"PREPARE p FROM SELECT email FROM iceberg.eu.guests WHERE country = ?",
			"EXECUTE p USING 'FR'",
		}},
		jsStep{Name: "million", User: "kenji", Queries: []string{"SELECT a.suppkey, b.suppkey, c.suppkey FROM iceberg.tpch.supplier a " +
			"CROSS JOIN iceberg.tpch.supplier b CROSS JOIN iceberg.tpch.supplier c"}},
		jsStep{Name: "session", User: "sam", Queries: []string{
			"SET SESSION purpose = 'analytics'",
			"USE iceberg.us",
			"SELECT full_name FROM guests LIMIT 5",
			"RESET SESSION purpose",
			"SELECT length(full_name) FROM guests LIMIT 5",
		}},
		jsStep{Name: "cancel", User: "kenji", Cancel: true, Queries: []string{cancelled}},
	)
	t0 := time.Now()
	res := runJS(t, s.plain, steps)
	t.Logf("npm trino-client ran %d steps in %v", len(steps), time.Since(t0).Round(time.Millisecond))

	t.Run("RoutedToRegionEngine", func(t *testing.T) {
		for region, stmt := range routed {
			r := res["routed-"+region][0]
			if r.Error != nil || r.Rows != 1 || r.Checksum <= 0 {
				t.Errorf("%s: %+v, want one positive count", stmt, r)
				continue
			}
			l, ok := s.waitLog(t, region, 5*time.Second, byQueryID(r.ID))
			if !ok || l.Fingerprint != fingerprint(stmt) || l.State != "FINISHED" || l.User != regionUsers[region] {
				t.Errorf("engine %s log for query %s: %+v (found %v), want %s's FINISHED %s", region, r.ID, l, ok, regionUsers[region], stmt)
			}
			for _, other := range []string{"eu", "us", "apac"} {
				if other != region && len(s.findLog(t, other, byFingerprint(stmt))) > 0 {
					t.Errorf("engine %s also ran %s", other, stmt)
				}
			}
		}
	})
	t.Run("Denial", func(t *testing.T) {
		r := res["denied"][0]
		if r.Error == nil || r.Error.ErrorName != "PERMISSION_DENIED" || !strings.Contains(r.Error.Message, "gdpr.transfer") {
			t.Errorf("sam reading iceberg.eu.guests: %+v, want PERMISSION_DENIED naming gdpr.transfer", r)
		}
	})
	t.Run("Prepared", func(t *testing.T) {
		r := res["prepared"]
		if r[0].Error != nil || r[1].Error != nil || r[2].Error != nil {
			t.Fatalf("prepared statement: %+v", r)
		}
		if r[2].Rows != 1 || r[2].Checksum != r[0].Checksum || r[0].Checksum == 0 {
			t.Errorf("EXECUTE q USING 'FR' = %+v, the literal query gave %+v: want the same non-zero count", r[2], r[0])
		}
		d := res["prepared-denied"]
		for i, r := range d {
			if r.Error == nil || r.Error.ErrorName != "PERMISSION_DENIED" || !strings.Contains(r.Error.Message, "iceberg.eu.guests") {
				t.Errorf("sam: query %d: %+v (%+v), want PERMISSION_DENIED naming iceberg.eu.guests", i, r, r.Error)
			}
		}
	})
	t.Run("UseAndSetSession", func(t *testing.T) {
		r := res["session"]
		for i := range 2 {
			if r[i].Error != nil {
				t.Fatalf("query %d: %+v", i, r[i].Error)
			}
		}
		// The client's default schema is eu: only USE makes guests
		// iceberg.us.guests, and only the purpose lets full_name out.
		if r[2].Error != nil || r[2].Rows != 5 {
			t.Fatalf("after SET SESSION and USE: %+v (%+v), want 5 rows", r[2], r[2].Error)
		}
		if l, ok := s.waitLog(t, "us", 5*time.Second, byQueryID(r[2].ID)); !ok || l.User != "sam" || l.Rows != 5 {
			t.Errorf("us engine log for %s: %+v (found %v)", r[2].ID, l, ok)
		}
		if r[3].Error != nil {
			t.Fatalf("RESET SESSION purpose: %+v", r[3].Error)
		}
		if e := r[4].Error; e == nil || e.ErrorName != "PERMISSION_DENIED" || !strings.Contains(e.Message, "gdpr.purpose") {
			t.Errorf("after RESET SESSION purpose: %+v (%+v), want PERMISSION_DENIED naming gdpr.purpose", r[4], e)
		}
	})
	t.Run("MillionRows", func(t *testing.T) {
		r := res["million"][0]
		// Σ (a + 2b + 3c) over every triple of 1..100.
		if r.Error != nil || r.Rows != 1_000_000 || r.Checksum != 6*10_000*5050 {
			t.Errorf("1,000,000-row result: %+v, want 1000000 rows and checksum %d", r, 6*10_000*5050)
		}
	})
	t.Run("Cancel", func(t *testing.T) {
		r := res["cancel"][0]
		if r.Error != nil || !r.Cancelled || r.ID == "" {
			t.Fatalf("cancel: %+v", r)
		}
		l, ok := s.waitLog(t, "us", 20*time.Second, byQueryID(r.ID))
		if !ok {
			t.Fatalf("the us engine did not end query %s within 20 s of the cancel", r.ID)
		}
		if l.State == "FINISHED" {
			t.Errorf("the us engine logged the cancelled query as %+v", l)
		}
		deadline := time.Now().Add(20 * time.Second)
		for s.clusters(t)["us-1"].InFlight != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("Meridian's in-flight count for us-1 stayed %d after the cancel", s.clusters(t)["us-1"].InFlight)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
