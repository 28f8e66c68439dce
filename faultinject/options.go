package faultinject

// Option configures an [Injector] or a [Listener]. Options are values; when
// the same option is given twice, the last one wins.
type Option func(*options)

type options struct {
	seed          uint64
	seeded        bool
	headerControl bool
	maxActive     int
	observer      func(Event)
}

func newOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// WithSeed makes every random decision a function of seed and of the
// sequence number of the call (or connection): two runs with the same seed
// and the same sequence of calls make the same decisions, call by call.
//
// Default: a fresh random seed for every Injector and Listener.
func WithSeed(seed uint64) Option {
	return func(o *options) { o.seed, o.seeded = seed, true }
}

// WithHeaderControl lets clients ask for faults with Envoy's request headers
// (x-envoy-fault-abort-grpc-request, x-envoy-fault-abort-request-percentage,
// x-envoy-fault-delay-request, x-envoy-fault-delay-request-percentage). Turn
// it on only for servers under test: with it, any client can make the server
// fail its own calls. Malformed values are ignored and counted in
// [Stats].HeaderRejected. A Listener ignores this option.
//
// Default: false; the headers are ignored.
func WithHeaderControl(enabled bool) Option {
	return func(o *options) { o.headerControl = enabled }
}

// WithMaxActiveFaults caps the faulted calls in progress at once, like
// Envoy's max_active_faults: a call that carries a fault (a delay, an abort,
// a stream armed to fail) holds its slot until it ends, so a delayed stream
// holds one for its whole life. A fault that would go over the cap is
// skipped and counted in [Stats].Skipped; the call runs normally. A Listener
// ignores this option. n must not be negative.
//
// Default: 0, no cap.
func WithMaxActiveFaults(n int) Option {
	return func(o *options) { o.maxActive = n }
}

// WithObserver calls fn with every fault injected, skipped or rejected, on
// the goroutine of the call (or of Accept). fn must be safe for concurrent
// use and quick: it runs inside the call.
//
// Default: none.
func WithObserver(fn func(Event)) Option {
	return func(o *options) { o.observer = fn }
}
