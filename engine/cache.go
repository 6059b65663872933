package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	icebergio "github.com/apache/iceberg-go/io"
)

// fileCache keeps local copies of remote data files for DuckDB, which has
// no S3 access here. Iceberg data files never change once written, so a
// copy is keyed by path and size and reused until evicted: least recently
// used first, never while a compiled statement still reads it.
type fileCache struct {
	dir string
	max int64

	mu      sync.Mutex
	entries map[string]*cacheEntry
	used    int64
	fetches int64 // remote reads, for tests and metrics
}

type cacheEntry struct {
	local   string
	size    int64
	lastUse time.Time
	pins    int
	ready   chan struct{} // closed when the fetch has ended
	err     error
}

func newFileCache(dir string, max int64) (*fileCache, error) {
	c := &fileCache{dir: dir, max: max, entries: map[string]*cacheEntry{}}
	if dir == "" {
		return c, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache dir: %w", err)
	}
	// Copies from an earlier run are reused; partial downloads are removed.
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cache dir: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		full := filepath.Join(dir, name)
		if strings.HasPrefix(name, "fetch-") {
			os.Remove(full)
			continue
		}
		if !strings.HasSuffix(name, ".parquet") || !de.Type().IsRegular() {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue
		}
		done := make(chan struct{})
		close(done)
		c.entries[strings.TrimSuffix(name, ".parquet")] = &cacheEntry{local: full, size: fi.Size(), lastUse: fi.ModTime(), ready: done}
		c.used += fi.Size()
	}
	return c, nil
}

func cacheKey(remote string, size int64) string {
	h := sha256.Sum256([]byte(remote + "\x00" + strconv.FormatInt(size, 10)))
	return hex.EncodeToString(h[:16])
}

// get returns a local copy of remote (of the given size), fetching it with
// fs if needed, pinned until unpin is called.
func (c *fileCache) get(ctx context.Context, fs icebergio.IO, remote string, size int64) (string, func(), error) {
	if c.dir == "" {
		return "", nil, errors.New("the engine has no cache directory for remote files (set CacheDir)")
	}
	key := cacheKey(remote, size)
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		e = &cacheEntry{local: filepath.Join(c.dir, key+".parquet"), size: size, ready: make(chan struct{})}
		c.entries[key] = e
		c.fetches++
		go c.fetch(context.WithoutCancel(ctx), fs, remote, e)
	}
	e.pins++
	e.lastUse = time.Now()
	c.mu.Unlock()

	unpin := func() {
		c.mu.Lock()
		e.pins--
		c.mu.Unlock()
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		unpin()
		return "", nil, ctx.Err()
	}
	if e.err != nil {
		unpin()
		return "", nil, e.err
	}
	return e.local, sync.OnceFunc(unpin), nil
}

// fetch copies remote into e.local. It runs detached from the statement
// that asked, so a cancelled statement does not poison the entry for others;
// the copy is bounded by the file size from the manifest.
func (c *fileCache) fetch(ctx context.Context, fs icebergio.IO, remote string, e *cacheEntry) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	err := c.copy(ctx, fs, remote, e)
	c.mu.Lock()
	if err != nil {
		e.err = fmt.Errorf("fetch %s: %w", remote, err)
		// A failed fetch is not cached: the next statement tries again.
		for k, v := range c.entries {
			if v == e {
				delete(c.entries, k)
			}
		}
	} else {
		c.used += e.size
		c.evictLocked()
	}
	c.mu.Unlock()
	close(e.ready)
}

func (c *fileCache) copy(ctx context.Context, fs icebergio.IO, remote string, e *cacheEntry) error {
	in, err := fs.Open(remote)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(c.dir, "fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, io.LimitReader(ctxReader{ctx, in}, e.size+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n != e.size {
		return fmt.Errorf("read %d bytes, the manifest says %d", n, e.size)
	}
	return os.Rename(tmp.Name(), e.local)
}

// evictLocked removes least recently used, unpinned copies until the cache
// fits its bound.
func (c *fileCache) evictLocked() {
	for c.used > c.max {
		var oldKey string
		var old *cacheEntry
		for k, e := range c.entries {
			select {
			case <-e.ready:
			default:
				continue // still being fetched
			}
			if e.pins > 0 || e.err != nil {
				continue
			}
			if old == nil || e.lastUse.Before(old.lastUse) {
				oldKey, old = k, e
			}
		}
		if old == nil {
			return
		}
		os.Remove(old.local)
		delete(c.entries, oldKey)
		c.used -= old.size
	}
}

// stats reports remote fetches and bytes held.
func (c *fileCache) stats() (fetches, used int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches, c.used
}

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
