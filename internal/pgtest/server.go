package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/meridian-lake/meridian/internal/loopback"
)

// EnvBinDir names the environment variable that holds the directory of the
// PostgreSQL server binaries (initdb, postgres, pg_ctl), overriding the
// search of /usr/lib/postgresql.
const EnvBinDir = "MERIDIAN_PGBIN"

// binGlob is where Debian's postgresql packages put the server binaries, one
// directory per major version.
const binGlob = "/usr/lib/postgresql/*/bin"

const (
	// Superuser is the role the DSN connects as.
	Superuser = "postgres"
	// Database is the database Start creates for the test; the DSN names it.
	Database = "meridian_test"
	// systemUser runs the server when the tests run as root.
	systemUser = "postgres"
	// readyTimeout bounds the wait for the first `SELECT 1`; startup takes a
	// few hundred milliseconds, so this only matters on a stalled machine.
	readyTimeout = 30 * time.Second
	// stopTimeout is how long a fast shutdown has before SIGKILL.
	stopTimeout = 10 * time.Second
	// bindAttempts bounds the retries when another process takes the free
	// port between our probe and the postmaster's bind.
	bindAttempts = 5
)

// serverBinaries are the programs Start needs from the binary directory.
var serverBinaries = []string{"initdb", "postgres", "pg_ctl"}

// settings make the server fast and disposable: nothing is flushed to disk,
// WAL carries only what crash recovery of a running server needs, and no
// background work competes with the test. A crash loses the data, which a
// test never keeps.
var settings = []string{
	"listen_addresses=127.0.0.1",
	"fsync=off",
	"synchronous_commit=off",
	"full_page_writes=off",
	"wal_level=minimal",
	"max_wal_senders=0",
	"autovacuum=off",
	"jit=off",
	"shared_buffers=32MB",
	"max_connections=50",
	"huge_pages=off",
	"logging_collector=off",
	"log_destination=stderr",
}

// errAddrInUse reports that the postmaster exited because its port was taken.
var errAddrInUse = errors.New("address already in use")

// Server is a running PostgreSQL server with a database for the test.
type Server struct {
	// DSN is a pgx (and libpq) URL of Database on 127.0.0.1, as Superuser
	// with the server's random password and sslmode=disable.
	DSN string
	// Addr is the server's TCP address, 127.0.0.1:PORT.
	Addr string
}

// Start runs a new PostgreSQL server on a free loopback port with its data in
// a fresh temporary directory, waits until it answers `SELECT 1`, and creates
// Database. The server is stopped and its files removed when tb ends. Missing
// binaries fail the test with a hint to run `make tools`.
func Start(tb testing.TB) *Server {
	tb.Helper()
	started := time.Now()
	bin, err := findBinDir(os.Getenv(EnvBinDir), binGlob)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	owner, err := serverAccount()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	base := makeBase(tb, owner)
	password := rand.Text()
	if err := initdb(tb.Context(), bin, owner, base, password); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	initialized := time.Now()

	s := &Server{}
	for attempt := 1; attempt <= bindAttempts; attempt++ {
		port := loopback.FreePort(tb)
		s.Addr = net.JoinHostPort("127.0.0.1", port)
		logPath := filepath.Join(base, fmt.Sprintf("postgres-%d.log", attempt))
		p := launch(tb, bin, owner, base, port, logPath)
		err = ready(tb.Context(), p, dsn(s.Addr, password, "postgres"))
		if errors.Is(err, errAddrInUse) {
			p.retired = true
			continue
		}
		if err != nil {
			tb.Fatalf("pgtest: PostgreSQL on %s not ready: %v", s.Addr, err) // the cleanup prints its log
		}
		break
	}
	if err != nil {
		tb.Fatalf("pgtest: PostgreSQL could not bind a free port in %d attempts: %v", bindAttempts, err)
	}
	s.DSN = dsn(s.Addr, password, Database)
	tb.Logf("pgtest: PostgreSQL (%s) ready on %s after %v (initdb %v)", bin, s.Addr,
		time.Since(started).Round(time.Millisecond), initialized.Sub(started).Round(time.Millisecond))
	return s
}

