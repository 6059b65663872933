package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/meridian-lake/meridian/internal/s3test"
)

// putObjects writes n objects named prefix+"%05d.parquet" of size bytes,
// 16 at a time.
func putObjects(t testing.TB, c *s3.Client, bucket, prefix string, n, size int) []string {
	t.Helper()
	keys := make([]string, n)
	body := bytes.Repeat([]byte("m"), size)
	var g errgroup.Group
	g.SetLimit(16)
	for i := range n {
		keys[i] = fmt.Sprintf("%s%05d.parquet", prefix, i)
		g.Go(func() error {
			_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(keys[i]), Body: bytes.NewReader(body)})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// clientVia returns a client for srv that goes through endpoint (a
// fault-injecting proxy) and makes one attempt per call, so only List's
// own retries are at work.
func clientVia(srv *s3test.Server, endpoint string) *s3.Client {
	return s3.New(s3.Options{BaseEndpoint: aws.String(endpoint), Region: srv.Region, UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""), RetryMaxAttempts: 1,
		DisableLogOutputChecksumValidationSkipped: true})
}

// faultProxy forwards to srv and answers 503 SlowDown to the requests for
// which fail returns true (n counts requests from 1).
func faultProxy(t *testing.T, srv *s3test.Server, fail func(n int64) bool) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host // the signature covers the Host the client used
	}}
	ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail(n.Add(1)) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(ps.Close)
	return ps, &n
}

func TestListVersitygw(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, "lake")
	c := srv.Client(t)
	var want []string
	prefixes := []string{"w/t/data/p=1/", "w/t/data/p=2/", "w/t/data/p=3/"}
	for _, p := range prefixes {
		want = append(want, putObjects(t, c, "lake", p, 250, 10)...)
	}
	putObjects(t, c, "lake", "w/t/metadata/", 5, 10) // not under the listed prefixes

	t.Run("every object once, pages, one callback goroutine", func(t *testing.T) {
		seen := map[string]int{}
		inCallback := false
		stats, err := List(context.Background(), NewS3Store(c), "lake", prefixes, ListConfig{PageSize: 100, Concurrency: 3}, func(o Object) error {
			if inCallback {
				t.Error("callback re-entered concurrently")
			}
			inCallback = true
			defer func() { inCallback = false }()
			seen[o.Key]++
			if o.Size != 10 || o.Class != Standard || o.Bucket != "lake" || o.LastModified.IsZero() {
				t.Errorf("object %+v", o)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != len(want) || stats.Objects != int64(len(want)) {
			t.Errorf("saw %d distinct keys, %d objects; want %d", len(seen), stats.Objects, len(want))
		}
		for _, k := range want {
			if seen[k] != 1 {
				t.Errorf("key %s seen %d times", k, seen[k])
			}
		}
		if stats.Pages != 9 { // 3 prefixes x 250 objects / 100 per page
			t.Errorf("pages = %d, want 9", stats.Pages)
		}
	})

	t.Run("throttling is retried with backoff", func(t *testing.T) {
		ps, calls := faultProxy(t, srv, func(n int64) bool { return n%3 == 1 }) // every third request, starting with the first
		var objects int
		stats, err := List(context.Background(), NewS3Store(clientVia(srv, ps.URL)), "lake", prefixes,
			ListConfig{PageSize: 100, BaseBackoff: time.Millisecond, MaxAttempts: 4}, func(Object) error { objects++; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if objects != len(want) || stats.Retries == 0 {
			t.Errorf("objects %d (want %d), retries %d (want > 0), requests %d", objects, len(want), stats.Retries, calls.Load())
		}
	})

	t.Run("gives up after MaxAttempts", func(t *testing.T) {
		ps, calls := faultProxy(t, srv, func(int64) bool { return true })
		_, err := List(context.Background(), NewS3Store(clientVia(srv, ps.URL)), "lake", prefixes[:1],
			ListConfig{BaseBackoff: time.Millisecond, MaxAttempts: 3}, func(Object) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "after 3 attempts") || !strings.Contains(err.Error(), "SlowDown") {
			t.Errorf("error = %v, want SlowDown after 3 attempts", err)
		}
		if calls.Load() != 3 {
			t.Errorf("%d requests, want 3", calls.Load())
		}
	})

	t.Run("a callback error stops the listing", func(t *testing.T) {
		stop := fmt.Errorf("enough")
		var n int
		_, err := List(context.Background(), NewS3Store(c), "lake", prefixes, ListConfig{PageSize: 10}, func(Object) error {
			n++
			if n == 15 {
				return stop
			}
			return nil
		})
		if err != stop || n != 15 {
			t.Errorf("err %v after %d objects, want %v after 15", err, n, stop)
		}
	})

	t.Run("rate limit", func(t *testing.T) {
		start := time.Now()
		stats, err := List(context.Background(), NewS3Store(c), "lake", prefixes, ListConfig{PageSize: 50, RequestsPerSecond: 40}, func(Object) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		// 15 pages at 40 a second with a bucket of 40: not a timing test,
		// only that the limiter let them all through.
		if stats.Pages != 15 {
			t.Errorf("pages %d, want 15 (took %v)", stats.Pages, time.Since(start))
		}
	})
}

// TestLimiter: a 1000/s limiter hands out a burst of its rate, then paces.
func TestLimiter(t *testing.T) {
	l := newLimiter(1000)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var got atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if l.wait(ctx) == nil {
					got.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got.Load() != 200 {
		t.Errorf("%d tokens, want 200", got.Load())
	}
	cancel()
	l2 := newLimiter(0.001)
	l2.tokens = 0
	if err := l2.wait(ctx); err == nil {
		t.Error("wait on a cancelled context succeeded")
	}
}

// TestMultipartCopy: objects above the single-copy limit (5 GB on S3,
// lowered here) are copied in parts, keeping bytes and metadata.
func TestMultipartCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := s3test.Start(t, "lake")
	c := srv.Client(t)
	body := make([]byte, 11<<20+123)
	for i := range body {
		body[i] = byte(i * 7)
	}
	const key = "w/t/data/p=1/big file.parquet"
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(key), Body: bytes.NewReader(body),
		Metadata: map[string]string{"writer": "meridian"}}); err != nil {
		t.Fatal(err)
	}
	st := NewS3Store(c)
	st.singleCopy, st.partSize = 1<<20, 5<<20 // three parts
	if err := st.Copy(ctx, "lake", key, StandardIA); err != nil {
		t.Fatal(err)
	}
	rc, err := st.Get(ctx, "lake", key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Errorf("after multipart copy: %d bytes (want %d), equal=%v, %v", len(got), len(body), bytes.Equal(got, body), err)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String(key)})
	if err != nil || h.Metadata["writer"] != "meridian" || !strings.HasSuffix(aws.ToString(h.ETag), `-3"`) {
		t.Errorf("head after multipart copy: metadata %v etag %s, %v; want metadata kept and a 3-part ETag", h.Metadata, aws.ToString(h.ETag), err)
	}
	if _, err := st.Head(ctx, "lake", "w/t/missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Head(missing) = %v, want ErrNotFound", err)
	}
}
