package lifecycle

import (
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// InventoryManifest is an S3 Inventory report's manifest.json.
type InventoryManifest struct {
	SourceBucket      string `json:"sourceBucket"`
	DestinationBucket string `json:"destinationBucket"` // arn:aws:s3:::name
	Version           string `json:"version"`
	CreationTimestamp string `json:"creationTimestamp"` // Unix milliseconds
	FileFormat        string `json:"fileFormat"`        // CSV, ORC or Parquet
	// FileSchema lists the CSV columns ("Bucket, Key, Size, ...") or, for
	// Parquet, the message type.
	FileSchema string              `json:"fileSchema"`
	Files      []InventoryDataFile `json:"files"`
}

// InventoryDataFile is one data file of a report.
type InventoryDataFile struct {
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	MD5Checksum string `json:"MD5checksum"`
}

// Limits on what an inventory report may ask of the reader.
const (
	maxManifestBytes  = 64 << 20
	maxInventoryFiles = 100_000
	// maxParquetFile bounds one Parquet data file, which is spooled to a
	// temporary file because Parquet is read from its footer.
	maxParquetFile = 16 << 30
	maxCSVLine     = 64 << 10
)

// InventoryStats counts what a report held.
type InventoryStats struct {
	Files   int
	Objects int64
	// DeleteMarkers counts rows skipped because they are delete markers.
	DeleteMarkers int64
}

// ReadInventory streams the objects of the S3 Inventory report whose
// manifest.json is at bucket/manifestKey to fn, one data file at a time
// (CSV, gzip-compressed, or Parquet), verifying each file's size and MD5
// against the manifest. Only the fields lifecycle needs are read: Bucket,
// Key (URL-decoded in CSV, as AWS encodes it there), Size,
// LastModifiedDate, StorageClass and ETag. Delete markers are skipped.
// fn is called from the calling goroutine.
func ReadInventory(ctx context.Context, st ObjectStore, bucket, manifestKey string, fn func(Object) error) (InventoryStats, error) {
	var stats InventoryStats
	m, err := readManifest(ctx, st, bucket, manifestKey)
	if err != nil {
		return stats, err
	}
	for _, f := range m.Files {
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		var n, dm int64
		switch strings.ToUpper(m.FileFormat) {
		case "CSV":
			n, dm, err = readInventoryCSV(ctx, st, bucket, f, m.FileSchema, fn)
		case "PARQUET":
			n, dm, err = readInventoryParquet(ctx, st, bucket, f, fn)
		}
		stats.Objects += n
		stats.DeleteMarkers += dm
		if err != nil {
			return stats, fmt.Errorf("inventory s3://%s/%s: %w", bucket, f.Key, err)
		}
		stats.Files++
	}
	return stats, nil
}

func readManifest(ctx context.Context, st ObjectStore, bucket, key string) (InventoryManifest, error) {
	var m InventoryManifest
	rc, err := st.Get(ctx, bucket, key)
	if err != nil {
		return m, fmt.Errorf("inventory manifest: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxManifestBytes+1))
	if err != nil {
		return m, fmt.Errorf("inventory manifest s3://%s/%s: %w", bucket, key, err)
	}
	if len(data) > maxManifestBytes {
		return m, fmt.Errorf("inventory manifest s3://%s/%s: larger than %d bytes", bucket, key, maxManifestBytes)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("inventory manifest s3://%s/%s: %w", bucket, key, err)
	}
	switch f := strings.ToUpper(m.FileFormat); {
	case f == "ORC":
		return m, fmt.Errorf("inventory manifest s3://%s/%s: ORC reports are not read: configure the inventory as CSV or Parquet", bucket, key)
	case f != "CSV" && f != "PARQUET":
		return m, fmt.Errorf("inventory manifest s3://%s/%s: unknown fileFormat %q", bucket, key, m.FileFormat)
	}
	if dest := strings.TrimPrefix(m.DestinationBucket, "arn:aws:s3:::"); dest != "" && dest != bucket {
		return m, fmt.Errorf("inventory manifest s3://%s/%s: its destination bucket is %q: read it from there", bucket, key, dest)
	}
	if len(m.Files) > maxInventoryFiles {
		return m, fmt.Errorf("inventory manifest s3://%s/%s: %d files, limit %d", bucket, key, len(m.Files), maxInventoryFiles)
	}
	for _, f := range m.Files {
		if f.Key == "" || f.Size < 0 || len(f.MD5Checksum) != 32 {
			return m, fmt.Errorf("inventory manifest s3://%s/%s: file entry %+v needs a key, a size and an MD5 checksum", bucket, key, f)
		}
	}
	return m, nil
}

// checkedReader counts and hashes what passes through it and, at EOF,
// fails if either disagrees with the manifest.
type checkedReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	want InventoryDataFile
}

func newCheckedReader(r io.Reader, f InventoryDataFile) *checkedReader {
	return &checkedReader{r: r, h: md5.New(), want: f}
}

func (c *checkedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	if c.n > c.want.Size {
		return n, fmt.Errorf("data file is larger than the manifest's %d bytes", c.want.Size)
	}
	if errors.Is(err, io.EOF) {
		if c.n != c.want.Size {
			return n, fmt.Errorf("data file has %d bytes, the manifest says %d", c.n, c.want.Size)
		}
		if got := hex.EncodeToString(c.h.Sum(nil)); !strings.EqualFold(got, c.want.MD5Checksum) {
			return n, fmt.Errorf("data file MD5 %s, the manifest says %s: the report is corrupt or was rewritten", got, c.want.MD5Checksum)
		}
	}
	return n, err
}

// inventoryColumns are the fields read, as the CSV fileSchema names them.
var inventoryColumns = []string{"Bucket", "Key", "Size", "LastModifiedDate", "StorageClass", "ETag", "IsDeleteMarker"}

func readInventoryCSV(ctx context.Context, st ObjectStore, bucket string, f InventoryDataFile, schema string, fn func(Object) error) (n, deleteMarkers int64, err error) {
	idx := map[string]int{}
	names := strings.Split(schema, ",")
	for i, name := range names {
		idx[strings.TrimSpace(name)] = i
	}
	for _, c := range inventoryColumns[:5] {
		if _, ok := idx[c]; !ok {
			return 0, 0, fmt.Errorf("fileSchema %q lacks %s: enable the Size, LastModifiedDate and StorageClass fields in the inventory configuration", schema, c)
		}
	}
	rc, err := st.Get(ctx, bucket, f.Key)
	if err != nil {
		return 0, 0, err
	}
	defer rc.Close()
	checked := newCheckedReader(rc, f)
	zr, err := gzip.NewReader(checked)
	if err != nil {
		return 0, 0, fmt.Errorf("gzip: %w", err)
	}
	r := csv.NewReader(&lineLimit{r: zr, max: maxCSVLine})
	r.FieldsPerRecord = len(names)
	r.ReuseRecord = true
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, deleteMarkers, err
		}
		if i, ok := idx["IsDeleteMarker"]; ok && rec[i] == "true" {
			deleteMarkers++
			continue
		}
		o, err := csvObject(rec, idx)
		if err != nil {
			return n, deleteMarkers, fmt.Errorf("line %d: %w", line, err)
		}
		if err := fn(o); err != nil {
			return n, deleteMarkers, err
		}
		n++
	}
	// Drain to the end of the compressed stream so the size and MD5 are
	// checked even if gzip stopped short of trailing bytes.
	if _, err := io.Copy(io.Discard, checked); err != nil {
		return n, deleteMarkers, err
	}
	return n, deleteMarkers, nil
}

