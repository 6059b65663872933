package loopback_test

import (
	"net"
	"testing"

	"github.com/meridian-lake/meridian/internal/loopback"
)

func TestFreePortIsBindable(t *testing.T) {
	p := loopback.FreePort(t)
	l, err := net.Listen("tcp", "127.0.0.1:"+p)
	if err != nil {
		t.Fatalf("FreePort gave %s, which cannot be bound: %v", p, err)
	}
	l.Close()
}
