package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// A table is a GitHub Markdown table. Columns whose header starts with
// '>' are right-aligned (the '>' is not printed).
//
// The source is padded so that it reads as a table too, but for columns
// wider than maxPad: padding those would make every line as long as the
// longest cell.
type table struct {
	header []string
	rows   [][]string
}

const maxPad = 80

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// write prints t, followed by an empty line.
func (t *table) write(w io.Writer) {
	n := len(t.header)
	right := make([]bool, n)
	head := make([]string, n)
	width := make([]int, n)
	for i, h := range t.header {
		right[i] = strings.HasPrefix(h, ">")
		head[i] = cell(strings.TrimPrefix(h, ">"))
		width[i] = max(3, utf8.RuneCountInString(head[i]))
	}
	rows := make([][]string, len(t.rows))
	for j, r := range t.rows {
		rows[j] = make([]string, n)
		for i := range n {
			if i < len(r) {
				rows[j][i] = cell(r[i])
			}
			width[i] = max(width[i], utf8.RuneCountInString(rows[j][i]))
		}
	}
	for i := range width {
		if width[i] > maxPad {
			width[i] = 3
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", max(0, width[i]-utf8.RuneCountInString(c)))
			if right[i] {
				fmt.Fprintf(&b, " %s%s |", pad, c)
			} else {
				fmt.Fprintf(&b, " %s%s |", c, pad)
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(head)
	rule := make([]string, n)
	for i := range n {
		rule[i] = strings.Repeat("-", width[i])
		if right[i] {
			rule[i] = rule[i][1:] + ":"
		}
	}
	line(rule)
	for _, r := range rows {
		line(r)
	}
	fmt.Fprintln(w)
}

// cell escapes what would end a table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// fence returns a code fence longer than any run of backticks in s.
func fence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// The number formats. NaN, a metric a row does not report, prints as "—".

// fmtNs formats a time per operation: µs with one decimal, or ns or ms
// when far from µs.
func fmtNs(ns float64) string {
	switch {
	case math.IsNaN(ns):
		return "—"
	case ns >= 1e7:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func fmtf(format string, v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case math.IsInf(v, 0):
		return "∞"
	}
	return fmt.Sprintf(format, v)
}

func fmtPct1(v float64) string     { return fmtf("%.1f", v) }
func fmtPct2(v float64) string     { return fmtf("%.2f", v) }
func fmtRatio(v float64) string    { return fmtf("%.3f", v) }
func fmtAttempts(v float64) string { return fmtf("%.3f", v) }
func fmtKiB(v float64) string      { return fmtf("%.0f", v) }
func fmtKiBDelta(v float64) string { return fmtf("%+.0f", v) }

// fmtMs formats milliseconds with three significant digits or more.
func fmtMs(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// fmtCount formats a count, or the median of counts (which may be a half).
func fmtCount(v float64) string {
	if math.IsNaN(v) || v == math.Trunc(v) {
		return fmtf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// fmtDelta formats a difference of counts with its sign.
func fmtDelta(v float64) string {
	if math.IsNaN(v) || v == math.Trunc(v) {
		return fmtf("%+.0f", v)
	}
	return fmt.Sprintf("%+.1f", v)
}
