//go:build !race

package interceptors_test

// raceEnabled reports a build with the race detector, which changes what
// allocates (sync.Pool drops a share of what it is given).
const raceEnabled = false
