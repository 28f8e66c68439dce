package serviceconfig_test

import (
	"testing"

	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

func TestMethodConfigLookup(t *testing.T) {
	// Each entry is told apart by its timeout, in seconds.
	c, err := rsc.Parse([]byte(`{"methodConfig":[
		{"name":[{"service":"a.S","method":"Exact"}], "timeout":"1s"},
		{"name":[{"service":"a.S"}], "timeout":"2s"},
		{"name":[{}], "timeout":"3s"},
		{"name":[{"service":"b.S","method":"Only"},{"service":"c.S"}], "timeout":"4s"}
	]}`))
	if err != nil {
		t.Fatalf("Parse() = %v, want nil error", err)
	}
	noDefault, err := rsc.Parse([]byte(`{"methodConfig":[
		{"name":[{"service":"a.S","method":"Exact"}], "timeout":"1s"},
		{"name":[{"service":"a.S"}], "timeout":"2s"}
	]}`))
	if err != nil {
		t.Fatalf("Parse() = %v, want nil error", err)
	}
	exactOnly, err := rsc.Parse([]byte(`{"methodConfig":[{"name":[{"service":"a.S","method":"Exact"}], "timeout":"1s"}]}`))
	if err != nil {
		t.Fatalf("Parse() = %v, want nil error", err)
	}

	tests := []struct {
		name   string
		c      *rsc.Config
		method string
		want   int // timeout in seconds of the entry found; 0 for nil
	}{
		{"exact beats service-wide and default", c, "/a.S/Exact", 1},
		{"without leading slash", c, "a.S/Exact", 1},
		{"service-wide beats default", c, "/a.S/Other", 2},
		{"unknown service gets default", c, "/z.S/Any", 3},
		{"second name of an entry", c, "/c.S/Any", 4},
		{"exact name of an entry", c, "/b.S/Only", 4},
		{"other method of exact-only service gets default", c, "/b.S/Other", 3},
		{"no default: service-wide", noDefault, "/a.S/Other", 2},
		{"no default: unknown service", noDefault, "/z.S/Any", 0},
		{"exact only: other method", exactOnly, "/a.S/Other", 0},
		{"case matters", c, "/a.s/Exact", 3},
		{"empty", c, "", 0},
		{"slash only", c, "/", 0},
		{"no method", c, "/a.S/", 0},
		{"no method, no slash", c, "a.S", 0},
		{"no service", c, "//Exact", 0},
		{"too many parts", c, "/a.S/Exact/x", 0},
		{"two leading slashes", c, "//a.S/Exact", 0},
		{"empty config", &rsc.Config{}, "/a.S/Exact", 0},
		{"nil config", nil, "/a.S/Exact", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mc := tc.c.MethodConfig(tc.method)
			got := 0
			if mc != nil {
				got = int(mc.Timeout.Seconds())
			}
			if got != tc.want {
				t.Errorf("MethodConfig(%q) = entry with timeout %ds, want %ds (0: nil)", tc.method, got, tc.want)
			}
		})
	}
}

func TestMethodConfigPointsIntoConfig(t *testing.T) {
	c := &rsc.Config{MethodConfigs: []rsc.MethodConfig{{Names: []rsc.Name{{Service: "s"}}}}}
	if got, want := c.MethodConfig("/s/m"), &c.MethodConfigs[0]; got != want {
		t.Errorf("MethodConfig(/s/m) = %p, want %p (the entry itself)", got, want)
	}
}
