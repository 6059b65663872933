package cluster

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config lists the regions and their clusters.
type Config struct {
	Regions  []Region        `yaml:"regions" json:"regions"`
	Clusters []ClusterConfig `yaml:"clusters" json:"clusters"`
	// HealthInterval is how often each cluster's /v1/info is polled
	// (default 2 s).
	HealthInterval time.Duration `yaml:"health_interval" json:"health_interval"`
	// HealthTimeout bounds one poll (default 1 s).
	HealthTimeout time.Duration `yaml:"health_timeout" json:"health_timeout"`
}

// Region is a region statements may run in and the jurisdiction whose law
// applies there (policy input regions[r].jurisdiction).
type Region struct {
	Name         string `yaml:"name" json:"name"`
	Jurisdiction string `yaml:"jurisdiction" json:"jurisdiction"`
}

// ClusterConfig is one Trino cluster.
type ClusterConfig struct {
	// Name identifies the cluster in routing tokens, logs and the admin API.
	Name   string `yaml:"name" json:"name"`
	Region string `yaml:"region" json:"region"`
	// URL is the coordinator's base URL (http://host:port).
	URL string `yaml:"url" json:"url"`
	// User and Password are Meridian's own credentials on the cluster
	// (HTTP Basic); the end user is passed as X-Trino-User.
	User     string `yaml:"user" json:"user,omitempty"`
	Password string `yaml:"password" json:"-"`
	// Weight scales the cluster's share of statements (default 1).
	Weight int `yaml:"weight" json:"weight"`
}

// Defaults of Config.
const (
	DefaultHealthInterval = 2 * time.Second
	DefaultHealthTimeout  = time.Second
)

func (c Config) withDefaults() Config {
	if c.HealthInterval <= 0 {
		c.HealthInterval = DefaultHealthInterval
	}
	if c.HealthTimeout <= 0 {
		c.HealthTimeout = DefaultHealthTimeout
	}
	c.Clusters = slices.Clone(c.Clusters)
	for i := range c.Clusters {
		if c.Clusters[i].Weight == 0 {
			c.Clusters[i].Weight = 1
		}
	}
	return c
}

// Validate checks names, regions and URLs.
func (c Config) Validate() error {
	regions := map[string]bool{}
	for _, r := range c.Regions {
		if !validName(r.Name) {
			return fmt.Errorf("clusters: region name %q: use lower-case letters, digits, - and _", r.Name)
		}
		if regions[r.Name] {
			return fmt.Errorf("clusters: region %q listed twice", r.Name)
		}
		if strings.TrimSpace(r.Jurisdiction) == "" {
			return fmt.Errorf("clusters: region %q has no jurisdiction (e.g. EEA, US, JP): policy needs it", r.Name)
		}
		regions[r.Name] = true
	}
	names := map[string]bool{}
	for _, cl := range c.Clusters {
		switch {
		case !validName(cl.Name):
			return fmt.Errorf("clusters: cluster name %q: use lower-case letters, digits, - and _", cl.Name)
		case names[cl.Name]:
			return fmt.Errorf("clusters: cluster %q listed twice", cl.Name)
		case !regions[cl.Region]:
			return fmt.Errorf("clusters: cluster %q is in region %q, which is not among the regions", cl.Name, cl.Region)
		case cl.Weight < 0 || cl.Weight > 1000:
			return fmt.Errorf("clusters: cluster %q: weight %d is not in 0..1000", cl.Name, cl.Weight)
		}
		u, err := url.Parse(cl.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("clusters: cluster %q: url %q must be http(s)://host:port", cl.Name, cl.URL)
		}
		names[cl.Name] = true
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// State is a cluster's routing state.
type State string

// States. A cluster starts unhealthy until its first successful check.
const (
	Healthy   State = "healthy"
	Unhealthy State = "unhealthy"
	Draining  State = "draining"
)

// Cluster is one registered cluster.
type Cluster struct {
	ClusterConfig
	base *url.URL

	mu        sync.Mutex
	healthy   bool
	draining  bool
	checked   time.Time
	lastError string
	version   string

	inFlight atomic.Int64
}

// BaseURL is the coordinator's base URL.
func (c *Cluster) BaseURL() *url.URL { u := *c.base; return &u }

// State is the routing state: draining wins over health.
func (c *Cluster) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stateLocked()
}

func (c *Cluster) stateLocked() State {
	switch {
	case c.draining:
		return Draining
	case c.healthy:
		return Healthy
	}
	return Unhealthy
}

// Acquire counts a statement in flight on c until release is called.
func (c *Cluster) Acquire() (release func()) {
	c.inFlight.Add(1)
	var once sync.Once
	return func() { once.Do(func() { c.inFlight.Add(-1) }) }
}

// InFlight is the number of statements in flight.
func (c *Cluster) InFlight() int64 { return c.inFlight.Load() }

// Status is a snapshot of a cluster for the admin API.
type Status struct {
	Name      string    `json:"name"`
	Region    string    `json:"region"`
	URL       string    `json:"url"`
	State     State     `json:"state"`
	Weight    int       `json:"weight"`
	InFlight  int64     `json:"in_flight"`
	Version   string    `json:"version,omitempty"`
	Checked   time.Time `json:"checked,omitzero"`
	LastError string    `json:"last_error,omitempty"`
}

// Status returns c's snapshot.
func (c *Cluster) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Status{Name: c.Name, Region: c.Region, URL: c.URL, State: c.stateLocked(), Weight: c.Weight,
		InFlight: c.inFlight.Load(), Version: c.version, Checked: c.checked, LastError: c.lastError}
}

