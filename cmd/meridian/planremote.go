package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/meridian-lake/meridian/internal/trino"
)

// remotePlan asks a running Meridian for the full plan of src as cfg.user.
func remotePlan(ctx context.Context, st streams, src string, cfg planConfig) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(cfg.server, "/")+"/v1/meridian/plan", strings.NewReader(src))
	if err != nil {
		return usageError(st, "plan", "--server %q: %v", cfg.server, err)
	}
	req.Header.Set(trino.HeaderUser, cfg.user)
	if cfg.session.Catalog != "" {
		req.Header.Set(trino.HeaderCatalog, cfg.session.Catalog)
	}
	if cfg.session.Schema != "" {
		req.Header.Set(trino.HeaderSchema, cfg.session.Schema)
	}
	if cfg.purpose != "" {
		req.Header.Set(trino.HeaderSession, "purpose="+url.QueryEscape(cfg.purpose))
	}
	if pw := os.Getenv("MERIDIAN_PASSWORD"); pw != "" {
		req.SetBasicAuth(cfg.user, pw)
	}
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(st.err, "meridian plan: %v (is Meridian running? make run starts it)\n", err)
		return exitFailed
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		fmt.Fprintf(st.err, "meridian plan: HTTP %d: %s\n", resp.StatusCode, strings.TrimSpace(string(body)))
		return exitFailed
	}
	if cfg.json {
		st.out.Write(body)
		return exitOK
	}
	var p struct {
		Statement string `json:"statement"`
		Analysis  struct {
			Kind string `json:"kind"`
			Mode string `json:"analysis"`
		} `json:"analysis"`
		Tables []struct {
			Name, Access, Region, Classification, View string
		} `json:"tables"`
		Decision struct {
			Allow      bool
			Regions    []string
			Violations []struct{ Rule, Table, Message string }
		} `json:"decision"`
		Version   int64  `json:"policy_version"`
		Cluster   string `json:"cluster"`
		Region    string `json:"region"`
		Why       string `json:"why"`
		Rewritten bool   `json:"rewritten"`
		Error     *trino.QueryError
	}
	if err := json.Unmarshal(body, &p); err != nil {
		fmt.Fprintf(st.err, "meridian plan: the server's answer is not a plan: %v\n", err)
		return exitFailed
	}
	w := st.out
	fmt.Fprintf(w, "statement: %s\n  kind %s, analysis %s, as user %s\n", p.Statement, p.Analysis.Kind, p.Analysis.Mode, cfg.user)
	fmt.Fprintln(w, "tables:")
	for _, t := range p.Tables {
		via := ""
		if t.View != "" {
			via = " (through view " + t.View + ")"
		}
		fmt.Fprintf(w, "  %-32s %-5s region %-8s %s%s\n", t.Name, t.Access, t.Region, classificationOrUnset(t.Classification), via)
	}
	fmt.Fprintf(w, "decision (policy version %d): allow=%v, may run in: %s\n", p.Version, p.Decision.Allow, strings.Join(p.Decision.Regions, ", "))
	for _, v := range p.Decision.Violations {
		fmt.Fprintf(w, "  [%s] %s %s\n", v.Rule, v.Table, v.Message)
	}
	if p.Cluster != "" {
		fmt.Fprintf(w, "runs on: %s (region %s): %s\n", p.Cluster, p.Region, p.Why)
		if p.Rewritten {
			fmt.Fprintln(w, "  forwarded with HAVING count(*) >= k (the policy's minimum group size)")
		}
	}
	if p.Error != nil {
		fmt.Fprintf(w, "refused: %s: %s\n", p.Error.ErrorName, p.Error.Message)
		return exitFailed
	}
	return exitOK
}

func classificationOrUnset(c string) string {
	if c == "" {
		return "unclassified"
	}
	return c
}
