package main

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/report"
)

// writeTables prints the report as one table per kind.
func writeTables(w io.Writer, rep *report.Report) {
	p := rep.Plan
	size := fmt.Sprintf("%d calls", p.Calls)
	if p.Calls == 0 {
		size = p.Duration
	}
	fmt.Fprintf(w, "grpc-chaos: target %s", p.Target)
	if p.Seed != nil {
		fmt.Fprintf(w, ", faults %q, seed %d", p.Faults, *p.Seed)
	}
	fmt.Fprintf(w, "\n%s per kind and policy, %d at a time, timeout %s, %.1fs in all\n", size, p.Concurrency, p.Timeout, rep.ElapsedMs/1000)
	for _, pol := range p.Policies {
		fmt.Fprintf(w, "  %-9s %s\n", pol.Name, pol.Description)
	}
	kind := ""
	var tw *tabwriter.Writer
	for _, row := range rep.Rows {
		if row.Kind != kind {
			if tw != nil {
				tw.Flush()
			}
			kind = row.Kind
			fmt.Fprintf(w, "\n%s  %s\n", row.Kind, row.Method)
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "POLICY\tCALLS\tSUCCESS\tATTEMPTS/CALL\tSERVER/CALL\tP50\tP95\tP99\tSTOPPED BY\tWRONG DATA\tRERAN\tFINAL CODES\tATTEMPT CODES")
		}
		server := "n/a"
		if row.ServerAttemptsPerCall != nil {
			server = fmt.Sprintf("%.3f", *row.ServerAttemptsPerCall)
		}
		reran := "n/a"
		if row.Reran != nil {
			reran = strconv.Itoa(*row.Reran)
		}
		wrong := strconv.Itoa(row.WrongData)
		if row.WrongData > 0 && row.WrongDataReran != nil {
			wrong += fmt.Sprintf(" (%d reran)", *row.WrongDataReran)
		}
		success, attempts, p50, p95, p99 := "n/a", "n/a", "n/a", "n/a", "n/a"
		if row.Calls > 0 {
			success = fmt.Sprintf("%.2f%%", row.SuccessRate*100)
			attempts = fmt.Sprintf("%.3f", row.AttemptsPerCall)
			p50, p95, p99 = fmtMs(row.LatencyMs.P50), fmtMs(row.LatencyMs.P95), fmtMs(row.LatencyMs.P99)
		} else {
			server = "n/a"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			row.Policy, row.Calls, success, attempts, server, p50, p95, p99,
			countList(row.Stops), wrong, reran, countList(row.Codes), countList(row.AttemptCodes))
	}
	if tw != nil {
		tw.Flush()
	}
	if rep.Interrupted {
		fmt.Fprintf(w, "\ninterrupted: only the rows that finished are shown\n")
	}
	if rep.SLO != nil {
		verdict := "met"
		if !rep.SLO.Met {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "\nSLO %q: %s\n", rep.SLO.Spec, verdict)
	}
}

// fmtMs prints milliseconds with three significant figures or so.
func fmtMs(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	case v >= 10:
		return fmt.Sprintf("%.1fms", v)
	default:
		return fmt.Sprintf("%.2fms", v)
	}
}
