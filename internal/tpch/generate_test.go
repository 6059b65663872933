package tpch_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"iter"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/meridian-lake/meridian/internal/tpch"
)

// count returns the number of rows Generate produces for table.
func count(t *testing.T, g *tpch.Generator, table string) int {
	t.Helper()
	n := 0
	if err := g.Generate(table, 8192, func(b *tpch.Batch) error { n += b.Len(); return nil }); err != nil {
		t.Fatalf("Generate(%s): %v", table, err)
	}
	return n
}

func TestRowCounts(t *testing.T) {
	tests := []struct {
		scale float64
		want  map[string]int // lineitem is checked against orders
	}{
		{0.01, map[string]int{"part": 2_000, "supplier": 100, "partsupp": 8_000, "customer": 1_500, "orders": 15_000, "nation": 25, "region": 5}},
		{0.1, map[string]int{"part": 20_000, "supplier": 1_000, "partsupp": 80_000, "customer": 15_000, "orders": 150_000, "nation": 25, "region": 5}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.scale), func(t *testing.T) {
			g, err := tpch.New(tpch.Config{Scale: tt.scale})
			if err != nil {
				t.Fatal(err)
			}
			for table, want := range tt.want {
				if got := count(t, g, table); got != want {
					t.Errorf("scale %v: %s has %d rows, want %d", tt.scale, table, got, want)
				}
			}
			// 1..7 lines per order, uniformly: a mean of 4 with a standard
			// error of 2/sqrt(orders), so ±2% is more than 5 standard errors
			// at scale 0.01.
			orders := tt.want["orders"]
			lines := count(t, g, "lineitem")
			if ratio := float64(lines) / float64(orders); math.Abs(ratio-4) > 0.08 {
				t.Errorf("scale %v: %d lineitems for %d orders (%.3f per order), want about 4", tt.scale, lines, orders, ratio)
			}
		})
	}
}

