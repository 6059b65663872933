package main

import (
	"bufio"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/trinodb/trino-go-client/trino"
)

// The command starts, says where it listens, answers the real client and
// stops cleanly when its context ends.
func TestServeAndStop(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "meridian.yaml")
	cfg := "dir: " + dir + "\nstore: {path: " + filepath.Join(dir, "state.db") + "}\ncatalog:\n  catalogs:\n    iceberg: {type: sql, path: " + filepath.Join(dir, "catalog.db") + "}\n  regions:\n    - name: eu\n      locations: [\"file://" + filepath.Join(dir, "wh", "eu") + "\"]\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr strings.Builder
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--region", "eu", "--config", cfgPath, "--threads", "1"}, outW, &stderr)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("no readiness line: %v (stderr: %s)", err, stderr.String())
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "meridian-engine eu listening on ")
	if !ok {
		t.Fatalf("readiness line %q", line)
	}
	go io.Copy(io.Discard, outR)
	db, err := sql.Open("trino", strings.Replace(addr, "http://", "http://tester@", 1)+"?catalog=iceberg")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var s string
	if err := db.QueryRow("SHOW CATALOGS").Scan(&s); err != nil || s != "iceberg" {
		t.Fatalf("SHOW CATALOGS = %q, %v", s, err)
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit code %d; stderr:\n%s", c, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("did not stop")
	}
	if log := stderr.String(); !strings.Contains(log, `"msg":"query"`) || strings.Contains(log, "SHOW CATALOGS") {
		t.Errorf("query log line missing, or it holds the SQL text:\n%s", log)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("catalog:\n  catalogz: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--region", "eu"},
		{"--region", "eu", "--config", bad},
		{"--config", bad},
	} {
		var stderr strings.Builder
		if c := run(context.Background(), args, io.Discard, &stderr); c != 2 {
			t.Errorf("%v: exit %d, want 2", args, c)
		}
		if stderr.Len() == 0 {
			t.Errorf("%v: no message", args)
		}
	}
}
