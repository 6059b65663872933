package tpch_test

import (
	"testing"
	"time"

	"github.com/meridian-lake/meridian/internal/tpch"
)

func TestDateMatchesTimePackage(t *testing.T) {
	start := time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)
	for day := start; day.Year() < 2401; day = day.AddDate(0, 0, 1) {
		d := tpch.DateOf(day.Year(), day.Month(), day.Day())
		if want := day.Unix() / 86400; int64(d) != want {
			t.Fatalf("DateOf(%s) = %d, want %d", day.Format(time.DateOnly), d, want)
		}
		if got, want := d.String(), day.Format(time.DateOnly); got != want {
			t.Fatalf("Date(%d).String() = %q, want %q", d, got, want)
		}
		if y, m, dd := d.Civil(); y != day.Year() || m != day.Month() || dd != day.Day() {
			t.Fatalf("Date(%d).Civil() = %d-%d-%d, want %s", d, y, m, dd, day.Format(time.DateOnly))
		}
		if !d.Time().Equal(day) {
			t.Fatalf("Date(%d).Time() = %v, want %v", d, d.Time(), day)
		}
	}
}

func TestSpecDates(t *testing.T) {
	tests := []struct {
		got  tpch.Date
		want string
	}{
		{tpch.StartDate, "1992-01-01"},
		{tpch.CurrentDate, "1995-06-17"},
		{tpch.EndDate, "1998-12-31"},
		{tpch.EndDate - 151, "1998-08-02"},
		{tpch.DateOf(1998, 12, 1) - 90, "1998-09-02"},
		{tpch.DateOf(1993, 2, 31), "1993-03-03"},
		{0, "1970-01-01"},
		{-1, "1969-12-31"},
	}
	for _, tt := range tests {
		if got := tt.got.String(); got != tt.want {
			t.Errorf("Date(%d).String() = %q, want %q", int32(tt.got), got, tt.want)
		}
	}
}

func TestMoneyString(t *testing.T) {
	tests := []struct {
		m    tpch.Money
		want string
	}{
		{0, "0.00"},
		{5, "0.05"},
		{-5, "-0.05"},
		{100, "1.00"},
		{-99999, "-999.99"},
		{123456789, "1234567.89"},
		{-9223372036854775808, "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("Money(%d).String() = %q, want %q", int64(tt.m), got, tt.want)
		}
		if got := tt.m.Rat().FloatString(2); got != tt.want {
			t.Errorf("Money(%d).Rat() = %s, want %s", int64(tt.m), got, tt.want)
		}
	}
}
