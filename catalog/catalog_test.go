package catalog_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/store"
)

// lake is a real SQLite-backed Iceberg catalog with regional warehouses in a
// temporary directory.
type lake struct {
	dir string
	cat *catalog.Catalog
	db  *store.DB
}

func newLake(t testing.TB, ttl time.Duration) *lake {
	t.Helper()
	return newLakeWith(t, ttl, nil)
}

// newLakeWith is newLake with a chance to change the configuration.
func newLakeWith(t testing.TB, ttl time.Duration, change func(dir string, cfg *catalog.Config)) *lake {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := catalog.Config{
		Catalogs: map[string]catalog.IcebergConfig{
			"iceberg": {Type: "sql", Path: filepath.Join(dir, "catalog.db"), Warehouse: "file://" + filepath.Join(dir, "wh", "default")},
		},
		Regions: []catalog.Region{
			{Name: "eu", Locations: []string{"file://" + filepath.Join(dir, "wh", "eu")}},
			{Name: "us", Locations: []string{"file://" + filepath.Join(dir, "wh", "us")}},
			{Name: "apac", Locations: []string{"file://" + filepath.Join(dir, "wh", "apac")}},
		},
		CacheTTL: ttl,
	}
	if change != nil {
		change(dir, &cfg)
	}
	c, err := catalog.New(ctx, cfg, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &lake{dir: dir, cat: c, db: db}
}

func (l *lake) iceberg(t testing.TB) icecat.Catalog {
	t.Helper()
	ic, err := l.cat.Iceberg(context.Background(), "iceberg")
	if err != nil {
		t.Fatal(err)
	}
	return ic
}

var guestSchema = iceberg.NewSchema(0,
	iceberg.NestedField{ID: 1, Name: "guest_id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
	iceberg.NestedField{ID: 2, Name: "email", Type: iceberg.PrimitiveTypes.String},
	iceberg.NestedField{ID: 3, Name: "country", Type: iceberg.PrimitiveTypes.String},
	iceberg.NestedField{ID: 4, Name: "created_at", Type: iceberg.PrimitiveTypes.Date},
)

// createGuests creates ns.name at location with props, partitioned by
// month(created_at), and appends one row per date in days.
func (l *lake) createGuests(t testing.TB, ns, name, location string, props iceberg.Properties, days []string) *table.Table {
	t.Helper()
	ctx := context.Background()
	ic := l.iceberg(t)
	if err := ic.CreateNamespace(ctx, table.Identifier{ns}, nil); err != nil && !errors.Is(err, icecat.ErrNamespaceAlreadyExists) {
		t.Fatal(err)
	}
	spec := iceberg.NewPartitionSpec(iceberg.PartitionField{SourceIDs: []int{4}, FieldID: 1000, Name: "created_at_month", Transform: iceberg.MonthTransform{}})
	tbl, err := ic.CreateTable(ctx, table.Identifier{ns, name}, guestSchema,
		icecat.WithLocation(location), icecat.WithPartitionSpec(&spec), icecat.WithProperties(props))
	if err != nil {
		t.Fatal(err)
	}
	if len(days) == 0 {
		return tbl
	}
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "guest_id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "email", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "country", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "created_at", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i, d := range days {
		tm, err := time.Parse("2006-01-02", d)
		if err != nil {
			t.Fatal(err)
		}
		b.Field(0).(*array.Int64Builder).Append(int64(i + 1))
		b.Field(1).(*array.StringBuilder).Append("guest@example.org")
		b.Field(2).(*array.StringBuilder).Append("FR")
		b.Field(3).(*array.Date32Builder).Append(arrow.Date32FromTime(tm))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	tbl, err = tbl.Append(ctx, rdr, nil)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return tbl
}

func (l *lake) loc(parts ...string) string {
	return "file://" + filepath.Join(append([]string{l.dir, "wh"}, parts...)...)
}

func ref(s string) catalog.TableRef {
	r, err := catalog.ParseTableRef(s)
	if err != nil {
		panic(err)
	}
	return r
}

func TestResolveGovernanceAndStats(t *testing.T) {
	l := newLake(t, time.Minute)
	ctx := context.Background()
	l.createGuests(t, "eu", "guests", l.loc("eu", "guests"), iceberg.Properties{
		catalog.PropResidency:                 "eu",
		catalog.PropClassification:            "personal",
		catalog.PropPurposes:                  "support, analytics",
		catalog.PropRetentionDays:             "365",
		catalog.ColumnTagsProperty("email"):   "pii,email",
		catalog.ColumnTagsProperty("dropped"): "pii", // a column that no longer exists
		"write.parquet.compression-codec":     "zstd",
	}, []string{"2024-01-05", "2024-01-20", "2024-02-03", "2024-03-09", "2024-03-10", "2024-03-11"})

	info, err := l.cat.Resolve(ctx, ref("iceberg.eu.guests"))
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if info.Region != "eu" || info.RegionSource != catalog.RegionFromProperty {
		t.Errorf("region = %s from %s, want eu from property", info.Region, info.RegionSource)
	}
	wantGov := catalog.Governance{Classification: catalog.Personal, Purposes: []string{"support", "analytics"}, RetentionDays: 365, Residency: "eu"}
	if diff := cmp.Diff(wantGov, info.Governance); diff != "" {
		t.Errorf("governance (-want +got):\n%s", diff)
	}
	email, _ := info.Column("email")
	if !email.PII() || email.Type != "string" {
		t.Errorf("email column = %+v, want a pii-tagged string", email)
	}
	if c, _ := info.Column("country"); c.PII() {
		t.Errorf("country is tagged pii, want untagged")
	}
	if diff := cmp.Diff([]catalog.PartitionField{{Name: "created_at_month", Source: "created_at", Transform: "month"}}, info.Partition); diff != "" {
		t.Errorf("partition spec (-want +got):\n%s", diff)
	}
	if info.Snapshot == nil || info.Snapshot.Records != 6 || info.Snapshot.Files != 3 || info.Snapshot.Bytes <= 0 {
		t.Fatalf("snapshot = %+v, want 6 records in 3 files", info.Snapshot)
	}
	got := map[string]int64{}
	var bytes int64
	for _, p := range info.Partitions {
		got[p.Values["created_at_month"]] = p.Records
		bytes += p.Bytes
		if p.Files != 1 {
			t.Errorf("partition %s: %d files, want 1", p.Key, p.Files)
		}
	}
	if diff := cmp.Diff(map[string]int64{"2024-01": 2, "2024-02": 1, "2024-03": 3}, got); diff != "" {
		t.Errorf("records per partition (-want +got):\n%s", diff)
	}
	if bytes != info.Snapshot.Bytes {
		t.Errorf("partition bytes sum to %d, snapshot says %d", bytes, info.Snapshot.Bytes)
	}
	// The files really are where the table says.
	for _, p := range info.Partitions {
		matches, _ := filepath.Glob(filepath.Join(l.dir, "wh", "eu", "guests", "data", "*"+p.Values["created_at_month"]+"*", "*.parquet"))
		if len(matches) != 1 {
			t.Errorf("partition %s: %d parquet files on disk, want 1", p.Key, len(matches))
		}
	}
}

func TestResolveRegionSources(t *testing.T) {
	l := newLake(t, time.Minute)
	ctx := context.Background()
	l.createGuests(t, "us", "orders", l.loc("us", "orders"), iceberg.Properties{catalog.PropClassification: "internal"}, nil)
	l.createGuests(t, "x", "stray", "file://"+filepath.Join(l.dir, "elsewhere", "stray"), nil, nil)
	l.createGuests(t, "x", "eu2", l.loc("eu2", "t"), nil, nil) // "eu2" must not match the "eu" prefix

	for _, tc := range []struct {
		name   string
		region string
		source catalog.RegionSource
		class  catalog.Classification
	}{
		{"iceberg.us.orders", "us", catalog.RegionFromLocation, catalog.Internal},
		{"iceberg.x.stray", catalog.RegionUnknown, catalog.RegionNotFound, catalog.Unclassified},
		{"iceberg.x.eu2", catalog.RegionUnknown, catalog.RegionNotFound, catalog.Unclassified},
	} {
		info, err := l.cat.Resolve(ctx, ref(tc.name))
		if err != nil {
			t.Fatalf("Resolve(%s): %v", tc.name, err)
		}
		if info.Region != tc.region || info.RegionSource != tc.source || info.Classification != tc.class {
			t.Errorf("Resolve(%s) = region %s from %s, class %q; want %s from %s, %q",
				tc.name, info.Region, info.RegionSource, info.Classification, tc.region, tc.source, tc.class)
		}
		if info.Snapshot != nil {
			t.Errorf("Resolve(%s): empty table has snapshot %+v", tc.name, info.Snapshot)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	l := newLake(t, time.Minute)
	ctx := context.Background()
	l.createGuests(t, "eu", "badclass", l.loc("eu", "badclass"), iceberg.Properties{catalog.PropClassification: "secret"}, nil)
	l.createGuests(t, "eu", "badret", l.loc("eu", "badret"), iceberg.Properties{catalog.PropRetentionDays: "forever"}, nil)
	l.createGuests(t, "eu", "badregion", l.loc("eu", "badregion"), iceberg.Properties{catalog.PropResidency: "mars"}, nil)

	for _, tc := range []struct {
		name, prop string
		kind       error
	}{
		{"iceberg.eu.badclass", catalog.PropClassification, catalog.ErrInvalidProperty},
		{"iceberg.eu.badret", catalog.PropRetentionDays, catalog.ErrInvalidProperty},
		{"iceberg.eu.badregion", catalog.PropResidency, catalog.ErrInvalidProperty},
		{"iceberg.eu.nosuch", "", catalog.ErrTableNotFound},
		{"iceberg.nosuchschema.t", "", catalog.ErrTableNotFound},
		{"hive.eu.guests", "", catalog.ErrCatalogNotFound},
	} {
		_, err := l.cat.Resolve(ctx, ref(tc.name))
		if !errors.Is(err, tc.kind) {
			t.Errorf("Resolve(%s) error = %v, want %v", tc.name, err, tc.kind)
			continue
		}
		var ce *catalog.Error
		if !errors.As(err, &ce) || ce.Property != tc.prop {
			t.Errorf("Resolve(%s) error %v does not name property %q", tc.name, err, tc.prop)
		}
	}
}

func TestResolveViewAndMetadataTable(t *testing.T) {
	l := newLake(t, time.Minute)
	ctx := context.Background()
	l.createGuests(t, "eu", "guests", l.loc("eu", "guests"), nil, []string{"2024-01-01"})
	type viewCreator interface {
		CreateView(ctx context.Context, id table.Identifier, sc *iceberg.Schema, sql string, props iceberg.Properties) error
	}
	vc, ok := l.iceberg(t).(viewCreator)
	if !ok {
		t.Fatal("the SQL catalog does not create views")
	}
	const body = "SELECT email FROM iceberg.eu.guests"
	if err := vc.CreateView(ctx, table.Identifier{"eu", "emails"}, guestSchema, body, nil); err != nil {
		t.Fatal(err)
	}
	v, err := l.cat.Resolve(ctx, ref("iceberg.eu.emails"))
	if err != nil {
		t.Fatalf("Resolve(view): %v", err)
	}
	if v.Kind != catalog.KindView || v.ViewSQL != body {
		t.Errorf("Resolve(view) = kind %s sql %q, want view %q", v.Kind, v.ViewSQL, body)
	}
	m, err := l.cat.Resolve(ctx, ref(`iceberg.eu."guests$snapshots"`))
	if err != nil {
		t.Fatalf("Resolve(metadata table): %v", err)
	}
	if m.Metadata != "snapshots" || m.Kind != catalog.KindTable || m.Snapshot == nil {
		t.Errorf("Resolve(guests$snapshots) = %+v, want the base table with Metadata snapshots", m)
	}
}

func TestConcurrentMissesLoadOnce(t *testing.T) {
	l := newLake(t, time.Minute)
	l.createGuests(t, "eu", "guests", l.loc("eu", "guests"), nil, []string{"2024-01-01", "2024-02-01"})
	ctx := context.Background()
	before := l.cat.CacheStats()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			info, err := l.cat.Resolve(ctx, ref("iceberg.eu.guests"))
			if err == nil && info.Snapshot.Records != 2 {
				err = errors.New("wrong table")
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	after := l.cat.CacheStats()
	if loads := after.Loads - before.Loads; loads != 1 {
		t.Errorf("100 concurrent cold Resolves made %d catalog loads, want 1", loads)
	}
	if n := (after.Hits + after.Misses) - (before.Hits + before.Misses); n != 100 {
		t.Errorf("hits+misses = %d, want 100", n)
	}
}

func TestTagIsVisibleAtOnceAndRecorded(t *testing.T) {
	l := newLake(t, time.Hour) // a long TTL: only invalidation can make the edit visible
	l.createGuests(t, "eu", "guests", l.loc("eu", "guests"), iceberg.Properties{catalog.PropClassification: "personal"}, nil)
	ctx := context.Background()
	r := ref("iceberg.eu.guests")
	if info, err := l.cat.Resolve(ctx, r); err != nil || info.Classification != catalog.Personal {
		t.Fatalf("Resolve = %v, %v", info.Classification, err)
	}
	events, err := l.cat.Tag(ctx, r, "dora", map[string]string{"classification": "special", "column.email.tags": "pii"})
	if err != nil {
		t.Fatalf("Tag: %v", err)
	}
	if len(events) != 2 || events[0].Status != "applied" || *events[0].Old != "personal" || *events[0].New != "special" {
		t.Fatalf("Tag events = %+v", events)
	}
	info, err := l.cat.Resolve(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	email, _ := info.Column("email")
	if info.Classification != catalog.Special || !email.PII() {
		t.Errorf("after Tag: classification %q, email %+v; want special and pii at once", info.Classification, email)
	}
	if _, err := l.cat.Untag(ctx, r, "dora", []string{"column.email.tags"}); err != nil {
		t.Fatalf("Untag: %v", err)
	}
	info, _ = l.cat.Resolve(ctx, r)
	if email, _ := info.Column("email"); email.PII() {
		t.Errorf("after Untag: email still pii")
	}
	log, err := l.cat.Events(ctx, "iceberg.eu.guests", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 || log[0].Actor != "dora" || log[0].Property != catalog.ColumnTagsProperty("email") || log[0].New != nil {
		t.Errorf("recorded events = %+v, want 3 by dora, newest the removal", log)
	}
}

func TestTagRejectsBadInput(t *testing.T) {
	l := newLake(t, time.Minute)
	l.createGuests(t, "eu", "guests", l.loc("eu", "guests"), nil, nil)
	ctx := context.Background()
	r := ref("iceberg.eu.guests")
	for _, tc := range []struct {
		set  map[string]string
		kind error
	}{
		{map[string]string{"classification": "secret"}, catalog.ErrInvalidProperty},
		{map[string]string{"residency": "mars"}, catalog.ErrInvalidProperty},
		{map[string]string{"retention-days": "-3"}, catalog.ErrInvalidProperty},
		{map[string]string{"column.nosuch.tags": "pii"}, catalog.ErrInvalidProperty},
		{map[string]string{"purposes": "analytics; DROP"}, catalog.ErrInvalidProperty},
		{map[string]string{"owner": "bob"}, nil}, // not a governance tag
	} {
		_, err := l.cat.Tag(ctx, r, "dora", tc.set)
		if err == nil || tc.kind != nil && !errors.Is(err, tc.kind) {
			t.Errorf("Tag(%v) error = %v, want %v", tc.set, err, tc.kind)
		}
	}
	if _, err := l.cat.Tag(ctx, r, "", map[string]string{"classification": "public"}); err == nil {
		t.Error("Tag without an actor succeeded")
	}
	if _, err := l.cat.Tag(ctx, ref("iceberg.eu.nosuch"), "dora", map[string]string{"classification": "public"}); !errors.Is(err, catalog.ErrTableNotFound) {
		t.Errorf("Tag of a missing table: %v, want ErrTableNotFound", err)
	}
	if log, _ := l.cat.Events(ctx, "", 10); len(log) != 0 {
		t.Errorf("rejected edits were recorded: %+v", log)
	}
}

func TestUnreadableCatalogFailsClosed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.db")
	if err := os.WriteFile(corrupt, []byte("this is not an sqlite database, it is a text file of some length"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := catalog.Config{Catalogs: map[string]catalog.IcebergConfig{
		"broken": {Type: "sql", Path: corrupt},
		"remote": {Type: "rest", URI: "http://127.0.0.1:1"}, // nothing listens on port 1
	}}
	c, err := catalog.New(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, name := range []string{"broken.eu.guests", "remote.eu.guests"} {
		_, err := c.Resolve(ctx, ref(name))
		var ce *catalog.Error
		if !errors.Is(err, catalog.ErrUnavailable) || !errors.As(err, &ce) || ce.Catalog == "" {
			t.Errorf("Resolve(%s) = %v, want ErrUnavailable naming the catalog", name, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  catalog.Config
	}{
		{"no catalogs", catalog.Config{}},
		{"no type", catalog.Config{Catalogs: map[string]catalog.IcebergConfig{"iceberg": {}}}},
		{"sqlite without path", catalog.Config{Catalogs: map[string]catalog.IcebergConfig{"iceberg": {Type: "sql"}}}},
		{"postgres without dsn", catalog.Config{Catalogs: map[string]catalog.IcebergConfig{"iceberg": {Type: "sql", Driver: "postgres"}}}},
		{"rest without uri", catalog.Config{Catalogs: map[string]catalog.IcebergConfig{"iceberg": {Type: "rest"}}}},
		{"bad catalog name", catalog.Config{Catalogs: map[string]catalog.IcebergConfig{"Ice Berg": {Type: "sql", Path: "x"}}}},
		{"region without scheme", catalog.Config{Catalogs: map[string]catalog.IcebergConfig{"iceberg": {Type: "sql", Path: "x"}},
			Regions: []catalog.Region{{Name: "eu", Locations: []string{"lake-eu"}}}}},
		{"region named unknown", catalog.Config{Catalogs: map[string]catalog.IcebergConfig{"iceberg": {Type: "sql", Path: "x"}},
			Regions: []catalog.Region{{Name: "unknown"}}}},
	} {
		if err := tc.cfg.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil, want an error", tc.name)
		}
	}
}
