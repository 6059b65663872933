package tpch

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"
)

// Defaults for Config.
const (
	// DefaultScale is the scale factor of the demo lake.
	DefaultScale = 0.01
	// DefaultSeed is the seed the demo lake and the tests use. At scale 0.01
	// it yields data on which every one of the 22 TPC-H queries returns rows
	// (TestQueriesSelectRows), including the rare ones: q18's orders of more
	// than 300 units and q19's few qualifying parts.
	DefaultSeed int64 = 33
)

// Config selects the data set. The same Config always yields the same rows.
type Config struct {
	// Scale is the TPC-H scale factor: supplier has 10,000 × Scale rows,
	// part 200,000 × Scale, customer 150,000 × Scale, orders 1,500,000 ×
	// Scale, each rounded to the nearest integer. Zero means DefaultScale.
	// It must lie in [0.01, 1000] and, at the small end, give a supplier
	// count for which the specification's partsupp formula picks four
	// distinct suppliers per part: 0.012 (120 suppliers) does not; every
	// scale from 0.025 up and the usual 0.01 do.
	Scale float64
	// Seed selects the pseudo-random streams. Zero means DefaultSeed.
	Seed int64
}

func (c Config) withDefaults() Config {
	if c.Scale == 0 {
		c.Scale = DefaultScale
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	return c
}

// Validate reports whether c, with defaults applied, can be generated.
func (c Config) Validate() error {
	c = c.withDefaults()
	if math.IsNaN(c.Scale) || c.Scale < 0.01 || c.Scale > 1000 {
		return fmt.Errorf("scale %v: must be between 0.01 and 1000", c.Scale)
	}
	// Part p's suppliers are p + i*k (mod S) for i in 0..3 with
	// k = S/4 + (p-1)/S; they are distinct unless k, 2k or 3k is a multiple
	// of S. k takes few values, so check them all.
	s, p := rows(10_000, c.Scale), rows(200_000, c.Scale)
	for k := s / 4; k <= s/4+(p-1)/s; k++ {
		if k%s == 0 || 2*k%s == 0 || 3*k%s == 0 {
			return fmt.Errorf("scale %v: partsupp would repeat a supplier for a part", c.Scale)
		}
	}
	return nil
}

// ErrUnknownTable is returned for a table name that is not one of the eight.
var ErrUnknownTable = errors.New("unknown table")

func rows(base int64, scale float64) int64 {
	return int64(math.Round(float64(base) * scale))
}

// Generator generates the tables of one Config. It is immutable after New
// and safe for concurrent use; each iteration generates its rows afresh.
type Generator struct {
	cfg       Config
	pool      string // text pool comments are cut from
	suppliers int64
	parts     int64
	customers int64
	orders    int64

	clerks     []string
	mfgrs      [5]string
	brands     [5][5]string
	types      []string
	containers []string
	// complaints maps the suppliers whose comment carries "Customer…Complaints"
	// or "Customer…Recommends" to the second word.
	complaints map[int64]string
}

// New returns a generator for cfg. Building it costs a few milliseconds (the
// text pool); reuse it to generate several tables.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("tpch: %w", err)
	}
	cfg = cfg.withDefaults()
	g := &Generator{
		cfg:       cfg,
		pool:      newPool(cfg.Seed),
		suppliers: rows(10_000, cfg.Scale),
		parts:     rows(200_000, cfg.Scale),
		customers: rows(150_000, cfg.Scale),
		orders:    rows(1_500_000, cfg.Scale),
	}
	for i := range max(1, rows(1_000, cfg.Scale)) {
		g.clerks = append(g.clerks, fmt.Sprintf("Clerk#%09d", i+1))
	}
	for m := range 5 {
		g.mfgrs[m] = "Manufacturer#" + strconv.Itoa(m+1)
		for n := range 5 {
			g.brands[m][n] = "Brand#" + strconv.Itoa(m+1) + strconv.Itoa(n+1)
		}
	}
	for _, a := range typeSyllable1 {
		for _, b := range typeSyllable2 {
			for _, c := range typeSyllable3 {
				g.types = append(g.types, a+" "+b+" "+c)
			}
		}
	}
	for _, a := range containerSyllable1 {
		for _, b := range containerSyllable2 {
			g.containers = append(g.containers, a+" "+b)
		}
	}
	g.complaints = pickComplaints(cfg, g.suppliers)
	return g, nil
}

// Config returns the configuration with defaults applied.
func (g *Generator) Config() Config { return g.cfg }

// pickComplaints chooses the suppliers whose comments match
// 'Customer%Complaints' and 'Customer%Recommends': SF × 5 of each, as the
// specification says, but at least one of each so that q16's filter has
// something to exclude at small scales.
func pickComplaints(cfg Config, suppliers int64) map[int64]string {
	k := max(1, rows(5, cfg.Scale))
	r := newRNG(cfg.Seed, streamComplain, 0)
	m := make(map[int64]string, 2*k)
	for _, what := range []string{"Complaints", "Recommends"} {
		for n := int64(0); n < k; {
			key := r.between(1, suppliers)
			if _, dup := m[key]; !dup {
				m[key] = what
				n++
			}
		}
	}
	return m
}

