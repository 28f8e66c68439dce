package interceptors_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/retry"
)

// refusingServer is an HTTP/2 server on 127.0.0.1 that processes nothing:
// it answers every request stream with GOAWAY naming stream 0, or with
// RST_STREAM REFUSED_STREAM, both of which tell the client the server never
// saw the request. With closeAfterFirst it stops listening after its first
// connection, as a server going away does, so that reconnects fail.
func refusingServer(t *testing.T, goaway, closeAfterFirst bool) (addr string, requests *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	requests = new(atomic.Int32)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if closeAfterFirst {
				ln.Close()
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if _, err := io.ReadFull(c, make([]byte, len(http2.ClientPreface))); err != nil {
					return
				}
				fr := http2.NewFramer(c, c)
				if fr.WriteSettings() != nil {
					return
				}
				for {
					f, err := fr.ReadFrame()
					if err != nil {
						return // the client closed the connection
					}
					switch f := f.(type) {
					case *http2.SettingsFrame:
						if !f.IsAck() {
							fr.WriteSettingsAck()
						}
					case *http2.HeadersFrame:
						requests.Add(1)
						if goaway {
							fr.WriteGoAway(0, http2.ErrCodeNo, nil)
						} else {
							fr.WriteRSTStream(f.StreamID, http2.ErrCodeRefusedStream)
						}
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), requests
}

// TestNeverProcessed: a request the server refused unprocessed (GOAWAY
// below its stream, or REFUSED_STREAM), which grpc-go retried once by
// itself, is not "unanswered": the library retries it as its UNAVAILABLE
// says, even for a method not known to be idempotent. The same holds when
// grpc-go's own retry found no connection. The test also pins grpc-go's
// messages that neverProcessed recognises.
func TestNeverProcessed(t *testing.T) {
	for _, tc := range []struct {
		name            string
		goaway, closing bool
	}{
		{"goaway", true, false},
		{"refused stream", false, false},
		{"goaway, then no server", true, true},
	} {
		for _, kind := range []string{"unary", "bidi"} {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				addr, requests := refusingServer(t, tc.goaway, tc.closing)
				conn, err := grpc.NewClient("passthrough:///"+addr, append(interceptors.DialOptions(interceptors.WithRetryTimes(2)),
					grpc.WithTransportCredentials(insecure.NewCredentials()))...)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				ctx := testContext(t)
				client := pb.NewRouteGuideClient(conn)
				if kind == "unary" {
					// A method with no idempotency level: a lost request
					// would stop as unanswered.
					err = conn.Invoke(ctx, "/routeguide.RouteGuide/NotIdempotent", &pb.Point{}, &pb.Feature{})
				} else {
					var st grpc.BidiStreamingClient[pb.RouteNote, pb.RouteNote]
					if st, err = client.RouteChat(ctx); err == nil {
						st.CloseSend()
						_, err = st.Recv()
					}
				}
				n, reason, _ := retry.Info(err)
				t.Logf("%v (attempts %d, reason %v); %d request streams reached the server", err, n, reason, requests.Load())
				if status.Code(err) != codes.Unavailable || errors.Is(err, retry.ErrUnanswered) {
					t.Errorf("error %v (reason %v), want UNAVAILABLE, not unanswered", err, reason)
				}
				if !tc.closing && n != 3 {
					t.Errorf("%d attempts, want 3: every attempt was refused unprocessed, so every one is retried", n)
				}
			})
		}
	}
}
