// Package server implements the route guide service (routeguidepb.RouteGuide)
// over a small, read-only feature database. It is the well-behaved server that
// the project's examples, tests and chaos runs put faults in front of.
//
// # Defaults
//
// New loads an embedded database of 25 named features on a made-up island,
// in the E7 form the proto uses (degrees times 10^7). WithFeatures replaces it.
//
// # Behaviour
//
//   - GetFeature returns the feature at exactly the given point, or a Feature
//     with an empty name at that point when there is none. It never returns
//     NotFound.
//   - ListFeatures streams every feature inside the rectangle, edges
//     included, in database order. The corners may come in either order.
//   - RecordRoute counts the points, the points that land on a named feature
//     (each visit counts), the great-circle distance between consecutive
//     points in whole metres (haversine, mean Earth radius 6371 km, rounded
//     once at the end and capped at math.MaxInt32), and the whole seconds
//     from the start of the call to the client's half-close.
//   - RouteChat answers each incoming note with every note stored earlier
//     at the same location, in the order they were stored, and then stores
//     the new note. Notes live as long as the Server and are shared by all
//     its streams; a note whose replies could not be sent is not stored.
//
// # Errors
//
// Input is validated before any other work. A missing point or rectangle
// corner, or a latitude outside ±900000000 or a longitude outside
// ±1800000000, gives codes.InvalidArgument with a message naming the field
// (and the value when it is out of range). A failed stream Send or Recv is
// returned as it is.
//
// # Concurrency
//
// A Server is safe for concurrent use by any number of calls. The database
// never changes after New; the notes are guarded by a mutex. Every message a
// method returns or sends is a copy the caller may keep or modify.
package server
