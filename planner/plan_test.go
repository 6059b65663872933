package planner_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/catalog/demo"
	"github.com/meridian-lake/meridian/cluster"
	"github.com/meridian-lake/meridian/internal/store"
	"github.com/meridian-lake/meridian/planner"
	"github.com/meridian-lake/meridian/policy"
	policies "github.com/meridian-lake/meridian/rego"
)

// world is a small demo lake, the shipped policy and one cluster per
// region whose /v1/info a test can switch off.
type world struct {
	planner *planner.Planner
	// archived sees the partitions of iceberg.eu.bookings in January 2025
	// as archived (GLACIER, not restored).
	archived *planner.Planner
	up       map[string]*atomic.Bool
	clients  *cluster.Registry
}

var (
	worldOnce sync.Once
	theWorld  *world
	worldErr  error
)

func newWorld(t *testing.T) *world {
	t.Helper()
	worldOnce.Do(func() { theWorld, worldErr = buildWorld() })
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return theWorld
}

func buildWorld() (*world, error) {
	ctx := context.Background()
	dir, err := tempDir()
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "state.db")})
	if err != nil {
		return nil, err
	}
	cfg := catalog.Config{Catalogs: map[string]catalog.IcebergConfig{"iceberg": {Type: "sql", Path: filepath.Join(dir, "catalog.db"),
		Warehouse: "file://" + filepath.Join(dir, "warehouse", "default")}}}
	for _, r := range demo.Regions() {
		cfg.Regions = append(cfg.Regions, catalog.Region{Name: r, Locations: []string{"file://" + filepath.Join(dir, "warehouse", r)}})
	}
	cat, err := catalog.New(ctx, cfg, db)
	if err != nil {
		return nil, err
	}
	if _, err := demo.Init(ctx, demo.Config{Dir: dir, BookingsPerRegion: 500, GuestsPerRegion: 100}, cat); err != nil {
		return nil, err
	}
	// A view in the US namespace over EU personal data.
	ice, err := cat.Iceberg(ctx, "iceberg")
	if err != nil {
		return nil, err
	}
	vc, ok := ice.(interface {
		CreateView(ctx context.Context, id table.Identifier, sc *iceberg.Schema, sql string, props iceberg.Properties) error
	})
	if !ok {
		return nil, errors.New("the SQL catalog does not create views")
	}
	emailSchema := iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: "email", Type: iceberg.PrimitiveTypes.String})
	if err := vc.CreateView(ctx, table.Identifier{"us", "guest_emails"}, emailSchema, "SELECT email FROM iceberg.eu.guests", nil); err != nil {
		return nil, err
	}
	shipped, err := policy.LoadFS(policies.FS)
	if err != nil {
		return nil, err
	}
	reg, err := policy.OpenRegistry(ctx, db, shipped, time.Second)
	if err != nil {
		return nil, err
	}
	w := &world{up: map[string]*atomic.Bool{}}
	ccfg := cluster.Config{Regions: []cluster.Region{{Name: "eu", Jurisdiction: "EEA"}, {Name: "us", Jurisdiction: "US"}, {Name: "apac", Jurisdiction: "JP"}}}
	for _, r := range demo.Regions() {
		up := &atomic.Bool{}
		up.Store(true)
		w.up[r] = up
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
			if !up.Load() {
				http.Error(rw, "down", http.StatusServiceUnavailable)
				return
			}
			json.NewEncoder(rw).Encode(map[string]any{"nodeVersion": map[string]string{"version": "t"}, "coordinator": true})
		}))
		ccfg.Clusters = append(ccfg.Clusters, cluster.ClusterConfig{Name: r + "-1", Region: r, URL: srv.URL})
	}
	clusters, err := cluster.New(ccfg)
	if err != nil {
		return nil, err
	}
	clusters.Check(ctx, http.DefaultClient)
	w.clients = clusters
	w.planner = &planner.Planner{Catalog: cat, Policy: reg.Engine(), Clusters: clusters}
	cold, err := catalog.New(ctx, cfg, db, catalog.WithPartitionStates(januaryArchived{}))
	if err != nil {
		return nil, err
	}
	w.archived = &planner.Planner{Catalog: cold, Policy: reg.Engine(), Clusters: clusters}
	return w, nil
}

var users = map[string]policy.Subject{
	"anna":  {User: "anna", Region: "eu", Groups: []string{"analysts"}, Purposes: []string{"analytics", "support"}, Authenticated: true},
	"sam":   {User: "sam", Region: "us", Groups: []string{"analysts"}, Purposes: []string{"analytics"}, Authenticated: true},
	"kenji": {User: "kenji", Region: "apac", Groups: []string{"analysts"}, Purposes: []string{"analytics"}, Authenticated: true},
}

