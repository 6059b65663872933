package demo

import (
	"context"
	"hash/fnv"
	"iter"
	"math/rand/v2"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// batchRows is the number of rows per Arrow record batch handed to
// iceberg-go: large enough to amortise the per-batch partitioning, small
// enough that a batch is a few megabytes.
const batchRows = 16_384

// rowRecords streams n rows as record batches of sc. setup binds the row
// function to the builder's columns once; row(i) then appends row i, called
// for i = 0, 1, …, n-1 in order, so it may keep state between calls. The
// batches are handed over to the consumer, which releases them.
func rowRecords(ctx context.Context, sc *arrow.Schema, n int64, setup func(b *array.RecordBuilder) func(i int64)) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		defer b.Release()
		row := setup(b)
		for i := int64(0); i < n; {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			end := min(n, i+batchRows)
			b.Reserve(int(end - i))
			for ; i < end; i++ {
				row(i)
			}
			if !yield(b.NewRecordBatch(), nil) {
				return
			}
		}
	}
}

// newRand returns the PCG stream of one table: the same seed and name
// always give the same numbers.
func newRand(seed int64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// mix hashes (seed, stream, i) to 64 well-mixed bits (SplitMix64's
// finaliser). It gives per-row values that two tables must agree on, such
// as a guest's country, which both guests and bookings need, without either
// replaying the other's stream.
func mix(seed int64, stream, i uint64) uint64 {
	z := uint64(seed) ^ stream*0x9e3779b97f4a7c15 ^ (i+1)*0xbf58476d1ce4e5b9
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// day is a civil date as Arrow's date32: days since 1970-01-01.
func day(y int, m time.Month, d int) int32 {
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

const microsPerDay = 86_400 * 1_000_000

// The demo's time frame. Guests sign up from 2023 to 2025; bookings check in
// on every day of 2024 and 2025.
var (
	guestsFrom   = day(2023, time.January, 1)
	guestsUntil  = day(2026, time.January, 1) // exclusive
	bookingsFrom = day(2024, time.January, 1)
	bookingsTo   = day(2026, time.January, 1) // exclusive
)

// idStride separates the identifier ranges of the regions, so that a guest
// or booking ID names one region's row: eu's start at 100,000,001, us's at
// 200,000,001, apac's at 300,000,001.
const idStride = 100_000_000

func idBase(region string) int64 {
	for i, r := range Regions() {
		if r == region {
			return int64(i+1) * idStride
		}
	}
	panic("demo: unknown region " + region)
}
