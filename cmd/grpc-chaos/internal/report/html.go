package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var pageSource string

// pageTemplate is parsed once; html/template escapes every value it is
// given, so only the SVG charts, which come from gonum/plot, and the fonts
// they embed are marked safe.
var pageTemplate = template.Must(template.New("report").Parse(pageSource))

// WriteHTML writes r as one self-contained HTML page: the plan, a table
// per RPC kind, the SLO verdict when there is one, and charts drawn with
// gonum/plot and inlined as SVG. The page loads nothing from the network.
//
// Charts, each a <figure class="chart" data-chart="NAME">: "success" and
// "p99" compare the policies across kinds, and for each kind with rows
// "attempts-KIND" shows the attempts histogram and "latency-KIND" the
// latency distribution as a CDF. A report without rows has no charts.
//
// On load, a small script sets data-charts-total on <body> to the number
// of charts, and data-charts-rendered to the number whose SVG has a
// non-empty layout box, so that a headless browser can prove they drew.
func WriteHTML(w io.Writer, r *Report) error {
	if r == nil {
		return fmt.Errorf("report: WriteHTML of a nil report")
	}
	pg, err := newPage(r)
	if err != nil {
		return err
	}
	return pageTemplate.Execute(w, pg)
}

// page is what the HTML template reads.
type page struct {
	Title   string
	Started string
	Elapsed string
	// Interrupted says the run stopped before every row ran.
	Interrupted bool
	Plan        PlanInfo
	Runs        string
	Policies    []policyView
	// Summary holds the charts over all kinds.
	Summary []chartView
	Kinds   []kindView
	SLO     *sloView
	// FontCSS holds the @font-face rules the charts' text uses.
	FontCSS template.CSS
}

type policyView struct {
	PolicyInfo
	Color string
}

type chartView struct {
	Name    string
	Caption string
	SVG     template.HTML
}

type kindView struct {
	Name   string
	Method string
	Rows   []rowView
	Charts []chartView
}

type rowView struct {
	Policy          string
	Color           string
	Calls           int
	Success         string
	AttemptsPerCall string
	ServerPerCall   string
	P50, P95, P99   string
	Codes           string
	AttemptCodes    string
	Stops           string
	WrongData       string
	Reran           string
}

type sloView struct {
	Spec   string
	Met    bool
	Checks []sloCheckView
}

type sloCheckView struct {
	SLOCheck
	Value string
}

// layout is the report's rows indexed by kind and policy, with kinds and
// policies in the plan's order followed by any that only rows name.
type layout struct {
	kinds    []string
	policies []PolicyInfo
	rows     map[string]map[string]*Row
}

func newLayout(r *Report) layout {
	lo := layout{rows: map[string]map[string]*Row{}}
	seenKind := map[string]bool{}
	addKind := func(k string) {
		if !seenKind[k] {
			seenKind[k] = true
			lo.kinds = append(lo.kinds, k)
		}
	}
	seenPolicy := map[string]bool{}
	addPolicy := func(p PolicyInfo) {
		if !seenPolicy[p.Name] {
			seenPolicy[p.Name] = true
			lo.policies = append(lo.policies, p)
		}
	}
	for _, k := range r.Plan.Kinds {
		addKind(k)
	}
	for _, p := range r.Plan.Policies {
		addPolicy(p)
	}
	for i := range r.Rows {
		row := &r.Rows[i]
		addKind(row.Kind)
		addPolicy(PolicyInfo{Name: row.Policy})
		if lo.rows[row.Kind] == nil {
			lo.rows[row.Kind] = map[string]*Row{}
		}
		if lo.rows[row.Kind][row.Policy] == nil {
			lo.rows[row.Kind][row.Policy] = row
		}
	}
	return lo
}

// row returns the row of kind and policy, or nil.
func (lo layout) row(kind, policy string) *Row {
	return lo.rows[kind][policy]
}

// kindsWithRows returns the kinds that have at least one row.
func (lo layout) kindsWithRows() []string {
	var ks []string
	for _, k := range lo.kinds {
		if len(lo.rows[k]) > 0 {
			ks = append(ks, k)
		}
	}
	return ks
}

// policiesWithRows returns the indexes of the policies that have a row in
// one of kinds.
func (lo layout) policiesWithRows(kinds ...string) []int {
	var idx []int
	for i, p := range lo.policies {
		for _, k := range kinds {
			if lo.row(k, p.Name) != nil {
				idx = append(idx, i)
				break
			}
		}
	}
	return idx
}

