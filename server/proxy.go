package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meridian-lake/meridian/cluster"
	"github.com/meridian-lake/meridian/internal/trino"
	"github.com/meridian-lake/meridian/planner"
	"github.com/meridian-lake/meridian/planner/sql"
	"github.com/meridian-lake/meridian/policy"
)

// HeaderCluster names, on every reply Meridian relays, the cluster that
// serves the query.
const HeaderCluster = "X-Meridian-Cluster"

// RecordWriter stores decision records durably: *policy.Registry.
type RecordWriter interface {
	Write(ctx context.Context, rec *policy.Record) error
}

// Proxy is Meridian's Trino front door: every statement is planned,
// decided, recorded and forwarded to a compliant cluster, or refused with a
// Trino error; follow-up URIs are routing tokens any replica can verify.
type Proxy struct {
	Planner  *planner.Planner
	Records  RecordWriter
	Clusters *cluster.Registry
	Signer   *Signer
	Auth     Authenticator
	// TrustTokens lets follow-ups without credentials through on the
	// strength of their routing token (development mode, where clients send
	// no credentials; trino-go-client even sends an empty X-Trino-User).
	// Otherwise a follow-up is authenticated and must come from the user
	// who started the query.
	TrustTokens bool
	// AllowSpooling relays X-Trino-Query-Data-Encoding to clusters. Off by
	// default: spooled segments are fetched from the region's object store
	// directly, past Meridian, so results stay inline.
	AllowSpooling bool
	// TokenTTL is how long a follow-up URI stays valid (default 1 h); each
	// page gets a fresh one.
	TokenTTL time.Duration
	// MaxStatementBytes bounds a statement body (default 1 MiB).
	MaxStatementBytes int64
	// Client calls the clusters (default: a client with no overall
	// timeout, so long polls are not cut).
	Client *http.Client
	Logger *slog.Logger
	// Metrics, when set, counts statements and times planning, decisions
	// and clusters.
	Metrics *Metrics
	// Access, when set, records what an allowed statement reads (tables and
	// partitions, for lifecycle). It runs after the statement is forwarded
	// and must not block for long.
	Access func(ctx context.Context, user string, plan *planner.Plan)

	// NoPipelining turns off fetching the next page ahead of the client
	// (see prefetch.go).
	NoPipelining bool

	seq      atomic.Uint64
	inflight sync.Map // upstream query id → *tracked
	once     sync.Once
	pfState
}

type tracked struct {
	release func()
	seen    atomic.Int64 // unix seconds of the last page
	// cluster and user route DELETE /v1/query/{id}, which carries no
	// routing token (trino-go-client cancels that way).
	cluster *cluster.Cluster
	user    string
}

func (p *Proxy) init() {
	p.once.Do(func() {
		if p.TokenTTL <= 0 {
			p.TokenTTL = time.Hour
		}
		if p.MaxStatementBytes <= 0 {
			p.MaxStatementBytes = 1 << 20
		}
		if p.Client == nil {
			p.Client = &http.Client{Transport: &http.Transport{
				MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second,
				ResponseHeaderTimeout: 0, DisableCompression: true,
			}}
		}
		if p.Logger == nil {
			p.Logger = slog.New(slog.DiscardHandler)
		}
	})
}

// Handler serves the Trino protocol: POST /v1/statement, follow-ups under
// RoutePrefix, GET /v1/info, and POST /v1/meridian/plan.
func (p *Proxy) Handler() http.Handler {
	p.init()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/statement", p.statement)
	mux.HandleFunc(RoutePrefix+"{token}", p.followUp)
	mux.HandleFunc("DELETE /v1/query/{queryId}", p.cancelQuery)
	mux.HandleFunc("GET /v1/info", p.info)
	mux.HandleFunc("POST /v1/meridian/plan", p.plan)
	return mux
}

var started = time.Now()

func (p *Proxy) info(w http.ResponseWriter, _ *http.Request) {
	var info trino.Info
	info.NodeVersion.Version = "meridian"
	info.Environment = "meridian"
	info.Coordinator = true
	info.Uptime = time.Since(started).Round(time.Second).String()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(info)
}

