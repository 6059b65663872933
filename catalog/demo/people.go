package demo

import (
	"context"
	"hash/fnv"
	"iter"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// country is where a guest lives, how likely, and the currency they pay in.
type country struct {
	code     string
	currency string
	weight   int
}

// people are the word lists and countries of one region's guests. The names
// are common given names and surnames, so that no combination points at
// anyone in particular; the e-mail domain is reserved (RFC 2606).
type people struct {
	first, last []string
	countries   []country
	total       int    // sum of the countries' weights
	stream      uint64 // mix stream of the guests' countries
}

var regionPeople = map[string]*people{
	"eu": newPeople("eu",
		[]string{"Amelie", "Lukas", "Sofia", "Mateo", "Elena", "Jan", "Chloe", "Luca", "Emma", "Hugo",
			"Marta", "Pieter", "Ines", "Matteo", "Lena", "Diego", "Julia", "Noah", "Clara", "Felix"},
		[]string{"Martin", "Muller", "Garcia", "Rossi", "de Vries", "Bernard", "Schmidt", "Fernandez", "Bianchi", "Jansen",
			"Dubois", "Weber", "Lopez", "Romano", "Bakker", "Silva", "Nowak", "Johansson", "Murphy", "Virtanen"},
		[]country{{"DE", "EUR", 20}, {"FR", "EUR", 18}, {"ES", "EUR", 12}, {"IT", "EUR", 12}, {"NL", "EUR", 8},
			{"BE", "EUR", 5}, {"PL", "PLN", 5}, {"PT", "EUR", 4}, {"AT", "EUR", 4}, {"SE", "SEK", 4},
			{"IE", "EUR", 3}, {"DK", "DKK", 2}, {"FI", "EUR", 2}}),
	"us": newPeople("us",
		[]string{"James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda", "Maria", "Jose",
			"Emily", "Daniel", "Ashley", "Chris", "Jessica", "Tyler"},
		[]string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
			"Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson"},
		[]country{{"US", "USD", 1}}),
	"apac": newPeople("apac",
		[]string{"Haruto", "Yui", "Wei", "Mei", "Min-jun", "Ji-woo", "Arjun", "Priya", "Oliver", "Charlotte",
			"Sota", "Hina", "Ravi", "Ananya", "Jack", "Isla"},
		[]string{"Sato", "Suzuki", "Tan", "Lim", "Kim", "Lee", "Park", "Sharma", "Patel", "Smith",
			"Nguyen", "Wong", "Takahashi", "Singh", "Chen", "Brown"},
		[]country{{"JP", "JPY", 30}, {"AU", "AUD", 20}, {"IN", "INR", 20}, {"KR", "KRW", 15}, {"SG", "SGD", 10}, {"NZ", "NZD", 5}}),
}

func newPeople(region string, first, last []string, cs []country) *people {
	p := &people{first: first, last: last, countries: cs}
	for _, c := range cs {
		p.total += c.weight
	}
	h := fnv.New64a()
	h.Write([]byte(region + ".country"))
	p.stream = h.Sum64()
	return p
}

// countryOf is where guest i (0-based) lives: a function of the seed and i
// alone, so bookings charge in the currency of the guest's country.
func (p *people) countryOf(seed int64, i int64) country {
	k := int(mix(seed, p.stream, uint64(i)) % uint64(p.total))
	for _, c := range p.countries {
		if k < c.weight {
			return c
		}
		k -= c.weight
	}
	return p.countries[len(p.countries)-1]
}

// email builds an obviously synthetic address, unique per guest.
func email(first, last string, n int64) string {
	var b strings.Builder
	for _, part := range []string{first, ".", last, ".", strconv.FormatInt(n, 10), "@example.org"} {
		for _, c := range strings.ToLower(part) {
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '@' {
				b.WriteRune(c)
			}
		}
	}
	return b.String()
}

// guestClock places sign-ups: guest i signs up at a random moment of the
// i-th of n equal slots between guestsFrom and guestsUntil, so created_at
// grows with guest_id and which guests exist on a day is known without
// replaying the guests' stream.
type guestClock struct {
	from, slot, n int64 // microseconds, microseconds, guests
}

func newGuestClock(n int) guestClock {
	span := int64(guestsUntil-guestsFrom) * microsPerDay
	return guestClock{from: int64(guestsFrom) * microsPerDay, slot: span / int64(n), n: int64(n)}
}

func (c guestClock) created(i int64, r *rand.Rand) int64 { return c.from + i*c.slot + r.Int64N(c.slot) }

