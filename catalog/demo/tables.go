package demo

import (
	"context"
	"iter"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"

	"github.com/meridian-lake/meridian/catalog"
	"github.com/meridian-lake/meridian/internal/tpch"
)

// tableDef is one table of the demo lake: where it goes, its schema and
// governance, and how its rows are made.
type tableDef struct {
	ns, name string
	// region is the table's meridian.residency, and the warehouse that
	// stores it.
	region   string
	class    catalog.Classification
	location string
	schema   *iceberg.Schema
	spec     iceberg.PartitionSpec
	props    iceberg.Properties
	// records streams the rows as record batches of sc, the Arrow form of
	// the created table's schema. It is called once.
	records func(ctx context.Context, sc *arrow.Schema) iter.Seq2[arrow.RecordBatch, error]
}

func (t *tableDef) ref() catalog.TableRef {
	return catalog.TableRef{Catalog: TrinoCatalog, Schema: t.ns, Table: t.name}
}

// lake is the demo lake's tables, in the order Init writes them.
type lake struct {
	tables []*tableDef
}

// Governance values of the demo tables.
const (
	personalPurposes = "support,analytics"
	healthPurposes   = "support"
	// bookingRetentionDays is three years: Init writes two, so lifecycle
	// finds partitions to expire once the clock passes 2027.
	bookingRetentionDays = 1095
)

// Partition field IDs start at 1000, as Iceberg assigns them.
const firstPartitionFieldID = 1000

func newLake(cfg Config, wh *warehouse) *lake {
	l := &lake{}
	ls := newListings(cfg.Seed)
	add := func(t *tableDef) {
		t.location = wh.location(t.region, t.ns, t.name)
		l.tables = append(l.tables, t)
	}
	add(listingsTable(ls))
	for _, r := range Regions() {
		add(guestsTable(cfg, r))
		if r == "eu" {
			add(healthTable(cfg, r))
		}
		add(bookingsTable(cfg, r, ls))
	}
	g, err := tpch.New(tpch.Config{Scale: cfg.TPCHScale, Seed: cfg.Seed})
	if err != nil {
		panic(err) // Validate checked the scale
	}
	for _, name := range tpchOrder {
		add(tpchTable(g, name))
	}
	return l
}

func field(id int, name string, typ iceberg.Type, required bool) iceberg.NestedField {
	return iceberg.NestedField{ID: id, Name: name, Type: typ, Required: required}
}

func tags(props iceberg.Properties, cols map[string]string) iceberg.Properties {
	for c, t := range cols {
		props[catalog.ColumnTagsProperty(c)] = t
	}
	return props
}

// Guest column positions, shared by the schema and the generator.
const (
	gID = iota
	gName
	gEmail
	gBirth
	gCountry
	gCreated
)

func guestsTable(cfg Config, region string) *tableDef {
	sc := iceberg.NewSchema(0,
		field(1, "guest_id", iceberg.PrimitiveTypes.Int64, true),
		field(2, "full_name", iceberg.PrimitiveTypes.String, false),
		field(3, "email", iceberg.PrimitiveTypes.String, false),
		field(4, "birth_date", iceberg.PrimitiveTypes.Date, false),
		field(5, "country", iceberg.PrimitiveTypes.String, false),
		field(6, "created_at", iceberg.PrimitiveTypes.Timestamp, false),
	)
	return &tableDef{
		ns: region, name: "guests", region: region, class: catalog.Personal,
		schema: sc,
		spec: iceberg.NewPartitionSpec(iceberg.PartitionField{
			SourceIDs: []int{6}, FieldID: firstPartitionFieldID, Name: "created_at_month", Transform: iceberg.MonthTransform{},
		}),
		props: tags(iceberg.Properties{
			catalog.PropClassification: string(catalog.Personal),
			catalog.PropResidency:      region,
			catalog.PropPurposes:       personalPurposes,
		}, map[string]string{
			"guest_id": "pii", "full_name": "pii", "email": "pii,email", "birth_date": "pii",
		}),
		records: guestRecords(cfg, region),
	}
}

// Booking column positions.
const (
	bID = iota
	bGuest
	bListing
	bCheckIn
	bNights
	bPrice
	bCurrency
)