// queryID returns a new id in Trino's form (20241030_150409_00000_zhg55).
func (p *Proxy) queryID() string {
	var b [5]byte
	rand.Read(b[:])
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return fmt.Sprintf("%s_%05d_%s", time.Now().UTC().Format("20060102_150405"), p.seq.Add(1)%100000, b[:])
}

// request reads a statement request: the identity, the body and the
// session headers.
type request struct {
	id       Identity
	sql      string
	session  planner.Session
	props    map[string]string
	prepared map[string]string
	tags     []string
	source   string
	txn      string // X-Trino-Transaction-Id as sent
}

// readRequest authenticates r and reads its statement; a failure is
// answered (401 for credentials, a FAILED QueryResults otherwise).
func (p *Proxy) readRequest(w http.ResponseWriter, r *http.Request, qid string) (*request, bool) {
	if err := normalizeHeaders(r.Header); err != nil {
		p.fail(w, qid, trino.Errorf(trino.GenericUserError, "%v", err))
		return nil, false
	}
	id, err := p.Auth.Authenticate(r)
	if err == nil && id.User == "" {
		err = &AuthError{Msg: "authentication produced no user name", Err: ErrBadCredentials}
	}
	if err != nil {
		writeAuthError(w, r, err)
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, p.MaxStatementBytes+1))
	if err != nil {
		p.fail(w, qid, trino.Errorf(trino.GenericUserError, "reading the statement: %v", err))
		return nil, false
	}
	if int64(len(body)) > p.MaxStatementBytes {
		p.fail(w, qid, trino.Errorf(trino.QueryRejected, "the statement is over %d bytes", p.MaxStatementBytes))
		return nil, false
	}
	req := &request{id: id, sql: string(body), props: map[string]string{},
		session: planner.Session{Catalog: r.Header.Get(trino.HeaderCatalog), Schema: r.Header.Get(trino.HeaderSchema)},
		source:  r.Header.Get(trino.HeaderSource), txn: r.Header.Get(trino.HeaderTransactionID)}
	for _, v := range r.Header.Values(trino.HeaderSession) {
		for _, kv := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok || k == "" {
				continue
			}
			if dec, err := url.QueryUnescape(val); err == nil {
				val = dec
			}
			req.props[strings.TrimSpace(k)] = val
		}
	}
	for _, v := range r.Header.Values(trino.HeaderClientTags) {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				req.tags = append(req.tags, t)
			}
		}
	}
	if req.prepared, err = trino.ParsePrepared(r.Header.Values(trino.HeaderPreparedStatement)); err != nil {
		p.fail(w, qid, trino.Errorf(trino.GenericUserError, "X-Trino-Prepared-Statement: %v", err))
		return nil, false
	}
	return req, true
}

// normalizeHeaders maps legacy X-Presto- headers to X-Trino-; mixing the
// two is an error, as in Trino.
func normalizeHeaders(h http.Header) error {
	var presto, trinoSeen bool
	for k := range h {
		switch {
		case strings.HasPrefix(k, "X-Presto-"):
			presto = true
		case strings.HasPrefix(k, "X-Trino-"):
			trinoSeen = true
		}
	}
	if !presto {
		return nil
	}
	if trinoSeen {
		return errors.New("the request mixes X-Presto- and X-Trino- headers: send one kind")
	}
	for k, v := range h {
		if strings.HasPrefix(k, "X-Presto-") {
			h["X-Trino-"+strings.TrimPrefix(k, "X-Presto-")] = v
			delete(h, k)
		}
	}
	return nil
}

// purposeProperty is Meridian's own session property: the declared
// purpose. Clusters never see it.
const purposeProperty = "purpose"

func (req *request) planRequest(qid string) planner.Request {
	subject := policy.Subject{User: req.id.User, Groups: req.id.Groups, Region: req.id.Region,
		Purposes: req.id.Purposes, Authenticated: req.id.Authenticated}
	return planner.Request{SQL: req.sql, Session: req.session, Prepared: req.prepared, Subject: subject,
		Purpose: strings.ToLower(strings.TrimSpace(req.props[purposeProperty])), Source: req.source,
		ClientTags: req.tags, QueryID: qid}
}

