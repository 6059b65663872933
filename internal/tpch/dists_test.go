package tpch

import (
	"strings"
	"testing"
)

func TestListSizes(t *testing.T) {
	g, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  []string
		want int
	}{
		{"colors", colors[:], 92},
		{"types", g.types, 150},
		{"containers", g.containers, 40},
		{"segments", segments[:], 5},
		{"priorities", priorities[:], 5},
		{"instructions", instructions[:], 4},
		{"modes", modes[:], 7},
	}
	for _, tt := range tests {
		seen := map[string]bool{}
		for _, s := range tt.got {
			seen[s] = true
		}
		if len(tt.got) != tt.want || len(seen) != tt.want {
			t.Errorf("%s: %d entries, %d distinct, want %d", tt.name, len(tt.got), len(seen), tt.want)
		}
	}
	if len(vstringAlphabet) != 64 {
		t.Errorf("v-string alphabet has %d symbols, want 64", len(vstringAlphabet))
	}
}

// TestValidateMatchesPartSupp checks Validate's partsupp rule against brute
// force: a scale is accepted exactly when every part gets four distinct
// suppliers.
func TestValidateMatchesPartSupp(t *testing.T) {
	accepted, rejected := 0, 0
	for milli := 10; milli <= 400; milli++ {
		scale := float64(milli) / 1000
		s, p := rows(10_000, scale), rows(200_000, scale)
		distinct := true
		for part := int64(1); part <= p && distinct; part++ {
			var sk [4]int64
			for i := range int64(4) {
				sk[i] = supplierOf(part, i, s)
				for _, prev := range sk[:i] {
					distinct = distinct && prev != sk[i]
				}
			}
		}
		err := Config{Scale: scale}.Validate()
		if (err == nil) != distinct {
			t.Errorf("scale %v: Validate() = %v, but four distinct suppliers per part is %v", scale, err, distinct)
		}
		if err == nil {
			accepted++
		} else {
			rejected++
		}
	}
	if accepted == 0 || rejected == 0 {
		t.Errorf("%d scales accepted, %d rejected: the check exercised only one side", accepted, rejected)
	}
}

func TestTextPool(t *testing.T) {
	pool := newPool(DefaultSeed)
	if len(pool) != poolSize {
		t.Fatalf("pool has %d bytes, want %d", len(pool), poolSize)
	}
	if pool != newPool(DefaultSeed) {
		t.Error("the pool differs between two builds with one seed")
	}
	for _, w := range []string{"special", "requests", "packages", "furiously", "according to the", "."} {
		if !strings.Contains(pool, w) {
			t.Errorf("pool lacks %q", w)
		}
	}
	if strings.Contains(pool, "Customer") {
		t.Error("pool contains \"Customer\": LIKE 'Customer%Complaints' would match by chance")
	}
}

func TestComplaint(t *testing.T) {
	for row := range int64(1000) {
		r := newRNG(1, streamComplain, row)
		base := strings.Repeat("x", 25+int(row%76))
		got := complaint(&r, base, "Complaints")
		i := strings.Index(got, "Customer")
		if len(got) != len(base) || i < 0 || !strings.Contains(got[i+len("Customer"):], "Complaints") {
			t.Fatalf("complaint(%q) = %q: want same length, Customer…Complaints", base, got)
		}
	}
}

func TestBetweenCoversRange(t *testing.T) {
	r := newRNG(DefaultSeed, streamPart, 0)
	counts := map[int64]int{}
	for range 100_000 {
		v := r.between(-3, 6)
		if v < -3 || v > 6 {
			t.Fatalf("between(-3, 6) = %d", v)
		}
		counts[v]++
	}
	for v := int64(-3); v <= 6; v++ {
		if n := counts[v]; n < 9_000 || n > 11_000 {
			t.Errorf("between(-3, 6) gave %d %d times in 100000, want about 10000", v, n)
		}
	}
}