func csvObject(rec []string, idx map[string]int) (Object, error) {
	key, err := url.QueryUnescape(rec[idx["Key"]])
	if err != nil {
		return Object{}, fmt.Errorf("key %q: %w", rec[idx["Key"]], err)
	}
	size, err := strconv.ParseInt(rec[idx["Size"]], 10, 64)
	if err != nil || size < 0 {
		return Object{}, fmt.Errorf("size %q of %s: want a non-negative integer", rec[idx["Size"]], key)
	}
	mod, err := time.Parse(time.RFC3339Nano, rec[idx["LastModifiedDate"]])
	if err != nil {
		return Object{}, fmt.Errorf("last modified date of %s: %w", key, err)
	}
	class, err := ParseStorageClass(rec[idx["StorageClass"]])
	if err != nil {
		return Object{}, fmt.Errorf("%s: %w", key, err)
	}
	o := Object{Bucket: rec[idx["Bucket"]], Key: key, Size: size, LastModified: mod.UTC(), Class: class}
	if i, ok := idx["ETag"]; ok {
		o.ETag = rec[i]
	}
	return o, nil
}

// readInventoryParquet spools the file to a temporary file (Parquet is
// read from its footer), verifying size and MD5 on the way, then streams
// its rows in batches.
func readInventoryParquet(ctx context.Context, st ObjectStore, bucket string, f InventoryDataFile, fn func(Object) error) (n, deleteMarkers int64, err error) {
	if f.Size > maxParquetFile {
		return 0, 0, fmt.Errorf("parquet data file of %d bytes, limit %d", f.Size, maxParquetFile)
	}
	rc, err := st.Get(ctx, bucket, f.Key)
	if err != nil {
		return 0, 0, err
	}
	tmp, err := os.CreateTemp("", "meridian-inventory-*.parquet")
	if err != nil {
		rc.Close()
		return 0, 0, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	_, err = io.Copy(tmp, newCheckedReader(rc, f))
	rc.Close()
	if err != nil {
		return 0, 0, err
	}
	pf, err := file.NewParquetReader(tmp)
	if err != nil {
		return 0, 0, fmt.Errorf("parquet: %w", err)
	}
	defer pf.Close()
	schema := pf.MetaData().Schema
	want := []string{"bucket", "key", "size", "last_modified_date", "storage_class", "e_tag", "is_delete_marker"}
	cols := make([]int, 0, len(want))
	pos := map[string]int{}
	for i, name := range want {
		c := schema.ColumnIndexByName(name)
		if c < 0 {
			if i < 5 {
				return 0, 0, fmt.Errorf("parquet schema lacks %s: enable the Size, LastModifiedDate and StorageClass fields in the inventory configuration", name)
			}
			continue
		}
		pos[name] = len(cols)
		cols = append(cols, c)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 8192}, memory.DefaultAllocator)
	if err != nil {
		return 0, 0, fmt.Errorf("parquet: %w", err)
	}
	rr, err := fr.GetRecordReader(ctx, cols, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("parquet: %w", err)
	}
	defer rr.Release()
	for rr.Next() {
		rec := rr.RecordBatch()
		col := func(name string) arrow.Array {
			if p, ok := pos[name]; ok {
				return rec.Column(p)
			}
			return nil
		}
		for row := range int(rec.NumRows()) {
			if dm, ok := col("is_delete_marker").(*array.Boolean); ok && dm.IsValid(row) && dm.Value(row) {
				deleteMarkers++
				continue
			}
			o, err := parquetObject(col, row)
			if err != nil {
				return n, deleteMarkers, fmt.Errorf("row %d: %w", n+deleteMarkers+1, err)
			}
			if err := fn(o); err != nil {
				return n, deleteMarkers, err
			}
			n++
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return n, deleteMarkers, fmt.Errorf("parquet: %w", err)
	}
	return n, deleteMarkers, nil
}

func parquetObject(col func(string) arrow.Array, row int) (Object, error) {
	str := func(name string) (string, error) {
		switch a := col(name).(type) {
		case nil:
			return "", nil
		case *array.String:
			return a.Value(row), nil
		case *array.LargeString:
			return a.Value(row), nil
		case *array.Binary:
			return string(a.Value(row)), nil
		default:
			return "", fmt.Errorf("column %s has type %s, want a string", name, a.DataType())
		}
	}
	var o Object
	var err error
	if o.Bucket, err = str("bucket"); err != nil {
		return o, err
	}
	if o.Key, err = str("key"); err != nil {
		return o, err
	}
	if o.ETag, err = str("e_tag"); err != nil {
		return o, err
	}
	cls, err := str("storage_class")
	if err != nil {
		return o, err
	}
	if o.Class, err = ParseStorageClass(cls); err != nil {
		return o, fmt.Errorf("%s: %w", o.Key, err)
	}
	switch a := col("size").(type) {
	case *array.Int64:
		if a.IsNull(row) || a.Value(row) < 0 {
			return o, fmt.Errorf("%s: size missing or negative", o.Key)
		}
		o.Size = a.Value(row)
	default:
		return o, fmt.Errorf("column size has type %s, want int64", col("size").DataType())
	}
	switch a := col("last_modified_date").(type) {
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		o.LastModified = a.Value(row).ToTime(unit).UTC()
	case *array.Int64: // TIMESTAMP_MILLIS read without its logical type
		o.LastModified = time.UnixMilli(a.Value(row)).UTC()
	default:
		return o, fmt.Errorf("column last_modified_date has type %s, want a timestamp", col("last_modified_date").DataType())
	}
	return o, nil
}

// lineLimit fails a read once a line runs past max bytes, so a corrupt or
// hostile report cannot make the CSV reader buffer without bound.
type lineLimit struct {
	r    io.Reader
	max  int
	line int
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.line = 0
		} else if l.line++; l.line > l.max {
			return n, fmt.Errorf("a line is longer than %d bytes", l.max)
		}
	}
	return n, err
}
