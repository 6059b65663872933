package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/meridian-lake/meridian/internal/trino"
)

// Check polls every cluster's GET /v1/info once, concurrently, and records
// the outcome: healthy on HTTP 200 with a document that is not "starting".
func (r *Registry) Check(ctx context.Context, client *http.Client) {
	var wg sync.WaitGroup
	for _, c := range r.clusters {
		wg.Go(func() { c.check(ctx, client, r.cfg.HealthTimeout) })
	}
	wg.Wait()
}

// Run checks the clusters now and then every HealthInterval until ctx ends.
func (r *Registry) Run(ctx context.Context, client *http.Client) {
	t := time.NewTicker(r.cfg.HealthInterval)
	defer t.Stop()
	for {
		r.Check(ctx, client)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// HealthInterval is the configured poll interval.
func (r *Registry) HealthInterval() time.Duration { return r.cfg.HealthInterval }

func (c *Cluster) check(ctx context.Context, client *http.Client, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	version, err := c.info(ctx, client)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checked = time.Now()
	if err != nil {
		c.healthy, c.lastError = false, err.Error()
		return
	}
	c.healthy, c.lastError, c.version = true, "", version
}

func (c *Cluster) info(ctx context.Context, client *http.Client) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+"/v1/info", nil)
	if err != nil {
		return "", err
	}
	if c.User != "" {
		req.SetBasicAuth(c.User, c.Password)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /v1/info: HTTP %d", resp.StatusCode)
	}
	var info trino.Info
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&info); err != nil {
		return "", fmt.Errorf("GET /v1/info: %v", err)
	}
	if info.Starting {
		return "", fmt.Errorf("the coordinator is starting")
	}
	return info.NodeVersion.Version, nil
}

// ReportFailure marks c unhealthy at once after a failed request (the
// connection was refused or broke), without waiting for the next check;
// the checker brings it back.
func (c *Cluster) ReportFailure(err error) {
	c.mu.Lock()
	c.healthy, c.lastError, c.checked = false, err.Error(), time.Now()
	c.mu.Unlock()
}
