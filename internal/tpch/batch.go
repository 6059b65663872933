package tpch

import (
	"fmt"
	"iter"
)

// Batch is a run of consecutive rows of one table, by column. Columns are
// parallel to the table's TableDef.Columns, and each Column fills the one
// slice its Kind names, so converting to an Arrow record is a loop over
// columns with a switch on Kind.
type Batch struct {
	// Def describes the table and its columns.
	Def TableDef
	// Columns hold the values, one per column of Def.
	Columns []Column
	n       int
}

// Column holds the values of one column of a Batch. Only the slice of the
// column's Kind is set; its length is the batch length.
type Column struct {
	Int64  []int64  // KindInt64
	Int32  []int32  // KindInt32
	String []string // KindString
	Money  []Money  // KindMoney
	Date   []Date   // KindDate
}

// Len returns the number of rows in b.
func (b *Batch) Len() int { return b.n }

func newBatch(def TableDef, size int) *Batch {
	b := &Batch{Def: def, Columns: make([]Column, len(def.Columns))}
	for i, c := range def.Columns {
		col := &b.Columns[i]
		switch c.Kind {
		case KindInt64:
			col.Int64 = make([]int64, 0, size)
		case KindInt32:
			col.Int32 = make([]int32, 0, size)
		case KindString:
			col.String = make([]string, 0, size)
		case KindMoney:
			col.Money = make([]Money, 0, size)
		case KindDate:
			col.Date = make([]Date, 0, size)
		}
	}
	return b
}

func (b *Batch) reset() {
	for i := range b.Columns {
		c := &b.Columns[i]
		c.Int64, c.Int32, c.String, c.Money, c.Date = c.Int64[:0], c.Int32[:0], c.String[:0], c.Money[:0], c.Date[:0]
	}
	b.n = 0
}

// Generate streams table in batches of up to size rows to emit, in key
// order, and stops at emit's first error, which it returns unchanged. The
// Batch is reused: emit must copy what it keeps before returning (an Arrow
// builder does). The rows do not depend on size.
func (g *Generator) Generate(table string, size int, emit func(*Batch) error) error {
	if size < 1 {
		return fmt.Errorf("generate %s: batch size %d: must be positive", table, size)
	}
	var def TableDef
	for _, d := range Tables() {
		if d.Name == table {
			def = d
		}
	}
	if def.Name == "" {
		return fmt.Errorf("generate %q: %w", table, ErrUnknownTable)
	}
	b := newBatch(def, size)
	switch table {
	case "part":
		return fill(g.Parts(), b, size, (*Batch).addPart, emit)
	case "supplier":
		return fill(g.Suppliers(), b, size, (*Batch).addSupplier, emit)
	case "partsupp":
		return fill(g.PartSupps(), b, size, (*Batch).addPartSupp, emit)
	case "customer":
		return fill(g.Customers(), b, size, (*Batch).addCustomer, emit)
	case "orders":
		orders := func(yield func(Order) bool) {
			for o := range g.Orders() {
				if !yield(o) {
					return
				}
			}
		}
		return fill(orders, b, size, (*Batch).addOrder, emit)
	case "lineitem":
		return fill(g.Lineitems(), b, size, (*Batch).addLineitem, emit)
	case "nation":
		return fill(g.Nations(), b, size, (*Batch).addNation, emit)
	default: // region
		return fill(g.Regions(), b, size, (*Batch).addRegion, emit)
	}
}

// Generate is New(cfg) followed by Generator.Generate, for one table.
func Generate(cfg Config, table string, size int, emit func(*Batch) error) error {
	g, err := New(cfg)
	if err != nil {
		return err
	}
	return g.Generate(table, size, emit)
}

func fill[T any](rows iter.Seq[T], b *Batch, size int, add func(*Batch, T), emit func(*Batch) error) error {
	for row := range rows {
		add(b, row)
		if b.n++; b.n == size {
			if err := emit(b); err != nil {
				return err
			}
			b.reset()
		}
	}
	if b.n > 0 {
		return emit(b)
	}
	return nil
}

