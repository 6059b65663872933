package engine

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"
	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/s3test"
)

func warehouse(dir, region, ns, name string) string {
	return "file://" + filepath.Join(dir, "warehouse", region, ns, name)
}

var usSession = Session{User: "alice", Catalog: "iceberg", Schema: "us"}

// TestConfinement: the engine of region us refuses a table stored in the eu
// warehouse with PERMISSION_DENIED naming the location, while the eu engine
// reads it; paths that climb out of an allowed prefix are refused too.
func TestConfinement(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cat := testCatalog(t, dir, catalog.S3Config{})
	loc := warehouse(dir, "eu", "eu", "people")
	createSmall(t, cat, "eu", "people", loc, nil, map[int64]string{1: "ada", 2: "bea"})
	us, eu := regionLake(t, cat, dir, "us"), regionLake(t, cat, dir, "eu")
	conn := duckConn(t)

	_, err := run(context.Background(), us, conn, "SELECT count(*) FROM iceberg.eu.people", usSession)
	if trinoCode(err) != "PERMISSION_DENIED" {
		t.Fatalf("us engine reading eu.people: %v, want PERMISSION_DENIED", err)
	}
	for _, want := range []string{"this cluster (region us) cannot read " + loc, "line 1:22"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if got := mustRun(t, eu, conn, "SELECT name FROM iceberg.eu.people ORDER BY id", usSession); flat(got) != "ada\nbea\n" {
		t.Errorf("eu engine rows = %q, want ada, bea", flat(got))
	}
	// A view in the us schema that reads the eu table is refused the same
	// way: a view never hides the tables it reads.
	ic, err := cat.Iceberg(context.Background(), "iceberg")
	if err != nil {
		t.Fatal(err)
	}
	if err := ic.CreateNamespace(context.Background(), table.Identifier{"us"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ic.(*sqlcat.Catalog).CreateView(context.Background(), table.Identifier{"us", "people_view"}, smallSchema,
		"SELECT * FROM iceberg.eu.people", nil); err != nil {
		t.Fatal(err)
	}
	_, err = run(context.Background(), us, conn, "SELECT *\nFROM people_view", usSession)
	if trinoCode(err) != "PERMISSION_DENIED" || !strings.Contains(err.Error(), loc) || !strings.HasPrefix(err.Error(), "line 2:6: view iceberg.us.people_view: ") {
		t.Errorf("us engine reading a view over eu.people: %v, want PERMISSION_DENIED naming %s", err, loc)
	}
	for _, p := range []string{
		warehouse(dir, "us", "..", "eu") + "/x.parquet",
		"s3://lake-us/../lake-eu/x.parquet",
		"s3://lake-us2/x.parquet",
		"s3://lake-eu/us/x.parquet",
	} {
		if err := us.confine(p); err == nil {
			t.Errorf("confine(%q) = nil, want PERMISSION_DENIED", p)
		}
	}
	for _, p := range []string{warehouse(dir, "us", "us", "t") + "/data/x.parquet", "s3://lake-us/us/t/data/x.parquet", "s3a://lake-us/x"} {
		if err := us.confine(p); err != nil {
			t.Errorf("confine(%q) = %v, want nil", p, err)
		}
	}
}

// TestTimeTravel: FOR VERSION AS OF an older snapshot and FOR TIMESTAMP AS
// OF a time before the second append return the old rows.
func TestTimeTravel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cat := testCatalog(t, dir, catalog.S3Config{})
	tbl := createSmall(t, cat, "us", "events", warehouse(dir, "us", "us", "events"), nil, map[int64]string{1: "one"})
	first := tbl.CurrentSnapshot()
	time.Sleep(5 * time.Millisecond) // snapshot timestamps are in milliseconds
	appendSmall(t, tbl, map[int64]string{2: "two"})
	cat.Invalidate(catalog.TableRef{Catalog: "iceberg", Schema: "us", Table: "events"})
	l := regionLake(t, cat, dir, "us")
	conn := duckConn(t)

	tests := []struct{ name, sql, want string }{
		{"current", "SELECT id, name FROM events ORDER BY id", "1|one\n2|two\n"},
		{"version", "SELECT id, name FROM events FOR VERSION AS OF " + strconv.FormatInt(first.SnapshotID, 10) + " ORDER BY id", "1|one\n"},
		{"timestamp", "SELECT id FROM events FOR TIMESTAMP AS OF TIMESTAMP '" +
			time.UnixMilli(first.TimestampMs).UTC().Format("2006-01-02 15:04:05.000") + " UTC' ORDER BY id", "1\n"},
		{"old and new joined", "SELECT n.id FROM events n LEFT JOIN events FOR VERSION AS OF " +
			strconv.FormatInt(first.SnapshotID, 10) + " o ON n.id = o.id WHERE o.id IS NULL", "2\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := flat(mustRun(t, l, conn, tc.sql, usSession)); got != tc.want {
				t.Errorf("%s = %q, want %q", tc.sql, got, tc.want)
			}
		})
	}
	_, err := run(context.Background(), l, conn, "SELECT * FROM events FOR VERSION AS OF 12345", usSession)
	if trinoCode(err) != "GENERIC_USER_ERROR" || !strings.Contains(err.Error(), "snapshot ID does not exist: 12345") {
		t.Errorf("unknown snapshot: %v", err)
	}
}