// Regions yields the 5 regions.
func (g *Generator) Regions() iter.Seq[Region] {
	return func(yield func(Region) bool) {
		for k, name := range regions {
			r := newRNG(g.cfg.Seed, streamRegion, int64(k))
			if !yield(Region{RegionKey: int64(k), Name: name, Comment: g.text(&r, 31, 115)}) {
				return
			}
		}
	}
}

// Nations yields the 25 nations.
func (g *Generator) Nations() iter.Seq[Nation] {
	return func(yield func(Nation) bool) {
		for k, n := range nations {
			r := newRNG(g.cfg.Seed, streamNation, int64(k))
			if !yield(Nation{NationKey: int64(k), Name: n.name, RegionKey: n.region, Comment: g.text(&r, 31, 114)}) {
				return
			}
		}
	}
}

// Suppliers yields supplier in key order.
func (g *Generator) Suppliers() iter.Seq[Supplier] {
	return func(yield func(Supplier) bool) {
		for k := int64(1); k <= g.suppliers; k++ {
			if !yield(g.supplier(k)) {
				return
			}
		}
	}
}

func (g *Generator) supplier(key int64) Supplier {
	r := newRNG(g.cfg.Seed, streamSupplier, key)
	s := Supplier{SuppKey: key, Name: fmt.Sprintf("Supplier#%09d", key)}
	s.Address = vstring(&r, 10, 40)
	s.NationKey = r.between(0, 24)
	s.Phone = phone(&r, s.NationKey)
	s.AcctBal = Money(r.between(-99_999, 999_999))
	s.Comment = g.text(&r, 25, 100)
	if what, ok := g.complaints[key]; ok {
		s.Comment = complaint(&r, s.Comment, what)
	}
	return s
}

// phone returns a phone number (clause 4.2.2.9): the country code is the
// nation key plus 10, then three random local groups: CC-ddd-ddd-dddd.
func phone(r *rng, nation int64) string {
	b := make([]byte, 0, 15)
	b = strconv.AppendInt(b, nation+10, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, r.between(100, 999), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, r.between(100, 999), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, r.between(1000, 9999), 10)
	return string(b)
}

// Parts yields part in key order.
func (g *Generator) Parts() iter.Seq[Part] {
	return func(yield func(Part) bool) {
		for k := int64(1); k <= g.parts; k++ {
			if !yield(g.part(k)) {
				return
			}
		}
	}
}

func (g *Generator) part(key int64) Part {
	r := newRNG(g.cfg.Seed, streamPart, key)
	var picked [5]int
	for i := 0; i < len(picked); {
		c := r.pick(len(colors))
		dup := false
		for _, p := range picked[:i] {
			dup = dup || p == c
		}
		if !dup {
			picked[i] = c
			i++
		}
	}
	var name strings.Builder
	for i, c := range picked {
		if i > 0 {
			name.WriteByte(' ')
		}
		name.WriteString(colors[c])
	}
	m, n := r.pick(5), r.pick(5)
	return Part{
		PartKey:     key,
		Name:        name.String(),
		Mfgr:        g.mfgrs[m],
		Brand:       g.brands[m][n],
		Type:        g.types[r.pick(len(g.types))],
		Size:        int32(r.between(1, 50)),
		Container:   g.containers[r.pick(len(g.containers))],
		RetailPrice: retailPrice(key),
		Comment:     g.text(&r, 5, 22),
	}
}

// retailPrice is P_RETAILPRICE = (90000 + ((key/10) mod 20001) + 100 ×
// (key mod 1000)) / 100, which in hundredths needs no division.
func retailPrice(key int64) Money {
	return Money(90_000 + (key/10)%20_001 + 100*(key%1_000))
}

// supplierOf is the specification's i-th supplier (i in 0..3) of a part,
// among s suppliers: (p + i × (s/4 + (p-1)/s)) mod s + 1.
func supplierOf(part, i, s int64) int64 {
	return (part+i*(s/4+(part-1)/s))%s + 1
}

// PartSupps yields partsupp: four rows per part, in part key order.
func (g *Generator) PartSupps() iter.Seq[PartSupp] {
	return func(yield func(PartSupp) bool) {
		for p := int64(1); p <= g.parts; p++ {
			for i := range int64(4) {
				r := newRNG(g.cfg.Seed, streamPartSupp, (p-1)*4+i)
				ps := PartSupp{
					PartKey:    p,
					SuppKey:    supplierOf(p, i, g.suppliers),
					AvailQty:   int32(r.between(1, 9_999)),
					SupplyCost: Money(r.between(100, 100_000)),
					Comment:    g.text(&r, 49, 198),
				}
				if !yield(ps) {
					return
				}
			}
		}
	}
}

