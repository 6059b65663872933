package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// smallDemo builds a small demo lake for a catalog command test.
func smallDemo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lake")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"demo", "init", "--dir", dir, "--bookings", "1500", "--guests", "300"}, nil, &out, &errb)
	if code != exitOK {
		t.Fatalf("demo init: exit %d: %s", code, errb.String())
	}
	return dir
}

func runCatalogCmd(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	t.Setenv("MERIDIAN_DIR", dir)
	t.Setenv("MERIDIAN_CONFIG", "")
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"catalog"}, args...), nil, &out, &errb)
	return out.String(), errb.String(), code
}

func TestCatalogLsAndDescribe(t *testing.T) {
	dir := smallDemo(t)
	out, errs, code := runCatalogCmd(t, dir, "ls")
	if code != exitOK {
		t.Fatalf("catalog ls: exit %d: %s", code, errs)
	}
	for _, s := range []string{"iceberg.apac", "iceberg.eu", "iceberg.global", "iceberg.tpch", "iceberg.us"} {
		if !strings.Contains(out, s) {
			t.Errorf("catalog ls does not list %s:\n%s", s, out)
		}
	}
	out, errs, code = runCatalogCmd(t, dir, "ls", "eu", "--json")
	if code != exitOK {
		t.Fatalf("catalog ls eu: exit %d: %s", code, errs)
	}
	var rows []struct {
		Table, Region, Classification string
		Rows                          int64
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("catalog ls eu --json: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.Table] = r.Region + "/" + r.Classification
	}
	want := map[string]string{"iceberg.eu.bookings": "eu/personal", "iceberg.eu.guests": "eu/personal", "iceberg.eu.guest_health": "eu/special"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("ls eu: %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	out, errs, code = runCatalogCmd(t, dir, "describe", "eu.guests")
	if code != exitOK {
		t.Fatalf("describe: exit %d: %s", code, errs)
	}
	for _, s := range []string{"region:         eu (from property)", "classification: personal", "email", "pii", "partitioned by month(created_at)"} {
		if !strings.Contains(out, s) {
			t.Errorf("describe eu.guests lacks %q:\n%s", s, out)
		}
	}
	if _, errs, code := runCatalogCmd(t, dir, "describe", "eu.nosuch"); code != exitFailed || !strings.Contains(errs, "no such table") {
		t.Errorf("describe of a missing table: exit %d, %q; want exit 1 naming the problem", code, errs)
	}
}

// TestCatalogTagVisibleAtOnce: a tag edit made with `meridian catalog tag`
// shows in the next describe, and is in the log with who made it.
func TestCatalogTagVisibleAtOnce(t *testing.T) {
	dir := smallDemo(t)
	t.Setenv("MERIDIAN_ACTOR", "dora")
	if _, errs, code := runCatalogCmd(t, dir, "tag", "iceberg.us.guests", "column.country.tags=pii", "retention-days=30"); code != exitOK {
		t.Fatalf("tag: exit %d: %s", code, errs)
	}
	out, _, _ := runCatalogCmd(t, dir, "describe", "iceberg.us.guests", "--json")
	var info struct {
		RetentionDays int `json:"retention_days"`
		Columns       []struct {
			Name string
			Tags []string
		}
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err)
	}
	tagged := false
	for _, c := range info.Columns {
		if c.Name == "country" && len(c.Tags) == 1 && c.Tags[0] == "pii" {
			tagged = true
		}
	}
	if !tagged || info.RetentionDays != 30 {
		t.Errorf("after tag: retention %d, country tagged %v; want 30 and pii", info.RetentionDays, tagged)
	}
	if _, errs, code := runCatalogCmd(t, dir, "untag", "iceberg.us.guests", "column.country.tags", "retention-days"); code != exitOK {
		t.Fatalf("untag: exit %d: %s", code, errs)
	}
	out, _, _ = runCatalogCmd(t, dir, "log", "iceberg.us.guests")
	if n := strings.Count(out, "dora"); n != 4 || !strings.Contains(out, "applied") {
		t.Errorf("log shows %d edits by dora, want 4 applied:\n%s", n, out)
	}
	for _, bad := range [][]string{
		{"tag", "iceberg.us.guests", "classification=secret"},
		{"tag", "iceberg.us.guests", "owner=bob"},
		{"tag", "iceberg.us.guests", "noequals"},
		{"tag", "not a table", "classification=public"},
	} {
		if _, errs, code := runCatalogCmd(t, dir, bad...); code == exitOK || errs == "" {
			t.Errorf("catalog %v: exit %d, want an error message", bad, code)
		}
	}
}
