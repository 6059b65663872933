package lifecycle

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cron is a parsed five-field cron schedule: minute, hour, day of month,
// month, day of week, evaluated in UTC. Fields take *, numbers, ranges
// (a-b), steps (*/n, a-b/n, a/n) and comma lists; months and weekdays also
// take three-letter English names; weekday 7 is Sunday like 0. As in Vixie
// cron, when both day of month and day of week are restricted, a day
// matching either runs. @yearly, @annually, @monthly, @weekly, @daily,
// @midnight and @hourly are shorthands.
type Cron struct {
	spec                         string
	minute, hour, dom, month, dw uint64 // bit i set: value i matches
	domAny, dowAny               bool
}

// maxCronSpec bounds the length of a spec (input from configuration).
const maxCronSpec = 256

var cronMacros = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

var (
	monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	dayNames   = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
)

// ParseCron parses a five-field cron spec or a shorthand.
func ParseCron(spec string) (*Cron, error) {
	if len(spec) > maxCronSpec {
		return nil, fmt.Errorf("cron %.20q…: longer than %d bytes", spec, maxCronSpec)
	}
	expanded := strings.TrimSpace(spec)
	if m, ok := cronMacros[strings.ToLower(expanded)]; ok {
		expanded = m
	}
	fields := strings.Fields(expanded)
	if len(fields) != 5 {
		return nil, fmt.Errorf("cron %q: want 5 fields (minute hour day-of-month month day-of-week), got %d", spec, len(fields))
	}
	// As in Vixie cron, a field starting with * (even */2) leaves the
	// day unrestricted for the either-or rule.
	c := &Cron{spec: spec, domAny: strings.HasPrefix(fields[2], "*"), dowAny: strings.HasPrefix(fields[4], "*")}
	var err error
	parts := []struct {
		dst      *uint64
		name     string
		lo, hi   int
		names    []string
		nameBase int
	}{
		{&c.minute, "minute", 0, 59, nil, 0},
		{&c.hour, "hour", 0, 23, nil, 0},
		{&c.dom, "day of month", 1, 31, nil, 0},
		{&c.month, "month", 1, 12, monthNames, 1},
		{&c.dw, "day of week", 0, 7, dayNames, 0},
	}
	for i, p := range parts {
		if *p.dst, err = parseCronField(fields[i], p.lo, p.hi, p.names, p.nameBase); err != nil {
			return nil, fmt.Errorf("cron %q: %s: %w", spec, p.name, err)
		}
	}
	if c.dw&(1<<7) != 0 {
		c.dw |= 1
	}
	if _, ok := c.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); !ok {
		return nil, fmt.Errorf("cron %q never fires (no such date)", spec)
	}
	return c, nil
}

// String is the spec as given.
func (c *Cron) String() string { return c.spec }

func parseCronField(f string, lo, hi int, names []string, nameBase int) (uint64, error) {
	var bits uint64
	for _, item := range strings.Split(f, ",") {
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 || n > hi {
				return 0, fmt.Errorf("step %q: want 1 to %d", stepText, hi)
			}
			step = n
		}
		var a, b int
		switch {
		case rng == "*":
			a, b = lo, hi
			if hi == 7 { // day of week: * is 0-6
				b = 6
			}
		case strings.Contains(rng, "-"):
			x, y, _ := strings.Cut(rng, "-")
			var err error
			if a, err = cronValue(x, lo, hi, names, nameBase); err != nil {
				return 0, err
			}
			if b, err = cronValue(y, lo, hi, names, nameBase); err != nil {
				return 0, err
			}
			if a > b {
				return 0, fmt.Errorf("range %q runs backwards", rng)
			}
		default:
			var err error
			if a, err = cronValue(rng, lo, hi, names, nameBase); err != nil {
				return 0, err
			}
			b = a
			if hasStep { // "a/n" is "a-hi/n"
				b = hi
			}
		}
		for v := a; v <= b; v += step {
			bits |= 1 << v
		}
	}
	return bits, nil
}

func cronValue(s string, lo, hi int, names []string, nameBase int) (int, error) {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return i + nameBase, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("value %q: want %d to %d", s, lo, hi)
	}
	return v, nil
}

// cronHorizon bounds the search for the next run (a 29 February schedule
// fires within 8 years, even across 2100).
const cronHorizon = 9 * 366 * 24 * time.Hour

// Next returns the first minute strictly after t at which c fires, in UTC;
// false if none within 9 years.
func (c *Cron) Next(t time.Time) (time.Time, bool) {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	end := t.Add(cronHorizon)
	for t.Before(end) {
		switch {
		case c.month&(1<<int(t.Month())) == 0:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		case !c.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		case c.hour&(1<<t.Hour()) == 0:
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
		case c.minute&(1<<t.Minute()) == 0:
			t = t.Add(time.Minute)
		default:
			return t, true
		}
	}
	return time.Time{}, false
}

func (c *Cron) dayMatches(t time.Time) bool {
	dom := c.dom&(1<<t.Day()) != 0
	dow := c.dw&(1<<int(t.Weekday())) != 0
	switch {
	case c.domAny && c.dowAny:
		return true
	case c.domAny:
		return dow
	case c.dowAny:
		return dom
	}
	return dom || dow
}
