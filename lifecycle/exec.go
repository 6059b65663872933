package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/meridian-lake/meridian/internal/store"
)

// Methods of moving an action's objects.
const (
	// MethodCopy rewrites each object onto its own key with the new class
	// (CopyObject; multipart above 5 GB): immediate, can go warmer, one
	// request per object.
	MethodCopy = "copy"
	// MethodTagRule tags each object with TagKey = the target class; a
	// bucket lifecycle rule per class (see [LifecycleRules]) then moves
	// them server side. S3 runs rules about daily, so the class changes
	// later; tagging is what the executor does and journals.
	MethodTagRule = "tag-rule"
)

// TagKey is the object tag a tag-rule move sets; its value is the target
// storage class.
const TagKey = "meridian-storage-class"

// ExecConfig configures the executor. The zero value of each optional field
// takes the default named in its comment.
type ExecConfig struct {
	// Apply makes the executor change objects. Without it (the default)
	// a run is a dry run: it lists what each action would move, records a
	// dry-run job, and writes nothing to S3.
	Apply bool
	// PriceVersion, if set, is the price table version a plan must have
	// been priced with; a plan of another version is refused.
	PriceVersion string
	// ObjectsPerSecond caps object operations (copies, tags, heads of
	// interrupted objects) across the job (default 50).
	ObjectsPerSecond float64
	// Concurrency is how many actions run at once (default 4); each
	// action's objects are moved one at a time.
	Concurrency int
	// TagRuleMinObjects sends actions of at least this many objects
	// through tags and a bucket lifecycle rule instead of per-object copies
	// (0, the default: always copy). Tagging costs a request per object
	// too, plus tag storage and the rule's transition charge, but S3 does
	// the data movement; it pays off when client-side copy throughput is
	// the limit.
	TagRuleMinObjects int64
	// Lease is how long a job stays claimed without a heartbeat (default
	// 30 s); a job whose owner on this host has died is resumed at once.
	Lease time.Duration
	// MaxAttempts bounds the attempts per object on throttling and 5xx
	// answers (default 5).
	MaxAttempts int
	// Classes, if set, is told each partition's new class once its action
	// is done, so the query planner refuses statements that would read
	// archived partitions (a [PartitionStateStore]). Tag-rule actions are
	// recorded too: the rule will move the objects within about a day, and
	// refusing a query that would still have worked is the safe side.
	Classes ClassRecorder
	// Progress, if set, is called after each object and action, never
	// concurrently.
	Progress func(Progress)
	// Logger receives one line per job start and end (default: discard).
	Logger *slog.Logger
	// Now is the clock for the journal (default time.Now).
	Now func() time.Time
}