func (w *world) plan(t *testing.T, user, purpose, sqlText string, prepared map[string]string) *planner.Plan {
	t.Helper()
	return w.planner.Plan(context.Background(), planner.Request{SQL: sqlText, Session: planner.Session{Catalog: "iceberg", Schema: "eu"},
		Subject: users[user], Purpose: purpose, Prepared: prepared, QueryID: "20261122_000000_00000_plan1", Source: "test"})
}

func TestPlanRoutesAndRefuses(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		name, user, purpose, sql string
		prepared                 map[string]string
		region                   string // the chosen region, "" when refused
		errName                  string
		errHas                   []string
	}{
		{name: "baseline: an EU user's count runs in the EU", user: "anna", purpose: "analytics",
			sql: "SELECT COUNT(*) FROM guests WHERE country = 'France'", region: "eu"},
		{name: "baseline: a US user's SELECT * is denied", user: "sam", purpose: "analytics",
			sql: "SELECT * FROM iceberg.eu.guests", errName: "PERMISSION_DENIED",
			errHas: []string{"gdpr.transfer", "iceberg.eu.guests", "eu", "us"}},
		{name: "aggregate export to the US", user: "sam", purpose: "analytics",
			sql: "SELECT country, count(*) AS n FROM iceberg.eu.guests GROUP BY country", region: "eu"},
		{name: "no purpose declared", user: "anna",
			sql: "SELECT email FROM guests", errName: "PERMISSION_DENIED", errHas: []string{"gdpr.purpose", "SET SESSION purpose"}},
		{name: "TPC-H runs where the data is", user: "sam",
			sql: "SELECT count(*) FROM iceberg.tpch.lineitem", region: "us"},
		{name: "public data from the user's region", user: "kenji",
			sql: "SELECT 1", region: "apac"},
		{name: "a CTE named like a protected table is not the table", user: "sam",
			sql: "WITH guests AS (SELECT 1 AS x) SELECT * FROM guests", region: "us"},
		{name: "EXECUTE is planned as the prepared statement", user: "sam", purpose: "analytics",
			sql: "EXECUTE q USING 'x'", prepared: map[string]string{"q": "SELECT email FROM iceberg.eu.guests WHERE full_name = ?"},
			errName: "PERMISSION_DENIED", errHas: []string{"gdpr.transfer", "iceberg.eu.guests"}},
		{name: "EXECUTE without the prepared statement is refused", user: "anna", purpose: "analytics",
			sql: "EXECUTE q", errName: "PERMISSION_DENIED", errHas: []string{"statement.opaque"}},
		{name: "EXECUTE IMMEDIATE is unwrapped", user: "sam", purpose: "analytics",
			sql: "EXECUTE IMMEDIATE 'SELECT * FROM iceberg.eu.guests'", errName: "PERMISSION_DENIED", errHas: []string{"gdpr.transfer"}},
		{name: "comments and quoting do not hide a table", user: "sam", purpose: "analytics",
			sql: "SELECT /* iceberg.us.guests */ \"EMAIL\" FROM \"ICEBERG\".\"EU\".\"GUESTS\" -- x", errName: "PERMISSION_DENIED", errHas: []string{"iceberg.eu.guests"}},
		{name: "a view over a protected table is checked as the table", user: "sam", purpose: "analytics",
			sql: "SELECT * FROM iceberg.us.guest_emails", errName: "PERMISSION_DENIED", errHas: []string{"gdpr.transfer", "iceberg.eu.guests"}},
		{name: "counting through the view is an aggregate export", user: "sam", purpose: "analytics",
			sql: "SELECT count(*) FROM iceberg.us.guest_emails", region: "eu"},
		{name: "an unknown table", user: "anna", sql: "SELECT * FROM iceberg.eu.nope",
			errName: "TABLE_NOT_FOUND", errHas: []string{"iceberg.eu.nope"}},
		{name: "an unqualified name without a session schema", user: "anna", sql: "SELECT * FROM nope",
			errName: "TABLE_NOT_FOUND"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := w.plan(t, tc.user, tc.purpose, tc.sql, tc.prepared)
			if tc.errName == "" {
				if p.Error != nil || p.Region != tc.region {
					t.Fatalf("plan: region %q error %v; want region %q (decision %+v)", p.Region, p.Error, tc.region, p.Decision)
				}
				// An aggregate export carries its minimum group size.
				if _, export := p.Decision.Obligations["min_group_size"]; export != strings.Contains(p.SQL, "HAVING count(*) >=") {
					t.Fatalf("obligations %v but forwarded %q", p.Decision.Obligations, p.SQL)
				}
				return
			}
			if p.Error == nil || p.Error.Code.Name != tc.errName {
				t.Fatalf("plan error = %v; want %s (region %q)", p.Error, tc.errName, p.Region)
			}
			for _, s := range tc.errHas {
				if !strings.Contains(p.Error.Message, s) {
					t.Errorf("error %q does not mention %q", p.Error.Message, s)
				}
			}
			rec := p.Record("rec-1")
			if rec.Allow || rec.Input == nil || len(rec.Violations) == 0 {
				t.Errorf("record of a refusal: %+v", rec)
			}
		})
	}
}