// digest hashes a table's values row by row, so batch boundaries do not
// change it.
func digest(t *testing.T, g *tpch.Generator, table string, size int) [32]byte {
	t.Helper()
	h := sha256.New()
	var buf []byte
	err := g.Generate(table, size, func(b *tpch.Batch) error {
		for i := range b.Len() {
			buf = buf[:0]
			for c, def := range b.Def.Columns {
				col := b.Columns[c]
				switch def.Kind {
				case tpch.KindInt64:
					buf = strconv.AppendInt(buf, col.Int64[i], 10)
				case tpch.KindInt32:
					buf = strconv.AppendInt(buf, int64(col.Int32[i]), 10)
				case tpch.KindString:
					buf = append(buf, col.String[i]...)
				case tpch.KindMoney:
					buf = strconv.AppendInt(buf, int64(col.Money[i]), 10)
				case tpch.KindDate:
					buf = strconv.AppendInt(buf, int64(col.Date[i]), 10)
				}
				buf = append(buf, '|')
			}
			h.Write(buf)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Generate(%s, %d): %v", table, size, err)
	}
	return [32]byte(h.Sum(nil))
}

// value returns row i of a batch column.
func value(k tpch.Kind, c tpch.Column, i int) any {
	switch k {
	case tpch.KindInt64:
		return c.Int64[i]
	case tpch.KindInt32:
		return c.Int32[i]
	case tpch.KindString:
		return c.String[i]
	case tpch.KindMoney:
		return c.Money[i]
	case tpch.KindDate:
		return c.Date[i]
	}
	return nil
}

func TestDeterministic(t *testing.T) {
	g1, err := tpch.New(tpch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	g2, err := tpch.New(tpch.Config{Scale: tpch.DefaultScale, Seed: tpch.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	other, err := tpch.New(tpch.Config{Seed: tpch.DefaultSeed + 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, def := range tpch.Tables() {
		t.Run(def.Name, func(t *testing.T) {
			want := digest(t, g1, def.Name, 4096)
			for _, size := range []int{1, 7, 1 << 20} {
				if got := digest(t, g2, def.Name, size); got != want {
					t.Errorf("%s with batch size %d differs from batch size 4096", def.Name, size)
				}
			}
			if digest(t, other, def.Name, 4096) == want {
				t.Errorf("%s is the same with seed %d and %d", def.Name, tpch.DefaultSeed, tpch.DefaultSeed+1)
			}
		})
	}
}

// rows returns a table's rows as struct values, through the iterators.
func rows(g *tpch.Generator, table string) iter.Seq[any] {
	switch table {
	case "part":
		return anySeq(g.Parts())
	case "supplier":
		return anySeq(g.Suppliers())
	case "partsupp":
		return anySeq(g.PartSupps())
	case "customer":
		return anySeq(g.Customers())
	case "orders":
		return func(yield func(any) bool) {
			for o := range g.Orders() {
				if !yield(o) {
					return
				}
			}
		}
	case "lineitem":
		return anySeq(g.Lineitems())
	case "nation":
		return anySeq(g.Nations())
	case "region":
		return anySeq(g.Regions())
	}
	return nil
}

func anySeq[T any](s iter.Seq[T]) iter.Seq[any] {
	return func(yield func(any) bool) {
		for v := range s {
			if !yield(v) {
				return
			}
		}
	}
}

// TestBatchesMatchRows checks that the columnar batches hold the same values
// as the row structs, that each struct's fields follow the table's columns
// (name and Go type), and that the types use the documented vocabulary.
func TestBatchesMatchRows(t *testing.T) {
	g, err := tpch.New(tpch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	goType := map[tpch.Kind]reflect.Type{
		tpch.KindInt64:  reflect.TypeFor[int64](),
		tpch.KindInt32:  reflect.TypeFor[int32](),
		tpch.KindString: reflect.TypeFor[string](),
		tpch.KindMoney:  reflect.TypeFor[tpch.Money](),
		tpch.KindDate:   reflect.TypeFor[tpch.Date](),
	}
	sqlType := map[tpch.Kind]func(string) bool{
		tpch.KindInt64:  func(s string) bool { return s == "bigint" },
		tpch.KindInt32:  func(s string) bool { return s == "integer" },
		tpch.KindString: func(s string) bool { return s == "varchar" || strings.HasPrefix(s, "char(") },
		tpch.KindMoney:  func(s string) bool { return s == "decimal(15,2)" },
		tpch.KindDate:   func(s string) bool { return s == "date" },
	}
	for _, def := range tpch.Tables() {
		t.Run(def.Name, func(t *testing.T) {
			var got []any
			err := g.Generate(def.Name, 333, func(b *tpch.Batch) error {
				if len(b.Columns) != len(def.Columns) {
					return fmt.Errorf("%d columns, want %d", len(b.Columns), len(def.Columns))
				}
				for i := range b.Len() {
					row := make([]any, len(def.Columns))
					for c, cd := range def.Columns {
						row[c] = value(cd.Kind, b.Columns[c], i)
					}
					got = append(got, row)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			i := 0
			for r := range rows(g, def.Name) {
				v := reflect.ValueOf(r)
				if i == 0 {
					if v.NumField() != len(def.Columns) {
						t.Fatalf("%T has %d fields, %s has %d columns", r, v.NumField(), def.Name, len(def.Columns))
					}
					for c, cd := range def.Columns {
						f := v.Type().Field(c)
						if strings.ToLower(f.Name) != cd.Name || f.Type != goType[cd.Kind] || !sqlType[cd.Kind](cd.Type) {
							t.Errorf("%s column %d is %s %s (%v), struct field %s %s", def.Name, c, cd.Name, cd.Type, cd.Kind, f.Name, f.Type)
						}
					}
				}
				if i >= len(got) {
					t.Fatalf("%s: more rows than the batches held (%d)", def.Name, len(got))
				}
				for c := range def.Columns {
					if want := v.Field(c).Interface(); got[i].([]any)[c] != want {
						t.Fatalf("%s row %d column %s: batch has %v, row struct %v", def.Name, i, def.Columns[c].Name, got[i].([]any)[c], want)
					}
				}
				i++
			}
			if i != len(got) {
				t.Errorf("%s: %d rows from the iterator, %d from batches", def.Name, i, len(got))
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	g, err := tpch.New(tpch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Generate("lineitems", 10, func(*tpch.Batch) error { return nil }); !errors.Is(err, tpch.ErrUnknownTable) {
		t.Errorf("Generate(lineitems) = %v, want ErrUnknownTable", err)
	}
	if err := g.Generate("lineitem", 0, func(*tpch.Batch) error { return nil }); err == nil {
		t.Error("Generate with batch size 0 succeeded, want an error")
	}
	stop := errors.New("stop")
	calls := 0
	err = g.Generate("lineitem", 100, func(*tpch.Batch) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Generate with failing emit = %v after %d calls, want %v after 1", err, calls, stop)
	}
	if err := tpch.Generate(tpch.Config{Scale: 0.001}, "region", 10, func(*tpch.Batch) error { return nil }); err == nil {
		t.Error("Generate at scale 0.001 succeeded, want an error")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg tpch.Config
		ok  bool
	}{
		{tpch.Config{}, true},
		{tpch.Config{Scale: 0.01}, true},
		{tpch.Config{Scale: 0.1, Seed: -5}, true},
		{tpch.Config{Scale: 1}, true},
		{tpch.Config{Scale: 0.001}, false},
		{tpch.Config{Scale: -1}, false},
		{tpch.Config{Scale: math.NaN()}, false},
		{tpch.Config{Scale: 1e6}, false},
		// 120 suppliers: part 1,561's suppliers would repeat (k = 40, 3k = 120).
		{tpch.Config{Scale: 0.012}, false},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v.Validate() = %v, want ok %v", tt.cfg, err, tt.ok)
		}
	}
}

// TestConcurrentUse generates from one Generator in parallel (run with
// -race): the generator is immutable, so the tables come out the same.
func TestConcurrentUse(t *testing.T) {
	g, err := tpch.New(tpch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := digest(t, g, "orders", 4096)
	var wg sync.WaitGroup
	got := make([][32]byte, 4)
	for i := range got {
		wg.Go(func() { got[i] = digest(t, g, "orders", 100*(i+1)) })
	}
	wg.Wait()
	for i, d := range got {
		if d != want {
			t.Errorf("concurrent run %d generated different orders", i)
		}
	}
}
