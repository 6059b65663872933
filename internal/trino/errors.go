package trino

import "fmt"

// Code is one of Trino's StandardErrorCode entries that Meridian emits.
type Code struct {
	Name string
	Code int
	Type string // USER_ERROR, INTERNAL_ERROR, INSUFFICIENT_RESOURCES, EXTERNAL
}

// The error codes Meridian and the local engine emit, with the numbers of
// Trino's io.trino.spi.StandardErrorCode (checked against its source).
var (
	SyntaxError          = Code{"SYNTAX_ERROR", 1, "USER_ERROR"}
	AbandonedQuery       = Code{"ABANDONED_QUERY", 2, "USER_ERROR"}
	UserCanceled         = Code{"USER_CANCELED", 3, "USER_ERROR"}
	PermissionDenied     = Code{"PERMISSION_DENIED", 4, "USER_ERROR"}
	NotFound             = Code{"NOT_FOUND", 5, "USER_ERROR"}
	InvalidFunctionArg   = Code{"INVALID_FUNCTION_ARGUMENT", 7, "USER_ERROR"}
	DivisionByZero       = Code{"DIVISION_BY_ZERO", 8, "USER_ERROR"}
	InvalidCastArgument  = Code{"INVALID_CAST_ARGUMENT", 9, "USER_ERROR"}
	FunctionNotFound     = Code{"FUNCTION_NOT_FOUND", 6, "USER_ERROR"}
	NotSupported         = Code{"NOT_SUPPORTED", 13, "USER_ERROR"}
	InvalidSessionProp   = Code{"INVALID_SESSION_PROPERTY", 14, "USER_ERROR"}
	NumericOutOfRange    = Code{"NUMERIC_VALUE_OUT_OF_RANGE", 19, "USER_ERROR"}
	QueryRejected        = Code{"QUERY_REJECTED", 31, "USER_ERROR"}
	QueryTextTooLarge    = Code{"QUERY_TEXT_TOO_LARGE", 35, "USER_ERROR"}
	InvalidParameter     = Code{"INVALID_PARAMETER_USAGE", 80, "USER_ERROR"}
	CatalogNotFound      = Code{"CATALOG_NOT_FOUND", 44, "USER_ERROR"}
	SchemaNotFound       = Code{"SCHEMA_NOT_FOUND", 45, "USER_ERROR"}
	TableNotFound        = Code{"TABLE_NOT_FOUND", 46, "USER_ERROR"}
	ColumnNotFound       = Code{"COLUMN_NOT_FOUND", 47, "USER_ERROR"}
	MissingCatalogName   = Code{"MISSING_CATALOG_NAME", 56, "USER_ERROR"}
	MissingSchemaName    = Code{"MISSING_SCHEMA_NAME", 57, "USER_ERROR"}
	TypeMismatch         = Code{"TYPE_MISMATCH", 58, "USER_ERROR"}
	GenericUserError     = Code{"GENERIC_USER_ERROR", 0, "USER_ERROR"}
	GenericInternalError = Code{"GENERIC_INTERNAL_ERROR", 65536, "INTERNAL_ERROR"}
	NoNodesAvailable     = Code{"NO_NODES_AVAILABLE", 65541, "INTERNAL_ERROR"}
	ServerShuttingDown   = Code{"SERVER_SHUTTING_DOWN", 65545, "INTERNAL_ERROR"}
	ExceededTimeLimit    = Code{"EXCEEDED_TIME_LIMIT", 131075, "INSUFFICIENT_RESOURCES"}
	ExceededMemoryLimit  = Code{"EXCEEDED_LOCAL_MEMORY_LIMIT", 131079, "INSUFFICIENT_RESOURCES"}
)

// QueryError is the error block of QueryResults.
type QueryError struct {
	Message       string         `json:"message"`
	SQLState      string         `json:"sqlState,omitempty"`
	ErrorCode     int            `json:"errorCode"`
	ErrorName     string         `json:"errorName"`
	ErrorType     string         `json:"errorType"`
	ErrorLocation *ErrorLocation `json:"errorLocation,omitempty"`
	FailureInfo   *FailureInfo   `json:"failureInfo,omitempty"`
}

// ErrorLocation is a 1-based line and column in the statement text.
type ErrorLocation struct {
	LineNumber   int `json:"lineNumber"`
	ColumnNumber int `json:"columnNumber"`
}

// FailureInfo mirrors Trino's failure description; Meridian never sends
// stack traces.
type FailureInfo struct {
	Type          string         `json:"type"`
	Message       string         `json:"message"`
	Suppressed    []FailureInfo  `json:"suppressed"`
	Stack         []string       `json:"stack"`
	ErrorLocation *ErrorLocation `json:"errorLocation,omitempty"`
}

// Error is a Go error that carries a Trino error code and, for errors in the
// statement text, its position. Line and Column are 1-based; 0 means unknown.
type Error struct {
	Code    Code
	Message string
	Line    int
	Column  int
}

// Errorf builds an Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// At returns a copy of e located at line:column of the statement.
func (e *Error) At(line, column int) *Error {
	c := *e
	c.Line, c.Column = line, column
	return &c
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d:%d: %s", e.Line, e.Column, e.Message)
	}
	return e.Message
}

// QueryError renders e as the protocol's error block. The message carries the
// "line L:C: " prefix as Trino's does.
func (e *Error) QueryError() *QueryError {
	q := &QueryError{
		Message:   e.Error(),
		ErrorCode: e.Code.Code,
		ErrorName: e.Code.Name,
		ErrorType: e.Code.Type,
	}
	if e.Line > 0 {
		q.ErrorLocation = &ErrorLocation{LineNumber: e.Line, ColumnNumber: e.Column}
	}
	q.FailureInfo = &FailureInfo{
		Type:          "io.trino.spi.TrinoException",
		Message:       q.Message,
		Suppressed:    []FailureInfo{},
		Stack:         []string{},
		ErrorLocation: q.ErrorLocation,
	}
	return q
}
