package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sqlparse "github.com/meridian-lake/meridian/planner/sql"
	"github.com/meridian-lake/meridian/server"
)

// queryError is the part of a Trino error the tests look at.
type queryError struct {
	ErrorName string `json:"errorName"`
	Message   string `json:"message"`
}

// page is one QueryResults document, rows kept raw.
type page struct {
	ID      string            `json:"id"`
	NextURI string            `json:"nextUri"`
	Columns []json.RawMessage `json:"columns"`
	Data    []json.RawMessage `json:"data"`
	Error   *queryError       `json:"error"`
	Stats   struct {
		State string `json:"state"`
	} `json:"stats"`
	UpdateType string `json:"updateType"`
}

// result is a whole statement as a minimal client saw it.
type result struct {
	ID       string
	Cluster  string // X-Meridian-Cluster of the first reply
	Columns  int
	Rows     [][]json.RawMessage // only when the client keeps rows
	RowCount int
	Error    *queryError
	Headers  http.Header // the first reply's
	NextURIs []string    // every nextUri followed
	Pages    int
}

// rawClient speaks the protocol with nothing but net/http: POST, then GET
// every nextUri until there is none.
type rawClient struct {
	http     *http.Client
	keepRows bool
}

func newRawClient(maxConns int) *rawClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = maxConns, maxConns
	tr.DisableCompression = true
	return &rawClient{http: &http.Client{Transport: tr}}
}

// run sends sql to base with the headers h and follows it to the end.
func (c *rawClient) run(ctx context.Context, base, sql string, h http.Header) (*result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/statement", strings.NewReader(sql))
	if err != nil {
		return nil, err
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	res := &result{}
	for {
		p, hdr, err := c.page(req)
		if err != nil {
			return res, err
		}
		if res.Pages == 0 {
			res.Headers, res.Cluster, res.ID = hdr, hdr.Get(server.HeaderCluster), p.ID
		}
		res.Pages++
		if len(p.Columns) > 0 {
			res.Columns = len(p.Columns)
		}
		res.RowCount += len(p.Data)
		if c.keepRows {
			for _, row := range p.Data {
				var cells []json.RawMessage
				if err := json.Unmarshal(row, &cells); err != nil {
					return res, fmt.Errorf("row %s: %v", row, err)
				}
				res.Rows = append(res.Rows, cells)
			}
		}
		if p.Error != nil {
			res.Error = p.Error
		}
		if p.NextURI == "" {
			return res, nil
		}
		res.NextURIs = append(res.NextURIs, p.NextURI)
		if req, err = http.NewRequestWithContext(ctx, http.MethodGet, p.NextURI, nil); err != nil {
			return res, err
		}
	}
}

// page does one request and decodes the reply; a status other than 200 is
// an error carrying the body.
func (c *rawClient) page(req *http.Request) (*page, http.Header, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, resp.Header, &statusError{Code: resp.StatusCode, Body: string(b)}
	}
	var p page
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return nil, resp.Header, fmt.Errorf("%s %s: decode: %v", req.Method, req.URL, err)
	}
	return &p, resp.Header, nil
}

// statusError is an HTTP status other than 200.
type statusError struct {
	Code int
	Body string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Code, strings.TrimSpace(e.Body))
}

// userHeader is the development-mode identity.
func userHeader(user string, kv ...string) http.Header {
	h := http.Header{"X-Trino-User": {user}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// tlsClient trusts the demo's self-signed certificate.
func (s *system) tlsClient(t testing.TB) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(s.dir, "tls", server.SelfSignedCertFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("the demo certificate does not parse")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// clusterStatus is one entry of GET /v1/meridian/clusters.
type clusterStatus struct {
	Name     string `json:"name"`
	Region   string `json:"region"`
	State    string `json:"state"`
	InFlight int64  `json:"in_flight"`
	URL      string `json:"url"`
}

// clusters asks Meridian's admin API, as ops over TLS, for the clusters.
func (s *system) clusters(t testing.TB) map[string]clusterStatus {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.tls+"/v1/meridian/clusters", nil)
	req.SetBasicAuth("ops", "ops-demo")
	resp, err := s.tlsClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /v1/meridian/clusters as ops: HTTP %d %s", resp.StatusCode, b)
	}
	var doc struct {
		Clusters []clusterStatus `json:"clusters"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]clusterStatus{}
	for _, c := range doc.Clusters {
		out[c.Name] = c
	}
	return out
}

// logLine is one line of an engine's log.
type logLine struct {
	Msg         string `json:"msg"`
	QueryID     string `json:"query_id"`
	User        string `json:"user"`
	State       string `json:"state"`
	Rows        int64  `json:"rows"`
	Fingerprint string `json:"fingerprint"`
	Err         string `json:"err"`
}

// engineLog reads the query lines of a region's engine log.
func (s *system) engineLog(t testing.TB, region string) []logLine {
	t.Helper()
	f, err := os.Open(filepath.Join(s.dir, "logs", "engine-"+region+".log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []logLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "query" {
			out = append(out, l)
		}
	}
	return out
}

// findLog returns the lines of region's engine log that match.
func (s *system) findLog(t testing.TB, region string, match func(logLine) bool) []logLine {
	var out []logLine
	for _, l := range s.engineLog(t, region) {
		if match(l) {
			out = append(out, l)
		}
	}
	return out
}

// waitLog polls region's engine log until a line matches (engines log a
// query when it ends, just after its last page).
func (s *system) waitLog(t testing.TB, region string, within time.Duration, match func(logLine) bool) (logLine, bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if ls := s.findLog(t, region, match); len(ls) > 0 {
			return ls[0], true
		}
		if time.Now().After(deadline) {
			return logLine{}, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// byFingerprint matches the log lines of statements with sql's
// fingerprint (literals aside).
func byFingerprint(sql string) func(logLine) bool {
	fp := fingerprint(sql)
	return func(l logLine) bool { return l.Fingerprint == fp }
}

// fingerprint is the literal-free fingerprint engines log.
func fingerprint(sql string) string {
	_, fp := sqlparse.Normalize(sql)
	return fp
}

// byQueryID matches one query's line.
func byQueryID(id string) func(logLine) bool {
	return func(l logLine) bool { return l.QueryID == id }
}

// nonce is a short unique word for statements a test must find in logs.
func nonce() string {
	return fmt.Sprintf("e2e_%d", time.Now().UnixNano())
}
