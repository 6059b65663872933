package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/engine"
	"github.com/meridian-lake/meridian/internal/trino"
)

// rawResult is a QueryResults with its data kept as rows of raw values.
type rawResult struct {
	trino.QueryResults
	Rows    [][]json.RawMessage
	Body    []byte
	Headers http.Header
}

func do(t testing.TB, method, url string, body string, h map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func decode(t testing.TB, resp *http.Response, b []byte) *rawResult {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	r := &rawResult{Body: b, Headers: resp.Header}
	if err := json.Unmarshal(b, &r.QueryResults); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	if len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, &r.Rows); err != nil {
			t.Fatalf("data %s: %v", r.Data, err)
		}
	}
	return r
}

func post(t testing.TB, te *testEngine, sql string, h map[string]string) *rawResult {
	t.Helper()
	hh := map[string]string{"X-Trino-User": "tester"}
	for k, v := range h {
		hh[k] = v
	}
	resp, b := do(t, "POST", te.url+"/v1/statement", sql, hh)
	return decode(t, resp, b)
}

func get(t testing.TB, url string) *rawResult {
	t.Helper()
	resp, b := do(t, "GET", url, "", nil)
	return decode(t, resp, b)
}

var queryIDRE = regexp.MustCompile(`^\d{8}_\d{6}_\d{5}_[a-z0-9]{5}$`)

