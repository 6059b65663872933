package engine

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
	"golang.org/x/sync/errgroup"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/trino"
	ast "github.com/meridian-lake/meridian/planner/sql"
)

// fromScope is what one SELECT block's FROM clause reads: its base tables
// by alias, and the row filters derived from its WHERE clause that may
// prune their files.
type fromScope struct {
	tables []fromTable
	// opaque is set when the FROM clause also holds relations whose columns
	// are not known here (subqueries, WITH queries, views, UNNEST, column
	// aliases): unqualified column names are then not attributed to a table.
	opaque   bool
	resolved map[*ast.Table]*catalog.TableInfo
	filters  map[*ast.Table]iceberg.BooleanExpression
}

type fromTable struct {
	alias string
	t     *ast.Table
	info  *catalog.TableInfo
}

// collectFrom resolves the base tables of s's FROM clause and derives the
// pruning filters of its WHERE clause.
func (c *compiler) collectFrom(s *ast.Select) *fromScope {
	sc := &fromScope{resolved: map[*ast.Table]*catalog.TableInfo{}, filters: map[*ast.Table]iceberg.BooleanExpression{}}
	var walk func(r ast.Relation, alias string)
	walk = func(r ast.Relation, alias string) {
		switch r := r.(type) {
		case *ast.Table:
			if c.isCTE(r.Name) {
				sc.opaque = true
				return
			}
			info, err := c.resolveTable(r)
			if err != nil {
				c.fail(err)
				sc.opaque = true
				return
			}
			sc.resolved[r] = info
			if info.Kind != catalog.KindTable || info.Metadata != "" {
				sc.opaque = true
				return
			}
			if alias == "" {
				alias = r.Name.Parts[len(r.Name.Parts)-1].Norm()
			}
			sc.tables = append(sc.tables, fromTable{alias: alias, t: r, info: info})
		case *ast.Aliased:
			if len(r.Columns) > 0 {
				sc.opaque = true
				if t, ok := r.Rel.(*ast.Table); ok && !c.isCTE(t.Name) {
					if info, err := c.resolveTable(t); err == nil {
						sc.resolved[t] = info
					} else {
						c.fail(err)
					}
				}
				return
			}
			walk(r.Rel, r.Alias.Norm())
		case *ast.Join:
			walk(r.Left, "")
			walk(r.Right, "")
		default:
			sc.opaque = true
		}
	}
	for _, r := range s.From {
		walk(r, "")
	}
	if s.Where != nil && c.err == nil {
		for _, x := range conjuncts(s.Where, nil) {
			c.prune(sc, x)
		}
	}
	return sc
}

func conjuncts(x ast.Expr, out []ast.Expr) []ast.Expr {
	if b, ok := x.(*ast.Binary); ok && strings.EqualFold(b.Op, "AND") {
		return conjuncts(b.R, conjuncts(b.L, out))
	}
	return append(out, x)
}

// column finds the table and column a column reference names in sc, if
// that is certain.
func (sc *fromScope) column(n *ast.Name) (*fromTable, catalog.Column, bool) {
	switch len(n.Parts) {
	case 1:
		if sc.opaque {
			return nil, catalog.Column{}, false
		}
		var found *fromTable
		var col catalog.Column
		for i := range sc.tables {
			if cl, ok := sc.tables[i].info.Column(n.Parts[0].Norm()); ok {
				if found != nil {
					return nil, catalog.Column{}, false // ambiguous
				}
				found, col = &sc.tables[i], cl
			}
		}
		return found, col, found != nil
	case 2:
		var found *fromTable
		for i := range sc.tables {
			if sc.tables[i].alias == n.Parts[0].Norm() {
				if found != nil {
					return nil, catalog.Column{}, false
				}
				found = &sc.tables[i]
			}
		}
		if found == nil {
			return nil, catalog.Column{}, false
		}
		col, ok := found.info.Column(n.Parts[1].Norm())
		return found, col, ok
	}
	return nil, catalog.Column{}, false
}

// columnType is the Iceberg type of a column reference in the innermost
// SELECT block, or "" when not certain.
func (c *compiler) columnType(n *ast.Name) string {
	if len(c.froms) == 0 {
		return ""
	}
	if _, col, ok := c.froms[len(c.froms)-1].column(n); ok {
		return col.Type
	}
	return ""
}

