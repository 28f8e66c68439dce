package main

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/types/known/wrapperspb"

	// The proto codec registers itself; rawCodec falls back on it.
	_ "google.golang.org/grpc/encoding/proto"
)

// rawCodec passes messages through as opaque bytes. A frame travels as a
// *wrapperspb.BytesValue whose Value is exactly the message's wire bytes:
// Marshal writes Value as it is, and Unmarshal puts the bytes it gets into
// Value. The frame is a proto message so that the interceptors' replay
// buffer, which keeps proto messages only, can keep it and replay it; the
// buffer's own encoding of the frame (Value in field 1) decodes back to the
// same bytes.
//
// Any other value goes through grpc's proto codec: the interceptors read
// the status of an attempt that got no message into an *emptypb.Empty.
//
// It is named "proto", so calls carry content-type application/grpc+proto
// and every gRPC server reads them as the protobuf messages they are.
type rawCodec struct{}

// Marshal returns the bytes of a frame, or v's proto encoding.
func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if f, ok := v.(*wrapperspb.BytesValue); ok {
		return mem.BufferSlice{mem.SliceBuffer(f.GetValue())}, nil
	}
	return protoCodec().Marshal(v)
}

// Unmarshal copies data into a frame, or decodes it into v as proto.
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if f, ok := v.(*wrapperspb.BytesValue); ok {
		// data is freed once Unmarshal returns: keep a copy.
		f.Value = data.Materialize()
		return nil
	}
	return protoCodec().Unmarshal(data, v)
}

// Name returns "proto".
func (rawCodec) Name() string { return "proto" }

// protoCodec returns grpc's registered proto codec.
func protoCodec() encoding.CodecV2 {
	c := encoding.GetCodecV2("proto")
	if c == nil {
		// The blank import above registers it; nothing can unregister it.
		panic(fmt.Sprintf("%s: grpc's proto codec is not registered", name))
	}
	return c
}
