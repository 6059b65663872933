package policy

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The decision journal sits in front of the state store on the statement
// path. A decision record must be written before its statement is
// forwarded; a store transaction per statement costs a few hundred
// microseconds of CPU and a dozen system calls, so instead Write appends the
// record to a local file (one write, plus fdatasync when sync is on) and a
// background indexer moves records into the store in batches, where
// queries, impact analysis and retention find them. Reads of the store wait
// for the indexer to catch up first, so a caller sees every record written
// before it asked.
//
// The file is a sequence of frames: a little-endian uint32 payload length, a
// CRC-32C of the payload, and the record as JSON. Files are numbered
// (decisions-0000000000000001.journal, …); the store keeps, per journal
// directory, the file and offset indexed so far, in the same transaction
// as the records. On open, everything not yet indexed (a crash) is indexed
// before the first statement; inserts ignore ids already stored, so a
// replay never duplicates a record.

const (
	journalPrefix = "decisions-"
	journalSuffix = ".journal"
	// journalRotate: once everything in a file is indexed and it is larger
	// than this, writers move to a new file and the old one is removed.
	journalRotate = 64 << 20
	// journalMaxFrame bounds one record (a statement is at most 1 MiB by
	// default); the indexer reads journalMaxFrame+8 bytes at a time, so a
	// read always holds at least one whole frame.
	journalMaxFrame = 8 << 20
	// journalBatch records are indexed per store transaction; a partial
	// batch waits at most journalDelay (JournalOptions.Delay), so the
	// indexer's cost is spread over many statements.
	journalBatch = 256
	journalDelay = 100 * time.Millisecond
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// JournalOptions configures OpenJournal.
type JournalOptions struct {
	// Sync makes each Write return only after fdatasync (group-committed
	// across concurrent writers): records survive a power loss, not only a
	// crash of Meridian.
	Sync bool
	// Delay is how long the indexer waits for a batch to fill before
	// storing a partial one (default 100 ms).
	Delay time.Duration
	// RotateBytes: once a file is this large and wholly indexed, writers
	// move to a new file and the old one is removed (default 64 MiB).
	RotateBytes int64
	Logger      *slog.Logger
}

type journal struct {
	reg  *Registry
	dir  string
	opts JournalOptions
	lock *os.File

	mu       sync.Mutex // appends, rotation
	f        *os.File
	gen      int64
	end      int64 // bytes in the current file
	appended int64 // records appended in this process
	closed   bool

	syncMu     sync.Mutex
	syncedGen  int64
	syncedUpTo int64

	kick  chan struct{}
	flush chan chan error
	stop  chan struct{}
	done  chan struct{}

	indexed atomic.Int64 // records of this process indexed

	// indexer goroutine only, after open
	indexedGen int64
	indexedOff int64
	rf         *os.File // the current file, for reading
}

// OpenJournal puts a decision journal in dir in front of the state store:
// from then on Write appends to it, and the records reach the store in the
// background. Records a previous process left unindexed are indexed first.
// One process at a time may use a directory. Close the registry to stop it.
func (r *Registry) OpenJournal(ctx context.Context, dir string, opts JournalOptions) error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Delay <= 0 {
		opts.Delay = journalDelay
	}
	if opts.RotateBytes <= 0 {
		opts.RotateBytes = journalRotate
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("decision journal: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return fmt.Errorf("decision journal: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(abs, "decisions.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("decision journal: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return fmt.Errorf("decision journal %s: another Meridian process is using it (%v): give each process its own directory", abs, err)
	}
	j := &journal{reg: r, dir: abs, opts: opts, lock: lock,
		kick: make(chan struct{}, 1), flush: make(chan chan error), stop: make(chan struct{}), done: make(chan struct{})}
	if err := j.recover(ctx); err != nil {
		lock.Close()
		return err
	}
	r.groupMu.Lock()
	r.journal = j
	r.groupMu.Unlock()
	go j.run()
	return nil
}

// Close stops the decision journal, if one is open, after indexing every
// record written. Writes after Close fail.
func (r *Registry) Close() error {
	r.groupMu.Lock()
	j := r.journal
	r.groupMu.Unlock()
	if j == nil {
		return nil
	}
	return j.close()
}

func journalName(gen int64) string {
	return fmt.Sprintf("%s%016d%s", journalPrefix, gen, journalSuffix)
}

// journalFiles lists the generations of journal files in dir, oldest first.
func journalFiles(dir string) ([]int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var gens []int64
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, journalPrefix) || !strings.HasSuffix(n, journalSuffix) {
			continue
		}
		g, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(n, journalPrefix), journalSuffix), 10, 64)
		if err == nil && g > 0 {
			gens = append(gens, g)
		}
	}
	slices.Sort(gens)
	return gens, nil
}

