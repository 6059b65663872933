package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progressBar reports a long job's progress on standard error: a line
// redrawn in place when it is a terminal, otherwise a line every few
// seconds, so logs stay readable.
type progressBar struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	label    string
	every    time.Duration
	last     time.Time
	drawn    bool
	start    time.Time
	lastLine string
}

func newProgressBar(w io.Writer, label string) *progressBar {
	b := &progressBar{w: w, label: label, every: 5 * time.Second, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.tty, b.every = true, 100*time.Millisecond
		}
	}
	return b
}

// update reports done of total (total 0: unknown) things.
func (b *progressBar) update(done, total int64, what string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if now.Sub(b.last) < b.every && done != total {
		return
	}
	b.last = now
	var line string
	if total > 0 {
		const width = 30
		filled := int(min(done, total) * width / total)
		line = fmt.Sprintf("%s [%s%s] %d/%d %s", b.label, strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, what)
	} else {
		line = fmt.Sprintf("%s: %d %s", b.label, done, what)
	}
	if line == b.lastLine {
		return
	}
	b.lastLine = line
	if b.tty {
		fmt.Fprintf(b.w, "\r\033[K%s", line)
		b.drawn = true
		return
	}
	fmt.Fprintln(b.w, line)
}

// done ends the bar with a final line.
func (b *progressBar) done(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		b.drawn = false
	}
	fmt.Fprintf(b.w, "%s: %s (%.1f s)\n", b.label, msg, time.Since(b.start).Seconds())
}