// prune turns one WHERE conjunct of the simple forms column op literal,
// column BETWEEN literals and column IN (literals) into an Iceberg row
// filter on the column's table. It only prunes files: DuckDB still
// evaluates the whole WHERE clause.
func (c *compiler) prune(sc *fromScope, x ast.Expr) {
	add := func(ft *fromTable, e iceberg.BooleanExpression) {
		if prev := sc.filters[ft.t]; prev != nil {
			e = iceberg.NewAnd(prev, e)
		}
		sc.filters[ft.t] = e
	}
	switch x := x.(type) {
	case *ast.Binary:
		op := x.Op
		col, okL := x.L.(*ast.Name)
		val := x.R
		if !okL {
			col, okL = x.R.(*ast.Name)
			val = x.L
			op = flip(op)
		}
		if !okL || op == "" {
			return
		}
		ft, cl, ok := sc.column(col)
		if !ok {
			return
		}
		v, ok := pruneValue(cl.Type, val)
		if !ok {
			return
		}
		if e := predicate(op, iceberg.Reference(cl.Name), v); e != nil {
			add(ft, e)
		}
	case *ast.Between:
		col, ok := x.X.(*ast.Name)
		if !ok || x.Not {
			return
		}
		ft, cl, ok := sc.column(col)
		if !ok {
			return
		}
		lo, ok1 := pruneValue(cl.Type, x.Lo)
		hi, ok2 := pruneValue(cl.Type, x.Hi)
		if ok1 && ok2 {
			add(ft, iceberg.NewAnd(predicate(">=", iceberg.Reference(cl.Name), lo), predicate("<=", iceberg.Reference(cl.Name), hi)))
		}
	case *ast.In:
		col, ok := x.X.(*ast.Name)
		if !ok || x.Not || x.Query != nil || len(x.List) == 0 {
			return
		}
		ft, cl, ok := sc.column(col)
		if !ok {
			return
		}
		var e iceberg.BooleanExpression
		for _, item := range x.List {
			v, ok := pruneValue(cl.Type, item)
			if !ok {
				return
			}
			p := predicate("=", iceberg.Reference(cl.Name), v)
			if e == nil {
				e = p
			} else {
				e = iceberg.NewOr(e, p)
			}
		}
		add(ft, e)
	}
}

func flip(op string) string {
	switch op {
	case "=":
		return "="
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return ""
}

// pruneValue converts a literal to the Go value of an Iceberg column type.
func pruneValue(typ string, x ast.Expr) (any, bool) {
	switch typ {
	case "int", "long":
		l, ok := x.(*ast.Literal)
		if !ok || l.Kind != ast.LitNumber {
			return nil, false
		}
		n, err := strconv.ParseInt(l.Value, 10, 64)
		if err != nil {
			return nil, false
		}
		if typ == "int" {
			if n < math.MinInt32 || n > math.MaxInt32 {
				return nil, false
			}
			return int32(n), true
		}
		return n, true
	case "string":
		l, ok := x.(*ast.Literal)
		if !ok || l.Kind != ast.LitString {
			return nil, false
		}
		return l.Value, true
	case "date":
		var d string
		switch l := x.(type) {
		case *ast.Literal:
			if l.Kind != ast.LitTyped || l.Type != "date" {
				return nil, false
			}
			d = strings.TrimSpace(l.Value)
		case *ast.Binary:
			var ok bool
			if d, ok = foldDate(l); !ok {
				return nil, false
			}
		default:
			return nil, false
		}
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			return nil, false
		}
		return iceberg.Date(t.Unix() / 86400), true
	case "timestamp":
		l, ok := x.(*ast.Literal)
		if !ok || l.Kind != ast.LitTyped || l.Type != "timestamp" || hasZone(l.Value) {
			return nil, false
		}
		t, err := parseTimestamp(l.Value, time.UTC)
		if err != nil {
			return nil, false
		}
		return iceberg.Timestamp(t.UnixMicro()), true
	}
	return nil, false
}

func predicate(op string, ref iceberg.UnboundTerm, v any) iceberg.BooleanExpression {
	switch v := v.(type) {
	case int32:
		return compare(op, ref, v)
	case int64:
		return compare(op, ref, v)
	case string:
		return compare(op, ref, v)
	case iceberg.Date:
		return compare(op, ref, v)
	case iceberg.Timestamp:
		return compare(op, ref, v)
	}
	return nil
}

