package soak

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// liar is a client interceptor that changes what the library hands the
// caller, the way a broken retry layer would.
type liar struct {
	// duplicate hands the caller the first message of every streamed
	// answer twice, as a replay that forgot what was delivered would.
	duplicate bool
	// drop loses the first message of every streamed answer.
	drop bool
	// strip replaces every error with a bare status of the same code and
	// message: the attempts and stop reason are lost.
	strip bool
}

func (l *liar) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return l.lie(invoker(ctx, method, req, reply, cc, opts...))
}

func (l *liar) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, l.lie(err)
	}
	return &lyingStream{ClientStream: cs, l: l, streamed: desc.ServerStreams}, nil
}

func (l *liar) lie(err error) error {
	if !l.strip || err == nil || err == io.EOF {
		return err
	}
	st := status.Convert(err)
	return status.Error(st.Code(), st.Message())
}

type lyingStream struct {
	grpc.ClientStream
	l        *liar
	streamed bool
	n        int
	again    proto.Message // a message to hand out again
}

func (s *lyingStream) RecvMsg(m any) error {
	if s.again != nil {
		proto.Reset(m.(proto.Message))
		proto.Merge(m.(proto.Message), s.again)
		s.again = nil
		return nil
	}
	if err := s.ClientStream.RecvMsg(m); err != nil {
		return s.l.lie(err)
	}
	s.n++
	switch {
	case !s.streamed || s.n > 1:
	case s.l.duplicate:
		s.again = proto.Clone(m.(proto.Message))
	case s.l.drop:
		return s.RecvMsg(m)
	}
	return nil
}

// TestChecksCatchLies proves that the soak's checks of every call are not
// vacuous: a short soak through a client interceptor that duplicates or
// loses streamed messages, or strips the library's retry information from
// errors, must fail calls, and say why.
func TestChecksCatchLies(t *testing.T) {
	tests := []struct {
		name string
		lie  liar
		want string // in the failures
	}{
		{"a streamed message duplicated", liar{duplicate: true}, "= more than the"},
		{"a streamed message lost", liar{drop: true}, ", want ["},
		{"retry information stripped", liar{strip: true}, "retry.Info found no attempts or stop reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newConfig(30*time.Second, fmt.Sprintf("lie test: ends after %d calls", lieCalls), 1)
			cfg.lie = &tt.lie
			cfg.maxCalls = lieCalls
			r := runSoak(t, cfg)
			calls, _ := r.tally.total()
			found := false
			for _, f := range r.tally.failures {
				found = found || strings.Contains(f, tt.want)
			}
			if r.tally.nFailures == 0 || !found {
				t.Errorf("soak of %d calls with %s: %d failed calls %q, want some containing %q", calls, tt.name, r.tally.nFailures, r.tally.failures, tt.want)
			}
			if r.tally.nFailures > 0 {
				t.Logf("%d of %d calls failed, first: %s", r.tally.nFailures, calls, r.tally.failures[0])
			}
		})
	}
}

// lieCalls is enough calls for every kind of lie to show: a fifth of the
// calls stream answers, and a tenth fail.
const lieCalls = 400
