package lifecycle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Money is an amount in US dollars, held exactly as an integer number of
// nano-dollars (1e-9 $). Every price S3 publishes (down to $0.00099 per
// GB-month or $0.0025 per 1,000 objects) is a whole number of nano-dollars,
// so sums over a lake do not drift the way float64 would. The largest
// amount, about $9.2 billion, is far above any monthly bill this plans.
type Money int64

const nanosPerDollar = 1_000_000_000

// Dollars returns m as a whole number of dollars and nano-dollars. It is
// for constants in tests and configuration, not for arithmetic.
func Dollars(d int64) Money { return Money(d * nanosPerDollar) }

// ParseMoney parses a decimal dollar amount ("0.023", "1785000", "12.5")
// exactly. More than nine decimal places, signs other than a leading minus,
// exponents and amounts beyond the range of Money are errors.
func ParseMoney(s string) (Money, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "$")
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimPrefix(t, "-")
	whole, frac, _ := strings.Cut(t, ".")
	if whole == "" && frac == "" || len(frac) > 9 || strings.ContainsAny(whole+frac, "+-eE_ ") {
		return 0, fmt.Errorf("money %q: want a decimal dollar amount with at most 9 decimal places", s)
	}
	if whole == "" {
		whole = "0"
	}
	w, err := strconv.ParseUint(whole, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("money %q: %w", s, err)
	}
	frac += strings.Repeat("0", 9-len(frac))
	f, err := strconv.ParseUint(frac, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("money %q: %w", s, err)
	}
	if w > (math.MaxInt64-f)/nanosPerDollar {
		return 0, fmt.Errorf("money %q: out of range", s)
	}
	m := Money(w*nanosPerDollar + f)
	if neg {
		m = -m
	}
	return m, nil
}

// String renders m in dollars with cents, rounded half away from zero
// ("$1785000.00"); Exact keeps every digit.
func (m Money) String() string {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = uint64(-m)
	}
	cents := (u + 5_000_000) / 10_000_000
	s := fmt.Sprintf("$%d.%02d", cents/100, cents%100)
	if neg && cents > 0 {
		s = "-" + s
	}
	return s
}

// Exact renders m as a decimal dollar amount with no rounding and no
// trailing zeros past the cents ("0.00099", "1785000.00").
func (m Money) Exact() string {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = uint64(-m)
	}
	frac := strings.TrimRight(fmt.Sprintf("%09d", u%nanosPerDollar), "0")
	if len(frac) < 2 {
		frac += strings.Repeat("0", 2-len(frac))
	}
	s := fmt.Sprintf("%d.%s", u/nanosPerDollar, frac)
	if neg {
		s = "-" + s
	}
	return s
}

// MarshalJSON writes m as an exact decimal string, so a plan read back is
// the plan written.
func (m Money) MarshalJSON() ([]byte, error) { return json.Marshal(m.Exact()) }

// UnmarshalJSON accepts a decimal string or a JSON number, read from its
// text (never through float64).
func (m *Money) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := ParseMoney(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// UnmarshalYAML reads a scalar's literal text, so 0.00099 stays exact.
func (m *Money) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a price must be a decimal number", n.Line)
	}
	v, err := ParseMoney(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*m = v
	return nil
}

// MarshalYAML writes m as its exact decimal text.
func (m Money) MarshalYAML() (any, error) { return m.Exact(), nil }

// mulDiv returns round(a*b/d) for non-negative a, b and positive d without
// intermediate overflow; it saturates at the largest Money when the result
// does not fit, which no real bill reaches.
func mulDiv(a, b, d int64) Money {
	if a <= 0 || b <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(d) {
		return math.MaxInt64
	}
	q, r := bits.Div64(hi, lo, uint64(d))
	if r >= uint64(d)-r { // round half up
		q++
	}
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return Money(q)
}

// RestoreTier is the speed of a restore from an archive class.
type RestoreTier string

// Restore tiers as the RestoreObject API spells them.
const (
	Expedited    RestoreTier = "Expedited"
	StandardTier RestoreTier = "Standard"
	Bulk         RestoreTier = "Bulk"
)

// RestorePrice is the cost of restoring from an archive class at one tier.
type RestorePrice struct {
	// PerGB is charged per GB restored.
	PerGB Money `json:"per_gb" yaml:"per_gb"`
	// Per1000 is charged per 1,000 restore requests.
	Per1000 Money `json:"per_1000" yaml:"per_1000"`
}