func compare[T iceberg.LiteralType](op string, ref iceberg.UnboundTerm, v T) iceberg.BooleanExpression {
	switch op {
	case "=":
		return iceberg.EqualTo(ref, v)
	case "<":
		return iceberg.LessThan(ref, v)
	case "<=":
		return iceberg.LessThanEqual(ref, v)
	case ">":
		return iceberg.GreaterThan(ref, v)
	case ">=":
		return iceberg.GreaterThanEqual(ref, v)
	}
	return nil
}

// parseTimestamp reads a Trino timestamp literal; loc applies when the text
// names no zone.
func parseTimestamp(v string, loc *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	if hasZone(v) {
		i := strings.LastIndexAny(v, " +-")
		zone := strings.TrimSpace(v[i:])
		if v[i] == ' ' {
			z, err := time.LoadLocation(zone)
			if err != nil {
				return time.Time{}, fmt.Errorf("unknown time zone %q", zone)
			}
			loc, v = z, strings.TrimSpace(v[:i])
		} else {
			t, err := time.Parse("2006-01-02 15:04:05.999999999-07:00", v)
			return t, err
		}
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid timestamp %q", v)
}

func withPos(e *trino.Error, p ast.Pos) *trino.Error {
	if p.Line > 0 {
		return e.At(p.Line, p.Column)
	}
	return e
}

// scanTable plans a scan of a base table and returns a parenthesised
// DuckDB relation over its data files, with the table's columns.
func (c *compiler) scanTable(info *catalog.TableInfo, t *ast.Table, filter iceberg.BooleanExpression) (string, error) {
	l := c.lake
	p := t.Position()
	if err := l.confine(info.Location); err != nil {
		return "", withPos(err, p)
	}
	ic, err := l.cat.Iceberg(c.ctx, info.Ref.Catalog)
	if err != nil {
		return "", withPos(trino.Errorf(trino.CatalogNotFound, "Catalog '%s' cannot be opened: %v", info.Ref.Catalog, err), p)
	}
	tbl, err := ic.LoadTable(c.ctx, table.Identifier{info.Ref.Schema, info.Ref.Table})
	if err != nil {
		return "", withPos(trino.Errorf(trino.GenericInternalError, "cannot load table %s: %v", info.Ref, err), p)
	}
	if err := l.confine(tbl.Location()); err != nil {
		return "", withPos(err, p)
	}
	opts := []table.ScanOption{table.WithCaseSensitive(false)}
	if filter != nil {
		opts = append(opts, table.WithRowFilter(filter))
	}
	snap, err := c.snapshotOption(tbl, t, info.Ref)
	if err != nil {
		return "", err
	}
	if snap != nil {
		opts = append(opts, snap)
	}
	scan := tbl.Scan(opts...)
	defer scan.Close()
	schema, err := scan.Projection()
	if err != nil {
		return "", withPos(trino.Errorf(trino.GenericInternalError, "cannot plan the scan of %s: %v", info.Ref, err), p)
	}
	var tasks []table.FileScanTask
	if tbl.CurrentSnapshot() != nil || snap != nil {
		tasks, err = scan.PlanFiles(c.ctx)
		if err != nil {
			return "", withPos(trino.Errorf(trino.GenericInternalError, "cannot plan the scan of %s: %v", info.Ref, err), p)
		}
	}
	deletes := false
	for _, task := range tasks {
		files := []iceberg.DataFile{task.File}
		files = append(files, task.DeleteFiles...)
		files = append(files, task.EqualityDeleteFiles...)
		files = append(files, task.DeletionVectorFiles...)
		for _, f := range files {
			if err := l.confine(f.FilePath()); err != nil {
				return "", withPos(err, p)
			}
		}
		if len(files) > 1 {
			deletes = true
		}
	}
	cols := schema.Fields()
	if len(cols) == 0 {
		return "", withPos(trino.Errorf(trino.NotSupported, "table %s has no columns", info.Ref), p)
	}
	if len(tasks) == 0 {
		return emptyRelation(cols)
	}
	var paths []string
	if deletes || renamed(tbl, cols) {
		// Delete files are applied, and renamed columns found by field ID,
		// by iceberg-go's reader; DuckDB reads its rows from a local
		// Parquet file.
		f, err := c.materialise(scan, tasks, info.Ref)
		if err != nil {
			return "", withPos(trino.Errorf(trino.GenericInternalError, "cannot read %s: %v", info.Ref, err), p)
		}
		paths = []string{f}
	} else {
		paths, err = c.localFiles(tbl, tasks)
		if err != nil {
			return "", withPos(trino.Errorf(trino.GenericInternalError, "cannot read the data files of %s: %v", info.Ref, err), p)
		}
	}
	// read_parquet matches columns by name, not by Iceberg field ID: right
	// for columns added or dropped; tables with a renamed column took the
	// Arrow path above.
	var b strings.Builder
	b.WriteString("(SELECT ")
	for i, f := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(f.Name))
		if n := strings.ToLower(f.Name); n != f.Name {
			b.WriteString(" AS " + quote(n))
		}
	}
	b.WriteString(" FROM read_parquet([")
	for i, f := range paths {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(literal(f))
	}
	b.WriteString("], union_by_name = true))")
	return b.String(), nil
}

