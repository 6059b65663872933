package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/meridian-lake/meridian/internal/cfgfile"
	"github.com/meridian-lake/meridian/internal/store"
	"github.com/meridian-lake/meridian/policy"
	policies "github.com/meridian-lake/meridian/rego"
)

const policyDescription = `Policy manages the policy versions Meridian enforces and shows the decisions
it recorded. A version is a policy pack (Rego rules, their *_test.rego tests
and data/*.json) stored with who pushed it and why; it serves only once
activated, and only if its tests pass.

Subcommands:
  versions                       the stored versions, newest first (* = active)
  push DIR|BUNDLE -m MESSAGE     store a candidate version from a pack directory
                                 or an OPA bundle (a .tar.gz file or an http(s)
                                 URL) and run its tests; it is not activated
  test [ID|DIR|BUNDLE]           run the tests of a version (default: the active
                                 one), a directory or a bundle
  impact ID [--last N | --since DURATION] [--user U] [--table T]
                                 dry run: the recorded decisions version ID would
                                 decide otherwise (default: the last 1000)
  activate ID                    make version ID the active one
  rollback                       re-activate the version active before this one
  purge                          delete decision records older than the retention
                                 setting (policy.decision_retention, default 365d)
  history                        activations and rollbacks, newest first
  log [--user U] [--table T] [--rule R] [--outcome allow|deny] [--since DURATION] [--limit N]
                                 recorded decisions, newest first
  bundle [--version ID] -o FILE  write a version (default: the active one) as an
                                 OPA bundle ("-o -": standard output); opa run -b
                                 and opa eval -b decide with it as Meridian does

DURATION is a Go duration (90m, 36h) or a number of days (7d).

Environment:
  MERIDIAN_CONFIG   the configuration file (default: embedded defaults)
  MERIDIAN_DIR      the state directory (default .meridian)
  MERIDIAN_ACTOR    who pushes, activates and rolls back (default: the login name)

Exit status: 0 on success; 1 when the subject fails: a pack that does not
load or compile (shown as file:line:col: message), failing tests, a refused
activation, no such version; 2 for a usage error or an unreadable argument.`

// policyFlags lists the flags each subcommand takes besides --config,
// --json and --actor.
var policyFlags = map[string][]string{
	"versions": nil,
	"push":     {"m"},
	"test":     nil,
	"impact":   {"last", "since", "user", "table"},
	"activate": nil,
	"rollback": nil,
	"history":  {"limit"},
	"log":      {"user", "table", "rule", "outcome", "since", "limit"},
	"bundle":   {"version", "o"},
	"purge":    nil,
}

// policyEnv is what the policy subcommands share. The state store is opened
// on first use: test of a directory needs none.
type policyEnv struct {
	cfg   Config
	json  bool
	actor string
	db    *store.DB
	reg   *policy.Registry
}

// policyArgs are the subcommands' flags.
type policyArgs struct {
	message, out, since, user, table, rule, outcome string
	last, limit                                     int
	version                                         int64
}