// statement handles POST /v1/statement.
func (p *Proxy) statement(w http.ResponseWriter, r *http.Request) {
	qid := p.queryID()
	req, ok := p.readRequest(w, r, qid)
	if !ok {
		return
	}
	pin, err := p.pinnedTransaction(req.txn)
	if err != nil {
		p.fail(w, qid, err)
		return
	}
	plan := p.Planner.Plan(r.Context(), req.planRequest(qid))
	if k := plan.Analysis.Kind; k == "set_session_authorization" || k == "reset_session_authorization" {
		// Statements run as the user Meridian authenticated; switching
		// users inside a session would run them as someone else.
		plan.Error = trino.Errorf(trino.PermissionDenied,
			"Access Denied: SET SESSION AUTHORIZATION is not available through Meridian, which runs every statement as the user it authenticated: connect as the other user instead")
	}
	target := plan.Chosen()
	if plan.Error == nil && pin != nil {
		target, plan.Error = p.pinnedCluster(plan, pin)
	}
	rec := plan.Record(qid)
	if err := p.Records.Write(r.Context(), rec); err != nil {
		// Nothing runs without its record.
		p.Logger.Error("decision record not written; statement refused", "query_id", qid, "err", err)
		p.fail(w, qid, trino.Errorf(trino.GenericInternalError, "Meridian could not record the decision, so the statement is refused: retry"))
		return
	}
	p.Metrics.statement(plan)
	p.Logger.Info("statement", "query_id", qid, "user", req.id.User, "fingerprint", plan.Fingerprint,
		"allow", plan.Allowed(), "cluster", plan.Cluster, "tables", rec.Tables, "plan_us", plan.Timings.Total.Microseconds())
	if plan.Error != nil {
		p.fail(w, qid, plan.Error)
		return
	}
	if handled := p.local(w, r, req, plan, qid); handled {
		return
	}
	req.sql = plan.SQL // as the decision's obligations require
	p.forward(w, r, req, target, pin, qid)
	if p.Access != nil {
		p.Access(context.WithoutCancel(r.Context()), req.id.User, plan)
	}
}

// local answers statements about Meridian's own session property.
func (p *Proxy) local(w http.ResponseWriter, _ *http.Request, req *request, plan *planner.Plan, qid string) bool {
	if k := plan.Analysis.Kind; k != "set_session" && k != "reset_session" {
		return false
	}
	stmt, err := sql.Parser{}.Parse(req.sql)
	if err != nil {
		return false
	}
	switch s := stmt.(type) {
	case *sql.SetSession:
		if !strings.EqualFold(s.Name.String(), purposeProperty) {
			return false
		}
		lit, ok := s.Value.(*sql.Literal)
		if !ok || lit.Kind != sql.LitString {
			p.fail(w, qid, trino.Errorf(trino.InvalidSessionProp, "SET SESSION purpose takes a string: SET SESSION purpose = 'analytics'"))
			return true
		}
		w.Header().Add(trino.HeaderSetSession, purposeProperty+"="+url.QueryEscape(lit.Value))
		p.finished(w, qid, "SET SESSION")
		return true
	case *sql.ResetSession:
		if !strings.EqualFold(s.Name.String(), purposeProperty) {
			return false
		}
		w.Header().Add(trino.HeaderClearSession, purposeProperty)
		p.finished(w, qid, "RESET SESSION")
		return true
	}
	return false
}

// hop-by-hop and Meridian-only headers never forwarded to a cluster.
var dropRequest = map[string]bool{
	"Authorization": true, "Connection": true, "Keep-Alive": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Content-Length": true,
	"Host": true, "Forwarded": true, "X-Forwarded-For": true, "X-Forwarded-Host": true,
	"X-Forwarded-Proto": true, "X-Forwarded-Port": true, "X-Forwarded-Prefix": true,
	http.CanonicalHeaderKey(trino.HeaderUser): true, http.CanonicalHeaderKey(trino.HeaderOriginalUser): true,
	// Meridian decides who runs a statement; a client cannot switch users.
	http.CanonicalHeaderKey(trino.HeaderAuthorizationUser): true,
	http.CanonicalHeaderKey(trino.HeaderTransactionID):     true, http.CanonicalHeaderKey(trino.HeaderSession): true,
	"Accept-Encoding": true,
}

