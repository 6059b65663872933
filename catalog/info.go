package catalog

import (
	"fmt"
	"strings"
)

// TableRef names a table as Trino does: catalog, schema (Iceberg namespace)
// and table, lower-case. Table may carry a metadata-table suffix
// ("orders$snapshots"); it resolves to its base table.
type TableRef struct {
	Catalog, Schema, Table string
}

// ParseTableRef parses "catalog.schema.table". Parts may be double-quoted.
func ParseTableRef(s string) (TableRef, error) {
	parts, err := splitName(s)
	if err != nil {
		return TableRef{}, err
	}
	if len(parts) != 3 {
		return TableRef{}, fmt.Errorf("table name %q: want catalog.schema.table", s)
	}
	return TableRef{Catalog: parts[0], Schema: parts[1], Table: parts[2]}, nil
}

// splitName splits a dotted name, honouring double quotes, and lower-cases it.
func splitName(s string) ([]string, error) {
	var parts []string
	var b strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' && quoted && i+1 < len(s) && s[i+1] == '"':
			b.WriteByte('"')
			i++
		case c == '"':
			quoted = !quoted
		case c == '.' && !quoted:
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	if quoted {
		return nil, fmt.Errorf("name %q: unterminated quote", s)
	}
	parts = append(parts, b.String())
	for i, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("name %q: empty part", s)
		}
		parts[i] = strings.ToLower(p)
	}
	return parts, nil
}

// String is the canonical dotted name; parts holding a dot are quoted.
func (r TableRef) String() string {
	var b strings.Builder
	for i, p := range []string{r.Catalog, r.Schema, r.Table} {
		if i > 0 {
			b.WriteByte('.')
		}
		if strings.ContainsAny(p, `."`) {
			b.WriteString(`"` + strings.ReplaceAll(p, `"`, `""`) + `"`)
		} else {
			b.WriteString(p)
		}
	}
	return b.String()
}

// Base is the ref without a metadata-table suffix, and the suffix ("" if none).
func (r TableRef) Base() (TableRef, string) {
	if i := strings.IndexByte(r.Table, '$'); i > 0 {
		base := r
		base.Table = r.Table[:i]
		return base, r.Table[i+1:]
	}
	return r, ""
}

// Kind says what a name resolved to.
type Kind string

// Kinds of catalog objects.
const (
	KindTable Kind = "table"
	KindView  Kind = "view"
)

// TableInfo is what Meridian knows of a table. It is shared by the cache:
// treat it as read-only.
type TableInfo struct {
	Ref  TableRef `json:"ref"`
	Kind Kind     `json:"kind"`
	// Metadata is the metadata-table suffix the ref named ("snapshots"), if any.
	Metadata string `json:"metadata,omitempty"`
	// ViewSQL is a view's definition (Kind == KindView), to be expanded by the
	// planner: a view must never hide the tables it reads.
	ViewSQL string `json:"view_sql,omitempty"`
	// ViewDialect is the SQL dialect of ViewSQL ("trino", "spark", …).
	ViewDialect string `json:"view_dialect,omitempty"`

	Location string `json:"location"`
	// Region is where the data must stay; RegionUnknown when neither
	// meridian.residency nor the location mapping says.
	Region       string       `json:"region"`
	RegionSource RegionSource `json:"region_source"`

	Governance
	Columns   []Column         `json:"columns"`
	Partition []PartitionField `json:"partition_spec,omitempty"`
	Snapshot  *SnapshotStats   `json:"snapshot,omitempty"`
	// Partitions holds per-partition statistics of the current snapshot,
	// sorted by key.
	Partitions []PartitionStats `json:"partitions,omitempty"`
	// UnreadablePartitions are the partitions whose files sit in a storage
	// class a query cannot read without a restore (GLACIER, DEEP_ARCHIVE),
	// sorted, in the key form of Partitions. Filled at every Resolve from
	// the configured PartitionStates (never cached); empty without one. A
	// statement that would read one of them must be refused.
	UnreadablePartitions []string `json:"unreadable_partitions,omitempty"`
	// Properties are all the table's properties.
	Properties map[string]string `json:"properties,omitempty"`
}

// Column is a top-level column of the table's current schema.
type Column struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Required bool     `json:"required,omitempty"`
	Tags     []string `json:"tags,omitempty"`
}

// PII reports whether the column is tagged as personal data.
func (c Column) PII() bool {
	for _, t := range c.Tags {
		if t == TagPII {
			return true
		}
	}
	return false
}

// PartitionField is one field of the current partition spec.
type PartitionField struct {
	Name      string `json:"name"`
	Source    string `json:"source"`
	Transform string `json:"transform"`
}

// SnapshotStats summarises the current snapshot.
type SnapshotStats struct {
	ID          int64 `json:"id"`
	TimestampMs int64 `json:"timestamp_ms"`
	Files       int64 `json:"files"`
	Records     int64 `json:"records"`
	Bytes       int64 `json:"bytes"`
	DeleteFiles int64 `json:"delete_files,omitempty"`
}

// PartitionStats describes the live data files of one partition.
type PartitionStats struct {
	// Key is the partition in path form: "check_in_day=2024-01-31".
	Key string `json:"key"`
	// Values maps partition field names to their human-readable values.
	Values  map[string]string `json:"values,omitempty"`
	Files   int64             `json:"files"`
	Records int64             `json:"records"`
	Bytes   int64             `json:"bytes"`
	// StorageClass is the S3 storage class of the partition's files as the
	// configured PartitionStates reports it ("" when unknown).
	StorageClass string `json:"storage_class,omitempty"`
	// Unreadable: the files are archived and not restored.
	Unreadable bool `json:"unreadable,omitempty"`
}

// Column returns the named column (case-insensitive).
func (t *TableInfo) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Column{}, false
}
