package lifecycle

import (
	"math"
	"time"
)

// Group is the unit the cost model prices and the optimizer moves: the
// objects of one partition (or one non-partition prefix) that share a
// storage class. Groups are built by an [Aggregator] while an inventory
// streams past, so a plan over billions of objects holds one Group per
// partition and class, never one value per object.
type Group struct {
	// Region is the lake region whose budget pays for the group.
	Region string `json:"region"`
	// Bucket and Prefix locate the objects: every key of the group starts
	// with Prefix (a partition's directory, ending in "/").
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
	// Table and Partition identify the partition as access history names
	// it; both are empty for objects outside a table's data/ directory.
	Table     string `json:"table,omitempty"`
	Partition string `json:"partition,omitempty"`
	// Class is the objects' current storage class.
	Class StorageClass `json:"class"`
	// Pinned groups are never moved: Iceberg metadata/ and objects that
	// belong to no partition.
	Pinned bool `json:"pinned,omitempty"`
	// Objects and Bytes count the objects and their sizes.
	Objects int64 `json:"objects"`
	Bytes   int64 `json:"bytes"`
	// SmallObjects and SmallBytes count the objects under 128 KB, which
	// IA-type classes bill as 128 KB and Intelligent-Tiering does not
	// monitor.
	SmallObjects int64 `json:"small_objects,omitempty"`
	SmallBytes   int64 `json:"small_bytes,omitempty"`
	// Oldest and Newest bound the objects' LastModified times.
	Oldest time.Time `json:"oldest"`
	Newest time.Time `json:"newest"`
	// EarlyByteDays sums, over the objects, billable bytes times the days
	// left of Class's minimum storage duration at aggregation time: the
	// early-deletion charge for moving the group out now is this times the
	// class's daily price.
	EarlyByteDays int64 `json:"early_byte_days,omitempty"`
}

// add folds one object into g. now dates the minimum-duration check.
func (g *Group) add(o Object, now time.Time) {
	g.Objects++
	g.Bytes = satAdd(g.Bytes, o.Size)
	if o.Size < minBillableSize {
		g.SmallObjects++
		g.SmallBytes += o.Size
	}
	if g.Oldest.IsZero() || o.LastModified.Before(g.Oldest) {
		g.Oldest = o.LastModified
	}
	if o.LastModified.After(g.Newest) {
		g.Newest = o.LastModified
	}
	if md := g.Class.MinDuration(); md > 0 {
		since := o.ClassSince
		if since.IsZero() {
			since = o.LastModified
		}
		if left := md - now.Sub(since); left > 0 {
			days := int64((left + day - 1) / day)
			b := o.Size
			if g.Class.minBillable() && b < minBillableSize {
				b = minBillableSize
			}
			g.EarlyByteDays = satAdd(g.EarlyByteDays, satMul(b, days))
		}
	}
}

// satAdd and satMul saturate instead of wrapping; no real lake reaches the
// limit, and a saturated count errs on the expensive side.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func satMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

// ClassCost breaks one class's monthly bill into its parts.
type ClassCost struct {
	Class   StorageClass `json:"class"`
	Objects int64        `json:"objects"`
	Bytes   int64        `json:"bytes"`
	// Storage is bytes times the class's price.
	Storage Money `json:"storage"`
	// Overhead is what S3 adds beyond the bytes: the 128 KB minimum
	// billable size of IA-type classes and the 40 KB per archived object.
	Overhead Money `json:"overhead"`
	// Monitoring is Intelligent-Tiering's per-object fee.
	Monitoring Money `json:"monitoring"`
	// Retrieval is the expected monthly charge for reading the data back
	// (IA-type classes), from the access history's read rate.
	Retrieval Money `json:"retrieval"`
}

// Total is the class's monthly cost.
func (c ClassCost) Total() Money {
	return c.Storage.plus(c.Overhead).plus(c.Monitoring).plus(c.Retrieval)
}

func (c *ClassCost) addCost(o ClassCost) {
	c.Objects = satAdd(c.Objects, o.Objects)
	c.Bytes = satAdd(c.Bytes, o.Bytes)
	c.Storage = c.Storage.plus(o.Storage)
	c.Overhead = c.Overhead.plus(o.Overhead)
	c.Monitoring = c.Monitoring.plus(o.Monitoring)
	c.Retrieval = c.Retrieval.plus(o.Retrieval)
}

// plus adds non-negative amounts, saturating at the largest Money rather
// than wrapping to a negative bill.
func (m Money) plus(o Money) Money { return Money(satAdd(int64(m), int64(o))) }

// Pricer prices groups with one region's prices.
type Pricer struct {
	region     RegionPrices
	bytesPerGB int64
}

// NewPricer returns the pricer for region of t.
func NewPricer(t PriceTable, region string) (*Pricer, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	rp, err := t.Region(region)
	if err != nil {
		return nil, err
	}
	return &Pricer{region: rp, bytesPerGB: t.BytesPerGB}, nil
}

// gbMonth prices bytes for a month at perGB.
func (p *Pricer) gbMonth(bytes int64, perGB Money) Money {
	return mulDiv(bytes, int64(perGB), p.bytesPerGB)
}

