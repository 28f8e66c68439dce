// Package server implements the helloworld example's Greeter service
// (package helloworldpb).
//
// Every greeting is built from the request's name alone: the server keeps
// no state, so any call may safely run twice. The proto declares that for
// SayHello (idempotency_level = NO_SIDE_EFFECTS), which lets the retry
// interceptors retry it after an ambiguous failure too.
//
//   - SayHello answers "Hello NAME".
//   - SayHelloStreamReply streams one greeting per language of [Greetings],
//     in that order: "Hello NAME", "Bonjour NAME", "Hola NAME".
//   - SayHelloBidiStream answers every request with "Hello NAME", in order,
//     until the client closes its side.
//
// An empty name fails the call with INVALID_ARGUMENT (on a bidi stream, at
// the first empty name, after the greetings before it). A [Server] is safe
// for concurrent use.
package server
