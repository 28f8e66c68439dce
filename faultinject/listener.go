package faultinject

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ConnStats counts what a [Listener] did to the connections it accepted.
type ConnStats struct {
	// Accepted counts every connection the wrapped listener's Accept
	// returned, the refused and reset ones included.
	Accepted uint64
	// Refused counts connections closed as soon as they were accepted.
	Refused uint64
	// Reset counts connections reset as soon as they were accepted.
	Reset uint64
	// Delayed counts connections given a delay, whether or not they lived
	// to the end of it.
	Delayed uint64
	// Cut counts connections closed because they reached
	// ConnFaults.CutAfter bytes; a connection picked to be cut that closes
	// earlier is not counted.
	Cut uint64
}

// Listener wraps a net.Listener and injects connection faults, as set by a
// [ConnFaults], into the connections it accepts: hand it to
// (*grpc.Server).Serve in place of the listener it wraps. Refused and reset
// connections never leave Accept; delayed and cut ones come out wrapped, and
// the others come out as the wrapped listener returned them.
//
// Closing the Listener closes the wrapped listener and ends every delay still
// being waited out (the connections stay open), so that
// (*grpc.Server).Stop does not wait for a delay to end. Closing a delayed
// connection ends its delay too: a Read or Write waiting on it returns
// net.ErrClosed. A Read or Write waiting out a delay also honours the
// connection's deadlines.
//
// A Listener is safe for concurrent use.
type Listener struct {
	inner    net.Listener
	src      source
	observer func(Event)
	faults   atomic.Pointer[ConnFaults]

	// accepted also numbers the connections: the n-th one accepted has
	// sequence number n.
	accepted, refused, reset, delayed, cuts atomic.Uint64

	done      chan struct{} // closed by Close
	closeOnce sync.Once
}

// NewListener returns a Listener that accepts from l and injects f. Of the
// options, only [WithSeed] and [WithObserver] apply; the observer is called
// on the goroutine of Accept for refused, reset and delayed connections, and
// on the goroutine of the Read or Write that reached the limit for cut ones.
// NewListener fails if l is nil or f is not valid (see
// [ConnFaults.Validate]).
func NewListener(l net.Listener, f ConnFaults, opts ...Option) (*Listener, error) {
	if l == nil {
		return nil, errors.New("faultinject: NewListener: nil net.Listener")
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	o := newOptions(opts)
	fl := &Listener{
		inner:    l,
		src:      newSource(o.seed, o.seeded),
		observer: o.observer,
		done:     make(chan struct{}),
	}
	fl.faults.Store(&f)
	return fl, nil
}

// SetFaults replaces the faults for connections accepted from now on;
// connections already accepted keep theirs. If f is not valid, SetFaults
// returns the error from [ConnFaults.Validate] and keeps the faults it had.
func (l *Listener) SetFaults(f ConnFaults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	l.faults.Store(&f)
	return nil
}

// Faults returns the faults the Listener injects into the connections it
// accepts next.
func (l *Listener) Faults() ConnFaults { return *l.faults.Load() }

// Stats returns the counters; it is safe to call while the Listener serves.
// Each counter is read atomically, and Accepted last, so that Accepted is
// never below Refused + Reset + Delayed, even while connections arrive.
func (l *Listener) Stats() ConnStats {
	// A connection is counted as accepted before anything else, so
	// reading in the opposite order keeps the sum below Accepted.
	s := ConnStats{
		Cut:     l.cuts.Load(),
		Delayed: l.delayed.Load(),
		Reset:   l.reset.Load(),
		Refused: l.refused.Load(),
	}
	s.Accepted = l.accepted.Load()
	return s
}

// Addr returns the wrapped listener's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// Close closes the wrapped listener and ends the delays of the connections
// it accepted. It returns the wrapped listener's Close error.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.inner.Close()
}

