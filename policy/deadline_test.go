package policy_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/policy"
)

// TestDeadlineReachesBlockingBuiltins: the evaluation timeout also bounds a
// builtin that waits on the network, not only the steps between builtins,
// and the caller's cancellation stops it too. The server answers only when
// the request is abandoned (or the test ends).
func TestDeadlineReachesBlockingBuiltins(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	src := fmt.Sprintf(`package meridian
decision := {"allow": true, "regions": ["eu"], "violations": []} if {
	http.send({"method": "GET", "url": %q, "timeout": "60s", "raise_error": false}).status_code == 200
}`, srv.URL)
	in := &policy.Input{Version: 1, Regions: map[string]policy.RegionInfo{"eu": {Jurisdiction: "EEA"}}}

	t.Run("timeout", func(t *testing.T) {
		eng := policy.NewEngine(compile(t, "p.rego", src), 50*time.Millisecond)
		start := time.Now()
		d, err := eng.Decide(context.Background(), in)
		if err == nil || d.Allow || len(d.Violations) != 1 || d.Violations[0].Rule != policy.RuleTimeout {
			t.Errorf("Decide = %+v, %v; want a deny with rule %s", d, err, policy.RuleTimeout)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("a 50ms timeout took %s", el)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		eng := policy.NewEngine(compile(t, "p.rego", src), time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		d, err := eng.Decide(ctx, in)
		if err == nil || d.Allow || len(d.Violations) != 1 || d.Violations[0].Rule != policy.RuleTimeout {
			t.Errorf("Decide = %+v, %v; want a deny with rule %s", d, err, policy.RuleTimeout)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("a cancelled decision took %s", el)
		}
	})
}