// recover indexes whatever earlier processes left in dir, removes their
// files and starts a new one.
func (j *journal) recover(ctx context.Context) error {
	var gen, off int64
	err := j.reg.db.QueryRowContext(ctx, `SELECT gen, off FROM policy_journals WHERE dir = ?`, j.dir).Scan(&gen, &off)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("decision journal: %w", err)
	}
	gens, err := journalFiles(j.dir)
	if err != nil {
		return fmt.Errorf("decision journal: %w", err)
	}
	last := gen
	recovered := 0
	for _, g := range gens {
		last = max(last, g)
		if g < gen {
			continue // indexed and rotated; the removal did not happen
		}
		from := int64(0)
		if g == gen {
			from = off
		}
		n, err := j.indexFile(ctx, g, from)
		if err != nil {
			return err
		}
		recovered += n
	}
	if recovered > 0 {
		j.opts.Logger.Info("decision journal: records from an earlier run indexed", "dir", j.dir, "records", recovered)
	}
	j.gen = last + 1
	f, err := os.OpenFile(filepath.Join(j.dir, journalName(j.gen)), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("decision journal: %w", err)
	}
	if err := j.setIndexed(ctx, nil, j.gen, 0); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if j.opts.Sync {
		if err := syncDir(j.dir); err != nil {
			f.Close()
			return err
		}
	}
	for _, g := range gens {
		os.Remove(filepath.Join(j.dir, journalName(g)))
	}
	j.f, j.indexedGen, j.indexedOff = f, j.gen, 0
	return nil
}

// indexFile indexes the frames of file gen from offset from to the last
// whole frame, truncating a torn tail (a write cut by a crash: its Write
// never returned, so its statement never ran). It returns how many records
// it found.
func (j *journal) indexFile(ctx context.Context, gen, from int64) (int, error) {
	name := filepath.Join(j.dir, journalName(gen))
	f, err := os.Open(name)
	if err != nil {
		return 0, fmt.Errorf("decision journal: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("decision journal: %w", err)
	}
	from = min(from, st.Size())
	rest := make([]byte, st.Size()-from) // only what is not indexed yet
	if _, err := f.ReadAt(rest, from); err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("decision journal: %w", err)
	}
	frames, good, bad := splitFrames(rest)
	if bad {
		j.opts.Logger.Warn("decision journal: torn record at the end of a file dropped", "file", name, "offset", from+int64(good))
		if err := os.Truncate(name, from+int64(good)); err != nil {
			return 0, fmt.Errorf("decision journal: %w", err)
		}
	}
	total := len(frames)
	for len(frames) > 0 {
		n := min(len(frames), journalBatch)
		if err := j.insert(ctx, frames[:n], gen, from+frameEnd(frames[n-1], rest)); err != nil {
			return 0, err
		}
		frames = frames[n:]
	}
	return total, nil
}

// splitFrames returns the payloads of the whole, intact frames at the start
// of b, how many bytes they span, and whether anything follows them.
func splitFrames(b []byte) (payloads [][]byte, good int, bad bool) {
	for good < len(b) {
		rest := b[good:]
		if len(rest) < 8 {
			return payloads, good, true
		}
		n := int(binary.LittleEndian.Uint32(rest))
		if n > journalMaxFrame || len(rest) < 8+n {
			return payloads, good, true
		}
		p := rest[8 : 8+n]
		if crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(rest[4:]) {
			return payloads, good, true
		}
		payloads = append(payloads, p)
		good += 8 + n
	}
	return payloads, good, false
}

// frameEnd is the offset in base just past payload p (a sub-slice of base).
func frameEnd(p, base []byte) int64 {
	return int64(cap(base)-cap(p)) + int64(len(p))
}