// Accept waits for the next connection that is neither refused nor reset
// and returns it, wrapped if it is to be delayed or cut. It returns the
// wrapped listener's error as is.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.inner.Accept()
		if err != nil {
			return nil, err
		}
		acceptedAt := time.Now()
		n := l.accepted.Add(1)
		f := l.faults.Load()

		// Counted and reported before the close, so that whoever sees the
		// connection fail can already see why.
		if hits(l.src.float(n, connRule, drawConnRefuse), f.Refuse) {
			l.refused.Add(1)
			l.emit(Event{Kind: KindConnRefuse, Seq: n, Rule: connRule, Detail: remoteAddr(c)})
			_ = c.Close() // nothing to tell anyone: the peer sees it
			continue
		}
		if hits(l.src.float(n, connRule, drawConnReset), f.Reset) {
			l.reset.Add(1)
			l.emit(Event{Kind: KindConnReset, Seq: n, Rule: connRule, Detail: remoteAddr(c)})
			resetConn(c)
			continue
		}

		delay := hits(l.src.float(n, connRule, drawConnDelay), f.DelayPercent)
		cut := hits(l.src.float(n, connRule, drawConnCut), f.CutPercent)
		if !delay && !cut {
			return c, nil
		}
		fc := &faultConn{Conn: c, l: l, seq: n, closed: make(chan struct{})}
		if delay {
			l.delayed.Add(1)
			l.emit(Event{Kind: KindConnDelay, Seq: n, Rule: connRule, Delay: f.Delay, Detail: remoteAddr(c)})
			fc.until = acceptedAt.Add(f.Delay)
			fc.rd, fc.wd = newConnDeadline(), newConnDeadline()
		} else {
			fc.released.Store(true)
		}
		if cut {
			fc.cutAfter = f.CutAfter
		}
		return fc, nil
	}
}

// connRule is the rule index connection faults draw and report with.
const connRule = -1

func (l *Listener) emit(e Event) {
	if l.observer != nil {
		l.observer(e)
	}
}

