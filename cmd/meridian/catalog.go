package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/store"
)

const catalogDescription = `Catalog shows and edits what Meridian knows of the lake's tables.

Subcommands:
  ls [catalog | catalog.schema | schema]   list schemas, or the tables of a schema
  describe TABLE                           a table's region, governance, columns, partitions
  tag TABLE key=value...                   set governance tags (recorded with who and when)
  untag TABLE key...                       remove governance tags (recorded)
  log [TABLE]                              the recorded governance edits, newest first

Tag keys: residency, classification (public, internal, personal, special),
purposes (comma-separated), retention-days, column.<name>.tags (e.g. pii,email).
TABLE is catalog.schema.table, or schema.table in catalog "iceberg".

Environment:
  MERIDIAN_CONFIG   the configuration file (default: embedded defaults)
  MERIDIAN_DIR      the state directory (default .meridian)
  MERIDIAN_ACTOR    who makes tag edits (default: the login name)`

// catalogEnv is what the catalog subcommands share.
type catalogEnv struct {
	cat  *catalog.Catalog
	db   *store.DB
	json bool
}

func runCatalog(ctx context.Context, st streams, args []string) int {
	var (
		configPath string
		asJSON     bool
		actor      string
		limit      int
	)
	fs := newFlagSet(st, "catalog", `ls|describe|tag|untag|log [arguments] [flags]`, catalogDescription)
	fs.StringVar(&configPath, "config", os.Getenv("MERIDIAN_CONFIG"), "configuration `file`")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	fs.StringVar(&actor, "actor", os.Getenv("MERIDIAN_ACTOR"), "`who` makes a tag edit (default: the login name)")
	fs.IntVar(&limit, "limit", 100, "at most `n` log entries")
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return usageError(st, "catalog", "want a subcommand: ls, describe, tag, untag or log")
	}
	cfg, err := loadConfig(configPath)
	if err != nil {
		fmt.Fprintf(st.err, "meridian catalog: %v\n", err)
		return exitUsage
	}
	db, err := store.Open(ctx, cfg.Store)
	if err != nil {
		fmt.Fprintf(st.err, "meridian catalog: %v\n", err)
		return exitFailed
	}
	defer db.Close()
	cat, err := catalog.New(ctx, cfg.Catalog, db)
	if err != nil {
		fmt.Fprintf(st.err, "meridian catalog: %v\n", err)
		return exitUsage
	}
	defer cat.Close()
	env := &catalogEnv{cat: cat, db: db, json: asJSON}

	sub, rest := pos[0], pos[1:]
	switch sub {
	case "ls":
		if len(rest) > 1 {
			return usageError(st, "catalog", "ls takes at most one argument")
		}
		err = env.ls(ctx, st, rest)
	case "describe":
		if len(rest) != 1 {
			return usageError(st, "catalog", "describe takes one TABLE")
		}
		err = env.describe(ctx, st, rest[0])
	case "tag", "untag":
		if len(rest) < 2 {
			return usageError(st, "catalog", "%s takes a TABLE and at least one tag", sub)
		}
		if actor == "" {
			actor = loginName()
		}
		err = env.tag(ctx, st, sub, rest[0], rest[1:], actor)
	case "log":
		if len(rest) > 1 {
			return usageError(st, "catalog", "log takes at most one TABLE")
		}
		err = env.log(ctx, st, rest, limit)
	default:
		return usageError(st, "catalog", "unknown subcommand %q: want ls, describe, tag, untag or log", sub)
	}
	if err != nil {
		fmt.Fprintf(st.err, "meridian catalog %s: %v\n", sub, err)
		var ue usageErr
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailed
	}
	return exitOK
}

// usageErr marks an error in the command's arguments.
type usageErr struct{ error }

func loginName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// tableArg parses TABLE: catalog.schema.table, or schema.table in "iceberg".
func tableArg(s string) (catalog.TableRef, error) {
	if r, err := catalog.ParseTableRef(s); err == nil {
		return r, nil
	}
	if r, err := catalog.ParseTableRef("iceberg." + s); err == nil {
		return r, nil
	}
	return catalog.TableRef{}, usageErr{fmt.Errorf("%q is not a table name: want catalog.schema.table", s)}
}

