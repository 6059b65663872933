package catalog_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/s3test"
)

// TestResolveOnS3 stores tables in buckets of a real S3 server (versitygw)
// and resolves them: region from the bucket mapping and from the property,
// and statistics that match the objects in the bucket.
func TestResolveOnS3(t *testing.T) {
	srv := s3test.Start(t, "lake-eu", "lake-us")
	l := newLakeWith(t, time.Minute, func(dir string, cfg *catalog.Config) {
		ic := cfg.Catalogs["iceberg"]
		ic.S3 = catalog.S3Config{Endpoint: srv.Endpoint, Region: srv.Region, PathStyle: true,
			AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
		cfg.Catalogs["iceberg"] = ic
		cfg.Regions = []catalog.Region{
			{Name: "eu", Locations: []string{"s3://lake-eu"}},
			{Name: "us", Locations: []string{"s3://lake-us"}},
		}
	})
	ctx := context.Background()
	l.createGuests(t, "eu", "guests", "s3://lake-eu/eu/guests", iceberg.Properties{catalog.PropClassification: "personal"},
		[]string{"2024-01-02", "2024-01-03", "2024-05-06"})
	// Data in a US bucket whose residency says EU: the property wins.
	l.createGuests(t, "us", "eu_copy", "s3://lake-us/us/eu_copy", iceberg.Properties{catalog.PropResidency: "eu"}, []string{"2024-02-02"})

	info, err := l.cat.Resolve(ctx, ref("iceberg.eu.guests"))
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if info.Region != "eu" || info.RegionSource != catalog.RegionFromLocation {
		t.Errorf("region = %s from %s, want eu from location", info.Region, info.RegionSource)
	}
	if info.Snapshot == nil || info.Snapshot.Records != 3 || len(info.Partitions) != 2 {
		t.Fatalf("snapshot %+v, %d partitions; want 3 records in 2 partitions", info.Snapshot, len(info.Partitions))
	}

	// The objects in the bucket are the ones the catalog counts.
	client := srv.Client(t)
	var parquet, metadata int
	var parquetBytes int64
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String("lake-eu"), Prefix: aws.String("eu/guests/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			switch k := aws.ToString(o.Key); {
			case strings.HasPrefix(k, "eu/guests/data/") && strings.HasSuffix(k, ".parquet"):
				parquet++
				parquetBytes += aws.ToInt64(o.Size)
			case strings.HasPrefix(k, "eu/guests/metadata/"):
				metadata++
			}
		}
	}
	if int64(parquet) != info.Snapshot.Files || parquetBytes != info.Snapshot.Bytes {
		t.Errorf("bucket holds %d data files (%d bytes); the catalog says %d files (%d bytes)",
			parquet, parquetBytes, info.Snapshot.Files, info.Snapshot.Bytes)
	}
	if metadata == 0 {
		t.Errorf("no metadata objects under lake-eu/eu/guests/metadata/")
	}

	cp, err := l.cat.Resolve(ctx, ref("iceberg.us.eu_copy"))
	if err != nil {
		t.Fatal(err)
	}
	if cp.Region != "eu" || cp.RegionSource != catalog.RegionFromProperty {
		t.Errorf("eu_copy region = %s from %s, want eu from property", cp.Region, cp.RegionSource)
	}
}
