package lifecycle

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// designReportPlan plans two regions with the design's prices and a $10M a
// year budget each: "design-500pb" is the original split (5 / 50 / 200 /
// 245 PB) with hot read daily, warm 60 days ago, cold 400 days ago and
// archive never; "design-100pb" is designLake. Both are over budget as they
// stand, and both plans get under it.
func designReportPlan(t *testing.T) *Plan {
	t.Helper()
	groups, hist := designLake()
	for i := range groups {
		groups[i].Region = "design-100pb"
	}
	const objectSize = 1e9
	for _, part := range []struct {
		name  string
		class StorageClass
		bytes int64
		read  Access
	}{
		{"hot", Standard, 5 * pb, Access{Last: planNow.Add(-day), Count: 1000}},
		{"warm", StandardIA, 50 * pb, Access{Last: planNow.Add(-60 * day), Count: 1}},
		{"cold", GlacierIR, 200 * pb, Access{Last: planNow.Add(-400 * day), Count: 1}},
		{"archive", DeepArchive, 245 * pb, Access{}},
	} {
		groups = append(groups, Group{Region: "design-500pb", Bucket: "old", Prefix: "old/" + part.name + "/data/x/", Table: "old/" + part.name,
			Partition: "x", Class: part.class, Bytes: part.bytes, Objects: part.bytes / objectSize, Oldest: planNow.Add(-900 * day), Newest: planNow.Add(-900 * day)})
		if part.read.Count > 0 {
			hist.Reads[[2]string{"old/" + part.name, "x"}] = part.read
		}
	}
	budget := Dollars(10_000_000) / 12
	o, err := NewOptimizer(Config{Prices: designPrices(t), Budgets: []RegionBudget{
		{Region: "design-500pb", PriceRegion: "us-east-1", Monthly: budget},
		{Region: "design-100pb", PriceRegion: "us-east-1", Monthly: budget},
	}})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := o.Plan(context.Background(), groups, hist, planNow)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func TestReport(t *testing.T) {
	rep := NewReport(designReportPlan(t))
	if len(rep.Regions) != 2 {
		t.Fatalf("%d regions", len(rep.Regions))
	}
	big, small := rep.Regions[0], rep.Regions[1]

	// 500 PB: $1.785M storage now (plus the archive overhead and the
	// retrieval charges the design omitted), far over budget; the plan
	// archives the cold part (unread for 400 days) and moves the warm part
	// to GLACIER_IR, keeping both hot and warm queryable.
	var storage Money
	for _, c := range designReportPlan(t).Regions[0].Before {
		storage += c.Storage
	}
	if storage != Dollars(1_785_000) || 12*big.Current <= Dollars(10_000_000) || !big.MeetsBudget || big.Actions != 2 {
		t.Errorf("500 PB: storage %s, now %s, meets %v, actions %d; want 1785000.00, over $10M a year now, under budget after 2 actions",
			storage.Exact(), big.Current, big.MeetsBudget, big.Actions)
	}
	if !small.MeetsBudget || small.Projected > small.Budget || small.Actions == 0 {
		t.Errorf("100 PB: projected %s vs budget %s, %d actions; want under budget", small.Projected, small.Budget, small.Actions)
	}
	if len(small.Months) != ReportMonths+1 || small.Months[0].Label != "now" || small.Months[0].Total != small.Current ||
		small.Months[1].OneTime != small.OneTime || small.Months[2].Total != small.Months[1].Total-small.OneTime {
		t.Errorf("months: %+v", small.Months[:3])
	}
	var bytesNow, bytesAfter int64
	for _, c := range small.Classes {
		bytesNow += c.BytesNow
		bytesAfter += c.BytesAfter
	}
	if bytesNow != 100*pb || bytesAfter != 100*pb {
		t.Errorf("100 PB region holds %d bytes before and %d after", bytesNow, bytesAfter)
	}

	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"region design-500pb: budget $833333.33/month", "now $1960554.19", "region design-100pb", "under budget", "DEEP_ARCHIVE", "100 PB"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	t.Logf("\n%s", text.String())

	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rep, back); diff != "" {
		t.Errorf("report JSON round trip (-got +want):\n%s", diff)
	}

	for i, rr := range rep.Regions {
		var svg bytes.Buffer
		if err := WriteSVG(&svg, rr); err != nil {
			t.Fatal(err)
		}
		bars, budgets := checkSVG(t, svg.Bytes())
		if budgets != 1 || bars < ReportMonths+1 {
			t.Errorf("%s: %d bars, %d budget lines", rr.Region, bars, budgets)
		}
		golden := []string{"testdata/report-500pb.svg", "testdata/report-100pb.svg"}[i]
		if *update {
			if err := os.WriteFile(golden, svg.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if diff := cmp.Diff(string(want), svg.String()); diff != "" {
			t.Errorf("%s differs (-want +got; rerun with -update if intended):\n%s", golden, diff)
		}
	}
}

// checkSVG parses the chart as XML and counts bar segments and budget
// lines.
func checkSVG(t *testing.T, b []byte) (bars, budgets int) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Local == "class" && a.Value == "bar" {
					bars++
				}
				if a.Name.Local == "class" && a.Value == "budget" {
					budgets++
				}
			}
		}
	}
}

func TestNiceScale(t *testing.T) {
	for _, tt := range []struct{ top, max, step float64 }{
		{2.3e15, 2.5e15, 5e14}, {833e12, 1e15, 2e14}, {1, 1, 0.2}, {99, 100, 20},
	} {
		gotMax, gotStep := niceScale(tt.top)
		if gotMax != tt.max || gotStep != tt.step {
			t.Errorf("niceScale(%g) = %g, %g; want %g, %g", tt.top, gotMax, gotStep, tt.max, tt.step)
		}
	}
	if got := compactDollars(float64(Dollars(2_300_000))); got != "$2.3M" {
		t.Errorf("compactDollars = %q", got)
	}
}
