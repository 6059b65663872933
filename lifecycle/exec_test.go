package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/meridian-lake/meridian/internal/s3test"
	"github.com/meridian-lake/meridian/internal/store"
)

// syntheticLake puts parts partitions of perPart objects under
// wh/t/data/p=NN/ and three metadata files, and returns a plan moving every
// partition from STANDARD to to.
func syntheticLake(t testing.TB, c *s3.Client, parts, perPart int, to StorageClass) *Plan {
	t.Helper()
	plan := &Plan{Format: PlanFormat, PriceVersion: DefaultPrices().Version, CreatedAt: time.Now().UTC()}
	for i := range parts {
		part := fmt.Sprintf("p=%02d", i)
		prefix := "wh/t/data/" + part + "/"
		putObjects(t, c, "lake", prefix, perPart, 4<<10)
		g := Group{Region: "eu", Bucket: "lake", Prefix: prefix, Table: "iceberg.wh.t", Partition: part, Class: Standard}
		plan.Actions = append(plan.Actions, Action{ID: actionID(g, to), Region: "eu", Bucket: "lake", Prefix: prefix,
			Table: g.Table, Partition: part, From: Standard, To: to, Objects: int64(perPart), Bytes: int64(perPart) * 4 << 10})
	}
	putObjects(t, c, "lake", "wh/t/metadata/", 3, 1<<10)
	return plan
}