// renamed reports whether a column of cols had another name in any of the
// table's schemas, so that older files hold it under that name.
func renamed(tbl *table.Table, cols []iceberg.NestedField) bool {
	for _, sc := range tbl.Metadata().Schemas() {
		for _, c := range cols {
			if f, ok := sc.FindFieldByID(c.ID); ok && f.Name != c.Name {
				return true
			}
		}
	}
	return false
}

// emptyRelation has the table's columns and no rows.
func emptyRelation(cols []iceberg.NestedField) (string, error) {
	var b strings.Builder
	b.WriteString("(SELECT ")
	for i, f := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		typ, err := duckType(f.Type)
		if err != nil {
			return "", trino.Errorf(trino.NotSupported, "column %s: %v", f.Name, err)
		}
		b.WriteString("CAST(NULL AS " + typ + ") AS " + quote(strings.ToLower(f.Name)))
	}
	b.WriteString(" WHERE false)")
	return b.String(), nil
}

// duckType is the DuckDB type DuckDB reads an Iceberg type's Parquet as.
func duckType(t iceberg.Type) (string, error) {
	switch t := t.(type) {
	case iceberg.BooleanType:
		return "BOOLEAN", nil
	case iceberg.Int32Type:
		return "INTEGER", nil
	case iceberg.Int64Type:
		return "BIGINT", nil
	case iceberg.Float32Type:
		return "FLOAT", nil
	case iceberg.Float64Type:
		return "DOUBLE", nil
	case iceberg.DecimalType:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision(), t.Scale()), nil
	case iceberg.DateType:
		return "DATE", nil
	case iceberg.TimeType:
		return "TIME", nil
	case iceberg.TimestampType:
		return "TIMESTAMP", nil
	case iceberg.TimestampTzType:
		return "TIMESTAMPTZ", nil
	case iceberg.StringType:
		return "VARCHAR", nil
	case iceberg.UUIDType:
		return "UUID", nil
	case iceberg.BinaryType, iceberg.FixedType:
		return "BLOB", nil
	case *iceberg.ListType:
		e, err := duckType(t.Element)
		return e + "[]", err
	case *iceberg.MapType:
		k, err := duckType(t.KeyType)
		if err != nil {
			return "", err
		}
		v, err := duckType(t.ValueType)
		return "MAP(" + k + ", " + v + ")", err
	case *iceberg.StructType:
		var parts []string
		for _, f := range t.FieldList {
			ft, err := duckType(f.Type)
			if err != nil {
				return "", err
			}
			parts = append(parts, quote(f.Name)+" "+ft)
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")", nil
	}
	return "", fmt.Errorf("iceberg type %s is not supported", t)
}

