package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/meridian-lake/meridian/internal/s3test"
	"github.com/meridian-lake/meridian/internal/store"
)

// fakeClock is the simulation's clock; tests move it forward.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func openSim(t *testing.T, srv *s3test.Server, dbPath string, clock *fakeClock) (*SimulatedStorageClasses, *store.DB) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Path: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sim, err := NewSimulatedStorageClasses(context.Background(), NewS3Store(srv.Client(t)), db, usPricer(t), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return sim, db
}

func readAll(t *testing.T, store ObjectStore, key string) ([]byte, error) {
	t.Helper()
	rc, err := store.Get(context.Background(), "lake", key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func TestSimulatedStorageClasses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := s3test.Start(t, "lake")
	c := srv.Client(t)
	body := bytes.Repeat([]byte("parquet!"), 128<<10/8*8) // 1 MiB
	for _, k := range []string{"w/t/data/p=1/a.parquet", "w/t/data/p=1/b.parquet", "w/t/data/p=2/c.parquet"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(k), Body: bytes.NewReader(body),
			ContentType: aws.String("application/vnd.apache.parquet"), Metadata: map[string]string{"writer": "meridian"}}); err != nil {
			t.Fatal(err)
		}
	}
	clock := &fakeClock{now: time.Now().UTC()}
	dbPath := filepath.Join(t.TempDir(), "state.db")
	sim, _ := openSim(t, srv, dbPath, clock)
	const a, b = "w/t/data/p=1/a.parquet", "w/t/data/p=1/b.parquet"

	// Unknown to the simulator: STANDARD, readable.
	if o, err := sim.Head(ctx, "lake", a); err != nil || o.Class != Standard {
		t.Fatalf("Head = %+v, %v; want STANDARD", o, err)
	}
	// Restoring a STANDARD object is refused as S3 refuses it.
	if err := sim.Restore(ctx, "lake", a, 1, Bulk); !errors.Is(err, ErrInvalidObjectState) {
		t.Errorf("Restore(STANDARD) = %v, want ErrInvalidObjectState", err)
	}

	// Copy to GLACIER: a real copy on the server (metadata kept), then
	// GLACIER in Head and List, and reads fail.
	if err := sim.Copy(ctx, "lake", a, Glacier); err != nil {
		t.Fatal(err)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String(a)})
	if err != nil || h.Metadata["writer"] != "meridian" || aws.ToString(h.ContentType) != "application/vnd.apache.parquet" || aws.ToInt64(h.ContentLength) != int64(len(body)) {
		t.Errorf("after copy the server has metadata %v type %q length %d, %v", h.Metadata, aws.ToString(h.ContentType), aws.ToInt64(h.ContentLength), err)
	}
	classes := map[string]StorageClass{}
	if _, err := List(ctx, sim, "lake", []string{"w/t/data/"}, ListConfig{}, func(o Object) error { classes[o.Key] = o.Class; return nil }); err != nil {
		t.Fatal(err)
	}
	if classes[a] != Glacier || classes[b] != Standard || len(classes) != 3 {
		t.Errorf("listed classes %v, want %s GLACIER and the rest STANDARD", classes, a)
	}
	if _, err := readAll(t, sim, a); !errors.Is(err, ErrInvalidObjectState) {
		t.Errorf("Get(GLACIER) = %v, want ErrInvalidObjectState", err)
	}
	if err := sim.Copy(ctx, "lake", a, Standard); !errors.Is(err, ErrInvalidObjectState) {
		t.Errorf("Copy(GLACIER -> STANDARD) without restore = %v, want ErrInvalidObjectState", err)
	}
	if got, err := readAll(t, sim, b); err != nil || !bytes.Equal(got, body) {
		t.Errorf("Get(STANDARD) = %d bytes, %v", len(got), err)
	}

	// A killed process loses nothing: a new simulator on the same file
	// sees the class.
	sim2, _ := openSim(t, srv, dbPath, clock)
	if o, err := sim2.Head(ctx, "lake", a); err != nil || o.Class != Glacier {
		t.Fatalf("after reopening: Head = %+v, %v; want GLACIER", o, err)
	}

	// Restore: Bulk takes 12 simulated hours; asking again meanwhile is
	// refused; then reads work until the restored copy expires.
	if err := sim2.Restore(ctx, "lake", a, 2, Bulk); err != nil {
		t.Fatal(err)
	}
	if o, _ := sim2.Head(ctx, "lake", a); o.Restore != `ongoing-request="true"` {
		t.Errorf("Restore header %q, want ongoing", o.Restore)
	}
	if err := sim2.Restore(ctx, "lake", a, 2, Bulk); !errors.Is(err, ErrRestoreInProgress) {
		t.Errorf("second Restore = %v, want ErrRestoreInProgress", err)
	}
	clock.Advance(11 * time.Hour)
	if _, err := readAll(t, sim2, a); !errors.Is(err, ErrInvalidObjectState) {
		t.Errorf("Get 11 h into a 12 h Bulk restore = %v, want ErrInvalidObjectState", err)
	}
	clock.Advance(time.Hour)
	if got, err := readAll(t, sim2, a); err != nil || !bytes.Equal(got, body) {
		t.Errorf("Get after restore = %d bytes, %v; want the object", len(got), err)
	}
	if o, _ := sim2.Head(ctx, "lake", a); !strings.HasPrefix(o.Restore, `ongoing-request="false", expiry-date=`) {
		t.Errorf("Restore header %q, want finished with an expiry", o.Restore)
	}
	clock.Advance(2 * 24 * time.Hour)
	if _, err := readAll(t, sim2, a); !errors.Is(err, ErrInvalidObjectState) {
		t.Errorf("Get after the restored copy expired = %v, want ErrInvalidObjectState", err)
	}
	if err := sim2.Restore(ctx, "lake", a, 1, Expedited); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Minute)
	if _, err := readAll(t, sim2, a); err != nil {
		t.Errorf("Get after a 5 min Expedited restore = %v", err)
	}

	// DEEP_ARCHIVE offers no Expedited tier.
	if err := sim2.SetClass(ctx, "lake", b, DeepArchive, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := sim2.Restore(ctx, "lake", b, 1, Expedited); err == nil || !strings.Contains(err.Error(), "not offered") {
		t.Errorf("Restore(DEEP_ARCHIVE, Expedited) = %v", err)
	}

	// Deleting the DEEP_ARCHIVE object 30 days in is billed for the other
	// 150 days of its 180.
	clock.Advance(30 * 24 * time.Hour)
	if err := sim2.Delete(ctx, "lake", b); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(srv.Dir, "lake", b)); !os.IsNotExist(err) {
		t.Errorf("object still on the server after Delete: %v", err)
	}
	charges, err := sim2.Charges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	var early *Charge
	for i, ch := range charges {
		kinds = append(kinds, ch.Kind)
		if ch.Kind == "early-deletion" {
			early = &charges[i]
		}
	}
	if got, want := strings.Join(kinds, ","), "copy,restore-Bulk,restore-Expedited,early-deletion"; got != want {
		t.Errorf("charges %s, want %s", got, want)
	}
	if early == nil || early.Key != b || early.Class != DeepArchive || early.Days != 150 {
		t.Fatalf("early deletion %+v, want 150 days of DEEP_ARCHIVE for %s", early, b)
	}
	if want := mulDiv(int64(len(body))*150, int64(money(t, "0.00099")), 30*gib); early.Amount != want {
		t.Errorf("early deletion amount %s, want %s", early.Amount.Exact(), want.Exact())
	}
	// Expedited restores of 1 MiB: $0.03/GB + $10 per 1,000 requests.
	if want := mulDiv(int64(len(body)), int64(money(t, "0.03")), gib) + money(t, "0.01"); charges[2].Amount != want {
		t.Errorf("expedited restore charge %s, want %s", charges[2].Amount.Exact(), want.Exact())
	}
}
