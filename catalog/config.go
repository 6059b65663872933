package catalog

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Config says which Iceberg catalogs back which Trino catalog names, and which
// storage locations belong to which region.
type Config struct {
	// Catalogs maps a Trino catalog name (as clients write it, e.g. "iceberg")
	// to the Iceberg catalog behind it.
	Catalogs map[string]IcebergConfig `yaml:"catalogs"`
	// Regions are the regions Meridian knows, each with the storage locations
	// whose data lives there. A table without meridian.residency takes the
	// region of the longest matching location prefix.
	Regions []Region `yaml:"regions"`
	// CacheTTL is how long a resolved table is served from memory (default
	// 30s). Tag edits and writes made through Meridian invalidate at once.
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// MaxCachedTables bounds the cache (default 100,000 tables).
	MaxCachedTables int `yaml:"max_cached_tables"`
}

// Region is a region and the storage locations it holds.
type Region struct {
	// Name is the region code used in policies and meridian.residency ("eu").
	Name string `yaml:"name"`
	// Locations are location prefixes in this region: "s3://lake-eu/",
	// "file:///var/lake/eu/".
	Locations []string `yaml:"locations"`
}

// IcebergConfig is one Iceberg catalog.
type IcebergConfig struct {
	// Type is "sql" (an SQL catalog on SQLite or PostgreSQL) or "rest"
	// (Polaris, Lakekeeper, Glue or S3 Tables through the REST protocol).
	Type string `yaml:"type"`
	// Driver is the SQL catalog's database: "sqlite" (default) or "postgres".
	Driver string `yaml:"driver"`
	// Path is the SQLite catalog file.
	Path string `yaml:"path"`
	// DSN is the PostgreSQL connection string.
	DSN string `yaml:"dsn"`
	// URI is the REST catalog's endpoint.
	URI string `yaml:"uri"`
	// Warehouse is the default location for new tables (SQL) or the
	// warehouse identifier (REST).
	Warehouse string `yaml:"warehouse"`
	// Token is an OAuth2 bearer token for the REST catalog.
	Token string `yaml:"token"`
	// Credential is an OAuth2 client "id:secret" for the REST catalog.
	Credential string `yaml:"credential"`
	// SigV4 signs REST requests with AWS credentials (Glue, S3 Tables).
	SigV4 bool `yaml:"sigv4"`
	// SigV4Region and SigV4Service name the signing scope.
	SigV4Region  string `yaml:"sigv4_region"`
	SigV4Service string `yaml:"sigv4_service"`
	// S3 configures reading s3:// locations.
	S3 S3Config `yaml:"s3"`
	// Properties are passed to iceberg-go as they are.
	Properties map[string]string `yaml:"properties"`
}

// S3Config is how table files in S3 are reached. Empty credentials use the
// standard AWS chain (environment, shared config, instance role).
type S3Config struct {
	Endpoint        string `yaml:"endpoint"`
	Region          string `yaml:"region"`
	PathStyle       bool   `yaml:"path_style"`
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
}

func (c Config) withDefaults() Config {
	if c.CacheTTL == 0 {
		c.CacheTTL = 30 * time.Second
	}
	if c.MaxCachedTables <= 0 {
		c.MaxCachedTables = 100_000
	}
	for name, ic := range c.Catalogs {
		if ic.Type == "sql" && ic.Driver == "" {
			ic.Driver = "sqlite"
			c.Catalogs[name] = ic
		}
	}
	return c
}

var wordRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// Validate checks the configuration and says what to fix.
func (c Config) Validate() error {
	var errs []error
	if len(c.Catalogs) == 0 {
		errs = append(errs, errors.New("catalog: no catalogs configured"))
	}
	for name, ic := range c.Catalogs {
		if !wordRE.MatchString(name) {
			errs = append(errs, fmt.Errorf("catalog %q: name must be lower-case letters, digits, '_' or '-'", name))
		}
		if err := ic.validate(); err != nil {
			errs = append(errs, fmt.Errorf("catalog %s: %w", name, err))
		}
	}
	seen := map[string]bool{}
	for _, r := range c.Regions {
		if !wordRE.MatchString(r.Name) || r.Name == RegionUnknown {
			errs = append(errs, fmt.Errorf("region %q: name must be lower-case letters, digits, '_' or '-' (and not %q)", r.Name, RegionUnknown))
		}
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("region %s: listed twice", r.Name))
		}
		seen[r.Name] = true
		for _, l := range r.Locations {
			if !strings.Contains(l, "://") {
				errs = append(errs, fmt.Errorf("region %s: location %q needs a scheme (s3://bucket/prefix or file:///path)", r.Name, l))
			}
		}
	}
	if c.CacheTTL < 0 {
		errs = append(errs, errors.New("catalog: cache_ttl must not be negative"))
	}
	return errors.Join(errs...)
}

func (ic IcebergConfig) validate() error {
	switch ic.Type {
	case "sql":
		switch ic.Driver {
		case "", "sqlite":
			if ic.Path == "" {
				return errors.New("an sqlite catalog needs path")
			}
		case "postgres":
			if ic.DSN == "" {
				return errors.New("a postgres catalog needs dsn")
			}
		default:
			return fmt.Errorf("driver %q: use sqlite or postgres", ic.Driver)
		}
	case "rest":
		if !strings.HasPrefix(ic.URI, "http://") && !strings.HasPrefix(ic.URI, "https://") {
			return fmt.Errorf("a rest catalog needs an http(s) uri, got %q", ic.URI)
		}
		if ic.Token != "" && ic.Credential != "" {
			return errors.New("set token or credential, not both")
		}
	case "":
		return errors.New("type is missing: use sql or rest")
	default:
		return fmt.Errorf("type %q: use sql or rest", ic.Type)
	}
	return nil
}

// regionIndex maps location prefixes to regions, longest prefix first.
type regionIndex struct {
	prefixes []string
	regions  []string
	names    map[string]bool
}

func newRegionIndex(rs []Region) regionIndex {
	idx := regionIndex{names: map[string]bool{}}
	type pr struct{ p, r string }
	var all []pr
	for _, r := range rs {
		idx.names[r.Name] = true
		for _, l := range r.Locations {
			all = append(all, pr{normalizeLocation(l), r.Name})
		}
	}
	sort.Slice(all, func(i, j int) bool { return len(all[i].p) > len(all[j].p) })
	for _, e := range all {
		idx.prefixes = append(idx.prefixes, e.p)
		idx.regions = append(idx.regions, e.r)
	}
	return idx
}

// lookup returns the region of location, matching whole path segments.
func (idx regionIndex) lookup(location string) (string, bool) {
	loc := normalizeLocation(location)
	for i, p := range idx.prefixes {
		if strings.HasPrefix(loc, p) {
			return idx.regions[i], true
		}
	}
	return "", false
}

// normalizeLocation makes prefixes comparable: s3a/s3n are s3, a bare
// "/path" is file://, and a trailing slash makes "s3://lake-eu" not match
// "s3://lake-eu2".
func normalizeLocation(l string) string {
	l = strings.TrimSpace(l)
	for _, alias := range []string{"s3a://", "s3n://"} {
		if strings.HasPrefix(l, alias) {
			l = "s3://" + l[len(alias):]
		}
	}
	if strings.HasPrefix(l, "/") {
		l = "file://" + l
	}
	if strings.HasPrefix(l, "file:/") && !strings.HasPrefix(l, "file://") {
		l = "file://" + l[len("file:"):]
	}
	if !strings.HasSuffix(l, "/") {
		l += "/"
	}
	return l
}
