package main

import (
	"bytes"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// TestRawCodec: a frame is written as exactly its bytes and read back into
// its Value, also after the round trip through its own proto encoding that
// the interceptors' replay buffer makes; other messages are proto.
func TestRawCodec(t *testing.T) {
	point, err := proto.Marshal(&pb.Point{Latitude: 101203450, Longitude: -398765430})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		wire []byte
	}{
		{"empty", nil},
		{"point", point},
		{"not proto", []byte{0xff, 0xff, 0xff}},
		{"large", bytes.Repeat([]byte{0x0a, 0x01, 'x'}, 100_000)},
	}
	var c rawCodec
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := new(wrapperspb.BytesValue)
			// Split in two buffers, as grpc may hand them over.
			half := len(tt.wire) / 2
			if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(tt.wire[:half]), mem.SliceBuffer(tt.wire[half:])}, f); err != nil {
				t.Fatalf("Unmarshal(%d bytes) = %v", len(tt.wire), err)
			}
			if !bytes.Equal(f.GetValue(), tt.wire) {
				t.Errorf("Unmarshal(%d bytes) = %d bytes, want the same bytes", len(tt.wire), len(f.GetValue()))
			}

			// What a replay sends: the frame encoded and decoded as proto.
			kept, err := proto.Marshal(f)
			if err != nil {
				t.Fatalf("proto.Marshal(frame) = %v", err)
			}
			replayed := new(wrapperspb.BytesValue)
			if err := proto.Unmarshal(kept, replayed); err != nil {
				t.Fatalf("proto.Unmarshal(frame) = %v", err)
			}
			for _, m := range []*wrapperspb.BytesValue{f, replayed} {
				out, err := c.Marshal(m)
				if err != nil {
					t.Fatalf("Marshal(frame) = %v", err)
				}
				if got := out.Materialize(); !bytes.Equal(got, tt.wire) {
					t.Errorf("Marshal(frame of %d bytes) = %d bytes, want the same bytes", len(tt.wire), len(got))
				}
			}
		})
	}

	// Anything else is proto, as the interceptors' placeholders need.
	p := &pb.Point{Latitude: 1, Longitude: 2}
	out, err := c.Marshal(p)
	if err != nil {
		t.Fatalf("Marshal(%v) = %v", p, err)
	}
	want, _ := proto.Marshal(p)
	if got := out.Materialize(); !bytes.Equal(got, want) {
		t.Errorf("Marshal(%v) = %x, want its proto encoding %x", p, got, want)
	}
	back := new(pb.Point)
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(want)}, back); err != nil || !proto.Equal(back, p) {
		t.Errorf("Unmarshal(%x) = %v, %v; want %v", want, back, err, p)
	}
	if got := c.Name(); got != "proto" {
		t.Errorf("Name() = %q, want %q", got, "proto")
	}
}
