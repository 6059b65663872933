package engine

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/trino"
	parse "github.com/meridian-lake/meridian/planner/sql"
)

var (
	errShuttingDown = trino.Errorf(trino.ServerShuttingDown, "the engine is shutting down; retry on another node")
	errCanceled     = trino.Errorf(trino.UserCanceled, "Query was canceled")
)

func errAbandoned(after time.Duration) *trino.Error {
	return trino.Errorf(trino.AbandonedQuery, "Query was abandoned: the client did not ask for results for %s", after)
}

// queryError is the one place that decides what a client sees for an error.
// Errors the engine raises itself already are *trino.Error; DuckDB's are
// classified by kind. A DuckDB parser error is never the user's syntax error:
// the Trino text parsed, so the translation is what DuckDB could not read.
func queryError(err error) *trino.Error {
	var te *trino.Error
	var pe *parse.Error
	var ce *catalog.Error
	var de *duckdb.Error
	switch {
	case errors.As(err, &te):
		return te
	case errors.As(err, &pe):
		code := trino.SyntaxError
		if pe.Name == parse.ErrTooLarge {
			code = trino.QueryTextTooLarge
		}
		return trino.Errorf(code, "%s", pe.Message).At(pe.Pos.Line, pe.Pos.Column)
	case errors.As(err, &ce):
		switch {
		case errors.Is(err, catalog.ErrTableNotFound):
			return trino.Errorf(trino.TableNotFound, "%s", ce.Error())
		case errors.Is(err, catalog.ErrCatalogNotFound):
			return trino.Errorf(trino.CatalogNotFound, "%s", ce.Error())
		}
		return trino.Errorf(trino.GenericInternalError, "%s", ce.Error())
	case errors.As(err, &de):
		return duckError(de)
	case errors.Is(err, context.Canceled):
		return errCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return trino.Errorf(trino.ExceededTimeLimit, "Query exceeded its time limit")
	}
	return trino.Errorf(trino.GenericInternalError, "%s", err.Error())
}

func duckError(de *duckdb.Error) *trino.Error {
	msg := duckMessage(de.Msg)
	lower := strings.ToLower(msg)
	switch de.Type {
	case duckdb.ErrorTypeParser, duckdb.ErrorTypeSyntax:
		return trino.Errorf(trino.NotSupported, "the local engine cannot run this statement (DuckDB could not parse its translation): %s", msg)
	case duckdb.ErrorTypeCatalog:
		switch {
		case strings.Contains(lower, "function with name"), strings.Contains(lower, "macro function"):
			return trino.Errorf(trino.FunctionNotFound, "%s", msg)
		case strings.Contains(lower, "schema with name"):
			return trino.Errorf(trino.SchemaNotFound, "%s", msg)
		case strings.Contains(lower, "table with name"), strings.Contains(lower, "does not exist"):
			return trino.Errorf(trino.TableNotFound, "%s", msg)
		}
	case duckdb.ErrorTypeBinder:
		switch {
		case strings.Contains(lower, "referenced column"), strings.Contains(lower, "column") && strings.Contains(lower, "not found"):
			return trino.Errorf(trino.ColumnNotFound, "%s", msg)
		case strings.Contains(lower, "no function matches"):
			return trino.Errorf(trino.FunctionNotFound, "%s", msg)
		}
		return trino.Errorf(trino.TypeMismatch, "%s", msg)
	case duckdb.ErrorTypeDivideByZero:
		return trino.Errorf(trino.DivisionByZero, "Division by zero")
	case duckdb.ErrorTypeConversion:
		return trino.Errorf(trino.InvalidCastArgument, "%s", msg)
	case duckdb.ErrorTypeOutOfRange:
		return trino.Errorf(trino.NumericOutOfRange, "%s", msg)
	case duckdb.ErrorTypeInvalidInput:
		return trino.Errorf(trino.InvalidFunctionArg, "%s", msg)
	case duckdb.ErrorTypeOutOfMemory:
		return trino.Errorf(trino.ExceededMemoryLimit, "%s", msg)
	case duckdb.ErrorTypeInterrupt:
		return errCanceled
	case duckdb.ErrorTypePermission:
		return trino.Errorf(trino.PermissionDenied, "%s", msg)
	case duckdb.ErrorTypeNotImplemented:
		return trino.Errorf(trino.NotSupported, "%s", msg)
	}
	return trino.Errorf(trino.GenericInternalError, "%s", msg)
}

// duckMessage drops DuckDB's "Binder Error: " prefix and the excerpt of the
// DuckDB SQL it appends ("LINE 1: …"), which would point into text the client
// never wrote.
func duckMessage(msg string) string {
	if i := strings.Index(msg, "\nLINE "); i >= 0 {
		msg = msg[:i]
	}
	if k, rest, ok := strings.Cut(msg, " Error: "); ok && len(k) < 30 {
		msg = rest
	}
	return strings.TrimSpace(msg)
}

// located adds the statement position of node n to a *trino.Error.
func located(err *trino.Error, n parse.Node) *trino.Error {
	p := n.Position()
	if p.Line == 0 {
		return err
	}
	return err.At(p.Line, p.Column)
}

func notSupported(n parse.Node, format string, args ...any) *trino.Error {
	return located(trino.Errorf(trino.NotSupported, format, args...), n)
}