// append writes one record; with Sync it returns once the record is on disk.
func (j *journal) append(rec *Record) error {
	buf := frameBuffers.Get().(*bytes.Buffer)
	defer frameBuffers.Put(buf)
	buf.Reset()
	buf.Write(make([]byte, 8))
	if err := encodeFrame(buf, rec); err != nil {
		return fmt.Errorf("policy: write decision %s: %w", rec.ID, err)
	}
	b := buf.Bytes()
	payload := b[8:]
	if len(payload) > journalMaxFrame {
		return fmt.Errorf("policy: decision record %s is %d bytes, over the %d-byte limit", rec.ID, len(payload), journalMaxFrame)
	}
	binary.LittleEndian.PutUint32(b, uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(payload, crcTable))

	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return errors.New("policy: the decision journal is closed")
	}
	if n, err := j.f.Write(b); err != nil {
		if n > 0 {
			// Never leave half a frame for the next record to follow.
			j.f.Truncate(j.end)
		}
		j.mu.Unlock()
		return fmt.Errorf("policy: write decision %s: %w", rec.ID, err)
	}
	j.end += int64(len(b))
	j.appended++
	gen, end, pending := j.gen, j.end, j.appended-j.indexed.Load()
	j.mu.Unlock()
	// Wake the indexer for the first record of a batch (it then waits
	// journalDelay for more) and for a full batch.
	if pending == 1 || pending%journalBatch == 0 {
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
	if j.opts.Sync {
		return j.syncTo(gen, end)
	}
	return nil
}

var frameBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// syncTo returns once file gen is on disk up to end. Concurrent writers
// share one fdatasync: whoever syncs covers every record written before
// it started.
func (j *journal) syncTo(gen, end int64) error {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	if j.syncedGen > gen || (j.syncedGen == gen && j.syncedUpTo >= end) {
		return nil
	}
	j.mu.Lock()
	f, cur, curEnd := j.f, j.gen, j.end
	j.mu.Unlock()
	if cur != gen {
		// Rotated: a file is rotated only once all of it is in the store.
		return nil
	}
	if err := syscall.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("policy: sync the decision journal: %w", err)
	}
	j.syncedGen, j.syncedUpTo = cur, curEnd
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("decision journal: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("decision journal: %w", err)
	}
	return nil
}