// copiesPerKey counts the simulator's copy charges per object: one per
// completed class change.
func copiesPerKey(t *testing.T, sim *SimulatedStorageClasses) map[string]int {
	t.Helper()
	charges, err := sim.Charges(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, ch := range charges {
		if ch.Kind == "copy" {
			out[ch.Key]++
		}
	}
	return out
}

func TestExecutorDryRunApplyRerun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := s3test.Start(t, "lake")
	plan := syntheticLake(t, srv.Client(t), 4, 3, GlacierIR)
	clock := &fakeClock{now: time.Now().UTC()}
	sim, db := openSim(t, srv, filepath.Join(t.TempDir(), "state.db"), clock)
	// One object changed since planning: it is left alone.
	changedKey := "wh/t/data/p=03/00002.parquet"
	if err := sim.SetClass(ctx, "lake", changedKey, StandardIA, clock.Now()); err != nil {
		t.Fatal(err)
	}

	var progress []Progress
	dry, err := NewExecutor(ctx, db, sim, ExecConfig{ObjectsPerSecond: 1000, Progress: func(p Progress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := dry.Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.WouldMove != 11 || res.Changed != 1 || res.Copied != 0 {
		t.Errorf("dry run = %+v, want 11 objects that would move, 1 changed, none copied", res)
	}
	if n := len(copiesPerKey(t, sim)); n != 0 {
		t.Errorf("the dry run copied %d objects", n)
	}
	if last := progress[len(progress)-1]; last.ActionsDone != 4 || last.ObjectsDone != 12 || last.ObjectsTotal != 12 {
		t.Errorf("last progress %+v, want 4/4 actions and 12/12 objects", last)
	}

	ex, err := NewExecutor(ctx, db, sim, ExecConfig{Apply: true, ObjectsPerSecond: 1000, PriceVersion: DefaultPrices().Version})
	if err != nil {
		t.Fatal(err)
	}
	res, err = ex.Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if res.DryRun || res.Copied != 11 || res.Changed != 1 || res.BytesMoved != 11*4<<10 || res.ActionsDone != 4 {
		t.Errorf("apply = %+v, want 11 copied (%d bytes), 1 changed, 4 actions done", res, 11*4<<10)
	}
	entries, err := Journal(ctx, db, res.Job)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for _, e := range entries {
		if e.Done.IsZero() || e.Done.Before(e.Intent) {
			t.Errorf("journal entry %s: intent %v, done %v", e.Key, e.Intent, e.Done)
		}
		outcomes[e.Outcome]++
	}
	if outcomes[OutcomeCopied] != 11 || outcomes[OutcomeChanged] != 1 || len(entries) != 12 {
		t.Errorf("journal outcomes %v over %d entries, want 11 copied and 1 changed", outcomes, len(entries))
	}
	for key, n := range copiesPerKey(t, sim) {
		if n != 1 || key == changedKey {
			t.Errorf("%s copied %d times", key, n)
		}
	}
	if o, _ := sim.Head(ctx, "lake", "wh/t/metadata/00000.parquet"); o.Class != Standard {
		t.Errorf("metadata moved to %s", o.Class)
	}

	// The same plan again is a new job with nothing left to do.
	again, err := ex.Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if again.Copied != 0 || again.Skipped != 11 || again.Changed != 1 {
		t.Errorf("second apply = %+v, want 11 skipped (already GLACIER_IR) and nothing copied", again)
	}
	if n := len(copiesPerKey(t, sim)); n != 11 {
		t.Errorf("%d objects copied in all, want 11", n)
	}
	jobs, err := Jobs(ctx, db, 10)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, j := range jobs {
		kinds = append(kinds, j.Kind+":"+j.Status)
		if j.Finished.IsZero() {
			t.Errorf("job %s not finished", j.ID)
		}
	}
	if got := strings.Join(kinds, ","); got != "apply:done,apply:done,dry-run:done" {
		t.Errorf("jobs %s, want two applies and a dry run, newest first", got)
	}
}

func TestExecutorRefusesUnsafePlans(t *testing.T) {
	t.Parallel()
	ex := &Executor{cfg: ExecConfig{PriceVersion: "v1"}.withDefaults()}
	ok := Action{ID: "a", Bucket: "lake", Prefix: "wh/t/data/p=1/", From: Standard, To: Glacier}
	tests := []struct {
		name string
		plan Plan
		want string
	}{
		{"format", Plan{Format: 99, PriceVersion: "v1"}, "format 99"},
		{"prices", Plan{Format: PlanFormat, PriceVersion: "v0"}, `priced with "v0"`},
		{"metadata", Plan{Format: PlanFormat, PriceVersion: "v1", Actions: []Action{func() Action { a := ok; a.Prefix = "wh/t/metadata/"; return a }()}}, "Iceberg metadata"},
		{"bucket-wide", Plan{Format: PlanFormat, PriceVersion: "v1", Actions: []Action{func() Action { a := ok; a.Prefix = ""; return a }()}}, "must name a partition directory"},
		{"uphill", Plan{Format: PlanFormat, PriceVersion: "v1", Actions: []Action{func() Action { a := ok; a.From, a.To = Glacier, Standard; return a }()}}, "against S3's transition order"},
		{"repeated", Plan{Format: PlanFormat, PriceVersion: "v1", Actions: []Action{ok, ok}}, "repeated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ex.CheckPlan(&tc.plan)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckPlan = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if err := ex.CheckPlan(&Plan{Format: PlanFormat, PriceVersion: "v1", Actions: []Action{ok}}); err != nil {
		t.Errorf("CheckPlan(good) = %v", err)
	}
}

// TestExecutorTagRule moves large actions with tags and emits the bucket
// lifecycle rule; the simulator, like versitygw, runs no rules, so the
// objects keep their class and a rerun sees them tagged and does nothing.
func TestExecutorTagRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := s3test.Start(t, "lake")
	c := srv.Client(t)
	plan := syntheticLake(t, c, 2, 3, Glacier)
	key := "wh/t/data/p=00/00000.parquet"
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("lake"), Key: aws.String(key),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("owner"), Value: aws.String("bookings")}}}}); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Now().UTC()}
	sim, db := openSim(t, srv, filepath.Join(t.TempDir(), "state.db"), clock)
	ex, err := NewExecutor(ctx, db, sim, ExecConfig{Apply: true, ObjectsPerSecond: 1000, TagRuleMinObjects: 3})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if res.Tagged != 6 || res.Copied != 0 {
		t.Errorf("apply = %+v, want 6 tagged, none copied", res)
	}
	tags, err := sim.Tags(ctx, "lake", key)
	if err != nil || tags[TagKey] != "GLACIER" || tags["owner"] != "bookings" {
		t.Errorf("tags of %s = %v, %v; want %s=GLACIER and the owner tag kept", key, tags, err, TagKey)
	}
	var rules struct {
		Rules []struct {
			ID          string
			Filter      struct{ Tag struct{ Key, Value string } }
			Transitions []struct {
				Days         int
				StorageClass string
			}
			Expiration any
		}
	}
	if err := json.Unmarshal(res.Rules["lake"], &rules); err != nil {
		t.Fatalf("rules %s: %v", res.Rules["lake"], err)
	}
	if len(rules.Rules) != 1 || rules.Rules[0].Filter.Tag.Value != "GLACIER" || rules.Rules[0].Transitions[0].StorageClass != "GLACIER" ||
		rules.Rules[0].Expiration != nil {
		t.Errorf("rules = %+v, want one transition to GLACIER on the tag and no expiration", rules)
	}
	if o, _ := sim.Head(ctx, "lake", key); o.Class != Standard {
		t.Errorf("class %s: the simulator runs no lifecycle rules, the object should still be STANDARD", o.Class)
	}
	again, err := ex.Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if again.Tagged != 0 || again.Skipped != 6 {
		t.Errorf("second run = %+v, want the 6 tagged objects skipped", again)
	}
}

