package engine

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// idSource hands out query ids in Trino's form, 20241030_150409_00000_zhg55:
// the UTC start time, a counter and this engine's 5-letter instance name.
type idSource struct {
	mu       sync.Mutex
	counter  int
	instance string
	now      func() time.Time
}

func newIDSource() *idSource {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return &idSource{instance: string(b), now: time.Now}
}

func (s *idSource) next() string {
	s.mu.Lock()
	n := s.counter
	s.counter = (s.counter + 1) % 100_000
	s.mu.Unlock()
	return fmt.Sprintf("%s_%05d_%s", s.now().UTC().Format("20060102_150405"), n, s.instance)
}

// newSlug is the unguessable part of a query's URIs: only the client that
// submitted the query learns it.
func newSlug() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "y" + hex.EncodeToString(b)
}

// transactionID is a fresh id for START TRANSACTION.
func transactionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
