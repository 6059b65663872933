package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/trino"
	ast "github.com/meridian-lake/meridian/planner/sql"
)

// LakeConfig says which tables this engine may read and where it caches
// remote files.
type LakeConfig struct {
	// Region is the region this engine serves ("eu").
	Region string
	// Allowed are the warehouse locations (prefixes such as
	// "s3://lake-eu/" or "file:///data/warehouse/eu/") this region may read.
	// A table, or any file of it, outside them is refused with
	// PERMISSION_DENIED, as a real cluster confined by bucket policy would.
	Allowed []string
	// CacheDir holds local copies of S3 data files (DuckDB cannot reach S3
	// here) and the files materialised for tables with delete files. Copies
	// survive restarts. Empty: remote tables cannot be read, and
	// materialised files go to the system's temporary directory.
	CacheDir string
	// CacheMaxBytes bounds the copies in CacheDir (default 10 GiB); the
	// least recently used are removed first, never those in use.
	CacheMaxBytes int64
	// FetchConcurrency bounds parallel S3 downloads per table (default 8).
	FetchConcurrency int
	// MaxViewDepth bounds nested view expansion (default 10).
	MaxViewDepth int
	// MaxMaterialisedRows bounds the rows read through iceberg-go for one
	// table with delete files (default 50 million).
	MaxMaterialisedRows int64
}

func (c LakeConfig) withDefaults() LakeConfig {
	if c.CacheMaxBytes <= 0 {
		c.CacheMaxBytes = 10 << 30
	}
	if c.FetchConcurrency <= 0 {
		c.FetchConcurrency = 8
	}
	if c.MaxViewDepth <= 0 {
		c.MaxViewDepth = 10
	}
	if c.MaxMaterialisedRows <= 0 {
		c.MaxMaterialisedRows = 50_000_000
	}
	return c
}

// Validate checks the configuration and says what to fix.
func (c LakeConfig) Validate() error {
	var errs []error
	if c.Region == "" {
		errs = append(errs, errors.New("engine: region is empty"))
	}
	if len(c.Allowed) == 0 {
		errs = append(errs, errors.New("engine: no allowed locations: list the warehouse prefixes this region may read"))
	}
	for _, a := range c.Allowed {
		if _, ok := normLocation(a); !ok {
			errs = append(errs, fmt.Errorf("engine: allowed location %q needs a scheme (s3://bucket/prefix or file:///path)", a))
		}
	}
	return errors.Join(errs...)
}

// Lake gives the engine's SQL its tables: it resolves names through the
// catalog, refuses tables outside the region's locations, plans Iceberg
// scans and turns Trino SQL into DuckDB SQL over the planned files.
// It is safe for concurrent use.
type Lake struct {
	cat     *catalog.Catalog
	cfg     LakeConfig
	allowed []string // normalised, with a trailing slash
	cache   *fileCache
}

// NewLake returns a Lake over cat.
func NewLake(cat *catalog.Catalog, cfg LakeConfig) (*Lake, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Lake{cat: cat, cfg: cfg}
	for _, a := range cfg.Allowed {
		n, _ := normLocation(a)
		l.allowed = append(l.allowed, strings.TrimSuffix(n, "/")+"/")
	}
	dir := ""
	if cfg.CacheDir != "" {
		dir = filepath.Join(cfg.CacheDir, "files")
	}
	c, err := newFileCache(dir, cfg.CacheMaxBytes)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	l.cache = c
	return l, nil
}

// tmpDir holds materialised files.
func (l *Lake) tmpDir() string {
	if l.cfg.CacheDir != "" {
		return filepath.Join(l.cfg.CacheDir, "tmp")
	}
	return filepath.Join(os.TempDir(), "meridian-engine")
}

// normLocation makes locations comparable: s3a/s3n are s3, a bare path is
// file://, and "." and ".." segments are resolved so a path cannot climb
// out of an allowed prefix.
func normLocation(l string) (string, bool) {
	l = strings.TrimSpace(l)
	for _, alias := range []string{"s3a://", "s3n://"} {
		if strings.HasPrefix(l, alias) {
			l = "s3://" + l[len(alias):]
		}
	}
	if lp, ok := localPath(l); ok {
		return "file://" + lp, true
	}
	scheme, rest, ok := strings.Cut(l, "://")
	if !ok || scheme == "" || rest == "" {
		return "", false
	}
	trailing := strings.HasSuffix(rest, "/")
	rest = strings.TrimPrefix(path.Clean("/"+rest), "/")
	if trailing {
		rest += "/"
	}
	return strings.ToLower(scheme) + "://" + rest, true
}

// confine refuses a location outside the region's warehouses.
func (l *Lake) confine(loc string) *trino.Error {
	if n, ok := normLocation(loc); ok {
		n = strings.TrimSuffix(n, "/") + "/"
		for _, a := range l.allowed {
			if strings.HasPrefix(n, a) {
				return nil
			}
		}
	}
	return trino.Errorf(trino.PermissionDenied,
		"this cluster (region %s) cannot read %s: the location is outside the region's warehouses (%s); run the statement in the region that stores the table",
		l.cfg.Region, loc, strings.Join(l.cfg.Allowed, ", "))
}

// Compiled is a statement ready to run on the connection it was compiled for.
type Compiled struct {
	// SQL is DuckDB SQL.
	SQL string
	// Release frees what compiling created on the connection (temporary
	// tables, cached files in use); it must be called once the statement has
	// finished. Never nil.
	Release func()
}

// Compile turns one Trino query or DML statement into DuckDB SQL over the
// tables' planned data files, on conn. params are the source texts of the
// EXECUTE … USING expressions, substituted for the ? markers in order.
// Errors are *trino.Error.
//
// The connection is switched to integer division (Trino's / on integers
// truncates; DuckDB's divides as doubles by default).
func (l *Lake) Compile(ctx context.Context, conn *sql.Conn, text string, sess Session, params []string) (*Compiled, error) {
	st, err := ast.Parser{}.Parse(text)
	if err != nil {
		var pe *ast.Error
		if errors.As(err, &pe) {
			code := trino.SyntaxError
			if pe.Name != ast.ErrSyntax {
				code = trino.GenericUserError
			}
			e := trino.Errorf(code, "%s", pe.Message)
			if pe.Pos.Line > 0 {
				e = e.At(pe.Pos.Line, pe.Pos.Column)
			}
			return nil, e
		}
		return nil, trino.Errorf(trino.SyntaxError, "%v", err)
	}
	c := &compiler{ctx: ctx, lake: l, conn: conn, sess: sess, params: params,
		catalog: strings.ToLower(sess.Catalog), schema: strings.ToLower(sess.Schema)}
	c.statement(st)
	release := func() {
		for _, f := range c.release {
			f()
		}
	}
	if c.err != nil {
		release()
		var te *trino.Error
		if errors.As(c.err, &te) {
			return nil, te
		}
		return nil, trino.Errorf(trino.GenericInternalError, "%v", c.err)
	}
	if conn != nil {
		if _, err := conn.ExecContext(ctx, "SET integer_division = true"); err != nil {
			release()
			return nil, trino.Errorf(trino.GenericInternalError, "prepare the DuckDB connection: %v", err)
		}
	}
	return &Compiled{SQL: c.b.String(), Release: release}, nil
}
