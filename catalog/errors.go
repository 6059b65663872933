package catalog

import (
	"errors"
	"fmt"
)

// Sentinel kinds of catalog errors; test with errors.Is.
var (
	// ErrTableNotFound: no table or view of that name (Trino TABLE_NOT_FOUND).
	ErrTableNotFound = errors.New("table not found")
	// ErrCatalogNotFound: the Trino catalog name is not configured.
	ErrCatalogNotFound = errors.New("catalog not found")
	// ErrUnavailable: the Iceberg catalog or the table's metadata could not be
	// read (unreachable, corrupt). The planner fails closed.
	ErrUnavailable = errors.New("catalog unavailable")
	// ErrInvalidProperty: a governance property is malformed.
	ErrInvalidProperty = errors.New("invalid governance property")
)

// Error is a catalog failure about one table.
type Error struct {
	Kind     error  // one of the sentinels above
	Catalog  string // the Trino catalog name
	Table    string // the table, as catalog.schema.table
	Property string // the offending property, for ErrInvalidProperty
	Msg      string // what a person can act on
	Err      error  // the underlying cause, if any
}

func (e *Error) Error() string {
	var s string
	switch {
	case e.Kind == ErrInvalidProperty:
		s = fmt.Sprintf("table %s: property %s: %s", e.Table, e.Property, e.Msg)
	case e.Table != "":
		s = fmt.Sprintf("table %s: %s", e.Table, e.Msg)
	default:
		s = fmt.Sprintf("catalog %s: %s", e.Catalog, e.Msg)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap lets errors.Is match both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}
