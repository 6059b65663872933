package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/cfgfile"
	"github.com/meridian-lake/meridian/internal/store"
	"github.com/meridian-lake/meridian/lifecycle"
)

const lifecycleDescription = `Lifecycle keeps each region's lake under its monthly storage budget: it
lists the lake's objects, prices them, and moves partitions nobody reads to
colder storage classes, keeping every partition read within the queryable
window in a class queries can read.

Subcommands:
  scan                      objects, bytes and classes per region, and the tables'
                            live bytes from their current snapshots
  plan                      the moves that bring each region under budget (text, or
                            --json); --out FILE saves the plan for apply --plan
  apply                     dry run of the plan (the default): what would move;
                            with --apply, move it. An apply that was killed is
                            resumed by the next apply --apply before anything else
  report                    per region and class: bytes, objects, monthly cost now
                            and after the plan, against the budget; --svg FILE
                            draws the next 12 months
  jobs [ID]                 the recorded apply and dry-run jobs, or one job with its
                            journal (--json lists every object); jobs ID --abandon
                            gives up on an unfinished apply job
  restore TABLE             restore archived partitions of TABLE (--partition KEY,
                            repeatable; none: every unreadable one), --tier, --days

Budgets come from lifecycle.budgets in the configuration or from --budget
REGION=USD (repeatable). Storage classes are simulated (lifecycle's
simulator, state in the state database) when the S3 endpoint is local;
lifecycle.simulate_storage_classes says otherwise.

Environment:
  MERIDIAN_CONFIG   the configuration file (default: embedded defaults)
  MERIDIAN_DIR      the state directory (default .meridian)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
                    the S3 keys when the configuration has none

Exit status: 0 on success, also when a plan cannot meet a budget (the
report says so); 1 when the work failed (an apply stopped: run it again to
resume); 2 for a usage error; 130 when interrupted.`

