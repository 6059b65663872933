package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// warehouse is where the demo's table files go: a local directory per region
// (Dir/warehouse/<region>) or an S3 bucket per region (lake-<region>).
type warehouse struct {
	dir string     // local: Dir/warehouse
	s3  *s3.Client // nil: local
}

// bucketOf is the S3 bucket of a region's warehouse.
func bucketOf(region string) string { return "lake-" + region }

func newWarehouse(ctx context.Context, cfg Config) (*warehouse, error) {
	if cfg.S3 == nil {
		dir, err := filepath.Abs(filepath.Join(cfg.Dir, "warehouse"))
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		return &warehouse{dir: dir}, nil
	}
	c, err := cfg.S3.Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: s3 client: %w", err)
	}
	return &warehouse{s3: c}, nil
}

// location is where table ns.name of region goes.
func (w *warehouse) location(region, ns, name string) string {
	if w.s3 != nil {
		return "s3://" + bucketOf(region) + "/" + ns + "/" + name
	}
	return "file://" + filepath.Join(w.dir, region, ns, name)
}

// split parses an s3:// location into bucket and key prefix (with a
// trailing slash), or a file:// location into a path.
func split(location string) (bucket, prefix, path string) {
	if rest, ok := strings.CutPrefix(location, "s3://"); ok {
		bucket, key, _ := strings.Cut(rest, "/")
		return bucket, key + "/", ""
	}
	return "", "", strings.TrimPrefix(location, "file://")
}

// prepare creates the regions' directories or buckets.
func (w *warehouse) prepare(ctx context.Context, regions []string) error {
	for _, r := range regions {
		if w.s3 == nil {
			if err := os.MkdirAll(filepath.Join(w.dir, r), 0o755); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			continue
		}
		b := bucketOf(r)
		_, err := w.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)})
		if err == nil {
			continue
		}
		if !isNotFound(err) {
			return fmt.Errorf("demo: bucket %s: %w", b, err)
		}
		_, err = w.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		var owned *types.BucketAlreadyOwnedByYou
		if err != nil && !errors.As(err, &owned) {
			return fmt.Errorf("demo: create bucket %s: %w", b, err)
		}
	}
	return nil
}

// used reports whether location already holds files.
func (w *warehouse) used(ctx context.Context, location string) (bool, error) {
	bucket, prefix, path := split(location)
	if w.s3 == nil {
		entries, err := os.ReadDir(path)
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return len(entries) > 0, err
	}
	out, err := w.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(1)})
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return len(out.Contents) > 0, nil
}

// purge deletes every file under location.
func (w *warehouse) purge(ctx context.Context, location string) error {
	bucket, prefix, path := split(location)
	if w.s3 == nil {
		return os.RemoveAll(path)
	}
	p := s3.NewListObjectsV2Paginator(w.s3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
		}
		out, err := w.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(bucket), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return err
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("delete s3://%s/%s: %s: %s (and %d more)", bucket, aws.ToString(e.Key),
				aws.ToString(e.Code), aws.ToString(e.Message), len(out.Errors)-1)
		}
	}
	return nil
}

// isNotFound reports a missing bucket.
func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var nb *types.NoSuchBucket
	var nf *types.NotFound
	var ae smithy.APIError
	return errors.As(err, &nb) || errors.As(err, &nf) ||
		errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchBucket" || ae.ErrorCode() == "NotFound")
}
