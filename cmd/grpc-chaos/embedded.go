package main

import (
	"context"
	"net"
	"strconv"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
	"github.com/resilience-go/grpc-resilience/faultinject"
)

// embedded is the fault-injecting route guide server a run starts when no
// --target is given: real TCP on 127.0.0.1, a free port.
type embedded struct {
	addr   string
	in     *faultinject.Injector
	gs     *grpc.Server
	served chan struct{}

	mu   sync.Mutex
	rows map[int]int // attempts seen per row, by the row header
	// runs counts, per row and call, the attempts that got past the
	// faults to the handler, until the call ended; closed holds the rows
	// that ended, whose late attempts are not counted, so that runs holds
	// only the calls in flight.
	runs   map[int]map[uint64]int
	closed map[int]bool
}

// startEmbedded serves the route guide with rules injected, seeded by seed.
// The attempt counter sits before the fault injector, so it sees every
// attempt, failed on purpose or not; the handler-run counter sits after it,
// so it sees the attempts that reached the handler.
func startEmbedded(rules []faultinject.Rule, seed uint64) (*embedded, error) {
	in, err := faultinject.New(rules, faultinject.WithSeed(seed))
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &embedded{addr: lis.Addr().String(), in: in, served: make(chan struct{}), rows: map[int]int{}, runs: map[int]map[uint64]int{}, closed: map[int]bool{}}
	e.gs = grpc.NewServer(
		grpc.ChainUnaryInterceptor(e.countUnary, in.UnaryServerInterceptor(), e.runUnary),
		grpc.ChainStreamInterceptor(e.countStream, in.StreamServerInterceptor(), e.runStream),
	)
	server.New().Register(e.gs)
	go func() {
		defer close(e.served)
		// Serve returns nil once stopped; a listener failure shows up as
		// failed calls instead.
		_ = e.gs.Serve(lis)
	}()
	return e, nil
}

// ids reads the row and call numbers from an attempt's headers.
func ids(ctx context.Context) (row int, call uint64, ok bool) {
	md, _ := metadata.FromIncomingContext(ctx)
	r, c := md.Get(rowHeader), md.Get(callHeader)
	if len(r) != 1 || len(c) != 1 {
		return 0, 0, false
	}
	row, err := strconv.Atoi(r[0])
	if err != nil {
		return 0, 0, false
	}
	call, err = strconv.ParseUint(c[0], 10, 64)
	return row, call, err == nil
}

// count files one attempt under the row its header names.
func (e *embedded) count(ctx context.Context) {
	if row, _, ok := ids(ctx); ok {
		e.mu.Lock()
		e.rows[row]++
		e.mu.Unlock()
	}
}

// ran files one run of a handler under its row and call.
func (e *embedded) ran(ctx context.Context) {
	row, call, ok := ids(ctx)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed[row] {
		return
	}
	if e.runs[row] == nil {
		e.runs[row] = map[uint64]int{}
	}
	e.runs[row][call]++
}

func (e *embedded) runUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	e.ran(ctx)
	return h(ctx, req)
}

func (e *embedded) runStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	e.ran(ss.Context())
	return h(srv, ss)
}

// handlerRuns returns how often the handler ran for call of row by now,
// and forgets the call. A run that starts later (a cancelled hedge the
// server takes up after the call ended) stays until the row ends.
func (e *embedded) handlerRuns(row int, call uint64) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := e.runs[row][call]
	delete(e.runs[row], call)
	return n
}

// endRow forgets row's counts and ignores its late attempts.
func (e *embedded) endRow(row int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.runs, row)
	e.closed[row] = true
}

func (e *embedded) countUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	e.count(ctx)
	return h(ctx, req)
}

func (e *embedded) countStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	e.count(ss.Context())
	return h(srv, ss)
}

// attempts returns the attempts the server saw for row.
func (e *embedded) attempts(row int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rows[row]
}

// stop stops the server at once and waits for it.
func (e *embedded) stop() {
	e.gs.Stop()
	<-e.served
}
