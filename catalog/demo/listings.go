package demo

import (
	"context"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// listingCount is the size of global.listings.
const listingCount = 5_000

// city is where listings are: its region (for guests' preference), a
// typical nightly rate in US dollars, and how many listings it has.
type city struct {
	name, country, region string
	rate                  int64
	weight                int
}

var cities = []city{
	{"Paris", "FR", "eu", 180, 8}, {"Barcelona", "ES", "eu", 150, 6}, {"Rome", "IT", "eu", 140, 6},
	{"Amsterdam", "NL", "eu", 170, 5}, {"Berlin", "DE", "eu", 120, 5}, {"Lisbon", "PT", "eu", 110, 5},
	{"Vienna", "AT", "eu", 120, 3}, {"Dublin", "IE", "eu", 160, 3}, {"Prague", "CZ", "eu", 90, 3},
	{"Nice", "FR", "eu", 160, 3}, {"Florence", "IT", "eu", 150, 3}, {"Athens", "GR", "eu", 100, 3},
	{"Copenhagen", "DK", "eu", 170, 2}, {"Seville", "ES", "eu", 100, 2}, {"Munich", "DE", "eu", 140, 2},
	{"New York", "US", "us", 250, 8}, {"Los Angeles", "US", "us", 200, 5}, {"Miami", "US", "us", 190, 5},
	{"San Francisco", "US", "us", 230, 4}, {"Chicago", "US", "us", 160, 3}, {"Austin", "US", "us", 150, 3},
	{"New Orleans", "US", "us", 140, 3}, {"Honolulu", "US", "us", 260, 3}, {"Seattle", "US", "us", 170, 2},
	{"Boston", "US", "us", 210, 2}, {"Toronto", "CA", "us", 160, 2}, {"Mexico City", "MX", "us", 90, 2},
	{"Tokyo", "JP", "apac", 170, 7}, {"Sydney", "AU", "apac", 190, 5}, {"Kyoto", "JP", "apac", 160, 4},
	{"Singapore", "SG", "apac", 200, 4}, {"Seoul", "KR", "apac", 120, 4}, {"Bali", "ID", "apac", 80, 4},
	{"Bangkok", "TH", "apac", 60, 4}, {"Osaka", "JP", "apac", 130, 3}, {"Melbourne", "AU", "apac", 160, 3},
	{"Auckland", "NZ", "apac", 150, 2}, {"Busan", "KR", "apac", 90, 2}, {"Mumbai", "IN", "apac", 70, 2},
	{"Goa", "IN", "apac", 60, 2}, {"Hanoi", "VN", "apac", 50, 2},
}

// listings is global.listings, generated up front: bookings price their
// stays from the listings' rates.
type listings struct {
	city, country []string
	rate          []int64 // nightly rate in US cents
	// byRegion lists the listing IDs of each region's cities.
	byRegion map[string][]int64
}

func newListings(seed int64) *listings {
	r := newRand(seed, "global.listings")
	total := 0
	for _, c := range cities {
		total += c.weight
	}
	ls := &listings{byRegion: map[string][]int64{}}
	for i := range int64(listingCount) {
		k := r.IntN(total)
		c := cities[len(cities)-1]
		for _, cc := range cities {
			if k < cc.weight {
				c = cc
				break
			}
			k -= cc.weight
		}
		dollars := min(max(c.rate*int64(50+r.IntN(151))/100, 35), 950)
		ls.city = append(ls.city, c.name)
		ls.country = append(ls.country, c.country)
		ls.rate = append(ls.rate, dollars*100)
		ls.byRegion[c.region] = append(ls.byRegion[c.region], i+1)
	}
	return ls
}

func (ls *listings) records(ctx context.Context, sc *arrow.Schema) iter.Seq2[arrow.RecordBatch, error] {
	return rowRecords(ctx, sc, int64(len(ls.rate)), func(b *array.RecordBuilder) func(int64) {
		id := b.Field(lID).(*array.Int64Builder)
		cityB := b.Field(lCity).(*array.StringBuilder)
		countryB := b.Field(lCountry).(*array.StringBuilder)
		rate := b.Field(lRate).(*array.Decimal128Builder)
		return func(i int64) {
			id.Append(i + 1)
			cityB.Append(ls.city[i])
			countryB.Append(ls.country[i])
			rate.Append(decimal128.FromI64(ls.rate[i]))
		}
	})
}
