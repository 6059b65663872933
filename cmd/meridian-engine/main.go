package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/engine"
	"github.com/meridian-lake/meridian/internal/cfgfile"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// run is the whole command; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("meridian-engine", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg        engine.Config
		allow      listFlag
		listen     = fs.String("listen", "127.0.0.1:0", "address to serve the Trino protocol on (port 0 picks a free one)")
		configPath = fs.String("config", "", "Meridian's YAML configuration; its catalog: section (catalogs, regions) is used")
	)
	fs.StringVar(&cfg.Region, "region", "", "the region this engine serves (required)")
	fs.Var(&allow, "allow", "a warehouse location this region may read (repeatable; default: the region's locations in the config)")
	fs.StringVar(&cfg.MemoryLimit, "memory-limit", "", "DuckDB memory_limit, e.g. 4GB (default: DuckDB's, 80% of RAM)")
	fs.IntVar(&cfg.Threads, "threads", 0, "DuckDB worker threads (default: one per CPU)")
	fs.IntVar(&cfg.PageRows, "page-rows", 0, "most rows in one result page (default 10000)")
	fs.IntVar(&cfg.PageBytes, "page-bytes", 0, "most JSON bytes in one result page (default 1 MiB)")
	fs.IntVar(&cfg.MaxRunning, "max-running", 0, "statements DuckDB runs at once; others queue (default 8)")
	fs.DurationVar(&cfg.ClientTimeout, "client-timeout", 0, "cancel a query whose client stops asking for results for this long (default 5m)")
	fs.StringVar(&cfg.CacheDir, "cache-dir", "", "directory for local copies of remote data files")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "meridian-engine: unexpected arguments %q\n", fs.Args())
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	catCfg, err := loadCatalogConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "meridian-engine: %v\n", err)
		return 2
	}
	cfg.Allowed = allow
	if len(cfg.Allowed) == 0 {
		for _, r := range catCfg.Regions {
			if r.Name == cfg.Region {
				cfg.Allowed = r.Locations
			}
		}
	}
	if cfg.Region == "" {
		fmt.Fprintln(stderr, "meridian-engine: --region is required")
		return 2
	}
	if len(cfg.Allowed) == 0 {
		fmt.Fprintf(stderr, "meridian-engine: region %q has no locations in the config: add it under catalog.regions or pass --allow\n", cfg.Region)
		return 2
	}
	cat, err := catalog.New(ctx, catCfg, nil)
	if err != nil {
		fmt.Fprintf(stderr, "meridian-engine: %v\n", err)
		return 2
	}
	defer cat.Close()
	eng, err := engine.New(cfg, cat, log)
	if err != nil {
		fmt.Fprintf(stderr, "meridian-engine: %v\n", err)
		return 1
	}
	defer eng.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "meridian-engine: listen: %v\n", err)
		return 1
	}
	srv := &http.Server{
		Handler:           eng,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    4 << 20, // prepared statements travel in headers
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "meridian-engine %s listening on http://%s\n", cfg.Region, ln.Addr())
	log.Info("listening", "region", cfg.Region, "addr", ln.Addr().String())
	select {
	case err := <-served:
		log.Error("serve", "err", err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Warn("shutdown", "err", err)
	}
	log.Info("stopped", "region", cfg.Region)
	return 0
}

// maxConfigBytes bounds the configuration file.
const maxConfigBytes = 1 << 20

// loadCatalogConfig reads the catalog: section of Meridian's configuration.
// The other sections belong to meridian and are not checked here; the
// catalog section is decoded strictly, so a misspelt key is an error.
func loadCatalogConfig(path string) (catalog.Config, error) {
	var cfg catalog.Config
	if path == "" {
		return cfg, errors.New("--config is required: Meridian's YAML configuration with a catalog: section (catalogs and regions)")
	}
	data, err := cfgfile.Read(path, maxConfigBytes)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	var doc struct {
		Catalog yaml.Node `yaml:"catalog"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if doc.Catalog.Kind == 0 {
		return cfg, fmt.Errorf("config %s: no catalog: section", path)
	}
	section, err := yaml.Marshal(&doc.Catalog)
	if err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if err := cfgfile.DecodeStrict(section, &cfg); err != nil {
		return cfg, fmt.Errorf("config %s: catalog: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}
