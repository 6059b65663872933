package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// ObjectStore is every S3 call lifecycle makes. [S3Store] implements it
// with the plain client (AWS, or any S3 server); [SimulatedStorageClasses]
// wraps an S3Store and adds the storage-class behaviour local servers lack.
// Code that takes an ObjectStore must not care which it has.
type ObjectStore interface {
	// ListPage returns one page of the objects under prefix, after the
	// continuation token (empty for the first page).
	ListPage(ctx context.Context, bucket, prefix, token string, max int32) (Page, error)
	// Head returns one object's size, class and restore state.
	Head(ctx context.Context, bucket, key string) (Object, error)
	// Get opens an object for reading; an archived object that is not
	// restored fails with ErrInvalidObjectState.
	Get(ctx context.Context, bucket, key string) (io.ReadCloser, error)
	// Copy rewrites an object onto its own key in class to, keeping its
	// metadata (S3's in-place storage-class change).
	Copy(ctx context.Context, bucket, key string, to StorageClass) error
	// Tag replaces an object's tags.
	Tag(ctx context.Context, bucket, key string, tags map[string]string) error
	// Delete removes an object.
	Delete(ctx context.Context, bucket, key string) error
	// Restore asks for a temporary readable copy of an archived object
	// for days, at tier's speed.
	Restore(ctx context.Context, bucket, key string, days int32, tier RestoreTier) error
}

// Page is one page of a listing.
type Page struct {
	Objects []Object
	// Next is the continuation token; empty on the last page.
	Next string
}

// Errors every ObjectStore reports the same way, whatever it talks to.
var (
	// ErrInvalidObjectState: the object is archived (GLACIER,
	// DEEP_ARCHIVE) and not restored, or a restore was asked for an object
	// that is not archived. S3 answers 403 InvalidObjectState.
	ErrInvalidObjectState = errors.New("InvalidObjectState: the object is in an archive class and not restored: restore it first")
	// ErrRestoreInProgress: a restore of the object is already running.
	ErrRestoreInProgress = errors.New("RestoreAlreadyInProgress: a restore of the object is already running")
	// ErrNotFound: no such object.
	ErrNotFound = errors.New("NoSuchKey: no such object")
)

// maxSingleCopy is the largest object one CopyObject may copy; larger
// objects need a multipart copy (UploadPartCopy).
const maxSingleCopy = 5 << 30

// S3Store is the plain S3 client as an ObjectStore.
type S3Store struct {
	client *s3.Client
	// partSize is the multipart-copy part size and, for objects above
	// singleCopy bytes, the threshold for multipart copy. Tests lower them
	// to exercise multipart copy with small objects.
	singleCopy int64
	partSize   int64
}

// NewS3Store wraps client.
func NewS3Store(client *s3.Client) *S3Store {
	return &S3Store{client: client, singleCopy: maxSingleCopy, partSize: 512 << 20}
}

var _ ObjectStore = (*S3Store)(nil)

// ListPage implements ObjectStore with ListObjectsV2.
func (s *S3Store) ListPage(ctx context.Context, bucket, prefix, token string, max int32) (Page, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	if token != "" {
		in.ContinuationToken = aws.String(token)
	}
	if max > 0 {
		in.MaxKeys = aws.Int32(max)
	}
	out, err := s.client.ListObjectsV2(ctx, in)
	if err != nil {
		return Page{}, storeError("list s3://"+bucket+"/"+prefix, err)
	}
	p := Page{Objects: make([]Object, 0, len(out.Contents))}
	for _, o := range out.Contents {
		class, err := ParseStorageClass(string(o.StorageClass))
		if err != nil {
			return Page{}, fmt.Errorf("list s3://%s/%s: %w", bucket, aws.ToString(o.Key), err)
		}
		p.Objects = append(p.Objects, Object{Bucket: bucket, Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size),
			LastModified: aws.ToTime(o.LastModified), Class: class, ETag: aws.ToString(o.ETag)})
	}
	if aws.ToBool(out.IsTruncated) {
		p.Next = aws.ToString(out.NextContinuationToken)
		if p.Next == "" {
			return Page{}, fmt.Errorf("list s3://%s/%s: truncated page without a continuation token", bucket, prefix)
		}
	}
	return p, nil
}

// Head implements ObjectStore.
func (s *S3Store) Head(ctx context.Context, bucket, key string) (Object, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return Object{}, storeError("head s3://"+bucket+"/"+key, err)
	}
	class, err := ParseStorageClass(string(out.StorageClass))
	if err != nil {
		return Object{}, fmt.Errorf("head s3://%s/%s: %w", bucket, key, err)
	}
	return Object{Bucket: bucket, Key: key, Size: aws.ToInt64(out.ContentLength), LastModified: aws.ToTime(out.LastModified),
		Class: class, ETag: aws.ToString(out.ETag), Restore: aws.ToString(out.Restore)}, nil
}

