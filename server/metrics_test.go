package server

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/cluster"
	"github.com/meridian-lake/meridian/internal/trino"
	"github.com/meridian-lake/meridian/planner"
)

func TestMetrics(t *testing.T) {
	clusters, err := cluster.New(cluster.Config{Regions: []cluster.Region{{Name: "eu", Jurisdiction: "EEA"}},
		Clusters: []cluster.ClusterConfig{{Name: "eu-1", Region: "eu", URL: "http://127.0.0.1:1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := clusters.SetDraining("eu-1", true); err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(clusters)
	m.statement(&planner.Plan{Region: "eu", Timings: planner.Timings{Total: 300 * time.Microsecond, Decide: 20 * time.Microsecond}})
	m.statement(&planner.Plan{Error: trino.Errorf(trino.PermissionDenied, "Access Denied: [gdpr.transfer] secret literal")})
	m.statement(&planner.Plan{Error: trino.Errorf(trino.NoNodesAvailable, "none")})
	c, _ := clusters.Cluster("eu-1")
	m.upstreamTook(c, time.Now().Add(-time.Millisecond))
	var nilMetrics *Metrics
	nilMetrics.statement(&planner.Plan{}) // a proxy without metrics

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		`meridian_statements_total{outcome="allowed",region="eu"} 1`,
		`meridian_statements_total{outcome="denied",region=""} 1`,
		`meridian_statements_total{outcome="no_nodes",region=""} 1`,
		`meridian_planning_seconds_count 3`,
		`meridian_upstream_seconds_count{cluster="eu-1"} 1`,
		`meridian_cluster_state{cluster="eu-1",region="eu",state="draining"} 1`,
		`meridian_cluster_in_flight{cluster="eu-1",region="eu"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "secret literal") {
		t.Error("a message reached the metrics")
	}
}
