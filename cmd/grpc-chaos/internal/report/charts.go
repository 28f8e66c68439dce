package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart geometry, in points. Two charts sit side by side on a wide screen;
// the SVG scales down (it has a viewBox) on a narrow one.
const (
	chartWidth  = 6.4 * vg.Inch
	chartHeight = 3.6 * vg.Inch
	// chartMargin is the blank border around a chart and the gap between
	// the plot and its legend.
	chartMargin = 8
	// groupFill is the share of a bar group's slot that its bars cover.
	groupFill = 0.8
	// maxLegendWidth keeps a long policy name from squeezing the plot out;
	// the name runs past the chart's edge instead.
	maxLegendWidth = chartWidth / 3
	// maxBarWidth keeps a lone bar from filling a whole chart.
	maxBarWidth = 48
	// logRatio is the max/min latency ratio above which the CDF's x axis
	// turns logarithmic: below it a linear axis reads better.
	logRatio = 50
	// sansVariant is the Liberation variant the charts use, to match the
	// page's sans-serif text.
	sansVariant = "Sans"
)

// policyColor returns the colour of the i-th policy, the same in every chart.
func policyColor(i int) color.Color {
	return plotutil.DarkColors[i%len(plotutil.DarkColors)]
}

// dashes are the policies' line patterns, so that lines lying on top of
// each other still tell apart; the dotted patterns of plotutil's list are
// left out, as they read poorly at 2pt.
var dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(2)},
	{vg.Points(2), vg.Points(2)},
	{vg.Points(6), vg.Points(2), vg.Points(2), vg.Points(2)},
	{vg.Points(10), vg.Points(3)},
}

// policyDashes returns the dash pattern of the i-th policy's lines.
func policyDashes(i int) []vg.Length {
	return dashes[i%len(dashes)]
}

// hexColor writes c as the CSS "#rrggbb" that the page's swatches use.
func hexColor(c color.Color) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
}

// series is one policy's data in a chart.
type series struct {
	name  string
	index int // the policy's position, for its colour
	// values holds one bar height per group (bar charts).
	values []float64
	// xs and ys are the points of a line (line charts).
	xs, ys []float64
}

// barChart describes a grouped bar chart: one group per label, one bar per
// series within a group.
type barChart struct {
	groups []string
	series []series
	yLabel string
	xLabel string
	// yMax fixes the top of the y axis when positive, e.g. 100 for a
	// percentage; otherwise the data sets it.
	yMax float64
}

// lineChart describes a chart of one line per series.
type lineChart struct {
	series []series
	xLabel string
	yLabel string
	yMax   float64
}

// svgChart is a chart drawn by gonum/plot: the inline <svg> element, and
// the @font-face rules its text needs, which the page states once.
type svgChart struct {
	svg       string
	fontFaces []string
}

// finite returns v, or 0 when v is NaN or infinite: gonum/plot refuses
// such values, and a report may hold them for rows without calls.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// newPlot returns a plot with the page's font and a light horizontal grid.
func newPlot(xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	for _, sty := range []*text.Style{
		&p.Title.TextStyle,
		&p.X.Label.TextStyle, &p.Y.Label.TextStyle,
		&p.X.Tick.Label, &p.Y.Tick.Label,
	} {
		sty.Font.Variant = sansVariant
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal.Color = color.Gray{Y: 220}
	p.Add(grid)
	return p
}

// newLegend returns a legend with the page's font, to be drawn beside the
// plot rather than over its data.
func newLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font.Variant = sansVariant
	l.Top = true
	l.Left = true
	l.Padding = vg.Points(4)
	return l
}

// axisTop returns a y axis maximum that leaves a little room above the
// highest value, and 1 when every value is 0 so the range is never empty.
func axisTop(maxValue float64) float64 {
	if maxValue <= 0 {
		return 1
	}
	return maxValue * 1.08
}

// render draws p with the legend l on its right into an SVG and returns the
// SVG ready to inline. A panic inside gonum/plot becomes an error: a chart
// that cannot be drawn must not take the run's report down with it.
func render(p *plot.Plot, l plot.Legend) (chart svgChart, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plot: %v", r)
		}
	}()
	canvas := vgsvg.NewWith(vgsvg.UseWH(chartWidth, chartHeight), vgsvg.EmbedFonts(true))
	dc := draw.Crop(draw.New(canvas), chartMargin, -chartMargin, chartMargin, -chartMargin)
	plotArea := dc
	if legendWidth := min(l.Rectangle(dc).Size().X, maxLegendWidth); legendWidth > 0 {
		plotArea = draw.Crop(dc, 0, -(legendWidth + chartMargin), 0, 0)
		legendArea := dc
		legendArea.Min.X = dc.Max.X - legendWidth
		l.Draw(legendArea)
	}
	p.Draw(plotArea)

	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return svgChart{}, err
	}
	return inlineSVG(buf.String())
}

