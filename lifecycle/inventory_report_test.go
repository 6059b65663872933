package lifecycle

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/internal/s3test"
)

var invTime = time.Date(2024, 3, 5, 10, 20, 30, 0, time.UTC)

// inventoryRows is what the generated reports list: partition keys with a
// space and a plus sign (URL-encoded in CSV), every class, and a delete
// marker (marked with class "" and size -1 here) that the reader skips.
func inventoryRows() []Object {
	var out []Object
	classes := []StorageClass{Standard, StandardIA, GlacierIR, Glacier, DeepArchive, IntelligentTiering}
	for i := range 30 {
		out = append(out, Object{Bucket: "lake", Key: fmt.Sprintf("w/t/data/d=2024-01-%02d/part %d+x.parquet", i%3+1, i),
			Size: int64(1000 * (i + 1)), LastModified: invTime.Add(time.Duration(i) * time.Hour), Class: classes[i%len(classes)],
			ETag: fmt.Sprintf("%032x", i)})
	}
	return out
}

func csvReport(rows []Object, deleteMarker bool) []byte {
	var raw bytes.Buffer
	for _, o := range rows {
		// AWS quotes every field and URL-encodes the key.
		fmt.Fprintf(&raw, "%q,%q,%q,%q,%q,%q,%q\n", o.Bucket, url.QueryEscape(o.Key), fmt.Sprint(o.Size),
			o.LastModified.Format("2006-01-02T15:04:05.000Z"), o.ETag, string(o.Class), "false")
	}
	if deleteMarker {
		fmt.Fprintf(&raw, "%q,%q,%q,%q,%q,%q,%q\n", "lake", "w/t/data/gone.parquet", "", "2024-01-01T00:00:00.000Z", "", "", "true")
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw.Bytes())
	zw.Close()
	return gz.Bytes()
}

func parquetReport(t *testing.T, rows []Object) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "bucket", Type: arrow.BinaryTypes.String},
		{Name: "key", Type: arrow.BinaryTypes.String},
		{Name: "size", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "last_modified_date", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
		{Name: "e_tag", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "storage_class", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "is_delete_marker", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, o := range rows {
		b.Field(0).(*array.StringBuilder).Append(o.Bucket)
		b.Field(1).(*array.StringBuilder).Append(o.Key)
		b.Field(2).(*array.Int64Builder).Append(o.Size)
		b.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(o.LastModified.UnixMilli()))
		b.Field(4).(*array.StringBuilder).Append(o.ETag)
		b.Field(5).(*array.StringBuilder).Append(string(o.Class))
		b.Field(6).(*array.BooleanBuilder).Append(false)
	}
	// A delete marker: no size, no class.
	b.Field(0).(*array.StringBuilder).Append("lake")
	b.Field(1).(*array.StringBuilder).Append("w/t/data/gone.parquet")
	b.Field(2).(*array.Int64Builder).AppendNull()
	b.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(invTime.UnixMilli()))
	b.Field(4).(*array.StringBuilder).AppendNull()
	b.Field(5).(*array.StringBuilder).AppendNull()
	b.Field(6).(*array.BooleanBuilder).Append(true)
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	// Small row groups so the reader crosses several.
	w, err := pqarrow.NewFileWriter(schema, &buf, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(7)), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func put(t *testing.T, c *s3.Client, key string, body []byte) InventoryDataFile {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("inventory"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(body)
	return InventoryDataFile{Key: key, Size: int64(len(body)), MD5Checksum: hex.EncodeToString(sum[:])}
}

func putManifest(t *testing.T, c *s3.Client, key, format, schema string, files ...InventoryDataFile) {
	t.Helper()
	m := InventoryManifest{SourceBucket: "lake", DestinationBucket: "arn:aws:s3:::inventory", Version: "2016-11-30",
		CreationTimestamp: "1709634000000", FileFormat: format, FileSchema: schema, Files: files}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	put(t, c, key, b)
}

func TestReadInventory(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, "inventory")
	c := srv.Client(t)
	st := NewS3Store(c)
	rows := inventoryRows()
	const csvSchema = "Bucket, Key, Size, LastModifiedDate, ETag, StorageClass, IsDeleteMarker"

	// CSV in two gzip files; Parquet in one file with several row groups.
	f1 := put(t, c, "lake/inv/data/a.csv.gz", csvReport(rows[:12], true))
	f2 := put(t, c, "lake/inv/data/b.csv.gz", csvReport(rows[12:], false))
	putManifest(t, c, "lake/inv/2024-03-05T00-00Z/manifest.json", "CSV", csvSchema, f1, f2)
	pq := put(t, c, "lake/invpq/data/a.parquet", parquetReport(t, rows))
	putManifest(t, c, "lake/invpq/2024-03-05T00-00Z/manifest.json", "Parquet",
		"message s3.inventory { required binary bucket (STRING); required binary key (STRING); optional int64 size; optional int64 last_modified_date (TIMESTAMP(MILLIS,true)); optional binary e_tag (STRING); optional binary storage_class (STRING); optional boolean is_delete_marker; }", pq)

	for _, manifest := range []string{"lake/inv/2024-03-05T00-00Z/manifest.json", "lake/invpq/2024-03-05T00-00Z/manifest.json"} {
		t.Run(manifest, func(t *testing.T) {
			var got []Object
			stats, err := ReadInventory(context.Background(), st, "inventory", manifest, func(o Object) error {
				got = append(got, o)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(rows, got); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if stats.DeleteMarkers != 1 || stats.Objects != int64(len(rows)) {
				t.Errorf("stats %+v, want %d objects and 1 delete marker", stats, len(rows))
			}
		})
	}

	t.Run("aggregates per partition", func(t *testing.T) {
		a := NewAggregator(invTime.Add(400*day), map[string]string{"lake": "eu"}, nil)
		if _, err := ReadInventory(context.Background(), st, "inventory", "lake/inv/2024-03-05T00-00Z/manifest.json", a.Add); err != nil {
			t.Fatal(err)
		}
		var objects int64
		parts := map[string]bool{}
		for _, g := range a.Groups() {
			objects += g.Objects
			parts[g.Partition] = true
			if g.Table != "w/t" || g.Region != "eu" {
				t.Errorf("group %+v", g)
			}
		}
		if objects != 30 || len(parts) != 3 {
			t.Errorf("%d objects in partitions %v, want 30 in 3", objects, parts)
		}
	})

	t.Run("corrupt data file", func(t *testing.T) {
		bad := f1
		bad.MD5Checksum = strings.Repeat("0", 32)
		putManifest(t, c, "lake/bad/manifest.json", "CSV", csvSchema, bad)
		_, err := ReadInventory(context.Background(), st, "inventory", "lake/bad/manifest.json", func(Object) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "MD5") {
			t.Errorf("error %v, want an MD5 mismatch", err)
		}
	})

	t.Run("schema without size", func(t *testing.T) {
		putManifest(t, c, "lake/nosize/manifest.json", "CSV", "Bucket, Key, LastModifiedDate, StorageClass", f1)
		_, err := ReadInventory(context.Background(), st, "inventory", "lake/nosize/manifest.json", func(Object) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "lacks Size") {
			t.Errorf("error %v, want the missing Size named", err)
		}
	})

	t.Run("ORC refused", func(t *testing.T) {
		putManifest(t, c, "lake/orc/manifest.json", "ORC", "", f1)
		_, err := ReadInventory(context.Background(), st, "inventory", "lake/orc/manifest.json", func(Object) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "ORC") {
			t.Errorf("error %v, want ORC refused", err)
		}
	})
}
