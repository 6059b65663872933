package lifecycle

import (
	"os"
	"testing"
	"time"
)

const (
	gib = int64(1) << 30
	kib = int64(1) << 10
	tb  = int64(1e12)
	pb  = 1000 * tb
)

func money(t testing.TB, s string) Money {
	t.Helper()
	m, err := ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func designPrices(t testing.TB) PriceTable {
	t.Helper()
	data, err := os.ReadFile("testdata/design-prices.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pt, err := ParsePriceTable(data, DefaultPrices())
	if err != nil {
		t.Fatal(err)
	}
	return pt
}

func usPricer(t testing.TB) *Pricer {
	t.Helper()
	p, err := NewPricer(DefaultPrices(), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDesignExample is the original design's arithmetic: 500 PB split
// hot 5 / warm 50 / cold 200 / archive 245 PB at $23 / $12.5 / $4 / $1 per
// TB-month stores for exactly $1.785M a month, $21.42M a year, over a $10M
// a year budget. The 40 KB per archived object, which the design left out,
// is reported apart as overhead.
func TestDesignExample(t *testing.T) {
	p, err := NewPricer(designPrices(t), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	const objectSize = 1e9 // 1 GB objects
	groups := []Group{
		{Region: "us", Class: Standard, Bytes: 5 * pb, Objects: 5 * pb / objectSize},
		{Region: "us", Class: StandardIA, Bytes: 50 * pb, Objects: 50 * pb / objectSize},
		{Region: "us", Class: GlacierIR, Bytes: 200 * pb, Objects: 200 * pb / objectSize},
		{Region: "us", Class: DeepArchive, Bytes: 245 * pb, Objects: 245 * pb / objectSize},
	}
	proj := p.Project("us", groups, nil)
	want := map[StorageClass]Money{Standard: Dollars(115_000), StandardIA: Dollars(625_000), GlacierIR: Dollars(800_000), DeepArchive: Dollars(245_000)}
	var storage, overhead Money
	for _, c := range proj.Classes {
		if c.Storage != want[c.Class] {
			t.Errorf("%s storage = %s, want %s", c.Class, c.Storage.Exact(), want[c.Class].Exact())
		}
		storage += c.Storage
		overhead += c.Overhead
	}
	if storage != Dollars(1_785_000) {
		t.Errorf("monthly storage = %s, want exactly 1785000.00", storage.Exact())
	}
	if year := 12 * storage; year != Dollars(21_420_000) {
		t.Errorf("yearly storage = %s, want 21420000.00", year.Exact())
	}
	if budget := Dollars(10_000_000); 12*storage <= budget {
		t.Errorf("yearly %s should exceed the $10M budget", (12 * storage).Exact())
	}
	// 245M archived objects: 32 KiB at $0.001 and 8 KiB at $0.023 per GB each.
	// At 1e9 bytes per GB, $0.001/GB is 0.001 nano-dollars per byte.
	wantOverhead := Money(245_000*32768 + 245_000*8192*23)
	if overhead != wantOverhead {
		t.Errorf("archive overhead = %s, want %s", overhead.Exact(), wantOverhead.Exact())
	}
	if proj.Total() != storage+overhead {
		t.Errorf("total = %s, want storage + overhead", proj.Total().Exact())
	}
}

func TestMonthly(t *testing.T) {
	p := usPricer(t)
	tests := []struct {
		name string
		g    Group
		c    StorageClass
		u    Usage
		want ClassCost // only the money fields are compared
	}{
		{"standard 1 GiB", Group{Objects: 1, Bytes: gib}, Standard, Usage{},
			ClassCost{Storage: money(t, "0.023")}},
		{"IA bills small objects as 128 KiB", Group{Objects: 8192, Bytes: 8192 * kib, SmallObjects: 8192, SmallBytes: 8192 * kib}, StandardIA, Usage{},
			// 8 MiB stored, padded to 8192 x 128 KiB = 1 GiB billable.
			ClassCost{Storage: mulDiv(8192*kib, int64(money(t, "0.0125")), gib), Overhead: mulDiv(gib-8192*kib, int64(money(t, "0.0125")), gib)}},
		{"glacier adds 32 KiB at its price and 8 KiB at STANDARD per object", Group{Objects: 32768, Bytes: gib, SmallObjects: 32768, SmallBytes: gib}, Glacier, Usage{},
			// 32768 x 32 KiB = 1 GiB at 0.0036; 32768 x 8 KiB = 256 MiB at 0.023.
			ClassCost{Storage: money(t, "0.0036"), Overhead: money(t, "0.0036") + money(t, "0.00575")}},
		{"deep archive", Group{Objects: 1, Bytes: gib}, DeepArchive, Usage{},
			ClassCost{Storage: money(t, "0.00099"), Overhead: mulDiv(32*kib, int64(money(t, "0.00099")), gib) + mulDiv(8*kib, int64(money(t, "0.023")), gib)}},
		{"intelligent tiering, read 10 days ago: frequent tier", Group{Objects: 1, Bytes: gib}, IntelligentTiering, Usage{SinceAccess: 10 * day},
			ClassCost{Storage: money(t, "0.023"), Monitoring: money(t, "0.0000025")}},
		{"intelligent tiering, 45 days: infrequent tier", Group{Objects: 1, Bytes: gib}, IntelligentTiering, Usage{SinceAccess: 45 * day},
			ClassCost{Storage: money(t, "0.0125"), Monitoring: money(t, "0.0000025")}},
		{"intelligent tiering, 100 days: archive instant tier", Group{Objects: 1, Bytes: gib}, IntelligentTiering, Usage{SinceAccess: 100 * day},
			ClassCost{Storage: money(t, "0.004"), Monitoring: money(t, "0.0000025")}},
		{"intelligent tiering neither monitors nor tiers small objects", Group{Objects: 1024, Bytes: 1024 * kib, SmallObjects: 1024, SmallBytes: 1024 * kib}, IntelligentTiering, Usage{SinceAccess: 100 * day},
			ClassCost{Storage: mulDiv(1024*kib, int64(money(t, "0.023")), gib)}},
		{"IA retrieval at 2.5 full reads a month", Group{Objects: 1, Bytes: gib}, StandardIA, Usage{ReadsPerMonthMilli: 2500},
			ClassCost{Storage: money(t, "0.0125"), Retrieval: money(t, "0.025")}},
		{"standard reads are free", Group{Objects: 1, Bytes: gib}, Standard, Usage{ReadsPerMonthMilli: 2500},
			ClassCost{Storage: money(t, "0.023")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Monthly(tt.g, tt.c, tt.u)
			if got.Storage != tt.want.Storage || got.Overhead != tt.want.Overhead || got.Monitoring != tt.want.Monitoring || got.Retrieval != tt.want.Retrieval {
				t.Errorf("Monthly(%s) = storage %s overhead %s monitoring %s retrieval %s, want %s %s %s %s",
					tt.c, got.Storage.Exact(), got.Overhead.Exact(), got.Monitoring.Exact(), got.Retrieval.Exact(),
					tt.want.Storage.Exact(), tt.want.Overhead.Exact(), tt.want.Monitoring.Exact(), tt.want.Retrieval.Exact())
			}
		})
	}
}

func TestOneTimeCharges(t *testing.T) {
	p := usPricer(t)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

	if got, want := p.TransitionCost(Group{Objects: 1000}, DeepArchive), money(t, "0.05"); got != want {
		t.Errorf("TransitionCost(1000 objects to DEEP_ARCHIVE) = %s, want %s", got.Exact(), want.Exact())
	}
	if got, want := p.TransitionCost(Group{Objects: 1000}, Glacier), money(t, "0.03"); got != want {
		t.Errorf("TransitionCost(1000 objects to GLACIER) = %s, want %s", got.Exact(), want.Exact())
	}

	// A GLACIER_IR object written 60 days ago has 30 of its 90 days left:
	// leaving now bills a month at $0.004.
	a := NewAggregator(now, map[string]string{"b": "us"}, nil)
	if err := a.Add(Object{Bucket: "b", Key: "t/data/p=1/f.parquet", Size: gib, Class: GlacierIR, LastModified: now.Add(-60 * day)}); err != nil {
		t.Fatal(err)
	}
	g := a.Groups()[0]
	if g.EarlyByteDays != 30*gib {
		t.Errorf("EarlyByteDays = %d, want %d", g.EarlyByteDays, 30*gib)
	}
	if got, want := p.EarlyDeletion(g), money(t, "0.004"); got != want {
		t.Errorf("EarlyDeletion = %s, want %s", got.Exact(), want.Exact())
	}
	// Past the minimum duration leaving is free.
	old := Group{Class: GlacierIR, Bytes: gib, Objects: 1}
	if got := p.EarlyDeletion(old); got != 0 {
		t.Errorf("EarlyDeletion(no days left) = %s, want 0", got.Exact())
	}
	// Deleted by retention right after moving into GLACIER_IR: all 90 days.
	if got, want := p.ShortLifePenalty(old, GlacierIR, 0), money(t, "0.012"); got != want {
		t.Errorf("ShortLifePenalty(90 days short) = %s, want %s", got.Exact(), want.Exact())
	}
	if got := p.ShortLifePenalty(old, GlacierIR, 100*day); got != 0 {
		t.Errorf("ShortLifePenalty(outlives the minimum) = %s, want 0", got.Exact())
	}
}

func TestCanTransition(t *testing.T) {
	// LIFECYCLE.md: STANDARD -> any; IA -> IT, GIR, GFR, GDA; IT -> GIR,
	// GFR, GDA; GIR -> GFR, GDA; GFR -> GDA. Nothing goes warmer.
	allowed := map[[2]StorageClass]bool{}
	for _, to := range []StorageClass{StandardIA, OneZoneIA, IntelligentTiering, GlacierIR, Glacier, DeepArchive} {
		allowed[[2]StorageClass{Standard, to}] = true
	}
	for _, to := range []StorageClass{IntelligentTiering, OneZoneIA, GlacierIR, Glacier, DeepArchive} {
		allowed[[2]StorageClass{StandardIA, to}] = true
	}
	for _, to := range []StorageClass{OneZoneIA, GlacierIR, Glacier, DeepArchive} {
		allowed[[2]StorageClass{IntelligentTiering, to}] = true
	}
	for _, to := range []StorageClass{Glacier, DeepArchive} {
		allowed[[2]StorageClass{OneZoneIA, to}] = true
		allowed[[2]StorageClass{GlacierIR, to}] = true
	}
	allowed[[2]StorageClass{Glacier, DeepArchive}] = true
	for _, from := range Classes {
		for _, to := range Classes {
			if got, want := CanTransition(from, to), allowed[[2]StorageClass{from, to}]; got != want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestQueryableAndDurations(t *testing.T) {
	for _, c := range Classes {
		wantQ := c != Glacier && c != DeepArchive
		if c.Queryable() != wantQ {
			t.Errorf("%s.Queryable() = %v, want %v", c, c.Queryable(), wantQ)
		}
	}
	for c, want := range map[StorageClass]time.Duration{Standard: 0, IntelligentTiering: 0, StandardIA: 30 * day,
		OneZoneIA: 30 * day, GlacierIR: 90 * day, Glacier: 90 * day, DeepArchive: 180 * day} {
		if got := c.MinDuration(); got != want {
			t.Errorf("%s.MinDuration() = %v, want %v", c, got, want)
		}
	}
	if _, err := ParseStorageClass("REDUCED_REDUNDANCY"); err == nil {
		t.Error("ParseStorageClass(REDUCED_REDUNDANCY) succeeded, want an error")
	}
	if c, err := ParseStorageClass(""); err != nil || c != Standard {
		t.Errorf("ParseStorageClass(\"\") = %q, %v; want STANDARD", c, err)
	}
}
