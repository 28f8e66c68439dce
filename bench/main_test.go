package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that every server, connection and stream of the tests and
// benchmarks was cleaned up.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