func (b *Batch) addPart(p Part) {
	c := b.Columns
	c[0].Int64 = append(c[0].Int64, p.PartKey)
	c[1].String = append(c[1].String, p.Name)
	c[2].String = append(c[2].String, p.Mfgr)
	c[3].String = append(c[3].String, p.Brand)
	c[4].String = append(c[4].String, p.Type)
	c[5].Int32 = append(c[5].Int32, p.Size)
	c[6].String = append(c[6].String, p.Container)
	c[7].Money = append(c[7].Money, p.RetailPrice)
	c[8].String = append(c[8].String, p.Comment)
}

func (b *Batch) addSupplier(s Supplier) {
	c := b.Columns
	c[0].Int64 = append(c[0].Int64, s.SuppKey)
	c[1].String = append(c[1].String, s.Name)
	c[2].String = append(c[2].String, s.Address)
	c[3].Int64 = append(c[3].Int64, s.NationKey)
	c[4].String = append(c[4].String, s.Phone)
	c[5].Money = append(c[5].Money, s.AcctBal)
	c[6].String = append(c[6].String, s.Comment)
}

func (b *Batch) addPartSupp(ps PartSupp) {
	c := b.Columns
	c[0].Int64 = append(c[0].Int64, ps.PartKey)
	c[1].Int64 = append(c[1].Int64, ps.SuppKey)
	c[2].Int32 = append(c[2].Int32, ps.AvailQty)
	c[3].Money = append(c[3].Money, ps.SupplyCost)
	c[4].String = append(c[4].String, ps.Comment)
}

func (b *Batch) addCustomer(cu Customer) {
	c := b.Columns
	c[0].Int64 = append(c[0].Int64, cu.CustKey)
	c[1].String = append(c[1].String, cu.Name)
	c[2].String = append(c[2].String, cu.Address)
	c[3].Int64 = append(c[3].Int64, cu.NationKey)
	c[4].String = append(c[4].String, cu.Phone)
	c[5].Money = append(c[5].Money, cu.AcctBal)
	c[6].String = append(c[6].String, cu.MktSegment)
	c[7].String = append(c[7].String, cu.Comment)
}

func (b *Batch) addOrder(o Order) {
	c := b.Columns
	c[0].Int64 = append(c[0].Int64, o.OrderKey)
	c[1].Int64 = append(c[1].Int64, o.CustKey)
	c[2].String = append(c[2].String, o.OrderStatus)
	c[3].Money = append(c[3].Money, o.TotalPrice)
	c[4].Date = append(c[4].Date, o.OrderDate)
	c[5].String = append(c[5].String, o.OrderPriority)
	c[6].String = append(c[6].String, o.Clerk)
	c[7].Int32 = append(c[7].Int32, o.ShipPriority)
	c[8].String = append(c[8].String, o.Comment)
}

func (b *Batch) addLineitem(l Lineitem) {
	c := b.Columns
	c[0].Int64 = append(c[0].Int64, l.OrderKey)
	c[1].Int64 = append(c[1].Int64, l.PartKey)
	c[2].Int64 = append(c[2].Int64, l.SuppKey)
	c[3].Int32 = append(c[3].Int32, l.LineNumber)
	c[4].Money = append(c[4].Money, l.Quantity)
	c[5].Money = append(c[5].Money, l.ExtendedPrice)
	c[6].Money = append(c[6].Money, l.Discount)
	c[7].Money = append(c[7].Money, l.Tax)
	c[8].String = append(c[8].String, l.ReturnFlag)
	c[9].String = append(c[9].String, l.LineStatus)
	c[10].Date = append(c[10].Date, l.ShipDate)
	c[11].Date = append(c[11].Date, l.CommitDate)
	c[12].Date = append(c[12].Date, l.ReceiptDate)
	c[13].String = append(c[13].String, l.ShipInstruct)
	c[14].String = append(c[14].String, l.ShipMode)
	c[15].String = append(c[15].String, l.Comment)
}

func (b *Batch) addNation(n Nation) {
	c := b.Columns
	c[0].Int64 = append(c[0].Int64, n.NationKey)
	c[1].String = append(c[1].String, n.Name)
	c[2].Int64 = append(c[2].Int64, n.RegionKey)
	c[3].String = append(c[3].String, n.Comment)
}

func (b *Batch) addRegion(r Region) {
	c := b.Columns
	c[0].Int64 = append(c[0].Int64, r.RegionKey)
	c[1].String = append(c[1].String, r.Name)
	c[2].String = append(c[2].String, r.Comment)
}
