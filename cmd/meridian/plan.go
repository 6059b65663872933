package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/meridian-lake/meridian/planner"
	"github.com/meridian-lake/meridian/planner/sql"
)

const planDescription = `Plan shows how Meridian analyses SQL, without running it: the statement
kind, every table it touches and how, the columns it uses per table, whether
each output column carries raw values or only aggregates, and the predicates
that can prune partitions. Nothing is resolved or sent anywhere.

The SQL comes from the argument, from --file, or from standard input when
neither is given or the argument is "-". It may hold several statements
separated by ';'; each is planned. A statement that does not parse is shown
with its error and a conservative analysis: every name that could be a table,
read in full.

With --user, the statement is planned in full by a running Meridian
(--server, development mode, or HTTPS with MERIDIAN_PASSWORD): tables and
their regions, the policy decision with its violations, the chosen cluster
and why, exactly as a statement of that user would be, without running it.

Environment:
  MERIDIAN_CATALOG, MERIDIAN_SCHEMA   defaults for --catalog and --schema
  MERIDIAN_SERVER                     default for --server
  MERIDIAN_PASSWORD                   the --user's password (HTTPS servers)

Exit status: 0 when every statement was analysed, 1 when any did not parse
(all are still shown), 2 for a usage error (bad flags, unreadable or too
large input).`

// planConfig is what the plan command's flags and environment set.
type planConfig struct {
	session  planner.Session
	user     string
	server   string
	purpose  string
	json     bool
	file     string
	maxBytes int
}

func runPlan(ctx context.Context, st streams, args []string) int {
	var cfg planConfig
	fs := newFlagSet(st, "plan", `[flags] ["SQL" | -]`, planDescription)
	fs.StringVar(&cfg.session.Catalog, "catalog", os.Getenv("MERIDIAN_CATALOG"), "`catalog` that qualifies names without one")
	fs.StringVar(&cfg.session.Schema, "schema", os.Getenv("MERIDIAN_SCHEMA"), "`schema` that qualifies names without one")
	fs.BoolVar(&cfg.json, "json", false, "print one JSON object per statement, one per line")
	fs.StringVar(&cfg.user, "user", "", "plan in full as `user`, on the server")
	fs.StringVar(&cfg.server, "server", envOr("MERIDIAN_SERVER", "http://127.0.0.1:8080"), "Meridian's `URL` for --user")
	fs.StringVar(&cfg.purpose, "purpose", "", "the declared `purpose` for --user")
	fs.StringVar(&cfg.file, "file", "", "read the SQL from `path` (\"-\" is standard input)")
	fs.IntVar(&cfg.maxBytes, "max-bytes", sql.DefaultMaxBytes, "refuse input longer than `n` bytes")
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if cfg.maxBytes <= 0 {
		return usageError(st, "plan", "--max-bytes must be positive, got %d", cfg.maxBytes)
	}
	if len(pos) > 1 {
		return usageError(st, "plan", "want one SQL argument, got %d; quote the SQL as one argument", len(pos))
	}
	if len(pos) == 1 && cfg.file != "" {
		return usageError(st, "plan", "give the SQL as an argument or with --file, not both")
	}

	src, err := planInput(ctx, st, pos, cfg)
	if errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	if err != nil {
		fmt.Fprintf(st.err, "meridian plan: %v\n", err)
		return exitUsage
	}

	if cfg.user != "" {
		return remotePlan(ctx, st, src, cfg)
	}
	analyses := analyze(src, cfg.session, sql.Parser{MaxBytes: cfg.maxBytes})
	if len(analyses) == 0 {
		fmt.Fprintln(st.err, "meridian plan: no SQL statement in the input")
		return exitUsage
	}
	out := bufio.NewWriter(st.out)
	if cfg.json {
		err = writeJSON(out, analyses)
	} else {
		err = writeText(out, analyses)
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		fmt.Fprintf(st.err, "meridian plan: write output: %v\n", err)
		return exitFailed
	}
	for _, a := range analyses {
		if a.Error != nil {
			return exitFailed
		}
	}
	return exitOK
}

// planInput returns the SQL from the argument, the file or standard input,
// refusing more than cfg.maxBytes.
func planInput(ctx context.Context, st streams, pos []string, cfg planConfig) (string, error) {
	switch {
	case len(pos) == 1 && pos[0] != "-":
		if len(pos[0]) > cfg.maxBytes {
			return "", fmt.Errorf("the SQL argument is %d bytes, over the limit of %d (--max-bytes)", len(pos[0]), cfg.maxBytes)
		}
		return pos[0], nil
	case cfg.file != "" && cfg.file != "-":
		f, err := os.Open(cfg.file)
		if err != nil {
			return "", err // *PathError names the file
		}
		defer f.Close()
		return readLimited(ctx, f, cfg.file, cfg.maxBytes)
	default:
		return readLimited(ctx, st.in, "standard input", cfg.maxBytes)
	}
}

// readLimited reads all of r, but never more than limit+1 bytes: one byte over
// the limit is enough to refuse. The read runs in its own goroutine so that
// SIGINT ends a command waiting on a terminal or a silent pipe; a blocked read
// cannot be interrupted, so that goroutine finishes with its read (the channel
// is buffered) or with the process, which exits next.
func readLimited(ctx context.Context, r io.Reader, name string, limit int) (string, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
		done <- result{b, err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case res := <-done:
		if res.err != nil {
			return "", fmt.Errorf("read %s: %w", name, res.err)
		}
		if len(res.b) > limit {
			return "", fmt.Errorf("%s is over the limit of %d bytes (--max-bytes)", name, limit)
		}
		return string(res.b), nil
	}
}

// analyze plans each ';'-separated statement of src. A statement that does
// not parse gets the planner's conservative analysis, but keeps the error the
// script parse gave it, whose position is in src as a whole rather than in
// the statement alone.
func analyze(src string, s planner.Session, p sql.Parser) []*planner.Analysis {
	opts := planner.Options{Parser: p}
	scripts, err := p.ParseScript(src)
	if err != nil {
		// The text cannot be split into statements (it does not lex, or has
		// too many tokens): analyse it as one, positions are already absolute.
		return []*planner.Analysis{planner.Analyze(src, s, opts)}
	}
	out := make([]*planner.Analysis, 0, len(scripts))
	for _, sc := range scripts {
		if sc.Err == nil {
			out = append(out, planner.AnalyzeStatement(sc.Stmt, s, opts))
			continue
		}
		a := planner.Analyze(sc.Text, s, opts)
		// Set even if the text alone parsed: the statement failed in the
		// script, and a failure must not be reported as a success.
		a.Error = asSQLError(sc.Err)
		out = append(out, a)
	}
	return out
}

func asSQLError(err error) *sql.Error {
	var pe *sql.Error
	if errors.As(err, &pe) {
		return pe
	}
	return &sql.Error{Name: sql.ErrSyntax, Message: err.Error()}
}
