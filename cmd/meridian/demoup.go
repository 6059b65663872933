package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/trinodb/trino-go-client/trino"
	"gopkg.in/yaml.v3"

	"github.com/meridian-lake/meridian/catalog/demo"
	"github.com/meridian-lake/meridian/cluster"
	"github.com/meridian-lake/meridian/server"
)

// demoUser is one of the demo's users; the password is the name with
// "-demo" appended, which the startup text prints.
type demoUser struct {
	name, region string
	groups       []string
	purposes     []string
	roles        []string
	about        string
}

var demoUsers = []demoUser{
	{"anna", "eu", []string{"analysts"}, []string{"analytics", "support"}, []string{"analyst"}, "EU analyst"},
	{"sam", "us", []string{"analysts"}, []string{"analytics"}, []string{"analyst"}, "US analyst"},
	{"kenji", "apac", []string{"analysts"}, []string{"analytics"}, []string{"analyst"}, "APAC analyst"},
	{"dora", "eu", []string{"dpo"}, []string{"support"}, []string{"compliance"}, "EU, compliance"},
	{"ops", "eu", []string{"ops"}, nil, []string{"admin"}, "admin"},
}

func demoPassword(user string) string { return user + "-demo" }

// demoExample is a statement `make run` prints and `demo check` runs, with
// what it must do.
type demoExample struct {
	user, purpose, sql string
	cluster            string // the cluster it must run on; "" when refused
	errName, errHas    string
	what               string
}

var demoExamples = []demoExample{
	{user: "anna", purpose: "analytics", sql: "SELECT count(*) FROM iceberg.eu.guests WHERE country = 'France'",
		cluster: "eu-1", what: "an EU analyst counts EU guests: runs in the EU"},
	{user: "sam", purpose: "analytics", sql: "SELECT * FROM iceberg.eu.guests",
		errName: "PERMISSION_DENIED", errHas: "gdpr.transfer", what: "a US analyst reads EU personal data: denied for residency"},
	{user: "sam", purpose: "analytics", sql: "SELECT country, count(*) AS guests FROM iceberg.eu.guests GROUP BY country",
		cluster: "eu-1", what: "the same analyst asks only for aggregates: an aggregate export, runs in the EU"},
	{user: "sam", sql: "SELECT full_name FROM iceberg.us.guests LIMIT 5",
		errName: "PERMISSION_DENIED", errHas: "gdpr.purpose", what: "personal data without a declared purpose: denied (SET SESSION purpose = 'analytics')"},
	{user: "kenji", sql: "SELECT returnflag, linestatus, sum(quantity) AS qty, count(*) AS n FROM iceberg.tpch.lineitem " +
		"WHERE shipdate <= DATE '1998-09-02' GROUP BY returnflag, linestatus ORDER BY returnflag, linestatus",
		cluster: "us-1", what: "TPC-H (non-personal, resident in us): runs where the data is"},
}

const demoUpDescription = `Demo up runs the whole demo system on this machine: a local engine
(meridian-engine) for each of eu, us and apac, and Meridian in front of them,
on --listen (development mode: X-Trino-User is trusted) and --tls-listen
(HTTPS with a self-signed certificate and the demo users' passwords). It
creates in DIR what is missing: the users file, the certificate, the routing
key. The demo lake must exist (meridian demo init).

Demo check runs the five example statements against a running Meridian and
exits 1 if any does not do what it should.

Ctrl-C stops everything.`

