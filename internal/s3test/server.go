package s3test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/meridian-lake/meridian/internal/loopback"
)

// EnvBinary names the environment variable that holds the path of the
// versitygw binary; the Makefile sets it for `make test`.
const EnvBinary = "MERIDIAN_VERSITYGW"

const (
	// region is what versitygw is told to serve and what clients sign for.
	region = "us-east-1"
	// readyTimeout bounds the wait for the first signed request to succeed;
	// startup takes tens of milliseconds, so this only matters on a stalled
	// machine.
	readyTimeout = 20 * time.Second
	// stopTimeout is how long SIGTERM has before SIGKILL.
	stopTimeout = 5 * time.Second
	// bindAttempts bounds the retries when another process takes the free
	// port between our probe and versitygw's bind.
	bindAttempts = 5
)

// errAddrInUse reports that versitygw exited because its port was taken.
var errAddrInUse = errors.New("address already in use")

// Server is a running versitygw reachable at Endpoint with the root keys.
type Server struct {
	// Endpoint is the base URL, http://127.0.0.1:PORT.
	Endpoint string
	// Region is the region requests are signed for, always us-east-1.
	Region string
	// AccessKey and SecretKey are the root credentials, random per server.
	AccessKey, SecretKey string
	// Dir is the posix backend's root: each bucket is a directory in it and
	// each object a file below that, so tests may inspect what was written.
	Dir string
}

// Start runs a new versitygw on a free loopback port with its posix root in a
// temporary directory, waits until it answers a signed ListBuckets, and
// creates buckets. The process is stopped when tb ends. A missing binary
// fails the test: integration tests never skip silently.
func Start(tb testing.TB, buckets ...string) *Server {
	tb.Helper()
	bin := binary(tb)
	base := tb.TempDir()
	s := &Server{
		Region:    region,
		AccessKey: rand.Text(),
		SecretKey: rand.Text(),
		Dir:       filepath.Join(base, "root"),
	}
	if err := os.Mkdir(s.Dir, 0o755); err != nil {
		tb.Fatalf("s3test: %v", err)
	}

	var err error
	for attempt := 1; attempt <= bindAttempts; attempt++ {
		port := loopback.FreePort(tb)
		s.Endpoint = "http://127.0.0.1:" + port
		logPath := filepath.Join(base, fmt.Sprintf("versitygw-%d.log", attempt))
		started := time.Now()
		p := launch(tb, bin, s, port, logPath)
		if err = s.waitReady(tb.Context(), p); errors.Is(err, errAddrInUse) {
			p.retired = true
			continue
		}
		if err != nil {
			tb.Fatalf("s3test: versitygw on %s not ready: %v", s.Endpoint, err) // the cleanup prints its log
		}
		tb.Logf("s3test: versitygw ready on %s after %v", s.Endpoint, time.Since(started).Round(time.Millisecond))
		break
	}
	if err != nil {
		tb.Fatalf("s3test: versitygw could not bind a free port in %d attempts: %v", bindAttempts, err)
	}

	c := s.Client(tb)
	for _, b := range buckets {
		if _, err := c.CreateBucket(tb.Context(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			tb.Fatalf("s3test: create bucket %s: %v", b, err)
		}
	}
	return s
}

// Client returns an S3 client for s signed with the root keys. Its idle
// connections are closed when tb ends.
func (s *Server) Client(tb testing.TB) *s3.Client {
	tb.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	tb.Cleanup(transport.CloseIdleConnections)
	return s.client(transport, 0)
}

// client builds a path-style client; maxAttempts 0 keeps the SDK's retries.
func (s *Server) client(transport *http.Transport, maxAttempts int) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint:     aws.String(s.Endpoint),
		Region:           s.Region,
		Credentials:      credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		UsePathStyle:     true,
		HTTPClient:       &http.Client{Transport: transport},
		RetryMaxAttempts: maxAttempts,
		// versitygw does not return checksums on every response; the SDK
		// would otherwise log that it skipped validating them.
		DisableLogOutputChecksumValidationSkipped: true,
	})
}

