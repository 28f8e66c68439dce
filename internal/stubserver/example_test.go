package stubserver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

// exampleTB stands in for the *testing.T that a test passes to Start: an
// Example has none. It runs the cleanups when the example ends. In a real
// test, pass t and skip all of this.
type exampleTB struct {
	testing.TB // nil: Start and Dial use only the methods below
	cleanups   []func()
}

func (e *exampleTB) Helper()                        {}
func (e *exampleTB) Cleanup(f func())               { e.cleanups = append(e.cleanups, f) }
func (e *exampleTB) Errorf(format string, a ...any) { log.Printf(format, a...) }
func (e *exampleTB) Fatalf(format string, a ...any) { log.Fatalf(format, a...) }

func (e *exampleTB) finish() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}

func Example() {
	t := &exampleTB{}
	defer t.finish()

	// GetFeature fails twice and then answers; the other three methods
	// are the real route guide's.
	var calls int
	srv := stubserver.Start(t, stubserver.Handlers{
		GetFeature: func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
			calls++ // unary calls here run one at a time
			if calls <= 2 {
				return nil, status.Errorf(codes.Unavailable, "attempt %d refused", calls)
			}
			return &pb.Feature{Name: "third time lucky", Location: p}, nil
		},
	})

	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	for range 3 {
		f, err := srv.Client().GetFeature(ctx, &pb.Point{})
		fmt.Printf("GetFeature: %q, %v\n", f.GetName(), status.Code(err))
	}

	stream, err := srv.Client().ListFeatures(ctx, &pb.Rectangle{
		Lo: &pb.Point{Latitude: 101203450, Longitude: -398765430},
		Hi: &pb.Point{Latitude: 101187620, Longitude: -398712250},
	})
	if err != nil {
		log.Fatal(err)
	}
	for {
		f, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("ListFeatures: %q\n", f.GetName())
	}
	// Output:
	// GetFeature: "", Unavailable
	// GetFeature: "", Unavailable
	// GetFeature: "third time lucky", OK
	// ListFeatures: "Harbour Lighthouse"
	// ListFeatures: "Fishmarket Steps"
}
