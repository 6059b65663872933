package s3test_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/meridian-lake/meridian/internal/s3test"
)

func put(t *testing.T, c *s3.Client, bucket, key string, body []byte) {
	t.Helper()
	_, err := c.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatalf("PutObject(%s/%s): %v", bucket, key, err)
	}
}

func get(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject(%s/%s): %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return b
}

func bucketNames(t *testing.T, c *s3.Client) []string {
	t.Helper()
	out, err := c.ListBuckets(t.Context(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	var names []string
	for _, b := range out.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	return names
}

// errorCode is the S3 error code of err, or "" if it has none.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestStartCreatesBucketsAndRoundTrips(t *testing.T) {
	t.Parallel()
	s := s3test.Start(t, "alpha", "beta")
	c := s.Client(t)

	if diff := cmp.Diff([]string{"alpha", "beta"}, bucketNames(t, c)); diff != "" {
		t.Errorf("ListBuckets names (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") {
		t.Errorf("Endpoint = %q, want http://127.0.0.1:PORT", s.Endpoint)
	}

	key := "warehouse/eu/guests/data/00000.parquet"
	want := randomBytes(1, 4096)
	put(t, c, "alpha", key, want)
	if got := get(t, c, "alpha", key); !bytes.Equal(got, want) {
		t.Errorf("GetObject returned %d bytes differing from the %d put", len(got), len(want))
	}
	// The posix backend stores an object as a file named by its key.
	onDisk, err := os.ReadFile(filepath.Join(s.Dir, "alpha", filepath.FromSlash(key)))
	if err != nil || !bytes.Equal(onDisk, want) {
		t.Errorf("file for %s under Dir: %d bytes, err %v; want the %d bytes put", key, len(onDisk), err, len(want))
	}
}

func TestListObjectsV2Pagination(t *testing.T) {
	t.Parallel()
	s := s3test.Start(t, "lake")
	c := s.Client(t)

	const n = 2500
	want := make([]string, n)
	for i := range want {
		// Ten partition directories, so the posix backend walks several.
		want[i] = fmt.Sprintf("t/part=%02d/file-%05d.parquet", i%10, i)
	}
	g, ctx := errgroup.WithContext(t.Context())
	g.SetLimit(16)
	for _, k := range want {
		g.Go(func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String("lake"), Key: aws.String(k), Body: strings.NewReader(k),
			})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	slices.Sort(want)

	var got []string
	var pageSizes []int
	in := &s3.ListObjectsV2Input{Bucket: aws.String("lake"), MaxKeys: aws.Int32(1000)}
	for {
		out, err := c.ListObjectsV2(t.Context(), in)
		if err != nil {
			t.Fatalf("ListObjectsV2 page %d: %v", len(pageSizes)+1, err)
		}
		pageSizes = append(pageSizes, len(out.Contents))
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		if len(pageSizes) > n/1000+1 {
			t.Fatalf("ListObjectsV2 still truncated after %d pages", len(pageSizes))
		}
		in.ContinuationToken = out.NextContinuationToken
	}
	if diff := cmp.Diff([]int{1000, 1000, 500}, pageSizes); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	// Equal to the sorted keys: each key exactly once, in S3's key order.
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("listed keys (-want +got):\n%s", diff)
	}
}

func TestCopyObject(t *testing.T) {
	t.Parallel()
	s := s3test.Start(t, "src", "dst")
	c := s.Client(t)
	want := randomBytes(2, 100_000)
	put(t, c, "src", "a/b.parquet", want)

	_, err := c.CopyObject(t.Context(), &s3.CopyObjectInput{
		Bucket: aws.String("dst"), Key: aws.String("copied/b.parquet"), CopySource: aws.String("src/a/b.parquet"),
	})
	if err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	if got := get(t, c, "dst", "copied/b.parquet"); !bytes.Equal(got, want) {
		t.Errorf("copy has %d bytes differing from the %d of the source", len(got), len(want))
	}
	if got := get(t, c, "src", "a/b.parquet"); !bytes.Equal(got, want) {
		t.Errorf("source changed by the copy")
	}
}

func TestMultipartUpload(t *testing.T) {
	t.Parallel()
	s := s3test.Start(t, "lake")
	c := s.Client(t)
	ctx := t.Context()
	const mib = 1 << 20
	// Two parts at S3's 5 MiB minimum and a last part of one byte, which
	// only the last part may be.
	parts := [][]byte{randomBytes(3, 5*mib), randomBytes(4, 5*mib), {0x2a}}
	want := bytes.Join(parts, nil)

	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String("lake"), Key: aws.String("big.parquet"),
	})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	var done []types.CompletedPart
	for i, p := range parts {
		n := int32(i + 1)
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String("lake"), Key: aws.String("big.parquet"), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(p),
		})
		if err != nil {
			t.Fatalf("UploadPart(%d): %v", n, err)
		}
		done = append(done, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	fin, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("lake"), Key: aws.String("big.parquet"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	// S3 names a multipart object's ETag after its part count.
	if etag := aws.ToString(fin.ETag); !strings.HasSuffix(strings.Trim(etag, `"`), "-3") {
		t.Errorf("multipart ETag = %s, want a -3 suffix", etag)
	}

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String("big.parquet")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if got, want := aws.ToInt64(head.ContentLength), int64(10*mib+1); got != want {
		t.Errorf("HeadObject ContentLength = %d, want %d", got, want)
	}
	if got := get(t, c, "lake", "big.parquet"); !bytes.Equal(got, want) {
		t.Errorf("GetObject returned %d bytes differing from the %d uploaded", len(got), len(want))
	}
}

func TestDeleteObject(t *testing.T) {
	t.Parallel()
	s := s3test.Start(t, "lake")
	c := s.Client(t)
	ctx := t.Context()
	put(t, c, "lake", "d/gone.parquet", []byte("x"))
	put(t, c, "lake", "d/kept.parquet", []byte("y"))

	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("lake"), Key: aws.String("d/gone.parquet")}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("d/gone.parquet")})
	if got := errorCode(err); got != "NoSuchKey" {
		t.Errorf("GetObject after delete: error code %q (%v), want NoSuchKey", got, err)
	}
	// Deleting a missing key succeeds on S3; cleanup code may rely on it.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("lake"), Key: aws.String("d/gone.parquet")}); err != nil {
		t.Errorf("DeleteObject of a missing key: %v, want success", err)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	if diff := cmp.Diff([]string{"d/kept.parquet"}, keys); diff != "" {
		t.Errorf("keys after delete (-want +got):\n%s", diff)
	}
}

