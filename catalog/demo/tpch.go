package demo

import (
	"context"
	"errors"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/meridian-lake/meridian/internal/tpch"
)

// errStopped ends a TPC-H generation whose consumer stopped reading.
var errStopped = errors.New("consumer stopped")

// tpchRecords streams a TPC-H table as record batches: Money becomes
// decimal(15,2) (its int64 hundredths are the decimal's unscaled value) and
// Date date32 (both count days since 1970-01-01).
func tpchRecords(g *tpch.Generator, def tpch.TableDef) func(context.Context, *arrow.Schema) iter.Seq2[arrow.RecordBatch, error] {
	return func(ctx context.Context, sc *arrow.Schema) iter.Seq2[arrow.RecordBatch, error] {
		return func(yield func(arrow.RecordBatch, error) bool) {
			b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
			defer b.Release()
			err := g.Generate(def.Name, batchRows, func(tb *tpch.Batch) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				appendTPCH(b, tb)
				if !yield(b.NewRecordBatch(), nil) {
					return errStopped
				}
				return nil
			})
			if err != nil && !errors.Is(err, errStopped) {
				yield(nil, err)
			}
		}
	}
}

func appendTPCH(b *array.RecordBuilder, tb *tpch.Batch) {
	b.Reserve(tb.Len())
	for j, c := range tb.Columns {
		switch tb.Def.Columns[j].Kind {
		case tpch.KindInt64:
			b.Field(j).(*array.Int64Builder).AppendValues(c.Int64, nil)
		case tpch.KindInt32:
			b.Field(j).(*array.Int32Builder).AppendValues(c.Int32, nil)
		case tpch.KindString:
			b.Field(j).(*array.StringBuilder).AppendValues(c.String, nil)
		case tpch.KindMoney:
			fb := b.Field(j).(*array.Decimal128Builder)
			for _, m := range c.Money {
				fb.Append(decimal128.FromI64(int64(m)))
			}
		case tpch.KindDate:
			fb := b.Field(j).(*array.Date32Builder)
			for _, d := range c.Date {
				fb.Append(arrow.Date32(d))
			}
		}
	}
}
