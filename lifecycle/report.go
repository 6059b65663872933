package lifecycle

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// ReportMonths is how many months a report projects.
const ReportMonths = 12

// Report is what `meridian lifecycle report` shows: per region and class,
// bytes, objects and monthly cost now and after the plan, against the
// budget, and the cost by class over the next months. It is built from a
// Plan alone and serialises to JSON as is.
type Report struct {
	PriceVersion string         `json:"price_version"`
	CreatedAt    time.Time      `json:"created_at"`
	Regions      []RegionReport `json:"regions"`
}

// RegionReport is one region's part of a Report.
type RegionReport struct {
	Region      string `json:"region"`
	Budget      Money  `json:"budget"`
	Current     Money  `json:"current"`
	Projected   Money  `json:"projected"`
	MeetsBudget bool   `json:"meets_budget"`
	Shortfall   Money  `json:"shortfall,omitempty"`
	OneTime     Money  `json:"one_time"`
	Actions     int    `json:"actions"`
	// Classes has a line per class present before or after the plan.
	Classes []ReportClass `json:"classes"`
	// Months projects the cost: Months[0] is the current month as things
	// stand, Months[1..ReportMonths] the months after the plan is applied
	// (one-time charges fall in the first).
	Months []MonthCost `json:"months"`
}

// ReportClass is one class in one region, before and after the plan.
type ReportClass struct {
	Class         StorageClass `json:"class"`
	BytesNow      int64        `json:"bytes_now"`
	ObjectsNow    int64        `json:"objects_now"`
	MonthlyNow    Money        `json:"monthly_now"`
	BytesAfter    int64        `json:"bytes_after"`
	ObjectsAfter  int64        `json:"objects_after"`
	MonthlyAfter  Money        `json:"monthly_after"`
	OverheadAfter Money        `json:"overhead_after"`
}

// MonthCost is one projected month.
type MonthCost struct {
	// Month is the first day of the month (UTC).
	Month time.Time `json:"month"`
	// Label is "now" for the current month, else "Jan 06".
	Label   string        `json:"label"`
	ByClass []ClassAmount `json:"by_class"`
	// OneTime is the plan's transition and early-deletion charges.
	OneTime Money `json:"one_time,omitempty"`
	Total   Money `json:"total"`
	Budget  Money `json:"budget"`
}

// ClassAmount is one class's share of a month.
type ClassAmount struct {
	Class  StorageClass `json:"class"`
	Amount Money        `json:"amount"`
}

// NewReport summarises plan.
func NewReport(plan *Plan) Report {
	r := Report{PriceVersion: plan.PriceVersion, CreatedAt: plan.CreatedAt}
	actions := map[string]int{}
	for _, a := range plan.Actions {
		actions[a.Region]++
	}
	for _, rp := range plan.Regions {
		rr := RegionReport{Region: rp.Region, Budget: rp.Budget, Current: rp.Current, Projected: rp.Projected,
			MeetsBudget: rp.MeetsBudget, Shortfall: rp.Shortfall, OneTime: rp.OneTime, Actions: actions[rp.Region]}
		lines := map[StorageClass]*ReportClass{}
		line := func(c StorageClass) *ReportClass {
			if lines[c] == nil {
				lines[c] = &ReportClass{Class: c}
			}
			return lines[c]
		}
		for _, c := range rp.Before {
			l := line(c.Class)
			l.BytesNow, l.ObjectsNow, l.MonthlyNow = c.Bytes, c.Objects, c.Total()
		}
		for _, c := range rp.After {
			l := line(c.Class)
			l.BytesAfter, l.ObjectsAfter, l.MonthlyAfter, l.OverheadAfter = c.Bytes, c.Objects, c.Total(), c.Overhead
		}
		for _, c := range Classes {
			if l := lines[c]; l != nil {
				rr.Classes = append(rr.Classes, *l)
			}
		}
		start := time.Date(plan.CreatedAt.Year(), plan.CreatedAt.Month(), 1, 0, 0, 0, 0, time.UTC)
		for m := 0; m <= ReportMonths; m++ {
			mc := MonthCost{Month: start.AddDate(0, m, 0), Budget: rp.Budget}
			mc.Label = mc.Month.Format("Jan 06")
			costs := rp.After
			if m == 0 {
				costs, mc.Label = rp.Before, "now"
			}
			for _, c := range costs {
				mc.ByClass = append(mc.ByClass, ClassAmount{Class: c.Class, Amount: c.Total()})
				mc.Total += c.Total()
			}
			if m == 1 {
				mc.OneTime = rp.OneTime
				mc.Total += rp.OneTime
			}
			rr.Months = append(rr.Months, mc)
		}
		r.Regions = append(r.Regions, rr)
	}
	return r
}

// WriteText prints the report as aligned tables, one per region.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "prices %s, planned %s\n", r.PriceVersion, r.CreatedAt.Format(time.RFC3339))
	for _, rr := range r.Regions {
		verdict := "under budget"
		if !rr.MeetsBudget {
			verdict = "OVER budget by " + rr.Shortfall.String() + " (cheapest plan the constraints allow)"
		}
		fmt.Fprintf(tw, "\nregion %s: budget %s/month, now %s, projected %s (%s); one-time %s; %d actions\n",
			rr.Region, rr.Budget, rr.Current, rr.Projected, verdict, rr.OneTime, rr.Actions)
		fmt.Fprintln(tw, "class\tbytes now\tobjects now\tmonthly now\tbytes after\tobjects after\tmonthly after\t")
		for _, c := range rr.Classes {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%s\t\n", c.Class, formatBytes(c.BytesNow), c.ObjectsNow, c.MonthlyNow,
				formatBytes(c.BytesAfter), c.ObjectsAfter, c.MonthlyAfter)
		}
	}
	return tw.Flush()
}

// formatBytes renders n in decimal units (1.5 PB).
func formatBytes(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	f, i := float64(n), 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	s := strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
	return s + " " + units[i]
}
