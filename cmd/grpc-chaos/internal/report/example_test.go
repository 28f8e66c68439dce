package report_test

import (
	"bytes"
	"fmt"
	"os"
	"regexp"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/report"
)

func ExampleWriteJSON() {
	r := &report.Report{
		Tool: "grpc-chaos",
		Plan: report.PlanInfo{
			Target:      "embedded",
			Seed:        ptr(uint64(1)),
			Calls:       100,
			Concurrency: 4,
			Timeout:     "1s",
			Kinds:       []string{"unary"},
			Policies:    []report.PolicyInfo{{Name: "none", Description: "no retries"}},
		},
		Rows: []report.Row{},
	}
	if err := report.WriteJSON(os.Stdout, r); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {
	//   "tool": "grpc-chaos",
	//   "started": "0001-01-01T00:00:00Z",
	//   "elapsedMs": 0,
	//   "plan": {
	//     "target": "embedded",
	//     "seed": 1,
	//     "calls": 100,
	//     "concurrency": 4,
	//     "timeout": "1s",
	//     "kinds": [
	//       "unary"
	//     ],
	//     "policies": [
	//       {
	//         "name": "none",
	//         "description": "no retries"
	//       }
	//     ]
	//   },
	//   "rows": []
	// }
}

func ExampleWriteHTML() {
	q := make([]float64, 101)
	for i := range q {
		q[i] = 1 + float64(i)/10
	}
	r := &report.Report{
		Tool: "grpc-chaos",
		Plan: report.PlanInfo{Kinds: []string{"unary"}, Policies: []report.PolicyInfo{{Name: "none"}, {Name: "a6-retry"}}},
		Rows: []report.Row{
			{Kind: "unary", Policy: "none", Calls: 10, OK: 8, SuccessRate: 0.8, LatencyQuantilesMs: q, AttemptsHistogram: []int{10}},
			{Kind: "unary", Policy: "a6-retry", Calls: 10, OK: 10, SuccessRate: 1, LatencyQuantilesMs: q, AttemptsHistogram: []int{8, 2}},
		},
	}
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, r); err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range regexp.MustCompile(`data-chart="([^"]+)"`).FindAllStringSubmatch(buf.String(), -1) {
		fmt.Println(m[1])
	}
	// Output:
	// success
	// p99
	// attempts-unary
	// latency-unary
}