// ClassPrices are one class's prices in one region.
type ClassPrices struct {
	// StorageGBMonth is the price of storing one GB for one month. For
	// INTELLIGENT_TIERING it is the frequent-access tier.
	StorageGBMonth Money `json:"storage_gb_month" yaml:"storage_gb_month"`
	// InfrequentGBMonth and ArchiveInstantGBMonth are INTELLIGENT_TIERING's
	// tiers after 30 and 90 days without access.
	InfrequentGBMonth     Money `json:"infrequent_gb_month,omitempty" yaml:"infrequent_gb_month,omitempty"`
	ArchiveInstantGBMonth Money `json:"archive_instant_gb_month,omitempty" yaml:"archive_instant_gb_month,omitempty"`
	// MonitoringPer1000 is INTELLIGENT_TIERING's monthly fee per 1,000
	// monitored objects (those of 128 KB or more).
	MonitoringPer1000 Money `json:"monitoring_per_1000,omitempty" yaml:"monitoring_per_1000,omitempty"`
	// TransitionPer1000 is charged per 1,000 objects moved into this class
	// by a lifecycle transition.
	TransitionPer1000 Money `json:"transition_per_1000,omitempty" yaml:"transition_per_1000,omitempty"`
	// RetrievalGB is charged per GB read (IA, One Zone-IA, Glacier IR).
	RetrievalGB Money `json:"retrieval_gb,omitempty" yaml:"retrieval_gb,omitempty"`
	// Restore prices restores per tier (GLACIER, DEEP_ARCHIVE).
	Restore map[RestoreTier]RestorePrice `json:"restore,omitempty" yaml:"restore,omitempty"`
}

// RegionPrices are one region's prices.
type RegionPrices struct {
	// Classes has the prices of every class in [Classes].
	Classes map[StorageClass]ClassPrices `json:"classes" yaml:"classes"`
	// PutPer1000 is the price of 1,000 PUT, COPY or POST requests.
	PutPer1000 Money `json:"put_per_1000" yaml:"put_per_1000"`
	// TagsPer10000Month is the monthly price of 10,000 object tags.
	TagsPer10000Month Money `json:"tags_per_10000_month" yaml:"tags_per_10000_month"`
	// InventoryPerMillion is the price of listing one million objects in an
	// S3 Inventory report.
	InventoryPerMillion Money `json:"inventory_per_million" yaml:"inventory_per_million"`
}

// PriceTable holds the prices the cost model uses, per region (AWS region
// code) and class. Prices are data, never code: [DefaultPrices] carries the
// public list prices from LIFECYCLE.md, and configuration (or a refresh from
// the AWS Price List API) replaces them with a new Version.
type PriceTable struct {
	// Version names this table; every plan records the version it was
	// priced with, and the executor refuses a plan priced with another.
	Version string `json:"version" yaml:"version"`
	// BytesPerGB is the size of the "GB" in the per-GB prices. AWS bills
	// S3 per GB of 2^30 bytes (the default); a table may use 10^9 to match
	// a budget written in decimal units.
	BytesPerGB int64 `json:"bytes_per_gb,omitempty" yaml:"bytes_per_gb,omitempty"`
	// Regions maps an AWS region code (us-east-1) to its prices.
	Regions map[string]RegionPrices `json:"regions" yaml:"regions"`
}

// DefaultPrices returns AWS's public list prices for us-east-1 and
// eu-central-1 (first 50 TB tier) as collected in LIFECYCLE.md on its
// writing. Frankfurt differs in STANDARD, STANDARD_IA and GLACIER_IR; its
// other prices are taken as us-east-1's until a refresh says otherwise.
func DefaultPrices() PriceTable {
	p := func(s string) Money {
		m, err := ParseMoney(s)
		if err != nil {
			panic(err) // constants below
		}
		return m
	}
	us := RegionPrices{
		PutPer1000:          p("0.005"),
		TagsPer10000Month:   p("0.01"),
		InventoryPerMillion: p("0.0025"),
		Classes: map[StorageClass]ClassPrices{
			Standard: {StorageGBMonth: p("0.023")},
			IntelligentTiering: {StorageGBMonth: p("0.023"), InfrequentGBMonth: p("0.0125"),
				ArchiveInstantGBMonth: p("0.004"), MonitoringPer1000: p("0.0025"), TransitionPer1000: p("0.01")},
			StandardIA: {StorageGBMonth: p("0.0125"), TransitionPer1000: p("0.01"), RetrievalGB: p("0.01")},
			OneZoneIA:  {StorageGBMonth: p("0.01"), TransitionPer1000: p("0.01"), RetrievalGB: p("0.01")},
			GlacierIR:  {StorageGBMonth: p("0.004"), TransitionPer1000: p("0.02"), RetrievalGB: p("0.03")},
			Glacier: {StorageGBMonth: p("0.0036"), TransitionPer1000: p("0.03"), Restore: map[RestoreTier]RestorePrice{
				Expedited:    {PerGB: p("0.03"), Per1000: p("10")},
				StandardTier: {PerGB: p("0.01")},
				Bulk:         {},
			}},
			DeepArchive: {StorageGBMonth: p("0.00099"), TransitionPer1000: p("0.05"), Restore: map[RestoreTier]RestorePrice{
				StandardTier: {PerGB: p("0.02")},
				Bulk:         {PerGB: p("0.0025")},
			}},
		},
	}
	eu := us
	eu.Classes = maps.Clone(us.Classes)
	for c, price := range map[StorageClass]string{Standard: "0.0245", StandardIA: "0.0135", GlacierIR: "0.005"} {
		cp := eu.Classes[c]
		cp.StorageGBMonth = p(price)
		eu.Classes[c] = cp
	}
	return PriceTable{
		Version:    "aws-list-2026-lifecycle-md",
		BytesPerGB: 1 << 30,
		Regions:    map[string]RegionPrices{"us-east-1": us, "eu-central-1": eu},
	}
}