// remoteAddr is c's remote address for Event.Detail.
func remoteAddr(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

// resetConn closes c so that the peer gets a RST, where c allows it.
func resetConn(c net.Conn) {
	if tc, ok := c.(interface{ SetLinger(sec int) error }); ok {
		_ = tc.SetLinger(0) // at worst the peer gets a FIN instead
	}
	_ = c.Close()
}

// faultConn is a connection that is delayed, cut, or both.
type faultConn struct {
	net.Conn
	l   *Listener
	seq uint64

	// Delay: until is when the first bytes may pass; released turns true
	// once they may (it starts true for a connection without a delay). rd
	// and wd mirror the read and write deadlines so that a wait can honour
	// them; they are nil without a delay.
	until    time.Time
	released atomic.Bool
	rd, wd   *connDeadline

	// Cut: after cutAfter bytes (0: never) the connection closes; used
	// counts the bytes granted so far, never more than cutAfter.
	cutAfter int64
	used     atomic.Int64

	closed    chan struct{} // closed by Close
	closeOnce sync.Once
}

func (c *faultConn) Read(p []byte) (int, error) {
	if err := c.hold(c.rd, "read"); err != nil {
		return 0, err
	}
	if c.cutAfter == 0 || len(p) == 0 {
		return c.Conn.Read(p)
	}
	left := c.cutAfter - c.used.Load()
	if left <= 0 {
		return 0, c.opError("read", c.cutError())
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.Conn.Read(p)
	// A Write may have taken some of what was left meanwhile: the bytes
	// past the limit were read from the socket but never arrive.
	granted, last := c.take(int64(n))
	if last {
		c.cut()
	}
	if granted < int64(n) && err == nil {
		err = c.opError("read", c.cutError())
	}
	return int(granted), err
}

func (c *faultConn) Write(p []byte) (int, error) {
	if err := c.hold(c.wd, "write"); err != nil {
		return 0, err
	}
	if c.cutAfter == 0 || len(p) == 0 {
		return c.Conn.Write(p)
	}
	granted, last := c.take(int64(len(p)))
	if granted == 0 {
		return 0, c.opError("write", c.cutError())
	}
	n, err := c.Conn.Write(p[:granted])
	if last {
		c.cut()
	}
	if err == nil && n < len(p) {
		err = c.opError("write", c.cutError())
	}
	return n, err
}

// take grants up to n of the bytes left before the cut, and reports whether
// this grant used up the last of them.
func (c *faultConn) take(n int64) (granted int64, last bool) {
	for {
		used := c.used.Load()
		granted = min(n, c.cutAfter-used)
		if granted <= 0 {
			return 0, false
		}
		if c.used.CompareAndSwap(used, used+granted) {
			return granted, used+granted == c.cutAfter
		}
	}
}

// cut closes the connection after its last byte. It runs once: only one
// take can use up the last byte.
func (c *faultConn) cut() {
	c.l.cuts.Add(1)
	c.l.emit(Event{Kind: KindConnCut, Seq: c.seq, Rule: connRule, Bytes: c.cutAfter, Detail: remoteAddr(c.Conn)})
	_ = c.Close() // the Read or Write that got here reports the cut
}

func (c *faultConn) cutError() error {
	return fmt.Errorf("faultinject: connection cut after %d bytes: %w", c.cutAfter, net.ErrClosed)
}

// hold waits out the delay, if any is left: until the connection's first
// bytes may pass, the Listener closes, the connection closes (net.ErrClosed)
// or the deadline d passes (os.ErrDeadlineExceeded).
func (c *faultConn) hold(d *connDeadline, op string) error {
	if c.released.Load() {
		return nil
	}
	wait := time.Until(c.until)
	if wait <= 0 {
		c.released.Store(true)
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		c.released.Store(true)
		return nil
	case <-c.l.done:
		c.released.Store(true)
		return nil
	case <-c.closed:
		return c.opError(op, net.ErrClosed)
	case <-d.passed():
		return c.opError(op, os.ErrDeadlineExceeded)
	}
}

// opError wraps err the way a *net.TCPConn would.
func (c *faultConn) opError(op string, err error) error {
	e := &net.OpError{Op: op, Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	if e.Source != nil {
		e.Net = e.Source.Network()
	}
	return e
}

// Close closes the connection and ends its delay. Like the connection it
// wraps, it returns an error when called again.
func (c *faultConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		if c.rd != nil {
			c.rd.stop()
			c.wd.stop()
		}
	})
	return c.Conn.Close()
}

func (c *faultConn) SetDeadline(t time.Time) error {
	c.mirror(c.rd, t)
	c.mirror(c.wd, t)
	return c.Conn.SetDeadline(t)
}

func (c *faultConn) SetReadDeadline(t time.Time) error {
	c.mirror(c.rd, t)
	return c.Conn.SetReadDeadline(t)
}

func (c *faultConn) SetWriteDeadline(t time.Time) error {
	c.mirror(c.wd, t)
	return c.Conn.SetWriteDeadline(t)
}

// mirror records a deadline that a wait in hold may need to honour.
func (c *faultConn) mirror(d *connDeadline, t time.Time) {
	if d != nil && !c.released.Load() {
		d.set(t)
	}
}

// connDeadline is a settable point in time with a channel that is closed
// once it passes, like the deadlines behind net.Pipe. A waiter holding the
// channel sees a later set: a channel is only replaced once it was closed.
type connDeadline struct {
	mu    sync.Mutex
	timer *time.Timer
	ch    chan struct{}
}

func newConnDeadline() *connDeadline { return &connDeadline{ch: make(chan struct{})} }

// set moves the deadline to t; the zero t means none.
func (d *connDeadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.ch // the timer fired: wait for it to close ch
	}
	d.timer = nil

	passed := closedChan(d.ch)
	if t.IsZero() {
		if passed {
			d.ch = make(chan struct{})
		}
		return
	}
	if wait := time.Until(t); wait > 0 {
		if passed {
			d.ch = make(chan struct{})
		}
		ch := d.ch
		d.timer = time.AfterFunc(wait, func() { close(ch) })
		return
	}
	if !passed {
		close(d.ch)
	}
}

// passed returns a channel that is closed once the deadline passes.
func (d *connDeadline) passed() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

// stop cancels the timer, if any, so that nothing fires after the
// connection closed. A timer that already fired is kept, for set to wait
// on.
func (d *connDeadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && d.timer.Stop() {
		d.timer = nil
	}
}

// closedChan reports whether ch is closed.
func closedChan(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
