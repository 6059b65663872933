package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logWriter buffers log lines and writes them every logFlushEvery (or
// when the buffer fills), so a statement does not pay a write system call
// for its log line. Close writes what is left. A crash loses at most the
// last logFlushEvery of log lines; the decision records, which are the
// audit trail, are written before each statement is forwarded regardless.
type logWriter struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

const logFlushEvery = 200 * time.Millisecond

func newLogWriter(w io.Writer) *logWriter {
	l := &logWriter{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(logFlushEvery)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.mu.Lock()
				l.w.Flush()
				l.mu.Unlock()
			}
		}
	}()
	return l
}

// Write takes one log line (slog writes each record in one call).
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Close stops the flusher and writes what is buffered.
func (l *logWriter) Close() error {
	select {
	case <-l.stop:
	default:
		close(l.stop)
		<-l.done
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Flush()
}
