package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// The URIs of a QueryResults document that point back at the cluster; the
// proxy replaces them with routing-token URIs on Meridian.
var rewrittenKeys = map[string]bool{"nextUri": true, "partialCancelUri": true, "infoUri": true}

// maxURIBytes bounds a URI value the rewriter holds in memory.
const maxURIBytes = 16 << 10

// pageSummary is what the proxy learns from a page while streaming it.
type pageSummary struct {
	ID      string // the upstream query id
	NextURI string // "" when the query is done
}

// rewritePage copies a QueryResults document from src to dst, replacing the
// top-level URI fields (nextUri, partialCancelUri, infoUri) by what rewrite
// returns for them, and everything else byte for byte. It holds at most one
// URI in memory, never the rows: memory does not grow with the page. The
// document is not validated beyond what finding top-level keys needs; a
// malformed one is copied as it is.
//
// onID, when not nil, is called with the query id as soon as it is read,
// before the rest of the page reaches the client: whatever the client may do
// with the id (cancel the query) finds it registered.
func rewritePage(dst io.Writer, src io.Reader, rewrite func(key, uri string) (string, error), onID func(string)) (pageSummary, error) {
	var sum pageSummary
	w := writers.Get().(*bufio.Writer)
	w.Reset(dst)
	bp := readBufs.Get().(*[]byte)
	defer func() {
		w.Reset(nil)
		writers.Put(w)
		readBufs.Put(bp)
	}()
	r := &pageScanner{rewrite: rewrite, onID: onID, sum: &sum, w: w}
	buf := *bp
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if werr := r.feed(buf[:n]); werr != nil {
				return sum, werr
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sum, err
		}
	}
	if r.capturing {
		return sum, errors.New("the page ended inside a URI")
	}
	return sum, w.Flush()
}

// rewritePageHead is rewritePage for a page already in memory, which lets
// it know what the rest of the page holds: once the scanner reaches the
// first nested value (the columns, then the rows), if nothing after that
// point could be a URI key or the id ("…Uri\"" or "\"id\"" occur nowhere,
// not even inside a row), the rest is not followed. It writes the
// rewritten page up to tail, from where on the page goes out unchanged
// (tail is len(page) when the whole page had to be followed): the caller
// sends page[tail:] itself, without a copy. Head and tail together are
// what rewritePage writes.
func rewritePageHead(dst io.Writer, page []byte, rewrite func(key, uri string) (string, error), onID func(string)) (sum pageSummary, tail int, err error) {
	w := writers.Get().(*bufio.Writer)
	w.Reset(dst)
	defer func() {
		w.Reset(nil)
		writers.Put(w)
	}()
	r := &pageScanner{rewrite: rewrite, onID: onID, sum: &sum, w: w, whole: true, tail: len(page)}
	if err := r.feed(page); err != nil {
		return sum, 0, err
	}
	if r.capturing {
		return sum, 0, errors.New("the page ended inside a URI")
	}
	return sum, r.tail, w.Flush()
}

// noKeysAhead reports whether b cannot hold a key the scanner acts on.
func noKeysAhead(b []byte) bool {
	return !bytes.Contains(b, []byte(`Uri"`)) && !bytes.Contains(b, []byte(`"id"`))
}

// The buffers of rewritePage are reused: every page of every query passes
// through it.
var (
	writers  = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}
	readBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
)

// Phases of the scanner at depth 1 (inside the root object).
const (
	phaseKey   = iota // expecting a key
	phaseColon        // after a key, expecting ':'
	phaseValue        // expecting a value
	phaseOther        // inside or after a value
)

type pageScanner struct {
	rewrite func(key, uri string) (string, error)
	onID    func(string)
	sum     *pageSummary
	w       *bufio.Writer

	whole   bool // feed gets the whole page at once
	checked bool // whole: the rest was looked at once
	tail    int  // whole: where the page goes on unchanged

	depth     int
	inStr     bool
	esc       bool
	phase     int
	keyStr    bool   // the string being read is a key at depth 1
	key       []byte // the last key at depth 1
	capturing bool   // inside a URI value being replaced (not yet written)
	value     []byte
}

