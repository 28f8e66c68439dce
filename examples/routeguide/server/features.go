package server

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// features.json lists made-up places on an invented island; the coordinates
// are E7 degrees, as in the proto.
//
//go:embed features.json
var featuresJSON []byte

type jsonFeature struct {
	Name     string `json:"name"`
	Location struct {
		Latitude  int32 `json:"latitude"`
		Longitude int32 `json:"longitude"`
	} `json:"location"`
}

// parsedFeatures parses features.json once. New copies the result, so it is
// never modified.
var parsedFeatures = sync.OnceValues(func() ([]*pb.Feature, error) {
	return parseFeatures(featuresJSON)
})

// embeddedFeatures returns the embedded database. It panics if features.json
// is broken, which is a build defect that the package tests catch.
func embeddedFeatures() []*pb.Feature {
	fs, err := parsedFeatures()
	if err != nil {
		panic(err)
	}
	return fs
}

func parseFeatures(data []byte) ([]*pb.Feature, error) {
	var raw []jsonFeature
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("route guide features: %w", err)
	}
	fs := make([]*pb.Feature, 0, len(raw))
	for i, r := range raw {
		p := &pb.Point{Latitude: r.Location.Latitude, Longitude: r.Location.Longitude}
		if err := checkPoint(fmt.Sprintf("features[%d].location", i), p); err != nil {
			return nil, fmt.Errorf("route guide features: %w", err)
		}
		fs = append(fs, &pb.Feature{Name: r.Name, Location: p})
	}
	return fs, nil
}
