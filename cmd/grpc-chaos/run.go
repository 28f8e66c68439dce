package main

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/report"
	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/retry"
)

// rowHeader and callHeader are the request headers that tell the embedded
// server which row and call an attempt belongs to, so that it can count the
// attempts of each row exactly and tell when a call's handler ran more than
// once.
const (
	rowHeader  = "x-grpc-chaos-row"
	callHeader = "x-grpc-chaos-call"
)

// runner runs rows of calls against one target.
type runner struct {
	target      string
	dial        func() []grpc.DialOption // added to every row's connection
	world       *world
	calls       int           // per row; 0 when timed
	duration    time.Duration // per row, when timed
	concurrency int
	timeout     time.Duration
	// serverAttempts, when not nil, returns the attempts the server saw
	// for a row; handlerRuns how often the server ran a call's handler by
	// the time the call ended, and forgets the call.
	serverAttempts func(row int) int
	handlerRuns    func(row int, call uint64) int
	endRow         func(row int)
	// seed makes the latency samples of long rows repeatable.
	seed uint64
	// progress, when not nil, is told of every finished call.
	progress func()
	// seq numbers the calls of the whole run.
	seq atomic.Uint64
}

// callResult is what one call did.
type callResult struct {
	id       uint64 // the call's number in the run
	latency  time.Duration
	code     codes.Code // the call's final code
	wrong    bool       // ended OK with the wrong data
	attempts int
	// attemptCodes holds one code per attempt, in attempt order.
	attemptCodes []codes.Code
	stop         string // why the policy stopped, for failed calls; "" if unknown
}

// callRecord gathers the observer's events of one call. Hedged calls report
// events from several goroutines, hence the lock.
type callRecord struct {
	mu    sync.Mutex
	max   int
	codes map[int]codes.Code
}

type recordKey struct{}

// observe is the retry.Observer of every row: it files the event with the
// call's record, found in the call's context.
func observe(ctx context.Context, e retry.Event) {
	r, ok := ctx.Value(recordKey{}).(*callRecord)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.max = max(r.max, e.Attempt)
	switch e.Kind {
	case retry.AttemptDone:
		r.codes[e.Attempt] = e.Code
	case retry.HedgeCancelled:
		// CANCELLED for a loser, or the call's own end (its deadline)
		// when no attempt won.
		if _, ok := r.codes[e.Attempt]; !ok {
			r.codes[e.Attempt] = e.Code
		}
	}
}

// result turns the record into a callResult for a call that ended with err.
func (r *callRecord) result(err error, latency time.Duration) callResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := callResult{latency: latency, code: status.Code(err), attempts: max(r.max, 1)}
	if errors.Is(err, errWrongData) {
		res.code, res.wrong = codes.OK, true
	}
	if n, reason, ok := retry.Info(err); ok {
		res.attempts = max(res.attempts, n)
		if reason != retry.Succeeded {
			res.stop = reason.String()
		}
	}
	res.attemptCodes = make([]codes.Code, res.attempts)
	for i := range res.attemptCodes {
		c, ok := r.codes[i+1]
		if !ok {
			// An attempt the observer saw start but not end: the one the
			// call committed to, or the only attempt of an unobserved call.
			c = res.code
		}
		res.attemptCodes[i] = c
	}
	return res
}

// runRow runs one kind under one policy and returns its row. Row numbers
// name the row to the embedded server's counter.
func (r *runner) runRow(ctx context.Context, rowNum int, k kind, p policy) (report.Row, error) {
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, r.dial()...)
	opts = append(opts, p.dialOptions(observe)...)
	conn, err := grpc.NewClient(r.target, opts...)
	if err != nil {
		return report.Row{}, err
	}
	defer conn.Close()
	client := pb.NewRouteGuideClient(conn)
	rowCtx := metadata.AppendToOutgoingContext(ctx, rowHeader, strconv.Itoa(rowNum))

	start := time.Now()
	var deadline time.Time
	if r.calls == 0 {
		deadline = start.Add(r.duration)
	}
	var issued atomic.Int64
	stats := newRowStats(k, p.info.Name, r.seed+uint64(rowNum))
	var wg sync.WaitGroup
	workers := r.concurrency
	if r.calls > 0 {
		workers = min(workers, r.calls)
	}
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				if r.calls > 0 && issued.Add(1) > int64(r.calls) {
					return
				}
				if r.calls == 0 && !time.Now().Before(deadline) {
					return
				}
				res := r.oneCall(rowCtx, client, k)
				runs := -1
				if r.handlerRuns != nil {
					runs = r.handlerRuns(rowNum, res.id)
				}
				stats.add(res, runs)
				if r.progress != nil {
					r.progress()
				}
			}
		})
	}
	wg.Wait()
	if r.endRow != nil {
		r.endRow(rowNum)
	}
	if err := ctx.Err(); err != nil {
		return report.Row{}, err
	}
	row := stats.result()
	row.ElapsedMs = ms(time.Since(start))
	if r.serverAttempts != nil {
		// Read once the row's calls ended: an attempt the server takes
		// up after that (a cancelled hedge still on the wire) is not
		// counted.
		n := r.serverAttempts(rowNum)
		per := 0.0
		if row.Calls > 0 {
			per = float64(n) / float64(row.Calls)
		}
		row.ServerAttempts, row.ServerAttemptsPerCall = &n, &per
	}
	return row, nil
}

// oneCall makes one call with its own deadline and record.
func (r *runner) oneCall(ctx context.Context, client pb.RouteGuideClient, k kind) callResult {
	n := r.seq.Add(1)
	rec := &callRecord{codes: map[int]codes.Code{}}
	ctx = metadata.AppendToOutgoingContext(ctx, callHeader, strconv.FormatUint(n, 10))
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, recordKey{}, rec), r.timeout)
	defer cancel()
	start := time.Now()
	err := k.call(ctx, client, r.world, n)
	res := rec.result(err, time.Since(start))
	res.id = n
	return res
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
