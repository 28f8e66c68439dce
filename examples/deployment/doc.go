// Package deployment holds no code to import: its tests run the library
// where failures are real, with real processes on 127.0.0.1.
//
//   - Behind nginx (nginx_test.go): nginx 1.22 with nginx.conf.tmpl, a
//     gRPC proxy (grpc_pass) in front of three fault-injecting
//     routeguide-server processes. An upstream that is down gives HTTP 502
//     and an nginx read timeout HTTP 504; grpc-go reads both as
//     UNAVAILABLE, which the library retries. An upstream that dies after
//     it answered gives INTERNAL on a committed call, which the library
//     never retries. The tests skip when nginx is not installed, unless
//     GRPC_RESILIENCE_REQUIRE_NGINX=1 (as in .ci/run).
//   - Client-side load balancing (lb_test.go): three routeguide-server
//     processes behind one target of a manual resolver with round_robin;
//     one of them is killed in the middle of a run, and the library's A6
//     retries land on the others.
//
// nginx.conf.tmpl is the tests' nginx configuration; its comments mark
// the settings that are there for the tests, to leave at nginx's defaults
// in production.
package deployment