func runPolicy(ctx context.Context, st streams, args []string) int {
	var (
		configPath string
		asJSON     bool
		actor      string
		a          policyArgs
	)
	fs := newFlagSet(st, "policy", `versions|push|test|impact|activate|rollback|history|log|bundle|purge [arguments] [flags]`, policyDescription)
	fs.StringVar(&configPath, "config", os.Getenv("MERIDIAN_CONFIG"), "configuration `file`")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	fs.StringVar(&actor, "actor", os.Getenv("MERIDIAN_ACTOR"), "`who` pushes, activates or rolls back (default: the login name)")
	fs.StringVar(&a.message, "m", "", "push: the version's `message`: why it exists (required)")
	fs.StringVar(&a.out, "o", "", "bundle: write the bundle to `file` (\"-\": standard output)")
	fs.Int64Var(&a.version, "version", 0, "bundle: the version `id` (default: the active one)")
	fs.IntVar(&a.last, "last", 0, "impact: the last `n` recorded decisions (default 1000)")
	fs.StringVar(&a.since, "since", "", "impact, log: decisions recorded within `duration` (e.g. 24h, 7d)")
	fs.StringVar(&a.user, "user", "", "impact, log: only decisions of `user`")
	fs.StringVar(&a.table, "table", "", "impact, log: only decisions touching `table` (catalog.schema.table)")
	fs.StringVar(&a.rule, "rule", "", "log: only decisions that broke `rule` (e.g. gdpr.transfer)")
	fs.StringVar(&a.outcome, "outcome", "", "log: only decisions with `outcome` allow or deny")
	fs.IntVar(&a.limit, "limit", 100, "history, log: at most `n` entries")
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	sub, rest, code, ok := subcommand(st, "policy", fs, pos, policyFlags, []string{"config", "json", "actor"})
	if !ok {
		return code
	}
	if msg := checkPolicyArgs(sub, rest, a); msg != "" {
		return usageError(st, "policy", "%s", msg)
	}
	cfg, err := loadConfig(configPath)
	if err != nil {
		fmt.Fprintf(st.err, "meridian policy: %v\n", err)
		return exitUsage
	}
	if actor == "" {
		actor = loginName()
	}
	env := &policyEnv{cfg: cfg, json: asJSON, actor: actor}
	defer env.close()

	switch sub {
	case "versions":
		err = env.versions(ctx, st)
	case "push":
		err = env.push(ctx, st, rest[0], a.message)
	case "test":
		err = env.test(ctx, st, rest)
	case "impact":
		err = env.impact(ctx, st, rest[0], a)
	case "activate":
		err = env.activate(ctx, st, rest[0])
	case "rollback":
		err = env.rollback(ctx, st)
	case "history":
		err = env.history(ctx, st, a.limit)
	case "log":
		err = env.log(ctx, st, a)
	case "bundle":
		err = env.bundle(ctx, st, a)
	case "purge":
		err = env.purge(ctx, st)
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(st.err, "meridian policy %s: %v\n", sub, err)
	var ue usageErr
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailed
}

// checkPolicyArgs checks what the flag package cannot; "" means fine.
func checkPolicyArgs(sub string, rest []string, a policyArgs) string {
	want := map[string]int{"push": 1, "impact": 1, "activate": 1}[sub]
	switch {
	case sub == "test" && len(rest) > 1:
		return "test takes at most one ID, DIR or BUNDLE"
	case sub != "test" && len(rest) != want:
		if want == 0 {
			return fmt.Sprintf("%s takes no arguments", sub)
		}
		return fmt.Sprintf("%s takes one argument, got %d", sub, len(rest))
	case sub == "push" && strings.TrimSpace(a.message) == "":
		return "push needs -m MESSAGE: say why this version exists"
	case sub == "bundle" && a.out == "":
		return "bundle needs -o FILE (or -o - for standard output)"
	case a.last < 0 || a.limit <= 0 || a.version < 0:
		return "--last, --limit and --version must be positive"
	case a.last > 0 && a.since != "":
		return "give --last or --since, not both"
	case a.outcome != "" && a.outcome != "allow" && a.outcome != "deny":
		return fmt.Sprintf("--outcome %q: want allow or deny", a.outcome)
	}
	if a.since != "" {
		if _, err := parseSince(a.since); err != nil {
			return err.Error()
		}
	}
	return ""
}

// parseSince reads a duration: Go's syntax (90m, 36h) or whole days (7d).
func parseSince(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days > 0 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--since %q: want a positive duration such as 90m, 36h or 7d", s)
	}
	return d, nil
}

func (e *policyEnv) registry(ctx context.Context) (*policy.Registry, error) {
	if e.reg != nil {
		return e.reg, nil
	}
	db, err := store.Open(ctx, e.cfg.Store)
	if err != nil {
		return nil, err
	}
	shipped, err := policy.LoadFS(policies.FS)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("the shipped policy pack: %w", err)
	}
	if err := policy.SetEvaluator(e.cfg.Policy.Evaluator); err != nil {
		db.Close()
		return nil, err
	}
	reg, err := policy.OpenRegistry(ctx, db, shipped, 0)
	if err != nil {
		db.Close()
		return nil, err
	}
	e.db, e.reg = db, reg
	return reg, nil
}