// Props returns the iceberg-go FileIO properties (io.S3EndpointURL and
// friends in iceberg-go v0.7.0 io/config.go) that reach s with path-style
// addressing.
func (s *Server) Props() map[string]string {
	return map[string]string{
		"s3.endpoint":                 s.Endpoint,
		"s3.region":                   s.Region,
		"s3.access-key-id":            s.AccessKey,
		"s3.secret-access-key":        s.SecretKey,
		"s3.force-virtual-addressing": "false",
	}
}

// waitReady polls a signed ListBuckets until it succeeds, the process exits
// or readyTimeout passes. A signed request proves more than an open port:
// the keys, the backend directory and the S3 router all work.
func (s *Server) waitReady(ctx context.Context, p *process) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	defer transport.CloseIdleConnections()
	// One attempt per poll: the loop below is the retry policy.
	c := s.client(transport, 1)

	backoff := 5 * time.Millisecond
	var last error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, time.Second)
		_, err := c.ListBuckets(attempt, &s3.ListBucketsInput{})
		cancelAttempt()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-p.done:
			if strings.Contains(p.log(), "address already in use") {
				return errAddrInUse
			}
			return fmt.Errorf("versitygw exited: %v", p.err)
		case <-ctx.Done():
			return fmt.Errorf("no successful ListBuckets within %v, last error: %w", readyTimeout, last)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// process is one versitygw run.
type process struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // Wait's result, set before done closes
	retired bool          // set when Start gave up on it (port taken)
}

// launch starts versitygw on 127.0.0.1:port and registers its shutdown.
func launch(tb testing.TB, bin string, s *Server, port, logPath string) *process {
	tb.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatalf("s3test: %v", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(bin,
		"--port", "127.0.0.1:"+port,
		"--region", s.Region,
		"--quiet", // no line per request; startup and errors still go to the log
		"posix", s.Dir,
	)
	// Keys go through the environment, not argv, so they stay out of ps.
	cmd.Env = append(os.Environ(),
		"ROOT_ACCESS_KEY_ID="+s.AccessKey,
		"ROOT_SECRET_ACCESS_KEY="+s.SecretKey,
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		tb.Fatalf("s3test: start %s: %v", bin, err)
	}
	p := &process{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() {
		exitedEarly := false
		select {
		case <-p.done:
			exitedEarly = !p.retired
		default:
			p.stop()
		}
		if exitedEarly {
			tb.Errorf("s3test: versitygw on 127.0.0.1:%s exited during the test: %v", port, p.err)
		}
		if tb.Failed() && !p.retired {
			tb.Logf("s3test: versitygw log (%s):\n%s", logPath, p.log())
		}
	})
	return p
}

// stop sends SIGTERM and, if the process has not exited after stopTimeout,
// SIGKILL; it returns once the process has exited.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(stopTimeout):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// log returns what the process has written so far.
func (p *process) log() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	return string(b)
}

// Version is the versitygw release the Makefile installs and the tests use.
const Version = "v1.8.0"

// binary finds versitygw: $MERIDIAN_VERSITYGW if set, else where `make tools`
// installs it (.cache/versitygw-<Version>/ in the module root), else PATH.
func binary(tb testing.TB) string {
	tb.Helper()
	const hint = "run `make tools` to install it"
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("s3test: %s=%s: %v; %s", EnvBinary, p, err, hint)
		}
		return p
	}
	if root, ok := moduleRoot(); ok {
		p := filepath.Join(root, ".cache", "versitygw-"+Version, "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	tb.Fatalf("s3test: versitygw not found in $%s, .cache/versitygw-%s or PATH; %s", EnvBinary, Version, hint)
	return ""
}

// moduleRoot walks up from the working directory to the directory holding
// go.mod; go test runs each package in its own directory.
func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
