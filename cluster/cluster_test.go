package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// coordinator is a fake /v1/info endpoint whose health a test switches.
type coordinator struct {
	*httptest.Server
	up       atomic.Bool
	starting atomic.Bool
	auth     atomic.Value // "user:password" seen last
}

func newCoordinator(t *testing.T) *coordinator {
	c := &coordinator{}
	c.up.Store(true)
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		c.auth.Store(u + ":" + p)
		if !c.up.Load() || r.URL.Path != "/v1/info" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"nodeVersion": map[string]string{"version": "test-1"},
			"coordinator": true, "starting": c.starting.Load(), "environment": "test", "uptime": "1m"})
	}))
	t.Cleanup(c.Close)
	return c
}

func testRegistry(t *testing.T, urls map[string]string) *Registry {
	cfg := Config{Regions: []Region{{"eu", "EEA"}, {"us", "US"}, {"apac", "JP"}}}
	for _, name := range []string{"eu-1", "eu-2", "us-1"} {
		cfg.Clusters = append(cfg.Clusters, ClusterConfig{Name: name, Region: name[:2], URL: urls[name], User: "meridian", Password: "s3cret"})
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHealthAndChoice(t *testing.T) {
	eu1, eu2, us1 := newCoordinator(t), newCoordinator(t), newCoordinator(t)
	r := testRegistry(t, map[string]string{"eu-1": eu1.URL, "eu-2": eu2.URL, "us-1": us1.URL})
	ctx := context.Background()

	// Nothing is healthy before the first check.
	if _, err := r.Choose([]string{"eu"}, nil); err == nil {
		t.Fatal("chose a cluster before any check")
	}
	r.Check(ctx, http.DefaultClient)
	if got := eu1.auth.Load(); got != "meridian:s3cret" {
		t.Errorf("health check sent credentials %v", got)
	}
	for _, st := range r.Statuses() {
		if st.State != Healthy || st.Version != "test-1" {
			t.Errorf("%s: %+v", st.Name, st)
		}
	}

	// Most bytes read wins over the user's region.
	ch, err := r.Choose([]string{"us", "eu"}, map[string]int64{"eu": 10, "us": 5})
	if err != nil || ch.Cluster.Region != "eu" {
		t.Fatalf("Choose = %+v, %v; want an eu cluster", ch, err)
	}
	// Least loaded within the region.
	release := ch.Cluster.Acquire()
	other, _ := r.Choose([]string{"eu"}, nil)
	if other.Cluster == ch.Cluster {
		t.Errorf("chose the loaded cluster %s again", ch.Cluster.Name)
	}
	release()
	release() // idempotent
	if ch.Cluster.InFlight() != 0 {
		t.Errorf("in flight = %d after release", ch.Cluster.InFlight())
	}

	// Draining and unhealthy clusters are skipped; never another region.
	if err := r.SetDraining("eu-1", true); err != nil {
		t.Fatal(err)
	}
	eu2.up.Store(false)
	r.Check(ctx, http.DefaultClient)
	_, err = r.Choose([]string{"eu"}, map[string]int64{"eu": 1})
	var nn *NoNodesError
	if !errors.As(err, &nn) || len(nn.Regions) != 1 || nn.Regions[0] != "eu" {
		t.Fatalf("Choose(eu) with eu down = %v; want NoNodesError naming eu", err)
	}
	if !strings.Contains(err.Error(), "eu-1 draining") || !strings.Contains(err.Error(), "eu-2 unhealthy") {
		t.Errorf("message does not explain the clusters: %v", err)
	}
	if r.RegionHealthy("eu") || !r.RegionHealthy("us") {
		t.Errorf("RegionHealthy eu=%v us=%v", r.RegionHealthy("eu"), r.RegionHealthy("us"))
	}
	// A region without clusters is named as such.
	if _, err := r.Choose([]string{"apac"}, nil); err == nil || !strings.Contains(err.Error(), "apac: no cluster configured") {
		t.Errorf("Choose(apac) = %v", err)
	}
	// Recovery on the next check.
	eu2.up.Store(true)
	r.Check(ctx, http.DefaultClient)
	if ch, err := r.Choose([]string{"eu"}, nil); err != nil || ch.Cluster.Name != "eu-2" {
		t.Fatalf("after recovery Choose = %+v, %v", ch, err)
	}
	// A starting coordinator is not healthy; a failure report takes effect at once.
	eu2.starting.Store(true)
	r.Check(ctx, http.DefaultClient)
	if r.RegionHealthy("eu") {
		t.Error("a starting coordinator counts as healthy")
	}
	us, _ := r.Cluster("us-1")
	us.ReportFailure(errors.New("connection refused"))
	if us.State() != Unhealthy || !strings.Contains(us.Status().LastError, "refused") {
		t.Errorf("after ReportFailure: %+v", us.Status())
	}
	if err := r.SetDraining("nope", true); !errors.Is(err, ErrUnknownCluster) {
		t.Errorf("SetDraining(nope) = %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	good := ClusterConfig{Name: "eu-1", Region: "eu", URL: "http://127.0.0.1:1"}
	for name, cfg := range map[string]Config{
		"no jurisdiction":  {Regions: []Region{{Name: "eu"}}},
		"bad region name":  {Regions: []Region{{"EU!", "EEA"}}},
		"duplicate region": {Regions: []Region{{"eu", "EEA"}, {"eu", "EEA"}}},
		"unknown region":   {Regions: []Region{{"us", "US"}}, Clusters: []ClusterConfig{good}},
		"duplicate":        {Regions: []Region{{"eu", "EEA"}}, Clusters: []ClusterConfig{good, good}},
		"bad url":          {Regions: []Region{{"eu", "EEA"}}, Clusters: []ClusterConfig{{Name: "x", Region: "eu", URL: "ftp://h"}}},
		"url with path":    {Regions: []Region{{"eu", "EEA"}}, Clusters: []ClusterConfig{{Name: "x", Region: "eu", URL: "http://h:1/v1"}}},
		"negative weight":  {Regions: []Region{{"eu", "EEA"}}, Clusters: []ClusterConfig{{Name: "x", Region: "eu", URL: "http://h:1", Weight: -1}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
