package engine

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/meridian-lake/meridian/internal/trino"
)

// request is what a POST /v1/statement carries besides its text.
type request struct {
	sess     Session
	prepared map[string]string
}

// maxSessionProperties bounds X-Trino-Session entries.
const maxSessionProperties = 1000

// headerReader reads X-Trino- headers, or their old X-Presto- aliases when
// the client uses those; a client mixing both is refused, as Trino does.
type headerReader struct {
	h      http.Header
	prefix string
}

func newHeaderReader(h http.Header) (headerReader, error) {
	var trinoSeen, prestoSeen bool
	for k := range h {
		switch {
		case strings.HasPrefix(k, "X-Trino-"):
			trinoSeen = true
		case strings.HasPrefix(k, "X-Presto-"):
			prestoSeen = true
		}
	}
	if trinoSeen && prestoSeen {
		return headerReader{}, trino.Errorf(trino.GenericUserError, "the request mixes X-Trino- and X-Presto- headers: use one protocol name")
	}
	prefix := "X-Trino-"
	if prestoSeen {
		prefix = "X-Presto-"
	}
	return headerReader{h: h, prefix: prefix}, nil
}

// get reads header name, given in its X-Trino- form.
func (r headerReader) get(name string) string {
	return strings.TrimSpace(r.h.Get(r.prefix + strings.TrimPrefix(name, "X-Trino-")))
}

func (r headerReader) values(name string) []string {
	return r.h.Values(r.prefix + strings.TrimPrefix(name, "X-Trino-"))
}

// parseRequest reads the session and prepared statements from a statement
// request's headers.
func parseRequest(h http.Header) (request, error) {
	r, err := newHeaderReader(h)
	if err != nil {
		return request{}, err
	}
	s := Session{
		User:     r.get(trino.HeaderUser),
		Catalog:  strings.ToLower(r.get(trino.HeaderCatalog)),
		Schema:   strings.ToLower(r.get(trino.HeaderSchema)),
		TimeZone: r.get(trino.HeaderTimeZone),
		Source:   r.get(trino.HeaderSource),
	}
	if s.User == "" {
		return request{}, trino.Errorf(trino.GenericUserError, "User must be set: send the X-Trino-User header")
	}
	if s.Schema != "" && s.Catalog == "" {
		return request{}, trino.Errorf(trino.MissingCatalogName, "Schema is set but catalog is not: send X-Trino-Catalog too")
	}
	if s.TimeZone != "" {
		if _, err := time.LoadLocation(s.TimeZone); err != nil {
			return request{}, trino.Errorf(trino.GenericUserError, "Time zone not supported: %s", s.TimeZone)
		}
	}
	for _, v := range r.values(trino.HeaderClientTags) {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				s.ClientTags = append(s.ClientTags, t)
			}
		}
	}
	for _, v := range r.values(trino.HeaderSession) {
		for _, entry := range strings.Split(v, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			k, val, ok := strings.Cut(entry, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return request{}, trino.Errorf(trino.InvalidSessionProp, "X-Trino-Session entry %q is not name=value", entry)
			}
			if val, err = url.QueryUnescape(strings.TrimSpace(val)); err != nil {
				return request{}, trino.Errorf(trino.InvalidSessionProp, "X-Trino-Session value of %s is not url-encoded", k)
			}
			if s.Properties == nil {
				s.Properties = map[string]string{}
			}
			s.Properties[strings.TrimSpace(k)] = val
			if len(s.Properties) > maxSessionProperties {
				return request{}, trino.Errorf(trino.InvalidSessionProp, "more than %d session properties", maxSessionProperties)
			}
		}
	}
	prepared, err := trino.ParsePrepared(r.values(trino.HeaderPreparedStatement))
	if err != nil {
		return request{}, trino.Errorf(trino.GenericUserError, "X-Trino-Prepared-Statement: %v", err)
	}
	return request{sess: s, prepared: prepared}, nil
}