// lifecycleFlags lists the flags each subcommand takes besides --config
// and --json.
var lifecycleFlags = map[string][]string{
	"scan":    {"at"},
	"plan":    {"budget", "at", "out"},
	"apply":   {"budget", "at", "plan", "apply"},
	"report":  {"budget", "at", "plan", "svg"},
	"jobs":    {"limit", "abandon"},
	"restore": {"partition", "tier", "days", "status"},
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type lifecycleArgs struct {
	budgets, partitions   multiFlag
	at, planPath, out     string
	svg, tier             string
	apply, abandon        bool
	limit, days, statusID int
}

// lifecycleEnv is what the subcommands share.
type lifecycleEnv struct {
	cfg     Config
	lc      LifecycleConfig
	json    bool
	db      *store.DB
	cat     *catalog.Catalog
	prices  lifecycle.PriceTable
	objects lifecycle.ObjectStore
	sim     bool
	now     func() time.Time
	st      streams
}

func runLifecycle(ctx context.Context, st streams, args []string) int {
	var (
		configPath string
		asJSON     bool
		a          lifecycleArgs
	)
	fs := newFlagSet(st, "lifecycle", "scan|plan|apply|report|jobs|restore [arguments] [flags]", lifecycleDescription)
	fs.StringVar(&configPath, "config", os.Getenv("MERIDIAN_CONFIG"), "configuration `file`")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	fs.Var(&a.budgets, "budget", "plan, apply, report: `REGION=USD` monthly budget (repeatable; overrides the configuration)")
	fs.StringVar(&a.at, "at", "", "scan, plan, apply, report: plan as of `time` (RFC 3339), for simulations (default now)")
	fs.StringVar(&a.out, "out", "", "plan: write the plan as JSON to `file`")
	fs.StringVar(&a.planPath, "plan", "", "apply, report: use the plan in `file` instead of planning anew")
	fs.BoolVar(&a.apply, "apply", false, "apply: move the objects (without it apply is a dry run)")
	fs.StringVar(&a.svg, "svg", "", "report: write the 12-month chart to `file` (one per region: file-REGION.svg)")
	fs.IntVar(&a.limit, "limit", 20, "jobs: at most `n` jobs")
	fs.BoolVar(&a.abandon, "abandon", false, "jobs ID: give up on the unfinished apply job ID, so apply stops resuming it")
	fs.Var(&a.partitions, "partition", "restore: the partition `key` to restore (repeatable)")
	fs.StringVar(&a.tier, "tier", "Standard", "restore: `tier` Expedited, Standard or Bulk")
	fs.IntVar(&a.days, "days", 7, "restore: keep the restored copy `n` days")
	fs.IntVar(&a.statusID, "status", 0, "restore: show restore job `id` instead of starting one")
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	sub, rest, code, ok := subcommand(st, "lifecycle", fs, pos, lifecycleFlags, []string{"config", "json"})
	if !ok {
		return code
	}
	switch {
	case sub == "restore" && a.statusID == 0 && len(rest) != 1:
		return usageError(st, "lifecycle", "restore takes one TABLE")
	case sub == "jobs" && len(rest) > 1:
		return usageError(st, "lifecycle", "jobs takes at most one job ID")
	case sub == "jobs" && a.abandon && len(rest) != 1:
		return usageError(st, "lifecycle", "jobs --abandon takes the job ID")
	case sub != "restore" && sub != "jobs" && len(rest) > 0:
		return usageError(st, "lifecycle", "%s takes no arguments, got %q", sub, strings.Join(rest, " "))
	}
	now := time.Now
	if a.at != "" {
		t, err := time.Parse(time.RFC3339, a.at)
		if err != nil {
			return usageError(st, "lifecycle", "--at %q: want an RFC 3339 time (2027-01-31T00:00:00Z)", a.at)
		}
		now = func() time.Time { return t }
	}
	cfg, err := loadConfig(configPath)
	if err != nil {
		fmt.Fprintf(st.err, "meridian lifecycle: %v\n", err)
		return exitUsage
	}
	lc := cfg.Lifecycle.withDefaults()
	if err := applyBudgetFlags(&lc, a.budgets); err != nil {
		return usageError(st, "lifecycle", "%v", err)
	}
	if err := lc.validate(); err != nil {
		fmt.Fprintf(st.err, "meridian lifecycle: %v\n", err)
		return exitUsage
	}
	env := &lifecycleEnv{cfg: cfg, lc: lc, json: asJSON, now: now, st: st}
	defer env.close()
	if code, err := env.open(ctx, sub); err != nil {
		fmt.Fprintf(st.err, "meridian lifecycle %s: %v\n", sub, err)
		return code
	}

	switch sub {
	case "scan":
		err = env.scan(ctx)
	case "plan":
		err = env.planCmd(ctx, a)
	case "apply":
		err = env.applyCmd(ctx, a)
	case "report":
		err = env.report(ctx, a)
	case "jobs":
		if a.abandon {
			if err = lifecycle.Abandon(ctx, env.db, rest[0]); err == nil {
				fmt.Fprintf(st.out, "job %s abandoned\n", rest[0])
			}
			break
		}
		err = env.jobs(ctx, rest, a.limit)
	case "restore":
		err = env.restore(ctx, rest, a)
	}
	if err != nil {
		fmt.Fprintf(st.err, "meridian lifecycle %s: %v\n", sub, err)
		var ue usageErr
		switch {
		case errors.As(err, &ue):
			return exitUsage
		case ctx.Err() != nil:
			return exitInterrupted
		}
		return exitFailed
	}
	return exitOK
}

// applyBudgetFlags sets budgets from --budget REGION=USD.
func applyBudgetFlags(lc *LifecycleConfig, flags []string) error {
	for _, f := range flags {
		region, amount, ok := strings.Cut(f, "=")
		if !ok || region == "" {
			return fmt.Errorf("--budget %q: want REGION=USD", f)
		}
		m, err := lifecycle.ParseMoney(amount)
		if err != nil || m < 0 {
			return fmt.Errorf("--budget %q: want a non-negative dollar amount", f)
		}
		i := slices.IndexFunc(lc.Budgets, func(b lifecycle.RegionBudget) bool { return b.Region == region })
		if i < 0 {
			lc.Budgets = append(lc.Budgets, lifecycle.RegionBudget{Region: region, PriceRegion: defaultPriceRegion(region)})
			i = len(lc.Budgets) - 1
		}
		lc.Budgets[i].Monthly = m
	}
	return nil
}

// open opens what sub needs: the state store always, the catalog and S3
// for all but jobs.
func (e *lifecycleEnv) open(ctx context.Context, sub string) (int, error) {
	var err error
	if e.db, err = store.Open(ctx, e.cfg.Store); err != nil {
		return exitFailed, err
	}
	if sub == "jobs" {
		return exitOK, nil
	}
	if e.prices, err = e.lc.prices(); err != nil {
		return exitUsage, err
	}
	if e.cat, err = catalog.New(ctx, e.cfg.Catalog, e.db); err != nil {
		return exitUsage, err
	}
	if e.objects, e.sim, err = objectStore(ctx, e.cfg, e.db, e.prices, e.now); err != nil {
		return exitFailed, err
	}
	return exitOK, nil
}

func (e *lifecycleEnv) close() {
	if e.cat != nil {
		e.cat.Close()
	}
	if e.db != nil {
		e.db.Close()
	}
}

// lake lists the lake's tables and scans their objects, with a progress
// line on standard error.
func (e *lifecycleEnv) lake(ctx context.Context) ([]lifecycle.LakeTable, []lifecycle.Group, error) {
	tables, err := lifecycle.LakeTables(ctx, e.cat)
	if err != nil {
		return nil, nil, err
	}
	if len(tables) == 0 {
		return nil, nil, errors.New("the catalog has no tables in S3: lifecycle moves S3 objects only")
	}
	bar := newProgressBar(e.st.err, "scan")
	groups, stats, err := lifecycle.ScanLake(ctx, e.objects, tables, e.now(),
		lifecycle.ListConfig{RequestsPerSecond: e.lc.ListRequestsPerSecond},
		func(s lifecycle.ScanStats) { bar.update(s.Objects, 0, "objects listed") })
	bar.done(fmt.Sprintf("%d objects in %d tables listed", stats.Objects, len(tables)))
	return tables, groups, err
}

// plan scans and plans, or reads the plan in path.
func (e *lifecycleEnv) plan(ctx context.Context, path string) (*lifecycle.Plan, error) {
	if path != "" {
		data, err := cfgfile.Read(path, 1<<30)
		if err != nil {
			return nil, usageErr{err}
		}
		var p lifecycle.Plan
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, usageErr{fmt.Errorf("plan %s: %w", path, err)}
		}
		return &p, nil
	}
	if len(e.lc.Budgets) == 0 {
		return nil, usageErr{errors.New("no budgets: set lifecycle.budgets in the configuration or give --budget REGION=USD")}
	}
	tables, groups, err := e.lake(ctx)
	if err != nil {
		return nil, err
	}
	alog, err := lifecycle.NewAccessLog(ctx, e.db)
	if err != nil {
		return nil, err
	}
	now := e.now()
	hist, err := alog.Summary(ctx, now.Add(-max(e.lc.ArchiveWindow, e.lc.QueryableWindow)))
	if err != nil {
		return nil, err
	}
	o, err := lifecycle.NewOptimizer(lifecycle.Config{Prices: e.prices, Budgets: e.lc.Budgets, HorizonMonths: e.lc.HorizonMonths,
		QueryableWindow: e.lc.QueryableWindow, ArchiveWindow: e.lc.ArchiveWindow, Retention: lifecycle.Retention(tables)})
	if err != nil {
		return nil, usageErr{err}
	}
	return o.Plan(ctx, groups, hist, now)
}

