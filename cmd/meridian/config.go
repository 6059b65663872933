package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/cluster"
	"github.com/meridian-lake/meridian/internal/cfgfile"
	"github.com/meridian-lake/meridian/internal/store"
	"github.com/meridian-lake/meridian/policy"
)

// Config is meridian.yaml. Every field is optional: the embedded defaults
// run the demo lake under Dir. Unknown fields are errors.
type Config struct {
	// Dir is where Meridian keeps local state and the demo lake (default
	// ".meridian" in the working directory).
	Dir string `yaml:"dir"`
	// Catalog maps Trino catalog names to Iceberg catalogs and storage
	// locations to regions. Default: catalog "iceberg" on Dir/catalog.db with
	// regions eu, us and apac in Dir/warehouse/<region> and s3://lake-<region>.
	Catalog catalog.Config `yaml:"catalog"`
	// Store is the state database (default Dir/state.db).
	Store store.Config `yaml:"store"`
	// Policy configures policy decisions.
	Policy PolicyConfig `yaml:"policy"`
	// Serve configures `meridian serve`: listeners, users, keys.
	Serve ServeConfig `yaml:"serve"`
	// Clusters lists the regions (with their jurisdictions) and their
	// Trino clusters.
	Clusters cluster.Config `yaml:"clusters"`
	// Lifecycle sets each region's storage budget and how lifecycle jobs
	// run (LifecycleConfig).
	Lifecycle LifecycleConfig `yaml:"lifecycle"`
}

// PolicyConfig configures policy decisions and their records.
type PolicyConfig struct {
	// DecisionRetention is how long decision records are kept (default 365
	// days); `meridian policy purge` deletes older ones.
	DecisionRetention time.Duration `yaml:"decision_retention"`
	// Evaluator decides each statement: "plan" (the default) runs OPA's plan
	// of the active version's decision (about 4x faster than OPA's
	// evaluator, and held to its decisions by tests); "topdown" uses OPA's
	// evaluator, as an escape hatch. A version whose plan cannot be run
	// uses topdown either way.
	Evaluator string `yaml:"evaluator"`
}

// maxConfigBytes bounds meridian.yaml.
const maxConfigBytes = 1 << 20

// DemoRegions are the regions of the embedded defaults and the demo lake.
var DemoRegions = []string{"eu", "us", "apac"}

// loadConfig reads path (or nothing when path is ""), then fills defaults.
// MERIDIAN_DIR overrides dir.
func loadConfig(path string) (Config, error) {
	var cfg Config
	if path != "" {
		data, err := cfgfile.Read(path, maxConfigBytes)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		if err := cfgfile.DecodeStrict(data, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if d := os.Getenv("MERIDIAN_DIR"); d != "" {
		cfg.Dir = d
	}
	return cfg.withDefaults()
}

func (c Config) withDefaults() (Config, error) {
	if c.Dir == "" {
		c.Dir = ".meridian"
	}
	dir, err := filepath.Abs(c.Dir)
	if err != nil {
		return c, fmt.Errorf("config: dir %q: %w", c.Dir, err)
	}
	c.Dir = dir
	if c.Store.Path == "" {
		c.Store.Path = filepath.Join(dir, "state.db")
	}
	if len(c.Catalog.Catalogs) == 0 {
		c.Catalog.Catalogs = map[string]catalog.IcebergConfig{
			"iceberg": {Type: "sql", Driver: "sqlite", Path: filepath.Join(dir, "catalog.db"),
				Warehouse: "file://" + filepath.Join(dir, "warehouse", "default")},
		}
	}
	if len(c.Catalog.Regions) == 0 {
		for _, r := range DemoRegions {
			c.Catalog.Regions = append(c.Catalog.Regions, catalog.Region{Name: r, Locations: []string{
				"file://" + filepath.Join(dir, "warehouse", r),
				"s3://lake-" + r,
			}})
		}
	}
	if c.Policy.DecisionRetention == 0 {
		c.Policy.DecisionRetention = 365 * 24 * time.Hour
	}
	if c.Policy.DecisionRetention < 24*time.Hour {
		return c, fmt.Errorf("config: policy.decision_retention %s: keep decision records at least a day", c.Policy.DecisionRetention)
	}
	if c.Policy.Evaluator == "" {
		c.Policy.Evaluator = policy.EvaluatorPlan
	}
	if c.Policy.Evaluator != policy.EvaluatorPlan && c.Policy.Evaluator != policy.EvaluatorTopdown {
		return c, fmt.Errorf("config: policy.evaluator %q: want %s (the default) or %s", c.Policy.Evaluator, policy.EvaluatorPlan, policy.EvaluatorTopdown)
	}
	if err := c.Catalog.Validate(); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	return c, nil
}
