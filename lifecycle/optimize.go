package lifecycle

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"time"
)

// Access is what the access history knows of one partition's reads.
type Access struct {
	// Last is the time of the latest read; zero if none was recorded.
	Last time.Time
	// Count is the number of statements that read the partition since
	// Since.
	Count int64
	// Since is when recording began; reads before it are unknown.
	Since time.Time
}

// AccessHistory reports partitions' reads. The planner records, per
// statement, the tables and partitions it read into the state store; the
// lifecycle planner reads them back through this interface.
type AccessHistory interface {
	Access(ctx context.Context, table, partition string) (Access, error)
}

// RecordedHistory is an AccessHistory held in memory: a fixture for tests
// and the form a batch read from the state store takes.
type RecordedHistory struct {
	// Since is when recording began, for every partition.
	Since time.Time
	// Reads maps {table, partition} to its reads; Since is filled in.
	Reads map[[2]string]Access
}

// Access implements AccessHistory.
func (h *RecordedHistory) Access(_ context.Context, table, partition string) (Access, error) {
	a := h.Reads[[2]string{table, partition}]
	a.Since = h.Since
	return a, nil
}

var _ AccessHistory = (*RecordedHistory)(nil)

// RegionBudget is one region's budget.
type RegionBudget struct {
	// Region is the lake region (as groups name it).
	Region string `json:"region" yaml:"region"`
	// PriceRegion is the AWS region whose prices apply (us-east-1).
	PriceRegion string `json:"price_region" yaml:"price_region"`
	// Monthly is the most the region's storage may cost per month.
	Monthly Money `json:"monthly" yaml:"monthly"`
}

// Config configures the optimizer. The zero value of each optional field
// takes the default named in its comment.
type Config struct {
	// Prices is the price table (default [DefaultPrices]).
	Prices PriceTable `json:"prices" yaml:"prices"`
	// Budgets lists every region the plan covers; a group of another
	// region is an error.
	Budgets []RegionBudget `json:"budgets" yaml:"budgets"`
	// HorizonMonths spreads one-time costs (transitions, early-deletion
	// charges) over this many months when comparing them with monthly
	// savings (default 12).
	HorizonMonths int `json:"horizon_months" yaml:"horizon_months"`
	// QueryableWindow keeps partitions read within it in a queryable
	// class (default 90 days).
	QueryableWindow time.Duration `json:"queryable_window" yaml:"queryable_window"`
	// ArchiveWindow is how long a partition (and its data) must have gone
	// unread before an archive class may hold it (default 365 days).
	ArchiveWindow time.Duration `json:"archive_window" yaml:"archive_window"`
	// Retention maps a table to its meridian.retention-days: a partition
	// older than that is past retention review and may be archived
	// whatever its reads, and a younger one is charged the minimum duration
	// it would not live out in a class.
	Retention map[string]time.Duration `json:"retention" yaml:"retention"`
	// Classes are the target classes the optimizer may choose (default:
	// every class but ONEZONE_IA, whose single zone Meridian does not
	// choose on its own).
	Classes []StorageClass `json:"classes" yaml:"classes"`
	// SpendAll applies every move that pays back within the horizon;
	// by default moves stop once the region is under budget.
	SpendAll bool `json:"spend_all" yaml:"spend_all"`
}

func (c Config) withDefaults() Config {
	if c.Prices.Version == "" {
		c.Prices = DefaultPrices()
	}
	if c.HorizonMonths == 0 {
		c.HorizonMonths = 12
	}
	if c.QueryableWindow == 0 {
		c.QueryableWindow = 90 * day
	}
	if c.ArchiveWindow == 0 {
		c.ArchiveWindow = 365 * day
	}
	if c.Classes == nil {
		c.Classes = []StorageClass{Standard, IntelligentTiering, StandardIA, GlacierIR, Glacier, DeepArchive}
	}
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if err := c.Prices.Validate(); err != nil {
		return err
	}
	if len(c.Budgets) == 0 {
		return errors.New("lifecycle: no region budgets: list each region with its monthly budget")
	}
	seen := map[string]bool{}
	for _, b := range c.Budgets {
		if b.Region == "" || seen[b.Region] {
			return fmt.Errorf("lifecycle: budget region %q empty or listed twice", b.Region)
		}
		seen[b.Region] = true
		if b.Monthly < 0 {
			return fmt.Errorf("lifecycle: region %s: negative budget", b.Region)
		}
		if _, err := c.Prices.Region(b.PriceRegion); err != nil {
			return fmt.Errorf("lifecycle: region %s: %w", b.Region, err)
		}
	}
	if c.HorizonMonths < 1 || c.HorizonMonths > 120 {
		return fmt.Errorf("lifecycle: horizon_months %d: want 1 to 120", c.HorizonMonths)
	}
	if c.QueryableWindow < 0 || c.ArchiveWindow < c.QueryableWindow {
		return fmt.Errorf("lifecycle: archive_window (%v) must be at least queryable_window (%v)", c.ArchiveWindow, c.QueryableWindow)
	}
	for _, cl := range c.Classes {
		if !cl.Known() {
			return fmt.Errorf("lifecycle: unknown target class %q", cl)
		}
	}
	return nil
}

