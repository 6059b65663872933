package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/cfgfile"
	"github.com/meridian-lake/meridian/internal/store"
	"github.com/meridian-lake/meridian/lifecycle"
)

// LifecycleConfig is the lifecycle: section of meridian.yaml: the budgets
// each region's lake must stay under and how the jobs that keep it there
// run. Every field is optional but Budgets, which plan, apply and report
// need (or --budget on the command line).
type LifecycleConfig struct {
	// Budgets lists each region's monthly storage budget: region (as the
	// catalog names it), price_region (the AWS region whose prices apply;
	// default eu-central-1 for region "eu", else us-east-1) and monthly
	// (US dollars, an exact decimal such as 1250.50).
	Budgets []lifecycle.RegionBudget `yaml:"budgets,omitempty"`
	// QueryableWindow keeps partitions read within it in a class queries
	// can read (default 2160h, 90 days).
	QueryableWindow time.Duration `yaml:"queryable_window,omitempty"`
	// ArchiveWindow is how long a partition must have gone unread before
	// an archive class (GLACIER, DEEP_ARCHIVE) may hold it (default 8760h,
	// 365 days).
	ArchiveWindow time.Duration `yaml:"archive_window,omitempty"`
	// HorizonMonths spreads one-time charges (transitions, early
	// deletion) over this many months when weighing a move (default 12).
	HorizonMonths int `yaml:"horizon_months,omitempty"`
	// Prices is a price table file (YAML or JSON with a version) that
	// replaces the built-in AWS list prices of the regions it names.
	Prices string `yaml:"prices,omitempty"`
	// ObjectsPerSecond caps apply's copies and tags (default 50).
	ObjectsPerSecond float64 `yaml:"objects_per_second,omitempty"`
	// Concurrency is how many partitions apply moves at once (default 4).
	Concurrency int `yaml:"concurrency,omitempty"`
	// ListRequestsPerSecond caps scan's ListObjectsV2 calls (default 100).
	ListRequestsPerSecond float64 `yaml:"list_requests_per_second,omitempty"`
	// TagRuleMinObjects moves partitions of at least this many objects by
	// tagging them for a bucket lifecycle rule instead of copying them (0,
	// the default: always copy). apply prints the rules to install.
	TagRuleMinObjects int64 `yaml:"tag_rule_min_objects,omitempty"`
	// SimulateStorageClasses models storage classes with lifecycle's
	// simulator (class per object in the state database, archived reads
	// failing, restores taking time), for S3 servers that ignore them.
	// Default: true when the S3 endpoint is on this machine (versitygw,
	// MinIO), false otherwise (AWS, which has real storage classes).
	SimulateStorageClasses *bool `yaml:"simulate_storage_classes,omitempty"`
	// Schedules maps a lifecycle job ("apply") to a five-field cron
	// schedule in UTC ("0 3 * * *"), for meridian serve to run.
	Schedules map[string]string `yaml:"schedules,omitempty"`
}

// lifecycleJobs are the jobs Schedules may name.
var lifecycleJobs = map[string]bool{"apply": true}

func (c LifecycleConfig) withDefaults() LifecycleConfig {
	if c.QueryableWindow == 0 {
		c.QueryableWindow = 90 * 24 * time.Hour
	}
	if c.ArchiveWindow == 0 {
		c.ArchiveWindow = 365 * 24 * time.Hour
	}
	if c.HorizonMonths == 0 {
		c.HorizonMonths = 12
	}
	for i, b := range c.Budgets {
		if b.PriceRegion == "" {
			c.Budgets[i].PriceRegion = defaultPriceRegion(b.Region)
		}
	}
	return c
}

func defaultPriceRegion(region string) string {
	if region == "eu" {
		return "eu-central-1"
	}
	return "us-east-1"
}

// validate checks what the optimizer does not.
func (c LifecycleConfig) validate() error {
	for name, spec := range c.Schedules {
		if !lifecycleJobs[name] {
			return fmt.Errorf("lifecycle.schedules: unknown job %q: want apply", name)
		}
		if _, err := lifecycle.ParseCron(spec); err != nil {
			return fmt.Errorf("lifecycle.schedules.%s: %w", name, err)
		}
	}
	if c.ObjectsPerSecond < 0 || c.ListRequestsPerSecond < 0 || c.Concurrency < 0 || c.TagRuleMinObjects < 0 {
		return errors.New("lifecycle: rates, concurrency and tag_rule_min_objects must not be negative")
	}
	return nil
}

// prices reads the price table: the built-in list prices, with the file's
// regions replacing theirs.
func (c LifecycleConfig) prices() (lifecycle.PriceTable, error) {
	base := lifecycle.DefaultPrices()
	if c.Prices == "" {
		return base, nil
	}
	data, err := cfgfile.Read(c.Prices, maxConfigBytes)
	if err != nil {
		return lifecycle.PriceTable{}, fmt.Errorf("lifecycle.prices: %w", err)
	}
	return lifecycle.ParsePriceTable(data, base)
}

// simulate reports whether storage classes are simulated for endpoint.
func (c LifecycleConfig) simulate(endpoint string) bool {
	if c.SimulateStorageClasses != nil {
		return *c.SimulateStorageClasses
	}
	return localEndpoint(endpoint)
}

// localEndpoint reports whether an S3 endpoint is on this machine.
func localEndpoint(endpoint string) bool {
	if endpoint == "" {
		return false // the AWS default endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// lakeS3 is the S3 configuration lifecycle reaches the lake with: the
// first catalog's that has one ("iceberg" first).
func lakeS3(cfg catalog.Config) catalog.S3Config {
	if ic, ok := cfg.Catalogs["iceberg"]; ok && ic.S3.Endpoint != "" {
		return ic.S3
	}
	for _, ic := range cfg.Catalogs {
		if ic.S3.Endpoint != "" {
			return ic.S3
		}
	}
	return catalog.S3Config{}
}

// objectStore is the lake's S3 as lifecycle's ObjectStore: the plain
// client, or wrapped in the storage-class simulator.
func objectStore(ctx context.Context, cfg Config, db *store.DB, prices lifecycle.PriceTable, now func() time.Time) (lifecycle.ObjectStore, bool, error) {
	s3cfg := lakeS3(cfg.Catalog)
	client, err := s3cfg.Client(ctx)
	if err != nil {
		return nil, false, err
	}
	plain := lifecycle.NewS3Store(client)
	if !cfg.Lifecycle.simulate(s3cfg.Endpoint) {
		return plain, false, nil
	}
	pricer, err := lifecycle.NewPricer(prices, "us-east-1")
	if err != nil {
		return nil, false, err
	}
	sim, err := lifecycle.NewSimulatedStorageClasses(ctx, plain, db, pricer, now)
	if err != nil {
		return nil, false, err
	}
	return sim, true, nil
}