// Customers yields customer in key order.
func (g *Generator) Customers() iter.Seq[Customer] {
	return func(yield func(Customer) bool) {
		for k := int64(1); k <= g.customers; k++ {
			r := newRNG(g.cfg.Seed, streamCustomer, k)
			c := Customer{CustKey: k, Name: fmt.Sprintf("Customer#%09d", k)}
			c.Address = vstring(&r, 10, 40)
			c.NationKey = r.between(0, 24)
			c.Phone = phone(&r, c.NationKey)
			c.AcctBal = Money(r.between(-99_999, 999_999))
			c.MktSegment = segments[r.pick(len(segments))]
			c.Comment = g.text(&r, 29, 116)
			if !yield(c) {
				return
			}
		}
	}
}

// orderKey is the key of the i-th order (from 0): only the first 8 keys of
// each group of 32 are used, so keys run 1..8, 33..40, 65..72, ….
func orderKey(i int64) int64 {
	return i/8*32 + i%8 + 1
}

// Orders yields orders in key order, each with its lineitems. The lineitem
// slice is reused: it is valid only until the iteration continues.
func (g *Generator) Orders() iter.Seq2[Order, []Lineitem] {
	return func(yield func(Order, []Lineitem) bool) {
		lines := make([]Lineitem, 0, 7)
		for i := range g.orders {
			var o Order
			o, lines = g.order(i, lines[:0])
			if !yield(o, lines) {
				return
			}
		}
	}
}

// Lineitems yields lineitem in (orderkey, linenumber) order.
func (g *Generator) Lineitems() iter.Seq[Lineitem] {
	return func(yield func(Lineitem) bool) {
		for _, lines := range g.Orders() {
			for _, l := range lines {
				if !yield(l) {
					return
				}
			}
		}
	}
}

// order generates the i-th order and its lines, appending the lines to buf.
// Orders and lineitem come from the same stream so that orderstatus and
// totalprice agree with the lines.
func (g *Generator) order(i int64, buf []Lineitem) (Order, []Lineitem) {
	r := newRNG(g.cfg.Seed, streamOrder, i)
	n := r.between(1, 7)
	o := Order{OrderKey: orderKey(i)}
	// Only customers whose key is not a multiple of 3 place orders: draw
	// uniformly among them (j-th such key is 3(j/2) + j%2 + 1).
	j := r.between(0, g.customers-g.customers/3-1)
	o.CustKey = j/2*3 + j%2 + 1
	o.OrderDate = Date(r.between(int64(StartDate), int64(lastOrderDate)))
	o.OrderPriority = priorities[r.pick(len(priorities))]
	o.Clerk = g.clerks[r.pick(len(g.clerks))]
	o.Comment = g.text(&r, 19, 78)

	var total int64 // in 10^-6: extendedprice × (1 - discount) × (1 + tax)
	var shipped int
	for ln := range n {
		l := Lineitem{OrderKey: o.OrderKey, LineNumber: int32(ln + 1)}
		l.PartKey = r.between(1, g.parts)
		l.SuppKey = supplierOf(l.PartKey, r.between(0, 3), g.suppliers)
		q := r.between(1, 50)
		l.Quantity = Money(q * 100)
		l.ExtendedPrice = Money(q) * retailPrice(l.PartKey)
		l.Discount = Money(r.between(0, 10))
		l.Tax = Money(r.between(0, 8))
		l.ShipDate = o.OrderDate + Date(r.between(1, 121))
		l.CommitDate = o.OrderDate + Date(r.between(30, 90))
		l.ReceiptDate = l.ShipDate + Date(r.between(1, 30))
		returned := r.between(0, 1) == 0
		switch {
		case l.ReceiptDate > CurrentDate:
			l.ReturnFlag = "N"
		case returned:
			l.ReturnFlag = "R"
		default:
			l.ReturnFlag = "A"
		}
		l.LineStatus = "O"
		if l.ShipDate <= CurrentDate {
			l.LineStatus = "F"
			shipped++
		}
		l.ShipInstruct = instructions[r.pick(len(instructions))]
		l.ShipMode = modes[r.pick(len(modes))]
		l.Comment = g.text(&r, 10, 43)
		total += int64(l.ExtendedPrice) * int64(100-l.Discount) * int64(100+l.Tax)
		buf = append(buf, l)
	}
	switch shipped {
	case 0:
		o.OrderStatus = "O"
	case int(n):
		o.OrderStatus = "F"
	default:
		o.OrderStatus = "P"
	}
	// The sum is exact; the column has two places, so round half up once.
	o.TotalPrice = Money((total + 5_000) / 10_000)
	return o, buf
}
