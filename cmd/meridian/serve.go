package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/cluster"
	"github.com/meridian-lake/meridian/internal/store"
	"github.com/meridian-lake/meridian/lifecycle"
	"github.com/meridian-lake/meridian/planner"
	"github.com/meridian-lake/meridian/policy"
	policies "github.com/meridian-lake/meridian/rego"
	"github.com/meridian-lake/meridian/server"
)

// ServeConfig is the serve: section of the configuration.
type ServeConfig struct {
	// Listen is the plain-HTTP address ("" = none). Without
	// insecure_trust_user_header only bearer tokens work there: passwords
	// need TLS.
	Listen string `yaml:"listen"`
	// TLSListen is the HTTPS address ("" = none); TLSCert and TLSKey are
	// its PEM files.
	TLSListen string `yaml:"tls_listen"`
	TLSCert   string `yaml:"tls_cert"`
	TLSKey    string `yaml:"tls_key"`
	// InsecureTrustUserHeader trusts X-Trino-User without a password:
	// development only, loudly logged.
	InsecureTrustUserHeader bool `yaml:"insecure_trust_user_header"`
	// UsersFile lists users, bcrypt password hashes and attributes.
	UsersFile string `yaml:"users_file"`
	// RoutingKeys sign follow-up URIs (base64 or hex, at least 32 bytes;
	// the first signs, all verify). Every replica needs the same keys.
	// Default: one generated into DIR/routing.key on first start.
	RoutingKeys []string `yaml:"routing_keys"`
	// JWT, when set, accepts bearer tokens.
	JWT *JWTSection `yaml:"jwt"`
	// AllowSpooling relays X-Trino-Query-Data-Encoding to the clusters.
	// Off by default: with Trino's spooling protocol the client downloads
	// result segments from the region's object store directly, past
	// Meridian, so Meridian could no longer see or route them; results
	// stay inline. Turn it on only when clients may reach every region's
	// spooling storage and that is acceptable to the compliance team.
	AllowSpooling bool `yaml:"allow_spooling"`
	// NoPipelining stops Meridian fetching each next page of a result
	// while the client reads the current one (on by default; it holds at
	// most 1 MiB per page and 64 MiB in all).
	NoPipelining bool `yaml:"no_pipelining"`
}

// JWTSection configures bearer tokens (see server.JWTConfig).
type JWTSection struct {
	Issuer        string   `yaml:"issuer"`
	Audience      string   `yaml:"audience"`
	JWKSFile      string   `yaml:"jwks_file"`
	JWKSURL       string   `yaml:"jwks_url"`
	Algorithms    []string `yaml:"algorithms"`
	UserClaim     string   `yaml:"user_claim"`
	GroupsClaim   string   `yaml:"groups_claim"`
	RegionClaim   string   `yaml:"region_claim"`
	PurposesClaim string   `yaml:"purposes_claim"`
	RolesClaim    string   `yaml:"roles_claim"`
}

const serveDescription = `Serve runs Meridian: the Trino protocol front door (POST /v1/statement),
which plans, decides, records and forwards every statement to a compliant
regional cluster or refuses it with a Trino error, and the compliance and
admin APIs under /v1/meridian/.

Clusters, regions (with their jurisdictions), listeners, users and keys come
from the configuration (--config or $MERIDIAN_CONFIG); see the README.

Exit status: 0 after a clean stop (SIGINT or SIGTERM), 1 when serving
failed, 2 for a configuration error.`

