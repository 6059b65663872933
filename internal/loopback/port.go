package loopback

import (
	"net"
	"strconv"
	"testing"
)

// FreePort asks the kernel for a free loopback port. The port is released
// before the caller's server binds it, so a harness must retry on a bind
// failure in case someone else took it meanwhile.
func FreePort(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("loopback: find a free port: %v", err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	if err := l.Close(); err != nil {
		tb.Fatalf("loopback: %v", err)
	}
	return port
}
