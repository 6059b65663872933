package store_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meridian-lake/meridian/internal/store"
)

func TestMigrateOnceInOrder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state", "meridian.db")
	steps := []string{
		"CREATE TABLE t (a INTEGER);\nINSERT INTO t VALUES (1)",
		"ALTER TABLE t ADD COLUMN b TEXT",
	}
	for i := 0; i < 2; i++ { // the second open must not re-run anything
		db, err := store.Open(ctx, store.Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx, "test", steps); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("open %d: rows = %d, want 1 (migration ran twice?)", i+1, n)
		}
		db.Close()
	}
}

func TestMigrateFailureRollsBack(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Migrate(ctx, "bad", []string{"CREATE TABLE x (a INTEGER);\nNOT SQL"})
	if err == nil {
		t.Fatal("Migrate of invalid SQL succeeded")
	}
	var n int
	db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'x'").Scan(&n)
	if n != 0 {
		t.Errorf("table x exists after a failed step: the step was not atomic")
	}
}

func TestOpenRequiresPath(t *testing.T) {
	if _, err := store.Open(context.Background(), store.Config{}); err == nil {
		t.Fatal("Open with no path succeeded")
	}
}

func TestSyncSetting(t *testing.T) {
	ctx := context.Background()
	for _, sync := range []string{"", "full", "normal"} {
		db, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "s.db"), Sync: sync})
		if err != nil {
			t.Fatalf("sync %q: %v", sync, err)
		}
		var got int
		db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&got)
		want := map[string]int{"": 2, "full": 2, "normal": 1}[sync]
		if got != want {
			t.Errorf("sync %q: PRAGMA synchronous = %d, want %d", sync, got, want)
		}
		db.Close()
	}
	if _, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "s.db"), Sync: "off"}); err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("sync off accepted: %v", err)
	}
}
