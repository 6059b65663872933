package catalog_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/pgtest"
)

// TestResolveOnPostgres keeps the Iceberg SQL catalog in a real PostgreSQL
// server: tables created and appended through Catalog.Iceberg are recorded
// there, resolve with their governance and statistics, and tag edits are
// committed there and visible at once.
func TestResolveOnPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	var cfg catalog.Config
	// A long TTL: only invalidation can make a tag edit visible.
	l := newLakeWith(t, time.Hour, func(dir string, c *catalog.Config) {
		c.Catalogs["iceberg"] = catalog.IcebergConfig{Type: "sql", Driver: "postgres", DSN: srv.DSN,
			Warehouse: "file://" + filepath.Join(dir, "wh", "default")}
		cfg = *c // the regions map file://<dir>/wh/{eu,us,apac}
	})
	ctx := context.Background()
	l.createGuests(t, "eu", "guests", l.loc("eu", "guests"), iceberg.Properties{
		catalog.PropClassification:          "personal",
		catalog.PropPurposes:                "support,analytics",
		catalog.PropRetentionDays:           "365",
		catalog.ColumnTagsProperty("email"): "pii,email",
	}, []string{"2024-01-05", "2024-01-20", "2024-02-03", "2024-03-09", "2024-03-10", "2024-03-11"})

	pg := srv.Open(t)
	metadataLocation := func() string {
		t.Helper()
		rows, err := pg.QueryContext(ctx, `SELECT table_namespace, table_name, metadata_location
			FROM iceberg_tables WHERE catalog_name = 'iceberg'`)
		if err != nil {
			t.Fatalf("query PostgreSQL's iceberg_tables: %v", err)
		}
		defer rows.Close()
		var names []string
		var loc string
		for rows.Next() {
			var ns, name string
			if err := rows.Scan(&ns, &name, &loc); err != nil {
				t.Fatal(err)
			}
			names = append(names, ns+"."+name)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"eu.guests"}, names); diff != "" {
			t.Fatalf("tables in PostgreSQL (-want +got):\n%s", diff)
		}
		if want := l.loc("eu", "guests", "metadata") + "/"; !strings.HasPrefix(loc, want) {
			t.Errorf("metadata_location = %s, want it under %s", loc, want)
		}
		return loc
	}
	appended := metadataLocation()

	r := ref("iceberg.eu.guests")
	info, err := l.cat.Resolve(ctx, r)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if info.Region != "eu" || info.RegionSource != catalog.RegionFromLocation {
		t.Errorf("region = %s from %s, want eu from location", info.Region, info.RegionSource)
	}
	wantGov := catalog.Governance{Classification: catalog.Personal, Purposes: []string{"support", "analytics"}, RetentionDays: 365}
	if diff := cmp.Diff(wantGov, info.Governance); diff != "" {
		t.Errorf("governance (-want +got):\n%s", diff)
	}
	tags := map[string][]string{}
	for _, c := range info.Columns {
		tags[c.Name] = c.Tags
	}
	if diff := cmp.Diff(map[string][]string{"guest_id": nil, "email": {"pii", "email"}, "country": nil, "created_at": nil}, tags); diff != "" {
		t.Errorf("column tags (-want +got):\n%s", diff)
	}
	if info.Snapshot == nil || info.Snapshot.Records != 6 || info.Snapshot.Files != 3 {
		t.Fatalf("snapshot = %+v, want 6 records in 3 files", info.Snapshot)
	}
	records := map[string]int64{}
	var bytes int64
	for _, p := range info.Partitions {
		records[p.Values["created_at_month"]] = p.Records
		bytes += p.Bytes
		if p.Files != 1 {
			t.Errorf("partition %s: %d files, want 1", p.Key, p.Files)
		}
	}
	if diff := cmp.Diff(map[string]int64{"2024-01": 2, "2024-02": 1, "2024-03": 3}, records); diff != "" {
		t.Errorf("records per partition (-want +got):\n%s", diff)
	}
	if bytes <= 0 || bytes != info.Snapshot.Bytes {
		t.Errorf("partition bytes sum to %d, snapshot says %d", bytes, info.Snapshot.Bytes)
	}

	events, err := l.cat.Tag(ctx, r, "dora", map[string]string{"classification": "special", "column.country.tags": "pii"})
	if err != nil {
		t.Fatalf("Tag: %v", err)
	}
	if len(events) != 2 || events[0].Status != "applied" || events[1].Status != "applied" {
		t.Fatalf("Tag events = %+v, want 2 applied", events)
	}
	info, err = l.cat.Resolve(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	country, _ := info.Column("country")
	if info.Classification != catalog.Special || !country.PII() {
		t.Errorf("after Tag: classification %q, country %+v; want special and pii at once", info.Classification, country)
	}
	if tagged := metadataLocation(); tagged == appended {
		t.Errorf("metadata_location in PostgreSQL is still %s after Tag, want a new commit", tagged)
	}

	// A second Meridian with a cold cache reads the edit from PostgreSQL.
	other, err := catalog.New(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	cold, err := other.Resolve(ctx, r)
	if err != nil {
		t.Fatalf("Resolve from a second catalog: %v", err)
	}
	if country, _ := cold.Column("country"); cold.Classification != catalog.Special || !country.PII() || cold.Snapshot == nil || cold.Snapshot.Records != 6 {
		t.Errorf("second catalog: classification %q, country %+v, snapshot %+v; want special, pii, 6 records",
			cold.Classification, country, cold.Snapshot)
	}
}