// Get implements ObjectStore.
func (s *S3Store) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, storeError("get s3://"+bucket+"/"+key, err)
	}
	return out.Body, nil
}

// Copy implements ObjectStore: CopyObject onto the same key with the new
// class and the metadata copied, or a multipart copy above 5 GB.
func (s *S3Store) Copy(ctx context.Context, bucket, key string, to StorageClass) error {
	if !to.Known() {
		return fmt.Errorf("copy s3://%s/%s: unknown class %q", bucket, key, to)
	}
	head, err := s.Head(ctx, bucket, key)
	if err != nil {
		return err
	}
	if head.Size > s.singleCopy {
		return s.multipartCopy(ctx, bucket, key, head.Size, to)
	}
	_, err = s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), CopySource: aws.String(copySource(bucket, key)),
		StorageClass: types.StorageClass(to), MetadataDirective: types.MetadataDirectiveCopy,
		TaggingDirective: types.TaggingDirectiveCopy,
	})
	return storeError("copy s3://"+bucket+"/"+key, err)
}

// rewrite copies an object onto itself in its current class, replacing
// its metadata with the same metadata. It is the real S3 write the
// simulator performs for a class change: servers that ignore storage
// classes refuse a self-copy whose only change is the class.
func (s *S3Store) rewrite(ctx context.Context, bucket, key string) error {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return storeError("head s3://"+bucket+"/"+key, err)
	}
	_, err = s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), CopySource: aws.String(copySource(bucket, key)),
		MetadataDirective: types.MetadataDirectiveReplace, Metadata: out.Metadata, ContentType: out.ContentType,
		ContentEncoding: out.ContentEncoding, CacheControl: out.CacheControl, ContentDisposition: out.ContentDisposition,
	})
	return storeError("copy s3://"+bucket+"/"+key, err)
}

// multipartCopy copies an object larger than one CopyObject allows in
// parts of partSize, aborting the upload on any failure.
func (s *S3Store) multipartCopy(ctx context.Context, bucket, key string, size int64, to StorageClass) (err error) {
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return storeError("head s3://"+bucket+"/"+key, err)
	}
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), StorageClass: types.StorageClass(to),
		Metadata: head.Metadata, ContentType: head.ContentType,
	})
	if err != nil {
		return storeError("copy s3://"+bucket+"/"+key, err)
	}
	defer func() {
		if err != nil {
			// Best effort under a fresh context: the caller's may be done.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId})
		}
	}()
	var parts []types.CompletedPart
	for n, off := int32(1), int64(0); off < size; n, off = n+1, off+s.partSize {
		end := min(off+s.partSize, size) - 1
		out, err := s.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId, PartNumber: aws.Int32(n),
			CopySource: aws.String(copySource(bucket, key)), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
			CopySourceIfMatch: head.ETag,
		})
		if err != nil {
			return storeError(fmt.Sprintf("copy s3://%s/%s part %d", bucket, key, n), err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.CopyPartResult.ETag})
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return storeError("copy s3://"+bucket+"/"+key, err)
}

// Tag implements ObjectStore.
func (s *S3Store) Tag(ctx context.Context, bucket, key string, tags map[string]string) error {
	set := make([]types.Tag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		set = append(set, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	_, err := s.client.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Tagging: &types.Tagging{TagSet: set}})
	return storeError("tag s3://"+bucket+"/"+key, err)
}

// Delete implements ObjectStore.
func (s *S3Store) Delete(ctx context.Context, bucket, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return storeError("delete s3://"+bucket+"/"+key, err)
}

// Restore implements ObjectStore.
func (s *S3Store) Restore(ctx context.Context, bucket, key string, days int32, tier RestoreTier) error {
	_, err := s.client.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(days), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.Tier(tier)}}})
	return storeError("restore s3://"+bucket+"/"+key, err)
}

func copySource(bucket, key string) string {
	return bucket + "/" + (&url.URL{Path: key}).EscapedPath()
}

// storeError wraps an SDK error with op and, for the errors lifecycle acts
// on, the package's sentinel; nil stays nil.
func storeError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "InvalidObjectState":
			return fmt.Errorf("%s: %w (%w)", op, ErrInvalidObjectState, err)
		case "RestoreAlreadyInProgress":
			return fmt.Errorf("%s: %w (%w)", op, ErrRestoreInProgress, err)
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("%s: %w (%w)", op, ErrNotFound, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// retryable reports whether err is worth another attempt: throttling,
// timeouts and 5xx answers. Client errors (4xx) are not.
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
			"RequestTimeout", "InternalError", "ServiceUnavailable":
			return true
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		code := re.HTTPStatusCode()
		return code >= 500 || code == http.StatusTooManyRequests
	}
	// No HTTP answer at all: a reset or refused connection, a cut body.
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}