func (e *policyEnv) close() {
	if e.db != nil {
		e.db.Close()
	}
}

// versionID parses a version id argument.
func versionID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageErr{fmt.Errorf("%q is not a version id: want a number from meridian policy versions", s)}
	}
	return id, nil
}

// source is where a pack came from, to point errors at the right file.
type source struct {
	arg      string
	dir      bool
	revision string
}

// loadSource reads a pack from a directory, a bundle file or a bundle URL.
// An argument that cannot be read is a usage error; a bad pack is not.
func loadSource(ctx context.Context, arg string) (*policy.Pack, source, error) {
	src := source{arg: arg}
	var (
		p   *policy.Pack
		err error
	)
	if isURL(arg) {
		p, src.revision, err = policy.LoadBundle(ctx, arg)
	} else if info, serr := os.Stat(arg); serr != nil {
		return nil, src, usageErr{serr}
	} else if info.IsDir() {
		src.dir = true
		p, err = policy.LoadFS(os.DirFS(arg))
	} else {
		p, src.revision, err = policy.LoadBundle(ctx, arg)
	}
	if err != nil {
		var pe *policy.PackError
		if !errors.As(err, &pe) {
			return nil, src, usageErr{err} // unreadable: missing file, HTTP error
		}
		return nil, src, src.locate(err)
	}
	return p, src, nil
}

// locate makes a pack error point at the file on disk (DIR/file:line:col),
// or say which bundle it is in.
func (s source) locate(err error) error {
	var pe *policy.PackError
	if !errors.As(err, &pe) {
		return err
	}
	if s.dir {
		if pe.File == "" {
			return fmt.Errorf("%s: %w", s.arg, pe)
		}
		moved := *pe
		moved.File = filepath.Join(s.arg, pe.File)
		return &moved
	}
	return fmt.Errorf("bundle %s: %w", s.arg, pe)
}

func (s source) file(name string) string {
	if s.dir && name != "" {
		return filepath.Join(s.arg, name)
	}
	return name
}

// testsFailed is a version whose tests do not all pass (or that has none).
type testsFailed struct{ what string }

func (t testsFailed) Error() string { return t.what }

