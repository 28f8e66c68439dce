package main

import (
	"context"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/internal/cli"
)

// fleetScheme is the resolver scheme of a --target that lists addresses.
const fleetScheme = "grpc-chaos-fleet"

// resolveTarget turns --target into a grpc target and the dial options it
// needs. A comma-separated list of host:port addresses becomes one target
// served by a manual resolver, so that grpc's load balancing spreads calls
// (and their retries and hedges) over the fleet; anything else is a grpc
// target as grpc.NewClient takes it, such as "localhost:50051" or
// "dns:///svc.example:50051". The returned function gives the options for
// one connection: each needs a resolver of its own.
func resolveTarget(target string) (string, func() []grpc.DialOption, error) {
	if !strings.Contains(target, ",") {
		return target, func() []grpc.DialOption { return nil }, nil
	}
	var addrs []resolver.Address
	for i, a := range strings.Split(target, ",") {
		a = strings.TrimSpace(a)
		if a == "" || strings.Contains(a, "://") || !strings.Contains(a, ":") {
			return "", nil, usagef("--target address %d %q: want host:port", i+1, a)
		}
		addrs = append(addrs, resolver.Address{Addr: a})
	}
	return fleetScheme + ":///fleet", func() []grpc.DialOption {
		r := manual.NewBuilderWithScheme(fleetScheme)
		r.InitialState(resolver.State{Addresses: addrs})
		return []grpc.DialOption{grpc.WithResolvers(r)}
	}, nil
}

// probe checks that target has at least one backend that accepts
// connections within wait and serves the route guide, so that a wrong
// --target fails at once with one line instead of thousands of failed
// calls.
func probe(ctx context.Context, target string, dial []grpc.DialOption, wait time.Duration) error {
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, dial...)
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return usagef("--target %q: %v", target, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	conn.Connect()
	for {
		s := conn.GetState()
		if s == connectivity.Ready {
			return serves(ctx, conn, target)
		}
		if !conn.WaitForStateChange(ctx, s) {
			break
		}
	}
	// Not ready in time: one fail-fast call says why, in grpc's words
	// ("connection refused", "name resolver error", ...).
	callCtx, cancelCall := context.WithTimeout(context.Background(), time.Second)
	defer cancelCall()
	_, err = pb.NewRouteGuideClient(conn).GetFeature(callCtx, &pb.Point{})
	reason := "no backend became ready"
	if err != nil {
		reason = cli.OneLine(err.Error())
	}
	return usagef("--target %q is unreachable after %v: %s", target, wait, reason)
}

// serves makes one call to tell a route guide server from another service.
// Only UNIMPLEMENTED counts: the server may fail the call on purpose.
func serves(ctx context.Context, conn *grpc.ClientConn, target string) error {
	_, err := pb.NewRouteGuideClient(conn).GetFeature(ctx, &pb.Point{})
	if status.Code(err) == codes.Unimplemented {
		return usagef("--target %q does not serve routeguide.RouteGuide: %s", target, cli.OneLine(err.Error()))
	}
	return nil
}
