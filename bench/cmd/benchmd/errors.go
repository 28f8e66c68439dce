package main

import "fmt"

// A lineError is a line of an input that does not parse.
type lineError struct {
	pos pos
	err error
}

func (e *lineError) Error() string { return e.pos.String() + ": " + e.err.Error() }
func (e *lineError) Unwrap() error { return e.err }

// A missingError is a benchmark the document needs that an input says
// nothing about: no result, no skip, no failure.
type missingError struct {
	file, bench string
}

func (e *missingError) Error() string { return fmt.Sprintf("%s: no result for %s", e.file, e.bench) }
