package catalog

import (
	"context"
	"sort"
	"strings"

	"github.com/apache/iceberg-go/table"
)

// Catalogs returns the configured Trino catalog names, sorted.
func (c *Catalog) Catalogs() []string { return c.catalogNames() }

// Namespaces lists the schemas (top-level Iceberg namespaces) of a catalog.
func (c *Catalog) Namespaces(ctx context.Context, catalogName string) ([]string, error) {
	b, err := c.backend(ctx, catalogName)
	if err != nil {
		return nil, err
	}
	ids, err := b.cat.ListNamespaces(ctx, nil)
	if err != nil {
		return nil, &Error{Kind: ErrUnavailable, Catalog: catalogName, Msg: "cannot list namespaces", Err: err}
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, strings.ToLower(strings.Join(id, ".")))
	}
	sort.Strings(out)
	return out, nil
}

// Tables lists the tables of a namespace, sorted.
func (c *Catalog) Tables(ctx context.Context, catalogName, namespace string) ([]TableRef, error) {
	b, err := c.backend(ctx, catalogName)
	if err != nil {
		return nil, err
	}
	var out []TableRef
	for id, err := range b.cat.ListTables(ctx, table.Identifier{namespace}) {
		if err != nil {
			if isNotFound(err) {
				return nil, &Error{Kind: ErrTableNotFound, Catalog: catalogName, Msg: "no schema " + catalogName + "." + namespace}
			}
			return nil, &Error{Kind: ErrUnavailable, Catalog: catalogName, Msg: "cannot list tables", Err: err}
		}
		out = append(out, TableRef{Catalog: catalogName, Schema: namespace, Table: strings.ToLower(id[len(id)-1])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Table < out[j].Table })
	return out, nil
}
