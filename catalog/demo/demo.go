package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/tpch"
)

// Defaults for Config.
const (
	DefaultTPCHScale         = tpch.DefaultScale
	DefaultBookingsPerRegion = 200_000
	DefaultGuestsPerRegion   = 50_000
	// DefaultSeed is also TPC-H's default seed, at which every one of the 22
	// TPC-H queries returns rows at scale 0.01.
	DefaultSeed = tpch.DefaultSeed
)

// TrinoCatalog is the Trino catalog the demo lake's tables are created in.
const TrinoCatalog = "iceberg"

// Regions returns the regions the demo lake holds data in, in a fresh
// slice; the catalog must be configured with all three.
func Regions() []string { return []string{"eu", "us", "apac"} }

// Jurisdiction is the jurisdiction of a demo region (the clusters' config
// names it; policy reads it): EEA for eu, US for us, JP for apac.
func Jurisdiction(region string) string {
	return map[string]string{"eu": "EEA", "us": "US", "apac": "JP"}[region]
}

// maxPerRegion bounds the per-region sizes: identifiers are numbered from a
// per-region base 100,000,000 apart.
const maxPerRegion = idStride - 1

// ErrExists is returned when the demo lake (or any table) is already there
// and Config.Reset is not set.
var ErrExists = errors.New("a lake exists")

// Config says where the demo lake goes and how big it is.
type Config struct {
	// Dir is Meridian's state directory: local warehouses are created under
	// Dir/warehouse/<region>. It is required unless S3 is set.
	Dir string
	// Reset removes the demo lake's tables and their files first. Without it
	// Init refuses to touch a catalog that already holds tables, or
	// locations that already hold files.
	Reset bool
	// S3, when not nil, puts the tables in the buckets lake-<region> on this
	// endpoint (created when missing) instead of local directories. The
	// Iceberg catalog must be configured to reach the same endpoint.
	S3 *catalog.S3Config
	// TPCHScale is the TPC-H scale factor (default 0.01: 60,175 lineitems).
	TPCHScale float64
	// BookingsPerRegion is the number of bookings per region (default 200,000).
	BookingsPerRegion int
	// GuestsPerRegion is the number of guests per region (default 50,000).
	GuestsPerRegion int
	// Seed selects the data; the same Seed and sizes give the same rows
	// (default DefaultSeed).
	Seed int64
	// Progress receives one line per table written; nil discards them.
	Progress io.Writer
}

