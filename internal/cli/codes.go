package cli

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"

	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// CodeCounts renders counts by status code for a stats line, in code order,
// as " (UNAVAILABLE=3 INTERNAL=1)", with its leading space; no counts give
// "".
func CodeCounts[N int | int64 | uint64](m map[codes.Code]N) string {
	if len(m) == 0 {
		return ""
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", rstatus.Name(k), m[k]))
	}
	return " (" + strings.Join(parts, " ") + ")"
}
