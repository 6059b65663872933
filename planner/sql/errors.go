package sql

import "fmt"

// Error names, as Trino reports them to clients.
const (
	ErrSyntax   = "SYNTAX_ERROR"
	ErrTooLarge = "QUERY_TEXT_TOO_LARGE"
)

// Error is a parse failure at a position in the statement text. Name is the
// Trino error name a client sees.
type Error struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	Pos            // line and column, flattened into the JSON form
}

func (e *Error) Error() string {
	if e.Pos.Line == 0 {
		return e.Message
	}
	return fmt.Sprintf("line %d:%d: %s", e.Pos.Line, e.Pos.Column, e.Message)
}
