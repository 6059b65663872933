package tpch_test

import (
	"math/big"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/internal/tpch"
)

// The checks below recompute Q1, Q6 and Q14 along another path: from the
// columnar batches, with big.Rat arithmetic that follows the SQL expressions
// literally (extendedprice * (1 - discount) * (1 + tax)) instead of the
// helpers' integer sums.

func rat(m tpch.Money) *big.Rat { return m.Rat() }

var one = big.NewRat(1, 1)

func sub(a, b *big.Rat) *big.Rat { return new(big.Rat).Sub(a, b) }
func add(a, b *big.Rat) *big.Rat { return new(big.Rat).Add(a, b) }
func mul(a, b *big.Rat) *big.Rat { return new(big.Rat).Mul(a, b) }

// lineitemColumns streams lineitem batches and calls f with each row's
// columns by name.
func lineitemColumns(t *testing.T, f func(col func(name string) tpch.Column, i int)) {
	t.Helper()
	err := tpch.Generate(tpch.Config{}, "lineitem", 5000, func(b *tpch.Batch) error {
		idx := map[string]int{}
		for i, c := range b.Def.Columns {
			idx[c.Name] = i
		}
		col := func(name string) tpch.Column { return b.Columns[idx[name]] }
		for i := range b.Len() {
			f(col, i)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestQ1(t *testing.T) {
	type group struct {
		qty, price, discPrice, charge, disc *big.Rat
		n                                   int64
	}
	groups := map[string]*group{}
	cutoff := tpch.DateOf(1998, 9, 2)
	lineitemColumns(t, func(col func(string) tpch.Column, i int) {
		if col("shipdate").Date[i] > cutoff {
			return
		}
		k := col("returnflag").String[i] + col("linestatus").String[i]
		g := groups[k]
		if g == nil {
			z := func() *big.Rat { return new(big.Rat) }
			g = &group{z(), z(), z(), z(), z(), 0}
			groups[k] = g
		}
		e, d, tax := rat(col("extendedprice").Money[i]), rat(col("discount").Money[i]), rat(col("tax").Money[i])
		g.qty.Add(g.qty, rat(col("quantity").Money[i]))
		g.price.Add(g.price, e)
		g.disc.Add(g.disc, d)
		g.discPrice.Add(g.discPrice, mul(e, sub(one, d)))
		g.charge.Add(g.charge, mul(mul(e, sub(one, d)), add(one, tax)))
		g.n++
	})
	got, err := tpch.Q1(tpch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range got {
		keys = append(keys, r.ReturnFlag+r.LineStatus)
		g := groups[r.ReturnFlag+r.LineStatus]
		if g == nil {
			t.Errorf("Q1 has group %s%s, which has no lines", r.ReturnFlag, r.LineStatus)
			continue
		}
		n := new(big.Rat).SetInt64(g.n)
		avg := func(sum *big.Rat) string { return new(big.Rat).Quo(sum, n).RatString() }
		gotRow := []string{r.SumQty.String(), r.SumBasePrice.String(), r.SumDiscPrice.FloatString(4), r.SumCharge.FloatString(6),
			r.AvgQty.RatString(), r.AvgPrice.RatString(), r.AvgDisc.RatString(), big.NewInt(r.CountOrder).String()}
		wantRow := []string{g.qty.FloatString(2), g.price.FloatString(2), g.discPrice.FloatString(4), g.charge.FloatString(6),
			avg(g.qty), avg(g.price), avg(g.disc), big.NewInt(g.n).String()}
		if diff := cmp.Diff(wantRow, gotRow); diff != "" {
			t.Errorf("Q1 group %s%s (-want +got):\n%s", r.ReturnFlag, r.LineStatus, diff)
		}
		// The sums are exact at their SQL scale: nothing beyond 4 or 6 places.
		for _, s := range []struct {
			r      *big.Rat
			places int
		}{{r.SumDiscPrice, 4}, {r.SumCharge, 6}} {
			if exact, _ := s.r.FloatPrec(); exact > s.places {
				t.Errorf("Q1 group %s%s: %s needs %d places, want at most %d", r.ReturnFlag, r.LineStatus, s.r.RatString(), exact, s.places)
			}
		}
	}
	// ORDER BY returnflag, linestatus; every group present.
	if want := []string{"AF", "NF", "NO", "RF"}; !cmp.Equal(keys, want) {
		t.Errorf("Q1 groups = %v, want %v", keys, want)
	}
}

func TestQ6(t *testing.T) {
	want := new(big.Rat)
	from, to := tpch.DateOf(1994, 1, 1), tpch.DateOf(1995, 1, 1)
	lo, hi := big.NewRat(5, 100), big.NewRat(7, 100) // .06 - 0.01, .06 + 0.01
	lineitemColumns(t, func(col func(string) tpch.Column, i int) {
		ship, d, q := col("shipdate").Date[i], rat(col("discount").Money[i]), rat(col("quantity").Money[i])
		if ship >= from && ship < to && d.Cmp(lo) >= 0 && d.Cmp(hi) <= 0 && q.Cmp(big.NewRat(24, 1)) < 0 {
			want.Add(want, mul(rat(col("extendedprice").Money[i]), d))
		}
	})
	got, err := tpch.Q6(tpch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Cmp(want) != 0 || want.Sign() == 0 {
		t.Errorf("Q6() = %v, want %s (non-zero)", got, want.FloatString(4))
	}
}

func TestQ14(t *testing.T) {
	g, err := tpch.New(tpch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	types := map[int64]string{}
	for p := range g.Parts() {
		types[p.PartKey] = p.Type
	}
	promo, total := new(big.Rat), new(big.Rat)
	from, to := tpch.DateOf(1995, 9, 1), tpch.DateOf(1995, 10, 1)
	lineitemColumns(t, func(col func(string) tpch.Column, i int) {
		if ship := col("shipdate").Date[i]; ship < from || ship >= to {
			return
		}
		v := mul(rat(col("extendedprice").Money[i]), sub(one, rat(col("discount").Money[i])))
		total.Add(total, v)
		if strings.HasPrefix(types[col("partkey").Int64[i]], "PROMO") {
			promo.Add(promo, v)
		}
	})
	want := new(big.Rat).Quo(mul(big.NewRat(100, 1), promo), total)
	got, err := tpch.Q14(tpch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Cmp(want) != 0 || promo.Sign() == 0 {
		t.Errorf("Q14() = %v, want %s (non-zero)", got, want.FloatString(6))
	}
	// Promotions are 1 type in 6: the share is near 100/6.
	if f, _ := got.Float64(); f < 10 || f > 25 {
		t.Errorf("Q14() = %.2f%%, want about 16.7%%", f)
	}
}
