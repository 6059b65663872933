package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/meridian-lake/meridian/cluster"
	"github.com/meridian-lake/meridian/planner"
)

// Metrics are the Prometheus metrics of the statement path. They count and
// time; they never carry SQL, literals or user names.
type Metrics struct {
	registry   *prometheus.Registry
	statements *prometheus.CounterVec
	planning   prometheus.Histogram
	policy     prometheus.Histogram
	upstream   *prometheus.HistogramVec
}

// NewMetrics registers the metrics, and gauges of clusters' state and
// statements in flight read from clusters at each scrape.
func NewMetrics(clusters *cluster.Registry) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		statements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meridian_statements_total",
			Help: "Statements by outcome (allowed, denied, no_nodes, refused) and the region they ran in.",
		}, []string{"outcome", "region"}),
		planning: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "meridian_planning_seconds",
			Help:    "Time to plan a statement: analysis, resolution, policy decision and cluster choice.",
			Buckets: prometheus.ExponentialBuckets(25e-6, 2, 14),
		}),
		policy: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "meridian_policy_evaluation_seconds",
			Help:    "Time of the policy decision of a statement (cached decisions included).",
			Buckets: prometheus.ExponentialBuckets(1e-6, 2, 18),
		}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "meridian_upstream_seconds",
			Help:    "Time until a cluster answered a forwarded request, by cluster.",
			Buckets: prometheus.ExponentialBuckets(100e-6, 2, 16),
		}, []string{"cluster"}),
	}
	m.registry.MustRegister(m.statements, m.planning, m.policy, m.upstream,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	if clusters != nil {
		m.registry.MustRegister(clusterCollector{clusters})
	}
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// statement records a planned statement's outcome.
func (m *Metrics) statement(plan *planner.Plan) {
	if m == nil {
		return
	}
	outcome := "allowed"
	switch {
	case plan.Error == nil:
	case plan.Error.Code.Name == "NO_NODES_AVAILABLE":
		outcome = "no_nodes"
	case plan.Error.Code.Name == "PERMISSION_DENIED":
		outcome = "denied"
	default:
		outcome = "refused"
	}
	m.statements.WithLabelValues(outcome, plan.Region).Inc()
	m.planning.Observe(plan.Timings.Total.Seconds())
	m.policy.Observe(plan.Timings.Decide.Seconds())
}

// upstreamTook records how long a cluster took to answer.
func (m *Metrics) upstreamTook(c *cluster.Cluster, since time.Time) {
	if m == nil {
		return
	}
	m.upstream.WithLabelValues(c.Name).Observe(time.Since(since).Seconds())
}

// clusterCollector reads the registry at each scrape.
type clusterCollector struct{ clusters *cluster.Registry }

var (
	inFlightDesc = prometheus.NewDesc("meridian_cluster_in_flight", "Statements in flight per cluster.", []string{"cluster", "region"}, nil)
	stateDesc    = prometheus.NewDesc("meridian_cluster_state", "1 for the cluster's current state (healthy, unhealthy, draining).", []string{"cluster", "region", "state"}, nil)
)

func (clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- inFlightDesc
	ch <- stateDesc
}

func (cc clusterCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range cc.clusters.Statuses() {
		ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(st.InFlight), st.Name, st.Region)
		for _, s := range []cluster.State{cluster.Healthy, cluster.Unhealthy, cluster.Draining} {
			v := 0.0
			if st.State == s {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(stateDesc, prometheus.GaugeValue, v, st.Name, st.Region, strings.ToLower(string(s)))
		}
	}
}