// PlanFormat is the version of the Plan JSON layout.
const PlanFormat = 1

// Plan is what the optimizer decided: per region totals and the moves that
// reach them. It is immutable once built and round-trips through JSON.
type Plan struct {
	Format        int          `json:"format"`
	PriceVersion  string       `json:"price_version"`
	CreatedAt     time.Time    `json:"created_at"`
	HorizonMonths int          `json:"horizon_months"`
	Regions       []RegionPlan `json:"regions"`
	// Actions are the moves, sorted by region, bucket, prefix and class.
	Actions []Action `json:"actions"`
	// Warnings name partitions the plan could not serve as policy wants,
	// such as archived partitions that are still being read.
	Warnings []string `json:"warnings,omitempty"`
}

// RegionPlan is one region's outcome.
type RegionPlan struct {
	Region      string `json:"region"`
	PriceRegion string `json:"price_region"`
	Budget      Money  `json:"budget"`
	// Current is the monthly cost as things stand.
	Current Money `json:"current"`
	// Steady is the monthly cost once the actions are done.
	Steady Money `json:"steady"`
	// OneTime is the actions' transition and early-deletion charges.
	OneTime Money `json:"one_time"`
	// Projected is Steady plus OneTime spread over the horizon: what is
	// held against the budget.
	Projected Money `json:"projected"`
	// MeetsBudget is Projected <= Budget; otherwise the plan is the
	// cheapest the constraints allow and Shortfall is the excess.
	MeetsBudget bool  `json:"meets_budget"`
	Shortfall   Money `json:"shortfall,omitempty"`
	// Before and After break Current and Steady down by class.
	Before []ClassCost `json:"before"`
	After  []ClassCost `json:"after"`
}

// Action moves one group: the objects under Bucket/Prefix whose class is
// From, to class To.
type Action struct {
	// ID is stable for the same region, bucket, prefix and classes, so a
	// journal can recognise an action across runs of the same plan.
	ID        string       `json:"id"`
	Region    string       `json:"region"`
	Bucket    string       `json:"bucket"`
	Prefix    string       `json:"prefix"`
	Table     string       `json:"table"`
	Partition string       `json:"partition"`
	From      StorageClass `json:"from"`
	To        StorageClass `json:"to"`
	Objects   int64        `json:"objects"`
	Bytes     int64        `json:"bytes"`
	// MonthlyBefore and MonthlyAfter are the group's monthly cost in From
	// and in To.
	MonthlyBefore Money `json:"monthly_before"`
	MonthlyAfter  Money `json:"monthly_after"`
	// Transition is the one-time transition charge; EarlyDeletion what S3
	// bills for leaving From before its minimum duration; ShortLife what
	// it bills if the data is deleted (retention) before To's minimum.
	Transition    Money `json:"transition"`
	EarlyDeletion Money `json:"early_deletion,omitempty"`
	ShortLife     Money `json:"short_life,omitempty"`
	// Reason says why in words: the read history that allowed the class.
	Reason string `json:"reason"`
}

// OneTime is the action's one-time charges.
func (a Action) OneTime() Money { return a.Transition.plus(a.EarlyDeletion).plus(a.ShortLife) }

// Optimizer chooses storage classes.
type Optimizer struct {
	cfg     Config
	pricers map[string]*Pricer
	budgets map[string]RegionBudget
}

// NewOptimizer validates cfg and prepares the region pricers.
func NewOptimizer(cfg Config) (*Optimizer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := &Optimizer{cfg: cfg, pricers: map[string]*Pricer{}, budgets: map[string]RegionBudget{}}
	for _, b := range cfg.Budgets {
		p, err := NewPricer(cfg.Prices, b.PriceRegion)
		if err != nil {
			return nil, err
		}
		o.pricers[b.Region] = p
		o.budgets[b.Region] = b
	}
	return o, nil
}

// choice is one group's decision.
type choice struct {
	g      Group
	stay   ClassCost
	to     StorageClass
	after  ClassCost
	action Action
	// saving is the monthly saving net of amortised one-time costs.
	saving Money
	moved  bool
}

