package lifecycle

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// AccessRecorder writes access records in the background, many statements
// per transaction: the proxy hands each statement's reads to it and moves
// on. A record waits at most its delay (or until a batch fills); Close
// writes what is queued. A crash can lose the last delay's worth of
// history, which only makes lifecycle see those partitions as read a
// moment earlier.
type AccessRecorder struct {
	log    *AccessLog
	logger *slog.Logger
	delay  time.Duration
	queue  chan []AccessRecord
	done   chan struct{}

	mu     sync.RWMutex // closed, and closing the queue
	closed bool
}

// accessBatchMax bounds the records of one transaction.
const accessBatchMax = 2048

// Recorder starts an AccessRecorder on l that writes at least every delay.
func (l *AccessLog) Recorder(delay time.Duration, logger *slog.Logger) *AccessRecorder {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &AccessRecorder{log: l, logger: logger, delay: delay, queue: make(chan []AccessRecord, 4096), done: make(chan struct{})}
	go r.run()
	return r
}

// Add queues one statement's records. It blocks only when the queue is
// full (the state store is far behind).
func (r *AccessRecorder) Add(recs ...AccessRecord) {
	if len(recs) == 0 {
		return
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		// A statement that outlived the shutdown's grace period.
		r.logger.Warn("access history not recorded: Meridian is stopping", "records", len(recs))
		return
	}
	r.queue <- recs
}

// Close writes everything queued and stops.
func (r *AccessRecorder) Close() {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.queue)
	}
	r.mu.Unlock()
	<-r.done
}

func (r *AccessRecorder) run() {
	defer close(r.done)
	var batch []AccessRecord
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := r.log.Record(context.Background(), batch...); err != nil {
			r.logger.Warn("access history not recorded", "records", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case recs, ok := <-r.queue:
			if !ok {
				flush()
				return
			}
			if len(batch) == 0 {
				timer.Reset(r.delay)
			}
			batch = append(batch, recs...)
			if len(batch) >= accessBatchMax {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}
