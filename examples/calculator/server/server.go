package server

import (
	"context"
	"fmt"
	"math"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/calculator/calculatorpb"
)

// Server implements calculatorpb.CalculatorServer. The zero value is ready
// to use, with a running total of zero; New returns one too.
type Server struct {
	pb.UnimplementedCalculatorServer

	mu    sync.Mutex
	total int32 // the running total of Accumulate; guarded by mu
	calls int   // Accumulate calls that changed the total; guarded by mu
}

// New returns a Server whose running total is zero.
func New() *Server { return &Server{} }

// Register registers s on r as the calculator.Calculator service.
func (s *Server) Register(r grpc.ServiceRegistrar) { pb.RegisterCalculatorServer(r, s) }

// Add returns a + b, or OUT_OF_RANGE when the sum overflows int32.
func (s *Server) Add(_ context.Context, req *pb.CalcRequest) (*pb.CalcReply, error) {
	a, b := req.GetA(), req.GetB()
	r, err := fit(int64(a)+int64(b), "Add(%d, %d)", a, b)
	if err != nil {
		return nil, err
	}
	return &pb.CalcReply{Result: r}, nil
}

// Multiply returns a * b, or OUT_OF_RANGE when the product overflows int32.
func (s *Server) Multiply(_ context.Context, req *pb.CalcRequest) (*pb.CalcReply, error) {
	a, b := req.GetA(), req.GetB()
	r, err := fit(int64(a)*int64(b), "Multiply(%d, %d)", a, b)
	if err != nil {
		return nil, err
	}
	return &pb.CalcReply{Result: r}, nil
}

// Accumulate adds the request's value to the running total and returns the
// new total, or OUT_OF_RANGE, leaving the total unchanged, when it would
// overflow int32.
func (s *Server) Accumulate(_ context.Context, req *pb.AccumulateRequest) (*pb.CalcReply, error) {
	v := req.GetValue()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := fit(int64(s.total)+int64(v), "Accumulate(%d) to total %d", v, s.total)
	if err != nil {
		return nil, err
	}
	s.total = r
	s.calls++
	return &pb.CalcReply{Result: r}, nil
}

// Total returns the running total.
func (s *Server) Total() int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Accumulated returns how many Accumulate calls changed the total: those
// that succeeded.
func (s *Server) Accumulated() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// fit returns r as an int32, or an OUT_OF_RANGE error whose message starts
// with the operation, formatted from format and args, when r does not fit.
func fit(r int64, format string, args ...any) (int32, error) {
	if r < math.MinInt32 || r > math.MaxInt32 {
		op := fmt.Sprintf(format, args...)
		return 0, status.Errorf(codes.OutOfRange, "%s = %d overflows int32", op, r)
	}
	return int32(r), nil
}