func (c ExecConfig) withDefaults() ExecConfig {
	if c.ObjectsPerSecond <= 0 {
		c.ObjectsPerSecond = 50
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate checks the configuration.
func (c ExecConfig) Validate() error {
	if c.Concurrency > 256 {
		return fmt.Errorf("lifecycle executor: concurrency %d: at most 256", c.Concurrency)
	}
	if c.TagRuleMinObjects < 0 {
		return errors.New("lifecycle executor: tag_rule_min_objects is negative")
	}
	return nil
}

// ClassRecorder records the storage class a partition of a table now sits
// in.
type ClassRecorder interface {
	RecordClass(ctx context.Context, table, partition string, class StorageClass) error
}

var _ ClassRecorder = (*PartitionStateStore)(nil)

// Progress is a snapshot of a running job.
type Progress struct {
	Job          string
	DryRun       bool
	ActionsDone  int
	ActionsTotal int
	// ObjectsDone counts objects handled (moved, tagged, recovered,
	// skipped or left alone) of ObjectsTotal planned.
	ObjectsDone  int64
	ObjectsTotal int64
	BytesMoved   int64
}

// Counts are what a job did.
type Counts struct {
	ActionsDone int64 `json:"actions_done"`
	Copied      int64 `json:"copied"`
	Tagged      int64 `json:"tagged"`
	Recovered   int64 `json:"recovered"`
	// Skipped objects were already in the target class when listed and
	// were not journalled by this job.
	Skipped    int64 `json:"skipped"`
	Changed    int64 `json:"changed"`
	BytesMoved int64 `json:"bytes_moved"`
	// WouldMove is, for a dry run, the objects an apply would move.
	WouldMove      int64 `json:"would_move,omitempty"`
	WouldMoveBytes int64 `json:"would_move_bytes,omitempty"`
}

// Result is one run's outcome.
type Result struct {
	Job     string `json:"job"`
	DryRun  bool   `json:"dry_run"`
	Resumed bool   `json:"resumed,omitempty"`
	Counts
	// Rules are the bucket lifecycle configurations (JSON for
	// PutBucketLifecycleConfiguration) the tag-rule actions need, per
	// bucket. The executor does not install them (see [LifecycleRules]).
	Rules map[string][]byte `json:"rules,omitempty"`
}

// Executor applies plans. It is safe to use from one goroutine at a time.
type Executor struct {
	cfg     ExecConfig
	objects ObjectStore
	j       *journal
}

// NewExecutor returns an executor that moves objects through objects and
// journals in db.
func NewExecutor(ctx context.Context, db *store.DB, objects ObjectStore, cfg ExecConfig) (*Executor, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if db == nil || objects == nil {
		return nil, errors.New("lifecycle executor: state database and object store are required")
	}
	if err := db.Migrate(ctx, "lifecycle-exec", execMigrations); err != nil {
		return nil, err
	}
	return &Executor{cfg: cfg, objects: objects, j: &journal{db: db}}, nil
}

// CheckPlan refuses a plan the executor must not run: an unknown format or
// price version, an action on metadata/, an empty or bucket-wide prefix, a
// move against S3's transition order.
func (e *Executor) CheckPlan(p *Plan) error {
	if p == nil {
		return errors.New("lifecycle executor: no plan")
	}
	if p.Format != PlanFormat {
		return fmt.Errorf("lifecycle executor: plan format %d, this executor runs format %d: plan again", p.Format, PlanFormat)
	}
	if e.cfg.PriceVersion != "" && p.PriceVersion != e.cfg.PriceVersion {
		return fmt.Errorf("lifecycle executor: plan priced with %q, the configured prices are %q: plan again", p.PriceVersion, e.cfg.PriceVersion)
	}
	seen := map[string]bool{}
	for _, a := range p.Actions {
		switch {
		case a.ID == "" || seen[a.ID]:
			return fmt.Errorf("lifecycle executor: action id %q empty or repeated", a.ID)
		case a.Bucket == "" || a.Prefix == "" || !strings.HasSuffix(a.Prefix, "/"):
			return fmt.Errorf("lifecycle executor: action %s: prefix %q in bucket %q must name a partition directory", a.ID, a.Prefix, a.Bucket)
		case strings.HasPrefix(a.Prefix, "metadata/") || strings.Contains(a.Prefix, "/metadata/"):
			return fmt.Errorf("lifecycle executor: action %s: %s is Iceberg metadata, never a tiering target", a.ID, a.Prefix)
		case !CanTransition(a.From, a.To):
			return fmt.Errorf("lifecycle executor: action %s: %s to %s is against S3's transition order", a.ID, a.From, a.To)
		}
		seen[a.ID] = true
	}
	return nil
}

// Run runs plan as a new job: a dry run unless ExecConfig.Apply. An
// apply refuses to start while an earlier apply job is unfinished: Resume
// it first.
func (e *Executor) Run(ctx context.Context, plan *Plan) (Result, error) {
	if err := e.CheckPlan(plan); err != nil {
		return Result{}, err
	}
	now := e.cfg.Now()
	kind := KindDryRun
	if e.cfg.Apply {
		kind = KindApply
		if pending, err := e.Pending(ctx); err != nil {
			return Result{}, err
		} else if pending != "" {
			return Result{}, fmt.Errorf("lifecycle executor: apply job %s is unfinished: resume it (meridian lifecycle apply --apply resumes it) before starting another", pending)
		}
	}
	id := newJobID(now)
	if err := e.j.create(ctx, id, kind, plan, now, e.cfg.Lease); err != nil {
		return Result{}, err
	}
	return e.run(ctx, id, plan, false)
}

// Pending returns the id of the newest unfinished apply job ("" if none).
func (e *Executor) Pending(ctx context.Context) (string, error) {
	var id string
	err := e.j.db.QueryRowContext(ctx, `SELECT coalesce(max(id), '') FROM lifecycle_jobs WHERE kind = ? AND finished = 0`, KindApply).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("journal: %w", err)
	}
	return id, nil
}

// Resume continues the newest unfinished apply job with the plan it was
// started with, if its process is gone. ok is false when there is none.
// Objects the journal shows as intended but not done are checked with
// HeadObject: those already in the target class are marked done without
// a second copy.
func (e *Executor) Resume(ctx context.Context) (res Result, ok bool, err error) {
	if !e.cfg.Apply {
		return Result{}, false, errors.New("lifecycle executor: resuming an apply job needs Apply")
	}
	id, plan, ok, err := e.j.claim(ctx, e.cfg.Now(), e.cfg.Lease)
	if err != nil || !ok {
		return Result{}, false, err
	}
	if err := e.CheckPlan(plan); err != nil {
		return Result{}, true, fmt.Errorf("job %s: %w", id, err)
	}
	res, err = e.run(ctx, id, plan, true)
	return res, true, err
}

// tracker totals a run for progress callbacks.
type tracker struct {
	mu sync.Mutex
	p  Progress
	c  Counts
	cb func(Progress)
}

func (t *tracker) object(f func(c *Counts), bytes int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(&t.c)
	t.p.ObjectsDone++
	t.p.BytesMoved += bytes
	if t.cb != nil {
		t.cb(t.p)
	}
}

func (t *tracker) action() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.p.ActionsDone++
	if t.cb != nil {
		t.cb(t.p)
	}
}