func newPage(r *Report) (*page, error) {
	lo := newLayout(r)
	pg := &page{
		Title:       "grpc-chaos report",
		Plan:        r.Plan,
		Elapsed:     formatDuration(r.ElapsedMs),
		Interrupted: r.Interrupted,
	}
	if !r.Started.IsZero() {
		pg.Started = r.Started.UTC().Format(time.RFC3339)
	}
	switch {
	case r.Plan.Calls > 0:
		pg.Runs = fmt.Sprintf("%d calls per row", r.Plan.Calls)
	case r.Plan.Duration != "":
		pg.Runs = r.Plan.Duration + " per row"
	default:
		pg.Runs = "n/a"
	}
	for i, p := range lo.policies {
		pg.Policies = append(pg.Policies, policyView{PolicyInfo: p, Color: hexColor(policyColor(i))})
	}

	fonts := newFontSet()
	add := func(dst *[]chartView, name, caption string, c svgChart, err error) error {
		if err != nil {
			return fmt.Errorf("report: chart %q: %w", name, err)
		}
		fonts.add(c.fontFaces)
		// The SVG comes from gonum/plot, which escapes the text it draws.
		*dst = append(*dst, chartView{Name: name, Caption: caption, SVG: template.HTML(c.svg)})
		return nil
	}

	kinds := lo.kindsWithRows()
	if len(kinds) > 0 {
		c, err := drawBars(summaryChart(lo, kinds, "success (%)", func(row *Row) float64 { return 100 * row.SuccessRate }, 100))
		if err := add(&pg.Summary, "success", "Success rate by policy", c, err); err != nil {
			return nil, err
		}
		c, err = drawBars(summaryChart(lo, kinds, "p99 latency (ms)", func(row *Row) float64 { return row.LatencyMs.P99 }, 0))
		if err := add(&pg.Summary, "p99", "p99 latency by policy", c, err); err != nil {
			return nil, err
		}
	}

	for _, k := range lo.kinds {
		kv := kindView{Name: k}
		for i, p := range lo.policies {
			row := lo.row(k, p.Name)
			if row == nil {
				continue
			}
			if kv.Method == "" {
				kv.Method = row.Method
			}
			kv.Rows = append(kv.Rows, newRowView(row, hexColor(policyColor(i))))
		}
		if len(kv.Rows) > 0 {
			c, err := drawBars(attemptsChart(lo, k))
			if err := add(&kv.Charts, "attempts-"+k, "Attempts per call: "+k, c, err); err != nil {
				return nil, err
			}
			c, err = drawLines(latencyChart(lo, k))
			if err := add(&kv.Charts, "latency-"+k, "Latency distribution (CDF): "+k, c, err); err != nil {
				return nil, err
			}
		}
		pg.Kinds = append(pg.Kinds, kv)
	}
	pg.FontCSS = fonts.css()

	if r.SLO != nil {
		pg.SLO = &sloView{Spec: r.SLO.Spec, Met: r.SLO.Met}
		for _, c := range r.SLO.Checks {
			pg.SLO.Checks = append(pg.SLO.Checks, sloCheckView{SLOCheck: c, Value: strconv.FormatFloat(finite(c.Value), 'g', 6, 64) + c.Unit})
		}
	}
	return pg, nil
}

// summaryChart compares the policies across kinds by one figure of their
// rows; rows without calls count as 0.
func summaryChart(lo layout, kinds []string, yLabel string, figure func(*Row) float64, yMax float64) barChart {
	bc := barChart{groups: kinds, yLabel: yLabel, yMax: yMax}
	for _, i := range lo.policiesWithRows(kinds...) {
		s := series{name: lo.policies[i].Name, index: i, values: make([]float64, len(kinds))}
		for g, k := range kinds {
			if row := lo.row(k, s.name); row != nil && row.Calls > 0 {
				s.values[g] = figure(row)
			}
		}
		bc.series = append(bc.series, s)
	}
	return bc
}

