package main

import (
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows a progress bar over all calls of a run (or, for a timed
// run, over its rows). With no terminal to draw on, it does nothing.
type progress struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar // nil: no bar
	// perCall says the bar counts calls; otherwise it counts rows.
	perCall bool
}

func newProgress(w io.Writer, rows, calls int, duration time.Duration) *progress {
	p := &progress{perCall: calls > 0}
	if w == nil {
		return p
	}
	total := rows
	if p.perCall {
		total = rows * calls
	}
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	return p
}

// row announces the row that starts.
func (p *progress) row(kind, policy string) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.Describe(kind + " " + policy)
	if !p.perCall {
		_ = p.bar.Add(1) // writes to a terminal; a failed write only loses the bar
	}
}

// call counts a finished call.
func (p *progress) call() {
	if p.bar == nil || !p.perCall {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Add(1)
}

// done ends the bar and clears it.
func (p *progress) done() {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Finish()
}