func (e *policyEnv) push(ctx context.Context, st streams, arg, message string) error {
	p, src, err := loadSource(ctx, arg)
	if err != nil {
		return err
	}
	reg, err := e.registry(ctx)
	if err != nil {
		return err
	}
	versions, err := reg.Versions(ctx)
	if err != nil {
		return err
	}
	v, err := reg.Push(ctx, p, e.actor, message)
	if err != nil {
		return src.locate(err)
	}
	var same []int64
	for _, o := range versions {
		if o.Hash == v.Hash {
			same = append(same, o.ID)
		}
	}
	slices.Sort(same)
	if e.json {
		if err := printJSON(st, struct {
			policy.Version
			Source       string  `json:"source"`
			Revision     string  `json:"revision,omitempty"`
			SameContent  []int64 `json:"same_content_as,omitempty"`
			CanActivate  bool    `json:"can_activate"`
			TestsPresent bool    `json:"tests_present"`
		}{v, arg, src.revision, same, v.Tests.OK(), v.Tests.Passed+v.Tests.Failed > 0}); err != nil {
			return err
		}
	} else {
		w := st.out
		fmt.Fprintf(w, "stored version %d  hash %.12s  by %s: %s\n", v.ID, v.Hash, v.Author, v.Message)
		if src.revision != "" {
			fmt.Fprintf(w, "  from bundle %s, revision %q\n", arg, src.revision)
		} else {
			fmt.Fprintf(w, "  from %s\n", arg)
		}
		if len(same) > 0 {
			fmt.Fprintf(w, "  same content as version %s\n", joinIDs(same))
		}
		fmt.Fprintf(w, "  tests: %d passed, %d failed; coverage %.1f%%\n", v.Tests.Passed, v.Tests.Failed, v.Tests.Coverage)
		printFailures(w, src, v.Tests)
		if v.Tests.OK() {
			fmt.Fprintf(w, "next: meridian policy impact %d, then meridian policy activate %d\n", v.ID, v.ID)
		}
	}
	switch {
	case v.Tests.Passed+v.Tests.Failed == 0:
		return testsFailed{fmt.Sprintf("version %d is stored but has no tests (*_test.rego): it cannot be activated", v.ID)}
	case !v.Tests.OK():
		return testsFailed{fmt.Sprintf("version %d is stored but %d of %d tests fail: it cannot be activated", v.ID, v.Tests.Failed, v.Tests.Passed+v.Tests.Failed)}
	}
	return nil
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

func printFailures(w io.Writer, src source, rep policy.TestReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rep.Results {
		if !r.Pass {
			fmt.Fprintf(tw, "  FAIL\t%s\t%s:%d\t%s\n", r.Name, src.file(r.File), r.Line, r.Error)
		}
	}
	tw.Flush()
}

func (e *policyEnv) test(ctx context.Context, st streams, args []string) error {
	var (
		p    *policy.Pack
		src  source
		what string
	)
	local := len(args) == 1 && isURL(args[0])
	var statErr error
	if len(args) == 1 && !local {
		_, statErr = os.Stat(args[0])
		local = statErr == nil
	}
	if local {
		var err error
		if p, src, err = loadSource(ctx, args[0]); err != nil {
			return err
		}
		what = args[0]
	} else {
		var id int64
		if len(args) == 1 {
			if _, err := strconv.ParseInt(args[0], 10, 64); err != nil {
				return usageErr{statErr} // neither a version id nor a directory or bundle
			}
			var err error
			if id, err = versionID(args[0]); err != nil {
				return err
			}
		}
		reg, err := e.registry(ctx)
		if err != nil {
			return err
		}
		if id == 0 {
			if id, err = reg.ActiveID(ctx); err != nil {
				return err
			}
		}
		c, err := reg.Compiled(ctx, id)
		if err != nil {
			return err
		}
		p, what = c.Pack(), fmt.Sprintf("version %d", id)
	}
	rep, err := p.Test(ctx)
	if err != nil {
		return src.locate(err)
	}
	if e.json {
		if err := printJSON(st, rep); err != nil {
			return err
		}
	} else {
		printFailures(st.out, src, rep)
		fmt.Fprintf(st.out, "%s: %d passed, %d failed; coverage %.1f%%\n", what, rep.Passed, rep.Failed, rep.Coverage)
	}
	if !rep.OK() {
		return testsFailed{fmt.Sprintf("%s: %d of %d tests fail", what, rep.Failed, rep.Passed+rep.Failed)}
	}
	return nil
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// maxImpactWindow bounds the decisions an impact over a time window reads.
const maxImpactWindow = 1_000_000

func (e *policyEnv) impact(ctx context.Context, st streams, arg string, a policyArgs) error {
	id, err := versionID(arg)
	if err != nil {
		return err
	}
	reg, err := e.registry(ctx)
	if err != nil {
		return err
	}
	cand, err := reg.Compiled(ctx, id)
	if err != nil {
		return err
	}
	f := policy.Filter{User: a.user, Table: a.table, Limit: a.last}
	scope := "the last 1000 recorded decisions"
	if a.last > 0 {
		scope = fmt.Sprintf("the last %d recorded decisions", a.last)
	}
	if a.since != "" {
		d, _ := parseSince(a.since) // checked
		f.From, f.Limit = time.Now().Add(-d), maxImpactWindow
		scope = fmt.Sprintf("the decisions recorded since %s", stamp(f.From))
	}
	if a.user != "" {
		scope += " of user " + a.user
	}
	if a.table != "" {
		scope += " on " + a.table
	}
	rep, err := reg.Impact(ctx, cand, f)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(st, rep)
	}
	w := st.out
	fmt.Fprintf(w, "Impact of version %d (%.12s) on %s: %d evaluated, %d would change (%s).\n",
		id, cand.Pack().Hash(), scope, rep.Evaluated, rep.Changed, rep.Elapsed.Round(time.Millisecond))
	if rep.Changed == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  allow → deny\t%d\n", rep.AllowToDeny)
	fmt.Fprintf(tw, "  deny → allow\t%d\n", rep.DenyToAllow)
	fmt.Fprintf(tw, "  regions changed\t%d\n", rep.RegionsChanged)
	tw.Flush()
	for _, g := range []struct {
		title  string
		groups []policy.Group
	}{{"By rule", rep.ByRule}, {"By table", rep.ByTable}, {"By user", rep.ByUser}} {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, gr := range g.groups {
			fmt.Fprintf(w, "  %s  %d\n", gr.Key, gr.Count)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, c := range gr.Examples {
				fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", stamp(c.At), c.User, kindText(c.Kind), clip(c.Statement, 70))
			}
			tw.Flush()
		}
	}
	n := min(len(rep.Changes), 20)
	fmt.Fprintf(w, "\nFirst %d of %d changes:\n", n, rep.Changed)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tUSER\tCHANGE\tBEFORE\tAFTER\tSTATEMENT")
	for _, c := range rep.Changes[:n] {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", stamp(c.At), c.User, kindText(c.Kind),
			outcomeText(c.Before.Allow, c.Before.Regions, c.Before.Rules), outcomeText(c.After.Allow, c.After.Regions, c.After.Rules),
			clip(c.Statement, 60))
	}
	return tw.Flush()
}