func TestObjectTagging(t *testing.T) {
	t.Parallel()
	s := s3test.Start(t, "lake")
	c := s.Client(t)
	ctx := t.Context()
	put(t, c, "lake", "orphan.parquet", []byte("z"))

	want := []types.Tag{
		{Key: aws.String("meridian-orphan"), Value: aws.String("2026-11-22")},
		{Key: aws.String("meridian-tier"), Value: aws.String("cold")},
	}
	_, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket: aws.String("lake"), Key: aws.String("orphan.parquet"), Tagging: &types.Tagging{TagSet: want},
	})
	if err != nil {
		t.Fatalf("PutObjectTagging: %v", err)
	}
	out, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("lake"), Key: aws.String("orphan.parquet")})
	if err != nil {
		t.Fatalf("GetObjectTagging: %v", err)
	}
	got := tagMap(out.TagSet)
	if diff := cmp.Diff(tagMap(want), got); diff != "" {
		t.Errorf("GetObjectTagging (-want +got):\n%s", diff)
	}
}

func tagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func TestServersAreIsolated(t *testing.T) {
	t.Parallel()
	a := s3test.Start(t, "shared", "only-a")
	b := s3test.Start(t, "shared", "only-b")
	if a.Endpoint == b.Endpoint {
		t.Fatalf("both servers on %s", a.Endpoint)
	}
	if a.Dir == b.Dir {
		t.Fatalf("both servers in %s", a.Dir)
	}
	ca, cb := a.Client(t), b.Client(t)

	if diff := cmp.Diff([]string{"only-a", "shared"}, bucketNames(t, ca)); diff != "" {
		t.Errorf("server a buckets (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"only-b", "shared"}, bucketNames(t, cb)); diff != "" {
		t.Errorf("server b buckets (-want +got):\n%s", diff)
	}
	put(t, ca, "shared", "k", []byte("a"))
	_, err := cb.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("shared"), Key: aws.String("k")})
	if got := errorCode(err); got != "NotFound" {
		t.Errorf("HeadObject on b of a key put on a: error code %q (%v), want NotFound", got, err)
	}

	// Random keys per server: a's credentials mean nothing to b. versitygw
	// answers 404 XAdminUserNotFound where AWS answers 403 InvalidAccessKeyId.
	foreign := *b
	foreign.AccessKey, foreign.SecretKey = a.AccessKey, a.SecretKey
	_, err = foreign.Client(t).ListBuckets(t.Context(), &s3.ListBucketsInput{})
	if got := errorCode(err); got != "XAdminUserNotFound" && got != "InvalidAccessKeyId" {
		t.Errorf("ListBuckets on b with a's keys: error code %q (%v), want an unknown-key error", got, err)
	}
}