// maxPriceTable bounds a price table read from configuration.
const maxPriceTable = 1 << 20

// ParsePriceTable reads a price table from YAML or JSON (JSON is YAML).
// Regions it names replace the same regions of base whole, so a table never
// mixes two price lists within one region; other regions of base stay. The
// result must carry a version and pass [PriceTable.Validate].
func ParsePriceTable(data []byte, base PriceTable) (PriceTable, error) {
	if len(data) > maxPriceTable {
		return PriceTable{}, fmt.Errorf("price table: %d bytes, limit %d", len(data), maxPriceTable)
	}
	var over PriceTable
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&over); err != nil {
		return PriceTable{}, fmt.Errorf("price table: %w", err)
	}
	if over.Version == "" {
		return PriceTable{}, errors.New("price table: version is empty: give the table a version so plans can name the prices they used")
	}
	out := PriceTable{Version: over.Version, BytesPerGB: base.BytesPerGB, Regions: maps.Clone(base.Regions)}
	if out.Regions == nil {
		out.Regions = map[string]RegionPrices{}
	}
	if over.BytesPerGB != 0 {
		out.BytesPerGB = over.BytesPerGB
	}
	maps.Copy(out.Regions, over.Regions)
	if err := out.Validate(); err != nil {
		return PriceTable{}, err
	}
	return out, nil
}

// Validate checks that t has a version, a sane GB size, and non-negative
// prices for every known class in every region.
func (t PriceTable) Validate() error {
	if t.Version == "" {
		return errors.New("price table: version is empty")
	}
	if t.BytesPerGB != 1<<30 && t.BytesPerGB != 1e9 {
		return fmt.Errorf("price table: bytes_per_gb is %d: use 1073741824 (AWS billing) or 1000000000", t.BytesPerGB)
	}
	if len(t.Regions) == 0 {
		return errors.New("price table: no regions")
	}
	for _, r := range slices.Sorted(maps.Keys(t.Regions)) {
		rp := t.Regions[r]
		for c := range rp.Classes {
			if !c.Known() {
				return fmt.Errorf("price table %s: unknown class %q", r, c)
			}
		}
		for _, c := range Classes {
			cp, ok := rp.Classes[c]
			if !ok {
				return fmt.Errorf("price table %s: no prices for %s: list every class in %v", r, c, Classes)
			}
			for _, m := range []Money{cp.StorageGBMonth, cp.InfrequentGBMonth, cp.ArchiveInstantGBMonth,
				cp.MonitoringPer1000, cp.TransitionPer1000, cp.RetrievalGB} {
				if m < 0 {
					return fmt.Errorf("price table %s %s: negative price %s", r, c, m.Exact())
				}
			}
		}
		if rp.PutPer1000 < 0 || rp.TagsPer10000Month < 0 || rp.InventoryPerMillion < 0 {
			return fmt.Errorf("price table %s: negative request price", r)
		}
	}
	return nil
}

// Region returns the prices of region, or an error naming the regions the
// table has: a plan is never priced with a guess.
func (t PriceTable) Region(region string) (RegionPrices, error) {
	rp, ok := t.Regions[region]
	if !ok {
		return RegionPrices{}, fmt.Errorf("price table %s has no prices for region %q (it has %v): add them to the lifecycle price table",
			t.Version, region, slices.Sorted(maps.Keys(t.Regions)))
	}
	return rp, nil
}
