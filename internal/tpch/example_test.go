package tpch_test

import (
	"fmt"

	"github.com/meridian-lake/meridian/internal/tpch"
)

// The generator streams a table in columnar batches.
func ExampleGenerate() {
	err := tpch.Generate(tpch.Config{}, "region", 2, func(b *tpch.Batch) error {
		for i := range b.Len() {
			fmt.Println(b.Columns[0].Int64[i], b.Columns[1].String[i])
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 0 AFRICA
	// 1 AMERICA
	// 2 ASIA
	// 3 EUROPE
	// 4 MIDDLE EAST
}

// The answers of q1, q6 and q14 on the default data set (scale 0.01, seed
// DefaultSeed). They change only when the generator does, so this is also a
// golden test of the data itself.
func ExampleQ1() {
	rows, err := tpch.Q1(tpch.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rows {
		fmt.Println(r.ReturnFlag, r.LineStatus, r.SumQty, r.SumBasePrice, r.SumDiscPrice.FloatString(4),
			r.SumCharge.FloatString(6), r.AvgQty.FloatString(2), r.AvgPrice.FloatString(2),
			r.AvgDisc.FloatString(2), r.CountOrder)
	}
	q6, err := tpch.Q6(tpch.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	q14, err := tpch.Q14(tpch.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("q6", q6.FloatString(4))
	fmt.Println("q14", q14.FloatString(6))
	// Output:
	// A F 375559.00 525529419.55 499350837.5316 519137914.418249 25.57 35774.64 0.05 14690
	// N F 8581.00 12166266.44 11547402.3002 12021853.775835 24.94 35367.05 0.05 344
	// N O 750119.00 1049189478.21 996592920.7322 1036317624.213270 25.49 35646.71 0.05 29433
	// R F 378007.00 529343148.74 502709213.2431 522799382.203382 25.56 35795.45 0.05 14788
	// q6 1107559.9118
	// q14 17.321967
}
