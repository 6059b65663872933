package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/catalog/demo"
	"github.com/meridian-lake/meridian/internal/store"
)

const demoDescription = `Demo init creates the demo lake Meridian runs and is tested on: guests,
bookings and guests' accessibility needs in three regions (eu, us, apac), a
global listings table and the eight TPC-H tables, as Iceberg tables in the
catalog "iceberg" with governance properties (residency, classification,
purposes, retention, pii column tags). The data is synthetic, and the same
for the same --seed and sizes.

The tables go to local warehouses, DIR/warehouse/<region>, with the Iceberg
SQL catalog in DIR/catalog.db. With --s3-endpoint they go to the buckets
lake-eu, lake-us and lake-apac on that endpoint instead (created when
missing), and DIR/meridian.yaml is written for later commands' --config; it
does not hold the S3 keys, which those commands read from AWS_ACCESS_KEY_ID
and AWS_SECRET_ACCESS_KEY.

An existing lake is left alone unless --reset is given: then the demo's
tables are dropped and their files deleted first. --dir builds the lake in
DIR with the default configuration; --config reads a configuration instead.

Progress goes to standard error, the summary to standard output.

Environment:
  MERIDIAN_CONFIG   the configuration file (default: embedded defaults)
  MERIDIAN_DIR      the state directory (default .meridian)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
                    the S3 keys when --s3-access-key and --s3-secret-key are not given

Exit status: 0 when the lake was built, 1 when it was not (it exists and
--reset was not given, or writing failed), 2 for a usage error, 130 when
interrupted.`

// demoFlags are what the demo command's flags set.
type demoFlags struct {
	dir, configPath      string
	reset                bool
	s3Endpoint, s3Region string
	s3AccessKey          string
	s3SecretKey          string
	tpchScale            float64
	bookings, guests     int
	seed                 int64
}

