package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/cluster"
)

// TestOutage stops the eu engine mid-test: EU-bound statements fail with
// NO_NODES_AVAILABLE and run nowhere else, US statements keep working, and
// once an engine is back on the same address Meridian uses it again within
// one health interval. It leaves the system whole (the file sorts last, so
// it also runs last).
func TestOutage(t *testing.T) {
	s := shared(t)
	ctx := context.Background()
	c := newRawClient(4)
	purpose := []string{"X-Trino-Session", "purpose=analytics"}
	euURL, err := url.Parse(s.engines["eu"])
	if err != nil {
		t.Fatal(err)
	}
	euBound := func() string { return "SELECT count(*) AS " + nonce() + " FROM iceberg.eu.bookings" }

	// Before: it runs on eu-1.
	if res, err := c.run(ctx, s.plain, euBound(), userHeader("anna", purpose...)); err != nil || res.Error != nil || res.Cluster != "eu-1" {
		t.Fatalf("before the outage: %v %+v on %q", err, res.Error, res.Cluster)
	}

	if err := syscall.Kill(s.pids["eu"], syscall.SIGKILL); err != nil {
		t.Fatalf("stop the eu engine (pid %d): %v", s.pids["eu"], err)
	}
	waitFor(t, 10*time.Second, "the eu engine's port to close", func() bool {
		conn, err := net.DialTimeout("tcp", euURL.Host, 200*time.Millisecond)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})

	// wantNoNodes runs an EU-bound statement and checks it was refused and
	// ran nowhere.
	wantNoNodes := func(t *testing.T, user, stmt string) {
		t.Helper()
		res, err := c.run(ctx, s.plain, stmt, userHeader(user, purpose...))
		if err != nil {
			t.Fatal(err)
		}
		if res.Error == nil || res.Error.ErrorName != "NO_NODES_AVAILABLE" || !strings.Contains(res.Error.Message, "eu") {
			t.Fatalf("%s as %s with eu down: %+v on %q, want NO_NODES_AVAILABLE naming eu", stmt, user, res.Error, res.Cluster)
		}
		for _, r := range []string{"us", "apac"} {
			if ls := s.findLog(t, r, byFingerprint(stmt)); len(ls) > 0 {
				t.Errorf("engine %s ran the EU-bound statement: %+v", r, ls)
			}
		}
	}
	t.Run("EUFailsBeforeHealthCheck", func(t *testing.T) {
		// Whether or not the checker has noticed yet, nothing falls over
		// to another region.
		wantNoNodes(t, "anna", euBound())
	})
	t.Run("EUFailsOnceUnhealthy", func(t *testing.T) {
		waitFor(t, cluster.DefaultHealthInterval+3*time.Second, "eu-1 to be marked unhealthy", func() bool {
			return s.clusters(t)["eu-1"].State == "unhealthy"
		})
		wantNoNodes(t, "anna", euBound())
		// An aggregate export may run only in the EU, too.
		wantNoNodes(t, "sam", "SELECT country, count(*) AS "+nonce()+" FROM iceberg.eu.guests GROUP BY country")
	})
	t.Run("USKeepsWorking", func(t *testing.T) {
		stmt := "SELECT count(*) AS " + nonce() + " FROM iceberg.us.bookings"
		res, err := c.run(ctx, s.plain, stmt, userHeader("sam", purpose...))
		if err != nil || res.Error != nil || res.Cluster != "us-1" || res.RowCount != 1 {
			t.Fatalf("%s with eu down: %v %+v on %q", stmt, err, res.Error, res.Cluster)
		}
	})
	t.Run("RecoversWithinOneHealthInterval", func(t *testing.T) {
		ready := s.restartEngine(t, "eu", euURL.Host)
		var last error
		for {
			stmt := euBound()
			res, err := c.run(ctx, s.plain, stmt, userHeader("anna", purpose...))
			switch {
			case err != nil:
				last = err
			case res.Error != nil:
				last = fmt.Errorf("%s: %s", res.Error.ErrorName, res.Error.Message)
			case res.Cluster != "eu-1":
				t.Fatalf("%s ran on %q, want eu-1", stmt, res.Cluster)
			default:
				took := time.Since(ready)
				t.Logf("EU statements run again %v after the engine was back (health interval %v)", took.Round(time.Millisecond), cluster.DefaultHealthInterval)
				// One interval, plus the check's own time and scheduling.
				if limit := cluster.DefaultHealthInterval + 1500*time.Millisecond; took > limit {
					t.Errorf("recovery took %v, want within one health interval (%v + 1.5 s)", took, cluster.DefaultHealthInterval)
				}
				if _, ok := s.waitLog(t, "eu", 5*time.Second, byFingerprint(stmt)); !ok {
					t.Errorf("the restarted eu engine did not log %s", stmt)
				}
				return
			}
			if time.Since(ready) > 3*cluster.DefaultHealthInterval+5*time.Second {
				t.Fatalf("EU statements still fail %v after the engine is back: %v", time.Since(ready), last)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// restartEngine starts region's engine again on addr, with the flags demo
// up uses, logging to the same file; it returns when the engine is ready.
func (s *system) restartEngine(t *testing.T, region, addr string) time.Time {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(s.dir, "logs", "engine-"+region+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(s.bin, "meridian-engine"), "--region", region, "--config", filepath.Join(s.dir, "engines.yaml"),
		"--listen", addr, "--cache-dir", filepath.Join(s.dir, "cache", region), "--threads", "2", "--memory-limit", "2GB")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.restarted = append(s.restarted, cmd)
	s.mu.Unlock()
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		found := false
		for sc.Scan() {
			if !found && strings.Contains(sc.Text(), "listening on http://"+addr) {
				found = true
				ready <- nil
			}
		}
		io.Copy(io.Discard, out)
		if !found {
			ready <- errors.New("the engine exited before it was ready; see its log")
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the restarted engine was not ready within a minute")
	}
	s.pids[region] = cmd.Process.Pid
	return time.Now()
}

// waitFor polls cond until it holds or within passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
