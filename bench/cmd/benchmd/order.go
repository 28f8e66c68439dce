package main

import (
	"cmp"
	"slices"
	"strings"
)

// The names the bench module gives its kinds of call and its peers, in the
// order the document lists them. Names not known here follow, sorted.
var (
	kindOrder = []string{"Unary", "ServerStream", "ClientStream", "Bidi"}
	peerOrder = []string{"plain", "grpcbuiltin", "middleware", "failsafe", "manual", "a6"}
)

// basePeer is the baseline: grpc-go with its retries off.
const basePeer = "plain"

// ours reports whether variant is one of this library's clients.
func ours(variant string) bool {
	return slices.Contains(ourPeers, peerOf(variant))
}

// rank orders name by its place in known, unknown names last and sorted.
func rank(known []string, a, b string) int {
	ia, ib := slices.Index(known, a), slices.Index(known, b)
	switch {
	case ia >= 0 && ib >= 0:
		return cmp.Compare(ia, ib)
	case ia >= 0:
		return -1
	case ib >= 0:
		return 1
	}
	return strings.Compare(a, b)
}

func compareKinds(a, b string) int { return rank(kindOrder, a, b) }

// compareVariants orders client variants: the peers as they are, then each
// suffix ("+hedge") in turn, sorted, with the peers in order within it.
func compareVariants(a, b string) int {
	pa, sa, _ := strings.Cut(a, "+")
	pb, sb, _ := strings.Cut(b, "+")
	if c := strings.Compare(sa, sb); c != 0 {
		return c
	}
	return rank(peerOrder, pa, pb)
}

// sortedKeys returns the distinct values of s sorted by compare.
func sortedKeys(s []string, compare func(a, b string) int) []string {
	s = slices.Clone(s)
	slices.SortFunc(s, compare)
	return slices.Compact(s)
}
