package lifecycle

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// classColors are the chart's fills, warm to cold.
var classColors = map[StorageClass]string{
	Standard:           "#d9534f",
	IntelligentTiering: "#f0ad4e",
	StandardIA:         "#e6c229",
	OneZoneIA:          "#9bc53d",
	GlacierIR:          "#5bc0de",
	Glacier:            "#337ab7",
	DeepArchive:        "#23395b",
}

const oneTimeColor = "#999999"

// chart geometry, in SVG user units.
const (
	svgWidth   = 820
	svgHeight  = 380
	plotLeft   = 80
	plotRight  = 600
	plotTop    = 40
	plotBottom = 330
)

// WriteSVG draws rr's projected monthly cost as stacked bars by class, one
// bar for the current month and one per projected month, with the budget as
// a dashed line. The SVG is written by hand (no dependencies) and is
// deterministic for the same report.
func WriteSVG(w io.Writer, rr RegionReport) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	top := float64(rr.Budget)
	for _, m := range rr.Months {
		top = max(top, float64(m.Total))
	}
	scaleMax, step := niceScale(top)
	y := func(v float64) float64 { return plotBottom - v/scaleMax*(plotBottom-plotTop) }

	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		svgWidth, svgHeight, svgWidth, svgHeight)
	p(`<title>%s</title>`+"\n", esc(fmt.Sprintf("Region %s: projected monthly storage cost by class", rr.Region)))
	p(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	p(`<text x="%d" y="22" font-size="14" font-weight="bold">%s</text>`+"\n", plotLeft,
		esc(fmt.Sprintf("%s: monthly cost by storage class, budget %s", rr.Region, rr.Budget)))

	// Axis, grid and labels.
	for v := 0.0; v <= scaleMax+step/2; v += step {
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e5e5"/>`+"\n", plotLeft, y(v), plotRight, y(v))
		p(`<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", plotLeft-6, y(v)+4, esc(compactDollars(v)))
	}
	p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`+"\n", plotLeft, plotBottom, plotRight, plotBottom)

	n := len(rr.Months)
	slot := float64(plotRight-plotLeft) / float64(max(n, 1))
	barW := slot * 0.7
	used := map[StorageClass]bool{}
	for i, m := range rr.Months {
		x := plotLeft + float64(i)*slot + (slot-barW)/2
		base := 0.0
		seg := func(name, color string, amount Money) {
			if amount <= 0 {
				return
			}
			v := float64(amount)
			p(`<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n",
				x, y(base+v), barW, y(base)-y(base+v), color, esc(fmt.Sprintf("%s %s: %s", m.Label, name, amount)))
			base += v
		}
		for _, c := range m.ByClass {
			used[c.Class] = true
			seg(string(c.Class), classColors[c.Class], c.Amount)
		}
		seg("one-time", oneTimeColor, m.OneTime)
		p(`<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x+barW/2, plotBottom+16, esc(m.Label))
	}

	// Budget line.
	by := y(float64(rr.Budget))
	p(`<line class="budget" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#000000" stroke-width="1.5" stroke-dasharray="6 4"/>`+"\n",
		plotLeft, by, plotRight, by)
	p(`<text x="%d" y="%.1f">budget</text>`+"\n", plotRight+4, by+4)

	// Legend.
	ly := plotTop
	for _, c := range Classes {
		if !used[c] {
			continue
		}
		p(`<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", plotRight+50, ly, classColors[c], plotRight+68, ly+10, c)
		ly += 18
	}
	p(`<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">one-time</text>`+"\n", plotRight+50, ly, oneTimeColor, plotRight+68, ly+10)
	p("</svg>\n")
	return bw.Flush()
}

// niceScale returns an axis maximum at least top and a round step (1, 2
// or 5 times a power of ten) giving about five grid lines.
func niceScale(top float64) (float64, float64) {
	if top <= 0 {
		return float64(Dollars(1)), float64(Dollars(1)) / 5
	}
	raw := top / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, f := range []float64{1, 2, 5, 10} {
		if f*mag >= raw {
			step = f * mag
			break
		}
	}
	return math.Ceil(top/step) * step, step
}

// compactDollars renders a nano-dollar amount as $1.2M, $350k or $12.
func compactDollars(nanos float64) string {
	d := nanos / nanosPerDollar
	switch {
	case d >= 1e9:
		return trimZero(fmt.Sprintf("$%.2f", d/1e9)) + "B"
	case d >= 1e6:
		return trimZero(fmt.Sprintf("$%.2f", d/1e6)) + "M"
	case d >= 1e3:
		return trimZero(fmt.Sprintf("$%.1f", d/1e3)) + "k"
	case d >= 1 || d == 0:
		return fmt.Sprintf("$%.0f", d)
	}
	return trimZero(fmt.Sprintf("$%.4f", d))
}

func trimZero(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

func esc(s string) string { return html.EscapeString(s) }