// Registry holds the clusters.
type Registry struct {
	cfg      Config
	clusters []*Cluster // sorted by name
	byName   map[string]*Cluster
	regions  map[string]Region
}

// New returns a registry of cfg's clusters, all unhealthy until checked.
func New(cfg Config) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	r := &Registry{cfg: cfg, byName: map[string]*Cluster{}, regions: map[string]Region{}}
	for _, reg := range cfg.Regions {
		r.regions[reg.Name] = reg
	}
	for _, cc := range cfg.Clusters {
		u, _ := url.Parse(strings.TrimSuffix(cc.URL, "/"))
		c := &Cluster{ClusterConfig: cc, base: u}
		r.clusters = append(r.clusters, c)
		r.byName[cc.Name] = c
	}
	sort.Slice(r.clusters, func(i, j int) bool { return r.clusters[i].Name < r.clusters[j].Name })
	return r, nil
}

// Regions lists the configured regions, sorted by name.
func (r *Registry) Regions() []Region {
	out := make([]Region, 0, len(r.regions))
	for _, reg := range r.regions {
		out = append(out, reg)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Cluster returns the named cluster.
func (r *Registry) Cluster(name string) (*Cluster, bool) {
	c, ok := r.byName[name]
	return c, ok
}

// Statuses snapshots every cluster, sorted by name.
func (r *Registry) Statuses() []Status {
	out := make([]Status, len(r.clusters))
	for i, c := range r.clusters {
		out[i] = c.Status()
	}
	return out
}

// ErrUnknownCluster is returned for a cluster name not in the registry.
var ErrUnknownCluster = errors.New("no such cluster")

// SetDraining marks a cluster draining (no new statements; statements in
// flight finish) or returns it to service.
func (r *Registry) SetDraining(name string, draining bool) error {
	c, ok := r.byName[name]
	if !ok {
		return fmt.Errorf("cluster %q: %w", name, ErrUnknownCluster)
	}
	c.mu.Lock()
	c.draining = draining
	c.mu.Unlock()
	return nil
}

// RegionHealthy reports whether region has a cluster that can take a
// statement (healthy and not draining).
func (r *Registry) RegionHealthy(region string) bool {
	for _, c := range r.clusters {
		if c.Region == region && c.State() == Healthy {
			return true
		}
	}
	return false
}

// NoNodesError says that no cluster in any allowed region can take the
// statement. Regions are the regions that would have been compliant.
type NoNodesError struct {
	Regions []string
	// States describes each allowed region's clusters ("eu: eu-1 unhealthy").
	States []string
}

func (e *NoNodesError) Error() string {
	if len(e.Regions) == 0 {
		return "no region may run this statement, so no cluster was chosen"
	}
	msg := fmt.Sprintf("no healthy cluster in the compliant region(s) %s", strings.Join(e.Regions, ", "))
	if len(e.States) > 0 {
		msg += " (" + strings.Join(e.States, "; ") + ")"
	}
	return msg + "; the statement is not sent to any other region: retry when a cluster there is back"
}

// Choice is the chosen cluster and why.
type Choice struct {
	Cluster *Cluster
	Why     string
}

// Choose picks a cluster for a statement allowed in regions: clusters in
// those regions that are healthy and not draining; then the region holding
// most of the bytes the statement reads (bytesRead by region) to keep data
// from crossing regions; then the least loaded cluster (in flight per
// weight), ties broken by name.
func (r *Registry) Choose(regions []string, bytesRead map[string]int64) (Choice, error) {
	var usable []*Cluster
	var states []string
	allowed := slices.Clone(regions)
	sort.Strings(allowed)
	allowed = slices.Compact(allowed)
	for _, reg := range allowed {
		var here []string
		for _, c := range r.clusters {
			if c.Region != reg {
				continue
			}
			if st := c.State(); st == Healthy && c.Weight > 0 {
				usable = append(usable, c)
			} else {
				here = append(here, c.Name+" "+string(st))
			}
		}
		switch {
		case len(here) > 0:
			states = append(states, reg+": "+strings.Join(here, ", "))
		case !slices.ContainsFunc(r.clusters, func(c *Cluster) bool { return c.Region == reg }):
			states = append(states, reg+": no cluster configured")
		}
	}
	if len(usable) == 0 {
		return Choice{}, &NoNodesError{Regions: allowed, States: states}
	}
	best := int64(-1)
	for _, c := range usable {
		best = max(best, bytesRead[c.Region])
	}
	var why string
	if best > 0 {
		usable = slices.DeleteFunc(usable, func(c *Cluster) bool { return bytesRead[c.Region] != best })
		why = fmt.Sprintf("region %s holds most of the data read (%d bytes)", usable[0].Region, best)
	}
	// Least loaded: in flight / weight, compared without division.
	pick := usable[0]
	for _, c := range usable[1:] {
		if c.InFlight()*int64(pick.Weight) < pick.InFlight()*int64(c.Weight) {
			pick = c
		}
	}
	if why == "" {
		why = "no region holds more of the data read"
	}
	if len(usable) > 1 {
		why += fmt.Sprintf("; least loaded of %d healthy clusters (%d in flight)", len(usable), pick.InFlight())
	}
	return Choice{Cluster: pick, Why: why}, nil
}