func runDemoUp(ctx context.Context, st streams, args []string) int {
	fs := newFlagSet(st, "demo", "up|check [flags]", demoUpDescription)
	dir := fs.String("dir", envOr("MERIDIAN_DIR", ".meridian"), "the demo's state `directory`")
	configPath := fs.String("config", os.Getenv("MERIDIAN_CONFIG"), "for up: a configuration `file` (its dir, store and policy settings; clusters and listeners come from demo up)")
	listen := fs.String("listen", "127.0.0.1:8080", "development-mode HTTP `address`")
	tlsListen := fs.String("tls-listen", "127.0.0.1:8443", "HTTPS `address`")
	enginePath := fs.String("engine", "", "the meridian-engine `binary` (default: beside meridian, then $PATH)")
	server := fs.String("server", "http://127.0.0.1:8080", "for check: Meridian's development-mode `URL`")
	check := fs.Bool("check", false, "for up: run the examples once the system is up, then stop")
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	switch {
	case len(pos) == 1 && pos[0] == "check":
		return demoCheck(ctx, st, *server)
	case len(pos) == 1 && pos[0] == "up":
	default:
		return usageError(st, "demo", "want up or check")
	}
	base, err := Config{Dir: *dir}.withDefaults()
	if *configPath != "" {
		base, err = loadConfig(*configPath)
	}
	if err != nil {
		fmt.Fprintf(st.err, "meridian demo up: %v\n", err)
		return exitUsage
	}
	sys, err := demoUp(ctx, st, base, *dir, *listen, *tlsListen, *enginePath)
	if err != nil {
		fmt.Fprintf(st.err, "meridian demo up: %v\n", err)
		return exitFailed
	}
	defer sys.stop()
	if *check {
		return demoCheck(ctx, st, sys.plainURL)
	}
	<-ctx.Done()
	fmt.Fprintln(st.err, "meridian demo up: stopping")
	return exitOK
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// demoSystem is what demo up started.
type demoSystem struct {
	plainURL, tlsURL string
	meridian         *system
	engines          []*exec.Cmd
	regions          []string // of engines
	engineURLs       []string // of engines
	waits            []chan error
	logs             *logWriter // Meridian's log file, buffered
}

func (d *demoSystem) stop() {
	if d.meridian != nil {
		d.meridian.Close()
	}
	if d.logs != nil {
		d.logs.Close()
	}
	for i, e := range d.engines {
		e.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.waits[i]:
		case <-time.After(10 * time.Second):
			e.Process.Kill()
			<-d.waits[i]
		}
	}
}

