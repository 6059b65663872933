// Package sql is Meridian's Trino-dialect SQL front end: a lexer, a
// recursive-descent parser and a syntax tree that keeps source positions.
//
// It is the first step of the statement path: server hands it the text a
// client sent (after unwrapping prepared statements), and planner analyses
// the tree it returns. Errors are *Error values carrying Trino error names
// (SYNTAX_ERROR, QUERY_TEXT_TOO_LARGE) and line:column positions, so a client
// sees what a Trino coordinator would show.
//
// The grammar follows Trino's SQL reference. Forms the tree does not model in
// detail (JSON function clauses, JSON_TABLE column lists, row patterns,
// routine bodies) are kept as nodes whose every inner expression and subquery
// is still parsed, so Inspect reaches every table reference in a statement.
// Input is untrusted: statement size, nesting depth and token count are
// bounded (Parser), invalid UTF-8 is rejected, and the parser never panics.
//
// Package sql imports nothing else from Meridian. Any package may import it.
package sql