func (e *lifecycleEnv) scan(ctx context.Context) error {
	tables, groups, err := e.lake(ctx)
	if err != nil {
		return err
	}
	sum := lifecycle.Summarize(groups, tables)
	if e.json {
		return printJSON(e.st, sum)
	}
	tw := tabwriter.NewWriter(e.st.out, 0, 0, 2, ' ', 0)
	for _, s := range sum {
		fmt.Fprintf(tw, "region %s: %d tables, %d partitions; data %s, metadata %s; current snapshots reference %s\n",
			s.Region, s.Tables, s.Partitions, byteSize(s.DataBytes), byteSize(s.MetadataBytes), byteSize(s.LiveBytes))
		for _, c := range s.Classes {
			fmt.Fprintf(tw, "  %s\t%d objects\t%s\n", c.Class, c.Objects, byteSize(c.Bytes))
		}
	}
	if e.sim {
		fmt.Fprintln(tw, "(storage classes simulated: the S3 endpoint is local)")
	}
	return tw.Flush()
}

func (e *lifecycleEnv) planCmd(ctx context.Context, a lifecycleArgs) error {
	p, err := e.plan(ctx, "")
	if err != nil {
		return err
	}
	if a.out != "" {
		data, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(a.out, append(data, '\n'), 0o600); err != nil {
			return err
		}
	}
	if e.json {
		return printJSON(e.st, p)
	}
	return writePlan(e.st.out, p)
}

// maxPlanLines bounds the actions the text form of a plan lists.
const maxPlanLines = 50