func (c Config) withDefaults() Config {
	if c.TPCHScale == 0 {
		c.TPCHScale = DefaultTPCHScale
	}
	if c.BookingsPerRegion == 0 {
		c.BookingsPerRegion = DefaultBookingsPerRegion
	}
	if c.GuestsPerRegion == 0 {
		c.GuestsPerRegion = DefaultGuestsPerRegion
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c
}

// Validate checks the configuration, with defaults applied, and says what to
// fix.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.S3 == nil && c.Dir == "" {
		errs = append(errs, errors.New("dir is empty: set the state directory the local warehouses go under"))
	}
	if c.S3 != nil && c.S3.Endpoint == "" {
		errs = append(errs, errors.New("s3 endpoint is empty"))
	}
	if err := (tpch.Config{Scale: c.TPCHScale, Seed: c.Seed}).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("tpch %w", err))
	}
	if c.BookingsPerRegion < 1 || c.BookingsPerRegion > maxPerRegion {
		errs = append(errs, fmt.Errorf("bookings per region %d: must be between 1 and %d", c.BookingsPerRegion, maxPerRegion))
	}
	if c.GuestsPerRegion < 1 || c.GuestsPerRegion > maxPerRegion {
		errs = append(errs, fmt.Errorf("guests per region %d: must be between 1 and %d", c.GuestsPerRegion, maxPerRegion))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// Summary describes the demo lake Init wrote.
type Summary struct {
	// Tables are in the order written.
	Tables []TableSummary
	// Rows and Bytes are totals over Tables.
	Rows, Bytes int64
	// Regions are the regions holding data, in the order of Regions().
	Regions []string
	// Elapsed is how long Init took.
	Elapsed time.Duration
}

// TableSummary describes one table of the demo lake.
type TableSummary struct {
	// Name is the Trino name, iceberg.<schema>.<table>.
	Name string
	// Region is the table's meridian.residency.
	Region string
	// Classification is the table's meridian.classification.
	Classification catalog.Classification
	// Location is where the table's files are.
	Location string
	// Rows, Files and Bytes are the current snapshot's totals.
	Rows, Files, Bytes int64
	// Elapsed is how long creating and writing the table took.
	Elapsed time.Duration
}

// Init builds the demo lake in cat's catalog "iceberg" and returns what it
// wrote. It refuses a catalog that already holds tables, or demo locations
// that already hold files, unless cfg.Reset is set; then it drops the demo
// tables and deletes their files first (other tables are left alone). Each
// table is written in one snapshot and invalidated in cat's cache.
func Init(ctx context.Context, cfg Config, cat *catalog.Catalog) (Summary, error) {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	cfg = cfg.withDefaults()
	if missing := missingRegions(cat.Regions()); len(missing) > 0 {
		return Summary{}, fmt.Errorf("demo: the catalog configuration lacks region %s; the demo lake needs %s",
			strings.Join(missing, ", "), strings.Join(Regions(), ", "))
	}
	ic, err := cat.Iceberg(ctx, TrinoCatalog)
	if err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	wh, err := newWarehouse(ctx, cfg)
	if err != nil {
		return Summary{}, err
	}
	lake := newLake(cfg, wh)

	if err := makeRoom(ctx, cfg, ic, cat, wh, lake); err != nil {
		return Summary{}, err
	}
	if err := wh.prepare(ctx, Regions()); err != nil {
		return Summary{}, err
	}

	var sum Summary
	for _, t := range lake.tables {
		if err := ctx.Err(); err != nil {
			return sum, fmt.Errorf("demo: stopped before %s: %w", t.ref(), err)
		}
		ts, err := write(ctx, ic, t)
		cat.Invalidate(t.ref())
		if err != nil {
			return sum, fmt.Errorf("demo: write %s: %w (run again with --reset to start over)", t.ref(), err)
		}
		fmt.Fprintf(cfg.Progress, "%s.%s: %s, %s, %s, %.1f s\n",
			t.ns, t.name, plural(ts.Rows, "row"), plural(ts.Files, "file"), sizeText(ts.Bytes), ts.Elapsed.Seconds())
		sum.Tables = append(sum.Tables, ts)
		sum.Rows += ts.Rows
		sum.Bytes += ts.Bytes
	}
	for _, r := range Regions() {
		if slices.ContainsFunc(sum.Tables, func(ts TableSummary) bool { return ts.Region == r }) {
			sum.Regions = append(sum.Regions, r)
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

func missingRegions(configured []string) []string {
	var out []string
	for _, r := range Regions() {
		if !slices.Contains(configured, r) {
			out = append(out, r)
		}
	}
	return out
}

// makeRoom makes room for the demo lake: without Reset it checks that the
// catalog holds no table and the demo's locations no file; with Reset it
// drops the demo's tables and deletes their files.
func makeRoom(ctx context.Context, cfg Config, ic icecat.Catalog, cat *catalog.Catalog, wh *warehouse, lake *lake) error {
	if !cfg.Reset {
		existing, err := catalogTables(ctx, ic)
		if err != nil {
			return fmt.Errorf("demo: list the catalog's tables: %w", err)
		}
		if n := len(existing); n > 0 {
			if n > 3 {
				existing = append(existing[:3], "…")
			}
			return fmt.Errorf("demo: %w: the catalog holds %s (%s); use --reset to replace the demo lake",
				ErrExists, plural(int64(n), "table"), strings.Join(existing, ", "))
		}
		for _, t := range lake.tables {
			used, err := wh.used(ctx, t.location)
			if err != nil {
				return fmt.Errorf("demo: check %s: %w", t.location, err)
			}
			if used {
				return fmt.Errorf("demo: %w: %s holds files; use --reset to replace the demo lake", ErrExists, t.location)
			}
		}
		return nil
	}
	for _, t := range lake.tables {
		ident := table.Identifier{t.ns, t.name}
		err := ic.DropTable(ctx, ident)
		if err != nil && !errors.Is(err, icecat.ErrNoSuchTable) && !errors.Is(err, icecat.ErrNoSuchNamespace) {
			return fmt.Errorf("demo: drop %s: %w", t.ref(), err)
		}
		cat.Invalidate(t.ref())
		if err := wh.purge(ctx, t.location); err != nil {
			return fmt.Errorf("demo: delete the files of %s: %w", t.ref(), err)
		}
	}
	return nil
}

// catalogTables lists every table of the catalog as schema.table.
func catalogTables(ctx context.Context, ic icecat.Catalog) ([]string, error) {
	nss, err := ic.ListNamespaces(ctx, nil)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ns := range nss {
		for id, err := range ic.ListTables(ctx, ns) {
			if err != nil {
				return nil, err
			}
			out = append(out, strings.Join(id, "."))
		}
	}
	slices.Sort(out)
	return out, nil
}

// thousands renders n with comma separators: 200,000.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// plural renders a count of things: "1 file", "731 files".
func plural(n int64, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return thousands(n) + " " + thing + "s"
}

// sizeText renders a byte count in decimal units: 12.3 MB.
func sizeText(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	default:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	}
}
