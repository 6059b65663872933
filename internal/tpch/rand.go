package tpch

import "math/bits"

// Each row draws from its own pseudo-random stream, seeded from (Seed,
// stream, row). A row's values therefore depend on nothing but its position,
// which makes generation independent of batch size, lets any row be rebuilt
// alone (a lineitem's part, a query helper's lookups) and leaves room to
// generate ranges in parallel.
const (
	streamRegion uint64 = iota + 1
	streamNation
	streamSupplier
	streamPart
	streamPartSupp
	streamCustomer
	streamOrder
	streamText     // the text pool
	streamComplain // which suppliers carry Customer…Complaints/Recommends
)

// rng is SplitMix64: tiny state, fast, and good enough for test data. It is
// not for anything that needs unpredictability.
type rng struct{ s uint64 }

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// newRNG returns the stream of one row. The start state is a 64-bit hash of
// (seed, stream, row); two rows sharing or overlapping a stream is as likely
// as a collision of such a hash.
func newRNG(seed int64, stream uint64, row int64) rng {
	s := mix64(uint64(seed)+0x9e3779b97f4a7c15) ^ stream<<56
	return rng{s: mix64(s ^ mix64(uint64(row)))}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// between returns a number uniformly distributed in [lo, hi]. It maps a
// 64-bit draw onto the range by multiplication; the bias is below
// (hi-lo+1)/2^64, far under anything a test could see.
func (r *rng) between(lo, hi int64) int64 {
	n := uint64(hi-lo) + 1
	h, _ := bits.Mul64(r.next(), n)
	return lo + int64(h)
}

// pick returns a uniformly chosen index into a list of n entries.
func (r *rng) pick(n int) int {
	return int(r.between(0, int64(n)-1))
}