func runServe(ctx context.Context, st streams, args []string) int {
	fs := newFlagSet(st, "serve", "[flags]", serveDescription)
	configPath := fs.String("config", os.Getenv("MERIDIAN_CONFIG"), "configuration `file`")
	listen := fs.String("listen", "", "plain-HTTP `address` (overrides serve.listen)")
	tlsListen := fs.String("tls-listen", "", "HTTPS `address` (overrides serve.tls_listen)")
	insecure := fs.Bool("insecure-trust-user-header", false, "trust X-Trino-User without authentication (development only)")
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(st, "serve", "unexpected arguments %q", strings.Join(pos, " "))
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(st.err, "meridian serve: %v\n", err)
		return exitUsage
	}
	if *listen != "" {
		cfg.Serve.Listen = *listen
	}
	if *tlsListen != "" {
		cfg.Serve.TLSListen = *tlsListen
	}
	cfg.Serve.InsecureTrustUserHeader = cfg.Serve.InsecureTrustUserHeader || *insecure
	logs := newLogWriter(st.err)
	defer logs.Close()
	log := slog.New(slog.NewJSONHandler(logs, nil))
	sys, err := startSystem(ctx, cfg, log)
	if err != nil {
		logs.Close()
		fmt.Fprintf(st.err, "meridian serve: %v\n", err)
		return exitUsage
	}
	defer sys.Close()
	for _, a := range sys.Addrs {
		fmt.Fprintf(st.out, "meridian listening on %s\n", a)
	}
	if err := sys.Wait(ctx); err != nil {
		fmt.Fprintf(st.err, "meridian serve: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// system is a running Meridian: its listeners and what they need.
type system struct {
	Addrs    []string // the URLs served, http:// and https://
	Clusters *cluster.Registry
	Policy   *policy.Registry

	servers []*http.Server
	errs    chan error
	closers []func()
	cancel  context.CancelFunc
}

// startSystem opens the state, catalog and policy, starts the health
// checks and the listeners.
func startSystem(ctx context.Context, cfg Config, log *slog.Logger) (sys *system, err error) {
	if cfg.Serve.Listen == "" && cfg.Serve.TLSListen == "" {
		return nil, errors.New("nothing to listen on: set serve.listen or serve.tls_listen (or --listen, --tls-listen)")
	}
	if len(cfg.Clusters.Clusters) == 0 {
		return nil, errors.New("no clusters configured: add clusters: with regions and their clusters")
	}
	ctx, cancel := context.WithCancel(ctx)
	sys = &system{errs: make(chan error, 4), cancel: cancel}
	defer func() {
		if err != nil {
			sys.Close()
		}
	}()
	db, err := store.Open(ctx, cfg.Store)
	if err != nil {
		return sys, err
	}
	sys.closers = append(sys.closers, func() { db.Close() })
	// Lifecycle's record of archived partitions: the planner refuses reads
	// of them, naming the restore command.
	states, err := lifecycle.NewPartitionStateStore(ctx, db, time.Now)
	if err != nil {
		return sys, err
	}
	cat, err := catalog.New(ctx, cfg.Catalog, db, catalog.WithPartitionStates(states))
	if err != nil {
		return sys, err
	}
	sys.closers = append(sys.closers, func() { cat.Close() })
	access, err := lifecycle.NewAccessLog(ctx, db)
	if err != nil {
		return sys, err
	}
	// Access history is written in the background, many statements per
	// transaction (closed after the listeners, before the database).
	recorder := access.Recorder(200*time.Millisecond, log)
	sys.closers = append(sys.closers, recorder.Close)
	recordAccess := func(ctx context.Context, user string, plan *planner.Plan) {
		recs := make([]lifecycle.AccessRecord, 0, len(plan.Reads))
		for _, r := range plan.Reads {
			recs = append(recs, lifecycle.AccessRecord{QueryID: plan.QueryID, At: plan.At, User: user,
				Table: r.Table, Partitions: r.Partitions, Bytes: r.Bytes})
		}
		recorder.Add(recs...)
	}
	shipped, err := policy.LoadFS(policies.FS)
	if err != nil {
		return sys, err
	}
	if err := policy.SetEvaluator(cfg.Policy.Evaluator); err != nil {
		return sys, err
	}
	reg, err := policy.OpenRegistry(ctx, db, shipped, 0)
	if err != nil {
		return sys, err
	}
	log.Info("policy", "version", reg.Engine().Active().Version(), "evaluator", reg.Engine().Active().Evaluator())
	// Decision records are appended to a journal beside the state store
	// before each statement is forwarded, and indexed into the store in
	// the background (see policy/journal.go).
	journalDir := filepath.Join(filepath.Dir(db.Path()), "journal")
	if err := reg.OpenJournal(ctx, journalDir, policy.JournalOptions{Sync: cfg.Store.Sync != "normal", Logger: log}); err != nil {
		return sys, err
	}
	sys.closers = append(sys.closers, func() {
		if err := reg.Close(); err != nil {
			log.Error("decision journal", "err", err)
		}
	})
	sys.Policy = reg
	go reg.Watch(ctx, 2*time.Second, func(changed bool, err error) {
		if err != nil {
			log.Error("policy refresh failed; the engine keeps its version", "err", err)
		} else if changed {
			log.Info("policy version changed by another process", "version", reg.Engine().Active().Version(),
				"evaluator", reg.Engine().Active().Evaluator())
		}
	})
	clusters, err := cluster.New(cfg.Clusters)
	if err != nil {
		return sys, err
	}
	sys.Clusters = clusters
	healthClient := &http.Client{Timeout: 5 * time.Second}
	clusters.Check(ctx, healthClient)
	go clusters.Run(ctx, healthClient)

	signer, err := routingSigner(cfg)
	if err != nil {
		return sys, err
	}
	plainAuth, err := authenticator(ctx, cfg, log, cfg.Serve.InsecureTrustUserHeader)
	if err != nil && cfg.Serve.Listen != "" {
		return sys, err
	}
	tlsAuth, err := authenticator(ctx, cfg, log, false)
	if err != nil && cfg.Serve.TLSListen != "" {
		return sys, err
	}
	planr := &planner.Planner{Catalog: cat, Policy: reg.Engine(), Clusters: clusters}
	metrics := server.NewMetrics(clusters)
	var proxies []*server.Proxy
	// handler is everything one listener serves. Trusting X-Trino-User is
	// for the plain-HTTP listener only: over TLS a password or token is
	// always asked.
	handler := func(auth server.Authenticator, trust bool) http.Handler {
		proxy := &server.Proxy{Planner: planr, Records: reg, Clusters: clusters, Signer: signer,
			Auth: auth, TrustTokens: trust, Logger: log, AllowSpooling: cfg.Serve.AllowSpooling, NoPipelining: cfg.Serve.NoPipelining, Access: recordAccess, Metrics: metrics}
		proxies = append(proxies, proxy)
		policyAPI := &server.PolicyAPI{Registry: reg, Authorize: server.RoleAuthorizer(server.RequestIdentity), Logger: log}
		clusterAPI := &server.ClusterAPI{Clusters: clusters}
		mux := http.NewServeMux()
		mux.Handle("/", proxy.Handler())
		// Counts and timings only: no SQL, no user names.
		mux.Handle("GET /metrics", metrics.Handler())
		compliance := server.RequireIdentity(auth, server.RequireRole(server.RoleCompliance, policyAPI.Handler()))
		admin := server.RequireIdentity(auth, server.RequireRole(server.RoleAdmin, clusterAPI.Handler()))
		mux.Handle("/v1/meridian/policies", compliance)
		mux.Handle("/v1/meridian/policies/", compliance)
		mux.Handle("/v1/meridian/decisions", compliance)
		mux.Handle("/v1/meridian/clusters", admin)
		mux.Handle("/v1/meridian/clusters/", admin)
		return mux
	}
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				for _, p := range proxies {
					p.Reap(10 * time.Minute)
				}
			}
		}
	}()

	serve := func(addr string, tlsOn bool) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen %s: %w", addr, err)
		}
		auth, trust := tlsAuth, false
		if !tlsOn {
			auth, trust = plainAuth, cfg.Serve.InsecureTrustUserHeader
		}
		srv := &http.Server{Handler: handler(auth, trust), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 2 << 20, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		scheme := "http"
		if tlsOn {
			pair, err := server.LoadKeyPair(cfg.Serve.TLSCert, cfg.Serve.TLSKey)
			if err != nil {
				ln.Close()
				return err
			}
			if srv.TLSConfig, err = server.TLSConfig(pair); err != nil {
				ln.Close()
				return err
			}
			scheme = "https"
		}
		sys.servers = append(sys.servers, srv)
		sys.Addrs = append(sys.Addrs, scheme+"://"+ln.Addr().String())
		go func() {
			var err error
			if tlsOn {
				err = srv.ServeTLS(ln, "", "")
			} else {
				err = srv.Serve(ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				sys.errs <- err
			}
		}()
		return nil
	}
	if cfg.Serve.Listen != "" {
		if err := serve(cfg.Serve.Listen, false); err != nil {
			return sys, err
		}
	}
	if cfg.Serve.TLSListen != "" {
		if cfg.Serve.TLSCert == "" || cfg.Serve.TLSKey == "" {
			return sys, errors.New("serve.tls_listen needs serve.tls_cert and serve.tls_key")
		}
		if err := serve(cfg.Serve.TLSListen, true); err != nil {
			return sys, err
		}
	}
	if addr := os.Getenv("MERIDIAN_PPROF"); addr != "" {
		// Profiling for operators, on an address they choose (loopback).
		go func() {
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
			log.Warn("profiling endpoint open", "addr", addr)
			srv.ListenAndServe()
		}()
	}
	if err := startSchedules(ctx, cfg, db, log); err != nil {
		return sys, err
	}
	log.Info("meridian serving", "addrs", sys.Addrs, "clusters", len(cfg.Clusters.Clusters))
	return sys, nil
}