func kindText(kind string) string {
	switch kind {
	case policy.AllowToDeny:
		return "allow→deny"
	case policy.DenyToAllow:
		return "deny→allow"
	case policy.RegionsChanged:
		return "regions"
	}
	return kind
}

// outcomeText is "allow (eu,us)" or "deny (rule,…)".
func outcomeText(allow bool, regions, rules []string) string {
	if allow {
		return "allow (" + strings.Join(regions, ",") + ")"
	}
	if len(rules) == 0 {
		return "deny"
	}
	return "deny (" + strings.Join(rules, ",") + ")"
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// clip puts a statement on one line of at most n characters.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func (e *policyEnv) activate(ctx context.Context, st streams, arg string) error {
	id, err := versionID(arg)
	if err != nil {
		return err
	}
	reg, err := e.registry(ctx)
	if err != nil {
		return err
	}
	v, err := reg.Activate(ctx, id, e.actor)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(st, v)
	}
	fmt.Fprintf(st.out, "version %d (%.12s) is active: %d tests passed, coverage %.1f%%; activated by %s\n",
		v.ID, v.Hash, v.Tests.Passed, v.Tests.Coverage, e.actor)
	return nil
}

func (e *policyEnv) rollback(ctx context.Context, st streams) error {
	reg, err := e.registry(ctx)
	if err != nil {
		return err
	}
	from, err := reg.ActiveID(ctx)
	if err != nil {
		return err
	}
	v, err := reg.Rollback(ctx, e.actor)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(st, v)
	}
	fmt.Fprintf(st.out, "rolled back from version %d: version %d (%.12s, %q) is active again\n", from, v.ID, v.Hash, v.Message)
	return nil
}