// TestDeleteFiles: a merge-on-read delete (position delete files, written by
// iceberg-go) and a copy-on-write delete both hide the deleted rows.
func TestDeleteFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cat := testCatalog(t, dir, catalog.S3Config{})
	rows := map[int64]string{1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}
	mor := createSmall(t, cat, "us", "mor", warehouse(dir, "us", "us", "mor"),
		iceberg.Properties{"format-version": "2", table.WriteDeleteModeKey: table.WriteModeMergeOnRead}, rows)
	cow := createSmall(t, cat, "us", "cow", warehouse(dir, "us", "us", "cow"), nil, rows)
	ctx := context.Background()
	mor, err := mor.Delete(ctx, iceberg.EqualTo(iceberg.Reference("id"), int64(3)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := mor.CurrentSnapshot().Summary.Properties["total-delete-files"]; n == "" || n == "0" {
		t.Fatalf("merge-on-read delete wrote %q delete files, want some", n)
	}
	if _, err := cow.Delete(ctx, iceberg.EqualTo(iceberg.Reference("id"), int64(3)), nil); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"mor", "cow"} {
		cat.Invalidate(catalog.TableRef{Catalog: "iceberg", Schema: "us", Table: n})
	}
	l := regionLake(t, cat, dir, "us")
	conn := duckConn(t)
	for _, n := range []string{"mor", "cow"} {
		got := flat(mustRun(t, l, conn, "SELECT id, name FROM "+n+" WHERE id > 1 ORDER BY id", usSession))
		if want := "2|b\n4|d\n5|e\n"; got != want {
			t.Errorf("%s: rows %q, want %q", n, got, want)
		}
	}
	// The materialised file is removed on Release.
	c, err := l.Compile(ctx, conn, "SELECT * FROM mor", usSession, nil)
	if err != nil {
		t.Fatal(err)
	}
	tmp, _ := filepath.Glob(filepath.Join(l.tmpDir(), "materialised-*"))
	c.Release()
	after, _ := filepath.Glob(filepath.Join(l.tmpDir(), "materialised-*"))
	if len(tmp) != 1 || len(after) != 0 {
		t.Errorf("materialised files: %d while compiled, %d after Release; want 1 and 0", len(tmp), len(after))
	}
}

// TestEmptyTable: a table without snapshots reads as no rows of the right
// types.
func TestEmptyTable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cat := testCatalog(t, dir, catalog.S3Config{})
	createSmall(t, cat, "us", "nothing", warehouse(dir, "us", "us", "nothing"), nil, nil)
	l := regionLake(t, cat, dir, "us")
	conn := duckConn(t)
	got := mustRun(t, l, conn, "SELECT count(*), max(name), sum(id), typeof(max(id)) FROM nothing", usSession)
	if diff := cmp.Diff(got, [][]string{{"0", "NULL", "NULL", "bigint"}}); diff != "" {
		t.Errorf("empty table (-got +want):\n%s", diff)
	}
}

// TestNames: unqualified names take the session's catalog and schema, WITH
// names shadow tables, views expand, and missing names fail as Trino does.
func TestNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cat := testCatalog(t, dir, catalog.S3Config{})
	createSmall(t, cat, "us", "t", warehouse(dir, "us", "us", "t"), nil, map[int64]string{1: "x", 2: "y"})
	ic, err := cat.Iceberg(context.Background(), "iceberg")
	if err != nil {
		t.Fatal(err)
	}
	if err := ic.(*sqlcat.Catalog).CreateView(context.Background(), table.Identifier{"us", "v"}, smallSchema,
		"SELECT id * 10 AS id FROM t WHERE name = 'y'", nil); err != nil {
		t.Fatal(err)
	}
	l := regionLake(t, cat, dir, "us")
	conn := duckConn(t)
	ok := []struct{ name, sql string }{
		{"1|x\n2|y\n", "SELECT id, name FROM t ORDER BY 1"},
		{"2\n", "SELECT count(*) FROM us.t"},
		{"42\n", "WITH t AS (SELECT 42 AS id) SELECT id FROM t"},
		{"20\n", "SELECT id FROM v"},
		{"y\n", "SELECT name FROM t WHERE id = ?"},
		{"3\n", "SELECT 7 / 2"},
		{"bigint|3\n", "SELECT typeof(sum(id)), sum(id) FROM t"},
	}
	for _, tc := range ok {
		if got := flat(mustRun(t, l, conn, tc.sql, usSession, "2")); got != tc.name {
			t.Errorf("%s = %q, want %q", tc.sql, got, tc.name)
		}
	}
	bad := []struct {
		sql  string
		sess Session
		code string
	}{
		{"SELECT * FROM t", Session{Catalog: "iceberg"}, "MISSING_SCHEMA_NAME"},
		{"SELECT * FROM t", Session{}, "MISSING_CATALOG_NAME"},
		{"SELECT * FROM us.t", Session{}, "MISSING_CATALOG_NAME"},
		{"SELECT * FROM nope", usSession, "TABLE_NOT_FOUND"},
		{"SELECT * FROM other.us.t", usSession, "CATALOG_NOT_FOUND"},
		{"INSERT INTO t VALUES (3, 'z')", usSession, "NOT_SUPPORTED"},
		{"SELECT * FROM \"t$snapshots\"", usSession, "NOT_SUPPORTED"},
		{"SELEC 1", usSession, "SYNTAX_ERROR"},
	}
	for _, tc := range bad {
		_, err := run(context.Background(), l, conn, tc.sql, tc.sess)
		if trinoCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.sql, err, tc.code)
		}
	}
	_, err = run(context.Background(), l, conn, "INSERT INTO t VALUES (3, 'z')", usSession)
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("INSERT: %v, want a read-only error", err)
	}
}

