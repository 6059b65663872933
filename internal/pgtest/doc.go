// Package pgtest starts a real PostgreSQL server on the loopback interface
// for integration tests, such as the Iceberg SQL catalog on PostgreSQL. Each
// [Start] runs initdb into a fresh temporary directory, starts its own
// postgres process on a free 127.0.0.1 port (with its Unix socket in a
// private directory), waits until `SELECT 1` succeeds over a real
// connection, creates a database for the test, and stops the server when the
// test ends, printing the server log if the test failed.
//
// Authentication is scram-sha-256 with a random password per server, for TCP
// and the socket alike: other local users cannot reach a test's database, and
// clients authenticate as they do against a production server. The server is
// tuned for throwaway data (fsync, full_page_writes and synchronous_commit
// off, minimal WAL, no autovacuum): it loses everything on a crash, which is
// what a test wants.
//
// PostgreSQL refuses to run as root, so when the tests run as root the server
// runs as the postgres system user. The binaries come from $MERIDIAN_PGBIN,
// else the newest /usr/lib/postgresql/*/bin; `make tools` installs them. A
// missing binary fails the test: integration tests never skip silently.
//
// The package sits outside the statement path. Only tests may import it;
// nothing that is built into a Meridian binary may.
package pgtest
