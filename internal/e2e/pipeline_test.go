package e2e

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/internal/store"
)

// TestPipelinedRetry: Meridian fetches each next page ahead of the client
// (pipelining), yet a client that asks for a page again (a retry after a
// network error) gets the same page, and the result arrives complete and
// in order. The cluster itself repeats only its newest page, so without
// Meridian keeping the page served last, the retry would fail once the
// next page had been fetched ahead.
func TestPipelinedRetry(t *testing.T) {
	s := shared(t)
	ctx := context.Background()
	c := newRawClient(4)
	const sql = "SELECT a.suppkey, b.suppkey, c.suppkey FROM iceberg.tpch.supplier a " +
		"CROSS JOIN iceberg.tpch.supplier b CROSS JOIN iceberg.tpch.supplier c WHERE c.suppkey <= 3"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.plain+"/v1/statement", strings.NewReader(sql))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = userHeader(benchUser)
	p, _, err := c.page(req)
	if err != nil {
		t.Fatal(err)
	}
	rows, pages, retried := 0, 0, 0
	for p.NextURI != "" {
		get := func() *page {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.NextURI, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = userHeader(benchUser)
			q, _, err := c.page(req)
			if err != nil {
				t.Fatalf("page %d: %v", pages, err)
			}
			if q.Error != nil {
				t.Fatalf("page %d: %s: %s", pages, q.Error.ErrorName, q.Error.Message)
			}
			return q
		}
		first := get()
		again := get() // the retry
		if len(first.Data) != len(again.Data) || (first.NextURI == "") != (again.NextURI == "") ||
			(len(first.Data) > 0 && !bytes.Equal(first.Data[0], again.Data[0])) {
			t.Fatalf("page %d asked twice: %d rows then %d rows (next %q, then %q)", pages, len(first.Data), len(again.Data), first.NextURI, again.NextURI)
		}
		if len(first.Data) > 0 {
			retried++
		}
		rows += len(first.Data)
		pages++
		p = first
	}
	if rows != 100*100*3 {
		t.Fatalf("%d rows in %d pages, want %d", rows, pages, 100*100*3)
	}
	if retried < 2 {
		t.Fatalf("only %d pages with rows: the test needs several to prove anything", retried)
	}
	if p.Stats.State != "FINISHED" {
		t.Fatalf("last page state %q", p.Stats.State)
	}
}

// TestAccessHistoryRecorded: a statement Meridian allows leaves what it
// read in the access history lifecycle plans from (written in the
// background, in batches).
func TestAccessHistoryRecorded(t *testing.T) {
	s := shared(t)
	ctx := context.Background()
	start := time.Now()
	res, err := newRawClient(2).run(ctx, s.plain, benchTPCH, userHeader(benchUser))
	if err != nil || res.Error != nil || res.RowCount != 1 {
		t.Fatalf("%v %+v", err, res.Error)
	}
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(s.dir, "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for {
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM lifecycle_access WHERE tbl = 'iceberg.tpch.lineitem' AND user = ? AND at >= ?`,
			benchUser, start.UnixNano()).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("the statement's read of iceberg.tpch.lineitem is not in the access history after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