// run is the indexer: it waits for a batch (or journalDelay after the
// first record of one, or a flush), then moves what was appended into the
// store.
func (j *journal) run() {
	defer close(j.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	var waiters []chan error
	backoff := 10 * time.Millisecond
	for {
		select {
		case <-j.kick:
			if !armed {
				timer.Reset(j.opts.Delay)
				armed = true
			}
			j.mu.Lock()
			pending := j.appended - j.indexed.Load()
			j.mu.Unlock()
			if pending < journalBatch {
				continue
			}
		case <-timer.C:
			armed = false
		case w := <-j.flush:
			waiters = append(waiters, w)
		case <-j.stop:
			err := j.indexPending()
			for _, w := range waiters {
				w <- err
			}
			if j.rf != nil {
				j.rf.Close()
			}
			return
		}
		err := j.indexPending()
		for _, w := range waiters {
			w <- err
		}
		waiters = waiters[:0]
		if err != nil {
			// The store is unavailable (busy, disk full): the records are
			// safe in the journal; try again.
			j.opts.Logger.Error("decision journal: indexing into the state store failed; retrying", "err", err)
			timer.Reset(backoff)
			armed = true
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 10 * time.Millisecond
	}
}

// indexPending moves everything appended so far into the store, then
// rotates the file if it has grown large.
func (j *journal) indexPending() error {
	ctx := context.Background()
	for {
		j.mu.Lock()
		gen, end := j.gen, j.end
		j.mu.Unlock()
		if j.indexedGen != gen {
			// Only the indexer rotates, so this is the first read.
			j.indexedGen, j.indexedOff = gen, 0
		}
		if j.indexedOff >= end {
			return j.maybeRotate(ctx)
		}
		if j.rf == nil {
			f, err := os.Open(filepath.Join(j.dir, journalName(gen)))
			if err != nil {
				return fmt.Errorf("decision journal: %w", err)
			}
			j.rf = f
		}
		// Read at most one frame's worth at a time, whole frames only
		// (every frame below end was completely written).
		n := min(end-j.indexedOff, journalMaxFrame+8)
		buf := make([]byte, n)
		if _, err := j.rf.ReadAt(buf, j.indexedOff); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("decision journal: %w", err)
		}
		frames, good, _ := splitFrames(buf)
		if good == 0 {
			// A frame below end that does not check: the file is damaged.
			// Skip to the end rather than stop auditing.
			j.opts.Logger.Error("decision journal: damaged record skipped", "file", j.rf.Name(), "offset", j.indexedOff)
			j.indexedOff = end
			continue
		}
		start := j.indexedOff
		for len(frames) > 0 {
			k := min(len(frames), journalBatch)
			off := start + frameEnd(frames[k-1], buf)
			if err := j.insert(ctx, frames[:k], gen, off); err != nil {
				return err
			}
			j.indexedOff = off
			j.indexed.Add(int64(k))
			frames = frames[k:]
		}
	}
}

// maybeRotate starts a new file once the current one is large and wholly
// indexed.
func (j *journal) maybeRotate(ctx context.Context) error {
	j.syncMu.Lock() // a writer's pending sync is on the old file
	defer j.syncMu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.end < j.opts.RotateBytes || j.indexedOff < j.end || j.closed {
		return nil
	}
	next := j.gen + 1
	f, err := os.OpenFile(filepath.Join(j.dir, journalName(next)), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("decision journal: %w", err)
	}
	if err := j.setIndexed(ctx, nil, next, 0); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	old := j.f
	j.f, j.gen, j.end = f, next, 0
	j.indexedGen, j.indexedOff = next, 0
	if j.rf != nil {
		j.rf.Close()
		j.rf = nil
	}
	old.Close()
	os.Remove(filepath.Join(j.dir, journalName(next-1)))
	return nil
}

// A frame's payload is the record without its input, as JSON, a newline,
// and the input as JSON: indexing decodes only the first part (JSON text
// holds no raw newline, so the first one separates them).
func encodeFrame(buf *bytes.Buffer, rec *Record) error {
	hdr := *rec
	hdr.Input = nil
	enc := json.NewEncoder(buf)
	if err := enc.Encode(&hdr); err != nil {
		return err
	}
	return enc.Encode(rec.Input)
}

func decodeFrame(p []byte) (Record, []byte, error) {
	var rec Record
	hdr, input, ok := bytes.Cut(p, []byte{'\n'})
	input = bytes.TrimSuffix(input, []byte{'\n'})
	if !ok || len(input) == 0 {
		return rec, nil, errors.New("a frame without the decision input")
	}
	if err := json.Unmarshal(hdr, &rec); err != nil {
		return rec, nil, err
	}
	return rec, input, nil
}

// insert stores the records of payloads and the journal position after
// them in one transaction; ids already stored are skipped (a replay).
func (j *journal) insert(ctx context.Context, payloads [][]byte, gen, off int64) error {
	tx, err := j.reg.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("decision journal: %w", err)
	}
	defer tx.Rollback()
	ins, err := prepareInserts(ctx, tx, true)
	if err != nil {
		return err
	}
	defer ins.close()
	for _, p := range payloads {
		rec, input, err := decodeFrame(p)
		if err != nil {
			j.opts.Logger.Error("decision journal: unreadable record skipped", "err", err)
			continue
		}
		if err := ins.insert(ctx, &rec, input); err != nil {
			return err
		}
	}
	if err := j.setIndexed(ctx, tx, gen, off); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("decision journal: %w", err)
	}
	return nil
}

// setIndexed stores how far the journal is indexed, in tx when given.
func (j *journal) setIndexed(ctx context.Context, tx *sql.Tx, gen, off int64) error {
	const q = `INSERT INTO policy_journals (dir, gen, off) VALUES (?, ?, ?)
		ON CONFLICT (dir) DO UPDATE SET gen = excluded.gen, off = excluded.off`
	var err error
	if tx != nil {
		_, err = tx.ExecContext(ctx, q, j.dir, gen, off)
	} else {
		_, err = j.reg.db.ExecContext(ctx, q, j.dir, gen, off)
	}
	if err != nil {
		return fmt.Errorf("decision journal: %w", err)
	}
	return nil
}

// wait returns once every record written before it was called is in the
// store.
func (j *journal) wait(ctx context.Context) error {
	ch := make(chan error, 1)
	select {
	case j.flush <- ch:
	case <-j.done:
		return nil // closed: everything was indexed on the way out
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (j *journal) close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	j.mu.Unlock()
	close(j.stop)
	<-j.done
	var err error
	if j.indexed.Load() != j.appended {
		err = fmt.Errorf("decision journal: %d records not yet in the state store; they stay in %s and are indexed on the next start", j.appended-j.indexed.Load(), j.dir)
	}
	if cerr := j.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	j.lock.Close()
	return err
}
