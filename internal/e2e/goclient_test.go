package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trinodb/trino-go-client/trino"

	"github.com/meridian-lake/meridian/server"
)

// clusterSeen remembers which clusters Meridian said served the requests.
type clusterSeen struct {
	mu       sync.Mutex
	clusters []string
}

func (c *clusterSeen) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost {
		c.mu.Lock()
		c.clusters = append(c.clusters, resp.Header.Get(server.HeaderCluster))
		c.mu.Unlock()
	}
	return resp, err
}

// last is the cluster of the last statement ("" when Meridian ran or
// refused it itself).
func (c *clusterSeen) last() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.clusters) == 0 {
		return ""
	}
	return c.clusters[len(c.clusters)-1]
}

// goDB is trino-go-client on Meridian's development-mode listener as user,
// with the session properties given.
func (s *system) goDB(t testing.TB, user string, props map[string]string) (*sql.DB, *clusterSeen) {
	t.Helper()
	seen := &clusterSeen{}
	cfg := &trino.Config{ServerURI: strings.Replace(s.plain, "://", "://"+user+"@", 1), Catalog: "iceberg", Schema: "eu",
		Source: "meridian-e2e", SessionProperties: props, HTTPClient: &http.Client{Transport: seen}}
	conn, err := trino.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	return db, seen
}

// trinoError is the Trino error name and message inside err.
func trinoError(err error) (name, msg string) {
	var te trino.ErrTrino
	var tp *trino.ErrTrino
	switch {
	case errors.As(err, &tp):
		return tp.ErrorName, tp.Message
	case errors.As(err, &te):
		return te.ErrorName, te.Message
	}
	return "", ""
}

// queryInts runs a statement returning one bigint column and returns it.
func queryInts(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, stmt string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func wantDenied(t *testing.T, err error, name string, has ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the statement ran; want %s", name)
	}
	got, msg := trinoError(err)
	if got != name {
		t.Fatalf("error = %v (name %q), want %s", err, got, name)
	}
	for _, h := range has {
		if !strings.Contains(msg, h) {
			t.Errorf("%s message %q does not name %q", name, msg, h)
		}
	}
}

// regionUsers are users whose home region holds each region's data and who
// may read it for analytics.
var regionUsers = map[string]string{"eu": "anna", "us": "sam", "apac": "kenji"}