func demoUp(ctx context.Context, st streams, cfg Config, dir, listen, tlsListen, enginePath string) (_ *demoSystem, err error) {
	t0 := time.Now()
	if _, err := os.Stat(filepath.Join(cfg.Dir, "catalog.db")); err != nil {
		return nil, fmt.Errorf("no demo lake in %s: run meridian demo init --dir %s first", cfg.Dir, dir)
	}
	if enginePath == "" {
		if enginePath, err = findEngine(); err != nil {
			return nil, err
		}
	}
	logDir := filepath.Join(cfg.Dir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	// The engines read the catalog section of this file.
	engineConfig := filepath.Join(cfg.Dir, "engines.yaml")
	doc, err := yaml.Marshal(map[string]any{"catalog": cfg.Catalog})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(engineConfig, doc, 0o644); err != nil {
		return nil, err
	}
	usersFile, err := demoUsersFile(cfg.Dir)
	if err != nil {
		return nil, err
	}
	certFile := filepath.Join(cfg.Dir, "tls", server.SelfSignedCertFile)
	keyFile := filepath.Join(cfg.Dir, "tls", server.SelfSignedKeyFile)
	if _, err := os.Stat(certFile); err != nil {
		if certFile, keyFile, err = server.SelfSigned([]string{"localhost", "127.0.0.1"}, filepath.Join(cfg.Dir, "tls")); err != nil {
			return nil, err
		}
	}

	d := &demoSystem{}
	defer func() {
		if err != nil {
			d.stop()
		}
	}()
	cfg.Clusters = cluster.Config{}
	for _, r := range demo.Regions() {
		cfg.Clusters.Regions = append(cfg.Clusters.Regions, cluster.Region{Name: r, Jurisdiction: demo.Jurisdiction(r)})
		url, err := d.startEngine(ctx, enginePath, r, engineConfig, cfg.Dir, logDir)
		if err != nil {
			return d, fmt.Errorf("engine %s: %w", r, err)
		}
		cfg.Clusters.Clusters = append(cfg.Clusters.Clusters, cluster.ClusterConfig{Name: r + "-1", Region: r, URL: url})
		fmt.Fprintf(st.err, "meridian demo up: engine %s on %s\n", r, url)
	}
	cfg.Serve = ServeConfig{Listen: listen, TLSListen: tlsListen, TLSCert: certFile, TLSKey: keyFile,
		InsecureTrustUserHeader: true, UsersFile: usersFile}
	logFile, err := os.OpenFile(filepath.Join(logDir, "meridian.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return d, err
	}
	d.logs = newLogWriter(logFile)
	log := slog.New(slog.NewJSONHandler(d.logs, nil))
	if d.meridian, err = startSystem(ctx, cfg, log); err != nil {
		d.logs.Close()
		return d, err
	}
	for _, a := range d.meridian.Addrs {
		if strings.HasPrefix(a, "https://") {
			d.tlsURL = a
		} else {
			d.plainURL = a
		}
	}
	printDemoHelp(st.out, d, certFile, time.Since(t0))
	printReady(st.out, d)
	return d, nil
}

// printReady writes one machine-readable line once everything is up, for
// scripts and the end-to-end tests:
//
//	meridian ready http=URL https=URL engine.eu=URL pid.eu=PID …
func printReady(w io.Writer, d *demoSystem) {
	line := "meridian ready http=" + d.plainURL + " https=" + d.tlsURL
	for i, e := range d.engines {
		line += fmt.Sprintf(" engine.%s=%s pid.%s=%d", d.regions[i], d.engineURLs[i], d.regions[i], e.Process.Pid)
	}
	fmt.Fprintln(w, line)
}

var engineReady = regexp.MustCompile(`listening on (http://\S+)`)

// startEngine starts one region's engine and waits for its readiness line.
func (d *demoSystem) startEngine(ctx context.Context, path, region, config, dir, logDir string) (string, error) {
	logf, err := os.OpenFile(filepath.Join(logDir, "engine-"+region+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return "", err
	}
	cmd := exec.Command(path, "--region", region, "--config", config, "--listen", "127.0.0.1:0",
		"--cache-dir", filepath.Join(dir, "cache", region), "--threads", "2", "--memory-limit", "2GB")
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	d.engines = append(d.engines, cmd)
	d.regions = append(d.regions, region)
	d.waits = append(d.waits, done)
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := engineReady.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
		io.Copy(io.Discard, out)
		done <- cmd.Wait()
		logf.Close()
	}()
	select {
	case url := <-ready:
		d.engineURLs = append(d.engineURLs, url)
		return url, nil
	case err := <-done:
		done <- err
		return "", fmt.Errorf("exited before it was ready (%v); see %s", err, logf.Name())
	case <-time.After(2 * time.Minute):
		return "", fmt.Errorf("not ready after 2 minutes; see %s", logf.Name())
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// findEngine looks for meridian-engine beside this binary, then on $PATH.
func findEngine() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "meridian-engine")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("meridian-engine"); err == nil {
		return p, nil
	}
	return "", errors.New("meridian-engine not found beside meridian or on $PATH: build it (make build) or pass --engine")
}

// demoUsersFile writes the demo users (bcrypt hashes of their demo
// passwords) unless the file exists.
func demoUsersFile(dir string) (string, error) {
	path := filepath.Join(dir, "users.yaml")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	var doc usersDoc
	for _, u := range demoUsers {
		h, err := server.HashPassword(demoPassword(u.name), 0)
		if err != nil {
			return "", err
		}
		doc.Users = append(doc.Users, server.User{Name: u.name, PasswordHash: h, Region: u.region, Groups: u.groups, Purposes: u.purposes, Roles: u.roles})
	}
	// Each password is the name followed by -demo (printDemoHelp says so).
	return path, writeUsersDoc(path, doc)
}

func printDemoHelp(w io.Writer, d *demoSystem, certFile string, took time.Duration) {
	host := strings.TrimPrefix(d.plainURL, "http://")
	fmt.Fprintf(w, "\nMeridian is up (%s): engines for eu, us and apac behind it.\n\n", took.Round(100*time.Millisecond))
	fmt.Fprintf(w, "Connect any Trino client (development mode, the user is taken on trust):\n")
	fmt.Fprintf(w, "  trino --server %s --user sam --catalog iceberg --schema us\n", d.plainURL)
	fmt.Fprintf(w, "  DSN for trino-go-client: http://sam@%s?catalog=iceberg&schema=us\n", host)
	if d.tlsURL != "" {
		fmt.Fprintf(w, "\nWith passwords over TLS on %s (password = user name + \"-demo\"):\n", d.tlsURL)
		fmt.Fprint(w, indent(server.TrustNote(certFile, strings.TrimPrefix(d.tlsURL, "https://"))))
	}
	fmt.Fprintf(w, "\nDemo users:")
	for _, u := range demoUsers {
		fmt.Fprintf(w, " %s (%s)", u.name, u.about)
	}
	fmt.Fprintf(w, "\n\nDeclare a purpose with SET SESSION purpose = 'analytics' (or the client tag purpose=analytics).\n")
	fmt.Fprintf(w, "\nFive statements to try, and what each does:\n")
	for i, e := range demoExamples {
		fmt.Fprintf(w, "  %d. as %s", i+1, e.user)
		if e.purpose != "" {
			fmt.Fprintf(w, ", purpose %s", e.purpose)
		}
		fmt.Fprintf(w, ": %s\n     %s\n", e.what, e.sql)
	}
	fmt.Fprintf(w, "\n`meridian demo check --server %s` runs them. Logs: .meridian/logs/. Ctrl-C stops everything.\n", d.plainURL)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}

// demoCheck runs the examples through the real Trino Go client and reports
// each outcome.
func demoCheck(ctx context.Context, st streams, serverURL string) int {
	failed := 0
	for i, e := range demoExamples {
		got, err := runExample(ctx, serverURL, e)
		ok := err == nil
		fmt.Fprintf(st.out, "%d. %-5s %s\n   %s\n", i+1, map[bool]string{true: "ok", false: "FAIL"}[ok], e.what, got)
		if !ok {
			fmt.Fprintf(st.out, "   %v\n", err)
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(st.out, "%d of %d examples did not do what they should\n", failed, len(demoExamples))
		return exitFailed
	}
	fmt.Fprintf(st.out, "all %d examples did what they should\n", len(demoExamples))
	return exitOK
}

// runExample runs e and says what happened; the error says how that differs
// from what should.
func runExample(ctx context.Context, serverURL string, e demoExample) (string, error) {
	u := strings.Replace(serverURL, "://", "://"+e.user+"@", 1)
	cfg := &trino.Config{ServerURI: u, Catalog: "iceberg", Schema: "eu", Source: "meridian-demo-check"}
	if e.purpose != "" {
		cfg.SessionProperties = map[string]string{"purpose": e.purpose}
	}
	seen := &clusterSeen{next: http.DefaultTransport}
	cfg.HTTPClient = &http.Client{Transport: seen}
	conn, err := trino.NewConnector(cfg)
	if err != nil {
		return "", err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	rows, err := db.QueryContext(ctx, e.sql)
	n := 0
	if err == nil {
		for rows.Next() {
			n++
		}
		err = rows.Err()
		rows.Close()
	}
	switch {
	case err != nil && e.errName == "":
		return "failed: " + err.Error(), errors.New("it should have run")
	case err != nil:
		msg := err.Error()
		var te trino.ErrTrino
		var tp *trino.ErrTrino
		switch {
		case errors.As(err, &te):
			msg = te.ErrorName + ": " + te.Message
		case errors.As(err, &tp):
			msg = tp.ErrorName + ": " + tp.Message
		}
		if !strings.HasPrefix(msg, e.errName+":") || !strings.Contains(msg, e.errHas) {
			return "failed: " + msg, fmt.Errorf("it should fail with %s naming %s", e.errName, e.errHas)
		}
		return "refused: " + firstLine(msg, 160), nil
	case e.errName != "":
		return fmt.Sprintf("ran on %s, %d rows", seen.cluster, n), fmt.Errorf("it should have been refused with %s", e.errName)
	case seen.cluster != e.cluster:
		return fmt.Sprintf("ran on %s, %d rows", seen.cluster, n), fmt.Errorf("it should have run on %s", e.cluster)
	}
	return fmt.Sprintf("ran on %s, %d rows", seen.cluster, n), nil
}

func firstLine(s string, n int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// clusterSeen remembers the cluster Meridian says served a query.
type clusterSeen struct {
	next    http.RoundTripper
	cluster string
}

func (c *clusterSeen) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil {
		if v := resp.Header.Get(server.HeaderCluster); v != "" {
			c.cluster = v
		}
	}
	return resp, err
}
