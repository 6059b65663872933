package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/cluster"
)

// pagedCluster answers GET /v1/statement/executing/q/s/{n} with a page
// whose nextUri is n+1, up to last, counting the GETs.
func pagedCluster(t *testing.T, last int, gets *atomic.Int64) *cluster.Cluster {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		var n int
		fmt.Sscanf(r.URL.Path, "/v1/statement/executing/q/s/%d", &n)
		next := ""
		if n < last {
			next = fmt.Sprintf(`,"nextUri":"%s/v1/statement/executing/q/s/%d"`, srv.URL, n+1)
		}
		body := fmt.Sprintf(`{"id":"q","data":[[%d]]%s}`, n, next)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	reg, err := cluster.New(cluster.Config{Regions: []cluster.Region{{Name: "eu", Jurisdiction: "EEA"}},
		Clusters: []cluster.ClusterConfig{{Name: "eu-1", Region: "eu", URL: srv.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := reg.Cluster("eu-1")
	return c
}

// TestPrefetchBookkeeping: a page fetched ahead is served once claimed,
// again for a retry, dropped when the next page is claimed, and the bytes
// held return to zero; unclaimed pages are reaped; cancelling a query drops
// its pages; the budget stops fetching ahead.
func TestPrefetchBookkeeping(t *testing.T) {
	var gets atomic.Int64
	c := pagedCluster(t, 3, &gets)
	p := &Proxy{}
	p.init()
	path := func(n int) string { return fmt.Sprintf("/v1/statement/executing/q/s/%d", n) }
	wait := func(e *prefetch) *prefetch {
		t.Helper()
		if e == nil {
			t.Fatal("no page fetched ahead")
		}
		<-e.done
		if e.err != nil {
			t.Fatal(e.err)
		}
		return e
	}
	body := func(e *prefetch) string {
		b, _ := io.ReadAll(e.response().Body)
		return string(b)
	}

	p.prefetchNext(c, c.BaseURL().String()+path(1), "anna", "")
	one := wait(p.claim(c, path(1)))
	if !strings.Contains(body(one), "[[1]]") {
		t.Fatalf("page 1: %s", body(one))
	}
	p.release(one, true)
	// A retry of page 1 is served from memory, not from the cluster.
	before := gets.Load()
	again := wait(p.claim(c, path(1)))
	if !strings.Contains(body(again), "[[1]]") || gets.Load() != before {
		t.Fatalf("retry: %s, %d GETs more", body(again), gets.Load()-before)
	}
	p.release(again, true)
	p.prefetchNext(c, c.BaseURL().String()+path(2), "anna", one.key)
	two := wait(p.claim(c, path(2)))
	if p.claim(c, path(1)) != nil {
		t.Fatal("page 1 still held after page 2 was claimed")
	}
	p.release(two, false) // the last page the client needs: dropped at once
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.pfMu.Lock()
		n, held := len(p.pf), p.pfBytes
		p.pfMu.Unlock()
		if n == 0 && held == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pages, %d bytes still held", n, held)
		}
		time.Sleep(time.Millisecond)
	}

	// Unclaimed pages are reaped after prefetchTTL; a cancelled query's now.
	p.prefetchNext(c, c.BaseURL().String()+path(3), "anna", "")
	p.reapPrefetches(time.Now())
	if p.claim(c, path(3)) == nil {
		t.Fatal("a fresh page was reaped")
	}
	p.prefetchNext(c, c.BaseURL().String()+path(2), "anna", "")
	p.reapPrefetches(time.Now().Add(prefetchTTL + time.Second))
	if p.claim(c, path(2)) != nil {
		t.Fatal("an old page survived the reaper")
	}
	p.prefetchNext(c, c.BaseURL().String()+path(1), "anna", "")
	p.dropQuery(c, "q")
	if p.claim(c, path(1)) != nil {
		t.Fatal("a cancelled query's page is still held")
	}

	// Over budget: nothing more is fetched ahead.
	p.pfMu.Lock()
	p.pfBytes = maxPrefetchBytes
	p.pfMu.Unlock()
	p.prefetchNext(c, c.BaseURL().String()+path(1), "anna", "")
	if p.claim(c, path(1)) != nil {
		t.Fatal("fetched ahead over the byte budget")
	}
	p.NoPipelining = true
	p.pfMu.Lock()
	p.pfBytes = 0
	p.pfMu.Unlock()
	p.prefetchNext(c, c.BaseURL().String()+path(1), "anna", "")
	if p.claim(c, path(1)) != nil {
		t.Fatal("fetched ahead with pipelining off")
	}
}
