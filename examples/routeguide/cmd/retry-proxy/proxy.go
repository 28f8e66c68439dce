package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/resilience-go/grpc-resilience/internal/cli"
	"github.com/resilience-go/grpc-resilience/retry"
)

// hopHeaders are the metadata keys that belong to one hop and are never
// forwarded, in either direction: the transport's own headers (grpc-go
// writes its own content-type, user-agent, te, grpc-timeout and encodings;
// the deadline travels in the context), HTTP/1 connection headers, and
// grpc-previous-rpc-attempts, which the proxy's own retries set. Pseudo
// headers (":authority" and the like) are dropped too.
var hopHeaders = map[string]bool{
	"content-type":               true,
	"user-agent":                 true,
	"te":                         true,
	"grpc-timeout":               true,
	"grpc-encoding":              true,
	"grpc-accept-encoding":       true,
	"grpc-message-type":          true,
	"grpc-status":                true,
	"grpc-message":               true,
	"grpc-status-details-bin":    true,
	"grpc-previous-rpc-attempts": true,
	"host":                       true,
	"connection":                 true,
	"keep-alive":                 true,
	"proxy-connection":           true,
	"transfer-encoding":          true,
	"upgrade":                    true,
}

// forwardable returns a copy of md without its hop headers; nil md gives
// an empty, non-nil MD.
func forwardable(md metadata.MD) metadata.MD {
	out := metadata.MD{}
	for k, vs := range md {
		if strings.HasPrefix(k, ":") || hopHeaders[k] {
			continue
		}
		out[k] = slices.Clone(vs)
	}
	return out
}

// proxy forwards every call it gets to conn, as opaque frames.
type proxy struct {
	conn  *grpc.ClientConn
	stats *counters
}

// handle is the server's grpc.UnknownServiceHandler: it serves every
// method by forwarding it upstream.
func (p *proxy) handle(_ any, ss grpc.ServerStream) error {
	method, ok := grpc.MethodFromServerStream(ss)
	if !ok {
		return status.Error(codes.Internal, name+": no method name in the stream")
	}
	md, _ := metadata.FromIncomingContext(ss.Context())
	ctx := metadata.NewOutgoingContext(ss.Context(), forwardable(md))
	var err error
	if desc := streamDesc(method); desc == nil {
		err = p.unary(ctx, ss, method)
	} else {
		err = p.stream(ctx, ss, method, desc)
	}
	p.stats.call(status.Code(err))
	return err
}

// streamDesc returns the stream shape of method from its descriptor in the
// global protobuf registry, nil for a unary method. A method whose
// descriptor is not registered is forwarded as a bidi stream, which carries
// every kind of call.
func streamDesc(method string) *grpc.StreamDesc {
	service, m, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	bidi := &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return bidi
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return bidi
	}
	md := sd.Methods().ByName(protoreflect.Name(m))
	switch {
	case md == nil:
		return bidi
	case !md.IsStreamingClient() && !md.IsStreamingServer():
		return nil
	}
	return &grpc.StreamDesc{ServerStreams: md.IsStreamingServer(), ClientStreams: md.IsStreamingClient()}
}

// unary forwards a unary call through the unary interceptor, which can
// retry or hedge it as a whole.
func (p *proxy) unary(ctx context.Context, ss grpc.ServerStream, method string) error {
	req := new(wrapperspb.BytesValue)
	if err := ss.RecvMsg(req); err != nil {
		if errors.Is(err, io.EOF) {
			return status.Errorf(codes.Internal, "%s: %s: the client sent no request message", name, method)
		}
		return err
	}
	var header, trailer metadata.MD
	reply := new(wrapperspb.BytesValue)
	err := p.conn.Invoke(ctx, method, req, reply, grpc.Header(&header), grpc.Trailer(&trailer))
	if header != nil {
		// Response headers, even with nothing to forward in them, tell the
		// client that the call committed upstream, so that it does not
		// retry it either.
		if serr := ss.SendHeader(forwardable(header)); serr != nil {
			return serr
		}
	}
	ss.SetTrailer(forwardable(trailer))
	if err != nil {
		return upstreamStatus(err)
	}
	return ss.SendMsg(reply)
}

