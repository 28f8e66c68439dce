package retry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/resilience-go/grpc-resilience/retry"
)

// A call under a policy of four attempts, against a server that fails twice
// with UNAVAILABLE (the second time with a pushback of 300 ms), then succeeds.
func ExampleCall_Decide() {
	p := &retry.Policy{
		MaxAttempts: 4,
		Backoff:     retry.Fixed(100*time.Millisecond, 0),
		Codes:       []codes.Code{codes.Unavailable},
	}
	answers := []struct {
		err     error
		trailer metadata.MD
	}{
		{status.Error(codes.Unavailable, "down"), nil},
		{status.Error(codes.Unavailable, "busy"), metadata.Pairs(retry.PushbackKey, "300")},
		{nil, nil},
	}
	call := retry.NewCall(p)
	for {
		n := call.BeginAttempt()
		a := answers[n-1]
		if a.err == nil {
			fmt.Printf("attempt %d: OK\n", n)
			return
		}
		d := call.Decide(context.Background(), time.Now(), retry.Outcome{Err: a.err, Trailer: a.trailer})
		fmt.Printf("attempt %d: %v, retry=%v after %v\n", n, status.Code(a.err), d.Retry, d.Delay)
	}
	// Output:
	// attempt 1: Unavailable, retry=true after 100ms
	// attempt 2: Unavailable, retry=true after 300ms
	// attempt 3: OK
}

func ExampleError() {
	call := retry.NewCall(&retry.Policy{MaxAttempts: 2})
	call.BeginAttempt()
	call.BeginAttempt()
	err := call.Err(status.Error(codes.Unavailable, "backend down"), retry.Exhausted)

	fmt.Println(status.Code(err), status.Convert(err).Message())
	fmt.Println(errors.Is(err, retry.ErrExhausted))
	attempts, reason, _ := retry.Info(err)
	fmt.Println(attempts, reason)
	// Output:
	// Unavailable backend down
	// true
	// 2 exhausted
}

func ExampleThrottle() {
	th, err := retry.NewThrottle(10, 0.5)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := 1; i <= 5; i++ {
		fmt.Printf("failure %d: throttled=%v tokens=%v\n", i, th.Failure(), th.Tokens())
	}
	th.Success()
	fmt.Println("after a success, allowed:", th.Allowed())
	// Output:
	// failure 1: throttled=false tokens=9
	// failure 2: throttled=false tokens=8
	// failure 3: throttled=false tokens=7
	// failure 4: throttled=false tokens=6
	// failure 5: throttled=true tokens=5
	// after a success, allowed: true
}