// upstreamRequest builds the request to a cluster: the client's headers
// minus credentials and hop-by-hop ones, Meridian's credentials, the end
// user as X-Trino-User.
func (p *Proxy) upstreamRequest(ctx context.Context, method string, c *cluster.Cluster, path string, body io.Reader, in http.Header, user string) (*http.Request, error) {
	u := c.BaseURL().String() + path
	out, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range in {
		if dropRequest[k] || (!p.AllowSpooling && k == http.CanonicalHeaderKey(trino.HeaderQueryDataEncoding)) {
			continue
		}
		out.Header[k] = vs
	}
	if user != "" {
		out.Header.Set(trino.HeaderUser, user)
	}
	if c.User != "" {
		out.SetBasicAuth(c.User, c.Password)
	}
	return out, nil
}

// forward sends the statement to the chosen cluster and streams the reply.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, req *request, c *cluster.Cluster, pin *Route, qid string) {
	up, err := p.upstreamRequest(r.Context(), http.MethodPost, c, "/v1/statement", strings.NewReader(req.sql), r.Header, req.id.User)
	if err != nil {
		p.fail(w, qid, trino.Errorf(trino.GenericInternalError, "%v", err))
		return
	}
	// Session properties go on without Meridian's own.
	var props []string
	for k, v := range req.props {
		if k != purposeProperty {
			props = append(props, k+"="+url.QueryEscape(v))
		}
	}
	if len(props) > 0 {
		up.Header.Set(trino.HeaderSession, strings.Join(props, ","))
	}
	if pin != nil {
		up.Header.Set(trino.HeaderTransactionID, strings.TrimPrefix(pin.Upstream, txnPrefix))
	} else if req.txn != "" {
		up.Header.Set(trino.HeaderTransactionID, req.txn)
	}
	up.ContentLength = int64(len(req.sql))
	release := c.Acquire()
	sent := time.Now()
	resp, err := p.Client.Do(up)
	if err != nil {
		release()
		c.ReportFailure(err)
		p.Logger.Warn("cluster unreachable", "cluster", c.Name, "query_id", qid, "err", err)
		p.fail(w, qid, trino.Errorf(trino.NoNodesAvailable,
			"cluster %s (region %s) did not accept the statement (%v); it was not sent to any other region: retry", c.Name, c.Region, err))
		return
	}
	defer resp.Body.Close()
	p.Metrics.upstreamTook(c, sent)
	// The query is tracked as soon as its id is read, before the client has
	// the reply: a cancel (DELETE /v1/query/{id}) right after it finds it.
	t := &tracked{release: release, cluster: c, user: req.id.User}
	t.seen.Store(time.Now().Unix())
	registered := ""
	sum := p.relay(w, r, resp, c, req.id.User, qid, func(id string) {
		if old, loaded := p.inflight.LoadOrStore(id, t); loaded {
			old.(*tracked).seen.Store(time.Now().Unix())
		} else {
			registered = id
		}
	})
	switch {
	case registered == "":
		release()
	case sum.NextURI == "" || resp.StatusCode != http.StatusOK:
		p.finish(registered)
	}
	if sum.NextURI != "" && resp.StatusCode == http.StatusOK {
		p.prefetchNext(c, sum.NextURI, req.id.User, "")
	}
}