// Environment of the apply helper process.
const (
	envHelper   = "MERIDIAN_LIFECYCLE_APPLY_HELPER"
	envEndpoint = "MERIDIAN_LIFECYCLE_S3"
	envState    = "MERIDIAN_LIFECYCLE_STATE"
	envPlan     = "MERIDIAN_LIFECYCLE_PLAN"
	envRate     = "MERIDIAN_LIFECYCLE_RATE"
)

// TestHelperApplyProcess is not a test: TestApplyKilledAndResumed runs the
// test binary again with this test selected and envHelper set, as the
// process it kills. It resumes an unfinished apply job, or runs the plan
// in envPlan, against the versitygw and state database the parent names.
func TestHelperApplyProcess(t *testing.T) {
	if os.Getenv(envHelper) != "1" {
		t.Skip("helper process for TestApplyKilledAndResumed")
	}
	ctx := context.Background()
	ep := strings.Split(os.Getenv(envEndpoint), " ")
	srv := &s3test.Server{Endpoint: ep[0], Region: ep[1], AccessKey: ep[2], SecretKey: ep[3]}
	db, err := store.Open(ctx, store.Config{Path: os.Getenv(envState)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sim, err := NewSimulatedStorageClasses(ctx, NewS3Store(srv.Client(t)), db, usPricer(t), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	rate, _ := strconv.ParseFloat(os.Getenv(envRate), 64)
	ex, err := NewExecutor(ctx, db, sim, ExecConfig{Apply: true, ObjectsPerSecond: rate, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	res, resumed, err := ex.Resume(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !resumed {
		data, err := os.ReadFile(os.Getenv(envPlan))
		if err != nil {
			t.Fatal(err)
		}
		var plan Plan
		if err := json.Unmarshal(data, &plan); err != nil {
			t.Fatal(err)
		}
		if res, err = ex.Run(ctx, &plan); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf("helper: job %s resumed=%v copied=%d recovered=%d\n", res.Job, resumed, res.Copied, res.Recovered)
}

// TestApplyKilledAndResumed kills an apply process with SIGKILL midway,
// runs apply again and checks that it converged: every planned object is
// in the new class, the simulator saw exactly one completed copy per object,
// and the journal has one finished entry per object, each copied once or
// recovered by the rerun's HeadObject check.
func TestApplyKilledAndResumed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := s3test.Start(t, "lake")
	const parts, perPart = 12, 5
	plan := syntheticLake(t, srv.Client(t), parts, perPart, GlacierIR)
	dir := t.TempDir()
	planPath, statePath := filepath.Join(dir, "plan.json"), filepath.Join(dir, "state.db")
	data, _ := json.Marshal(plan)
	if err := os.WriteFile(planPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Now().UTC()}
	sim, db := openSim(t, srv, statePath, clock)
	if _, err := NewExecutor(ctx, db, sim, ExecConfig{}); err != nil { // create the journal tables
		t.Fatal(err)
	}

	helper := func(rate string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperApplyProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), envHelper+"=1", envState+"="+statePath, envPlan+"="+planPath, envRate+"="+rate,
			envEndpoint+"="+strings.Join([]string{srv.Endpoint, srv.Region, srv.AccessKey, srv.SecretKey}, " "))
		return cmd
	}
	done := func() (n int, job string) {
		t.Helper()
		err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(max(job), '') FROM lifecycle_journal WHERE done_at != 0`).Scan(&n, &job)
		if err != nil {
			t.Fatal(err)
		}
		return n, job
	}

	// First run: 20 objects a second, killed once 15 of 60 are done.
	first := helper("20")
	var out strings.Builder
	first.Stdout, first.Stderr = &out, &out
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()
	deadline := time.After(15 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
poll:
	for {
		select {
		case err := <-exited:
			t.Fatalf("the helper exited before it was killed: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("no progress to kill midway in 15 s\n%s", out.String())
		case <-tick.C:
			if n, _ := done(); n >= 15 {
				break poll
			}
		}
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	if ws, ok := first.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended with %v, want killed by SIGKILL", err)
	}
	killedAt, job := done()
	var inFlight int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM lifecycle_journal WHERE done_at = 0`).Scan(&inFlight); err != nil {
		t.Fatal(err)
	}
	if killedAt >= parts*perPart {
		t.Fatalf("%d objects done when killed: not midway", killedAt)
	}
	jb, err := JobByID(ctx, db, job)
	if err != nil {
		t.Fatal(err)
	}
	if jb.Status != StatusRunning || !jb.Finished.IsZero() {
		t.Errorf("killed job %+v, want running and unfinished", jb)
	}

	// Second run, at full speed: it resumes the same job.
	second := helper("1000")
	outText, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, outText)
	}
	if !strings.Contains(string(outText), "helper: job "+job+" resumed=true") {
		t.Errorf("rerun output %q, want job %s resumed", outText, job)
	}
	t.Logf("killed after %d of %d objects done, %d intended and not done; rerun: %s", killedAt, parts*perPart, inFlight, strings.TrimSpace(string(outText)))

	jb, err = JobByID(ctx, db, job)
	if err != nil {
		t.Fatal(err)
	}
	if jb.Status != StatusDone || jb.ActionsDone != parts || jb.Copied+jb.Recovered != parts*perPart {
		t.Errorf("job after rerun %+v, want done with %d actions and %d objects", jb, parts, parts*perPart)
	}
	entries, err := Journal(ctx, db, job)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != parts*perPart {
		t.Errorf("%d journal entries, want one per object, %d", len(entries), parts*perPart)
	}
	copies := copiesPerKey(t, sim)
	for _, e := range entries {
		if e.Done.IsZero() || (e.Outcome != OutcomeCopied && e.Outcome != OutcomeRecovered) {
			t.Errorf("journal entry %+v, want done, copied or recovered", e)
		}
		if copies[e.Key] != 1 {
			t.Errorf("%s: %d completed copies, want exactly 1", e.Key, copies[e.Key])
		}
		if o, err := sim.Head(ctx, "lake", e.Key); err != nil || o.Class != GlacierIR {
			t.Errorf("%s: class %s, %v; want GLACIER_IR", e.Key, o.Class, err)
		}
	}
	if len(copies) != parts*perPart {
		t.Errorf("%d objects copied, want %d", len(copies), parts*perPart)
	}
	// Nothing is pending: a third apply has no job to resume.
	ex, err := NewExecutor(ctx, db, sim, ExecConfig{Apply: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, resumed, err := ex.Resume(ctx); resumed || err != nil {
		t.Errorf("Resume after convergence = %v, %v; want nothing to resume", resumed, err)
	}
	if errors.Is(err, ErrJobRunning) {
		t.Error(err)
	}
}

// TestResumeChecksBeforeCopying replays the worst moment to die: after the
// copy, before its completion was journalled. The rerun's HeadObject sees
// the object already in the target class and records it as recovered
// without a second copy; an intent whose copy never happened is copied.
func TestResumeChecksBeforeCopying(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := s3test.Start(t, "lake")
	plan := syntheticLake(t, srv.Client(t), 1, 3, GlacierIR)
	clock := &fakeClock{now: time.Now().UTC()}
	sim, db := openSim(t, srv, filepath.Join(t.TempDir(), "state.db"), clock)
	ex, err := NewExecutor(ctx, db, sim, ExecConfig{Apply: true, ObjectsPerSecond: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// The dead run: a job owned by a process that no longer exists, the
	// action and two objects journalled as intended, one of them copied.
	const job = "dead-job"
	if err := ex.j.create(ctx, job, KindApply, plan, clock.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE lifecycle_jobs SET owner = ? WHERE id = ?`, func() string { h, _ := os.Hostname(); return h }()+":999999999", job); err != nil {
		t.Fatal(err)
	}
	a := plan.Actions[0]
	if err := ex.j.actionIntent(ctx, job, a, MethodCopy, clock.Now()); err != nil {
		t.Fatal(err)
	}
	objs := []Object{{Bucket: "lake", Key: a.Prefix + "00000.parquet", Size: 4 << 10}, {Bucket: "lake", Key: a.Prefix + "00001.parquet", Size: 4 << 10}}
	if err := ex.j.intents(ctx, job, a, MethodCopy, objs, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := sim.Copy(ctx, "lake", objs[0].Key, GlacierIR); err != nil {
		t.Fatal(err)
	}

	res, resumed, err := ex.Resume(ctx)
	if err != nil || !resumed || res.Job != job {
		t.Fatalf("Resume = %+v, %v, %v; want job %s resumed", res, resumed, err, job)
	}
	if res.Recovered != 1 || res.Copied != 2 {
		t.Errorf("resumed %+v, want 1 recovered (copied before the crash) and 2 copied", res)
	}
	for key, n := range copiesPerKey(t, sim) {
		if n != 1 {
			t.Errorf("%s copied %d times", key, n)
		}
	}
	entries, err := Journal(ctx, db, job)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		got[strings.TrimPrefix(e.Key, a.Prefix)] = e.Outcome
	}
	want := map[string]string{"00000.parquet": OutcomeRecovered, "00001.parquet": OutcomeCopied, "00002.parquet": OutcomeCopied}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("journal outcomes %v, want %v", got, want)
	}
}

// TestApplyRefusesWhileJobRunning: a live job's lease keeps a second
// process from taking it over or starting another apply.
func TestApplyRefusesWhileJobRunning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := s3test.Start(t, "lake")
	plan := syntheticLake(t, srv.Client(t), 1, 1, GlacierIR)
	sim, db := openSim(t, srv, filepath.Join(t.TempDir(), "state.db"), &fakeClock{now: time.Now()})
	ex, err := NewExecutor(ctx, db, sim, ExecConfig{Apply: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ex.j.create(ctx, "live", KindApply, plan, time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE lifecycle_jobs SET owner = 'elsewhere:1' WHERE id = 'live'`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ex.Resume(ctx); !errors.Is(err, ErrJobRunning) {
		t.Errorf("Resume = %v, want ErrJobRunning", err)
	}
	if _, err := ex.Run(ctx, plan); err == nil || !strings.Contains(err.Error(), "unfinished") {
		t.Errorf("Run = %v, want a refusal naming the unfinished job", err)
	}
	// An operator gives up on it; then a new apply runs.
	if err := Abandon(ctx, db, "live"); err != nil {
		t.Fatal(err)
	}
	if err := Abandon(ctx, db, "live"); err == nil {
		t.Error("abandoning a finished job succeeded")
	}
	if res, err := ex.Run(ctx, plan); err != nil || res.Copied != 1 {
		t.Errorf("Run after Abandon = %+v, %v; want 1 copied", res, err)
	}
}
