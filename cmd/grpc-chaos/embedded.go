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
}

// startEmbedded serves the route guide with rules injected, seeded by seed.
// The attempt counter sits before the fault injector, so it sees every
// attempt, failed on purpose or not.
func startEmbedded(rules []faultinject.Rule, seed uint64) (*embedded, error) {
	in, err := faultinject.New(rules, faultinject.WithSeed(seed))
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &embedded{addr: lis.Addr().String(), in: in, served: make(chan struct{}), rows: map[int]int{}}
	e.gs = grpc.NewServer(
		grpc.ChainUnaryInterceptor(e.countUnary, in.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(e.countStream, in.StreamServerInterceptor()),
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

// count files one attempt under the row its header names.
func (e *embedded) count(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	v := md.Get(rowHeader)
	if len(v) != 1 {
		return
	}
	row, err := strconv.Atoi(v[0])
	if err != nil {
		return
	}
	e.mu.Lock()
	e.rows[row]++
	e.mu.Unlock()
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