func writePlan(w io.Writer, p *lifecycle.Plan) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, rp := range p.Regions {
		verdict := "meets the budget"
		if !rp.MeetsBudget {
			verdict = "CANNOT meet the budget: short by " + rp.Shortfall.Exact() + " a month (the cheapest plan the constraints allow)"
		}
		fmt.Fprintf(tw, "region %s: budget %s, now %s, projected %s a month: %s\n", rp.Region,
			rp.Budget.Exact(), rp.Current.Exact(), rp.Projected.Exact(), verdict)
	}
	fmt.Fprintf(tw, "\n%d actions\n", len(p.Actions))
	if len(p.Actions) > 0 {
		fmt.Fprintln(tw, "table\tpartition\tfrom\tto\tobjects\tbytes\treason")
	}
	for i, a := range p.Actions {
		if i == maxPlanLines {
			fmt.Fprintf(tw, "... and %d more (--json lists all)\n", len(p.Actions)-i)
			break
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", a.Table, a.Partition, a.From, a.To, a.Objects, byteSize(a.Bytes), a.Reason)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(tw, "warning: %s\n", w)
	}
	return tw.Flush()
}

func (e *lifecycleEnv) executor(ctx context.Context, apply bool, bar *progressBar) (*lifecycle.Executor, error) {
	states, err := lifecycle.NewPartitionStateStore(ctx, e.db, e.now)
	if err != nil {
		return nil, err
	}
	return lifecycle.NewExecutor(ctx, e.db, e.objects, lifecycle.ExecConfig{
		Apply: apply, PriceVersion: e.prices.Version, ObjectsPerSecond: e.lc.ObjectsPerSecond,
		Concurrency: e.lc.Concurrency, TagRuleMinObjects: e.lc.TagRuleMinObjects, Classes: states,
		Progress: func(p lifecycle.Progress) {
			bar.update(p.ObjectsDone, p.ObjectsTotal, fmt.Sprintf("objects, %d/%d partitions", p.ActionsDone, p.ActionsTotal))
		},
	})
}

func (e *lifecycleEnv) applyCmd(ctx context.Context, a lifecycleArgs) error {
	bar := newProgressBar(e.st.err, "apply")
	ex, err := e.executor(ctx, a.apply, bar)
	if err != nil {
		return err
	}
	if a.apply {
		res, resumed, err := ex.Resume(ctx)
		if resumed {
			bar.done("resumed job " + res.Job)
			if err != nil {
				return err
			}
			return e.printResult(res)
		}
		if err != nil {
			return err
		}
	}
	p, err := e.plan(ctx, a.planPath)
	if err != nil {
		return err
	}
	if !a.apply {
		bar.label = "dry run"
	}
	res, err := ex.Run(ctx, p)
	bar.done("job " + res.Job)
	if err != nil {
		return fmt.Errorf("%w (run apply --apply again to resume)", err)
	}
	return e.printResult(res)
}

func (e *lifecycleEnv) printResult(res lifecycle.Result) error {
	if e.json {
		return printJSON(e.st, res)
	}
	w := e.st.out
	if res.DryRun {
		fmt.Fprintf(w, "dry run %s: would move %d objects (%s); %d already in their target class; %d changed since planning\n",
			res.Job, res.WouldMove, byteSize(res.WouldMoveBytes), res.Skipped, res.Changed)
		fmt.Fprintln(w, "nothing was changed; run with --apply to move them")
		return nil
	}
	resumed := ""
	if res.Resumed {
		resumed = " (resumed)"
	}
	fmt.Fprintf(w, "job %s%s: %d partitions done; %d objects copied, %d found already moved after an interruption, %d tagged, %d skipped, %d changed; %s moved\n",
		res.Job, resumed, res.ActionsDone, res.Copied, res.Recovered, res.Tagged, res.Skipped, res.Changed, byteSize(res.BytesMoved))
	for bucket, rules := range res.Rules {
		fmt.Fprintf(w, "\nbucket %s needs this lifecycle configuration (merge it with the bucket's own rules):\n%s\n", bucket, rules)
	}
	return nil
}

func (e *lifecycleEnv) report(ctx context.Context, a lifecycleArgs) error {
	p, err := e.plan(ctx, a.planPath)
	if err != nil {
		return err
	}
	rep := lifecycle.NewReport(p)
	if a.svg != "" {
		for _, rr := range rep.Regions {
			path := a.svg
			if len(rep.Regions) > 1 {
				ext := filepath.Ext(path)
				path = strings.TrimSuffix(path, ext) + "-" + rr.Region + ext
			}
			if err := writeSVGFile(path, rr); err != nil {
				return err
			}
			fmt.Fprintf(e.st.err, "meridian lifecycle report: wrote %s\n", path)
		}
	}
	if e.json {
		return printJSON(e.st, rep)
	}
	if err := rep.WriteText(e.st.out); err != nil {
		return err
	}
	// Money.String rounds to cents; small lakes need the exact amounts.
	fmt.Fprintln(e.st.out)
	for _, rr := range rep.Regions {
		fmt.Fprintf(e.st.out, "region %s exactly: now %s, projected %s, budget %s a month\n", rr.Region, rr.Current.Exact(), rr.Projected.Exact(), rr.Budget.Exact())
	}
	return nil
}