func (e *Executor) run(ctx context.Context, id string, plan *Plan, resumed bool) (Result, error) {
	dry := !e.cfg.Apply
	log := e.cfg.Logger.With("job", id)
	log.Info("lifecycle job started", "dry_run", dry, "resumed", resumed, "actions", len(plan.Actions))
	tr := &tracker{cb: e.cfg.Progress, p: Progress{Job: id, DryRun: dry, ActionsTotal: len(plan.Actions)}}
	for _, a := range plan.Actions {
		tr.p.ObjectsTotal += a.Objects
	}
	lim := newLimiter(e.cfg.ObjectsPerSecond)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The lease is renewed while the job runs, so another process does
	// not take it over.
	leaseDone := make(chan struct{})
	go func() {
		defer close(leaseDone)
		t := time.NewTicker(e.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				if err := e.j.renew(runCtx, id, e.cfg.Now().Add(e.cfg.Lease)); err != nil && runCtx.Err() == nil {
					log.Warn("lifecycle lease renewal failed", "err", err)
				}
			}
		}
	}()
	// One writer commits completions in batches: whatever finished while
	// the previous batch was being written.
	marks := make(chan doneMark, 256)
	writerErr := make(chan error, 1)
	go func() {
		var err error
		for m := range marks {
			batch := []doneMark{m}
		drain:
			for len(batch) < 512 && batch[len(batch)-1].flushed == nil {
				select {
				case m, ok := <-marks:
					if !ok {
						break drain
					}
					batch = append(batch, m)
				default:
					break drain
				}
			}
			if err == nil {
				err = e.j.dones(context.WithoutCancel(runCtx), id, batch)
			}
			if f := batch[len(batch)-1].flushed; f != nil {
				f <- err
			}
		}
		writerErr <- err
	}()

	g, gctx := errgroup.WithContext(runCtx)
	g.SetLimit(e.cfg.Concurrency)
	rules := map[string]map[StorageClass]bool{}
	for _, a := range plan.Actions {
		method := MethodCopy
		if e.cfg.TagRuleMinObjects > 0 && a.Objects >= e.cfg.TagRuleMinObjects {
			method = MethodTagRule
			if rules[a.Bucket] == nil {
				rules[a.Bucket] = map[StorageClass]bool{}
			}
			rules[a.Bucket][a.To] = true
		}
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			return e.action(gctx, id, a, method, dry, lim, tr, marks)
		})
	}
	runErr := g.Wait()
	close(marks)
	if err := <-writerErr; err != nil && runErr == nil {
		runErr = err
	}
	cancel()
	<-leaseDone

	res := Result{Job: id, DryRun: dry, Resumed: resumed}
	tr.mu.Lock()
	res.Counts = tr.c
	tr.mu.Unlock()
	fctx := context.WithoutCancel(ctx)
	if !dry {
		c, err := e.j.counts(fctx, id)
		if err != nil && runErr == nil {
			runErr = err
		}
		c.Skipped = res.Skipped
		res.Counts = c
	}
	if len(rules) > 0 {
		res.Rules = map[string][]byte{}
		for b, classes := range rules {
			data, err := LifecycleRules(classes)
			if err != nil && runErr == nil {
				runErr = err
			}
			res.Rules[b] = data
		}
	}
	if err := e.j.finish(fctx, id, res.Counts, e.cfg.Now(), runErr); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		log.Error("lifecycle job failed", "err", runErr)
		return res, fmt.Errorf("lifecycle job %s: %w", id, runErr)
	}
	log.Info("lifecycle job finished", "copied", res.Copied, "tagged", res.Tagged, "recovered", res.Recovered, "bytes_moved", res.BytesMoved)
	return res, nil
}

