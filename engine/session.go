package engine

// Session is the per-statement state a client sends in X-Trino-* headers and
// the engine needs to compile and run a statement.
type Session struct {
	User     string
	Catalog  string // default catalog for unqualified names ("" = none)
	Schema   string // default schema ("" = none)
	TimeZone string // IANA zone name ("" = UTC)
	// Properties are the session properties (X-Trino-Session name=value).
	Properties map[string]string
}
