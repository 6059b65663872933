package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/apache/iceberg-go"

	"github.com/meridian-lake/meridian/catalog"
)

// BenchmarkResolve compares a cached Resolve (target under 2 µs) with a cold
// one that reads the SQLite catalog, the metadata file and the manifests.
func BenchmarkResolve(b *testing.B) {
	l := newLake(b, time.Hour)
	days := make([]string, 0, 60)
	for d := 0; d < 60; d++ {
		days = append(days, time.Date(2024, 1, 1+d*5, 0, 0, 0, 0, time.UTC).Format("2006-01-02"))
	}
	l.createGuests(b, "eu", "guests", l.loc("eu", "guests"), iceberg.Properties{catalog.PropClassification: "personal"}, days)
	ctx := context.Background()
	r := ref("iceberg.eu.guests")
	b.Run("cached", func(b *testing.B) {
		if _, err := l.cat.Resolve(ctx, r); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := l.cat.Resolve(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			l.cat.Invalidate(r)
			if _, err := l.cat.Resolve(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
