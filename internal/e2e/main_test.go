package e2e

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/meridian-lake/meridian/catalog"
)

// The system every test and benchmark shares: one demo lake, one
// `meridian demo up` process (Meridian and one engine per region).
var sys *system

// system is the running demo, as its readiness line describes it.
type system struct {
	dir     string            // the demo directory (lake, logs, users, certificate)
	bin     string            // directory holding meridian and meridian-engine
	plain   string            // Meridian, development mode (X-Trino-User trusted)
	tls     string            // Meridian, HTTPS with passwords
	engines map[string]string // region → engine base URL
	pids    map[string]int    // region → engine process id
	pid     int               // the demo up process, which is Meridian
	cmd     *exec.Cmd

	mu        sync.Mutex
	restarted []*exec.Cmd // engines a test started again itself
}

// viewName is a view in the us namespace over EU personal data, created in
// the demo lake before the system starts.
const viewName = "iceberg.us.guest_emails"

func TestMain(m *testing.M) {
	if upstream := os.Getenv(bareProxyEnv); upstream != "" {
		runBareProxy(upstream) // a child of BenchmarkAddedLatency
		return
	}
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) (code int) {
	// Children get SIGTERM if this thread dies (Pdeathsig is per thread):
	// keep TestMain on one thread so a crashed test run leaves no demo
	// behind.
	runtime.LockOSThread()
	tmp, err := os.MkdirTemp("", "meridian-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer func() {
		if os.Getenv("MERIDIAN_E2E_KEEP") != "" {
			fmt.Fprintf(os.Stderr, "e2e: kept the demo directory %s (logs in demo/logs)\n", tmp)
			return
		}
		os.RemoveAll(tmp)
	}()
	s, err := start(tmp)
	if s != nil {
		defer s.stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the demo system:", err)
		return 1
	}
	sys = s
	return m.Run()
}

// start builds the binaries, creates the lake and starts demo up.
func start(tmp string) (*system, error) {
	s := &system{dir: filepath.Join(tmp, "demo"), bin: filepath.Join(tmp, "bin")}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, name := range []string{"meridian", "meridian-engine"} {
		wg.Go(func() {
			cmd := exec.Command("go", "build", "-o", filepath.Join(s.bin, name), "github.com/meridian-lake/meridian/cmd/"+name)
			cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("go build %s: %v\n%s", name, err, out)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	init := exec.Command(filepath.Join(s.bin, "meridian"), "demo", "init", "--dir", s.dir, "--bookings", "2000", "--guests", "500")
	if out, err := init.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("demo init: %v\n%s", err, out)
	}
	if err := createView(s.dir); err != nil {
		return nil, fmt.Errorf("create the view: %w", err)
	}
	return s, s.up()
}

// createView adds viewName (SELECT email FROM iceberg.eu.guests) to the
// demo lake's catalog, configured as meridian's defaults configure it.
func createView(dir string) error {
	ctx := context.Background()
	cfg := catalog.Config{Catalogs: map[string]catalog.IcebergConfig{"iceberg": {Type: "sql", Driver: "sqlite",
		Path: filepath.Join(dir, "catalog.db"), Warehouse: "file://" + filepath.Join(dir, "warehouse", "default")}}}
	for _, r := range []string{"eu", "us", "apac"} {
		cfg.Regions = append(cfg.Regions, catalog.Region{Name: r, Locations: []string{"file://" + filepath.Join(dir, "warehouse", r)}})
	}
	cat, err := catalog.New(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer cat.Close()
	ice, err := cat.Iceberg(ctx, "iceberg")
	if err != nil {
		return err
	}
	vc, ok := ice.(interface {
		CreateView(ctx context.Context, id table.Identifier, sc *iceberg.Schema, sql string, props iceberg.Properties) error
	})
	if !ok {
		return errors.New("the SQL catalog does not create views")
	}
	sc := iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: "email", Type: iceberg.PrimitiveTypes.String})
	return vc.CreateView(ctx, table.Identifier{"us", "guest_emails"}, sc, "SELECT email FROM iceberg.eu.guests", nil)
}

// up starts demo up in its own process group and waits for its readiness
// line.
func (s *system) up() error {
	cmd := exec.Command(filepath.Join(s.bin, "meridian"), "demo", "up", "--dir", s.dir,
		"--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--engine", filepath.Join(s.bin, "meridian-engine"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	errFile, err := os.Create(filepath.Join(filepath.Dir(s.dir), "demo-up.stderr"))
	if err != nil {
		return err
	}
	cmd.Stderr = errFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.pid = cmd, cmd.Process.Pid
	ready := make(chan string, 1)
	exited := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "meridian ready ") {
				ready <- sc.Text()
			}
		}
		io.Copy(io.Discard, out)
		close(exited)
	}()
	select {
	case line := <-ready:
		return s.parseReady(line)
	case <-exited:
		b, _ := os.ReadFile(errFile.Name())
		return fmt.Errorf("demo up exited before it was ready:\n%s", b)
	case <-time.After(3 * time.Minute):
		return errors.New("demo up printed no readiness line within 3 minutes")
	}
}

// parseReady reads "meridian ready http=URL https=URL engine.eu=URL pid.eu=N …".
func (s *system) parseReady(line string) error {
	s.engines, s.pids = map[string]string{}, map[string]int{}
	for _, f := range strings.Fields(strings.TrimPrefix(line, "meridian ready ")) {
		k, v, _ := strings.Cut(f, "=")
		switch {
		case k == "http":
			s.plain = v
		case k == "https":
			s.tls = v
		case strings.HasPrefix(k, "engine."):
			s.engines[strings.TrimPrefix(k, "engine.")] = v
		case strings.HasPrefix(k, "pid."):
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("readiness line %q: %v", line, err)
			}
			s.pids[strings.TrimPrefix(k, "pid.")] = n
		}
	}
	if s.plain == "" || s.tls == "" || len(s.engines) != 3 || len(s.pids) != 3 {
		return fmt.Errorf("readiness line %q lacks URLs or engine pids", line)
	}
	return nil
}

// stop ends demo up (SIGTERM, which stops its engines cleanly), then kills
// whatever is left of its process group and of engines tests restarted.
func (s *system) stop() {
	s.mu.Lock()
	restarted := s.restarted
	s.mu.Unlock()
	for _, c := range restarted {
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		c.Wait()
	}
	if s.cmd == nil {
		return
	}
	syscall.Kill(-s.pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
	}
	syscall.Kill(-s.pid, syscall.SIGKILL)
	<-done
}

// system returns the shared system, skipping when there is none.
func shared(tb testing.TB) *system {
	tb.Helper()
	if sys == nil {
		tb.Fatal("the demo system is not running (see TestMain's output)")
	}
	return sys
}