// TestStorageClassIgnored pins down what versitygw v1.8.0 does with storage
// classes, because the storage-class simulator builds on it: versitygw
// accepts any class on PUT and then forgets it. Every object reads as
// STANDARD on HEAD, GET and LIST; a GLACIER object can be read at once (AWS
// answers 403 InvalidObjectState); and copying an object onto itself to
// change its class, the way AWS changes classes, is rejected with
// InvalidRequest because versitygw sees nothing changing. If an upgrade
// starts storing classes, this test fails and the simulator must be revisited.
func TestStorageClassIgnored(t *testing.T) {
	t.Parallel()
	s := s3test.Start(t, "lake")
	c := s.Client(t)
	ctx := t.Context()
	key := "warehouse/eu/guests/data/cold.parquet"

	out, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("lake"), Key: aws.String(key), Body: strings.NewReader("ice"),
		StorageClass: types.StorageClassGlacier,
	})
	if err != nil {
		t.Fatalf("PutObject with GLACIER: %v", err)
	}
	// AWS echoes a non-STANDARD class in x-amz-storage-class; versitygw sends
	// no such header.
	raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response)
	if !ok {
		t.Fatalf("PutObject: no raw HTTP response in the result metadata")
	}
	if got, present := raw.Header["X-Amz-Storage-Class"]; present {
		t.Errorf("PUT GLACIER response x-amz-storage-class = %q, want the header absent", got)
	}

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if head.StorageClass != types.StorageClassStandard {
		t.Errorf("HEAD storage class = %q, want STANDARD (versitygw ignores the class)", head.StorageClass)
	}

	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	if len(list.Contents) != 1 || list.Contents[0].StorageClass != types.ObjectStorageClassStandard {
		t.Errorf("LIST = %+v, want one object of class STANDARD", list.Contents)
	}

	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject of a GLACIER object: %v, want success (versitygw does not archive)", err)
	}
	body, err := io.ReadAll(g.Body)
	g.Body.Close()
	if err != nil || string(body) != "ice" || g.StorageClass != types.StorageClassStandard {
		t.Errorf("GetObject = %q, class %q, err %v; want \"ice\", STANDARD, nil", body, g.StorageClass, err)
	}

	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String("lake"), Key: aws.String(key), CopySource: aws.String("lake/" + key),
		StorageClass: types.StorageClassStandardIa,
	})
	if got := errorCode(err); got != "InvalidRequest" {
		t.Errorf("self-copy to STANDARD_IA: error code %q (%v), want InvalidRequest", got, err)
	}
}

// fatalRecorder stands in for a test so that Start's Fatalf can be observed.
type fatalRecorder struct {
	testing.TB
	msg     string
	skipped bool
}

type fatalExit struct{}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	panic(fatalExit{})
}

func (r *fatalRecorder) Skip(...any)          { r.skipped = true; panic(fatalExit{}) }
func (r *fatalRecorder) Skipf(string, ...any) { r.skipped = true; panic(fatalExit{}) }
func (r *fatalRecorder) SkipNow()             { r.skipped = true; panic(fatalExit{}) }

func TestStartFailsWithoutBinary(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "versitygw")
	t.Setenv(s3test.EnvBinary, missing)
	r := &fatalRecorder{TB: t}
	func() {
		defer func() {
			if v := recover(); v != nil {
				if _, ok := v.(fatalExit); !ok {
					panic(v)
				}
			}
		}()
		s3test.Start(r, "lake")
		t.Errorf("Start with %s=%s returned, want Fatalf", s3test.EnvBinary, missing)
	}()
	if r.skipped {
		t.Errorf("Start skipped the test, want it to fail")
	}
	if !strings.Contains(r.msg, "make tools") || !strings.Contains(r.msg, missing) {
		t.Errorf("Start failed with %q, want the path and a hint to run `make tools`", r.msg)
	}
}