// Literals never reach the record: the statement is normalised.
func TestPlanRecordHasNoLiterals(t *testing.T) {
	w := newWorld(t)
	p := w.plan(t, "anna", "analytics", "SELECT COUNT(*) FROM guests WHERE email = 'anna@example.com'", nil)
	rec := p.Record("r")
	b, _ := json.Marshal(rec)
	if strings.Contains(string(b), "anna@example.com") {
		t.Fatalf("the record holds a literal: %s", b)
	}
	if !rec.Allow || rec.VersionID == 0 || rec.Statement == "" || rec.Fingerprint == "" {
		t.Fatalf("record = %+v", rec)
	}
}

// Compliance beats availability: with the EU down an EU-bound statement is
// refused naming eu, never sent elsewhere; US statements keep working.
func TestPlanNeverFallsBack(t *testing.T) {
	w := newWorld(t)
	w.up["eu"].Store(false)
	w.clients.Check(context.Background(), http.DefaultClient)
	t.Cleanup(func() {
		w.up["eu"].Store(true)
		w.clients.Check(context.Background(), http.DefaultClient)
	})
	p := w.plan(t, "anna", "analytics", "SELECT COUNT(*) FROM guests", nil)
	if p.Error == nil || p.Error.Code.Name != "NO_NODES_AVAILABLE" || !strings.Contains(p.Error.Message, "eu") {
		t.Fatalf("EU statement with the EU down: %v (region %q)", p.Error, p.Region)
	}
	if p.Decision.Allow != true {
		t.Errorf("the policy allowed it; only the cluster is missing: %+v", p.Decision)
	}
	if rec := p.Record("r"); rec.Allow || !strings.HasPrefix(rec.Violations[len(rec.Violations)-1].Rule, "cluster.") {
		t.Errorf("record = %+v", rec)
	}
	if p := w.plan(t, "sam", "", "SELECT count(*) FROM iceberg.tpch.nation", nil); p.Error != nil || p.Region != "us" {
		t.Fatalf("US statement: %v %q", p.Error, p.Region)
	}
}

var worldDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if worldDir != "" {
		os.RemoveAll(worldDir)
	}
	os.Exit(code)
}

func tempDir() (string, error) {
	d, err := os.MkdirTemp("", "meridian-planner-")
	worldDir = d
	return d, err
}

// januaryArchived reports eu.bookings' January 2025 partitions as archived:
// what lifecycle's state store says after tiering them to GLACIER.
type januaryArchived struct{}

func (januaryArchived) PartitionStates(_ context.Context, ref catalog.TableRef) (map[string]catalog.PartitionState, error) {
	if ref.String() != "iceberg.eu.bookings" {
		return nil, nil
	}
	out := map[string]catalog.PartitionState{}
	for d := 1; d <= 31; d++ {
		out[fmt.Sprintf("check_in_day=2025-01-%02d", d)] = catalog.PartitionState{StorageClass: "GLACIER", Unreadable: true}
	}
	return out, nil
}

// A statement that would read archived partitions is refused, naming them
// and the restore command; one whose predicates avoid them runs.
func TestPlanRefusesArchivedPartitions(t *testing.T) {
	w := newWorld(t)
	plan := func(sqlText string) *planner.Plan {
		return w.archived.Plan(context.Background(), planner.Request{SQL: sqlText, Session: planner.Session{Catalog: "iceberg", Schema: "eu"},
			Subject: users["anna"], Purpose: "analytics", QueryID: "q"})
	}
	p := plan("SELECT count(*) FROM bookings WHERE check_in BETWEEN DATE '2025-01-10' AND DATE '2025-01-11'")
	if p.Error == nil || !strings.Contains(p.Error.Message, "meridian lifecycle restore iceberg.eu.bookings --partition check_in_day=2025-01-10") {
		t.Fatalf("archived read: %v", p.Error)
	}
	if p.Input.Tables[0].UnreadablePartitions != 2 {
		t.Errorf("policy input unreadable_partitions = %d, want 2", p.Input.Tables[0].UnreadablePartitions)
	}
	if p := plan("SELECT count(*) FROM bookings"); p.Error == nil || !strings.Contains(p.Error.Message, "31 partition(s)") {
		t.Fatalf("a full scan: %v", p.Error)
	}
	if p := plan("SELECT count(*) FROM bookings WHERE check_in >= DATE '2025-03-01'"); p.Error != nil {
		t.Fatalf("a read of readable partitions: %v", p.Error)
	}
}