func (s *pageScanner) feed(b []byte) error {
	start := 0 // b[start:i] is pending output
	for i := 0; i < len(b); i++ {
		// Below the top level (the rows) only strings and brackets
		// matter: skip to where the value ends.
		if s.depth >= 2 {
			if s.whole && !s.checked {
				// b is the whole page: when nothing ahead can be a key
				// the scanner acts on, the rest goes out as it is.
				s.checked = true
				if noKeysAhead(b[i:]) {
					_, err := s.w.Write(b[start:i])
					s.tail, s.depth = i, 0
					return err
				}
			}
			if i = s.skipNested(b, i); i == len(b) {
				break
			}
		}
		c := b[i]
		if s.inStr {
			switch {
			case s.esc:
				s.esc = false
			case c == '\\':
				s.esc = true
			case c == '"':
				s.inStr = false
			}
			if s.capturing {
				if s.inStr {
					if len(s.value) >= maxURIBytes {
						return fmt.Errorf("a URI in the page is over %d bytes", maxURIBytes)
					}
					s.value = append(s.value, c)
				} else if err := s.finishValue(); err != nil {
					return err
				}
				start = i + 1
				continue
			}
			if s.keyStr {
				if s.inStr {
					if len(s.key) < 64 {
						s.key = append(s.key, c)
					}
				} else {
					s.keyStr = false
					s.phase = phaseColon
				}
			}
			continue
		}
		switch c {
		case '"':
			s.inStr = true
			if s.depth != 1 {
				break
			}
			switch s.phase {
			case phaseKey:
				s.keyStr, s.key = true, s.key[:0]
			case phaseValue:
				s.phase = phaseOther
				if rewrittenKeys[string(s.key)] || string(s.key) == "id" {
					// Hold the value back: write what precedes it.
					if _, err := s.w.Write(b[start:i]); err != nil {
						return err
					}
					start = i + 1
					s.capturing, s.value = true, s.value[:0]
				}
			}
		case ':':
			if s.depth == 1 && s.phase == phaseColon {
				s.phase = phaseValue
			}
		case ',':
			if s.depth == 1 {
				s.phase = phaseKey
			}
		case '{', '[':
			if s.depth == 1 && s.phase == phaseValue {
				s.phase = phaseOther
			}
			s.depth++
			if s.depth == 1 {
				s.phase = phaseKey
			}
		case '}', ']':
			s.depth--
		case ' ', '\t', '\n', '\r':
		default:
			if s.depth == 1 && s.phase == phaseValue {
				s.phase = phaseOther // a number, true, false or null
			}
		}
	}
	_, err := s.w.Write(b[start:])
	return err
}

// skipNested consumes b from i while the scanner is inside a nested value
// (depth 2 or more), following only strings and brackets, and returns the
// index after the bracket that brings it back to the top level (or len(b)).
func (s *pageScanner) skipNested(b []byte, i int) int {
	for i < len(b) {
		if s.inStr {
			for i < len(b) && s.inStr {
				c := b[i]
				i++
				switch {
				case s.esc:
					s.esc = false
				case c == '\\':
					s.esc = true
				case c == '"':
					s.inStr = false
				}
			}
			continue
		}
		c := b[i]
		i++
		switch c {
		case '"':
			s.inStr = true
		case '[', '{':
			s.depth++
		case ']', '}':
			if s.depth--; s.depth < 2 {
				return i
			}
		}
	}
	return i
}

// finishValue writes the held-back value, rewritten when its key asks.
func (s *pageScanner) finishValue() error {
	s.capturing = false
	var v string
	if plainJSON(s.value) {
		v = string(s.value) // no escapes: the bytes are the string
	} else {
		raw := make([]byte, 0, len(s.value)+2)
		raw = append(append(append(raw, '"'), s.value...), '"')
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("a URI in the page is not a valid JSON string: %v", err)
		}
	}
	key := string(s.key)
	out := v
	switch {
	case key == "id":
		s.sum.ID = v
		if s.onID != nil && v != "" {
			s.onID(v)
		}
	default:
		if key == "nextUri" {
			s.sum.NextURI = v
		}
		var err error
		if out, err = s.rewrite(key, v); err != nil {
			return err
		}
	}
	if plainJSON([]byte(out)) {
		s.w.WriteByte('"')
		s.w.WriteString(out)
		return s.w.WriteByte('"')
	}
	enc, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = s.w.Write(enc)
	return err
}

// plainJSON reports whether b is printable ASCII that a JSON string holds
// as it is: no quote, backslash, control byte, or the characters
// encoding/json escapes for HTML (<, >, &).
func plainJSON(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