// Plan chooses a class for every group. Per region it first finds each
// group's cheapest allowed class (storage, overhead, monitoring and
// retrieval per month plus one-time charges spread over the horizon), then
// takes the moves in order of monthly saving per dollar of one-time spend
// (free moves first; ties by saving, then by bucket and prefix) until the
// region is under budget. If every profitable move is taken and the region
// is still over, the plan says so with the shortfall. The result depends
// only on its inputs.
func (o *Optimizer) Plan(ctx context.Context, groups []Group, hist AccessHistory, now time.Time) (*Plan, error) {
	groups = slices.Clone(groups)
	slices.SortFunc(groups, compareGroups)
	plan := &Plan{Format: PlanFormat, PriceVersion: o.cfg.Prices.Version, CreatedAt: now.UTC(), HorizonMonths: o.cfg.HorizonMonths}
	byRegion := map[string][]*choice{}
	for _, g := range groups {
		if _, ok := o.budgets[g.Region]; !ok {
			return nil, fmt.Errorf("lifecycle: group s3://%s/%s is in region %q, which has no budget: add it to the lifecycle budgets", g.Bucket, g.Prefix, g.Region)
		}
		c, warn, err := o.choose(ctx, g, hist, now)
		if err != nil {
			return nil, err
		}
		if warn != "" {
			plan.Warnings = append(plan.Warnings, warn)
		}
		byRegion[g.Region] = append(byRegion[g.Region], c)
	}
	for _, b := range o.cfg.Budgets {
		rp := o.settle(b, byRegion[b.Region])
		plan.Regions = append(plan.Regions, rp)
		for _, c := range byRegion[b.Region] {
			if c.moved {
				plan.Actions = append(plan.Actions, c.action)
			}
		}
	}
	return plan, nil
}

// choose finds g's cheapest allowed class.
func (o *Optimizer) choose(ctx context.Context, g Group, hist AccessHistory, now time.Time) (*choice, string, error) {
	p := o.pricers[g.Region]
	var acc Access
	if !g.Pinned && hist != nil && g.Table != "" {
		var err error
		if acc, err = hist.Access(ctx, g.Table, g.Partition); err != nil {
			return nil, "", fmt.Errorf("lifecycle: access history of %s %s: %w", g.Table, g.Partition, err)
		}
	}
	use := o.usage(g, acc, now)
	c := &choice{g: g, stay: p.Monthly(g, g.Class, use), to: g.Class}
	if g.Pinned {
		return c, "", nil
	}
	readRecently := !acc.Last.IsZero() && now.Sub(acc.Last) < o.cfg.QueryableWindow
	var warn string
	if readRecently && !g.Class.Queryable() {
		warn = fmt.Sprintf("%s partition %q (s3://%s/%s) is in %s but was read on %s: queries need a restore",
			g.Table, g.Partition, g.Bucket, g.Prefix, g.Class, acc.Last.UTC().Format(time.DateOnly))
	}
	dataAge := now.Sub(g.Newest)
	unreadLong := dataAge >= o.cfg.ArchiveWindow && (acc.Last.IsZero() && now.Sub(acc.Since) >= o.cfg.ArchiveWindow ||
		!acc.Last.IsZero() && now.Sub(acc.Last) >= o.cfg.ArchiveWindow)
	retention, hasRetention := o.cfg.Retention[g.Table]
	pastRetention := hasRetention && dataAge >= retention

	stayCost := c.stay.Total()
	bestAmortised := stayCost
	horizon := int64(o.cfg.HorizonMonths)
	for _, t := range o.cfg.Classes {
		if !CanTransition(g.Class, t) {
			continue
		}
		if readRecently && !t.Queryable() {
			continue
		}
		if t.Archive() && !unreadLong && !pastRetention {
			continue
		}
		if (t == StandardIA || t == OneZoneIA) && dataAge < iaMinAge {
			continue
		}
		after := p.Monthly(g, t, use)
		a := Action{
			Transition:    p.TransitionCost(g, t),
			EarlyDeletion: p.EarlyDeletion(g),
		}
		if hasRetention && !pastRetention {
			a.ShortLife = p.ShortLifePenalty(g, t, retention-dataAge)
		}
		amortised := after.Total().plus(ceilDiv(a.OneTime(), horizon))
		if amortised >= bestAmortised {
			continue
		}
		bestAmortised = amortised
		reason := "not read within the queryable window"
		switch {
		case readRecently:
			reason = fmt.Sprintf("read %d times, last %s: kept queryable", acc.Count, acc.Last.UTC().Format(time.DateOnly))
		case t.Archive() && pastRetention:
			reason = "past the table's retention review"
		case t.Archive():
			reason = "not read within the archive window"
		}
		a.ID = actionID(g, t)
		a.Region, a.Bucket, a.Prefix, a.Table, a.Partition = g.Region, g.Bucket, g.Prefix, g.Table, g.Partition
		a.From, a.To, a.Objects, a.Bytes = g.Class, t, g.Objects, g.Bytes
		a.MonthlyBefore, a.MonthlyAfter = stayCost, after.Total()
		a.Reason = reason
		c.to, c.after, c.action, c.saving = t, after, a, stayCost-amortised
	}
	return c, warn, nil
}

