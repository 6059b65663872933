// Package s3test starts a real S3 server, versitygw with its posix backend,
// on the loopback interface for integration tests. Each [Start] gets its own
// process, free port, data directory and random root keys, waits until a
// signed ListBuckets succeeds, creates the requested buckets and stops the
// process when the test ends, printing its log if the test failed.
//
// versitygw speaks the S3 protocol for list, get, put, copy, tag, delete and
// multipart, but ignores storage classes and does not implement lifecycle
// configuration or RestoreObject (LIFECYCLE.md, "Local S3 servers"); the
// storage-class simulator models those on top of it.
//
// The binary is installed by `make tools` into .cache/versitygw-<version>; the Makefile
// passes its path in MERIDIAN_VERSITYGW.
//
// The package sits outside the statement path. Only tests may import it;
// nothing that is built into a Meridian binary may.
package s3test
