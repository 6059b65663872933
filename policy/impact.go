package policy

import (
	"context"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"
)

// Change kinds in an impact report.
const (
	AllowToDeny    = "allow_to_deny"
	DenyToAllow    = "deny_to_allow"
	RegionsChanged = "regions_changed"
)

// Outcome is what a version decided.
type Outcome struct {
	Allow   bool     `json:"allow"`
	Regions []string `json:"regions"`
	Rules   []string `json:"rules,omitempty"`
}

// Change is a recorded decision that the candidate would decide otherwise.
type Change struct {
	DecisionID string    `json:"decision_id"`
	At         time.Time `json:"at"`
	User       string    `json:"user"`
	Statement  string    `json:"statement"`
	Tables     []string  `json:"tables"`
	Kind       string    `json:"kind"`
	Before     Outcome   `json:"before"`
	After      Outcome   `json:"after"`
}

// Group counts changes that share a rule, a table or a user.
type Group struct {
	Key      string   `json:"key"`
	Count    int      `json:"count"`
	Examples []Change `json:"examples"`
}

// ImpactReport is a dry run of a candidate version on recorded decisions.
type ImpactReport struct {
	Evaluated      int           `json:"evaluated"`
	Changed        int           `json:"changed"`
	AllowToDeny    int           `json:"allow_to_deny"`
	DenyToAllow    int           `json:"deny_to_allow"`
	RegionsChanged int           `json:"regions_changed"`
	ByRule         []Group       `json:"by_rule"`
	ByTable        []Group       `json:"by_table"`
	ByUser         []Group       `json:"by_user"`
	Changes        []Change      `json:"changes"`
	Truncated      bool          `json:"truncated,omitempty"`
	Elapsed        time.Duration `json:"elapsed"`
}

// Impact limits.
const (
	// MaxImpactChanges bounds the changes listed in full.
	MaxImpactChanges = 10_000
	// impactExamples is how many examples a group keeps.
	impactExamples = 3
	// impactTimeout bounds one evaluation in a dry run: offline, so longer
	// than in service, where a slow decision must not hold a statement up; a
	// dry-run timeout would show as a false change.
	impactTimeout = 5 * time.Second
)

// Impact evaluates candidate on the inputs of the recorded decisions that f
// selects (f.Limit: the last N; From/To: a window) and reports every decision
// that would change against what was recorded: allow→deny, deny→allow, or a
// different region set, grouped by rule, table and user.
func (r *Registry) Impact(ctx context.Context, candidate *Compiled, f Filter) (ImpactReport, error) {
	start := time.Now()
	f.WithInput = true
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	recs := make(chan Record, 256)
	results := make(chan *Change, 256)
	var evaluated int
	var mu sync.Mutex
	var wg sync.WaitGroup
	workers := max(1, runtime.GOMAXPROCS(0))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rec := range recs {
				d, _ := candidate.Decide(ctx, rec.Input, impactTimeout) // an error is a deny, as in service
				mu.Lock()
				evaluated++
				mu.Unlock()
				if c := compare(rec, d); c != nil {
					results <- c
				}
			}
		}()
	}
	var scanErr error
	go func() {
		scanErr = r.scan(ctx, f, func(rec Record) error {
			select {
			case recs <- rec:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		close(recs)
		wg.Wait()
		close(results)
	}()
	var changes []Change
	for c := range results {
		changes = append(changes, *c)
	}
	if scanErr != nil {
		return ImpactReport{}, scanErr
	}
	sort.Slice(changes, func(i, j int) bool {
		if !changes[i].At.Equal(changes[j].At) {
			return changes[i].At.After(changes[j].At)
		}
		return changes[i].DecisionID < changes[j].DecisionID
	})
	rep := ImpactReport{Evaluated: evaluated, Changed: len(changes)}
	byRule, byTable, byUser := map[string]*Group{}, map[string]*Group{}, map[string]*Group{}
	add := func(m map[string]*Group, key string, c Change) {
		g := m[key]
		if g == nil {
			g = &Group{Key: key}
			m[key] = g
		}
		g.Count++
		if len(g.Examples) < impactExamples {
			g.Examples = append(g.Examples, c)
		}
	}
	for _, c := range changes {
		switch c.Kind {
		case AllowToDeny:
			rep.AllowToDeny++
		case DenyToAllow:
			rep.DenyToAllow++
		default:
			rep.RegionsChanged++
		}
		// A change is attributed to the rules that appear or disappear.
		for _, rule := range symmetricDiff(c.Before.Rules, c.After.Rules) {
			add(byRule, rule, c)
		}
		if c.Kind == RegionsChanged && slices.Equal(c.Before.Rules, c.After.Rules) {
			add(byRule, "(regions)", c)
		}
		for _, t := range c.Tables {
			add(byTable, t, c)
		}
		add(byUser, c.User, c)
	}
	rep.ByRule, rep.ByTable, rep.ByUser = sortedGroups(byRule), sortedGroups(byTable), sortedGroups(byUser)
	if len(changes) > MaxImpactChanges {
		changes, rep.Truncated = changes[:MaxImpactChanges], true
	}
	rep.Changes = changes
	rep.Elapsed = time.Since(start)
	return rep, nil
}

func compare(rec Record, d Decision) *Change {
	before := Outcome{Allow: rec.Allow, Regions: nonNil(rec.Regions), Rules: rules(rec.Violations)}
	after := Outcome{Allow: d.Allow, Regions: nonNil(d.Regions), Rules: rules(d.Violations)}
	var kind string
	switch {
	case before.Allow && !after.Allow:
		kind = AllowToDeny
	case !before.Allow && after.Allow:
		kind = DenyToAllow
	case before.Allow && !slices.Equal(before.Regions, after.Regions):
		kind = RegionsChanged
	default:
		return nil
	}
	return &Change{DecisionID: rec.ID, At: rec.At, User: rec.User, Statement: rec.Statement, Tables: rec.Tables,
		Kind: kind, Before: before, After: after}
}

func rules(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Rule)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func symmetricDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, x)
		}
	}
	return out
}

func sortedGroups(m map[string]*Group) []Group {
	out := make([]Group, 0, len(m))
	for _, g := range m {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	return out
}
