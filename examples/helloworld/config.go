package helloworld

import (
	_ "embed"
	"slices"
)

//go:embed service_config.json
var serviceConfig []byte

// ServiceConfigJSON returns the text of service_config.json: the A6 service
// config that greeter-client uses when not given another. Each call returns
// a fresh copy.
func ServiceConfigJSON() []byte { return slices.Clone(serviceConfig) }