func bookingsTable(cfg Config, region string, ls *listings) *tableDef {
	sc := iceberg.NewSchema(0,
		field(1, "booking_id", iceberg.PrimitiveTypes.Int64, true),
		field(2, "guest_id", iceberg.PrimitiveTypes.Int64, false),
		field(3, "listing_id", iceberg.PrimitiveTypes.Int64, false),
		field(4, "check_in", iceberg.PrimitiveTypes.Date, false),
		field(5, "nights", iceberg.PrimitiveTypes.Int32, false),
		field(6, "price", iceberg.DecimalTypeOf(10, 2), false),
		field(7, "currency", iceberg.PrimitiveTypes.String, false),
	)
	return &tableDef{
		ns: region, name: "bookings", region: region, class: catalog.Personal,
		schema: sc,
		spec: iceberg.NewPartitionSpec(iceberg.PartitionField{
			SourceIDs: []int{4}, FieldID: firstPartitionFieldID, Name: "check_in_day", Transform: iceberg.DayTransform{},
		}),
		props: tags(iceberg.Properties{
			catalog.PropClassification: string(catalog.Personal),
			catalog.PropResidency:      region,
			catalog.PropPurposes:       personalPurposes,
			catalog.PropRetentionDays:  strconv.Itoa(bookingRetentionDays),
		}, map[string]string{"guest_id": "pii"}),
		records: bookingRecords(cfg, region, ls),
	}
}

// Guest health column positions.
const (
	hGuest = iota
	hNeeds
	hUpdated
)

func healthTable(cfg Config, region string) *tableDef {
	sc := iceberg.NewSchema(0,
		field(1, "guest_id", iceberg.PrimitiveTypes.Int64, false),
		field(2, "needs", iceberg.PrimitiveTypes.String, false),
		field(3, "updated_at", iceberg.PrimitiveTypes.Timestamp, false),
	)
	return &tableDef{
		ns: region, name: "guest_health", region: region, class: catalog.Special,
		schema: sc,
		spec:   *iceberg.UnpartitionedSpec,
		props: tags(iceberg.Properties{
			catalog.PropClassification: string(catalog.Special),
			catalog.PropResidency:      region,
			catalog.PropPurposes:       healthPurposes,
		}, map[string]string{"guest_id": "pii"}),
		records: healthRecords(cfg, region),
	}
}

// Listing column positions.
const (
	lID = iota
	lCity
	lCountry
	lRate
)

func listingsTable(ls *listings) *tableDef {
	sc := iceberg.NewSchema(0,
		field(1, "listing_id", iceberg.PrimitiveTypes.Int64, true),
		field(2, "city", iceberg.PrimitiveTypes.String, false),
		field(3, "country", iceberg.PrimitiveTypes.String, false),
		field(4, "nightly_rate", iceberg.DecimalTypeOf(10, 2), false),
	)
	return &tableDef{
		ns: "global", name: "listings", region: "us", class: catalog.Public,
		schema: sc,
		spec:   *iceberg.UnpartitionedSpec,
		props: iceberg.Properties{
			catalog.PropClassification: string(catalog.Public),
			catalog.PropResidency:      "us",
		},
		records: ls.records,
	}
}

// tpchOrder is the order the TPC-H tables are written in: small first.
var tpchOrder = []string{"region", "nation", "part", "supplier", "partsupp", "customer", "orders", "lineitem"}

func tpchTable(g *tpch.Generator, name string) *tableDef {
	var def tpch.TableDef
	for _, d := range tpch.Tables() {
		if d.Name == name {
			def = d
		}
	}
	fields := make([]iceberg.NestedField, len(def.Columns))
	for i, c := range def.Columns {
		// The specification declares every TPC-H column NOT NULL.
		fields[i] = field(i+1, c.Name, tpchType(c.Kind), true)
	}
	return &tableDef{
		ns: "tpch", name: name, region: "us", class: catalog.Internal,
		schema: iceberg.NewSchema(0, fields...),
		spec:   *iceberg.UnpartitionedSpec,
		props: iceberg.Properties{
			catalog.PropClassification: string(catalog.Internal),
			catalog.PropResidency:      "us",
		},
		records: tpchRecords(g, def),
	}
}

func tpchType(k tpch.Kind) iceberg.Type {
	switch k {
	case tpch.KindInt64:
		return iceberg.PrimitiveTypes.Int64
	case tpch.KindInt32:
		return iceberg.PrimitiveTypes.Int32
	case tpch.KindMoney:
		return iceberg.DecimalTypeOf(15, 2)
	case tpch.KindDate:
		return iceberg.PrimitiveTypes.Date
	default: // char(n) and varchar: Iceberg has no char
		return iceberg.PrimitiveTypes.String
	}
}
