package tpch_test

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/meridian-lake/meridian/internal/tpch"
)

func TestReferentialIntegrity(t *testing.T) {
	for _, scale := range []float64{0.01, 0.1} {
		t.Run(fmt.Sprint(scale), func(t *testing.T) {
			if scale > 0.01 && testing.Short() {
				t.Skip("scale 0.1 in -short mode")
			}
			g, err := tpch.New(tpch.Config{Scale: scale})
			if err != nil {
				t.Fatal(err)
			}
			checkIntegrity(t, g)
		})
	}
}

// checkIntegrity streams the tables, keeping only keys, so that it runs at
// larger scales too.
func checkIntegrity(t *testing.T, g *tpch.Generator) {
	t.Helper()
	regions := int64(0)
	for r := range g.Regions() {
		if r.RegionKey != regions {
			t.Errorf("region %d has key %d", regions, r.RegionKey)
		}
		regions++
	}
	nations := int64(0)
	for n := range g.Nations() {
		if n.NationKey != nations || n.RegionKey < 0 || n.RegionKey >= regions {
			t.Errorf("nation %+v: key or regionkey out of range", n)
		}
		nations++
	}
	suppliers := int64(0)
	for s := range g.Suppliers() {
		if suppliers++; s.SuppKey != suppliers || s.NationKey < 0 || s.NationKey >= nations {
			t.Errorf("supplier %d: key %d, nationkey %d", suppliers, s.SuppKey, s.NationKey)
		}
	}
	customers := int64(0)
	for c := range g.Customers() {
		if customers++; c.CustKey != customers || c.NationKey < 0 || c.NationKey >= nations {
			t.Errorf("customer %d: key %d, nationkey %d", customers, c.CustKey, c.NationKey)
		}
	}
	parts := int64(0)
	for p := range g.Parts() {
		if parts++; p.PartKey != parts {
			t.Fatalf("part %d has key %d", parts, p.PartKey)
		}
	}
	pairs := map[[2]int64]bool{}
	i := int64(0)
	for ps := range g.PartSupps() {
		pair := [2]int64{ps.PartKey, ps.SuppKey}
		switch {
		case ps.PartKey != i/4+1:
			t.Fatalf("partsupp row %d has partkey %d, want %d (four per part, in order)", i, ps.PartKey, i/4+1)
		case ps.SuppKey < 1 || ps.SuppKey > suppliers:
			t.Fatalf("partsupp %v: no such supplier", pair)
		case pairs[pair]:
			t.Fatalf("partsupp %v appears twice", pair)
		}
		pairs[pair] = true
		i++
	}
	if int64(len(pairs)) != 4*parts {
		t.Errorf("%d partsupp pairs for %d parts, want 4 per part", len(pairs), parts)
	}
	orderKeys := map[int64]bool{}
	prev := int64(0)
	for o, lines := range g.Orders() {
		if o.CustKey < 1 || o.CustKey > customers || o.CustKey%3 == 0 {
			t.Fatalf("order %d: custkey %d is not a customer that may order", o.OrderKey, o.CustKey)
		}
		if o.OrderKey <= prev {
			t.Fatalf("order keys not increasing: %d after %d", o.OrderKey, prev)
		}
		prev = o.OrderKey
		orderKeys[o.OrderKey] = true
		for j, l := range lines {
			if l.OrderKey != o.OrderKey || l.LineNumber != int32(j+1) {
				t.Fatalf("order %d line %d: orderkey %d linenumber %d", o.OrderKey, j+1, l.OrderKey, l.LineNumber)
			}
		}
	}
	// The lineitem table on its own, as a lake would store it.
	for l := range g.Lineitems() {
		if !orderKeys[l.OrderKey] {
			t.Fatalf("lineitem %d/%d: no such order", l.OrderKey, l.LineNumber)
		}
		if !pairs[[2]int64{l.PartKey, l.SuppKey}] {
			t.Fatalf("lineitem %d/%d: (partkey %d, suppkey %d) not in partsupp", l.OrderKey, l.LineNumber, l.PartKey, l.SuppKey)
		}
	}
}