// after is a moment no earlier than guest i's sign-up.
func (c guestClock) after(i int64) int64 { return c.from + (i+1)*c.slot }

// before is how many guests had signed up before day d (at least one).
func (c guestClock) before(d int32) int64 {
	k := (int64(d)*microsPerDay - c.from) / c.slot
	return min(max(k, 1), c.n)
}

var (
	birthFrom = day(1940, time.January, 1)
	birthTo   = day(2006, time.January, 1) // exclusive: guests are adults
)

func guestRecords(cfg Config, region string) func(context.Context, *arrow.Schema) iter.Seq2[arrow.RecordBatch, error] {
	return func(ctx context.Context, sc *arrow.Schema) iter.Seq2[arrow.RecordBatch, error] {
		p := regionPeople[region]
		r := newRand(cfg.Seed, region+".guests")
		clock := newGuestClock(cfg.GuestsPerRegion)
		base := idBase(region)
		return rowRecords(ctx, sc, int64(cfg.GuestsPerRegion), func(b *array.RecordBuilder) func(int64) {
			id := b.Field(gID).(*array.Int64Builder)
			name := b.Field(gName).(*array.StringBuilder)
			mail := b.Field(gEmail).(*array.StringBuilder)
			birth := b.Field(gBirth).(*array.Date32Builder)
			home := b.Field(gCountry).(*array.StringBuilder)
			created := b.Field(gCreated).(*array.TimestampBuilder)
			return func(i int64) {
				first, last := p.first[r.IntN(len(p.first))], p.last[r.IntN(len(p.last))]
				id.Append(base + i + 1)
				name.Append(first + " " + last)
				mail.Append(email(first, last, i+1))
				if r.IntN(100) < 4 { // some guests never said
					birth.AppendNull()
				} else {
					birth.Append(arrow.Date32(birthFrom + r.Int32N(birthTo-birthFrom)))
				}
				home.Append(p.countryOf(cfg.Seed, i).code)
				created.Append(arrow.Timestamp(clock.created(i, r)))
			}
		})
	}
}

// accessNeeds are what guests ask hosts to provide.
var accessNeeds = []string{
	"wheelchair access", "step-free room", "hearing loop", "visual fire alarm", "service dog welcome",
	"roll-in shower", "ground-floor room", "accessible parking", "braille signage", "allergen-free bedding",
}

// healthPerMille is the share of guests who record accessibility needs.
const healthPerMille = 20

func healthRecords(cfg Config, region string) func(context.Context, *arrow.Schema) iter.Seq2[arrow.RecordBatch, error] {
	return func(ctx context.Context, sc *arrow.Schema) iter.Seq2[arrow.RecordBatch, error] {
		r := newRand(cfg.Seed, region+".guest_health")
		clock := newGuestClock(cfg.GuestsPerRegion)
		base := idBase(region)
		var picked []int64
		for i := range int64(cfg.GuestsPerRegion) {
			if r.IntN(1000) < healthPerMille {
				picked = append(picked, i)
			}
		}
		if len(picked) == 0 { // a tiny lake still has one
			picked = []int64{0}
		}
		end := int64(guestsUntil)*microsPerDay - 1
		return rowRecords(ctx, sc, int64(len(picked)), func(b *array.RecordBuilder) func(int64) {
			guest := b.Field(hGuest).(*array.Int64Builder)
			needs := b.Field(hNeeds).(*array.StringBuilder)
			updated := b.Field(hUpdated).(*array.TimestampBuilder)
			return func(k int64) {
				i := picked[k]
				guest.Append(base + i + 1)
				n := accessNeeds[r.IntN(len(accessNeeds))]
				if r.IntN(4) == 0 {
					if m := accessNeeds[r.IntN(len(accessNeeds))]; m != n {
						n += ", " + m
					}
				}
				needs.Append(n)
				updated.Append(arrow.Timestamp(min(clock.after(i)+r.Int64N(400*microsPerDay), end)))
			}
		})
	}
}

// currency is how many units of a currency a US dollar buys, in
// ten-thousandths, and whether it has minor units.
type currency struct {
	perUSD    int64
	wholeOnly bool
}