// Open returns a database/sql handle (pgx driver) on the test's database,
// closed when tb ends.
func (s *Server) Open(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("pgx", s.DSN)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func dsn(addr, password, database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(Superuser, password),
		Host:     addr,
		Path:     "/" + database,
		RawQuery: "sslmode=disable&connect_timeout=5",
	}
	return u.String()
}

// ready polls `SELECT 1` on the postgres database until it succeeds, the
// process exits or readyTimeout passes, then creates Database. A query proves
// more than an open port: authentication works and recovery has finished.
func ready(ctx context.Context, p *process, adminDSN string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	// If the port was taken by someone else, an attempt may be talking to a
	// process that never answers; the postmaster's exit ends it at once.
	defer context.AfterFunc(p.exited, cancel)()
	db, err := sql.Open("pgx", adminDSN)
	if err != nil {
		return err
	}
	defer db.Close()

	backoff := 5 * time.Millisecond
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		var one int
		err = db.QueryRowContext(attempt, "SELECT 1").Scan(&one)
		cancelAttempt()
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
			backoff = min(2*backoff, 100*time.Millisecond)
			continue
		}
		select {
		case <-p.exited.Done():
			if strings.Contains(p.log(), "Address already in use") {
				return errAddrInUse
			}
			return fmt.Errorf("postgres exited: %v", p.err)
		default:
			return fmt.Errorf("no successful SELECT 1 within %v, last error: %w", readyTimeout, err)
		}
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+Database); err != nil {
		return fmt.Errorf("create database %s: %w", Database, err)
	}
	return nil
}

// account is who runs initdb, postgres and pg_ctl: the postgres system user
// when the tests run as root (cred set), else the current user.
type account struct {
	cred *syscall.Credential
}

func serverAccount() (account, error) {
	if os.Geteuid() != 0 {
		return account{}, nil
	}
	u, err := user.Lookup(systemUser)
	if err != nil {
		return account{}, fmt.Errorf("PostgreSQL refuses to run as root and there is no %q user to run it as (%v); run `make tools` to install PostgreSQL, which creates that user", systemUser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return account{}, fmt.Errorf("user %s: uid %q: %w", systemUser, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return account{}, fmt.Errorf("user %s: gid %q: %w", systemUser, u.Gid, err)
	}
	return account{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}, nil
}

// give makes path belong to the account.
func (a account) give(path string) error {
	if a.cred == nil {
		return nil
	}
	return os.Chown(path, int(a.cred.Uid), int(a.cred.Gid))
}

// command runs name as the account in dir. LC_ALL=C keeps the server's
// messages in English, which ready reads.
func (a account) command(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: a.cred}
	return cmd
}

// makeBase creates the server's directory. tb.TempDir is root-owned 0700,
// which the postgres user cannot enter, so the directory is made here, given
// to the account, and removed when tb ends (after the server has stopped:
// cleanups run last-registered first).
func makeBase(tb testing.TB, owner account) string {
	tb.Helper()
	base, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := os.RemoveAll(base); err != nil {
			tb.Errorf("pgtest: remove %s: %v", base, err)
		}
	})
	if err := owner.give(base); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	sock := filepath.Join(base, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	if err := owner.give(sock); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return base
}