// startSchedules runs the lifecycle jobs of lifecycle.schedules, on one
// replica at a time (a lease in the state store), with their history in
// meridian lifecycle jobs.
func startSchedules(ctx context.Context, cfg Config, db *store.DB, log *slog.Logger) error {
	lc := cfg.Lifecycle.withDefaults()
	if len(lc.Schedules) == 0 {
		return nil
	}
	if err := lc.validate(); err != nil {
		return err
	}
	var jobs []lifecycle.ScheduledJob
	for name, spec := range lc.Schedules {
		switch name {
		case "apply":
			jobs = append(jobs, lifecycle.ScheduledJob{Name: name, Spec: spec, Run: func(ctx context.Context) error {
				// The same as meridian lifecycle apply --apply, logging
				// instead of drawing progress.
				env := &lifecycleEnv{cfg: cfg, lc: lc, now: time.Now, st: streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard}}
				defer env.close()
				if _, err := env.open(ctx, "apply"); err != nil {
					return err
				}
				return env.applyCmd(ctx, lifecycleArgs{apply: true})
			}})
		}
	}
	host, _ := os.Hostname()
	sched, err := lifecycle.NewScheduler(ctx, db.DB, jobs, lifecycle.SchedulerConfig{Dialect: "sqlite",
		Owner: fmt.Sprintf("%s:%d", host, os.Getpid()), Logger: log})
	if err != nil {
		return err
	}
	go func() {
		if err := sched.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("lifecycle scheduler stopped", "err", err)
		}
	}()
	log.Info("lifecycle schedules", "jobs", len(jobs))
	return nil
}

