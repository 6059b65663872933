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
	// Source is the client's X-Trino-Source ("trino-go-client").
	Source string
	// ClientTags are the X-Trino-Client-Tags.
	ClientTags []string
	// QueryID is the id the engine gave the statement.
	QueryID string
}
