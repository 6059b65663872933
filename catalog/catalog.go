package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	icebergio "github.com/apache/iceberg-go/io"
	_ "github.com/apache/iceberg-go/io/gocloud/s3" // registers s3:// for table files
	"github.com/apache/iceberg-go/table"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	"github.com/meridian-lake/meridian/internal/store"
)

// Catalog resolves Trino table names through the configured Iceberg catalogs.
// It is safe for concurrent use.
type Catalog struct {
	cfg     Config
	regions regionIndex
	audit   *store.DB // where tag edits are recorded; nil refuses edits
	cache   *cache

	mu     sync.Mutex
	opened map[string]*backend
	now    func() time.Time
	states PartitionStates // nil: no partition storage states
}

// backend is one opened Iceberg catalog.
type backend struct {
	name     string
	cat      icecat.Catalog
	db       *sql.DB // the SQL catalog's database, closed with the catalog
	loadView func(ctx context.Context, ident table.Identifier) (sql, dialect string, err error)
}

// New checks cfg and returns a Catalog. Iceberg catalogs are opened on first
// use, so an unreachable one fails the statements that need it, not startup.
// audit, when not nil, records tag edits.
func New(ctx context.Context, cfg Config, audit *store.DB, opts ...Option) (*Catalog, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if audit != nil {
		if err := audit.Migrate(ctx, "catalog", migrations); err != nil {
			return nil, err
		}
	}
	c := &Catalog{
		cfg:     cfg,
		regions: newRegionIndex(cfg.Regions),
		audit:   audit,
		opened:  map[string]*backend{},
		now:     time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	c.cache = newCache(cfg.CacheTTL, cfg.MaxCachedTables, c.load)
	return c, nil
}

// Close closes the opened Iceberg catalogs.
func (c *Catalog) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for name, b := range c.opened {
		if b.db != nil {
			errs = append(errs, b.db.Close())
		}
		delete(c.opened, name)
	}
	return errors.Join(errs...)
}

