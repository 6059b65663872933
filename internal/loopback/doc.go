// Package loopback finds free TCP ports on 127.0.0.1 for the test harnesses
// that start real servers (internal/s3test, internal/pgtest).
//
// It sits outside the statement path; only those harnesses import it.
package loopback
