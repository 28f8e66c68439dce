// Package server implements the calculator example's Calculator service
// (package calculatorpb).
//
//   - Add and Multiply are pure functions of their operands; the proto
//     declares them idempotency_level = IDEMPOTENT.
//   - Accumulate adds a value to the server's running total, which starts at
//     zero, and returns the new total: a real side effect, so the proto
//     declares no idempotency and a retry after an ambiguous failure could
//     count a value twice.
//
// # Overflow
//
// Every method computes in int32. A result outside [math.MinInt32,
// math.MaxInt32] fails the call with OUT_OF_RANGE and a message that names
// the operands, such as "Add(2147483647, 1) = 2147483648 overflows int32";
// an Accumulate that would overflow leaves the total unchanged.
// OUT_OF_RANGE is in the Permanent class, so no retry policy retries it.
//
// A [Server] is safe for concurrent use: concurrent Accumulate calls each
// see a total that includes every earlier one.
package server