// inlineSVG turns a standalone SVG document from vgsvg into an element that
// can sit inside HTML: it drops the XML prolog and comment before <svg>,
// and moves the embedded fonts out of the SVG's <defs>, because every
// chart embeds the same fonts and the page needs them only once.
func inlineSVG(doc string) (svgChart, error) {
	start := strings.Index(doc, "<svg")
	if start < 0 {
		return svgChart{}, fmt.Errorf("plot output holds no <svg> element")
	}
	svg := doc[start:]

	var faces []string
	const defsOpen, defsClose = "<defs>", "</defs>"
	if i := strings.Index(svg, defsOpen); i >= 0 {
		j := strings.Index(svg[i:], defsClose)
		if j < 0 {
			return svgChart{}, fmt.Errorf("plot output has an unclosed <defs>")
		}
		defs := svg[i+len(defsOpen) : i+j]
		svg = svg[:i] + strings.TrimLeft(svg[i+j+len(defsClose):], "\n")
		defs = strings.TrimSpace(defs)
		defs = strings.TrimPrefix(defs, "<style>")
		defs = strings.TrimSuffix(defs, "</style>")
		for _, rule := range strings.Split(defs, "@font-face") {
			if rule = strings.TrimSpace(rule); rule != "" {
				faces = append(faces, "@font-face"+rule)
			}
		}
	}
	return svgChart{svg: svg, fontFaces: faces}, nil
}

// drawBars draws a grouped bar chart.
func drawBars(bc barChart) (svgChart, error) {
	p := newPlot(bc.xLabel, bc.yLabel)
	l := newLegend()
	groups := max(len(bc.groups), 1)
	n := max(len(bc.series), 1)

	// The x axis spans [-0.5, groups-0.5], so a group's slot is the data
	// width over the number of groups; the y axis takes about 50pt.
	slot := (chartWidth - 2*chartMargin - legendWidthGuess(bc.series) - 50) / vg.Length(groups)
	width := max(min(slot*groupFill/vg.Length(n), maxBarWidth), 1)

	top := 0.0
	for k, s := range bc.series {
		values := make(plotter.Values, len(bc.groups))
		for i := range values {
			if i < len(s.values) {
				values[i] = max(finite(s.values[i]), 0)
			}
			top = max(top, values[i])
		}
		if len(values) == 0 {
			continue
		}
		bars, err := plotter.NewBarChart(values, width)
		if err != nil {
			return svgChart{}, err
		}
		bars.Color = policyColor(s.index)
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(float64(k)-float64(n-1)/2) * width
		p.Add(bars)
		l.Add(s.name, bars)
	}
	if len(bc.groups) > 0 {
		p.NominalX(bc.groups...)
	}
	p.X.Min, p.X.Max = -0.5, float64(groups)-0.5
	p.Y.Min, p.Y.Max = 0, axisTop(top)
	if bc.yMax > 0 {
		p.Y.Max = bc.yMax
	}
	return render(p, l)
}

// legendWidthGuess estimates the legend's width before it is drawn, to size
// the bars.
func legendWidthGuess(ss []series) vg.Length {
	if len(ss) == 0 {
		return 0
	}
	l := newLegend()
	longest := 0.0
	for _, s := range ss {
		longest = max(longest, float64(l.TextStyle.Width(" "+s.name)))
	}
	return min(l.ThumbnailWidth+vg.Length(longest), maxLegendWidth) + chartMargin
}

// drawLines draws one line per series; the x axis turns logarithmic when
// every x is positive and the values span more than logRatio.
func drawLines(lc lineChart) (svgChart, error) {
	p := newPlot(lc.xLabel, lc.yLabel)
	l := newLegend()
	xMin, xMax := math.Inf(1), math.Inf(-1)
	for _, s := range lc.series {
		for _, x := range s.xs {
			x = finite(x)
			xMin, xMax = min(xMin, x), max(xMax, x)
		}
	}
	logX := xMin > 0 && xMax/xMin > logRatio
	for _, s := range lc.series {
		n := min(len(s.xs), len(s.ys))
		if n == 0 {
			continue
		}
		pts := make(plotter.XYs, n)
		for i := range n {
			pts[i].X, pts[i].Y = finite(s.xs[i]), finite(s.ys[i])
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return svgChart{}, err
		}
		line.StepStyle = plotter.PostStep
		line.Color = policyColor(s.index)
		line.Width = vg.Points(2)
		line.Dashes = policyDashes(s.index)
		p.Add(line)
		l.Add(s.name, line)
	}
	switch {
	case math.IsInf(xMin, 0):
		p.X.Min, p.X.Max = 0, 1
	case logX:
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
		p.X.Min, p.X.Max = xMin, xMax
		p.X.Label.Text += " (log scale)"
	default:
		p.X.Min, p.X.Max = 0, axisTop(xMax)
	}
	p.Y.Min, p.Y.Max = 0, lc.yMax
	return render(p, l)
}

// logTicks labels a logarithmic axis at 1, 2 and 5 times each power of ten,
// where gonum's LogTicks labels powers of ten only, which leaves a short
// range with one or two labels.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		decade := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := decade * float64(m)
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