func runDemo(ctx context.Context, st streams, args []string) int {
	for i, a := range args {
		switch a {
		case "up", "check":
			return runDemoUp(ctx, st, append(append([]string{}, args[:i]...), args[i:]...))
		case "--check", "-check":
			// meridian demo --check: run the examples against a running demo.
			rest := append(append([]string{}, args[:i]...), args[i+1:]...)
			return runDemoUp(ctx, st, append(rest, "check"))
		}
	}
	var f demoFlags
	fs := newFlagSet(st, "demo", "init [flags]", demoDescription)
	fs.StringVar(&f.dir, "dir", "", "build the lake in `directory` (default $MERIDIAN_DIR or .meridian)")
	fs.StringVar(&f.configPath, "config", os.Getenv("MERIDIAN_CONFIG"), "configuration `file`")
	fs.BoolVar(&f.reset, "reset", false, "replace an existing demo lake")
	fs.StringVar(&f.s3Endpoint, "s3-endpoint", "", "put the tables in the buckets lake-<region> at `url`")
	fs.StringVar(&f.s3Region, "s3-region", "us-east-1", "the S3 `region` requests are signed for")
	fs.StringVar(&f.s3AccessKey, "s3-access-key", "", "S3 access key `id` (default $AWS_ACCESS_KEY_ID)")
	fs.StringVar(&f.s3SecretKey, "s3-secret-key", "", "S3 secret `key` (default $AWS_SECRET_ACCESS_KEY)")
	fs.Float64Var(&f.tpchScale, "tpch-scale", demo.DefaultTPCHScale, "TPC-H scale `factor`")
	fs.IntVar(&f.bookings, "bookings", demo.DefaultBookingsPerRegion, "bookings per region")
	fs.IntVar(&f.guests, "guests", demo.DefaultGuestsPerRegion, "guests per region")
	fs.Int64Var(&f.seed, "seed", demo.DefaultSeed, "the `seed` that selects the data")
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	switch {
	case len(pos) == 0:
		return usageError(st, "demo", "want a subcommand: init")
	case pos[0] != "init":
		return usageError(st, "demo", "unknown subcommand %q: want init", pos[0])
	case len(pos) > 1:
		return usageError(st, "demo", "init takes no arguments, got %q", strings.Join(pos[1:], " "))
	}
	configSet := false
	fs.Visit(func(fl *flag.Flag) { configSet = configSet || fl.Name == "config" })
	if f.dir != "" && configSet {
		return usageError(st, "demo", "give --dir or --config, not both: the configuration names the directory")
	}
	if f.bookings < 1 || f.guests < 1 {
		return usageError(st, "demo", "--bookings and --guests must be positive")
	}

	cfg, err := demoConfig(f)
	if err != nil {
		fmt.Fprintf(st.err, "meridian demo init: %v\n", err)
		return exitUsage
	}
	dcfg := demo.Config{
		Dir: cfg.Dir, Reset: f.reset, TPCHScale: f.tpchScale, BookingsPerRegion: f.bookings,
		GuestsPerRegion: f.guests, Seed: f.seed, Progress: st.err,
	}
	if f.s3Endpoint != "" {
		s3cfg, err := demoS3(f)
		if err != nil {
			return usageError(st, "demo", "%v", err)
		}
		ic, ok := cfg.Catalog.Catalogs[demo.TrinoCatalog]
		if !ok {
			fmt.Fprintf(st.err, "meridian demo init: the configuration has no catalog %q to create the demo lake in\n", demo.TrinoCatalog)
			return exitUsage
		}
		ic.S3 = s3cfg
		cfg.Catalog.Catalogs[demo.TrinoCatalog] = ic
		dcfg.S3 = &s3cfg
	}
	if err := dcfg.Validate(); err != nil {
		fmt.Fprintf(st.err, "meridian demo init: %v\n", err)
		return exitUsage
	}

	db, err := store.Open(ctx, cfg.Store)
	if err != nil {
		fmt.Fprintf(st.err, "meridian demo init: %v\n", err)
		return exitFailed
	}
	defer db.Close()
	cat, err := catalog.New(ctx, cfg.Catalog, db)
	if err != nil {
		fmt.Fprintf(st.err, "meridian demo init: %v\n", err)
		return exitUsage
	}
	defer cat.Close()

	where := "file://" + filepath.Join(cfg.Dir, "warehouse", "<region>")
	if dcfg.S3 != nil {
		where = "s3://lake-<region> at " + dcfg.S3.Endpoint
	}
	fmt.Fprintf(st.err, "meridian demo init: building the demo lake in %s\n", where)
	sum, err := demo.Init(ctx, dcfg, cat)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(st.err, "meridian demo init: interrupted; run again with --reset to start over")
			return exitInterrupted
		}
		fmt.Fprintf(st.err, "meridian demo init: %v\n", err)
		return exitFailed
	}
	var written string
	if dcfg.S3 != nil {
		if written, err = writeDemoConfig(cfg); err != nil {
			fmt.Fprintf(st.err, "meridian demo init: the lake is built, but %v\n", err)
			return exitFailed
		}
	}
	if err := writeSummary(st.out, sum, where, written); err != nil {
		fmt.Fprintf(st.err, "meridian demo init: write output: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// demoConfig is the configuration the lake is built with: the defaults in
// --dir, or the configuration file.
func demoConfig(f demoFlags) (Config, error) {
	if f.dir != "" {
		return Config{Dir: f.dir}.withDefaults()
	}
	return loadConfig(f.configPath)
}

// demoS3 is the S3 configuration of the flags, with the keys from the
// environment when the flags do not give them.
func demoS3(f demoFlags) (catalog.S3Config, error) {
	ak, sk := f.s3AccessKey, f.s3SecretKey
	if ak == "" && sk == "" {
		ak, sk = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	if (ak == "") != (sk == "") {
		return catalog.S3Config{}, errors.New("give both the S3 access key and the secret key, or neither")
	}
	if !strings.HasPrefix(f.s3Endpoint, "http://") && !strings.HasPrefix(f.s3Endpoint, "https://") {
		return catalog.S3Config{}, fmt.Errorf("--s3-endpoint %q: want an http:// or https:// URL", f.s3Endpoint)
	}
	// Local S3 servers (versitygw, MinIO) serve buckets by path, not by host.
	return catalog.S3Config{Endpoint: f.s3Endpoint, Region: f.s3Region, PathStyle: true,
		AccessKeyID: ak, SecretAccessKey: sk}, nil
}

// writeDemoConfig writes cfg, without S3 keys, to Dir/meridian.yaml and
// returns its path. The file is written whole or not at all.
func writeDemoConfig(cfg Config) (string, error) {
	for name, ic := range cfg.Catalog.Catalogs {
		ic.S3.AccessKeyID, ic.S3.SecretAccessKey = "", ""
		cfg.Catalog.Catalogs[name] = ic
	}
	var doc yaml.Node
	if err := doc.Encode(cfg); err != nil {
		return "", fmt.Errorf("encode meridian.yaml: %w", err)
	}
	pruneUnset(&doc)
	var body strings.Builder
	enc := yaml.NewEncoder(&body)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return "", fmt.Errorf("encode meridian.yaml: %w", err)
	}
	header := "# Written by meridian demo init. Use it with --config (or MERIDIAN_CONFIG).\n" +
		"# The S3 keys are not stored here: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.\n"
	path := filepath.Join(cfg.Dir, "meridian.yaml")
	tmp, err := os.CreateTemp(cfg.Dir, ".meridian.yaml-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := io.WriteString(tmp, header+body.String()); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return path, nil
}

// pruneUnset drops the fields left at their zero value from an encoded
// configuration, so the file shows what is set; loading it gives the same
// configuration, since zero means the default. Strings that merely look
// like zeros ("0", "false") are kept.
func pruneUnset(n *yaml.Node) {
	for _, c := range n.Content {
		pruneUnset(c)
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	kept := n.Content[:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		unset := false
		switch v.Kind {
		case yaml.ScalarNode:
			unset = v.Tag == "!!str" && v.Value == "" || v.Tag == "!!bool" && v.Value == "false" ||
				v.Tag == "!!int" && v.Value == "0" || v.Value == "0s" && (k.Value == "cache_ttl" || k.Value == "busy_timeout")
		case yaml.MappingNode, yaml.SequenceNode:
			unset = len(v.Content) == 0
		}
		if !unset {
			kept = append(kept, k, v)
		}
	}
	n.Content = kept
}

// writeSummary prints the lake as a table, numbers aligned right.
func writeSummary(w io.Writer, sum demo.Summary, where, configPath string) error {
	rows := [][]string{{"TABLE", "REGION", "CLASSIFICATION", "ROWS", "FILES", "BYTES"}}
	var files int64
	for _, t := range sum.Tables {
		rows = append(rows, []string{t.Name, t.Region, string(t.Classification),
			groupDigits(t.Rows), groupDigits(t.Files), byteSize(t.Bytes)})
		files += t.Files
	}
	rows = append(rows, []string{fmt.Sprintf("total (%d tables)", len(sum.Tables)), "", "",
		groupDigits(sum.Rows), groupDigits(files), byteSize(sum.Bytes)})
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	var b strings.Builder
	for n, r := range rows {
		if n == len(rows)-1 {
			b.WriteByte('\n')
		}
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-len(c))
			switch {
			case i >= 3: // numbers
				b.WriteString("  " + pad + c)
			case i == 0:
				b.WriteString(c + pad)
			default:
				b.WriteString("  " + c + pad)
			}
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "\nregions:  %s\nstorage:  %s\n", strings.Join(sum.Regions, ", "), where)
	if configPath != "" {
		fmt.Fprintf(&b, "config:   %s (use it with --config)\n", configPath)
	}
	fmt.Fprintf(&b, "built in: %.1f s\n", sum.Elapsed.Seconds())
	_, err := io.WriteString(w, b.String())
	return err
}

// groupDigits renders n with comma separators: 200,000.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// byteSize renders a byte count in decimal units: 12.3 MB.
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1e6:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1e9:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	default:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	}
}
