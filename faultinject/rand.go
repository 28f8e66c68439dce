package faultinject

import (
	crand "crypto/rand"
	"encoding/binary"
)

// draw is one kind of random decision. Each decision of a call draws its own
// number, keyed on the rule's index, so appending a rule or giving a rule a
// delay never shifts the numbers other decisions see (inserting a rule
// before others does, since their indexes change).
type draw uint64

const (
	drawAbort draw = iota + 1
	drawDelay
	drawJitter
	drawHeaderAbort
	drawHeaderDelay
	drawConnRefuse
	drawConnReset
	drawConnDelay
	drawConnCut
)

// source hands out uniform numbers in [0, 1) as a pure function of the seed,
// the sequence number of the call (or connection), the rule and the kind of
// decision. A seeded run therefore repeats exactly, call by call, and needs
// no lock: concurrent calls never share generator state.
type source struct{ seed uint64 }

// newSource returns a source for seed, or for a fresh random seed when
// seeded is false.
func newSource(seed uint64, seeded bool) source {
	if !seeded {
		var b [8]byte
		_, _ = crand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		seed = binary.LittleEndian.Uint64(b[:])
	}
	return source{seed: seed}
}

// float returns the number for decision d of rule rule in call n.
func (s source) float(n uint64, rule int, d draw) float64 {
	h := mix(s.seed + mix(n))
	h = mix(h ^ (uint64(rule+1)<<8 | uint64(d)))
	return float64(h>>11) / (1 << 53)
}

// hits reports whether a decision with number u fires at percent (0-100).
func hits(u, percent float64) bool { return u*100 < percent }

// mix is the SplitMix64 finaliser: a bijection on uint64 with good avalanche,
// enough for fault decisions (not for anything secret).
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
