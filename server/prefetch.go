package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/meridian-lake/meridian/cluster"
)

// Pipelining. When Meridian relays a page that has a nextUri, it asks the
// cluster for that next page at once, while the client is still reading
// the current one; the client's GET is then answered from memory. The
// cluster's work and the hop to it overlap the client's own round trip,
// which is what a proxy otherwise adds, and a streamed result keeps both
// sides busy.
//
// This stays within the protocol: the cluster sees the same GETs, in order,
// one at a time per query. A client that asks again for a page it was
// given (a retry) gets it again: the page served last is kept until the
// client asks for the next one, because the cluster answers only the
// newest token. A GET for the token on another replica is forwarded as
// usual and the cluster repeats its newest page. Memory is bounded: at
// most maxPrefetchPage bytes of a page are held (the rest streams when the
// client asks), maxPrefetchBytes in all, maxPrefetches entries; past that,
// pages are fetched when asked for, as without pipelining. Pages nobody
// claims are dropped after prefetchTTL.

const (
	maxPrefetchPage  = 1 << 20
	maxPrefetchBytes = 64 << 20
	maxPrefetches    = 8192
	prefetchTTL      = 2 * time.Minute
)

// prefetch is one page asked for ahead of the client.
type prefetch struct {
	key    string // cluster and upstream request URI
	prev   string // the key of the page served before it
	done   chan struct{}
	cancel context.CancelFunc
	born   time.Time

	// Set before done is closed.
	status int
	header http.Header
	body   []byte        // the page, or its first part when rest is set
	rest   io.ReadCloser // the unread remainder of a large page
	err    error

	// Under Proxy.pfMu.
	served  bool // handed to a client once
	readers int  // relays reading body now
	dropped bool // out of the map; body goes back to the pool after the last reader
	pooled  bool // body came from pageBodies
}

// pageBodies recycles the buffers of large pages, so a streamed result
// does not leave a megabyte of garbage per page.
var pageBodies = sync.Pool{New: func() any { b := make([]byte, maxPrefetchPage); return &b }}

// recycle returns e's body to the pool; call it once nobody reads it.
func (e *prefetch) recycle() {
	if e.pooled && cap(e.body) == maxPrefetchPage {
		b := e.body[:cap(e.body)]
		e.body, e.pooled = nil, false
		pageBodies.Put(&b)
	}
}

func prefetchKey(c *cluster.Cluster, upstream string) string {
	return c.Name + " " + upstream
}

// prefetchNext asks c for the page at next (an upstream nextUri) on behalf
// of user, unless pipelining is off or its budget is spent. prev is the
// key of the page being served, kept for a retry until next is claimed.
func (p *Proxy) prefetchNext(c *cluster.Cluster, next, user, prev string) {
	if p.NoPipelining {
		return
	}
	u, err := url.Parse(next)
	if err != nil {
		return
	}
	key := prefetchKey(c, u.RequestURI())
	ctx, cancel := context.WithCancel(context.Background())
	e := &prefetch{key: key, prev: prev, done: make(chan struct{}), cancel: cancel, born: time.Now()}
	p.pfMu.Lock()
	if p.pf == nil {
		p.pf = map[string]*prefetch{}
	}
	if _, ok := p.pf[key]; ok || len(p.pf) >= maxPrefetches || p.pfBytes >= maxPrefetchBytes {
		p.pfMu.Unlock()
		cancel()
		return
	}
	p.pf[key] = e
	p.pfMu.Unlock()
	go p.fetchAhead(ctx, e, c, u.RequestURI(), user)
}

func (p *Proxy) fetchAhead(ctx context.Context, e *prefetch, c *cluster.Cluster, path, user string) {
	defer close(e.done)
	req, err := p.upstreamRequest(ctx, http.MethodGet, c, path, nil, nil, user)
	if err != nil {
		e.err = err
		return
	}
	resp, err := p.Client.Do(req)
	if err != nil {
		e.err = err
		return
	}
	limit := int64(maxPrefetchPage)
	if resp.StatusCode != http.StatusOK {
		limit = 64 << 10
	}
	var body []byte
	var n int64
	if resp.ContentLength >= 0 && resp.ContentLength <= limit {
		// The usual case: exactly the page, in one buffer.
		if resp.ContentLength > 64<<10 {
			body = (*pageBodies.Get().(*[]byte))[:resp.ContentLength]
			e.pooled = true
		} else {
			body = make([]byte, resp.ContentLength)
		}
		_, err = io.ReadFull(resp.Body, body)
		n = int64(len(body))
	} else {
		var buf bytes.Buffer
		n, err = buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
		body = buf.Bytes()
	}
	if err != nil {
		resp.Body.Close()
		if e.pooled {
			e.body = body
			e.recycle()
		}
		e.err = err
		return
	}
	e.status, e.header, e.body = resp.StatusCode, resp.Header, body
	if n > limit && resp.StatusCode == http.StatusOK {
		e.rest = resp.Body
	} else {
		resp.Body.Close()
	}
	p.pfMu.Lock()
	p.pfBytes += int64(len(e.body))
	p.pfMu.Unlock()
}

