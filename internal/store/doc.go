// Package store opens Meridian's state database (SQLite by default, one file;
// PostgreSQL later for several replicas) and applies each package's schema
// migrations. Packages own their tables: a package declares its migrations as
// a named, ordered list and calls Migrate; store records which have run.
//
// It sits beside the statement path: catalog records governance edits in it,
// policy its versions and decision records, lifecycle its journal. It imports
// nothing else from Meridian; any package may import it.
package store
