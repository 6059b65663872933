// Package e2e is Meridian's end-to-end test harness: its tests build both
// binaries, create a small demo lake, start `meridian demo up` as a real
// process (three meridian-engine regions behind Meridian) and drive it with
// the real trino-go-client, the npm trino-client and a raw HTTP client.
// They check routing from the engines' own query logs, governance bypass
// attempts, cancellation, large results and failover; its benchmarks
// (make bench) measure Meridian against the engines directly, side by side.
//
// Nothing imports this package; it holds only tests.
package e2e