// claim returns the page fetched ahead for upstream on c, if any, and
// drops the page before it (the client has moved on). A page whose
// remainder streams can be claimed once; a whole one stays for a retry.
func (p *Proxy) claim(c *cluster.Cluster, upstream string) *prefetch {
	key := prefetchKey(c, upstream)
	p.pfMu.Lock()
	defer p.pfMu.Unlock()
	e := p.pf[key]
	if e == nil {
		return nil
	}
	if e.served {
		select {
		case <-e.done:
			if e.rest != nil || e.err != nil {
				return nil // streamed once already; ask the cluster
			}
		default:
			return nil
		}
		e.readers++
		return e
	}
	e.served = true
	e.readers++
	if old := p.pf[e.prev]; old != nil && e.prev != "" {
		p.dropLocked(old)
	}
	return e
}

// release ends e's life in the map after it was served: a page with a
// successor stays until that is claimed, a last page goes now.
func (p *Proxy) release(e *prefetch, hasNext bool) {
	p.pfMu.Lock()
	defer p.pfMu.Unlock()
	e.readers--
	if e.dropped && e.readers == 0 {
		e.recycle()
	}
	if p.pf[e.key] != e {
		return
	}
	if !hasNext || e.rest != nil || e.err != nil {
		p.dropLocked(e)
	}
}

// dropLocked removes e, stopping its fetch and freeing what it holds.
func (p *Proxy) dropLocked(e *prefetch) {
	if p.pf[e.key] == e {
		delete(p.pf, e.key)
	}
	if !e.served || e.rest == nil {
		e.cancel() // a served remainder belongs to the relay streaming it
	}
	go func() {
		<-e.done
		p.pfMu.Lock()
		p.pfBytes -= int64(len(e.body))
		e.dropped = true
		if e.readers == 0 {
			e.recycle()
		}
		p.pfMu.Unlock()
		if e.rest != nil && !e.served {
			e.rest.Close()
		}
	}()
}

// dropQuery forgets the pages fetched ahead for an upstream query id (it
// was cancelled).
func (p *Proxy) dropQuery(c *cluster.Cluster, id string) {
	if id == "" {
		return
	}
	prefix := c.Name + " "
	p.pfMu.Lock()
	defer p.pfMu.Unlock()
	for k, e := range p.pf {
		if strings.HasPrefix(k, prefix) && strings.Contains(k, "/"+id+"/") {
			p.dropLocked(e)
		}
	}
}

// reapPrefetches drops pages nobody claimed within prefetchTTL.
func (p *Proxy) reapPrefetches(now time.Time) {
	p.pfMu.Lock()
	defer p.pfMu.Unlock()
	for _, e := range p.pf {
		if now.Sub(e.born) > prefetchTTL {
			p.dropLocked(e)
		}
	}
}

// response turns a fetched page into the cluster's response again.
func (e *prefetch) response() *http.Response {
	resp := &http.Response{StatusCode: e.status, Header: e.header, ContentLength: int64(len(e.body)),
		Body: memoryBody{bytes.NewReader(e.body), e.body}}
	if e.rest != nil {
		resp.ContentLength = -1
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(e.body), e.rest), e.rest}
	}
	return resp
}

// pfState is the pipelining state of a Proxy.
type pfState struct {
	pfMu    sync.Mutex
	pf      map[string]*prefetch
	pfBytes int64
}

// memoryBody is a page already in memory: relay rewrites it whole and sends
// it in one write, whatever its size.
type memoryBody struct {
	*bytes.Reader
	page []byte
}

func (memoryBody) Close() error { return nil }