func TestGoClient(t *testing.T) {
	s := shared(t)
	ctx := context.Background()
	analytics := map[string]string{"purpose": "analytics"}

	t.Run("RoutedToRegionEngine", func(t *testing.T) {
		for _, region := range []string{"eu", "us", "apac"} {
			user := regionUsers[region]
			db, seen := s.goDB(t, user, analytics)
			stmt := fmt.Sprintf("SELECT count(*) AS %s FROM iceberg.%s.bookings", nonce(), region)
			got, err := queryInts(ctx, db, stmt)
			if err != nil {
				t.Fatalf("%s: %s: %v", user, stmt, err)
			}
			if len(got) != 1 || got[0] <= 0 {
				t.Errorf("%s: %s = %v, want one positive count", user, stmt, got)
			}
			if c := seen.last(); c != region+"-1" {
				t.Errorf("%s: X-Meridian-Cluster = %q, want %s-1", stmt, c, region)
			}
			l, ok := s.waitLog(t, region, 5*time.Second, byFingerprint(stmt))
			if !ok {
				t.Fatalf("engine %s never logged %s", region, stmt)
			}
			if l.User != user || l.State != "FINISHED" || l.Rows != 1 {
				t.Errorf("engine %s logged %+v, want user %s, FINISHED, 1 row", region, l, user)
			}
			for _, other := range []string{"eu", "us", "apac"} {
				if other != region && len(s.findLog(t, other, byFingerprint(stmt))) > 0 {
					t.Errorf("engine %s also ran %s", other, stmt)
				}
			}
		}
	})

	t.Run("DenialIsPermissionDenied", func(t *testing.T) {
		db, _ := s.goDB(t, "sam", analytics)
		stmt := "SELECT *, '" + nonce() + "' FROM iceberg.eu.guests"
		_, err := queryInts(ctx, db, stmt)
		wantDenied(t, err, "PERMISSION_DENIED", "gdpr.transfer", "iceberg.eu.guests")
		for _, r := range []string{"eu", "us", "apac"} {
			if ls := s.findLog(t, r, byFingerprint(stmt)); len(ls) > 0 {
				t.Errorf("engine %s saw the denied statement: %+v", r, ls)
			}
		}
	})

	t.Run("PreparedWithParameters", func(t *testing.T) {
		db, seen := s.goDB(t, "anna", analytics)
		want, err := queryInts(ctx, db, "SELECT count(*) FROM iceberg.eu.guests WHERE country = 'FR'")
		if err != nil {
			t.Fatal(err)
		}
		// With arguments trino-go-client sends EXECUTE _trino_go USING …
		// and the statement in X-Trino-Prepared-Statement.
		got, err := queryInts(ctx, db, "SELECT count(*) FROM iceberg.eu.guests WHERE country = ?", "FR")
		if err != nil {
			t.Fatalf("prepared: %v", err)
		}
		all, err := queryInts(ctx, db, "SELECT count(*) FROM iceberg.eu.guests")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || len(want) != 1 || len(all) != 1 || got[0] != want[0] || got[0] == 0 || got[0] == all[0] {
			t.Errorf("prepared count = %v, literal count = %v, all = %v; want the first two equal, non-zero, below all", got, want, all)
		}
		if c := seen.last(); c != "eu-1" {
			t.Errorf("prepared statement ran on %q, want eu-1", c)
		}
		sam, _ := s.goDB(t, "sam", analytics)
		_, err = queryInts(ctx, sam, "SELECT length(email) FROM iceberg.eu.guests WHERE country = ?", "FR")
		wantDenied(t, err, "PERMISSION_DENIED", "gdpr.transfer", "iceberg.eu.guests")
	})

	t.Run("UseAndSetSession", func(t *testing.T) {
		db, seen := s.goDB(t, "sam", nil)
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SET SESSION purpose = 'analytics'"); err != nil {
			t.Fatalf("SET SESSION purpose: %v", err)
		}
		if _, err := conn.ExecContext(ctx, "USE iceberg.us"); err != nil {
			t.Fatalf("USE iceberg.us: %v", err)
		}
		// Unqualified, after USE: iceberg.us.guests, personal data that
		// needs the purpose set above.
		got, err := queryInts(ctx, conn, "SELECT count(*) FROM guests")
		if err != nil {
			t.Fatalf("after USE and SET SESSION: %v", err)
		}
		// The connector's default schema is eu: only USE makes this us.
		if len(got) != 1 || got[0] == 0 || seen.last() != "us-1" {
			t.Errorf("SELECT count(*) FROM guests = %v on %q, want iceberg.us.guests' count on us-1", got, seen.last())
		}
		rows, err := conn.QueryContext(ctx, "SELECT full_name FROM guests LIMIT 5")
		if err != nil {
			t.Fatalf("with purpose analytics: %v", err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if n != 5 || seen.last() != "us-1" {
			t.Errorf("SELECT full_name … LIMIT 5 gave %d rows on %q, want 5 on us-1", n, seen.last())
		}
		if _, err := conn.ExecContext(ctx, "RESET SESSION purpose"); err != nil {
			t.Fatalf("RESET SESSION purpose: %v", err)
		}
		_, err = queryInts(ctx, conn, "SELECT length(full_name) FROM guests LIMIT 5")
		wantDenied(t, err, "PERMISSION_DENIED", "gdpr.purpose")
	})

	t.Run("MillionRows", func(t *testing.T) {
		db, seen := s.goDB(t, "kenji", nil)
		// 100 suppliers cubed: every (a, b, c) exactly once.
		rows, err := db.QueryContext(ctx, "SELECT a.suppkey, b.suppkey, c.suppkey FROM iceberg.tpch.supplier a "+
			"CROSS JOIN iceberg.tpch.supplier b CROSS JOIN iceberg.tpch.supplier c")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		seenTriple := make([]bool, 101*101*101)
		var n, sum int64
		for rows.Next() {
			var a, b, c int64
			if err := rows.Scan(&a, &b, &c); err != nil {
				t.Fatal(err)
			}
			if a < 1 || a > 100 || b < 1 || b > 100 || c < 1 || c > 100 {
				t.Fatalf("row %d = (%d, %d, %d), keys are 1..100", n, a, b, c)
			}
			k := (a*101+b)*101 + c
			if seenTriple[k] {
				t.Fatalf("row (%d, %d, %d) arrived twice", a, b, c)
			}
			seenTriple[k] = true
			n++
			sum += a + 2*b + 3*c
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("after %d rows: %v", n, err)
		}
		// Each key appears 10,000 times in each column: sum = 6 · 10⁴ · 5050.
		if n != 1_000_000 || sum != 6*10_000*5050 {
			t.Errorf("got %d rows, checksum %d; want 1000000 rows, checksum %d", n, sum, 6*10_000*5050)
		}
		if seen.last() != "us-1" {
			t.Errorf("ran on %q, want us-1 (where tpch lives)", seen.last())
		}
	})

	// Last: it leaves a query cancelled on us-1.
	t.Run("Cancel", func(t *testing.T) { testGoCancel(t, s) })
}

func testGoCancel(t *testing.T, s *system) {
	db, _ := s.goDB(t, "kenji", nil)
	// Minutes of work on the us engine (60,175² × 25 row combinations).
	stmt := "SELECT count(*) AS " + nonce() + " FROM iceberg.tpch.lineitem a CROSS JOIN iceberg.tpch.lineitem b " +
		"CROSS JOIN iceberg.tpch.nation n WHERE a.orderkey + b.orderkey + n.nationkey < 0"
	before := s.clusters(t)["us-1"].InFlight
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := queryInts(ctx, db, stmt)
		done <- err
	}()
	// Wait until Meridian relays it (in flight on us-1), then cancel.
	deadline := time.Now().Add(20 * time.Second)
	for s.clusters(t)["us-1"].InFlight <= before {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the query never showed as in flight on us-1 (still %d)", before)
		}
		select {
		case err := <-done:
			t.Fatalf("the query ended before it was cancelled: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t0 := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled query returned %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the client did not return within 30 s of the cancel")
	}
	// The engine ends the query (it would run for minutes) and logs it as
	// not finished.
	l, ok := s.waitLog(t, "us", 20*time.Second, byFingerprint(stmt))
	if !ok {
		t.Fatalf("the us engine did not end the query within 20 s of the cancel")
	}
	if l.State == "FINISHED" {
		t.Errorf("the us engine logged the cancelled query as %+v", l)
	}
	t.Logf("engine ended the query %v after the cancel: %s %s", time.Since(t0).Round(time.Millisecond), l.State, l.Err)
	for {
		n := s.clusters(t)["us-1"].InFlight
		if n == before {
			break
		}
		if time.Since(t0) > 20*time.Second {
			t.Fatalf("Meridian's in-flight count for us-1 stayed %d after the cancel, want %d", n, before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
