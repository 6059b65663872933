package tpch

import (
	"math/big"
	"strconv"
	"time"
)

// Money is an exact decimal with two places, held in hundredths: 1234 is
// 12.34. Every decimal(15,2) column uses it, so quantity, discount and tax
// are Money too even though they are not amounts of money (a discount of
// 0.05 is Money(5), a quantity of 17 is Money(1700)). Sums of Money are
// exact, which lets tests compare aggregates with a SQL engine to the cent.
type Money int64

// String formats m with exactly two decimal places, like SQL's decimal(15,2):
// "-0.05", "1234.50".
func (m Money) String() string {
	u := uint64(m)
	sign := ""
	if m < 0 {
		sign = "-"
		u = -u
	}
	frac := u % 100
	b := make([]byte, 0, 24)
	b = append(b, sign...)
	b = strconv.AppendUint(b, u/100, 10)
	b = append(b, '.', byte('0'+frac/10), byte('0'+frac%10))
	return string(b)
}

// Rat returns m as an exact rational number.
func (m Money) Rat() *big.Rat {
	return big.NewRat(int64(m), 100)
}

// Date is a civil date: the number of days since 1970-01-01. It has no time
// of day and no time zone, and it is what Arrow's date32 and Iceberg's date
// store, so converting is a type conversion.
type Date int32

// The dates the specification builds order and line dates from (clause
// 4.2.3): orders are placed from StartDate to EndDate minus 151 days, and a
// line shipped or received on or before CurrentDate is in the past ('F'
// linestatus; 'R' or 'A' returnflag).
const (
	StartDate   Date = 8035  // 1992-01-01
	CurrentDate Date = 9298  // 1995-06-17
	EndDate     Date = 10591 // 1998-12-31
)

// lastOrderDate is the latest order date, EndDate minus 151 days
// (1998-08-02), so that every line is received by EndDate.
const lastOrderDate = EndDate - 151

// DateOf returns the civil date year-month-day. The day may overflow the
// month (DateOf(1993, 2, 31) is 1993-03-03), as with time.Date.
func DateOf(year int, month time.Month, day int) Date {
	// Days from civil (proleptic Gregorian), counting years from March so
	// the leap day falls at the end of the year.
	y := int64(year)
	m := int64(month)
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return Date(era*146097 + doe - 719468)
}

// Civil returns d's year, month and day.
func (d Date) Civil() (year int, month time.Month, day int) {
	z := int64(d) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), time.Month(m), int(dd)
}

// Year returns d's year, as SQL's extract(YEAR FROM d).
func (d Date) Year() int {
	y, _, _ := d.Civil()
	return y
}

// Time returns midnight UTC at the start of d.
func (d Date) Time() time.Time {
	return time.Unix(int64(d)*86400, 0).UTC()
}

// String formats d as 2006-01-02.
func (d Date) String() string {
	y, m, dd := d.Civil()
	b := make([]byte, 0, 10)
	if y >= 0 && y < 10000 {
		b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	} else {
		b = strconv.AppendInt(b, int64(y), 10)
	}
	b = append(b, '-', byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+dd/10), byte('0'+dd%10))
	return string(b)
}
