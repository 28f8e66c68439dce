package stubserver

import "time"

const (
	// DefaultTimeout bounds a wait for something a test expects to happen:
	// a call's deadline, a channel receive, a state change. It is long so
	// that slow machines and the race detector never trip it; a test that
	// reaches it is broken.
	DefaultTimeout = 10 * time.Second

	// ShortTimeout is how long a test waits for something it expects NOT to
	// happen (a call that must not arrive, a retry that must not start)
	// before concluding that it did not. It is short to keep tests fast; it
	// can only miss an event, never report a false one.
	ShortTimeout = 10 * time.Millisecond
)
