package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/internal/trino"
	"github.com/meridian-lake/meridian/server"
)

// TestBaseline is the original design's scenario (GOVERNANCE.md) end to
// end, and `meridian demo check` against the running system.
func TestBaseline(t *testing.T) {
	s := shared(t)
	ctx := context.Background()
	c := newRawClient(4)
	c.keepRows = true

	t.Run("EUUserCountsEUGuestsInEU", func(t *testing.T) {
		// An aggregate by an EU user over EU data: local, no export. The
		// user declares a purpose, which personal data always needs.
		stmt := "SELECT COUNT(*) FROM iceberg.eu.guests WHERE country = 'France'"
		res, err := c.run(ctx, s.plain, stmt, userHeader("anna", "X-Trino-Session", "purpose=analytics"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Error != nil || res.Cluster != "eu-1" || len(res.Rows) != 1 {
			t.Fatalf("%s as anna: cluster %q, error %+v, rows %v; want one row from eu-1", stmt, res.Cluster, res.Error, res.Rows)
		}
		l, ok := s.waitLog(t, "eu", 5*time.Second, byQueryID(res.ID))
		if !ok || l.User != "anna" || l.State != "FINISHED" || l.Fingerprint != fingerprint(stmt) {
			t.Errorf("eu engine log for %s: %+v (found %v)", res.ID, l, ok)
		}
	})
	t.Run("USUserDeniedEUGuests", func(t *testing.T) {
		stmt := "SELECT * FROM iceberg.eu.guests"
		res, err := c.run(ctx, s.plain, stmt, userHeader("sam", "X-Trino-Session", "purpose=analytics"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Error == nil || res.Error.ErrorName != "PERMISSION_DENIED" {
			t.Fatalf("%s as sam: %+v on %q, want PERMISSION_DENIED", stmt, res.Error, res.Cluster)
		}
		for _, want := range []string{"gdpr.transfer", "iceberg.eu.guests", "eu", "us"} {
			if !strings.Contains(res.Error.Message, want) {
				t.Errorf("denial %q does not name %q", res.Error.Message, want)
			}
		}
		if res.Cluster != "" || res.Pages != 1 {
			t.Errorf("the denial came from cluster %q after %d pages; want Meridian's own single reply", res.Cluster, res.Pages)
		}
	})
	t.Run("DemoCheck", func(t *testing.T) {
		out, err := exec.Command(filepath.Join(s.bin, "meridian"), "demo", "check", "--server", s.plain).CombinedOutput()
		if err != nil {
			t.Fatalf("meridian demo check: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "all 5 examples did what they should") {
			t.Errorf("meridian demo check printed:\n%s", out)
		}
	})
	t.Run("Metrics", func(t *testing.T) {
		// The statements above are counted, by outcome and region; no SQL
		// or literal reaches the metrics.
		resp, err := http.Get(s.plain + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		text := string(body)
		for _, want := range []string{`meridian_statements_total{outcome="allowed",region="eu"}`, `meridian_statements_total{outcome="denied",region=""}`,
			`meridian_cluster_state{cluster="eu-1",region="eu",state="healthy"} 1`, "meridian_planning_seconds_bucket"} {
			if !strings.Contains(text, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(text, "France") || strings.Contains(text, "guests") {
			t.Error("/metrics holds statement text")
		}
	})
}

// TestBypass tries to reach EU personal data as a US user in every way the
// issue lists; each must be refused before any engine sees it. Where it
// helps, the same request by the EU user is the control that shows the
// request itself works.
func TestBypass(t *testing.T) {
	s := shared(t)
	ctx := context.Background()
	c := newRawClient(4)
	purpose := []string{"X-Trino-Session", "purpose=analytics"}

	type attempt struct {
		name    string
		sql     string
		headers []string // extra header name, value pairs
		control bool     // anna must be able to run the same request on eu-1
	}
	zstd := trino.EncodePrepared("q", "SELECT * FROM iceberg.eu.guests", 1)
	if !strings.HasPrefix(zstd, "q=%24zstd%3A") {
		t.Fatalf("EncodePrepared did not compress: %s", zstd)
	}
	attempts := []attempt{
		{name: "ExecuteImmediate", sql: "EXECUTE IMMEDIATE 'SELECT * FROM iceberg.eu.guests'", control: true},
		{name: "ExecuteImmediateNested", sql: "EXECUTE IMMEDIATE 'SELECT * FROM (SELECT * FROM iceberg.eu.guests) g'"},
		{name: "ZstdPreparedHeader", sql: "EXECUTE q", headers: []string{"X-Trino-Prepared-Statement", zstd}, control: true},
		{name: "PlainPreparedHeader", sql: "EXECUTE q",
			headers: []string{"X-Trino-Prepared-Statement", trino.EncodePrepared("q", "SELECT email FROM iceberg.eu.guests", 0)}},
		{name: "PrepareFrom", sql: "PREPARE x FROM SELECT * FROM iceberg.eu.guests"},
		{name: "BlockComment", sql: "SELECT * FROM /* iceberg.us.guests */ iceberg.eu.guests", control: true},
		{name: "LineComment", sql: "SELECT * FROM -- iceberg.us.guests\n iceberg.eu.guests", control: true},
		{name: "QuotedIdentifiers", sql: `SELECT * FROM "iceberg"."eu"."guests"`, control: true},
		{name: "UpperCase", sql: "SELECT * FROM ICEBERG.EU.GUESTS", control: true},
		{name: "MixedQuotes", sql: `SELECT "email" FROM iceberg."eu".GUESTS`, control: true},
		{name: "TableNameInString", sql: "SELECT 'iceberg.us.guests' AS t, email FROM iceberg.eu.guests"},
		{name: "UnionWithAllowed", sql: "SELECT email FROM iceberg.us.guests UNION ALL SELECT email FROM iceberg.eu.guests"},
		{name: "ScalarSubquery", sql: "SELECT (SELECT max(email) FROM iceberg.eu.guests) AS e"},
		{name: "CTENamedLikeTable", sql: "WITH guests AS (SELECT * FROM iceberg.eu.guests) SELECT * FROM guests",
			headers: []string{"X-Trino-Catalog", "iceberg", "X-Trino-Schema", "us"}, control: true},
		{name: "CTEShadowingQualifiedName", sql: "WITH eu AS (SELECT 1 AS x) SELECT email FROM iceberg.eu.guests, eu"},
		{name: "UseThenUnqualified", sql: "SELECT * FROM guests",
			headers: []string{"X-Trino-Catalog", "iceberg", "X-Trino-Schema", "eu"}, control: true},
		{name: "ViewOverProtectedTable", sql: "SELECT * FROM " + viewName},
		{name: "UnqualifiedView", sql: "SELECT email FROM guest_emails",
			headers: []string{"X-Trino-Catalog", "iceberg", "X-Trino-Schema", "us"}},
		// Claiming to run as the EU user changes nothing: Meridian decides
		// (and tells the cluster) who runs the statement.
		{name: "AuthorizationUserHeader", sql: "SELECT * FROM iceberg.eu.guests",
			headers: []string{"X-Trino-Authorization-User", "anna", "X-Trino-Original-User", "anna"}},
	}
	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			h := userHeader("sam", append(purpose, a.headers...)...)
			res, err := c.run(ctx, s.plain, a.sql, h)
			if err != nil {
				t.Fatal(err)
			}
			if res.Error == nil || res.Error.ErrorName != "PERMISSION_DENIED" || !strings.Contains(res.Error.Message, "iceberg.eu.guests") {
				t.Fatalf("sam: %q ran on %q or failed otherwise: %+v; want PERMISSION_DENIED naming iceberg.eu.guests", a.sql, res.Cluster, res.Error)
			}
			if res.Cluster != "" {
				t.Errorf("the refusal carries X-Meridian-Cluster %q: it reached a cluster", res.Cluster)
			}
			for _, r := range []string{"eu", "us", "apac"} {
				if ls := s.findLog(t, r, byQueryID(res.ID)); len(ls) > 0 {
					t.Errorf("engine %s saw the refused query: %+v", r, ls)
				}
			}
			if !a.control {
				return
			}
			res, err = c.run(ctx, s.plain, a.sql, userHeader("anna", append(purpose, a.headers...)...))
			if err != nil {
				t.Fatal(err)
			}
			if res.Error != nil || res.Cluster != "eu-1" || res.RowCount == 0 {
				t.Errorf("control: anna: %q: cluster %q, %d rows, error %+v; want rows from eu-1", a.sql, res.Cluster, res.RowCount, res.Error)
			}
		})
	}
	t.Run("SetSessionAuthorization", func(t *testing.T) {
		res, err := c.run(ctx, s.plain, "SET SESSION AUTHORIZATION 'anna'", userHeader("sam"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Error == nil || res.Error.ErrorName != "PERMISSION_DENIED" || !strings.Contains(res.Error.Message, "SET SESSION AUTHORIZATION") {
			t.Fatalf("SET SESSION AUTHORIZATION: %+v on %q; want PERMISSION_DENIED", res.Error, res.Cluster)
		}
	})
	t.Run("UseThenUnqualifiedWithGoClient", func(t *testing.T) {
		db, _ := s.goDB(t, "sam", map[string]string{"purpose": "analytics"})
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "USE iceberg.eu"); err != nil {
			t.Fatal(err)
		}
		_, err = queryInts(ctx, conn, "SELECT length(email) FROM guests")
		wantDenied(t, err, "PERMISSION_DENIED", "iceberg.eu.guests")
	})
	t.Run("Tokens", func(t *testing.T) { testTokens(t, s) })
}

// testTokens: follow-up URIs are signed routing tokens; a tampered, forged
// or re-pointed one never reaches a cluster, and a replayed one goes only
// to the cluster it was minted for.
func testTokens(t *testing.T, s *system) {
	ctx := context.Background()
	c := newRawClient(4)
	first := func(user, sql string) (*page, http.Header) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.plain+"/v1/statement", strings.NewReader(sql))
		req.Header = userHeader(user, "X-Trino-Session", "purpose=analytics")
		p, h, err := c.page(req)
		if err != nil || p.NextURI == "" {
			t.Fatalf("%s: %v, page %+v", sql, err, p)
		}
		return p, h
	}
	get := func(uri string, h http.Header) (*page, http.Header, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
		for k, v := range h {
			req.Header[k] = v
		}
		return c.page(req)
	}
	wantRefused := func(what, uri string) {
		t.Helper()
		_, _, err := get(uri, nil)
		var se *statusError
		if !errors.As(err, &se) || se.Code != http.StatusNotFound || !strings.Contains(se.Body, "routing token") {
			t.Errorf("%s: %v, want HTTP 404 naming the routing token", what, err)
		}
	}
	// A query on eu-1 as anna; its first nextUri carries a token.
	p, hdr := first("anna", "SELECT count(*) AS "+nonce()+" FROM iceberg.eu.bookings")
	if hdr.Get(server.HeaderCluster) != "eu-1" {
		t.Fatalf("the query runs on %q, want eu-1", hdr.Get(server.HeaderCluster))
	}
	prefix, token, ok := strings.Cut(p.NextURI, server.RoutePrefix)
	if !ok || prefix != s.plain {
		t.Fatalf("nextUri %s is not a Meridian routing token", p.NextURI)
	}
	payloadB64, mac, ok := strings.Cut(token, ".")
	if !ok {
		t.Fatalf("token %s has no MAC", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(payloadB64)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("TamperedByte", func(t *testing.T) {
		for _, i := range []int{0, len(payloadB64) / 2, len(payloadB64) - 1, len(token) - 1} {
			b := []byte(token)
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			wantRefused(fmt.Sprintf("token with byte %d changed", i), prefix+server.RoutePrefix+string(b))
		}
	})
	t.Run("RepointedCluster", func(t *testing.T) {
		// The same token, its cluster field eu-1 changed to us-1 (same
		// length, so the rest parses) and the old MAC kept.
		i := strings.Index(string(payload), "eu-1")
		if i < 0 {
			t.Fatalf("the token payload does not name eu-1: %q", payload)
		}
		forged := []byte(string(payload))
		copy(forged[i:], "us-1")
		wantRefused("token re-pointed at us-1", prefix+server.RoutePrefix+base64.RawURLEncoding.EncodeToString(forged)+"."+mac)
		wantRefused("token without MAC", prefix+server.RoutePrefix+payloadB64)
		wantRefused("token with a made-up MAC", prefix+server.RoutePrefix+payloadB64+"."+base64.RawURLEncoding.EncodeToString(make([]byte, 32)))
	})
	t.Run("ReplayedGoesOnlyToItsCluster", func(t *testing.T) {
		// Follow the real query to its end, then replay its first token:
		// whatever the answer, it comes from eu-1.
		p2, h2, err := get(p.NextURI, nil)
		if err != nil {
			t.Fatal(err)
		}
		if h2.Get(server.HeaderCluster) != "eu-1" {
			t.Fatalf("follow-up served by %q, want eu-1", h2.Get(server.HeaderCluster))
		}
		for p2.NextURI != "" {
			if p2, _, err = get(p2.NextURI, nil); err != nil {
				t.Fatal(err)
			}
		}
		_, h3, err := get(p.NextURI, nil)
		var se *statusError
		if err != nil && !errors.As(err, &se) {
			t.Fatal(err)
		}
		if got := h3.Get(server.HeaderCluster); err == nil && got != "eu-1" {
			t.Errorf("replayed token served by %q, want eu-1", got)
		}
		if l, ok := s.waitLog(t, "eu", 5*time.Second, byQueryID(p.ID)); !ok || l.State != "FINISHED" {
			t.Errorf("eu engine log for %s: %+v (found %v)", p.ID, l, ok)
		}
		for _, r := range []string{"us", "apac"} {
			if ls := s.findLog(t, r, byQueryID(p.ID)); len(ls) > 0 {
				t.Errorf("engine %s saw eu-1's query: %+v", r, ls)
			}
		}
	})
	t.Run("OtherUserOverTLS", func(t *testing.T) {
		// With passwords, a token is no use to anyone but its user.
		tc := &rawClient{http: s.tlsClient(t)}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.tls+"/v1/statement",
			strings.NewReader("SELECT a.suppkey FROM iceberg.tpch.supplier a CROSS JOIN iceberg.tpch.supplier b"))
		req.SetBasicAuth("kenji", "kenji-demo")
		p, _, err := tc.page(req)
		if err != nil || p.NextURI == "" {
			t.Fatalf("kenji over TLS: %v %+v", err, p)
		}
		steal, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.NextURI, nil)
		steal.SetBasicAuth("sam", "sam-demo")
		_, _, err = tc.page(steal)
		var se *statusError
		if !errors.As(err, &se) || se.Code != http.StatusForbidden {
			t.Errorf("sam following kenji's nextUri: %v, want HTTP 403", err)
		}
		// kenji finishes it.
		for p.NextURI != "" {
			own, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.NextURI, nil)
			own.SetBasicAuth("kenji", "kenji-demo")
			if p, _, err = tc.page(own); err != nil {
				t.Fatal(err)
			}
		}
	})
}
