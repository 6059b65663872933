package engine

import (
	"context"
	"database/sql"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/trino"
)

// LakeConfig says which tables this engine may read and where it caches
// remote files.
type LakeConfig struct {
	// Region is the region this engine serves ("eu").
	Region string
	// Allowed are the warehouse locations (prefixes such as
	// "s3://lake-eu/" or "file:///data/warehouse/eu/") this region may read.
	Allowed []string
	// CacheDir holds local copies of S3 data files.
	CacheDir string
}

// Lake gives the engine's SQL its tables: it resolves names through the
// catalog, refuses tables outside the region's locations, plans Iceberg
// scans and turns Trino SQL into DuckDB SQL over the planned files.
type Lake struct {
	cat *catalog.Catalog
	cfg LakeConfig
}

// NewLake returns a Lake over cat.
func NewLake(cat *catalog.Catalog, cfg LakeConfig) (*Lake, error) {
	return &Lake{cat: cat, cfg: cfg}, nil
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
func (l *Lake) Compile(ctx context.Context, conn *sql.Conn, text string, sess Session, params []string) (*Compiled, error) {
	return nil, trino.Errorf(trino.NotSupported, "the local engine cannot run queries yet")
}