// relay copies a cluster's reply to the client, rewriting the URIs into
// routing tokens, and returns what it learnt of the page.
func (p *Proxy) relay(w http.ResponseWriter, r *http.Request, resp *http.Response, c *cluster.Cluster, user, qid string, onID func(string)) pageSummary {
	for k, vs := range resp.Header {
		if k == http.CanonicalHeaderKey(trino.HeaderStartedTransactionID) {
			for _, v := range vs {
				w.Header().Add(k, p.Signer.Sign(Route{Cluster: c.Name, Upstream: txnPrefix + v, Expiry: time.Now().Add(24 * time.Hour), User: user}))
			}
			continue
		}
		if strings.HasPrefix(k, "X-Trino-") || k == "Set-Cookie" || k == "Www-Authenticate" || k == "Content-Type" || k == "Retry-After" {
			w.Header()[k] = vs
		}
	}
	// Which cluster serves the query: for people and tests; clients ignore it.
	w.Header().Set(HeaderCluster, c.Name)
	if resp.StatusCode != http.StatusOK {
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, io.LimitReader(resp.Body, 1<<20))
		return pageSummary{}
	}
	base := trino.BaseURL(r)
	rewrite := func(key, uri string) (string, error) {
		u, err := url.Parse(uri)
		if err != nil {
			return "", err
		}
		return base + p.Signer.Path(Route{Cluster: c.Name, Upstream: u.RequestURI(), Expiry: time.Now().Add(p.TokenTTL), QueryID: qid, User: user}), nil
	}
	mem, inMemory := resp.Body.(memoryBody)
	if resp.ContentLength >= 0 && (resp.ContentLength <= smallPage || inMemory) {
		// A small page (most are: progress, the first and last) or one
		// fetched ahead is rewritten whole and sent in one write with its
		// length; a bad one becomes a Trino error rather than a broken
		// page.
		buf := pageBufs.Get().(*bytes.Buffer)
		defer pageBufs.Put(buf)
		buf.Reset()
		var sum pageSummary
		var err error
		var rest []byte // the end of a page in memory, sent as it is
		if inMemory {
			var tail int
			sum, tail, err = rewritePageHead(buf, mem.page, rewrite, onID)
			if err == nil {
				rest = mem.page[tail:]
			}
		} else {
			sum, err = rewritePage(buf, resp.Body, rewrite, onID) // the body ends at its Content-Length
		}
		if err != nil {
			p.Logger.Warn("cluster sent a page Meridian cannot relay", "cluster", c.Name, "query_id", qid, "err", err)
			c.ReportFailure(err)
			p.fail(w, qid, trino.Errorf(trino.GenericInternalError,
				"cluster %s (region %s) sent a page Meridian cannot read (%v): run the query again", c.Name, c.Region, err))
			return pageSummary{}
		}
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()+len(rest)))
		w.WriteHeader(http.StatusOK)
		w.Write(buf.Bytes())
		w.Write(rest)
		return sum
	}
	w.WriteHeader(resp.StatusCode)
	sum, err := rewritePage(w, resp.Body, rewrite, onID)
	if err != nil {
		// The status is sent; the client sees a broken page and fails the
		// query. Say why in the log.
		p.Logger.Warn("relay failed mid-page", "cluster", c.Name, "query_id", qid, "err", err)
		c.ReportFailure(err)
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	return sum
}

// smallPage is the largest page relay rewrites in memory and sends whole.
const smallPage = 64 << 10

var pageBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// followUp handles GET, HEAD and DELETE on a routing token.
func (p *Proxy) followUp(w http.ResponseWriter, r *http.Request) {
	rt, err := p.Signer.Verify(r.PathValue("token"))
	if err != nil {
		// Forged, tampered or expired: never reaches a cluster.
		http.Error(w, err.Error()+": the query cannot be continued through Meridian", http.StatusNotFound)
		return
	}
	c, ok := p.Clusters.Cluster(rt.Cluster)
	if !ok || strings.HasPrefix(rt.Upstream, txnPrefix) {
		http.Error(w, "routing token names no known cluster", http.StatusNotFound)
		return
	}
	if !p.TrustTokens || r.Header.Get("Authorization") != "" {
		id, err := p.Auth.Authenticate(r)
		if err != nil {
			writeAuthError(w, r, err)
			return
		}
		if rt.User != "" && id.User != rt.User {
			http.Error(w, "this query belongs to another user", http.StatusForbidden)
			return
		}
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// A page fetched ahead is waiting, or on its way.
	var pre *prefetch
	if r.Method == http.MethodGet {
		if pre = p.claim(c, rt.Upstream); pre != nil {
			select {
			case <-pre.done:
			case <-r.Context().Done():
				return // the client went away; a retry finds the page
			}
			if pre.err != nil {
				p.release(pre, false)
				pre = nil // ask the cluster now
			}
		}
	}
	if pre != nil {
		p.relayFollowUp(w, r, pre.response(), c, rt, pre)
		return
	}
	up, err := p.upstreamRequest(r.Context(), r.Method, c, rt.Upstream, nil, r.Header, rt.User)
	if err != nil {
		p.fail(w, rt.QueryID, trino.Errorf(trino.GenericInternalError, "%v", err))
		return
	}
	resp, err := p.Client.Do(up)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client went away
		}
		c.ReportFailure(err)
		p.Logger.Warn("cluster failed mid-query", "cluster", c.Name, "query_id", rt.QueryID, "err", err)
		p.fail(w, rt.QueryID, trino.Errorf(trino.GenericInternalError,
			"cluster %s (region %s) running this query stopped answering (%v); the query is lost: run it again", c.Name, c.Region, err))
		p.finish(upstreamID(rt.Upstream))
		return
	}
	defer resp.Body.Close()
	if r.Method != http.MethodGet {
		for k, vs := range resp.Header {
			if strings.HasPrefix(k, "X-Trino-") || k == "Content-Type" {
				w.Header()[k] = vs
			}
		}
		w.WriteHeader(resp.StatusCode)
		if r.Method == http.MethodDelete {
			p.finish(upstreamID(rt.Upstream))
			p.dropQuery(c, upstreamID(rt.Upstream))
		}
		return
	}
	p.relayFollowUp(w, r, resp, c, rt, nil)
}

// relayFollowUp relays the page of a GET on a routing token, from the
// cluster or fetched ahead (pre), and fetches the next one ahead when this
// one came that way: pipelining starts after the first page and continues
// while the client keeps up (a page served straight from the cluster
// cannot be repeated for a retry once the next is fetched, so it does not
// start it).
func (p *Proxy) relayFollowUp(w http.ResponseWriter, r *http.Request, resp *http.Response, c *cluster.Cluster, rt Route, pre *prefetch) {
	defer resp.Body.Close()
	sum := p.relay(w, r, resp, c, rt.User, rt.QueryID, nil)
	id := sum.ID
	if id == "" {
		id = upstreamID(rt.Upstream)
	}
	if sum.NextURI == "" {
		p.finish(id)
	} else if t, ok := p.inflight.Load(id); ok {
		t.(*tracked).seen.Store(time.Now().Unix())
	}
	if pre == nil {
		return
	}
	next := sum.NextURI != "" && resp.StatusCode == http.StatusOK
	p.release(pre, next)
	if next {
		p.prefetchNext(c, sum.NextURI, rt.User, pre.key)
	}
}

// cancelQuery handles DELETE /v1/query/{queryId}: clients such as
// trino-go-client cancel there rather than on nextUri. The path carries no
// routing token, so only a query this replica is relaying can be found;
// its owner may cancel it on the cluster that runs it.
func (p *Proxy) cancelQuery(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("queryId")
	v, ok := p.inflight.Load(id)
	if !ok {
		http.Error(w, "no query "+id+" in flight through this Meridian: cancel it through its nextUri", http.StatusNotFound)
		return
	}
	t := v.(*tracked)
	who, err := p.Auth.Authenticate(r)
	if err != nil {
		writeAuthError(w, r, err)
		return
	}
	if who.User != t.user {
		http.Error(w, "this query belongs to another user", http.StatusForbidden)
		return
	}
	up, err := p.upstreamRequest(r.Context(), http.MethodDelete, t.cluster, "/v1/query/"+url.PathEscape(id), nil, r.Header, t.user)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := p.Client.Do(up)
	if err != nil {
		t.cluster.ReportFailure(err)
		http.Error(w, fmt.Sprintf("cluster %s did not take the cancellation: %v", t.cluster.Name, err), http.StatusInternalServerError)
		return
	}
	resp.Body.Close()
	p.finish(id)
	p.dropQuery(t.cluster, id)
	w.WriteHeader(resp.StatusCode)
}

