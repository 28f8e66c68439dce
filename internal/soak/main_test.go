package soak

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when any goroutine outlives its tests: the
// soak's server, connections, workers and deliberate leaks must all be gone.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
