// Package helloworld holds the service config of the helloworld example:
// the gRFC A6 retry policy that greeter-client follows, embedded from
// service_config.json next to this file so that the command works from any
// directory and users can copy the file as it is.
//
// The config retries every helloworld.Greeter method, SayHello and both
// streams, after UNAVAILABLE only: up to 5 attempts in all, waiting
// 10ms, 20ms, 40ms, 80ms (times a jitter in [0.8, 1.2], at most 100ms)
// between them. Each call gets a 5s deadline when the caller set none.
// retryThrottling holds retries back once failures have drained the
// server's token bucket to half: each failed attempt costs a token of 10,
// each success earns 0.1 back.
//
// The rest of the example lives in helloworldpb (the generated code),
// server (the Greeter implementation), cmd/greeter-server and
// cmd/greeter-client.
package helloworld