// TestS3Cache: a table in S3 (versitygw) is read through the local file
// cache; a second query reads the cached copy without fetching again.
func TestS3Cache(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, "lake-us")
	dir := t.TempDir()
	s3cfg := catalog.S3Config{Endpoint: srv.Endpoint, Region: srv.Region, PathStyle: true,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
	cat := testCatalog(t, dir, s3cfg)
	createSmall(t, cat, "us", "remote", "s3://lake-us/us/remote", nil, map[int64]string{1: "p", 2: "q", 3: "r"})
	l := regionLake(t, cat, dir, "us")
	conn := duckConn(t)
	for i := range 2 {
		if got := flat(mustRun(t, l, conn, "SELECT sum(id), max(name) FROM remote", usSession)); got != "6|r\n" {
			t.Fatalf("query %d = %q, want 6|r", i+1, got)
		}
		if fetches, used := l.cache.stats(); fetches != 1 || used == 0 {
			t.Fatalf("after query %d: %d fetches, %d bytes cached; want 1 fetch", i+1, fetches, used)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "cache-us", "files", "*.parquet"))
	if len(files) != 1 {
		t.Errorf("cache holds %d files, want 1", len(files))
	}
	// A new Lake over the same directory reuses the copy.
	l2 := regionLake(t, cat, dir, "us")
	mustRun(t, l2, conn, "SELECT count(*) FROM remote", usSession)
	if fetches, _ := l2.cache.stats(); fetches != 0 {
		t.Errorf("restarted lake fetched %d files, want 0", fetches)
	}
	// Statements compiled at once on an empty cache share one fetch.
	l3, err := NewLake(cat, LakeConfig{Region: "us", Allowed: []string{"s3://lake-us/"}, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			c, err := l3.Compile(context.Background(), nil, "SELECT * FROM remote", usSession, nil)
			if err != nil {
				errs <- err
				return
			}
			c.Release()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if fetches, _ := l3.cache.stats(); fetches != 1 {
		t.Errorf("8 concurrent statements fetched %d times, want 1", fetches)
	}
}

// TestCacheEviction: the least recently used unpinned copy goes first.
func TestCacheEviction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, err := newFileCache(dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"a", "b"} {
		p := filepath.Join(dir, name+".parquet")
		if err := os.WriteFile(p, []byte("123456"), 0o600); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		close(done)
		c.entries[name] = &cacheEntry{local: p, size: 6, lastUse: time.Unix(int64(i), 0), ready: done}
		c.used += 6
	}
	c.mu.Lock()
	c.evictLocked()
	c.mu.Unlock()
	if _, ok := c.entries["a"]; ok || c.used != 6 {
		t.Errorf("after eviction: entries %v, used %d; want only b, 6 bytes", c.entries, c.used)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.parquet")); !os.IsNotExist(err) {
		t.Errorf("evicted file still there: %v", err)
	}
}

// TestRenamedColumn: after a column is renamed, files written under the old
// name are read by field ID (through iceberg-go), so its values survive.
func TestRenamedColumn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cat := testCatalog(t, dir, catalog.S3Config{})
	tbl := createSmall(t, cat, "us", "renamed", warehouse(dir, "us", "us", "renamed"), nil, map[int64]string{1: "old"})
	txn := tbl.NewTransaction()
	if err := txn.UpdateSchema(true, false).RenameColumn([]string{"name"}, "label").Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := txn.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	cat.Invalidate(catalog.TableRef{Catalog: "iceberg", Schema: "us", Table: "renamed"})
	l := regionLake(t, cat, dir, "us")
	if got := flat(mustRun(t, l, duckConn(t), "SELECT id, label FROM renamed", usSession)); got != "1|old\n" {
		t.Errorf("renamed column = %q, want 1|old", got)
	}
}