// rule is a property every row of one table must have.
type rule[T any] struct {
	name string
	ok   func(d *data, row T) bool
}

func checkRules[T any](t *testing.T, d *data, rows []T, rules []rule[T]) {
	t.Helper()
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			bad := 0
			for _, row := range rows {
				if !r.ok(d, row) {
					if bad++; bad <= 3 {
						t.Errorf("%+v", row)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d rows break the rule", bad, len(rows))
			}
		})
	}
}

var (
	phoneRE     = regexp.MustCompile(`^[1-3][0-9]-[1-9][0-9]{2}-[1-9][0-9]{2}-[1-9][0-9]{3}$`)
	typeRE      = regexp.MustCompile(`^(STANDARD|SMALL|MEDIUM|LARGE|ECONOMY|PROMO) (ANODIZED|BURNISHED|PLATED|POLISHED|BRUSHED) (TIN|NICKEL|BRASS|STEEL|COPPER)$`)
	containerRE = regexp.MustCompile(`^(SM|LG|MED|JUMBO|WRAP) (CASE|BOX|BAG|JAR|PKG|PACK|CAN|DRUM)$`)
	clerkRE     = regexp.MustCompile(`^Clerk#0000000(0[1-9]|10)$`) // 10 clerks at scale 0.01
	nameWordRE  = regexp.MustCompile(`^[a-z]+$`)
)

func phoneOK(phone string, nation int64) bool {
	return phoneRE.MatchString(phone) && phone[:2] == fmt.Sprint(nation+10)
}

func lengthIn(s string, lo, hi int) bool { return len(s) >= lo && len(s) <= hi }