// Regions returns the configured region names, sorted.
func (c *Catalog) Regions() []string {
	out := make([]string, 0, len(c.regions.names))
	for r := range c.regions.names {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// RegionOf returns the region whose locations hold location.
func (c *Catalog) RegionOf(location string) (string, bool) { return c.regions.lookup(location) }

// Iceberg returns the Iceberg catalog behind a Trino catalog name, for
// components that write or maintain tables (demo lake, lifecycle, engine).
// Writes made through it must be followed by Invalidate.
func (c *Catalog) Iceberg(ctx context.Context, name string) (icecat.Catalog, error) {
	b, err := c.backend(ctx, name)
	if err != nil {
		return nil, err
	}
	return b.cat, nil
}

func (c *Catalog) backend(ctx context.Context, name string) (*backend, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.opened[name]; ok {
		return b, nil
	}
	ic, ok := c.cfg.Catalogs[name]
	if !ok {
		return nil, &Error{Kind: ErrCatalogNotFound, Catalog: name, Msg: fmt.Sprintf("catalog %q is not configured (configured: %s)", name, strings.Join(c.catalogNames(), ", "))}
	}
	b, err := open(ctx, name, ic)
	if err != nil {
		return nil, &Error{Kind: ErrUnavailable, Catalog: name, Msg: "cannot open the Iceberg catalog", Err: err}
	}
	c.opened[name] = b
	return b, nil
}

func (c *Catalog) catalogNames() []string {
	out := make([]string, 0, len(c.cfg.Catalogs))
	for n := range c.cfg.Catalogs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// fileProps are the iceberg-go FileIO properties for ic's storage.
func fileProps(ic IcebergConfig) iceberg.Properties {
	props := iceberg.Properties{}
	for k, v := range ic.Properties {
		props[k] = v
	}
	s3 := ic.S3
	set := func(k, v string) {
		if v != "" {
			props[k] = v
		}
	}
	set(icebergio.S3EndpointURL, s3.Endpoint)
	set(icebergio.S3Region, s3.Region)
	set(icebergio.S3AccessKeyID, s3.AccessKeyID)
	set(icebergio.S3SecretAccessKey, s3.SecretAccessKey)
	if s3.PathStyle {
		props[icebergio.S3ForceVirtualAddressing] = "false"
	}
	if ic.Warehouse != "" && ic.Type == "sql" {
		props["warehouse"] = ic.Warehouse
	}
	return props
}

func open(ctx context.Context, name string, ic IcebergConfig) (*backend, error) {
	props := fileProps(ic)
	switch ic.Type {
	case "sql":
		var (
			db      *sql.DB
			err     error
			dialect sqlcat.SupportedDialect
		)
		if ic.Driver == "postgres" {
			db, err = sql.Open("pgx", ic.DSN)
			dialect = sqlcat.Postgres
		} else {
			db, err = sql.Open("sqlite", sqliteDSN(ic.Path))
			dialect = sqlcat.SQLite
		}
		if err != nil {
			return nil, err
		}
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, err
		}
		cat, err := sqlcat.NewCatalog(name, db, dialect, props)
		if err != nil {
			db.Close()
			return nil, err
		}
		return &backend{name: name, cat: cat, db: db, loadView: func(ctx context.Context, id table.Identifier) (string, string, error) {
			m, err := cat.LoadView(ctx, id)
			if err != nil {
				return "", "", err
			}
			return viewSQL(m.CurrentVersion().Representations)
		}}, nil
	case "rest":
		opts := []rest.Option{rest.WithAdditionalProps(props)}
		if ic.Warehouse != "" {
			opts = append(opts, rest.WithWarehouseLocation(ic.Warehouse))
		}
		if ic.Token != "" {
			opts = append(opts, rest.WithOAuthToken(ic.Token))
		}
		if ic.Credential != "" {
			opts = append(opts, rest.WithCredential(ic.Credential))
		}
		if ic.SigV4 {
			opts = append(opts, rest.WithSigV4RegionSvc(ic.SigV4Region, ic.SigV4Service))
		}
		cat, err := rest.NewCatalog(ctx, name, ic.URI, opts...)
		if err != nil {
			return nil, err
		}
		return &backend{name: name, cat: cat, loadView: func(ctx context.Context, id table.Identifier) (string, string, error) {
			v, err := cat.LoadView(ctx, id)
			if err != nil {
				return "", "", err
			}
			return viewSQL(v.Metadata().CurrentVersion().Representations)
		}}, nil
	}
	return nil, fmt.Errorf("unknown catalog type %q", ic.Type)
}

// sqliteDSN opens the SQLite catalog file with a busy timeout, so concurrent
// writers (demo init, tag edits) wait instead of failing.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// viewSQL picks the view's SQL: the Trino dialect if there is one.
func viewSQL(reps []viewRepresentation) (string, string, error) {
	var best *viewRepresentation
	for i := range reps {
		r := &reps[i]
		if r.Type != "sql" {
			continue
		}
		if best == nil || strings.EqualFold(r.Dialect, "trino") {
			best = r
		}
	}
	if best == nil {
		return "", "", errors.New("the view has no SQL representation")
	}
	return best.Sql, best.Dialect, nil
}

// Resolve returns what Meridian knows of the table ref names, from the cache
// when fresh. Errors are *Error: ErrTableNotFound, ErrCatalogNotFound,
// ErrUnavailable or ErrInvalidProperty.
func (c *Catalog) Resolve(ctx context.Context, ref TableRef) (TableInfo, error) {
	base, suffix := ref.Base()
	info, err := c.cache.get(ctx, base)
	if err != nil {
		return TableInfo{}, err
	}
	if suffix != "" {
		if info.Kind == KindView {
			return TableInfo{}, &Error{Kind: ErrTableNotFound, Table: ref.String(), Msg: "a view has no metadata tables"}
		}
		cp := *info
		cp.Ref, cp.Metadata = ref, suffix
		return cp, nil
	}
	if c.states != nil && info.Kind == KindTable {
		return c.withStates(ctx, *info)
	}
	return *info, nil
}

// Invalidate drops ref from the cache; the next Resolve reloads it.
func (c *Catalog) Invalidate(ref TableRef) {
	base, _ := ref.Base()
	c.cache.invalidate(base)
}

// CacheStats reports the cache's counters.
func (c *Catalog) CacheStats() CacheStats { return c.cache.stats() }

// load reads ref from its Iceberg catalog (a cache miss).
func (c *Catalog) load(ctx context.Context, ref TableRef) (*TableInfo, error) {
	b, err := c.backend(ctx, ref.Catalog)
	if err != nil {
		return nil, err
	}
	ident := table.Identifier{ref.Schema, ref.Table}
	tbl, err := b.cat.LoadTable(ctx, ident)
	switch {
	case err == nil:
		return c.describe(ctx, ref, tbl)
	case errors.Is(err, icecat.ErrNoSuchTable), errors.Is(err, icecat.ErrNoSuchNamespace):
		sqlText, dialect, verr := b.loadView(ctx, ident)
		if verr == nil {
			return &TableInfo{Ref: ref, Kind: KindView, ViewSQL: sqlText, ViewDialect: dialect, Region: RegionUnknown, RegionSource: RegionNotFound}, nil
		}
		if isNotFound(verr) {
			return nil, &Error{Kind: ErrTableNotFound, Catalog: ref.Catalog, Table: ref.String(), Msg: "no such table or view"}
		}
		return nil, &Error{Kind: ErrUnavailable, Catalog: ref.Catalog, Table: ref.String(), Msg: "cannot load view", Err: verr}
	default:
		return nil, &Error{Kind: ErrUnavailable, Catalog: ref.Catalog, Table: ref.String(), Msg: "cannot load table metadata", Err: err}
	}
}

func isNotFound(err error) bool {
	return errors.Is(err, icecat.ErrNoSuchView) || errors.Is(err, icecat.ErrNoSuchTable) ||
		errors.Is(err, icecat.ErrNoSuchNamespace) || strings.Contains(err.Error(), "views are not supported")
}

// describe turns a loaded Iceberg table into a TableInfo.
func (c *Catalog) describe(ctx context.Context, ref TableRef, tbl *table.Table) (*TableInfo, error) {
	props := map[string]string(tbl.Properties())
	gov, colTags, err := parseGovernance(ref.String(), props, func(r string) bool { return c.regions.names[r] })
	if err != nil {
		return nil, err
	}
	info := &TableInfo{Ref: ref, Kind: KindTable, Location: tbl.Location(), Governance: gov, Properties: props}
	switch {
	case gov.Residency != "":
		info.Region, info.RegionSource = gov.Residency, RegionFromProperty
	default:
		if r, ok := c.regions.lookup(tbl.Location()); ok {
			info.Region, info.RegionSource = r, RegionFromLocation
		} else {
			info.Region, info.RegionSource = RegionUnknown, RegionNotFound
		}
	}
	sc := tbl.Schema()
	for _, f := range sc.Fields() {
		info.Columns = append(info.Columns, Column{
			Name:     strings.ToLower(f.Name),
			Type:     f.Type.String(),
			Required: f.Required,
			Tags:     colTags[strings.ToLower(f.Name)],
		})
	}
	spec := tbl.Spec()
	for _, f := range spec.Fields() {
		src, _ := sc.FindColumnName(f.SourceID())
		info.Partition = append(info.Partition, PartitionField{Name: f.Name, Source: strings.ToLower(src), Transform: f.Transform.String()})
	}
	if snap := tbl.CurrentSnapshot(); snap != nil {
		info.Snapshot = snapshotStats(snap)
		parts, err := partitionStats(ctx, tbl)
		if err != nil {
			return nil, &Error{Kind: ErrUnavailable, Catalog: ref.Catalog, Table: ref.String(), Msg: "cannot read the table's manifests", Err: err}
		}
		info.Partitions = parts
	}
	return info, nil
}