// Usage is what the access history says about a group, as the cost model
// needs it.
type Usage struct {
	// SinceAccess is the time since the last read; a group never read has
	// the age of its history (or more).
	SinceAccess time.Duration
	// ReadsPerMonth is the expected number of full reads per month, in
	// thousandths (1500 = 1.5 reads a month), to keep the arithmetic exact.
	ReadsPerMonthMilli int64
}

// Monthly returns the monthly cost of keeping g in class c under usage u.
// It applies the AWS billing rules in LIFECYCLE.md: the 128 KB minimum
// billable size of STANDARD_IA, ONEZONE_IA and GLACIER_IR; the 40 KB per
// archived object (8 KB at the STANDARD price, 32 KB at the class's);
// Intelligent-Tiering's tiers by time since access (objects under 128 KB
// stay frequent and are not monitored) and its monitoring fee; and per-GB
// retrieval charges for the expected reads.
func (p *Pricer) Monthly(g Group, c StorageClass, u Usage) ClassCost {
	cp := p.region.Classes[c]
	out := ClassCost{Class: c, Objects: g.Objects, Bytes: g.Bytes}
	switch {
	case c == IntelligentTiering:
		monitored := g.Bytes - g.SmallBytes
		tier := cp.StorageGBMonth
		switch {
		case u.SinceAccess >= 90*day:
			tier = cp.ArchiveInstantGBMonth
		case u.SinceAccess >= 30*day:
			tier = cp.InfrequentGBMonth
		}
		out.Storage = p.gbMonth(g.SmallBytes, cp.StorageGBMonth).plus(p.gbMonth(monitored, tier))
		out.Monitoring = mulDiv(g.Objects-g.SmallObjects, int64(cp.MonitoringPer1000), 1000)
	case c.minBillable():
		out.Storage = p.gbMonth(g.Bytes, cp.StorageGBMonth)
		pad := satMul(g.SmallObjects, minBillableSize) - g.SmallBytes
		out.Overhead = p.gbMonth(pad, cp.StorageGBMonth)
	case c.Archive():
		out.Storage = p.gbMonth(g.Bytes, cp.StorageGBMonth)
		std := p.region.Classes[Standard].StorageGBMonth
		out.Overhead = p.gbMonth(satMul(g.Objects, archiveClassOverhead), cp.StorageGBMonth).
			plus(p.gbMonth(satMul(g.Objects, archiveStandardOverhead), std))
	default:
		out.Storage = p.gbMonth(g.Bytes, cp.StorageGBMonth)
	}
	if cp.RetrievalGB > 0 && u.ReadsPerMonthMilli > 0 {
		perRead := p.gbMonth(g.Bytes, cp.RetrievalGB)
		out.Retrieval = mulDiv(int64(perRead), u.ReadsPerMonthMilli, 1000)
	}
	return out
}

// TransitionCost is the one-time charge for moving g into class to by a
// lifecycle transition: the class's per-1,000 transition price per object.
func (p *Pricer) TransitionCost(g Group, to StorageClass) Money {
	return mulDiv(g.Objects, int64(p.region.Classes[to].TransitionPer1000), 1000)
}

// EarlyDeletion is the charge for moving g out of its class (or deleting
// it) now: the remaining days of the class's minimum duration, prorated
// from the monthly price over 30-day months.
func (p *Pricer) EarlyDeletion(g Group) Money {
	if g.EarlyByteDays == 0 {
		return 0
	}
	price := p.region.Classes[g.Class].StorageGBMonth
	return mulDiv(g.EarlyByteDays, int64(price), satMul(p.bytesPerGB, 30))
}

// ShortLifePenalty is the minimum-duration charge S3 will bill if g, moved
// into class to now, is deleted after only remaining (its retention ends):
// the days short of to's minimum duration at to's price.
func (p *Pricer) ShortLifePenalty(g Group, to StorageClass, remaining time.Duration) Money {
	md := to.MinDuration()
	if md == 0 || remaining >= md {
		return 0
	}
	if remaining < 0 {
		remaining = 0
	}
	days := int64((md - remaining + day - 1) / day)
	b := g.Bytes
	if to.minBillable() {
		b += satMul(g.SmallObjects, minBillableSize) - g.SmallBytes
	}
	if to.Archive() {
		b += satMul(g.Objects, archiveClassOverhead)
	}
	price := p.region.Classes[to].StorageGBMonth
	return mulDiv(satMul(b, days), int64(price), satMul(p.bytesPerGB, 30))
}

// Projection is a region's projected monthly cost by class.
type Projection struct {
	Region string `json:"region"`
	// Classes has one entry per class present, warmest first.
	Classes []ClassCost `json:"classes"`
}

// Total is the region's monthly cost.
func (p Projection) Total() Money {
	var t Money
	for _, c := range p.Classes {
		t = t.plus(c.Total())
	}
	return t
}

// Project prices groups of one region as they stand, with usage from use
// (nil: no reads).
func (p *Pricer) Project(region string, groups []Group, use func(Group) Usage) Projection {
	by := map[StorageClass]*ClassCost{}
	for _, g := range groups {
		var u Usage
		if use != nil {
			u = use(g)
		}
		c := p.Monthly(g, g.Class, u)
		if by[g.Class] == nil {
			by[g.Class] = &ClassCost{Class: g.Class}
		}
		by[g.Class].addCost(c)
	}
	out := Projection{Region: region}
	for _, c := range Classes {
		if cc := by[c]; cc != nil {
			out.Classes = append(out.Classes, *cc)
		}
	}
	return out
}