// The protocol's states and URIs, request by request.
func TestProtocolStates(t *testing.T) {
	t.Parallel()
	te := startEngine(t, newProtoLake(t), func(c *engine.Config) { c.PageRows = 10 })

	r := post(t, te, "SELECT x FROM UNNEST(range(25)) AS t(x)", nil)
	if r.Stats.State != trino.StateQueued || !strings.Contains(r.NextURI, "/v1/statement/queued/"+r.ID+"/") {
		t.Fatalf("first reply: state %s nextUri %s", r.Stats.State, r.NextURI)
	}
	if !queryIDRE.MatchString(r.ID) {
		t.Errorf("query id %q is not in Trino's form", r.ID)
	}
	id := r.ID
	var got []string
	states := map[string]bool{}
	var usedURIs []string
	var last *rawResult
	for r.NextURI != "" {
		uri := r.NextURI
		usedURIs = append(usedURIs, uri)
		r = get(t, uri)
		if len(r.Rows) > 10 {
			t.Errorf("page of %d rows, over PageRows 10", len(r.Rows))
		}
		states[r.Stats.State] = true
		for _, row := range r.Rows {
			got = append(got, string(row[0]))
		}
		last = r
		if r.NextURI != "" && !strings.Contains(r.NextURI, "/v1/statement/executing/"+id+"/") {
			t.Errorf("nextUri %s is not an executing URI", r.NextURI)
		}
	}
	if len(got) != 25 || got[0] != "0" || got[24] != "24" {
		t.Errorf("rows %v", got)
	}
	if last.Stats.State != trino.StateFinished || !states[trino.StateRunning] {
		t.Errorf("states seen %v, last %s", states, last.Stats.State)
	}
	if len(last.Columns) != 1 || last.Columns[0].Type != "bigint" || last.Stats.ProcessedRows != 25 {
		t.Errorf("columns %+v, processedRows %d", last.Columns, last.Stats.ProcessedRows)
	}
	// The same token again gets the same reply; an older one is gone.
	lastURI := usedURIs[len(usedURIs)-1]
	if again := get(t, lastURI); !bytes.Equal(again.Body, last.Body) {
		t.Errorf("repeated request got a different reply")
	}
	if resp, _ := do(t, "GET", usedURIs[0], "", nil); resp.StatusCode != http.StatusGone {
		t.Errorf("old token: HTTP %d, want 410", resp.StatusCode)
	}
	badSlug := regexp.MustCompile(`/y[0-9a-f]+/`).ReplaceAllString(lastURI, "/yffff/")
	if resp, _ := do(t, "GET", badSlug, "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("wrong slug: HTTP %d, want 404", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", strings.Replace(lastURI, id, "20240101_000000_00000_zzzzz", 1), "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown query: HTTP %d, want 404", resp.StatusCode)
	}
	if resp, _ := do(t, "HEAD", lastURI, "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD: HTTP %d", resp.StatusCode)
	}
	resp, b := do(t, "GET", te.url+"/v1/query/"+id, "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"state":"FINISHED"`) || strings.Contains(string(b), "UNNEST") {
		t.Errorf("/v1/query: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, "GET", te.url+"/v1/info", "", nil)
	var info trino.Info
	if err := json.Unmarshal(b, &info); err != nil || resp.StatusCode != 200 || info.Environment != "eu" || !info.Coordinator {
		t.Errorf("/v1/info: %d %s", resp.StatusCode, b)
	}

	// A failure is HTTP 200 with the error, FAILED and no nextUri.
	r = post(t, te, "SELECT 1 +", nil)
	if r.Error == nil || r.Error.ErrorName != "SYNTAX_ERROR" || r.Error.ErrorLocation == nil || r.NextURI != "" || r.Stats.State != trino.StateFailed {
		t.Errorf("syntax error reply: %s", r.Body)
	}
	resp, b = do(t, "POST", te.url+"/v1/statement", "SELECT 1", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "User must be set") {
		t.Errorf("no user: %d %s", resp.StatusCode, b)
	}
}

// DELETE on the nextUri cancels: the next reply is FAILED, and DuckDB stops.
func TestProtocolDelete(t *testing.T) {
	t.Parallel()
	te := startEngine(t, newProtoLake(t), func(c *engine.Config) { c.MaxWait = 20 * time.Millisecond })
	r := post(t, te, "SELECT count(*) FROM UNNEST(range(1000000)) AS a(x) CROSS JOIN UNNEST(range(1000000)) AS b(y)", nil)
	for r.Stats.State != trino.StateRunning || te.Executing() == 0 {
		if r.NextURI == "" {
			t.Fatalf("ended early: %s", r.Body)
		}
		r = get(t, r.NextURI)
	}
	resp, _ := do(t, "DELETE", r.NextURI, "", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: HTTP %d", resp.StatusCode)
	}
	r = get(t, r.NextURI)
	if r.Error == nil || r.Error.ErrorName != "USER_CANCELED" || r.NextURI != "" || r.Stats.State != trino.StateFailed {
		t.Errorf("after DELETE: %s", r.Body)
	}
	waitFor(t, 20*time.Second, "DuckDB to stop", func() bool { return te.Executing() == 0 })

	// DELETE /v1/query/{id}, which trino-go-client sends on cancel, does the same.
	r = post(t, te, "SELECT count(*) FROM UNNEST(range(1000000)) AS a(x) CROSS JOIN UNNEST(range(1000000)) AS b(y)", nil)
	waitFor(t, 20*time.Second, "DuckDB to run the statement", func() bool { return te.Executing() == 1 })
	if resp, _ := do(t, "DELETE", te.url+"/v1/query/"+r.ID, "", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /v1/query: HTTP %d", resp.StatusCode)
	}
	waitFor(t, 20*time.Second, "DuckDB to stop", func() bool { return te.Executing() == 0 })
	for r.NextURI != "" {
		r = get(t, r.NextURI)
	}
	if r.Error == nil || r.Error.ErrorName != "USER_CANCELED" {
		t.Errorf("after DELETE /v1/query: %s", r.Body)
	}
}

// A query whose client stops asking is cancelled after ClientTimeout.
func TestAbandonedQueryIsReaped(t *testing.T) {
	t.Parallel()
	te := startEngine(t, newProtoLake(t), func(c *engine.Config) { c.ClientTimeout = 300 * time.Millisecond })
	r := post(t, te, "SELECT count(*) FROM UNNEST(range(1000000)) AS a(x) CROSS JOIN UNNEST(range(1000000)) AS b(y)", nil)
	waitFor(t, 10*time.Second, "DuckDB to run the statement", func() bool { return te.Executing() == 1 })
	waitFor(t, 20*time.Second, "the reaper to stop DuckDB", func() bool { return te.Executing() == 0 })
	resp, b := do(t, "GET", te.url+"/v1/query/"+r.ID, "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "ABANDONED_QUERY") {
		t.Errorf("/v1/query after abandonment: %d %s", resp.StatusCode, b)
	}
}

// Session statements answer with the headers clients fold into later
// requests.
func TestSessionHeaders(t *testing.T) {
	t.Parallel()
	te := startEngine(t, newProtoLake(t), nil)
	finish := func(r *rawResult) *rawResult {
		for r.NextURI != "" {
			r = get(t, r.NextURI)
		}
		if r.Error != nil {
			t.Fatalf("%s", r.Body)
		}
		return r
	}
	cases := []struct {
		sql     string
		h       map[string]string
		header  string
		want    string
		updType string
	}{
		{"USE iceberg.eu", nil, "X-Trino-Set-Schema", "eu", "USE"},
		{"USE eu", map[string]string{"X-Trino-Catalog": "iceberg"}, "X-Trino-Set-Catalog", "iceberg", "USE"},
		{"SET SESSION query_max_run_time = '10m'", nil, "X-Trino-Set-Session", "query_max_run_time=10m", "SET SESSION"},
		{"RESET SESSION query_max_run_time", nil, "X-Trino-Clear-Session", "query_max_run_time", "RESET SESSION"},
		{"COMMIT", nil, "X-Trino-Clear-Transaction-Id", "true", "COMMIT"},
		{"PREPARE q1 FROM SELECT ? + 1", nil, "X-Trino-Added-Prepare", "q1=SELECT+%3F+%2B+1", "PREPARE"},
		{"DEALLOCATE PREPARE q1", map[string]string{"X-Trino-Prepared-Statement": "q1=SELECT+1"}, "X-Trino-Deallocated-Prepare", "q1", "DEALLOCATE"},
	}
	for _, c := range cases {
		r := post(t, te, c.sql, c.h)
		if got := r.Headers.Get(c.header); got != c.want {
			t.Errorf("%s: %s = %q, want %q", c.sql, c.header, got, c.want)
		}
		if r = finish(r); r.UpdateType != c.updType {
			t.Errorf("%s: updateType %q, want %q", c.sql, r.UpdateType, c.updType)
		}
	}
	r := post(t, te, "START TRANSACTION", map[string]string{"X-Trino-Transaction-Id": "NONE"})
	if id := r.Headers.Get("X-Trino-Started-Transaction-Id"); len(id) != 36 {
		t.Errorf("START TRANSACTION id %q", id)
	}
	// A long prepared statement travels compressed ($zstd:) and still runs.
	long := "SELECT ? + 0, '" + strings.Repeat("padding ", 2000) + "'"
	r = finish(post(t, te, "EXECUTE big USING 5", map[string]string{"X-Trino-Prepared-Statement": trino.EncodePrepared("big", long, 1024)}))
	if len(r.Rows) != 1 || string(r.Rows[0][0]) != "5" {
		t.Errorf("EXECUTE of a $zstd: statement: %s", r.Body)
	}
	// Mixing X-Trino- and X-Presto- headers is refused.
	r = post(t, te, "SELECT 1", map[string]string{"X-Presto-Schema": "eu", "X-Trino-Catalog": "iceberg"})
	if r.Error == nil || r.Error.ErrorName != "GENERIC_USER_ERROR" {
		t.Errorf("mixed headers: %s", r.Body)
	}
}

// A million rows page completely, every page within the row and byte
// bounds, through both raw HTTP and the real client.
func TestMillionRowsPaging(t *testing.T) {
	t.Parallel()
	const pageRows, pageBytes = 50_000, 256 << 10
	te := startEngine(t, newProtoLake(t), func(c *engine.Config) {
		c.PageRows, c.PageBytes = pageRows, pageBytes
	})
	const q = "SELECT x, x * 2 AS y FROM UNNEST(range(1000000)) AS t(x)"
	r := post(t, te, q, nil)
	var rows, sum, pages int64
	for r.NextURI != "" {
		r = get(t, r.NextURI)
		if len(r.Rows) == 0 {
			continue
		}
		pages++
		if len(r.Rows) > pageRows || len(r.Data) > pageBytes {
			t.Fatalf("page of %d rows and %d bytes, over %d/%d", len(r.Rows), len(r.Data), pageRows, pageBytes)
		}
		for _, row := range r.Rows {
			var x, y int64
			if err := json.Unmarshal(row[0], &x); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(row[1], &y); err != nil || y != 2*x {
				t.Fatalf("row %s %s", row[0], row[1])
			}
			rows++
			sum += x
		}
	}
	const wantSum = 999_999 * 1_000_000 / 2
	if r.Stats.State != trino.StateFinished || rows != 1_000_000 || sum != wantSum || r.Stats.ProcessedRows != 1_000_000 {
		t.Fatalf("raw: state %s, %d rows, sum %d (want %d), processedRows %d", r.Stats.State, rows, sum, wantSum, r.Stats.ProcessedRows)
	}
	if pages < 1_000_000*14/pageBytes {
		t.Errorf("%d pages: the byte bound did not cut pages", pages)
	}
	t.Logf("raw HTTP: %d pages", pages)

	db := te.client(t, "")
	res, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	rows, sum = 0, 0
	for res.Next() {
		var x, y int64
		if err := res.Scan(&x, &y); err != nil {
			t.Fatal(err)
		}
		rows++
		sum += x + y
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if rows != 1_000_000 || sum != 3*wantSum {
		t.Errorf("client: %d rows, checksum %d, want %d", rows, sum, 3*wantSum)
	}
}