// currencies are fixed rates: the demo is not about exchange rates, and
// integer arithmetic keeps prices identical on every machine.
var currencies = map[string]currency{
	"USD": {10_000, false}, "EUR": {9_200, false}, "PLN": {40_000, false}, "SEK": {105_000, false},
	"DKK": {69_000, false}, "JPY": {1_500_000, true}, "KRW": {13_500_000, true}, "AUD": {15_200, false},
	"SGD": {13_400, false}, "INR": {830_000, false}, "NZD": {16_500, false},
}

// priceCents converts nights at a nightly rate in US cents to hundredths of
// cur, rounding half up (to whole units for currencies without minor units).
func priceCents(rateUSDCents int64, nights int, cur currency) int64 {
	p := (rateUSDCents*int64(nights)*cur.perUSD + 5_000) / 10_000
	if cur.wholeOnly {
		p = (p + 50) / 100 * 100
	}
	return p
}

// nightWeights[n-1] is how often a stay lasts n nights.
var nightWeights = []int{14, 18, 17, 13, 10, 8, 9, 4, 2, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2}

var nightTotal = func() int {
	t := 0
	for _, w := range nightWeights {
		t += w
	}
	return t
}()

func nights(r *rand.Rand) int {
	k := r.IntN(nightTotal)
	for i, w := range nightWeights {
		if k < w {
			return i + 1
		}
		k -= w
	}
	return len(nightWeights)
}

// bookingDayEnds spreads n bookings over the days from bookingsFrom to
// bookingsTo with a seasonal shape (summer, late December and weekends are
// busier; 2025 busier than 2024): the bookings of day d are rows
// ends[d-1] ≤ i < ends[d]. Rows come out in check-in order, which lets the
// writer fill one partition after another.
func bookingDayEnds(n int64) []int64 {
	days := int(bookingsTo - bookingsFrom)
	weights := make([]int64, days)
	var total int64
	for d := range days {
		t := time.Unix(int64(bookingsFrom+int32(d))*86400, 0).UTC()
		w := int64(100)
		switch t.Month() {
		case time.July, time.August:
			w += 60
		case time.June, time.September:
			w += 30
		case time.December:
			if t.Day() >= 15 {
				w += 40
			}
		}
		if wd := t.Weekday(); wd == time.Friday || wd == time.Saturday {
			w += 25
		}
		if t.Year() == 2025 {
			w = w * 115 / 100
		}
		weights[d] = w
		total += w
	}
	ends := make([]int64, days)
	var cum int64
	for d, w := range weights {
		cum += w
		ends[d] = n * cum / total
	}
	return ends
}

// ownRegionPercent is the share of bookings in a listing of the guest's own
// region; the rest go anywhere.
const ownRegionPercent = 70

func bookingRecords(cfg Config, region string, ls *listings) func(context.Context, *arrow.Schema) iter.Seq2[arrow.RecordBatch, error] {
	return func(ctx context.Context, sc *arrow.Schema) iter.Seq2[arrow.RecordBatch, error] {
		p := regionPeople[region]
		r := newRand(cfg.Seed, region+".bookings")
		n := int64(cfg.BookingsPerRegion)
		ends := bookingDayEnds(n)
		clock := newGuestClock(cfg.GuestsPerRegion)
		base := idBase(region)
		own := ls.byRegion[region]
		d := 0
		return rowRecords(ctx, sc, n, func(b *array.RecordBuilder) func(int64) {
			id := b.Field(bID).(*array.Int64Builder)
			guest := b.Field(bGuest).(*array.Int64Builder)
			listing := b.Field(bListing).(*array.Int64Builder)
			checkIn := b.Field(bCheckIn).(*array.Date32Builder)
			stay := b.Field(bNights).(*array.Int32Builder)
			price := b.Field(bPrice).(*array.Decimal128Builder)
			cur := b.Field(bCurrency).(*array.StringBuilder)
			return func(i int64) {
				for i >= ends[d] {
					d++
				}
				date := bookingsFrom + int32(d)
				g := r.Int64N(clock.before(date)) // someone who had signed up
				var l int64
				if len(own) > 0 && r.IntN(100) < ownRegionPercent {
					l = own[r.IntN(len(own))]
				} else {
					l = 1 + r.Int64N(int64(len(ls.rate)))
				}
				k := nights(r)
				c := p.countryOf(cfg.Seed, g)
				id.Append(base + i + 1)
				guest.Append(base + g + 1)
				listing.Append(l)
				checkIn.Append(arrow.Date32(date))
				stay.Append(int32(k))
				price.Append(decimal128.FromI64(priceCents(ls.rate[l-1], k, currencies[c.currency])))
				cur.Append(c.currency)
			}
		})
	}
}