// printJSON writes v as indented JSON, the --json output of every subcommand.
func printJSON(st streams, v any) error {
	enc := json.NewEncoder(st.out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func (e *catalogEnv) ls(ctx context.Context, st streams, args []string) error {
	if len(args) == 0 {
		type nsRow struct {
			Catalog string `json:"catalog"`
			Schema  string `json:"schema"`
		}
		var rows []nsRow
		for _, c := range e.cat.Catalogs() {
			nss, err := e.cat.Namespaces(ctx, c)
			if err != nil {
				return err
			}
			for _, ns := range nss {
				rows = append(rows, nsRow{c, ns})
			}
		}
		if e.json {
			return printJSON(st, rows)
		}
		tw := tabwriter.NewWriter(st.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SCHEMA")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s.%s\n", r.Catalog, r.Schema)
		}
		return tw.Flush()
	}
	catName, ns := "iceberg", args[0]
	if c, s, ok := strings.Cut(args[0], "."); ok {
		catName, ns = c, s
	} else if isCatalog(e.cat, args[0]) {
		return e.ls(ctx, st, nil)
	}
	refs, err := e.cat.Tables(ctx, catName, strings.ToLower(ns))
	if err != nil {
		return err
	}
	type tableRow struct {
		Table          string `json:"table"`
		Kind           string `json:"kind"`
		Region         string `json:"region"`
		Classification string `json:"classification"`
		Rows           int64  `json:"rows"`
		Bytes          int64  `json:"bytes"`
		Error          string `json:"error,omitempty"`
	}
	var rows []tableRow
	for _, r := range refs {
		row := tableRow{Table: r.String()}
		info, err := e.cat.Resolve(ctx, r)
		if err != nil {
			row.Error = err.Error() // show the table, and why it cannot be used
		} else {
			row.Kind, row.Region, row.Classification = string(info.Kind), info.Region, classificationText(info.Classification)
			if info.Snapshot != nil {
				row.Rows, row.Bytes = info.Snapshot.Records, info.Snapshot.Bytes
			}
		}
		rows = append(rows, row)
	}
	if e.json {
		return printJSON(st, rows)
	}
	tw := tabwriter.NewWriter(st.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tREGION\tCLASSIFICATION\tROWS\tSIZE")
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\terror: %s\n", r.Table, r.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Table, r.Region, r.Classification, groupDigits(r.Rows), byteSize(r.Bytes))
	}
	return tw.Flush()
}

func isCatalog(c *catalog.Catalog, name string) bool {
	for _, n := range c.Catalogs() {
		if n == name {
			return true
		}
	}
	return false
}

func classificationText(c catalog.Classification) string {
	if c == catalog.Unclassified {
		return "unclassified"
	}
	return string(c)
}

func (e *catalogEnv) describe(ctx context.Context, st streams, arg string) error {
	r, err := tableArg(arg)
	if err != nil {
		return err
	}
	info, err := e.cat.Resolve(ctx, r)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(st, info)
	}
	w := st.out
	fmt.Fprintf(w, "%s (%s)\n", info.Ref, info.Kind)
	if info.Kind == catalog.KindView {
		fmt.Fprintf(w, "  view SQL (%s): %s\n", info.ViewDialect, info.ViewSQL)
		return nil
	}
	fmt.Fprintf(w, "  location:       %s\n", info.Location)
	fmt.Fprintf(w, "  region:         %s (from %s)\n", info.Region, info.RegionSource)
	fmt.Fprintf(w, "  classification: %s\n", classificationText(info.Classification))
	fmt.Fprintf(w, "  purposes:       %s\n", orDash(strings.Join(info.Purposes, ", ")))
	if info.RetentionDays > 0 {
		fmt.Fprintf(w, "  retention:      %d days\n", info.RetentionDays)
	} else {
		fmt.Fprintf(w, "  retention:      -\n")
	}
	if s := info.Snapshot; s != nil {
		fmt.Fprintf(w, "  snapshot:       %d: %s rows in %s files, %s\n", s.ID, groupDigits(s.Records), groupDigits(s.Files), byteSize(s.Bytes))
	} else {
		fmt.Fprintf(w, "  snapshot:       none (empty table)\n")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  COLUMN\tTYPE\tTAGS")
	for _, c := range info.Columns {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Name, c.Type, orDash(strings.Join(c.Tags, ",")))
	}
	tw.Flush()
	if len(info.Partition) > 0 {
		var spec []string
		for _, p := range info.Partition {
			spec = append(spec, fmt.Sprintf("%s(%s)", p.Transform, p.Source))
		}
		fmt.Fprintf(w, "\n  partitioned by %s: %d partitions", strings.Join(spec, ", "), len(info.Partitions))
		if n := len(info.Partitions); n > 0 {
			fmt.Fprintf(w, ", %s … %s", info.Partitions[0].Key, info.Partitions[n-1].Key)
		}
		fmt.Fprintln(w)
	}
	return nil
}

func (e *catalogEnv) tag(ctx context.Context, st streams, sub, arg string, kv []string, actor string) error {
	r, err := tableArg(arg)
	if err != nil {
		return err
	}
	var events []catalog.Event
	if sub == "tag" {
		set := map[string]string{}
		for _, p := range kv {
			k, v, ok := strings.Cut(p, "=")
			if !ok || k == "" {
				return usageErr{fmt.Errorf("%q: want key=value", p)}
			}
			set[k] = v
		}
		events, err = e.cat.Tag(ctx, r, actor, set)
	} else {
		events, err = e.cat.Untag(ctx, r, actor, kv)
	}
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(st, events)
	}
	if len(events) == 0 {
		fmt.Fprintln(st.out, "nothing changed")
		return nil
	}
	return printEvents(st, events)
}

func printEvents(st streams, events []catalog.Event) error {
	tw := tabwriter.NewWriter(st.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWHEN\tWHO\tTABLE\tPROPERTY\tOLD\tNEW\tSTATUS")
	for _, ev := range events {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.ID, ev.At.Format("2006-01-02 15:04:05Z"), ev.Actor, ev.Table,
			ev.Property, valueText(ev.Old), valueText(ev.New), ev.Status)
	}
	return tw.Flush()
}

func valueText(v *string) string {
	if v == nil {
		return "(unset)"
	}
	return strconv.Quote(*v)
}

func (e *catalogEnv) log(ctx context.Context, st streams, args []string, limit int) error {
	name := ""
	if len(args) == 1 {
		r, err := tableArg(args[0])
		if err != nil {
			return err
		}
		name = r.String()
	}
	events, err := e.cat.Events(ctx, name, limit)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(st, events)
	}
	return printEvents(st, events)
}
