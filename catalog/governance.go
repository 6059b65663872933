package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Governance table properties (GOVERNANCE.md, "Governance metadata").
const (
	PropPrefix         = "meridian."
	PropResidency      = "meridian.residency"
	PropClassification = "meridian.classification"
	PropPurposes       = "meridian.purposes"
	PropRetentionDays  = "meridian.retention-days"
	propColumnPrefix   = "meridian.column."
	propColumnSuffix   = ".tags"
)

// TagPII marks a column that holds personal data.
const TagPII = "pii"

// Classification is a table's data classification.
type Classification string

// Classifications, from least to most protected. Unclassified (no
// meridian.classification) is not public: policy treats it as personal.
const (
	Unclassified Classification = ""
	Public       Classification = "public"
	Internal     Classification = "internal"
	Personal     Classification = "personal"
	Special      Classification = "special" // GDPR Art. 9 special categories
)

var classifications = []Classification{Public, Internal, Personal, Special}

// RegionUnknown is the region of a table whose region cannot be determined.
// Policy treats it as the strictest case, never as public.
const RegionUnknown = "unknown"

// RegionSource says where a table's region came from.
type RegionSource string

// Region sources.
const (
	RegionFromProperty RegionSource = "property"
	RegionFromLocation RegionSource = "location"
	RegionNotFound     RegionSource = "unknown"
)

// maxRetentionDays bounds meridian.retention-days (a century).
const maxRetentionDays = 36500

// Governance is the governance metadata of a table, parsed from its properties.
type Governance struct {
	Classification Classification `json:"classification"`
	Purposes       []string       `json:"purposes,omitempty"`
	// RetentionDays is 0 when the table has no retention.
	RetentionDays int `json:"retention_days,omitempty"`
	// Residency is meridian.residency as set ("" when absent).
	Residency string `json:"residency,omitempty"`
}

// parseGovernance reads the governance properties of table. columns are the
// table's column names (lower-case); tags on columns that no longer exist are
// ignored. knownRegion says whether a residency value names a configured
// region.
func parseGovernance(table string, props map[string]string, knownRegion func(string) bool) (Governance, map[string][]string, error) {
	var g Governance
	bad := func(prop, format string, args ...any) error {
		return &Error{Kind: ErrInvalidProperty, Table: table, Property: prop, Msg: fmt.Sprintf(format, args...)}
	}
	if v, ok := props[PropClassification]; ok {
		c, err := parseClassification(v)
		if err != nil {
			return g, nil, bad(PropClassification, "%v", err)
		}
		g.Classification = c
	}
	if v, ok := props[PropPurposes]; ok {
		p, err := parseList(v)
		if err != nil {
			return g, nil, bad(PropPurposes, "%v", err)
		}
		g.Purposes = p
	}
	if v, ok := props[PropRetentionDays]; ok {
		n, err := parseRetention(v)
		if err != nil {
			return g, nil, bad(PropRetentionDays, "%v", err)
		}
		g.RetentionDays = n
	}
	if v, ok := props[PropResidency]; ok {
		r := strings.ToLower(strings.TrimSpace(v))
		if r == "" || !knownRegion(r) {
			return g, nil, bad(PropResidency, "%q is not a configured region", v)
		}
		g.Residency = r
	}
	tags := map[string][]string{}
	for k, v := range props {
		col, ok := columnOfTagProperty(k)
		if !ok {
			continue
		}
		t, err := parseList(v)
		if err != nil {
			return g, nil, bad(k, "%v", err)
		}
		tags[col] = t
	}
	return g, tags, nil
}

func parseClassification(v string) (Classification, error) {
	c := Classification(strings.ToLower(strings.TrimSpace(v)))
	if slices.Contains(classifications, c) {
		return c, nil
	}
	return "", fmt.Errorf("%q is not a classification; use one of public, internal, personal, special", v)
}

func parseRetention(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 || n > maxRetentionDays {
		return 0, fmt.Errorf("%q is not a number of days from 1 to %d", v, maxRetentionDays)
	}
	return n, nil
}

// parseList parses a comma-separated list of lower-case words
// ([a-z0-9_-], at most 64 characters each).
func parseList(v string) ([]string, error) {
	var out []string
	for _, item := range strings.Split(v, ",") {
		item = strings.ToLower(strings.TrimSpace(item))
		if item == "" {
			continue
		}
		if len(item) > 64 || strings.IndexFunc(item, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-')
		}) >= 0 {
			return nil, fmt.Errorf("%q is not a word of letters, digits, '_' or '-'", item)
		}
		if !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	return out, nil
}

// columnOfTagProperty returns c for "meridian.column.<c>.tags".
func columnOfTagProperty(k string) (string, bool) {
	if !strings.HasPrefix(k, propColumnPrefix) || !strings.HasSuffix(k, propColumnSuffix) {
		return "", false
	}
	c := k[len(propColumnPrefix) : len(k)-len(propColumnSuffix)]
	if c == "" {
		return "", false
	}
	return strings.ToLower(c), true
}

// ColumnTagsProperty is the property that holds column c's tags.
func ColumnTagsProperty(c string) string {
	return propColumnPrefix + strings.ToLower(c) + propColumnSuffix
}

// NormalizeTagKey turns a key as a person writes it ("classification",
// "column.email.tags", "meridian.purposes") into the property name, and checks
// that it is a governance property.
func NormalizeTagKey(k string) (string, error) {
	k = strings.TrimSpace(k)
	if !strings.HasPrefix(strings.ToLower(k), PropPrefix) {
		k = PropPrefix + k
	}
	lk := strings.ToLower(k)
	switch lk {
	case PropResidency, PropClassification, PropPurposes, PropRetentionDays:
		return lk, nil
	}
	if c, ok := columnOfTagProperty(lk); ok {
		return ColumnTagsProperty(c), nil
	}
	return "", fmt.Errorf("%q is not a governance tag; use residency, classification, purposes, retention-days or column.<name>.tags", k)
}
