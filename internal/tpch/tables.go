package tpch

import "strconv"

// Kind says which Go type holds a column's values, in row structs and in a
// [Column] of a [Batch].
type Kind uint8

// The column kinds.
const (
	KindInt64  Kind = iota + 1 // bigint: int64
	KindInt32                  // integer: int32
	KindString                 // varchar and char(n): string, never padded
	KindMoney                  // decimal(15,2): Money, in hundredths
	KindDate                   // date: Date, days since 1970-01-01
)

// ColumnDef describes one column.
type ColumnDef struct {
	// Name is the column name without the specification's table prefix
	// (orderkey, not l_orderkey), as the Trino benchmark queries write it.
	Name string
	// Type is the column's SQL type from the specification's column
	// definitions (clause 1.4): bigint for identifiers, integer, decimal(15,2),
	// date, char(n) for fixed text of size n and varchar for variable text.
	// Formats without char (Iceberg, Parquet) store char(n) as a string.
	Type string
	// Kind is the Go type that holds the values.
	Kind Kind
}

// TableDef describes one table.
type TableDef struct {
	// Name is the table name, lower case: lineitem, orders, ….
	Name string
	// Columns are in the specification's order.
	Columns []ColumnDef
}

func bigint(name string) ColumnDef  { return ColumnDef{name, "bigint", KindInt64} }
func integer(name string) ColumnDef { return ColumnDef{name, "integer", KindInt32} }
func varchar(name string) ColumnDef { return ColumnDef{name, "varchar", KindString} }
func decimal(name string) ColumnDef { return ColumnDef{name, "decimal(15,2)", KindMoney} }
func date(name string) ColumnDef    { return ColumnDef{name, "date", KindDate} }

func char(name string, n int) ColumnDef {
	return ColumnDef{name, "char(" + strconv.Itoa(n) + ")", KindString}
}

// Tables returns the eight TPC-H tables in the specification's order (part,
// supplier, partsupp, customer, orders, lineitem, nation, region). The
// result is a fresh copy the caller may keep or change.
func Tables() []TableDef {
	return []TableDef{
		{"part", []ColumnDef{
			bigint("partkey"), varchar("name"), char("mfgr", 25), char("brand", 10),
			varchar("type"), integer("size"), char("container", 10),
			decimal("retailprice"), varchar("comment"),
		}},
		{"supplier", []ColumnDef{
			bigint("suppkey"), char("name", 25), varchar("address"), bigint("nationkey"),
			char("phone", 15), decimal("acctbal"), varchar("comment"),
		}},
		{"partsupp", []ColumnDef{
			bigint("partkey"), bigint("suppkey"), integer("availqty"),
			decimal("supplycost"), varchar("comment"),
		}},
		{"customer", []ColumnDef{
			bigint("custkey"), varchar("name"), varchar("address"), bigint("nationkey"),
			char("phone", 15), decimal("acctbal"), char("mktsegment", 10), varchar("comment"),
		}},
		{"orders", []ColumnDef{
			bigint("orderkey"), bigint("custkey"), char("orderstatus", 1),
			decimal("totalprice"), date("orderdate"), char("orderpriority", 15),
			char("clerk", 15), integer("shippriority"), varchar("comment"),
		}},
		{"lineitem", []ColumnDef{
			bigint("orderkey"), bigint("partkey"), bigint("suppkey"), integer("linenumber"),
			decimal("quantity"), decimal("extendedprice"), decimal("discount"), decimal("tax"),
			char("returnflag", 1), char("linestatus", 1),
			date("shipdate"), date("commitdate"), date("receiptdate"),
			char("shipinstruct", 25), char("shipmode", 10), varchar("comment"),
		}},
		{"nation", []ColumnDef{
			bigint("nationkey"), char("name", 25), bigint("regionkey"), varchar("comment"),
		}},
		{"region", []ColumnDef{
			bigint("regionkey"), char("name", 25), varchar("comment"),
		}},
	}
}

// Part is a row of part.
type Part struct {
	PartKey     int64
	Name        string
	Mfgr        string
	Brand       string
	Type        string
	Size        int32
	Container   string
	RetailPrice Money
	Comment     string
}

// Supplier is a row of supplier.
type Supplier struct {
	SuppKey   int64
	Name      string
	Address   string
	NationKey int64
	Phone     string
	AcctBal   Money
	Comment   string
}

// PartSupp is a row of partsupp.
type PartSupp struct {
	PartKey    int64
	SuppKey    int64
	AvailQty   int32
	SupplyCost Money
	Comment    string
}

// Customer is a row of customer.
type Customer struct {
	CustKey    int64
	Name       string
	Address    string
	NationKey  int64
	Phone      string
	AcctBal    Money
	MktSegment string
	Comment    string
}

// Order is a row of orders.
type Order struct {
	OrderKey      int64
	CustKey       int64
	OrderStatus   string
	TotalPrice    Money
	OrderDate     Date
	OrderPriority string
	Clerk         string
	ShipPriority  int32
	Comment       string
}

// Lineitem is a row of lineitem.
type Lineitem struct {
	OrderKey      int64
	PartKey       int64
	SuppKey       int64
	LineNumber    int32
	Quantity      Money
	ExtendedPrice Money
	Discount      Money
	Tax           Money
	ReturnFlag    string
	LineStatus    string
	ShipDate      Date
	CommitDate    Date
	ReceiptDate   Date
	ShipInstruct  string
	ShipMode      string
	Comment       string
}

// Nation is a row of nation.
type Nation struct {
	NationKey int64
	Name      string
	RegionKey int64
	Comment   string
}

// Region is a row of region.
type Region struct {
	RegionKey int64
	Name      string
	Comment   string
}