func TestValueDomains(t *testing.T) {
	d := defaultData(t)
	var orders []tpch.Order
	for _, o := range d.orders {
		orders = append(orders, o.Order)
	}
	t.Run("nation", func(t *testing.T) {
		want := []string{"0 ALGERIA 0", "1 ARGENTINA 1", "2 BRAZIL 1", "3 CANADA 1", "4 EGYPT 4", "5 ETHIOPIA 0",
			"6 FRANCE 3", "7 GERMANY 3", "8 INDIA 2", "9 INDONESIA 2", "10 IRAN 4", "11 IRAQ 4", "12 JAPAN 2",
			"13 JORDAN 4", "14 KENYA 0", "15 MOROCCO 0", "16 MOZAMBIQUE 0", "17 PERU 1", "18 CHINA 2",
			"19 ROMANIA 3", "20 SAUDI ARABIA 4", "21 VIETNAM 2", "22 RUSSIA 3", "23 UNITED KINGDOM 3", "24 UNITED STATES 1"}
		var got []string
		for _, n := range d.nations {
			got = append(got, fmt.Sprint(n.NationKey, " ", n.Name, " ", n.RegionKey))
		}
		if !slices.Equal(got, want) {
			t.Errorf("nations = %q, want %q", got, want)
		}
		checkRules(t, d, d.nations, []rule[tpch.Nation]{
			{"comment 31..114", func(_ *data, n tpch.Nation) bool { return lengthIn(n.Comment, 31, 114) }},
		})
	})
	t.Run("region", func(t *testing.T) {
		want := []string{"0 AFRICA", "1 AMERICA", "2 ASIA", "3 EUROPE", "4 MIDDLE EAST"}
		var got []string
		for _, r := range d.regions {
			got = append(got, fmt.Sprint(r.RegionKey, " ", r.Name))
		}
		if !slices.Equal(got, want) {
			t.Errorf("regions = %q, want %q", got, want)
		}
		checkRules(t, d, d.regions, []rule[tpch.Region]{
			{"comment 31..115", func(_ *data, r tpch.Region) bool { return lengthIn(r.Comment, 31, 115) }},
		})
	})
	t.Run("part", func(t *testing.T) {
		checkRules(t, d, d.parts, []rule[tpch.Part]{
			{"name is five distinct colours", func(_ *data, p tpch.Part) bool {
				w := strings.Split(p.Name, " ")
				slices.Sort(w)
				return len(w) == 5 && len(slices.Compact(w)) == 5 && !slices.ContainsFunc(w, func(s string) bool { return !nameWordRE.MatchString(s) })
			}},
			{"mfgr Manufacturer#1..5", func(_ *data, p tpch.Part) bool {
				return len(p.Mfgr) == 14 && strings.HasPrefix(p.Mfgr, "Manufacturer#") && p.Mfgr[13] >= '1' && p.Mfgr[13] <= '5'
			}},
			{"brand Brand#MN, M the mfgr", func(_ *data, p tpch.Part) bool {
				return len(p.Brand) == 8 && strings.HasPrefix(p.Brand, "Brand#") && p.Brand[6] == p.Mfgr[13] && p.Brand[7] >= '1' && p.Brand[7] <= '5'
			}},
			{"type of three syllables", func(_ *data, p tpch.Part) bool { return typeRE.MatchString(p.Type) }},
			{"size 1..50", func(_ *data, p tpch.Part) bool { return p.Size >= 1 && p.Size <= 50 }},
			{"container of two syllables", func(_ *data, p tpch.Part) bool { return containerRE.MatchString(p.Container) }},
			{"retailprice formula", func(_ *data, p tpch.Part) bool {
				k := p.PartKey
				return p.RetailPrice == tpch.Money(90000+(k/10)%20001+100*(k%1000))
			}},
			{"comment 5..22", func(_ *data, p tpch.Part) bool { return lengthIn(p.Comment, 5, 22) }},
		})
	})
	t.Run("supplier", func(t *testing.T) {
		checkRules(t, d, d.suppliers, []rule[tpch.Supplier]{
			{"name Supplier#000000001", func(_ *data, s tpch.Supplier) bool { return s.Name == fmt.Sprintf("Supplier#%09d", s.SuppKey) }},
			{"address 10..40", func(_ *data, s tpch.Supplier) bool { return lengthIn(s.Address, 10, 40) }},
			{"phone country code nationkey+10", func(_ *data, s tpch.Supplier) bool { return phoneOK(s.Phone, s.NationKey) }},
			{"acctbal -999.99..9999.99", func(_ *data, s tpch.Supplier) bool { return s.AcctBal >= -99999 && s.AcctBal <= 999999 }},
			{"comment 25..100", func(_ *data, s tpch.Supplier) bool { return lengthIn(s.Comment, 25, 100) }},
		})
	})
	t.Run("partsupp", func(t *testing.T) {
		checkRules(t, d, d.partsupps, []rule[tpch.PartSupp]{
			{"suppkey formula", func(d *data, ps tpch.PartSupp) bool {
				s, p := int64(len(d.suppliers)), ps.PartKey
				for i := range int64(4) {
					if ps.SuppKey == (p+i*(s/4+(p-1)/s))%s+1 {
						return true
					}
				}
				return false
			}},
			{"availqty 1..9999", func(_ *data, ps tpch.PartSupp) bool { return ps.AvailQty >= 1 && ps.AvailQty <= 9999 }},
			{"supplycost 1.00..1000.00", func(_ *data, ps tpch.PartSupp) bool { return ps.SupplyCost >= 100 && ps.SupplyCost <= 100000 }},
			{"comment 49..198", func(_ *data, ps tpch.PartSupp) bool { return lengthIn(ps.Comment, 49, 198) }},
		})
	})
	t.Run("customer", func(t *testing.T) {
		checkRules(t, d, d.customers, []rule[tpch.Customer]{
			{"name Customer#000000001", func(_ *data, c tpch.Customer) bool { return c.Name == fmt.Sprintf("Customer#%09d", c.CustKey) }},
			{"address 10..40", func(_ *data, c tpch.Customer) bool { return lengthIn(c.Address, 10, 40) }},
			{"phone country code nationkey+10", func(_ *data, c tpch.Customer) bool { return phoneOK(c.Phone, c.NationKey) }},
			{"acctbal -999.99..9999.99", func(_ *data, c tpch.Customer) bool { return c.AcctBal >= -99999 && c.AcctBal <= 999999 }},
			{"mktsegment", func(_ *data, c tpch.Customer) bool {
				return slices.Contains([]string{"AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"}, c.MktSegment)
			}},
			{"comment 29..116", func(_ *data, c tpch.Customer) bool { return lengthIn(c.Comment, 29, 116) }},
		})
	})
	t.Run("orders", func(t *testing.T) {
		checkRules(t, d, orders, []rule[tpch.Order]{
			{"sparse key: 8 of each 32", func(_ *data, o tpch.Order) bool { return (o.OrderKey-1)%32 < 8 }},
			{"orderdate 1992-01-01..1998-08-02", func(_ *data, o tpch.Order) bool {
				return o.OrderDate >= tpch.DateOf(1992, 1, 1) && o.OrderDate <= tpch.DateOf(1998, 8, 2)
			}},
			{"1..7 lines", func(d *data, o tpch.Order) bool { n := len(d.orderOf(o.OrderKey).lines); return n >= 1 && n <= 7 }},
			{"orderstatus from linestatus", func(d *data, o tpch.Order) bool {
				f, n := 0, d.orderOf(o.OrderKey).lines
				for _, l := range n {
					if l.LineStatus == "F" {
						f++
					}
				}
				want := map[bool]string{true: "F", false: "P"}[f == len(n)]
				if f == 0 {
					want = "O"
				}
				return o.OrderStatus == want
			}},
			{"totalprice is sum(extendedprice*(1+tax)*(1-discount)) rounded", func(d *data, o tpch.Order) bool {
				var sum int64 // 10^-6
				for _, l := range d.orderOf(o.OrderKey).lines {
					sum += int64(l.ExtendedPrice) * int64(100+l.Tax) * int64(100-l.Discount)
				}
				return int64(o.TotalPrice) == (sum+5000)/10000
			}},
			{"orderpriority", func(_ *data, o tpch.Order) bool {
				return slices.Contains([]string{"1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"}, o.OrderPriority)
			}},
			{"clerk", func(_ *data, o tpch.Order) bool { return clerkRE.MatchString(o.Clerk) }},
			{"shippriority 0", func(_ *data, o tpch.Order) bool { return o.ShipPriority == 0 }},
			{"comment 19..78", func(_ *data, o tpch.Order) bool { return lengthIn(o.Comment, 19, 78) }},
		})
	})
	t.Run("lineitem", func(t *testing.T) {
		current := tpch.DateOf(1995, 6, 17)
		checkRules(t, d, d.lines, []rule[tpch.Lineitem]{
			{"quantity 1..50, whole", func(_ *data, l tpch.Lineitem) bool {
				return l.Quantity >= 100 && l.Quantity <= 5000 && l.Quantity%100 == 0
			}},
			{"extendedprice = quantity × retailprice", func(d *data, l tpch.Lineitem) bool {
				return l.ExtendedPrice == l.Quantity/100*d.part(l.PartKey).RetailPrice
			}},
			{"discount 0.00..0.10", func(_ *data, l tpch.Lineitem) bool { return l.Discount >= 0 && l.Discount <= 10 }},
			{"tax 0.00..0.08", func(_ *data, l tpch.Lineitem) bool { return l.Tax >= 0 && l.Tax <= 8 }},
			{"shipdate = orderdate + 1..121", func(d *data, l tpch.Lineitem) bool {
				o := d.orderOf(l.OrderKey).OrderDate
				return l.ShipDate >= o+1 && l.ShipDate <= o+121
			}},
			{"commitdate = orderdate + 30..90", func(d *data, l tpch.Lineitem) bool {
				o := d.orderOf(l.OrderKey).OrderDate
				return l.CommitDate >= o+30 && l.CommitDate <= o+90
			}},
			{"receiptdate = shipdate + 1..30", func(_ *data, l tpch.Lineitem) bool {
				return l.ReceiptDate >= l.ShipDate+1 && l.ReceiptDate <= l.ShipDate+30
			}},
			{"returnflag R or A when received by 1995-06-17, else N", func(_ *data, l tpch.Lineitem) bool {
				if l.ReceiptDate <= current {
					return l.ReturnFlag == "R" || l.ReturnFlag == "A"
				}
				return l.ReturnFlag == "N"
			}},
			{"linestatus F when shipped by 1995-06-17, else O", func(_ *data, l tpch.Lineitem) bool {
				return l.LineStatus == map[bool]string{true: "F", false: "O"}[l.ShipDate <= current]
			}},
			{"shipinstruct", func(_ *data, l tpch.Lineitem) bool {
				return slices.Contains([]string{"DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"}, l.ShipInstruct)
			}},
			{"shipmode", func(_ *data, l tpch.Lineitem) bool {
				return slices.Contains([]string{"REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"}, l.ShipMode)
			}},
			{"comment 10..43", func(_ *data, l tpch.Lineitem) bool { return lengthIn(l.Comment, 10, 43) }},
		})
	})
}