// stream forwards a streaming call: requests from the client to upstream on
// one goroutine, the response header, messages, trailer and status back on
// this one.
func (p *proxy) stream(ctx context.Context, ss grpc.ServerStream, method string, desc *grpc.StreamDesc) error {
	// Cancelling ctx ends the upstream call if the client side stops first.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cs, err := p.conn.NewStream(ctx, desc, method)
	if err != nil {
		return upstreamStatus(err)
	}
	// forwardRequests is not waited for: the upstream call may end (well
	// or badly) while the client still sends, and then forwardRequests
	// stays blocked reading the client until this handler returns; grpc
	// then ends the client's stream, its read fails, and it returns.
	go forwardRequests(ss, cs, cancel)

	// The interceptors retry until the header arrives; cs.Context is never
	// called, as asking for it would commit the call.
	if header, _ := cs.Header(); header != nil {
		if err := ss.SendHeader(forwardable(header)); err != nil {
			return err
		}
	}
	for {
		m := new(wrapperspb.BytesValue)
		if err = cs.RecvMsg(m); err != nil {
			break
		}
		if err := ss.SendMsg(m); err != nil {
			return err
		}
	}
	ss.SetTrailer(forwardable(cs.Trailer()))
	if errors.Is(err, io.EOF) {
		return nil
	}
	return upstreamStatus(err)
}

// forwardRequests copies the client's messages and half-close to cs, until
// either side ends. A client that fails (cancels or resets the call)
// cancels the upstream call.
func forwardRequests(ss grpc.ServerStream, cs grpc.ClientStream, cancel context.CancelFunc) {
	for {
		m := new(wrapperspb.BytesValue)
		err := ss.RecvMsg(m)
		if errors.Is(err, io.EOF) {
			_ = cs.CloseSend() // the status comes from cs.RecvMsg
			return
		}
		if err != nil {
			cancel()
			return
		}
		if cs.SendMsg(m) != nil {
			// The upstream call ended; cs.RecvMsg returns its status.
			return
		}
	}
}

// upstreamStatus returns the status of an upstream call's error as a plain
// status error: code, message and details, without the interceptors'
// wrapping.
func upstreamStatus(err error) error {
	return status.Convert(err).Err()
}

// counters counts the calls forwarded and the attempts the interceptors
// made for them. It is safe for concurrent use.
type counters struct {
	calls    atomic.Int64
	retries  atomic.Int64
	hedges   atomic.Int64
	mu       sync.Mutex
	byCode   map[codes.Code]int64
	failures int64
}

// call counts a forwarded call that ended with code.
func (c *counters) call(code codes.Code) {
	c.calls.Add(1)
	if code == codes.OK {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byCode == nil {
		c.byCode = map[codes.Code]int64{}
	}
	c.byCode[code]++
	c.failures++
}

// observe is the interceptors' observer: it counts retries and hedges.
func (c *counters) observe(_ context.Context, e retry.Event) {
	switch {
	case e.Kind == retry.HedgeStarted:
		c.hedges.Add(1)
	case e.Kind == retry.AttemptDone && e.Retry:
		c.retries.Add(1)
	}
}

// String renders the counters as the key=value fields of the stats line;
// failures by code follow their total, by code number.
func (c *counters) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls.Load()
	var b strings.Builder
	fmt.Fprintf(&b, "calls=%d ok=%d failed=%d", calls, calls-c.failures, c.failures)
	b.WriteString(cli.CodeCounts(c.byCode))
	fmt.Fprintf(&b, " retries=%d hedges=%d", c.retries.Load(), c.hedges.Load())
	return b.String()
}