// usage turns an access record into the cost model's usage.
func (o *Optimizer) usage(g Group, acc Access, now time.Time) Usage {
	last := g.Newest // Intelligent-Tiering's clock starts at the write
	if acc.Last.After(last) {
		last = acc.Last
	}
	u := Usage{SinceAccess: now.Sub(last)}
	span := now.Sub(acc.Since)
	if acc.Since.IsZero() || span < day {
		span = o.cfg.QueryableWindow
	}
	if acc.Count > 0 && span > 0 {
		u.ReadsPerMonthMilli = int64(mulDiv(acc.Count, int64(30*day/time.Second)*1000, int64(span/time.Second)))
	}
	return u
}

// settle takes the moves of one region in order of saving per dollar until
// it is under budget, and totals the outcome.
func (o *Optimizer) settle(b RegionBudget, cs []*choice) RegionPlan {
	rp := RegionPlan{Region: b.Region, PriceRegion: b.PriceRegion, Budget: b.Monthly}
	var moves []*choice
	for _, c := range cs {
		rp.Current = rp.Current.plus(c.stay.Total())
		if c.to != c.g.Class {
			moves = append(moves, c)
		}
	}
	slices.SortStableFunc(moves, func(x, y *choice) int {
		// x before y when x.saving/x.spend > y.saving/y.spend, compared
		// exactly as x.saving*y.spend vs y.saving*x.spend.
		xs, ys := x.action.OneTime(), y.action.OneTime()
		if r := cmpProducts(y.saving, xs, x.saving, ys); r != 0 {
			return r
		}
		return cmp.Or(cmp.Compare(y.saving, x.saving), compareGroups(x.g, y.g))
	})
	projected := rp.Current
	horizon := Money(o.cfg.HorizonMonths)
	for _, c := range moves {
		if projected <= b.Monthly && !o.cfg.SpendAll {
			break
		}
		c.moved = true
		projected -= c.saving
	}
	before, after := map[StorageClass]*ClassCost{}, map[StorageClass]*ClassCost{}
	for _, c := range cs {
		addClass(before, c.stay)
		if c.moved {
			addClass(after, c.after)
			rp.OneTime = rp.OneTime.plus(c.action.OneTime())
		} else {
			addClass(after, c.stay)
		}
	}
	rp.Before, rp.After = classList(before), classList(after)
	for _, cc := range rp.After {
		rp.Steady = rp.Steady.plus(cc.Total())
	}
	rp.Projected = rp.Steady.plus(ceilDiv(rp.OneTime, int64(horizon)))
	rp.MeetsBudget = rp.Projected <= b.Monthly
	if !rp.MeetsBudget {
		rp.Shortfall = rp.Projected - b.Monthly
	}
	return rp
}

// ceilDiv spreads a non-negative amount over n months, rounding up.
func ceilDiv(m Money, n int64) Money {
	q := m / Money(n)
	if m%Money(n) != 0 {
		q++
	}
	return q
}

// cmpProducts compares a*b with c*d for non-negative amounts, exactly.
func cmpProducts(a, b, c, d Money) int {
	h1, l1 := bits.Mul64(uint64(max(a, 0)), uint64(max(b, 0)))
	h2, l2 := bits.Mul64(uint64(max(c, 0)), uint64(max(d, 0)))
	return cmp.Or(cmp.Compare(h1, h2), cmp.Compare(l1, l2))
}

func addClass(m map[StorageClass]*ClassCost, c ClassCost) {
	if m[c.Class] == nil {
		m[c.Class] = &ClassCost{Class: c.Class}
	}
	m[c.Class].addCost(c)
}

func classList(m map[StorageClass]*ClassCost) []ClassCost {
	var out []ClassCost
	for _, c := range Classes {
		if cc := m[c]; cc != nil {
			out = append(out, *cc)
		}
	}
	return out
}

func actionID(g Group, to StorageClass) string {
	h := sha256.Sum256([]byte(g.Region + "\x00" + g.Bucket + "\x00" + g.Prefix + "\x00" + string(g.Class) + "\x00" + string(to)))
	return hex.EncodeToString(h[:8])
}
