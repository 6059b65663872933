package tpch_test

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/meridian-lake/meridian/internal/corpus"
	"github.com/meridian-lake/meridian/internal/tpch"
)

// selection is a check of one TPC-H query: the literals its Go filters use,
// which must appear in the corpus text so the two cannot drift apart, and a
// function that evaluates the query in Go and returns the number of rows
// (groups, before any LIMIT) it yields.
type selection struct {
	query    string
	literals []string
	rows     func(d *data) int
}

var day = tpch.DateOf

// selections evaluates each query's filters, joins and subqueries in Go.
// Aggregates whose value does not change which rows come out are not
// computed.
var selections = []selection{
	{"q01.sql", []string{"DATE '1998-12-01' - INTERVAL '90' DAY", "GROUP BY"}, func(d *data) int {
		groups := map[string]bool{}
		for _, l := range d.lines {
			if l.ShipDate <= day(1998, 9, 2) {
				groups[l.ReturnFlag+l.LineStatus] = true
			}
		}
		return len(groups)
	}},
	{"q02.sql", []string{"p.size = 15", "'%BRASS'", "'EUROPE'", "min(ps.supplycost)"}, func(d *data) int {
		n := 0
		for _, p := range d.parts {
			if p.Size != 15 || !like(p.Type, "%BRASS") {
				continue
			}
			ps := d.partsupps[4*(p.PartKey-1) : 4*p.PartKey]
			var europe []tpch.PartSupp
			for _, x := range ps {
				if d.regionOf(d.supplier(x.SuppKey).NationKey) == "EUROPE" {
					europe = append(europe, x)
				}
			}
			if len(europe) == 0 {
				continue
			}
			least := slices.MinFunc(europe, func(a, b tpch.PartSupp) int { return int(a.SupplyCost - b.SupplyCost) })
			for _, x := range europe {
				if x.SupplyCost == least.SupplyCost {
					n++
				}
			}
		}
		return n
	}},
	{"q03.sql", []string{"'BUILDING'", "o.orderdate < DATE '1995-03-15'", "l.shipdate > DATE '1995-03-15'"}, func(d *data) int {
		keys := map[int64]bool{}
		for _, o := range d.orders {
			if o.OrderDate >= day(1995, 3, 15) || d.customer(o.CustKey).MktSegment != "BUILDING" {
				continue
			}
			for _, l := range o.lines {
				if l.ShipDate > day(1995, 3, 15) {
					keys[o.OrderKey] = true
				}
			}
		}
		return len(keys)
	}},
	{"q04.sql", []string{"DATE '1993-07-01'", "INTERVAL '3' MONTH", "l.commitdate < l.receiptdate"}, func(d *data) int {
		groups := map[string]bool{}
		for _, o := range d.orders {
			if o.OrderDate < day(1993, 7, 1) || o.OrderDate >= day(1993, 10, 1) {
				continue
			}
			if slices.ContainsFunc(o.lines, func(l tpch.Lineitem) bool { return l.CommitDate < l.ReceiptDate }) {
				groups[o.OrderPriority] = true
			}
		}
		return len(groups)
	}},
	{"q05.sql", []string{"'ASIA'", "DATE '1994-01-01'", "INTERVAL '1' YEAR", "c.nationkey = s.nationkey"}, func(d *data) int {
		groups := map[string]bool{}
		for _, o := range d.orders {
			if o.OrderDate < day(1994, 1, 1) || o.OrderDate >= day(1995, 1, 1) {
				continue
			}
			c := d.customer(o.CustKey)
			for _, l := range o.lines {
				s := d.supplier(l.SuppKey)
				if s.NationKey == c.NationKey && d.regionOf(s.NationKey) == "ASIA" {
					groups[d.nationName(s.NationKey)] = true
				}
			}
		}
		return len(groups)
	}},
	{"q06.sql", []string{"DATE '1994-01-01'", "BETWEEN .06 - 0.01 AND .06 + 0.01", "l.quantity < 24"}, func(d *data) int {
		n := 0
		for _, l := range d.lines {
			if l.ShipDate >= day(1994, 1, 1) && l.ShipDate < day(1995, 1, 1) &&
				l.Discount >= 5 && l.Discount <= 7 && l.Quantity < 2400 {
				n++
			}
		}
		return n
	}},
	{"q07.sql", []string{"'FRANCE'", "'GERMANY'", "DATE '1995-01-01' AND DATE '1996-12-31'"}, func(d *data) int {
		groups := map[[3]any]bool{}
		for _, o := range d.orders {
			cn := d.nationName(d.customer(o.CustKey).NationKey)
			for _, l := range o.lines {
				sn := d.nationName(d.supplier(l.SuppKey).NationKey)
				pair := sn == "FRANCE" && cn == "GERMANY" || sn == "GERMANY" && cn == "FRANCE"
				if pair && l.ShipDate >= day(1995, 1, 1) && l.ShipDate <= day(1996, 12, 31) {
					groups[[3]any{sn, cn, l.ShipDate.Year()}] = true
				}
			}
		}
		return len(groups)
	}},
	{"q08.sql", []string{"'AMERICA'", "'ECONOMY ANODIZED STEEL'", "DATE '1995-01-01' AND DATE '1996-12-31'"}, func(d *data) int {
		years := map[int]bool{}
		for _, o := range d.orders {
			if o.OrderDate < day(1995, 1, 1) || o.OrderDate > day(1996, 12, 31) || d.regionOf(d.customer(o.CustKey).NationKey) != "AMERICA" {
				continue
			}
			for _, l := range o.lines {
				if d.part(l.PartKey).Type == "ECONOMY ANODIZED STEEL" {
					years[o.OrderDate.Year()] = true
				}
			}
		}
		return len(years)
	}},
	{"q09.sql", []string{"'%green%'"}, func(d *data) int {
		groups := map[[2]any]bool{}
		for _, o := range d.orders {
			for _, l := range o.lines {
				if like(d.part(l.PartKey).Name, "%green%") {
					groups[[2]any{d.supplier(l.SuppKey).NationKey, o.OrderDate.Year()}] = true
				}
			}
		}
		return len(groups)
	}},
	{"q10.sql", []string{"DATE '1993-10-01'", "INTERVAL '3' MONTH", "l.returnflag = 'R'"}, func(d *data) int {
		custs := map[int64]bool{}
		for _, o := range d.orders {
			if o.OrderDate < day(1993, 10, 1) || o.OrderDate >= day(1994, 1, 1) {
				continue
			}
			if slices.ContainsFunc(o.lines, func(l tpch.Lineitem) bool { return l.ReturnFlag == "R" }) {
				custs[o.CustKey] = true
			}
		}
		return len(custs)
	}},
	{"q11.sql", []string{"'GERMANY'", "0.0001000000"}, func(d *data) int {
		value := map[int64]int64{} // cents × units
		var total int64
		for _, ps := range d.partsupps {
			if d.nationName(d.supplier(ps.SuppKey).NationKey) == "GERMANY" {
				v := int64(ps.SupplyCost) * int64(ps.AvailQty)
				value[ps.PartKey] += v
				total += v
			}
		}
		n := 0
		for _, v := range value {
			if v*10_000 > total { // v > total × 0.0001
				n++
			}
		}
		return n
	}},
	{"q12.sql", []string{"('MAIL', 'SHIP')", "l.shipdate < l.commitdate", "DATE '1994-01-01'"}, func(d *data) int {
		groups := map[string]bool{}
		for _, l := range d.lines {
			if (l.ShipMode == "MAIL" || l.ShipMode == "SHIP") && l.CommitDate < l.ReceiptDate &&
				l.ShipDate < l.CommitDate && l.ReceiptDate >= day(1994, 1, 1) && l.ReceiptDate < day(1995, 1, 1) {
				groups[l.ShipMode] = true
			}
		}
		return len(groups)
	}},
	{"q13.sql", []string{"'%special%requests%'", "LEFT OUTER JOIN"}, func(d *data) int {
		// The outer join keeps every customer, so rows always come out; what
		// matters is that the NOT LIKE filter removes some orders.
		count := make(map[int64]int, len(d.customers))
		excluded := 0
		for _, o := range d.orders {
			if like(o.Comment, "%special%requests%") {
				excluded++
				continue
			}
			count[o.CustKey]++
		}
		if excluded == 0 {
			return 0
		}
		groups := map[int]bool{}
		for _, c := range d.customers {
			groups[count[c.CustKey]] = true
		}
		return len(groups)
	}},
	{"q14.sql", []string{"'PROMO%'", "DATE '1995-09-01'", "INTERVAL '1' MONTH"}, func(d *data) int {
		n, promo := 0, 0
		for _, l := range d.lines {
			if l.ShipDate >= day(1995, 9, 1) && l.ShipDate < day(1995, 10, 1) {
				n++
				if like(d.part(l.PartKey).Type, "PROMO%") {
					promo++
				}
			}
		}
		return min(n, promo)
	}},
	{"q15.sql", []string{"DATE '1996-01-01'", "INTERVAL '3' MONTH", "max(total_revenue)"}, func(d *data) int {
		revenue := map[int64]int64{} // 10^-4
		for _, l := range d.lines {
			if l.ShipDate >= day(1996, 1, 1) && l.ShipDate < day(1996, 4, 1) {
				revenue[l.SuppKey] += int64(l.ExtendedPrice) * int64(100-l.Discount)
			}
		}
		if len(revenue) == 0 {
			return 0
		}
		top := slices.Max(slices.Collect(maps.Values(revenue)))
		n := 0
		for _, r := range revenue {
			if r == top {
				n++
			}
		}
		return n
	}},
	{"q16.sql", []string{"'Brand#45'", "'MEDIUM POLISHED%'", "(49, 14, 23, 45, 19, 3, 36, 9)", "'%Customer%Complaints%'"}, func(d *data) int {
		sizes := []int32{49, 14, 23, 45, 19, 3, 36, 9}
		complaining := 0
		for _, s := range d.suppliers {
			if like(s.Comment, "%Customer%Complaints%") {
				complaining++
			}
		}
		if complaining == 0 {
			return 0
		}
		groups := map[[3]any]bool{}
		for _, ps := range d.partsupps {
			p := d.part(ps.PartKey)
			if p.Brand != "Brand#45" && !like(p.Type, "MEDIUM POLISHED%") && slices.Contains(sizes, p.Size) &&
				!like(d.supplier(ps.SuppKey).Comment, "%Customer%Complaints%") {
				groups[[3]any{p.Brand, p.Type, p.Size}] = true
			}
		}
		return len(groups)
	}},
	{"q17.sql", []string{"'Brand#23'", "'MED BOX'", "0.2*avg(l.quantity)"}, func(d *data) int {
		// sum(...) over no rows is NULL: count the lines that feed the sum.
		type agg struct{ sum, n int64 }
		perPart := map[int64]*agg{}
		for _, l := range d.lines {
			if p := d.part(l.PartKey); p.Brand == "Brand#23" && p.Container == "MED BOX" {
				a := perPart[l.PartKey]
				if a == nil {
					a = &agg{}
					perPart[l.PartKey] = a
				}
				a.sum += int64(l.Quantity)
				a.n++
			}
		}
		n := 0
		for _, l := range d.lines {
			if a := perPart[l.PartKey]; a != nil && 5*int64(l.Quantity)*a.n < a.sum { // q < 0.2 × sum/n
				n++
			}
		}
		return n
	}},
	{"q18.sql", []string{"sum(l.quantity) > 300"}, func(d *data) int {
		n := 0
		for _, o := range d.orders {
			var q tpch.Money
			for _, l := range o.lines {
				q += l.Quantity
			}
			if q > 30_000 {
				n++
			}
		}
		return n
	}},
	{"q19.sql", []string{"'Brand#12'", "'Brand#23'", "'Brand#34'", "('AIR', 'AIR REG')", "'DELIVER IN PERSON'"}, func(d *data) int {
		branches := []struct {
			brand      string
			minQty     tpch.Money
			maxSize    int32
			containers []string
		}{
			{"Brand#12", 100, 5, []string{"SM CASE", "SM BOX", "SM PACK", "SM PKG"}},
			{"Brand#23", 1000, 10, []string{"MED BAG", "MED BOX", "MED PKG", "MED PACK"}},
			{"Brand#34", 2000, 15, []string{"LG CASE", "LG BOX", "LG PACK", "LG PKG"}},
		}
		n := 0
		for _, l := range d.lines {
			if l.ShipMode != "AIR" && l.ShipMode != "AIR REG" || l.ShipInstruct != "DELIVER IN PERSON" {
				continue
			}
			p := d.part(l.PartKey)
			for _, b := range branches {
				if p.Brand == b.brand && slices.Contains(b.containers, p.Container) &&
					l.Quantity >= b.minQty && l.Quantity <= b.minQty+1000 && p.Size >= 1 && p.Size <= b.maxSize {
					n++
				}
			}
		}
		return n
	}},
	{"q20.sql", []string{"'forest%'", "'CANADA'", "date('1994-01-01')", "0.5*sum(l.quantity)"}, func(d *data) int {
		shipped := map[[2]int64]tpch.Money{}
		for _, l := range d.lines {
			if l.ShipDate >= day(1994, 1, 1) && l.ShipDate < day(1995, 1, 1) {
				shipped[[2]int64{l.PartKey, l.SuppKey}] += l.Quantity
			}
		}
		supps := map[int64]bool{}
		for _, ps := range d.partsupps {
			q, ok := shipped[[2]int64{ps.PartKey, ps.SuppKey}]
			// availqty > 0.5 × sum(quantity); over no lines the sum is NULL.
			if ok && like(d.part(ps.PartKey).Name, "forest%") && 2*int64(ps.AvailQty)*100 > int64(q) {
				supps[ps.SuppKey] = true
			}
		}
		n := 0
		for k := range supps {
			if d.nationName(d.supplier(k).NationKey) == "CANADA" {
				n++
			}
		}
		return n
	}},
	{"q21.sql", []string{"'SAUDI ARABIA'", "o.orderstatus = 'F'", "l1.receiptdate> l1.commitdate"}, func(d *data) int {
		names := map[string]bool{}
		for _, o := range d.orders {
			if o.OrderStatus != "F" {
				continue
			}
			for _, l1 := range o.lines {
				s := d.supplier(l1.SuppKey)
				if l1.ReceiptDate <= l1.CommitDate || d.nationName(s.NationKey) != "SAUDI ARABIA" {
					continue
				}
				other := slices.ContainsFunc(o.lines, func(l2 tpch.Lineitem) bool { return l2.SuppKey != l1.SuppKey })
				otherLate := slices.ContainsFunc(o.lines, func(l3 tpch.Lineitem) bool {
					return l3.SuppKey != l1.SuppKey && l3.ReceiptDate > l3.CommitDate
				})
				if other && !otherLate {
					names[s.Name] = true
				}
			}
		}
		return len(names)
	}},
	{"q22.sql", []string{"('13', '31', '23', '29', '30', '18', '17')", "c.acctbal > 0.00", "NOT EXISTS"}, func(d *data) int {
		codes := []string{"13", "31", "23", "29", "30", "18", "17"}
		var sum, n int64
		for _, c := range d.customers {
			if c.AcctBal > 0 && slices.Contains(codes, c.Phone[:2]) {
				sum += int64(c.AcctBal)
				n++
			}
		}
		ordered := map[int64]bool{}
		for _, o := range d.orders {
			ordered[o.CustKey] = true
		}
		groups := map[string]bool{}
		for _, c := range d.customers {
			if slices.Contains(codes, c.Phone[:2]) && int64(c.AcctBal)*n > sum && !ordered[c.CustKey] {
				groups[c.Phone[:2]] = true
			}
		}
		return len(groups)
	}},
}

// TestQueriesSelectRows evaluates each of the 22 TPC-H queries in Go over
// the default data set (scale 0.01) and requires rows: the value domains
// and the rare cases (orders of more than 300 units, complaining
// suppliers, special requests) must all be present.
func TestQueriesSelectRows(t *testing.T) {
	dir := filepath.Join(corpus.Dir(t), "tpch")
	d := defaultData(t)
	if len(selections) != 22 {
		t.Fatalf("%d query checks, want 22", len(selections))
	}
	for _, s := range selections {
		t.Run(strings.TrimSuffix(s.query, ".sql"), func(t *testing.T) {
			text := strings.Join(strings.Fields(corpus.Read(t, filepath.Join(dir, s.query))), " ")
			for _, lit := range s.literals {
				if !strings.Contains(text, lit) {
					t.Errorf("%s does not contain %q: the Go check no longer matches the query", s.query, lit)
				}
			}
			if n := s.rows(d); n == 0 {
				t.Errorf("%s selects no rows on the default data set", s.query)
			} else {
				t.Logf("%s: %d rows", s.query, n)
			}
		})
	}
}