// attemptsChart shows, per number of attempts, the share of each policy's
// calls that made that many: shares, not counts, so that timed runs whose
// policies made different numbers of calls still compare.
func attemptsChart(lo layout, kind string) barChart {
	longest := 1
	for _, row := range lo.rows[kind] {
		longest = max(longest, len(row.AttemptsHistogram))
	}
	bc := barChart{xLabel: "attempts", yLabel: "calls (%)", yMax: 100}
	for n := 1; n <= longest; n++ {
		bc.groups = append(bc.groups, strconv.Itoa(n))
	}
	for _, i := range lo.policiesWithRows(kind) {
		row := lo.row(kind, lo.policies[i].Name)
		s := series{name: row.Policy, index: i, values: make([]float64, longest)}
		total := 0
		for _, c := range row.AttemptsHistogram {
			total += c
		}
		if total > 0 {
			for n, c := range row.AttemptsHistogram {
				s.values[n] = 100 * float64(c) / float64(total)
			}
		}
		bc.series = append(bc.series, s)
	}
	return bc
}

// latencyChart draws each policy's latency quantiles as a CDF; rows
// without calls or quantiles have no line.
func latencyChart(lo layout, kind string) lineChart {
	lc := lineChart{xLabel: "latency (ms)", yLabel: "percentile", yMax: 100}
	for _, i := range lo.policiesWithRows(kind) {
		row := lo.row(kind, lo.policies[i].Name)
		q := row.LatencyQuantilesMs
		if row.Calls == 0 || len(q) == 0 {
			continue
		}
		s := series{name: row.Policy, index: i, xs: q, ys: make([]float64, len(q))}
		for j := range q {
			if len(q) == 1 {
				s.ys[j] = 100
			} else {
				s.ys[j] = 100 * float64(j) / float64(len(q)-1)
			}
		}
		lc.series = append(lc.series, s)
	}
	return lc
}

func newRowView(row *Row, color string) rowView {
	v := rowView{
		Policy:          row.Policy,
		Color:           color,
		Calls:           row.Calls,
		Success:         "n/a",
		AttemptsPerCall: "n/a",
		ServerPerCall:   "n/a",
		P50:             "n/a",
		P95:             "n/a",
		P99:             "n/a",
		Codes:           formatCounts(row.Codes),
		AttemptCodes:    formatCounts(row.AttemptCodes),
		Stops:           formatCounts(row.Stops),
		WrongData:       strconv.Itoa(row.WrongData),
		Reran:           "n/a",
	}
	if row.Reran != nil {
		v.Reran = strconv.Itoa(*row.Reran)
	}
	if row.WrongData > 0 && row.WrongDataReran != nil {
		v.WrongData = fmt.Sprintf("%d (%d after a rerun)", row.WrongData, *row.WrongDataReran)
	}
	if row.Calls > 0 {
		v.Success = fmt.Sprintf("%.2f%% (%d/%d)", 100*finite(row.SuccessRate), row.OK, row.Calls)
		v.AttemptsPerCall = fmt.Sprintf("%.2f", finite(row.AttemptsPerCall))
		v.P50 = formatMs(row.LatencyMs.P50)
		v.P95 = formatMs(row.LatencyMs.P95)
		v.P99 = formatMs(row.LatencyMs.P99)
	}
	if row.ServerAttemptsPerCall != nil && row.Calls > 0 {
		v.ServerPerCall = fmt.Sprintf("%.2f", finite(*row.ServerAttemptsPerCall))
	}
	return v
}

// formatCounts writes counts as "OK 950, UNAVAILABLE 50", largest first,
// or "–" when there are none.
func formatCounts(counts map[string]int) string {
	keys := slices.SortedFunc(maps.Keys(counts), func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	if len(keys) == 0 {
		return "–"
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}

// formatMs writes a latency with two decimals below 10ms and one above.
func formatMs(ms float64) string {
	ms = finite(ms)
	if ms < 10 {
		return strconv.FormatFloat(ms, 'f', 2, 64)
	}
	return strconv.FormatFloat(ms, 'f', 1, 64)
}

// formatDuration writes a duration given in milliseconds.
func formatDuration(ms float64) string {
	d := time.Duration(finite(ms) * float64(time.Millisecond))
	return d.Round(time.Millisecond).String()
}

// fontSet collects the charts' @font-face rules, each once.
type fontSet struct {
	seen  map[string]bool
	rules []string
}

func newFontSet() *fontSet { return &fontSet{seen: map[string]bool{}} }

func (f *fontSet) add(rules []string) {
	for _, r := range rules {
		if !f.seen[r] {
			f.seen[r] = true
			f.rules = append(f.rules, r)
		}
	}
}

// css returns the rules as CSS. They come from gonum/plot's SVG canvas and
// hold the fonts as data: URLs.
func (f *fontSet) css() template.CSS {
	return template.CSS(strings.Join(f.rules, "\n"))
}