// action runs one action: objects the journal shows as started are checked
// first, then the prefix is listed and the objects still in From are
// journalled, moved and marked done.
func (e *Executor) action(ctx context.Context, job string, a Action, method string, dry bool, lim *limiter, tr *tracker, marks chan<- doneMark) error {
	if !dry {
		intent, done, err := e.j.actionState(ctx, job, a.ID)
		if err != nil {
			return err
		}
		if done {
			tr.action()
			return nil
		}
		if !intent {
			if err := e.j.actionIntent(ctx, job, a, method, e.cfg.Now()); err != nil {
				return err
			}
		}
	}
	var seen map[string]bool
	if !dry {
		var err error
		if seen, err = e.j.journalled(ctx, job, a.ID); err != nil {
			return err
		}
		// Intent without done: the process stopped between the two. Look
		// at the object before touching it again.
		for key, done := range seen {
			if done {
				tr.object(func(*Counts) {}, 0)
				continue
			}
			if err := e.resumeObject(ctx, job, a, method, key, lim, tr, marks); err != nil {
				return err
			}
		}
	}
	token := ""
	for {
		page, err := listPageRetrying(ctx, e.objects, a.Bucket, a.Prefix, token,
			ListConfig{MaxAttempts: e.cfg.MaxAttempts}.withDefaults(), lim, new(atomic.Int64))
		if err != nil {
			return fmt.Errorf("action %s: %w", a.ID, err)
		}
		var todo []Object
		for _, o := range page.Objects {
			if _, ok := seen[o.Key]; ok {
				continue
			}
			switch {
			case dry && o.Class == a.From:
				tr.object(func(c *Counts) { c.WouldMove++; c.WouldMoveBytes += o.Size }, 0)
			case o.Class == a.To || method == MethodTagRule && e.tagged(ctx, o, a.To):
				tr.object(func(c *Counts) { c.Skipped++ }, 0)
			case o.Class != a.From:
				if dry {
					tr.object(func(c *Counts) { c.Changed++ }, 0)
					continue
				}
				todo = append(todo, o) // journalled as changed below
			default:
				todo = append(todo, o)
			}
		}
		if !dry && len(todo) > 0 {
			if err := e.j.intents(ctx, job, a, method, todo, e.cfg.Now()); err != nil {
				return err
			}
			for _, o := range todo {
				if err := e.move(ctx, a, method, o, lim, tr, marks); err != nil {
					return err
				}
			}
		}
		if page.Next == "" {
			break
		}
		token = page.Next
	}
	if !dry {
		// The action's completions must be committed before the action is
		// marked done, or a crash in between would leave intents that no
		// rerun looks at.
		flushed := make(chan error, 1)
		marks <- doneMark{flushed: flushed}
		select {
		case err := <-flushed:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
		if e.cfg.Classes != nil && a.Table != "" {
			if err := e.cfg.Classes.RecordClass(ctx, a.Table, a.Partition, a.To); err != nil {
				return fmt.Errorf("action %s: %w", a.ID, err)
			}
		}
		if err := e.j.actionDone(ctx, job, a.ID, e.cfg.Now()); err != nil {
			return err
		}
	}
	tr.action()
	return nil
}

// resumeObject finishes an object whose intent was journalled but whose
// completion was not.
func (e *Executor) resumeObject(ctx context.Context, job string, a Action, method, key string, lim *limiter, tr *tracker, marks chan<- doneMark) error {
	if err := lim.wait(ctx); err != nil {
		return err
	}
	o, err := e.objects.Head(ctx, a.Bucket, key)
	switch {
	case errors.Is(err, ErrNotFound):
		e.mark(marks, a.Bucket, key, OutcomeGone)
		tr.object(func(c *Counts) { c.Changed++ }, 0)
		return nil
	case err != nil:
		return fmt.Errorf("action %s: %w", a.ID, err)
	}
	if o.Class == a.To || method == MethodTagRule && e.tagged(ctx, o, a.To) {
		e.mark(marks, a.Bucket, key, OutcomeRecovered)
		tr.object(func(c *Counts) { c.Recovered++ }, o.Size)
		return nil
	}
	return e.move(ctx, a, method, o, lim, tr, marks)
}

// move moves one journalled object, or records why it did not.
func (e *Executor) move(ctx context.Context, a Action, method string, o Object, lim *limiter, tr *tracker, marks chan<- doneMark) error {
	if o.Class != a.From {
		e.mark(marks, o.Bucket, o.Key, OutcomeChanged)
		tr.object(func(c *Counts) { c.Changed++ }, 0)
		return nil
	}
	err := e.retrying(ctx, lim, func() error {
		if method == MethodTagRule {
			return e.tag(ctx, o, a.To)
		}
		return e.objects.Copy(ctx, o.Bucket, o.Key, a.To)
	})
	switch {
	case errors.Is(err, ErrNotFound):
		e.mark(marks, o.Bucket, o.Key, OutcomeGone)
		tr.object(func(c *Counts) { c.Changed++ }, 0)
		return nil
	case err != nil:
		return fmt.Errorf("action %s: %w", a.ID, err)
	}
	if method == MethodTagRule {
		e.mark(marks, o.Bucket, o.Key, OutcomeTagged)
		tr.object(func(c *Counts) { c.Tagged++ }, 0)
		return nil
	}
	e.mark(marks, o.Bucket, o.Key, OutcomeCopied)
	tr.object(func(c *Counts) { c.Copied++; c.BytesMoved += o.Size }, o.Size)
	return nil
}

func (e *Executor) mark(marks chan<- doneMark, bucket, key, outcome string) {
	marks <- doneMark{bucket: bucket, key: key, outcome: outcome, at: e.cfg.Now()}
}

// retrying runs op under the rate limit, retrying throttling and 5xx
// answers with jittered backoff.
func (e *Executor) retrying(ctx context.Context, lim *limiter, op func() error) error {
	for attempt := 1; ; attempt++ {
		if err := lim.wait(ctx); err != nil {
			return err
		}
		err := op()
		if err == nil || !retryable(err) || attempt >= e.cfg.MaxAttempts {
			return err
		}
		t := time.NewTimer(rand.N(min(50*time.Millisecond<<(attempt-1), 5*time.Second)) + 1)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}