// TestValuesOccur checks that every value of each list the queries filter on
// occurs, and the rare patterns they look for too.
func TestValuesOccur(t *testing.T) {
	d := defaultData(t)
	seen := map[string]map[string]bool{}
	add := func(what, v string) {
		if seen[what] == nil {
			seen[what] = map[string]bool{}
		}
		seen[what][v] = true
	}
	for _, p := range d.parts {
		add("mfgr", p.Mfgr)
		add("brand", p.Brand)
		add("type", p.Type)
		add("size", fmt.Sprint(p.Size))
		add("container", p.Container)
		for w := range strings.SplitSeq(p.Name, " ") {
			add("color", w)
		}
		if strings.HasPrefix(p.Name, "forest") {
			add("pattern", "p.name LIKE 'forest%'")
		}
		if strings.Contains(p.Name, "green") {
			add("pattern", "p.name LIKE '%green%'")
		}
	}
	for _, c := range d.customers {
		add("mktsegment", c.MktSegment)
		add("nation", fmt.Sprint(c.NationKey))
	}
	for _, s := range d.suppliers {
		if like(s.Comment, "%Customer%Complaints%") {
			add("pattern", "s.comment LIKE '%Customer%Complaints%'")
		}
		if like(s.Comment, "%Customer%Recommends%") {
			add("pattern", "s.comment LIKE '%Customer%Recommends%'")
		}
	}
	for _, o := range d.orders {
		add("orderpriority", o.OrderPriority)
		add("orderstatus", o.OrderStatus)
		if like(o.Comment, "%special%requests%") {
			add("pattern", "o.comment LIKE '%special%requests%'")
		}
	}
	for _, l := range d.lines {
		add("shipmode", l.ShipMode)
		add("shipinstruct", l.ShipInstruct)
		add("returnflag", l.ReturnFlag)
		add("linestatus", l.LineStatus)
		add("discount", l.Discount.String())
		add("tax", l.Tax.String())
		add("quantity", l.Quantity.String())
	}
	want := map[string]int{
		"mfgr": 5, "brand": 25, "type": 150, "size": 50, "container": 40, "color": 92,
		"mktsegment": 5, "nation": 25, "orderpriority": 5, "orderstatus": 3,
		"shipmode": 7, "shipinstruct": 4, "returnflag": 3, "linestatus": 2,
		"discount": 11, "tax": 9, "quantity": 50, "pattern": 5,
	}
	for what, n := range want {
		if got := len(seen[what]); got != n {
			t.Errorf("%d distinct %s values, want %d: %v", got, what, n, slices.Sorted(maps.Keys(seen[what])))
		}
	}
	// Exactly SF × 5 suppliers of each kind, but at least one.
	for _, pattern := range []string{"%Customer%Complaints%", "%Customer%Recommends%"} {
		n := 0
		for _, s := range d.suppliers {
			if like(s.Comment, pattern) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d suppliers match %q at scale 0.01, want 1", n, pattern)
		}
	}
}
