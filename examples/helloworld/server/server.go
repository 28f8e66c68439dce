package server

import (
	"context"
	"errors"
	"io"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/helloworld/helloworldpb"
)

// greetings are the words SayHelloStreamReply greets with, in order.
var greetings = [...]string{"Hello", "Bonjour", "Hola"}

// Greetings returns the words SayHelloStreamReply greets with, in the order
// it sends them: "Hello", "Bonjour", "Hola".
// Each call returns a fresh slice.
func Greetings() []string { return slices.Clone(greetings[:]) }

// Server implements helloworldpb.GreeterServer. The zero value is ready to
// use; New returns one too.
type Server struct {
	pb.UnimplementedGreeterServer
}

// New returns a Server.
func New() *Server { return &Server{} }

// Register registers s on r as the helloworld.Greeter service.
func (s *Server) Register(r grpc.ServiceRegistrar) { pb.RegisterGreeterServer(r, s) }

// SayHello answers "Hello NAME".
func (s *Server) SayHello(_ context.Context, req *pb.HelloRequest) (*pb.HelloReply, error) {
	if err := checkName(req); err != nil {
		return nil, err
	}
	return &pb.HelloReply{Message: greet(greetings[0], req.GetName())}, nil
}

// SayHelloStreamReply sends one greeting per word of Greetings.
func (s *Server) SayHelloStreamReply(req *pb.HelloRequest, stream grpc.ServerStreamingServer[pb.HelloReply]) error {
	if err := checkName(req); err != nil {
		return err
	}
	for _, g := range greetings {
		if err := stream.Send(&pb.HelloReply{Message: greet(g, req.GetName())}); err != nil {
			return err
		}
	}
	return nil
}

// SayHelloBidiStream answers each request with "Hello NAME" until the client
// closes its side.
func (s *Server) SayHelloBidiStream(stream grpc.BidiStreamingServer[pb.HelloRequest, pb.HelloReply]) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := checkName(req); err != nil {
			return err
		}
		if err := stream.Send(&pb.HelloReply{Message: greet(greetings[0], req.GetName())}); err != nil {
			return err
		}
	}
}

// checkName returns INVALID_ARGUMENT when req names no one.
func checkName(req *pb.HelloRequest) error {
	if req.GetName() == "" {
		return status.Error(codes.InvalidArgument, "name is empty: say who to greet")
	}
	return nil
}

func greet(word, name string) string { return word + " " + name }
