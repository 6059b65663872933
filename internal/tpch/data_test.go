package tpch_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/meridian-lake/meridian/internal/tpch"
)

// data is one generated data set held in memory, with the lookups the query
// checks need. Keys are dense, so slices indexed by key stand in for maps.
type data struct {
	regions   []tpch.Region
	nations   []tpch.Nation
	suppliers []tpch.Supplier // suppliers[k-1] has key k
	parts     []tpch.Part     // parts[k-1] has key k
	partsupps []tpch.PartSupp // partsupps[4(k-1) .. 4k) are part k's
	customers []tpch.Customer // customers[k-1] has key k
	orders    []order
	lines     []tpch.Lineitem
}

// order is an order with its lineitems.
type order struct {
	tpch.Order
	lines []tpch.Lineitem
}

func load(tb testing.TB, cfg tpch.Config) *data {
	tb.Helper()
	g, err := tpch.New(cfg)
	if err != nil {
		tb.Fatalf("New(%+v): %v", cfg, err)
	}
	d := &data{
		regions:   slices.Collect(g.Regions()),
		nations:   slices.Collect(g.Nations()),
		suppliers: slices.Collect(g.Suppliers()),
		parts:     slices.Collect(g.Parts()),
		partsupps: slices.Collect(g.PartSupps()),
		customers: slices.Collect(g.Customers()),
	}
	for o, lines := range g.Orders() {
		lines = slices.Clone(lines)
		d.orders = append(d.orders, order{o, lines})
		d.lines = append(d.lines, lines...)
	}
	return d
}

var (
	smallOnce sync.Once
	small     *data
)

// defaultData returns the data of the default Config (scale 0.01), built
// once per test binary.
func defaultData(tb testing.TB) *data {
	tb.Helper()
	smallOnce.Do(func() { small = load(tb, tpch.Config{}) })
	if small == nil {
		tb.Fatal("default data set failed to load")
	}
	return small
}

func (d *data) supplier(k int64) *tpch.Supplier { return &d.suppliers[k-1] }
func (d *data) part(k int64) *tpch.Part         { return &d.parts[k-1] }
func (d *data) customer(k int64) *tpch.Customer { return &d.customers[k-1] }
func (d *data) nationName(k int64) string       { return d.nations[k].Name }
func (d *data) regionOf(nation int64) string    { return d.regions[d.nations[nation].RegionKey].Name }

// orderOf returns the order with key k, relying on the sparse key pattern.
func (d *data) orderOf(k int64) *order {
	i := (k-1)/32*8 + (k-1)%32
	return &d.orders[i]
}

// like is SQL LIKE for patterns with % wildcards only, case-sensitive.
func like(s, pattern string) bool {
	parts := strings.Split(pattern, "%")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := len(parts) - 1
	if last == 0 {
		return s == ""
	}
	for _, p := range parts[1:last] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[last])
}