func writeSVGFile(path string, rr lifecycle.RegionReport) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := lifecycle.WriteSVG(f, rr); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (e *lifecycleEnv) jobs(ctx context.Context, rest []string, limit int) error {
	if len(rest) == 1 {
		jb, err := lifecycle.JobByID(ctx, e.db, rest[0])
		if err != nil {
			return err
		}
		entries, err := lifecycle.Journal(ctx, e.db, jb.ID)
		if err != nil {
			return err
		}
		if e.json {
			return printJSON(e.st, struct {
				lifecycle.Job
				Journal []lifecycle.JournalEntry `json:"journal"`
			}{jb, entries})
		}
		outcomes := map[string]int{}
		pending := 0
		for _, en := range entries {
			if en.Done.IsZero() {
				pending++
			} else {
				outcomes[en.Outcome]++
			}
		}
		writeJobs(e.st.out, []lifecycle.Job{jb})
		fmt.Fprintf(e.st.out, "journal: %d objects", len(entries))
		for _, o := range slices.Sorted(mapsKeys(outcomes)) {
			fmt.Fprintf(e.st.out, ", %d %s", outcomes[o], o)
		}
		fmt.Fprintf(e.st.out, ", %d intended and not done\n", pending)
		return nil
	}
	list, err := lifecycle.Jobs(ctx, e.db, limit)
	if err != nil {
		return err
	}
	// The scheduler's runs (meridian serve with lifecycle.schedules).
	runs, err := lifecycle.JobHistory(ctx, e.db.DB, limit)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.st, struct {
			Jobs      []lifecycle.Job    `json:"jobs"`
			Scheduled []lifecycle.JobRun `json:"scheduled_runs"`
		}{list, runs})
	}
	writeJobs(e.st.out, list)
	if len(runs) > 0 {
		fmt.Fprintln(e.st.out, "\nscheduled runs (meridian serve, lifecycle.schedules):")
		for _, r := range runs {
			took := "running"
			if !r.Finished.IsZero() {
				took = r.Finished.Sub(r.Started).Round(time.Second).String()
			}
			fmt.Fprintf(e.st.out, "  %-6s %-8s slot %s  started %s  %s  on %s %s\n", r.Job, r.Status,
				r.Scheduled.UTC().Format(time.RFC3339), r.Started.UTC().Format(time.RFC3339), took, r.Owner, r.Error)
		}
	}
	return nil
}

func mapsKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func writeJobs(w io.Writer, list []lifecycle.Job) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tkind\tstatus\tstarted\tfinished\tpartitions\tcopied\trecovered\ttagged\tmoved\terror")
	for _, j := range list {
		fin := "-"
		if !j.Finished.IsZero() {
			fin = j.Finished.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%d\t%d\t%d\t%s\t%s\n", j.ID, j.Kind, j.Status, j.Started.Format(time.RFC3339), fin,
			j.ActionsDone, j.Actions, j.Copied, j.Recovered, j.Tagged, byteSize(j.BytesMoved), j.Error)
	}
	tw.Flush()
}

func (e *lifecycleEnv) restore(ctx context.Context, rest []string, a lifecycleArgs) error {
	states, err := lifecycle.NewPartitionStateStore(ctx, e.db, e.now)
	if err != nil {
		return err
	}
	r, err := lifecycle.NewRestorer(states, e.cat, e.objects)
	if err != nil {
		return err
	}
	var job lifecycle.RestoreJob
	if a.statusID != 0 {
		job, err = r.RestoreStatus(ctx, int64(a.statusID))
	} else {
		ref, terr := tableArg(rest[0])
		if terr != nil {
			return terr
		}
		job, err = r.Restore(ctx, ref.String(), a.partitions, lifecycle.RestoreTier(a.tier), a.days)
	}
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.st, job)
	}
	fmt.Fprintf(e.st.out, "restore job %d of %s %v (%s tier, %d days): %s; %d objects, %d being restored, %d readable\n",
		job.ID, job.Table, job.Partitions, job.Tier, job.Days, job.Status, job.Objects, job.Requested, job.Ready)
	if job.Status != "done" {
		fmt.Fprintf(e.st.out, "check again with: meridian lifecycle restore --status %d\n", job.ID)
	}
	return nil
}
