package demo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/catalog/demo"
	"github.com/meridian-lake/meridian/internal/store"
	"github.com/meridian-lake/meridian/internal/tpch"
)

// openCatalog opens a real SQLite Iceberg catalog and state store under
// dir, configured as cmd/meridian's defaults are: catalog "iceberg" on
// dir/catalog.db, regions eu, us and apac on dir/warehouse/<region> and
// s3://lake-<region>. s3 is how the catalog reaches S3, if it does.
func openCatalog(dir string, s3 catalog.S3Config) (*catalog.Catalog, func(), error) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "state.db")})
	if err != nil {
		return nil, nil, err
	}
	ic := catalog.IcebergConfig{Type: "sql", Path: filepath.Join(dir, "catalog.db"),
		Warehouse: "file://" + filepath.Join(dir, "warehouse", "default"), S3: s3}
	cfg := catalog.Config{Catalogs: map[string]catalog.IcebergConfig{"iceberg": ic}}
	for _, r := range demo.Regions() {
		cfg.Regions = append(cfg.Regions, catalog.Region{Name: r, Locations: []string{
			"file://" + filepath.Join(dir, "warehouse", r), "s3://lake-" + r,
		}})
	}
	c, err := catalog.New(ctx, cfg, db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return c, func() { c.Close(); db.Close() }, nil
}

