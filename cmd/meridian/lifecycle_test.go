package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/internal/s3test"
	"github.com/meridian-lake/meridian/lifecycle"
)

// TestLifecycleCLI drives meridian lifecycle over the demo lake on
// versitygw: scan, plan (to a file), apply as a dry run and for real,
// jobs, report with its SVG chart, and a scan that shows the new classes.
// Time is moved 400 days ahead with --at, so the just-written lake has
// old, unread partitions; storage classes are simulated (local endpoint).
func TestLifecycleCLI(t *testing.T) {
	srv := s3test.Start(t)
	dir := t.TempDir()
	code, _, stderr := runDemoCLI(t, "demo", "init", "--dir", dir, "--s3-endpoint", srv.Endpoint,
		"--s3-access-key", srv.AccessKey, "--s3-secret-key", srv.SecretKey, "--bookings", "1000", "--guests", "100000", "--tpch-scale", "0.01")
	if code != exitOK {
		t.Fatalf("demo init = %d:\n%s", code, stderr)
	}
	cfgPath := filepath.Join(dir, "meridian.yaml")
	body, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// demo init writes an empty lifecycle section; replace it. 50 KB guests
	// files pay a transition back only over years, hence the horizon.
	var kept []string
	inLifecycle := false
	for _, l := range strings.Split(string(body), "\n") {
		if l != "" && l[0] != ' ' {
			inLifecycle = strings.HasPrefix(l, "lifecycle:")
		}
		if !inLifecycle {
			kept = append(kept, l)
		}
	}
	kept = append(kept, "lifecycle:\n  horizon_months: 120\n  objects_per_second: 5000\n  budgets:\n    - region: us\n      monthly: 1\n")
	if err := os.WriteFile(cfgPath, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	at := time.Now().UTC().Add(400 * 24 * time.Hour).Format(time.RFC3339)
	lc := func(args ...string) (string, string) {
		t.Helper()
		code, stdout, stderr := runCLI(t, "", append([]string{"lifecycle", "--config", cfgPath}, args...)...)
		if code != exitOK {
			t.Fatalf("lifecycle %v = %d:\n%s%s", args, code, stdout, stderr)
		}
		return stdout, stderr
	}

	out, stderr := lc("scan", "--at", at)
	for _, r := range []string{"eu", "us", "apac"} {
		if !strings.Contains(out, "region "+r+":") {
			t.Errorf("scan does not show region %s:\n%s", r, out)
		}
	}
	if !strings.Contains(out, "storage classes simulated") || !strings.Contains(stderr, "objects in 16 tables listed") {
		t.Errorf("scan output:\n%s\nstderr:\n%s", out, stderr)
	}

	// Budgets of $0 for eu and apac cannot be met: the plan is the cheapest
	// one and says so; us ($1) is met as it stands.
	planPath := filepath.Join(dir, "plan.json")
	out, _ = lc("plan", "--at", at, "--budget", "eu=0", "--budget", "apac=0", "--out", planPath)
	if !strings.Contains(out, "region eu: budget 0.00") || !strings.Contains(out, "CANNOT meet the budget") ||
		!regexp.MustCompile(`region us: .*meets the budget`).MatchString(out) {
		t.Errorf("plan output:\n%s", out)
	}
	var plan lifecycle.Plan
	data, err := os.ReadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &plan); err != nil {
		t.Fatal(err)
	}
	var objects int64
	for _, a := range plan.Actions {
		objects += a.Objects
		if a.Region == "us" {
			t.Errorf("us is under budget but has action %+v", a)
		}
	}
	if len(plan.Actions) == 0 {
		t.Fatalf("no actions:\n%s", out)
	}

	out, _ = lc("apply", "--plan", planPath)
	if !strings.Contains(out, "would move "+strconv.FormatInt(objects, 10)+" objects") || !strings.Contains(out, "nothing was changed") {
		t.Errorf("dry run output:\n%s", out)
	}
	out, stderr = lc("apply", "--apply", "--plan", planPath)
	if !strings.Contains(out, strconv.FormatInt(objects, 10)+" objects copied") || !strings.Contains(stderr, "apply [") {
		t.Errorf("apply output:\n%s\nstderr:\n%s", out, stderr)
	}
	out, _ = lc("jobs")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.Contains(lines[1], "apply") ||
		!strings.Contains(lines[1], "done") || !strings.Contains(lines[2], "dry-run") {
		t.Errorf("jobs:\n%s", out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	out, _ = lc("jobs", id)
	if !strings.Contains(out, "journal: "+strconv.FormatInt(objects, 10)+" objects, "+strconv.FormatInt(objects, 10)+" copied, 0 intended and not done") {
		t.Errorf("jobs %s:\n%s", id, out)
	}

	svg := filepath.Join(dir, "cost.svg")
	out, _ = lc("report", "--plan", planPath, "--svg", svg)
	if !strings.Contains(out, "region eu") || !strings.Contains(out, "OVER budget") || !strings.Contains(out, "region us exactly") {
		t.Errorf("report:\n%s", out)
	}
	for _, r := range []string{"eu", "us", "apac"} {
		body, err := os.ReadFile(filepath.Join(dir, "cost-"+r+".svg"))
		if err != nil || !strings.HasPrefix(string(body), "<svg") {
			t.Errorf("cost-%s.svg: %v", r, err)
		}
	}
	out, _ = lc("scan", "--at", at, "--json")
	var sum []lifecycle.RegionSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	cold := int64(0)
	for _, s := range sum {
		for _, c := range s.Classes {
			if c.Class != lifecycle.Standard {
				cold += c.Objects
			}
		}
	}
	if cold != objects {
		t.Errorf("after apply, %d objects outside STANDARD, want the %d moved", cold, objects)
	}

	// Usage errors.
	for _, args := range [][]string{{"lifecycle"}, {"lifecycle", "frob"}, {"lifecycle", "scan", "--apply"},
		{"lifecycle", "plan", "--budget", "eu"}, {"lifecycle", "restore"}, {"lifecycle", "scan", "--at", "tomorrow"}} {
		if code, _, _ := runCLI(t, "", args...); code != exitUsage {
			t.Errorf("%v = %d, want %d", args, code, exitUsage)
		}
	}
}
