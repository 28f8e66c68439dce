package admin

import (
	"context"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/faultinject/adminpb"
	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// Option configures [NewServer] and [Register]. When the same option is given
// twice, the last one wins.
type Option func(*options)

type options struct {
	listener *faultinject.Listener
	auth     authOptions
}

// WithListener attaches the fault listener that the server accepts
// connections through: GetStats then reports its counters, GetRules its
// connection faults, and SetRules may replace them. A nil l means no
// listener.
//
// Default: none; connection faults are FAILED_PRECONDITION to set and absent
// from the answers.
func WithListener(l *faultinject.Listener) Option {
	return func(o *options) { o.listener = l }
}

// server implements adminpb.FaultAdminServer over an injector and an
// optional listener.
type server struct {
	adminpb.UnimplementedFaultAdminServer
	auth *authenticator
	in   *faultinject.Injector
	lis  *faultinject.Listener // nil without WithListener

	// mu makes each SetRules one change, and each GetRules one reading,
	// across the injector and the listener.
	mu sync.Mutex
}

// NewServer returns the FaultAdmin service for in, to register on a
// grpc.Server by hand (adminpb.RegisterFaultAdminServer) or to call in
// process. Every method first checks the caller's credentials, as the
// authentication options say (see the package documentation): with none of
// them, every call is refused with UNAUTHENTICATED. With a nil in, every
// method of an authenticated caller returns FAILED_PRECONDITION.
//
// It returns an error, naming the option, when an option's value is
// invalid ([WithBearerToken], [WithClientCertificate]) or when
// [WithoutAuthentication] is given with another authentication option.
func NewServer(in *faultinject.Injector, opts ...Option) (adminpb.FaultAdminServer, error) {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	auth, err := newAuthenticator(o.auth)
	if err != nil {
		return nil, err
	}
	return &server{auth: auth, in: in, lis: o.listener}, nil
}

// Register registers the FaultAdmin service for in on s, as [NewServer]
// builds it; on an error it registers nothing. Only servers under test, or
// a separate port, should have it: see the package documentation.
func Register(s grpc.ServiceRegistrar, in *faultinject.Injector, opts ...Option) error {
	srv, err := NewServer(in, opts...)
	if err != nil {
		return err
	}
	adminpb.RegisterFaultAdminServer(s, srv)
	return nil
}

// Exempt returns an interceptor that passes calls to the FaultAdmin service
// straight to their handler and every other call to next. Wrap an injector's
// unary interceptor with it so that rules matching every method cannot fail
// the calls meant to change them, nor count them in the injector's Stats.
// A nil next passes every call straight to its handler. Exempt does not
// bypass authentication: the service checks its callers itself.
func Exempt(next grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	prefix := "/" + adminpb.FaultAdmin_ServiceDesc.ServiceName + "/"
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if next == nil || strings.HasPrefix(info.FullMethod, prefix) {
			return handler(ctx, req)
		}
		return next(ctx, req, info, handler)
	}
}

// errNoInjector is the answer of a server made for a nil injector.
var errNoInjector = status.Error(codes.FailedPrecondition, "admin: the server has no fault injector")

// GetStats returns the injector's counters and the listener's.
func (s *server) GetStats(ctx context.Context, _ *adminpb.GetStatsRequest) (*adminpb.GetStatsResponse, error) {
	if err := s.auth.check(ctx); err != nil {
		return nil, err
	}
	if s.in == nil {
		return nil, errNoInjector
	}
	st := s.in.Stats()
	resp := &adminpb.GetStatsResponse{
		Calls:          st.Calls,
		Aborts:         st.Aborts,
		AbortsByCode:   make(map[string]uint64, len(st.AbortsByCode)),
		StreamAborts:   st.StreamAborts,
		Delays:         st.Delays,
		Skipped:        st.Skipped,
		HeaderRejected: st.HeaderRejected,
		Active:         st.Active,
	}
	for c, n := range st.AbortsByCode {
		resp.AbortsByCode[rstatus.Name(c)] = n
	}
	if s.lis != nil {
		cs := s.lis.Stats()
		resp.Conn = &adminpb.ConnStats{
			Accepted: cs.Accepted,
			Refused:  cs.Refused,
			Resets:   cs.Reset,
			Delayed:  cs.Delayed,
			Cut:      cs.Cut,
		}
	}
	return resp, nil
}

// GetRules returns the rules in force.
func (s *server) GetRules(ctx context.Context, _ *adminpb.GetRulesRequest) (*adminpb.Rules, error) {
	if err := s.auth.check(ctx); err != nil {
		return nil, err
	}
	if s.in == nil {
		return nil, errNoInjector
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current()
}

// SetRules replaces the rules, the connection faults or both, all or
// nothing, and returns what is then in force.
func (s *server) SetRules(ctx context.Context, req *adminpb.SetRulesRequest) (*adminpb.Rules, error) {
	if err := s.auth.check(ctx); err != nil {
		return nil, err
	}
	if s.in == nil {
		return nil, errNoInjector
	}
	// Parse everything before changing anything.
	var (
		rules    []faultinject.Rule
		setRules = true
		err      error
	)
	switch r := req.GetRules().(type) {
	case *adminpb.SetRulesRequest_Spec:
		rules, err = faultinject.ParseSpec(r.Spec)
	case *adminpb.SetRulesRequest_Json:
		rules, err = faultinject.ParseRules([]byte(r.Json))
	default:
		if req.ConnSpec == nil {
			return nil, status.Error(codes.InvalidArgument,
				"admin: SetRulesRequest: rules (spec or json) and conn_spec are both unset; set at least one")
		}
		setRules = false
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	var conn faultinject.ConnFaults
	if req.ConnSpec != nil {
		if s.lis == nil {
			return nil, status.Errorf(codes.FailedPrecondition,
				"admin: SetRulesRequest.conn_spec %q: the server has no fault listener", req.GetConnSpec())
		}
		if conn, err = faultinject.ParseConnSpec(req.GetConnSpec()); err == nil {
			err = conn.Validate()
		}
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if req.ConnSpec != nil {
		prev := s.lis.Faults()
		if err := s.lis.SetFaults(conn); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		if setRules {
			if err := s.in.SetRules(rules); err != nil {
				// Parsed rules are valid, so this is not expected; undo
				// the listener's change all the same.
				_ = s.lis.SetFaults(prev)
				return nil, status.Error(codes.InvalidArgument, err.Error())
			}
		}
	} else if err := s.in.SetRules(rules); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return s.current()
}

// current describes the rules in force; s.mu must be held.
func (s *server) current() (*adminpb.Rules, error) {
	rules := s.in.Rules()
	js, err := faultinject.MarshalRules(rules)
	if err != nil {
		// The injector holds only validated rules.
		return nil, status.Errorf(codes.Internal, "admin: rules in force: %v", err)
	}
	out := &adminpb.Rules{Json: string(js)}
	if spec, err := faultinject.FormatSpec(rules); err != nil {
		out.SpecError = err.Error()
	} else {
		out.Spec = spec
	}
	if s.lis != nil {
		cs := s.lis.Faults().String()
		out.ConnSpec = &cs
	}
	return out, nil
}
