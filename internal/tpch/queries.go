package tpch

import (
	"math/big"
	"math/bits"
	"slices"
	"strings"
)

// The exact answers of TPC-H queries 1, 6 and 14, as the Trino benchmark
// texts in shared/corpus/tpch define them, computed over the generated data
// without SQL. They exist so that tests can check a SQL engine's answers.
//
// Arithmetic follows SQL decimal semantics exactly: a product of two
// decimal(15,2) values has 4 places, of three 6 places, and sums keep their
// operands' places without rounding. Results that SQL carries as decimals are
// returned as *big.Rat holding the exact value; r.FloatString(n) prints it
// with n places, rounding half away from zero as SQL decimals round. An
// engine's averages and quotients are rounded by engine-specific rules
// (Trino: a decimal of the operand's scale, rounded half up; DuckDB and
// others: a double), so compare those after the same rounding or within a
// tolerance; the exact value is given here.

// Q1Row is one group of TPC-H query 1 (pricing summary report).
type Q1Row struct {
	ReturnFlag string
	LineStatus string
	// SumQty is sum(quantity), exact.
	SumQty Money
	// SumBasePrice is sum(extendedprice), exact.
	SumBasePrice Money
	// SumDiscPrice is sum(extendedprice * (1 - discount)), exact, 4 places.
	SumDiscPrice *big.Rat
	// SumCharge is sum(extendedprice * (1 - discount) * (1 + tax)), exact,
	// 6 places.
	SumCharge *big.Rat
	// AvgQty, AvgPrice and AvgDisc are avg(quantity), avg(extendedprice) and
	// avg(discount): the exact sum divided by CountOrder, not rounded.
	AvgQty   *big.Rat
	AvgPrice *big.Rat
	AvgDisc  *big.Rat
	// CountOrder is count(*).
	CountOrder int64
}

// Q1 returns TPC-H query 1 over the data of cfg: lineitems shipped on or
// before 1998-09-02 (DATE '1998-12-01' - INTERVAL '90' DAY), grouped by
// returnflag and linestatus, ordered by returnflag then linestatus (byte
// order; the values are single ASCII letters).
func Q1(cfg Config) ([]Q1Row, error) {
	g, err := New(cfg)
	if err != nil {
		return nil, err
	}
	type acc struct {
		qty, price, disc Money
		discPrice        wide // 10^-4
		charge           wide // 10^-6
		n                int64
	}
	groups := map[string]*acc{}
	cutoff := DateOf(1998, 12, 1) - 90
	for l := range g.Lineitems() {
		if l.ShipDate > cutoff {
			continue
		}
		k := l.ReturnFlag + l.LineStatus
		a := groups[k]
		if a == nil {
			a = &acc{}
			groups[k] = a
		}
		a.qty += l.Quantity
		a.price += l.ExtendedPrice
		a.disc += l.Discount
		dp := uint64(l.ExtendedPrice) * uint64(100-l.Discount)
		a.discPrice.add(dp)
		a.charge.add(dp * uint64(100+l.Tax))
		a.n++
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Q1Row, 0, len(keys))
	for _, k := range keys {
		a := groups[k]
		n := big.NewInt(a.n)
		out = append(out, Q1Row{
			ReturnFlag:   k[:1],
			LineStatus:   k[1:],
			SumQty:       a.qty,
			SumBasePrice: a.price,
			SumDiscPrice: a.discPrice.scaled(4),
			SumCharge:    a.charge.scaled(6),
			AvgQty:       new(big.Rat).Quo(a.qty.Rat(), new(big.Rat).SetInt(n)),
			AvgPrice:     new(big.Rat).Quo(a.price.Rat(), new(big.Rat).SetInt(n)),
			AvgDisc:      new(big.Rat).Quo(a.disc.Rat(), new(big.Rat).SetInt(n)),
			CountOrder:   a.n,
		})
	}
	return out, nil
}

// Q6 returns TPC-H query 6 (forecasting revenue change) over the data of
// cfg: sum(extendedprice * discount), exact with 4 places, over lineitems
// shipped in 1994 with a discount between 0.05 and 0.07 inclusive and a
// quantity below 24. It returns nil, SQL's NULL, if no line qualifies.
func Q6(cfg Config) (*big.Rat, error) {
	g, err := New(cfg)
	if err != nil {
		return nil, err
	}
	from, to := DateOf(1994, 1, 1), DateOf(1995, 1, 1)
	var sum wide // 10^-4
	found := false
	for l := range g.Lineitems() {
		if l.ShipDate >= from && l.ShipDate < to && l.Discount >= 5 && l.Discount <= 7 && l.Quantity < 2400 {
			sum.add(uint64(l.ExtendedPrice) * uint64(l.Discount))
			found = true
		}
	}
	if !found {
		return nil, nil
	}
	return sum.scaled(4), nil
}

// Q14 returns TPC-H query 14 (promotion effect) over the data of cfg:
// 100.00 × the revenue (extendedprice × (1 - discount)) of lineitems whose
// part's type starts with PROMO, divided by the revenue of all lineitems,
// both over lines shipped in September 1995. The quotient is exact; SQL
// engines round it (Trino to a decimal, others to a double). It returns nil,
// SQL's NULL, if no line qualifies.
func Q14(cfg Config) (*big.Rat, error) {
	g, err := New(cfg)
	if err != nil {
		return nil, err
	}
	promo := make([]bool, g.parts+1)
	for p := range g.Parts() {
		promo[p.PartKey] = strings.HasPrefix(p.Type, "PROMO")
	}
	from, to := DateOf(1995, 9, 1), DateOf(1995, 10, 1)
	var promoRevenue, revenue wide // 10^-4
	for l := range g.Lineitems() {
		if l.ShipDate < from || l.ShipDate >= to {
			continue
		}
		v := uint64(l.ExtendedPrice) * uint64(100-l.Discount)
		revenue.add(v)
		if promo[l.PartKey] {
			promoRevenue.add(v)
		}
	}
	total := revenue.int()
	if total.Sign() == 0 {
		return nil, nil
	}
	r := new(big.Rat).SetFrac(promoRevenue.int(), total)
	return r.Mul(r, big.NewRat(100, 1)), nil
}

// wide is an unsigned 128-bit accumulator, so that exact sums cannot
// overflow at any supported scale. Every summand here is non-negative.
type wide struct{ hi, lo uint64 }

func (w *wide) add(v uint64) {
	var carry uint64
	w.lo, carry = bits.Add64(w.lo, v, 0)
	w.hi += carry
}

func (w wide) int() *big.Int {
	x := new(big.Int).SetUint64(w.hi)
	x.Lsh(x, 64)
	return x.Or(x, new(big.Int).SetUint64(w.lo))
}

// scaled returns w × 10^-places.
func (w wide) scaled(places int) *big.Rat {
	d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	return new(big.Rat).SetFrac(w.int(), d)
}