func (e *policyEnv) versions(ctx context.Context, st streams) error {
	reg, err := e.registry(ctx)
	if err != nil {
		return err
	}
	vs, err := reg.Versions(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(st, nonNilSlice(vs))
	}
	tw := tabwriter.NewWriter(st.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACTIVE\tHASH\tCREATED\tAUTHOR\tTESTS\tCOVERAGE\tMESSAGE")
	for _, v := range vs {
		active := ""
		if v.Active {
			active = "*"
		}
		fmt.Fprintf(tw, "%d\t%s\t%.12s\t%s\t%s\t%s\t%.1f%%\t%s\n", v.ID, active, v.Hash, stamp(v.CreatedAt), v.Author,
			testsText(v.Tests), v.Tests.Coverage, clip(v.Message, 60))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, v := range vs {
		if v.Active && v.Evaluator != "" {
			fmt.Fprintf(st.out, "\nversion %d decides with %s\n", v.ID, v.Evaluator)
		}
	}
	return nil
}

func testsText(r policy.TestReport) string {
	switch {
	case r.Passed+r.Failed == 0:
		return "none"
	case r.Failed == 0:
		return fmt.Sprintf("%d passed", r.Passed)
	}
	return fmt.Sprintf("%d of %d fail", r.Failed, r.Passed+r.Failed)
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (e *policyEnv) history(ctx context.Context, st streams, limit int) error {
	reg, err := e.registry(ctx)
	if err != nil {
		return err
	}
	hist, err := reg.History(ctx, limit)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(st, nonNilSlice(hist))
	}
	vs, err := reg.Versions(ctx)
	if err != nil {
		return err
	}
	byID := map[int64]policy.Version{}
	for _, v := range vs {
		byID[v.ID] = v
	}
	tw := tabwriter.NewWriter(st.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tACTION\tVERSION\tHASH\tACTOR\tMESSAGE")
	for _, a := range hist {
		v := byID[a.VersionID]
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.12s\t%s\t%s\n", stamp(a.At), a.Action, a.VersionID, v.Hash, a.Actor, clip(v.Message, 60))
	}
	return tw.Flush()
}

func (e *policyEnv) log(ctx context.Context, st streams, a policyArgs) error {
	reg, err := e.registry(ctx)
	if err != nil {
		return err
	}
	f := policy.Filter{User: a.user, Table: a.table, Rule: a.rule, Outcome: a.outcome, Limit: a.limit}
	if a.since != "" {
		d, _ := parseSince(a.since) // checked
		f.From = time.Now().Add(-d)
	}
	recs, err := reg.Decisions(ctx, f)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(st, nonNilSlice(recs))
	}
	if len(recs) == 0 {
		fmt.Fprintln(st.out, "no recorded decisions match")
		return nil
	}
	tw := tabwriter.NewWriter(st.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tUSER\tOUTCOME\tRULES\tTABLES\tSTATEMENT")
	for _, r := range recs {
		var rules []string
		for _, v := range r.Violations {
			if !slices.Contains(rules, v.Rule) {
				rules = append(rules, v.Rule)
			}
		}
		outcome := "deny"
		if r.Allow {
			outcome = "allow (" + strings.Join(r.Regions, ",") + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", stamp(r.At), r.User, outcome, orDash(strings.Join(rules, ",")),
			orDash(strings.Join(r.Tables, ",")), clip(r.Statement, 80))
	}
	return tw.Flush()
}

func (e *policyEnv) bundle(ctx context.Context, st streams, a policyArgs) error {
	reg, err := e.registry(ctx)
	if err != nil {
		return err
	}
	id := a.version
	if id == 0 {
		if id, err = reg.ActiveID(ctx); err != nil {
			return err
		}
	}
	c, err := reg.Compiled(ctx, id)
	if err != nil {
		return err
	}
	p := c.Pack()
	revision := fmt.Sprintf("v%d-%.12s", id, p.Hash())
	var buf bytes.Buffer
	if err := policy.WriteBundle(&buf, p, revision); err != nil {
		return err
	}
	report := st.out
	if a.out == "-" {
		if _, err := st.out.Write(buf.Bytes()); err != nil {
			return err
		}
		report = st.err
	} else if err := cfgfile.WriteAtomic(a.out, buf.Bytes(), 0o644); err != nil {
		return usageErr{err}
	}
	if e.json {
		return printJSON(streams{out: report}, map[string]any{
			"file": a.out, "version": id, "revision": revision, "hash": p.Hash(), "files": len(p.Files), "bytes": buf.Len(),
		})
	}
	fmt.Fprintf(report, "wrote %s: version %d, revision %s, %d files, %s\n", a.out, id, revision, len(p.Files), byteSize(int64(buf.Len())))
	return nil
}

// purge applies the decision retention setting.
func (e *policyEnv) purge(ctx context.Context, st streams) error {
	reg, err := e.registry(ctx)
	if err != nil {
		return err
	}
	keep := e.cfg.Policy.DecisionRetention
	before := time.Now().Add(-keep)
	n, err := reg.Purge(ctx, before)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(st, map[string]any{"deleted": n, "before": before.UTC(), "retention_days": int(keep.Hours() / 24)})
	}
	fmt.Fprintf(st.out, "deleted %d decision records older than %s (retention %d days)\n",
		n, before.UTC().Format("2006-01-02 15:04Z"), int(keep.Hours()/24))
	return nil
}
