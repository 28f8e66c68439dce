package interceptors_test

import (
	"fmt"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
)

// The replay buffer keeps the caller's message pointers, not their bytes.
// A caller that reuses one request value between Sends (a common pattern)
// gets the last content replayed N times on a retry. grpc-go's own retry
// buffers the encoded payload and replays what was actually sent.
func TestReplayAliasesCallerMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		dial func(*testing.T) []grpc.DialOption
	}{
		{"grpc-go", func(t *testing.T) []grpc.DialOption {
			return []grpc.DialOption{mustParse(t, `{"methodConfig": [{"name": [{"service": "routeguide.RouteGuide"}],
				"retryPolicy": {"maxAttempts": 2, "initialBackoff": "0.001s", "maxBackoff": "0.001s",
				"backoffMultiplier": 1, "retryableStatusCodes": ["UNAVAILABLE"]}}]}`).DialOption()}
		}},
		{"interceptors", func(*testing.T) []grpc.DialOption {
			return interceptors.DialOptions(interceptors.WithRetryTimes(1))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(codes.Unavailable) // RouteChat reads all, fails once, then echoes
			srv := startScript(t, s)
			conn := srv.Dial(t, tc.dial(t)...)
			stream, err := pbClient(conn).RouteChat(testContext(t))
			if err != nil {
				t.Fatalf("RouteChat = %v", err)
			}
			note := &pb.RouteNote{}
			for i := 0; i < notesPerChat; i++ {
				note.Message = fmt.Sprint("n", i)
				if err := stream.Send(note); err != nil {
					t.Fatalf("Send = %v", err)
				}
			}
			if err := stream.CloseSend(); err != nil {
				t.Fatalf("CloseSend = %v", err)
			}
			notes, err := recvAll(stream.Recv)
			if err != nil {
				t.Fatalf("Recv = %v", err)
			}
			got := noteMessages(notes)
			if fmt.Sprint(got) != "[n0 n1 n2 n3 n4]" || s.Attempts() != 2 {
				t.Errorf("echoed %v after %d attempts, want [n0 n1 n2 n3 n4] after 2", got, s.Attempts())
			}
		})
	}
}