func newCatalog(tb testing.TB, dir string) *catalog.Catalog {
	tb.Helper()
	c, closeAll, err := openCatalog(dir, catalog.S3Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(closeAll)
	return c
}

// Small sizes keep the tests quick; bookings still cover every day of two
// years.
const (
	testBookings = 3_000
	testGuests   = 500
	testScale    = 0.01
)

func smallConfig(dir string) demo.Config {
	return demo.Config{Dir: dir, BookingsPerRegion: testBookings, GuestsPerRegion: testGuests, TPCHScale: testScale}
}

// built is a demo lake that several tests read.
type built struct {
	dir      string
	cat      *catalog.Catalog
	sum      demo.Summary
	progress string
	close    func()
}

var (
	sharedOnce sync.Once
	shared     *built
	sharedErr  error
)

// sharedLake builds the small demo lake once for the tests that only read
// it; TestMain removes it.
func sharedLake(t *testing.T) *built {
	t.Helper()
	sharedOnce.Do(func() {
		shared, sharedErr = buildShared()
	})
	if sharedErr != nil {
		t.Fatalf("Init: %v", sharedErr)
	}
	return shared
}

func buildShared() (*built, error) {
	dir, err := os.MkdirTemp("", "meridian-demo-")
	if err != nil {
		return nil, err
	}
	b := &built{dir: dir}
	cat, closeAll, err := openCatalog(dir, catalog.S3Config{})
	if err != nil {
		return b, err
	}
	b.cat, b.close = cat, closeAll
	var progress bytes.Buffer
	cfg := smallConfig(dir)
	cfg.Progress = &progress
	b.sum, err = demo.Init(context.Background(), cfg, cat)
	b.progress = progress.String()
	return b, err
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		if shared.close != nil {
			shared.close()
		}
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// wantTable is what a demo table must look like.
type wantTable struct {
	region, class string
	props         map[string]string // every meridian.* property
	columns       []catalog.Column  // name, type, required, tags
	partition     []catalog.PartitionField
}

func personal(region string, extra map[string]string) map[string]string {
	p := map[string]string{
		catalog.PropClassification: "personal",
		catalog.PropResidency:      region,
		catalog.PropPurposes:       "support,analytics",
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

func col(name, typ string, required bool, tags ...string) catalog.Column {
	return catalog.Column{Name: name, Type: typ, Required: required, Tags: tags}
}

func wantTables() map[string]wantTable {
	want := map[string]wantTable{}
	for _, r := range demo.Regions() {
		want["iceberg."+r+".guests"] = wantTable{
			region: r, class: "personal",
			props: personal(r, map[string]string{
				catalog.ColumnTagsProperty("guest_id"):   "pii",
				catalog.ColumnTagsProperty("full_name"):  "pii",
				catalog.ColumnTagsProperty("email"):      "pii,email",
				catalog.ColumnTagsProperty("birth_date"): "pii",
			}),
			columns: []catalog.Column{
				col("guest_id", "long", true, "pii"), col("full_name", "string", false, "pii"),
				col("email", "string", false, "pii", "email"), col("birth_date", "date", false, "pii"),
				col("country", "string", false), col("created_at", "timestamp", false),
			},
			partition: []catalog.PartitionField{{Name: "created_at_month", Source: "created_at", Transform: "month"}},
		}
		want["iceberg."+r+".bookings"] = wantTable{
			region: r, class: "personal",
			props: personal(r, map[string]string{
				catalog.PropRetentionDays:              "1095",
				catalog.ColumnTagsProperty("guest_id"): "pii",
			}),
			columns: []catalog.Column{
				col("booking_id", "long", true), col("guest_id", "long", false, "pii"),
				col("listing_id", "long", false), col("check_in", "date", false), col("nights", "int", false),
				col("price", "decimal(10, 2)", false), col("currency", "string", false),
			},
			partition: []catalog.PartitionField{{Name: "check_in_day", Source: "check_in", Transform: "day"}},
		}
	}
	want["iceberg.eu.guest_health"] = wantTable{
		region: "eu", class: "special",
		props: map[string]string{
			catalog.PropClassification:             "special",
			catalog.PropResidency:                  "eu",
			catalog.PropPurposes:                   "support",
			catalog.ColumnTagsProperty("guest_id"): "pii",
		},
		columns: []catalog.Column{
			col("guest_id", "long", false, "pii"), col("needs", "string", false), col("updated_at", "timestamp", false),
		},
	}
	want["iceberg.global.listings"] = wantTable{
		region: "us", class: "public",
		props: map[string]string{catalog.PropClassification: "public", catalog.PropResidency: "us"},
		columns: []catalog.Column{
			col("listing_id", "long", true), col("city", "string", false), col("country", "string", false),
			col("nightly_rate", "decimal(10, 2)", false),
		},
	}
	for _, def := range tpch.Tables() {
		var cols []catalog.Column
		for _, c := range def.Columns {
			typ := map[tpch.Kind]string{tpch.KindInt64: "long", tpch.KindInt32: "int", tpch.KindString: "string",
				tpch.KindMoney: "decimal(15, 2)", tpch.KindDate: "date"}[c.Kind]
			cols = append(cols, col(c.Name, typ, true))
		}
		want["iceberg.tpch."+def.Name] = wantTable{
			region: "us", class: "internal",
			props:   map[string]string{catalog.PropClassification: "internal", catalog.PropResidency: "us"},
			columns: cols,
		}
	}
	return want
}

func ref(s string) catalog.TableRef {
	r, err := catalog.ParseTableRef(s)
	if err != nil {
		panic(err)
	}
	return r
}

func loadTable(t *testing.T, cat *catalog.Catalog, name string) *table.Table {
	t.Helper()
	ic, err := cat.Iceberg(context.Background(), "iceberg")
	if err != nil {
		t.Fatal(err)
	}
	r := ref(name)
	tbl, err := ic.LoadTable(context.Background(), table.Identifier{r.Schema, r.Table})
	if err != nil {
		t.Fatalf("LoadTable(%s): %v", name, err)
	}
	return tbl
}

func meridianProps(p iceberg.Properties) map[string]string {
	out := map[string]string{}
	for k, v := range p {
		if strings.HasPrefix(k, catalog.PropPrefix) {
			out[k] = v
		}
	}
	return out
}

// TestTables checks every table's governance, schema and partition spec, as
// iceberg-go loads them and as catalog resolves them.
func TestTables(t *testing.T) {
	l := sharedLake(t)
	ctx := context.Background()
	want := wantTables()
	var got []string
	for _, ts := range l.sum.Tables {
		got = append(got, ts.Name)
	}
	if diff := cmp.Diff(slices.Sorted(maps.Keys(want)), slices.Sorted(slices.Values(got))); diff != "" {
		t.Errorf("Summary tables (-want +got):\n%s", diff)
	}
	ic, err := l.cat.Iceberg(ctx, "iceberg")
	if err != nil {
		t.Fatal(err)
	}
	nss, err := ic.ListNamespaces(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var schemas []string
	for _, ns := range nss {
		schemas = append(schemas, strings.Join(ns, "."))
	}
	if diff := cmp.Diff([]string{"apac", "eu", "global", "tpch", "us"}, slices.Sorted(slices.Values(schemas))); diff != "" {
		t.Errorf("namespaces (-want +got):\n%s", diff)
	}

	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			// As iceberg-go sees it.
			tbl := loadTable(t, l.cat, name)
			if diff := cmp.Diff(w.props, meridianProps(tbl.Properties())); diff != "" {
				t.Errorf("meridian properties (-want +got):\n%s", diff)
			}
			var cols []catalog.Column
			for _, f := range tbl.Schema().Fields() {
				cols = append(cols, catalog.Column{Name: f.Name, Type: f.Type.String(), Required: f.Required})
			}
			untagged := slices.Clone(w.columns)
			for i := range untagged {
				untagged[i].Tags = nil
			}
			if diff := cmp.Diff(untagged, cols); diff != "" {
				t.Errorf("iceberg schema (-want +got):\n%s", diff)
			}
			var spec []catalog.PartitionField
			pspec := tbl.Spec()
			for _, f := range pspec.Fields() {
				src, _ := tbl.Schema().FindColumnName(f.SourceID())
				spec = append(spec, catalog.PartitionField{Name: f.Name, Source: src, Transform: f.Transform.String()})
			}
			if diff := cmp.Diff(w.partition, spec); diff != "" {
				t.Errorf("iceberg partition spec (-want +got):\n%s", diff)
			}
			wantLoc := "file://" + filepath.Join(l.dir, "warehouse", w.region, ref(name).Schema, ref(name).Table)
			if tbl.Location() != wantLoc {
				t.Errorf("location = %s, want %s", tbl.Location(), wantLoc)
			}

			// As the planner will see it.
			info, err := l.cat.Resolve(ctx, ref(name))
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if info.Region != w.region || info.RegionSource != catalog.RegionFromProperty {
				t.Errorf("Resolve region = %s from %s, want %s from property", info.Region, info.RegionSource, w.region)
			}
			if r, ok := l.cat.RegionOf(info.Location); !ok || r != w.region {
				t.Errorf("the location %s maps to region %q, want %s: the files are not in the table's region", info.Location, r, w.region)
			}
			if string(info.Classification) != w.class {
				t.Errorf("Resolve classification = %q, want %q", info.Classification, w.class)
			}
			if diff := cmp.Diff(w.columns, info.Columns); diff != "" {
				t.Errorf("Resolve columns (-want +got):\n%s", diff)
			}
			var pii, wantPII []string
			for _, c := range info.Columns {
				if c.PII() {
					pii = append(pii, c.Name)
				}
			}
			for _, c := range w.columns {
				if slices.Contains(c.Tags, catalog.TagPII) {
					wantPII = append(wantPII, c.Name)
				}
			}
			if diff := cmp.Diff(wantPII, pii); diff != "" {
				t.Errorf("pii columns (-want +got):\n%s", diff)
			}
		})
	}
}

// tpchRows counts internal/tpch's rows of a table.
func tpchRows(t *testing.T, name string) int64 {
	t.Helper()
	var n int64
	err := tpch.Generate(tpch.Config{Scale: testScale, Seed: demo.DefaultSeed}, name, 1<<16, func(b *tpch.Batch) error {
		n += int64(b.Len())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRowCounts checks each table holds the rows asked for, by the snapshot
// summary, and that the summary and the progress report agree with it.
func TestRowCounts(t *testing.T) {
	l := sharedLake(t)
	ctx := context.Background()
	want := map[string]int64{"iceberg.global.listings": 5_000}
	for _, r := range demo.Regions() {
		want["iceberg."+r+".guests"] = testGuests
		want["iceberg."+r+".bookings"] = testBookings
	}
	for _, def := range tpch.Tables() {
		want["iceberg.tpch."+def.Name] = tpchRows(t, def.Name)
	}
	if want["iceberg.tpch.lineitem"] < 50_000 {
		t.Fatalf("tpch lineitem at scale %v has %d rows: the count is wrong", testScale, want["iceberg.tpch.lineitem"])
	}
	var total, bytes int64
	for _, ts := range l.sum.Tables {
		total += ts.Rows
		bytes += ts.Bytes
		info, err := l.cat.Resolve(ctx, ref(ts.Name))
		if err != nil {
			t.Fatalf("Resolve(%s): %v", ts.Name, err)
		}
		if info.Snapshot == nil || info.Snapshot.Records != ts.Rows || info.Snapshot.Files != ts.Files || info.Snapshot.Bytes != ts.Bytes {
			t.Errorf("%s: snapshot %+v, summary says %d rows in %d files of %d bytes", ts.Name, info.Snapshot, ts.Rows, ts.Files, ts.Bytes)
		}
		if ts.Name == "iceberg.eu.guest_health" {
			// About 2% of the EU guests record needs.
			if ts.Rows < testGuests/100 || ts.Rows > testGuests*3/100 {
				t.Errorf("%s: %d rows, want about 2%% of %d guests", ts.Name, ts.Rows, testGuests)
			}
			continue
		}
		if ts.Rows != want[ts.Name] {
			t.Errorf("%s: %d rows, want %d", ts.Name, ts.Rows, want[ts.Name])
		}
		short := strings.TrimPrefix(ts.Name, "iceberg.")
		if !strings.Contains(l.progress, fmt.Sprintf("%s: %s rows, ", short, thousands(ts.Rows))) {
			t.Errorf("progress does not report %s with %d rows:\n%s", short, ts.Rows, l.progress)
		}
	}
	if total != l.sum.Rows || bytes != l.sum.Bytes || l.sum.Rows == 0 {
		t.Errorf("Summary totals %d rows, %d bytes; the tables add up to %d, %d", l.sum.Rows, l.sum.Bytes, total, bytes)
	}
	if diff := cmp.Diff([]string{"eu", "us", "apac"}, l.sum.Regions); diff != "" {
		t.Errorf("Summary regions (-want +got):\n%s", diff)
	}
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// scan reads every row of a table, each row as its values joined by "|".
func scan(t *testing.T, cat *catalog.Catalog, name string) (*arrow.Schema, []string) {
	t.Helper()
	tbl := loadTable(t, cat, name)
	sc, recs, err := tbl.Scan().ToArrowRecords(context.Background())
	if err != nil {
		t.Fatalf("scan %s: %v", name, err)
	}
	var rows []string
	for rec, err := range recs {
		if err != nil {
			t.Fatalf("scan %s: %v", name, err)
		}
		for i := range int(rec.NumRows()) {
			vals := make([]string, rec.NumCols())
			for j := range vals {
				vals[j] = rec.Column(j).ValueStr(i)
			}
			rows = append(rows, strings.Join(vals, "|"))
		}
		rec.Release()
	}
	return sc, rows
}

// TestBookingsData scans eu.bookings: the rows read back are those counted,
// and every booking refers to a guest of its region who had signed up
// before the check-in, and to a listing.
func TestBookingsData(t *testing.T) {
	l := sharedLake(t)
	_, guests := scan(t, l.cat, "iceberg.eu.guests")
	signedUp := map[string]string{} // guest_id → created_at
	for _, g := range guests {
		f := strings.Split(g, "|")
		signedUp[f[0]] = f[5]
		if !strings.HasSuffix(f[2], "@example.org") {
			t.Errorf("guest %s has e-mail %q, want an @example.org address", f[0], f[2])
		}
	}
	sc, rows := scan(t, l.cat, "iceberg.eu.bookings")
	if len(rows) != testBookings {
		t.Fatalf("scanned %d bookings, want %d", len(rows), testBookings)
	}
	if got := sc.Field(5).Type.String(); got != "decimal(10, 2)" {
		t.Errorf("price reads back as %s, want decimal(10, 2)", got)
	}
	days := map[string]bool{}
	for _, row := range rows {
		f := strings.Split(row, "|") // booking_id guest_id listing_id check_in nights price currency
		created, ok := signedUp[f[1]]
		if !ok {
			t.Fatalf("booking %s: guest %s is not an eu guest", f[0], f[1])
		}
		checkIn := f[3]
		if checkIn < "2024-01-01" || checkIn > "2025-12-31" {
			t.Errorf("booking %s checks in on %s, outside 2024-2025", f[0], checkIn)
		}
		if created[:10] > checkIn {
			t.Errorf("booking %s checks in on %s, before its guest signed up (%s)", f[0], checkIn, created)
		}
		days[checkIn] = true
		if f[6] != "EUR" && f[6] != "PLN" && f[6] != "SEK" && f[6] != "DKK" {
			t.Errorf("booking %s is in %s, want an EU currency", f[0], f[6])
		}
		if f[5] == "0" || strings.HasPrefix(f[5], "-") {
			t.Errorf("booking %s costs %s", f[0], f[5])
		}
	}
	if len(days) != 731 {
		t.Errorf("bookings fall on %d days, want all 731 days of 2024 and 2025", len(days))
	}
}

// TestBookingsPartitions checks bookings are partitioned by day over two
// full years, so lifecycle has old partitions to work on, and guests by
// month over three.
func TestBookingsPartitions(t *testing.T) {
	l := sharedLake(t)
	for _, r := range demo.Regions() {
		info, err := l.cat.Resolve(context.Background(), ref("iceberg."+r+".bookings"))
		if err != nil {
			t.Fatal(err)
		}
		years := map[string]int{}
		var rows int64
		for _, p := range info.Partitions {
			years[p.Values["check_in_day"][:4]]++
			rows += p.Records
		}
		if diff := cmp.Diff(map[string]int{"2024": 366, "2025": 365}, years); diff != "" {
			t.Errorf("%s bookings: day partitions per year (-want +got):\n%s", r, diff)
		}
		if rows != testBookings {
			t.Errorf("%s bookings: partitions hold %d rows, want %d", r, rows, testBookings)
		}
		info, err = l.cat.Resolve(context.Background(), ref("iceberg."+r+".guests"))
		if err != nil {
			t.Fatal(err)
		}
		first, last := info.Partitions[0].Values["created_at_month"], info.Partitions[len(info.Partitions)-1].Values["created_at_month"]
		if len(info.Partitions) != 36 || first != "2023-01" || last != "2025-12" {
			t.Errorf("%s guests: %d month partitions from %s to %s, want 36 from 2023-01 to 2025-12", r, len(info.Partitions), first, last)
		}
	}
}

// digest hashes a table's rows in any order.
func digest(t *testing.T, cat *catalog.Catalog, name string) string {
	t.Helper()
	_, rows := scan(t, cat, name)
	slices.Sort(rows)
	h := sha256.New()
	for _, r := range rows {
		h.Write([]byte(r))
		h.Write([]byte{'\n'})
	}
	return fmt.Sprintf("%d rows %x", len(rows), h.Sum(nil))
}

// TestDeterministic builds a second lake in another directory: the same
// seed gives the same rows, another seed others.
func TestDeterministic(t *testing.T) {
	a := sharedLake(t)
	dir := t.TempDir()
	b := newCatalog(t, dir)
	if _, err := demo.Init(context.Background(), smallConfig(dir), b); err != nil {
		t.Fatal(err)
	}
	for _, r := range demo.Regions() {
		for _, tbl := range []string{"guests", "bookings"} {
			name := "iceberg." + r + "." + tbl
			if da, db := digest(t, a.cat, name), digest(t, b, name); da != db {
				t.Errorf("%s differs between two runs with the same seed: %s vs %s", name, da, db)
			}
		}
	}
	for _, name := range []string{"iceberg.eu.guest_health", "iceberg.global.listings", "iceberg.tpch.orders"} {
		if da, db := digest(t, a.cat, name), digest(t, b, name); da != db {
			t.Errorf("%s differs between two runs with the same seed: %s vs %s", name, da, db)
		}
	}

	dir = t.TempDir()
	c := newCatalog(t, dir)
	cfg := smallConfig(dir)
	cfg.Seed = 7
	if _, err := demo.Init(context.Background(), cfg, c); err != nil {
		t.Fatal(err)
	}
	if da, dc := digest(t, a.cat, "iceberg.eu.bookings"), digest(t, c, "iceberg.eu.bookings"); da == dc {
		t.Errorf("seed 7 gives the same bookings as the default seed")
	}
}

// TestInitTwice checks an existing lake is refused without Reset and
// replaced, not added to, with it.
func TestInitTwice(t *testing.T) {
	dir := t.TempDir()
	cat := newCatalog(t, dir)
	ctx := context.Background()
	cfg := smallConfig(dir)
	cfg.BookingsPerRegion, cfg.GuestsPerRegion = 800, 100
	first, err := demo.Init(ctx, cfg, cat)
	if err != nil {
		t.Fatal(err)
	}
	_, err = demo.Init(ctx, cfg, cat)
	if !errors.Is(err, demo.ErrExists) || !strings.Contains(err.Error(), "--reset") {
		t.Fatalf("second Init without Reset: %v, want ErrExists telling to use --reset", err)
	}
	// Nothing was touched by the refusal.
	if info, err := cat.Resolve(ctx, ref("iceberg.eu.bookings")); err != nil || info.Snapshot.Records != 800 {
		t.Fatalf("after the refused Init: %v, %+v", err, info.Snapshot)
	}

	cfg.Reset = true
	cfg.BookingsPerRegion = 900
	second, err := demo.Init(ctx, cfg, cat)
	if err != nil {
		t.Fatalf("Init with Reset: %v", err)
	}
	info, err := cat.Resolve(ctx, ref("iceberg.eu.bookings"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Snapshot.Records != 900 {
		t.Errorf("after Reset eu.bookings has %d rows, want 900", info.Snapshot.Records)
	}
	// The old files are gone: the table directory holds only the new ones.
	var parquet int64
	err = filepath.WalkDir(filepath.Join(dir, "warehouse", "eu", "eu", "bookings"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".parquet") {
			parquet++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if parquet != info.Snapshot.Files {
		t.Errorf("eu.bookings: %d parquet files on disk, the table has %d: Reset left old files", parquet, info.Snapshot.Files)
	}
	if len(second.Tables) != len(first.Tables) {
		t.Errorf("Reset wrote %d tables, the first run %d", len(second.Tables), len(first.Tables))
	}
}

// TestInitRefusesOtherTables checks a catalog that holds anything is not
// written into without Reset, and that Reset leaves tables that are not the
// demo's alone.
func TestInitRefusesOtherTables(t *testing.T) {
	dir := t.TempDir()
	cat := newCatalog(t, dir)
	ctx := context.Background()
	ic, err := cat.Iceberg(ctx, "iceberg")
	if err != nil {
		t.Fatal(err)
	}
	if err := ic.CreateNamespace(ctx, table.Identifier{"crm"}, nil); err != nil {
		t.Fatal(err)
	}
	sc := iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64})
	if _, err := ic.CreateTable(ctx, table.Identifier{"crm", "leads"}, sc,
		icecat.WithLocation("file://"+filepath.Join(dir, "elsewhere", "leads"))); err != nil {
		t.Fatal(err)
	}
	cfg := smallConfig(dir)
	cfg.BookingsPerRegion, cfg.GuestsPerRegion = 800, 100
	if _, err := demo.Init(ctx, cfg, cat); !errors.Is(err, demo.ErrExists) || !strings.Contains(err.Error(), "crm.leads") {
		t.Fatalf("Init into a catalog with crm.leads: %v, want ErrExists naming it", err)
	}
	cfg.Reset = true
	if _, err := demo.Init(ctx, cfg, cat); err != nil {
		t.Fatalf("Init with Reset: %v", err)
	}
	if _, err := ic.LoadTable(ctx, table.Identifier{"crm", "leads"}); err != nil {
		t.Errorf("Reset removed a table that is not the demo's: %v", err)
	}
}

// TestInitRefusesUsedLocation checks files left in a demo location (by a
// lake whose catalog was lost) are not mixed with new ones.
func TestInitRefusesUsedLocation(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "warehouse", "us", "tpch", "orders", "data")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "old.parquet"), []byte("PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := smallConfig(dir)
	cfg.BookingsPerRegion, cfg.GuestsPerRegion = 800, 100
	_, err := demo.Init(context.Background(), cfg, newCatalog(t, dir))
	if !errors.Is(err, demo.ErrExists) || !strings.Contains(err.Error(), "tpch/orders") {
		t.Fatalf("Init over stale files: %v, want ErrExists naming tpch/orders", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  demo.Config
		want string
	}{
		{"no dir", demo.Config{}, "dir"},
		{"negative bookings", demo.Config{Dir: "x", BookingsPerRegion: -1}, "bookings"},
		{"too many guests", demo.Config{Dir: "x", GuestsPerRegion: 200_000_000}, "guests"},
		{"tiny scale", demo.Config{Dir: "x", TPCHScale: 0.001}, "scale"},
		{"s3 without endpoint", demo.Config{S3: &catalog.S3Config{}}, "endpoint"},
	} {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want an error about %s", tc.name, err, tc.want)
		}
	}
	if err := (demo.Config{Dir: "x"}).Validate(); err != nil {
		t.Errorf("defaults: Validate() = %v", err)
	}
}

func TestInitNeedsTheRegions(t *testing.T) {
	dir := t.TempDir()
	cat, err := catalog.New(context.Background(), catalog.Config{
		Catalogs: map[string]catalog.IcebergConfig{"iceberg": {Type: "sql", Path: filepath.Join(dir, "catalog.db")}},
		Regions:  []catalog.Region{{Name: "eu"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	_, err = demo.Init(context.Background(), smallConfig(dir), cat)
	if err == nil || !strings.Contains(err.Error(), "us, apac") {
		t.Errorf("Init without regions us and apac: %v, want an error naming them", err)
	}
}

// cancelOnWrite cancels a context when the first progress line arrives.
type cancelOnWrite struct{ cancel context.CancelFunc }

func (c cancelOnWrite) Write(p []byte) (int, error) {
	c.cancel()
	return len(p), nil
}

func TestInitCancelled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := smallConfig(dir)
	cfg.Progress = cancelOnWrite{cancel}
	sum, err := demo.Init(ctx, cfg, newCatalog(t, dir))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Init cancelled after its first table: %v, want context.Canceled", err)
	}
	if len(sum.Tables) != 1 {
		t.Errorf("Init cancelled after its first table reports %d tables written, want 1", len(sum.Tables))
	}
}
