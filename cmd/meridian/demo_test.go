package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/s3test"
	"github.com/meridian-lake/meridian/internal/store"
)

// runDemoCLI runs meridian with args, isolated from the developer's
// MERIDIAN_* and AWS_* environment.
func runDemoCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	for _, k := range []string{"MERIDIAN_CONFIG", "MERIDIAN_DIR", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if _, set := os.LookupEnv(k); set {
			t.Setenv(k, "")
		}
	}
	return runCLI(t, "", args...)
}

// summaryRows parses the summary table: table name → its cells.
func summaryRows(t *testing.T, out string) (rows map[string][]string, total []string) {
	t.Helper()
	rows = map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case strings.HasPrefix(f[0], "iceberg."):
			if len(f) != 7 { // name region class rows files size unit
				t.Fatalf("summary row %q has %d fields, want 7", line, len(f))
			}
			rows[f[0]] = f
		case f[0] == "total":
			total = f
		}
	}
	return rows, total
}

func count(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
	if err != nil {
		t.Fatalf("%q is not a count: %v", s, err)
	}
	return n
}

// openDemoCatalog opens the catalog a command configured by path would use.
func openDemoCatalog(t *testing.T, cfg Config) *catalog.Catalog {
	t.Helper()
	db, err := store.Open(context.Background(), cfg.Store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cat, err := catalog.New(context.Background(), cfg.Catalog, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	return cat
}

func TestDemoInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lake")
	code, stdout, stderr := runDemoCLI(t, "demo", "init", "--dir", dir, "--bookings", "2000", "--guests", "200")
	if code != exitOK {
		t.Fatalf("demo init = %d, want %d; stderr:\n%s", code, exitOK, stderr)
	}
	rows, total := summaryRows(t, stdout)
	want := map[string]struct {
		region, class string
		rows          int64 // 0: any
	}{
		"iceberg.global.listings": {"us", "public", 5000},
		"iceberg.eu.guests":       {"eu", "personal", 200},
		"iceberg.eu.guest_health": {"eu", "special", 0},
		"iceberg.eu.bookings":     {"eu", "personal", 2000},
		"iceberg.us.guests":       {"us", "personal", 200},
		"iceberg.us.bookings":     {"us", "personal", 2000},
		"iceberg.apac.guests":     {"apac", "personal", 200},
		"iceberg.apac.bookings":   {"apac", "personal", 2000},
		"iceberg.tpch.region":     {"us", "internal", 5},
		"iceberg.tpch.nation":     {"us", "internal", 25},
		"iceberg.tpch.part":       {"us", "internal", 2000},
		"iceberg.tpch.supplier":   {"us", "internal", 100},
		"iceberg.tpch.partsupp":   {"us", "internal", 8000},
		"iceberg.tpch.customer":   {"us", "internal", 1500},
		"iceberg.tpch.orders":     {"us", "internal", 15000},
		"iceberg.tpch.lineitem":   {"us", "internal", 0},
	}
	if len(rows) != len(want) {
		t.Errorf("summary lists %d tables, want %d:\n%s", len(rows), len(want), stdout)
	}
	var sumRows, sumFiles int64
	for name, w := range want {
		r, ok := rows[name]
		if !ok {
			t.Errorf("summary lacks %s:\n%s", name, stdout)
			continue
		}
		n := count(t, r[3])
		sumRows += n
		sumFiles += count(t, r[4])
		if r[1] != w.region || r[2] != w.class || w.rows != 0 && n != w.rows || n == 0 {
			t.Errorf("summary row %v, want region %s, class %s, %d rows", r, w.region, w.class, w.rows)
		}
	}
	// total (16 tables) ROWS FILES size unit
	if len(total) != 7 || total[1] != "(16" || count(t, total[3]) != sumRows || count(t, total[4]) != sumFiles {
		t.Errorf("total row %v, want 16 tables, %d rows, %d files", total, sumRows, sumFiles)
	}
	if !strings.Contains(stdout, "regions:  eu, us, apac\n") || !strings.Contains(stdout, "file://"+filepath.Join(dir, "warehouse")) {
		t.Errorf("summary lacks the regions or the storage:\n%s", stdout)
	}
	if !strings.Contains(stderr, "eu.bookings: 2,000 rows, ") {
		t.Errorf("progress lacks eu.bookings:\n%s", stderr)
	}

	// The lake is there for the commands that follow, with the defaults in dir.
	cfg, err := Config{Dir: dir}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	info, err := openDemoCatalog(t, cfg).Resolve(context.Background(), catalog.TableRef{Catalog: "iceberg", Schema: "eu", Table: "bookings"})
	if err != nil {
		t.Fatalf("Resolve(iceberg.eu.bookings) after demo init: %v", err)
	}
	if info.Region != "eu" || info.Snapshot == nil || info.Snapshot.Records != 2000 {
		t.Errorf("iceberg.eu.bookings: region %s, snapshot %+v; want eu with 2000 rows", info.Region, info.Snapshot)
	}

	code, stdout, stderr = runDemoCLI(t, "demo", "init", "--dir", dir, "--bookings", "2000", "--guests", "200")
	if code != exitFailed || stdout != "" || !strings.Contains(stderr, "--reset") {
		t.Errorf("second demo init = %d, stdout %q, stderr:\n%s\nwant %d, nothing on stdout and a hint to use --reset", code, stdout, stderr, exitFailed)
	}
	code, stdout, stderr = runDemoCLI(t, "demo", "init", "--dir", dir, "--bookings", "1500", "--guests", "200", "--reset")
	if code != exitOK {
		t.Fatalf("demo init --reset = %d; stderr:\n%s", code, stderr)
	}
	if rows, _ := summaryRows(t, stdout); rows["iceberg.eu.bookings"] == nil || rows["iceberg.eu.bookings"][3] != "1,500" {
		t.Errorf("after --reset --bookings 1500 the summary shows %v", rows["iceberg.eu.bookings"])
	}
}

func TestDemoUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no subcommand", []string{"demo"}, "want a subcommand: init"},
		{"unknown subcommand", []string{"demo", "build"}, `unknown subcommand "build"`},
		{"extra argument", []string{"demo", "init", "now"}, "init takes no arguments"},
		{"dir and config", []string{"demo", "init", "--dir", dir, "--config", "x.yaml"}, "not both"},
		{"no bookings", []string{"demo", "init", "--dir", dir, "--bookings", "0"}, "must be positive"},
		{"bad scale", []string{"demo", "init", "--dir", dir, "--tpch-scale", "0.001"}, "scale"},
		{"bad flag", []string{"demo", "init", "--nope"}, "flag provided but not defined"},
		{"endpoint without scheme", []string{"demo", "init", "--dir", dir, "--s3-endpoint", "localhost:9000"}, "http://"},
		{"one key", []string{"demo", "init", "--dir", dir, "--s3-endpoint", "http://127.0.0.1:1", "--s3-access-key", "a"}, "both"},
		{"missing config", []string{"demo", "init", "--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runDemoCLI(t, tc.args...)
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("run(%q) = %d, stdout %q, stderr:\n%s\nwant %d and %q", tc.args, code, stdout, stderr, exitUsage, tc.stderr)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("usage errors wrote into the directory: %v", entries)
	}
	code, stdout, _ := runDemoCLI(t, "help", "demo")
	if code != exitOK || !strings.Contains(stdout, "Usage: meridian demo init") || !strings.Contains(stdout, "--s3-endpoint") {
		t.Errorf("help demo = %d:\n%s", code, stdout)
	}
}

// TestDemoInitS3 builds the lake in a real S3 server and checks the
// meridian.yaml it writes lets a later command find the tables, with the
// keys from the environment rather than the file.
func TestDemoInitS3(t *testing.T) {
	srv := s3test.Start(t)
	dir := t.TempDir()
	code, stdout, stderr := runDemoCLI(t, "demo", "init", "--dir", dir, "--s3-endpoint", srv.Endpoint,
		"--s3-access-key", srv.AccessKey, "--s3-secret-key", srv.SecretKey, "--bookings", "1000", "--guests", "100")
	if code != exitOK {
		t.Fatalf("demo init --s3-endpoint = %d; stderr:\n%s", code, stderr)
	}
	path := filepath.Join(dir, "meridian.yaml")
	if !strings.Contains(stdout, "config:   "+path) || !strings.Contains(stdout, "s3://lake-<region> at "+srv.Endpoint) {
		t.Errorf("summary does not name the config file and the buckets:\n%s", stdout)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), srv.SecretKey) || strings.Contains(string(body), srv.AccessKey) {
		t.Errorf("meridian.yaml holds the S3 keys:\n%s", body)
	}

	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("MERIDIAN_DIR", "")
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatalf("loadConfig(%s): %v\n%s", path, err, body)
	}
	if s3 := cfg.Catalog.Catalogs["iceberg"].S3; s3.Endpoint != srv.Endpoint || !s3.PathStyle {
		t.Errorf("meridian.yaml S3 settings = %+v, want endpoint %s, path style", s3, srv.Endpoint)
	}
	info, err := openDemoCatalog(t, cfg).Resolve(context.Background(), catalog.TableRef{Catalog: "iceberg", Schema: "apac", Table: "bookings"})
	if err != nil {
		t.Fatalf("Resolve(iceberg.apac.bookings) through meridian.yaml: %v", err)
	}
	if info.Location != "s3://lake-apac/apac/bookings" || info.Snapshot == nil || info.Snapshot.Records != 1000 {
		t.Errorf("iceberg.apac.bookings: location %s, snapshot %+v; want s3://lake-apac/apac/bookings with 1000 rows", info.Location, info.Snapshot)
	}
}