// Wait blocks until ctx ends (a clean stop) or a listener fails.
func (s *system) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.errs:
		return err
	}
}

// Close stops the listeners (letting requests in flight finish for a few
// seconds) and closes the state.
func (s *system) Close() {
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		srv.Shutdown(shutdown)
	}
	s.cancel()
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// routingSigner signs follow-up URIs with the configured keys, or with a
// key generated once into DIR/routing.key.
func routingSigner(cfg Config) (*server.Signer, error) {
	keys := cfg.Serve.RoutingKeys
	if len(keys) == 0 {
		path := filepath.Join(cfg.Dir, "routing.key")
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			k := server.GenerateKey()
			if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
				return nil, err
			}
			if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("routing key: %w", err)
			}
			b = []byte(k)
		} else if err != nil {
			return nil, fmt.Errorf("routing key: %w", err)
		}
		keys = []string{strings.TrimSpace(string(b))}
	}
	parsed, err := server.ParseKeys(keys)
	if err != nil {
		return nil, fmt.Errorf("serve.routing_keys: %w", err)
	}
	return server.NewSigner(parsed, nil)
}

// authenticator builds the identity sources the configuration asks for;
// trustHeader adds the development mode's trusted X-Trino-User.
func authenticator(ctx context.Context, cfg Config, log *slog.Logger, trustHeader bool) (server.Authenticator, error) {
	var m server.MultiAuth
	var users *server.Users
	if cfg.Serve.UsersFile != "" {
		var err error
		if users, err = server.ReadUsersFile(cfg.Serve.UsersFile); err != nil {
			return nil, err
		}
		if m.Basic, err = server.NewBasicAuth(users, server.BasicConfig{}); err != nil {
			return nil, err
		}
	}
	if j := cfg.Serve.JWT; j != nil {
		a, err := server.NewJWTAuth(server.JWTConfig{Issuer: j.Issuer, Audience: j.Audience, JWKSFile: j.JWKSFile, JWKSURL: j.JWKSURL,
			Algorithms: j.Algorithms, UserClaim: j.UserClaim, GroupsClaim: j.GroupsClaim, RegionClaim: j.RegionClaim,
			PurposesClaim: j.PurposesClaim, RolesClaim: j.RolesClaim})
		if err != nil {
			return nil, err
		}
		m.Bearer = a
	}
	if trustHeader {
		h, err := server.NewHeaderAuth(server.HeaderConfig{Users: users})
		if err != nil {
			return nil, err
		}
		h.Warn(ctx, log)
		m.Header = h
	}
	if m.Basic == nil && m.Bearer == nil && m.Header == nil {
		return nil, errors.New("no way to authenticate users: set serve.users_file, serve.jwt, or (development only) serve.insecure_trust_user_header")
	}
	return m, nil
}
