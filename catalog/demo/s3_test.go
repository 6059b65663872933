package demo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/catalog/demo"
	"github.com/meridian-lake/meridian/internal/s3test"
)

// parquetKeys lists the Parquet objects under bucket/prefix.
func parquetKeys(t *testing.T, c *s3.Client, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("ListObjectsV2(%s/%s): %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			if k := aws.ToString(o.Key); strings.HasSuffix(k, ".parquet") {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// TestInitS3 builds the lake in the buckets lake-<region> of a real S3
// server (versitygw): one bucket exists beforehand, Init creates the others.
// Each region's data lands in its own bucket, Resolve takes the region from
// the property and the location maps to the same region, and Reset deletes
// the old objects.
func TestInitS3(t *testing.T) {
	srv := s3test.Start(t, "lake-eu")
	client := srv.Client(t)
	dir := t.TempDir()
	s3cfg := catalog.S3Config{Endpoint: srv.Endpoint, Region: srv.Region, PathStyle: true,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
	cat, closeAll, err := openCatalog(dir, s3cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeAll)
	ctx := context.Background()
	cfg := demo.Config{Dir: dir, S3: &s3cfg, BookingsPerRegion: 1_000, GuestsPerRegion: 100, TPCHScale: testScale}
	sum, err := demo.Init(ctx, cfg, cat)
	if err != nil {
		t.Fatalf("Init: %v", err)
	}

	for _, r := range demo.Regions() {
		name := "iceberg." + r + ".bookings"
		info, err := cat.Resolve(ctx, ref(name))
		if err != nil {
			t.Fatalf("Resolve(%s): %v", name, err)
		}
		if info.Region != r || info.RegionSource != catalog.RegionFromProperty {
			t.Errorf("%s: region %s from %s, want %s from property", name, info.Region, info.RegionSource, r)
		}
		if want := "s3://lake-" + r + "/" + r + "/bookings"; info.Location != want {
			t.Errorf("%s: location %s, want %s", name, info.Location, want)
		}
		if loc, ok := cat.RegionOf(info.Location); !ok || loc != r {
			t.Errorf("%s: the location maps to region %q, want %s", name, loc, r)
		}
		keys := parquetKeys(t, client, "lake-"+r, r+"/bookings/data/")
		if int64(len(keys)) != info.Snapshot.Files || len(keys) < 731 {
			t.Errorf("%s: %d parquet objects in lake-%s, the table has %d files (want at least one per day: 1,000 bookings fall on every day)", name, len(keys), r, info.Snapshot.Files)
		}
	}
	if keys := parquetKeys(t, client, "lake-us", "tpch/lineitem/data/"); len(keys) == 0 {
		t.Errorf("no parquet objects for tpch.lineitem in lake-us")
	}
	if keys := parquetKeys(t, client, "lake-eu", "tpch/"); len(keys) != 0 {
		t.Errorf("tpch objects in lake-eu: %v", keys)
	}
	for _, ts := range sum.Tables {
		if !strings.HasPrefix(ts.Location, "s3://lake-"+ts.Region+"/") {
			t.Errorf("%s is stored at %s, outside its region's bucket", ts.Name, ts.Location)
		}
	}

	// A second run replaces the lake: the old objects are deleted.
	cfg.Reset = true
	if _, err := demo.Init(ctx, cfg, cat); err != nil {
		t.Fatalf("Init with Reset: %v", err)
	}
	info, err := cat.Resolve(ctx, ref("iceberg.eu.bookings"))
	if err != nil {
		t.Fatal(err)
	}
	if keys := parquetKeys(t, client, "lake-eu", "eu/bookings/data/"); int64(len(keys)) != info.Snapshot.Files {
		t.Errorf("after Reset: %d parquet objects under lake-eu/eu/bookings/data/, the table has %d files", len(keys), info.Snapshot.Files)
	}
}
