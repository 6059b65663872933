// Command meridian-engine is the local regional engine: one region's
// stand-in Trino coordinator, serving the Trino client protocol over DuckDB
// for the tables of that region's warehouse locations (package engine). It
// is the only Meridian binary that needs cgo. Nothing imports it.
//
//	meridian-engine --region eu --config meridian.yaml [--listen 127.0.0.1:8081]
//
// The configuration file is Meridian's own: the engine reads its catalog
// section (catalogs and regions) and ignores the rest. It prints
// "meridian-engine <region> listening on http://<addr>" on stdout once it
// accepts connections, logs JSON to stderr (one line per query, with the
// statement's literal-free fingerprint, never its text) and stops cleanly on
// SIGINT or SIGTERM.
package main