// snapshotOption picks the snapshot of FOR VERSION AS OF and FOR TIMESTAMP
// AS OF.
func (c *compiler) snapshotOption(tbl *table.Table, t *ast.Table, ref catalog.TableRef) (table.ScanOption, error) {
	p := t.Position()
	switch t.Period {
	case "":
		return nil, nil
	case "VERSION":
		l, ok := t.AsOf.(*ast.Literal)
		if !ok || l.Kind != ast.LitNumber {
			return nil, withPos(trino.Errorf(trino.NotSupported, "FOR VERSION AS OF needs a snapshot ID (branch and tag names are not supported by the local engine)"), p)
		}
		id, err := strconv.ParseInt(l.Value, 10, 64)
		if err != nil || tbl.SnapshotByID(id) == nil {
			return nil, withPos(trino.Errorf(trino.GenericUserError, "Iceberg snapshot ID does not exist: %s (table %s)", l.Value, ref), p)
		}
		return table.WithSnapshotID(id), nil
	case "TIMESTAMP":
		l, ok := t.AsOf.(*ast.Literal)
		if !ok || l.Kind != ast.LitTyped || l.Type != "timestamp" {
			return nil, withPos(trino.Errorf(trino.NotSupported, "FOR TIMESTAMP AS OF needs a TIMESTAMP literal in the local engine"), p)
		}
		loc := time.UTC
		if c.sess.TimeZone != "" {
			z, err := time.LoadLocation(c.sess.TimeZone)
			if err != nil {
				return nil, withPos(trino.Errorf(trino.InvalidSessionProp, "unknown session time zone %q", c.sess.TimeZone), p)
			}
			loc = z
		}
		ts, err := parseTimestamp(l.Value, loc)
		if err != nil {
			return nil, withPos(trino.Errorf(trino.InvalidFunctionArg, "%v", err), p)
		}
		snap := tbl.SnapshotAsOf(ts.UnixMilli(), true)
		if snap == nil {
			return nil, withPos(trino.Errorf(trino.GenericUserError, "No version history table %s at or before %s", ref, ts.UTC().Format(time.RFC3339Nano)), p)
		}
		return table.WithSnapshotID(snap.SnapshotID), nil
	}
	return nil, withPos(trino.Errorf(trino.NotSupported, "FOR %s AS OF", t.Period), p)
}

// localFiles returns local paths of the tasks' data files: file:// paths
// as they are, S3 objects through the file cache.
func (c *compiler) localFiles(tbl *table.Table, tasks []table.FileScanTask) ([]string, error) {
	paths := make([]string, len(tasks))
	var fs icebergio.IO
	var g errgroup.Group
	g.SetLimit(c.lake.cfg.FetchConcurrency)
	unpins := make([]func(), len(tasks))
	for i, task := range tasks {
		fp := task.File.FilePath()
		if lp, ok := localPath(fp); ok {
			paths[i] = lp
			continue
		}
		if fs == nil {
			var err error
			if fs, err = tbl.FS(c.ctx); err != nil {
				return nil, err
			}
		}
		size := task.File.FileSizeBytes()
		g.Go(func() error {
			lp, unpin, err := c.lake.cache.get(c.ctx, fs, fp, size)
			if err != nil {
				return err
			}
			paths[i], unpins[i] = lp, unpin
			return nil
		})
	}
	err := g.Wait()
	for _, u := range unpins {
		if u != nil {
			c.release = append(c.release, u)
		}
	}
	return paths, err
}

// localPath is the local file a file:// (or bare) path names.
func localPath(p string) (string, bool) {
	switch {
	case strings.HasPrefix(p, "file://"):
		return path.Clean(strings.TrimPrefix(p, "file://")), true
	case strings.HasPrefix(p, "file:/"):
		return path.Clean(strings.TrimPrefix(p, "file:")), true
	case strings.HasPrefix(p, "/"):
		return path.Clean(p), true
	}
	return "", false
}

// materialise reads the tasks through iceberg-go, which applies delete
// files, into a temporary Parquet file removed on Release.
func (c *compiler) materialise(scan *table.Scan, tasks []table.FileScanTask, ref catalog.TableRef) (string, error) {
	sc, recs, err := scan.ReadTasks(c.ctx, tasks)
	if err != nil {
		return "", err
	}
	dir := c.lake.tmpDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "materialised-*.parquet")
	if err != nil {
		return "", err
	}
	name := f.Name()
	c.release = append(c.release, func() { os.Remove(name) })
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy))
	w, err := pqarrow.NewFileWriter(sc, f, props, pqarrow.DefaultWriterProps())
	if err != nil {
		f.Close()
		return "", err
	}
	var rows int64
	for rec, err := range recs {
		if err != nil {
			w.Close()
			return "", err
		}
		rows += rec.NumRows()
		if rows > c.lake.cfg.MaxMaterialisedRows {
			rec.Release()
			w.Close()
			return "", fmt.Errorf("more than %d rows to materialise for %s (it has delete files): compact the table", c.lake.cfg.MaxMaterialisedRows, ref)
		}
		err = w.WriteBuffered(rec)
		rec.Release()
		if err != nil {
			w.Close()
			return "", err
		}
	}
	if err := w.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return "", err
	}
	return name, nil
}