// initdb creates the cluster in base/data with Superuser's password. The
// password goes through a file, not argv, so it stays out of ps.
func initdb(ctx context.Context, bin string, owner account, base, password string) error {
	pwfile := filepath.Join(base, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	if err := owner.give(pwfile); err != nil {
		return err
	}
	cmd := owner.command(ctx, base, filepath.Join(bin, "initdb"),
		"--pgdata", filepath.Join(base, "data"),
		"--username", Superuser,
		"--auth", "scram-sha-256",
		"--pwfile", pwfile,
		"--encoding", "UTF8",
		"--locale", "C",
		"--no-sync",
	)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// process is one postmaster run.
type process struct {
	cmd     *exec.Cmd
	logPath string
	exited  context.Context // canceled when the process has exited
	err     error           // Wait's result, set before exited is canceled
	retired bool            // set when Start gave up on it (port taken)
}

// launch starts the postmaster on 127.0.0.1:port and registers its shutdown.
func launch(tb testing.TB, bin string, owner account, base, port, logPath string) *process {
	tb.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	data := filepath.Join(base, "data")
	args := []string{"-D", data, "-p", port, "-c", "unix_socket_directories=" + filepath.Join(base, "sock")}
	for _, s := range settings {
		args = append(args, "-c", s)
	}
	// Not tied to tb.Context: that ends before the cleanups run, and the
	// server must get a fast shutdown, not a SIGKILL.
	cmd := owner.command(context.Background(), base, filepath.Join(bin, "postgres"), args...)
	cmd.SysProcAttr.Setpgid = true // so a kill reaches the backends too
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		tb.Fatalf("pgtest: start postgres: %v", err)
	}
	exited, markExited := context.WithCancel(context.Background())
	p := &process{cmd: cmd, logPath: logPath, exited: exited}
	go func() {
		p.err = cmd.Wait()
		markExited()
	}()
	tb.Cleanup(func() {
		exitedEarly := false
		select {
		case <-p.exited.Done():
			exitedEarly = !p.retired
		default:
			if err := p.stop(bin, owner, base, data); err != nil {
				tb.Errorf("pgtest: stop postgres on 127.0.0.1:%s: %v", port, err)
			}
		}
		if exitedEarly {
			tb.Errorf("pgtest: postgres on 127.0.0.1:%s exited during the test: %v", port, p.err)
		}
		if tb.Failed() && !p.retired {
			tb.Logf("pgtest: postgres log (%s):\n%s", logPath, p.log())
		}
	})
	return p
}

// stop asks for a fast shutdown (disconnect clients, no waiting for them)
// with pg_ctl and, if the postmaster has not exited within stopTimeout, kills
// its process group. An error means the fast shutdown failed; the process is
// gone either way.
func (p *process) stop(bin string, owner account, base, data string) error {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	cmd := owner.command(ctx, base, filepath.Join(bin, "pg_ctl"), "stop",
		"-D", data, "-m", "fast", "-w", "-t", strconv.Itoa(int(stopTimeout/time.Second)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		err = fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	select {
	case <-p.exited.Done():
		return err
	case <-ctx.Done():
	}
	if kerr := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); kerr != nil && !errors.Is(kerr, syscall.ESRCH) {
		err = errors.Join(err, fmt.Errorf("kill: %w", kerr))
	}
	<-p.exited.Done()
	return errors.Join(err, errors.New("killed after the fast shutdown did not finish"))
}

func (p *process) log() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	return string(b)
}

// findBinDir returns override if it holds the server binaries, else the
// newest major version matching pattern that does.
func findBinDir(override, pattern string) (string, error) {
	const hint = "run `make tools` to install the PostgreSQL server"
	if override != "" {
		if err := hasBinaries(override); err != nil {
			return "", fmt.Errorf("%s=%s: %w; %s", EnvBinDir, override, err, hint)
		}
		return override, nil
	}
	dirs, err := filepath.Glob(pattern)
	if err != nil {
		return "", err
	}
	slices.SortFunc(dirs, func(a, b string) int { return compareVersions(majorOf(b), majorOf(a)) })
	for _, d := range dirs {
		if hasBinaries(d) == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("PostgreSQL server binaries (%s) not found in %s, and $%s is not set; %s",
		strings.Join(serverBinaries, ", "), pattern, EnvBinDir, hint)
}

func hasBinaries(dir string) error {
	for _, name := range serverBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("%s is not an executable file", filepath.Join(dir, name))
		}
	}
	return nil
}

// majorOf is the version directory of a .../<version>/bin path ("15", "9.6").
func majorOf(binDir string) string { return filepath.Base(filepath.Dir(binDir)) }

// compareVersions orders dotted versions numerically, so 10 is newer than
// 9.6; a part that is not a number sorts below any number.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		x, y := -1, -1
		if i < len(as) {
			if n, err := strconv.Atoi(as[i]); err == nil {
				x = n
			}
		}
		if i < len(bs) {
			if n, err := strconv.Atoi(bs[i]); err == nil {
				y = n
			}
		}
		if x != y {
			return x - y
		}
	}
	return 0
}