// upstreamID reads the query id from an executing or queued path.
func upstreamID(path string) string {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, s := range parts {
		if (s == "queued" || s == "executing") && i+1 < len(parts) {
			if parts[i+1] == "partialCancel" && i+2 < len(parts) {
				return parts[i+2]
			}
			return parts[i+1]
		}
	}
	return ""
}

// finish releases the in-flight slot of an upstream query.
func (p *Proxy) finish(upstream string) {
	if upstream == "" {
		return
	}
	if t, ok := p.inflight.LoadAndDelete(upstream); ok {
		t.(*tracked).release()
	}
}

// Reap releases queries no client has polled for idle; run it from time
// to time (clients that vanish never send the last GET).
func (p *Proxy) Reap(idle time.Duration) {
	p.reapPrefetches(time.Now())
	cutoff := time.Now().Add(-idle).Unix()
	p.inflight.Range(func(k, v any) bool {
		if v.(*tracked).seen.Load() < cutoff {
			p.finish(k.(string))
		}
		return true
	})
}

// txnPrefix marks a route that carries an upstream transaction id.
const txnPrefix = "/transaction/"

// pinnedTransaction verifies a transaction id Meridian handed out; "" and
// NONE pin nothing.
func (p *Proxy) pinnedTransaction(txn string) (*Route, *trino.Error) {
	if txn == "" || strings.EqualFold(txn, "NONE") {
		return nil, nil
	}
	rt, err := p.Signer.Verify(txn)
	if err != nil || !strings.HasPrefix(rt.Upstream, txnPrefix) {
		return nil, trino.Errorf(trino.GenericUserError, "X-Trino-Transaction-Id is not a transaction Meridian started (%v): start a new transaction", err)
	}
	return &rt, nil
}

// pinnedCluster is the cluster of the statement's transaction, which the
// statement's own decision must allow; a transaction never moves.
func (p *Proxy) pinnedCluster(plan *planner.Plan, pin *Route) (*cluster.Cluster, *trino.Error) {
	c, ok := p.Clusters.Cluster(pin.Cluster)
	if !ok {
		return nil, trino.Errorf(trino.GenericUserError, "the transaction's cluster %s is no longer configured: start a new transaction", pin.Cluster)
	}
	if !slices.Contains(plan.Decision.Regions, c.Region) {
		return nil, trino.Errorf(trino.PermissionDenied,
			"this statement is part of a transaction on cluster %s in region %s, but it may run only in %s: commit or roll back, then run it outside the transaction",
			c.Name, c.Region, strings.Join(plan.Decision.Regions, ", "))
	}
	if c.State() != cluster.Healthy {
		return nil, trino.Errorf(trino.NoNodesAvailable, "the transaction's cluster %s is %s; the transaction cannot continue elsewhere: roll back and retry", c.Name, c.State())
	}
	return c, nil
}

// fail answers with a FAILED QueryResults (HTTP 200, as Trino does).
func (p *Proxy) fail(w http.ResponseWriter, qid string, e *trino.Error) {
	qr := trino.QueryResults{ID: qid, InfoURI: "", Error: e.QueryError(), Warnings: []trino.Warning{},
		Stats: trino.Stats{State: trino.StateFailed}}
	writeResults(w, &qr)
}

// finished answers a statement Meridian ran itself.
func (p *Proxy) finished(w http.ResponseWriter, qid, updateType string) {
	qr := trino.QueryResults{ID: qid, Warnings: []trino.Warning{}, Stats: trino.Stats{State: trino.StateFinished}, UpdateType: updateType}
	writeResults(w, &qr)
}

func writeResults(w http.ResponseWriter, qr *trino.QueryResults) {
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(qr)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}

// plan handles POST /v1/meridian/plan: the full plan of a statement,
// without running it, for the caller (or, for admins and compliance, for
// the user named in ?user= with the attributes given).
func (p *Proxy) plan(w http.ResponseWriter, r *http.Request) {
	qid := p.queryID()
	req, ok := p.readRequest(w, r, qid)
	if !ok {
		return
	}
	plan := p.Planner.Plan(r.Context(), req.planRequest(qid))
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(plan)
}
