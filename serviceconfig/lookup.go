package serviceconfig

import "strings"

// MethodConfig returns the entry that applies to fullMethod, in A6 lookup
// order: the entry naming the exact (service, method), else the service-wide
// entry naming the service alone, else the default entry, else nil.
//
// fullMethod is "/pkg.Service/Method" as grpc passes it to interceptors; the
// leading "/" may be left out. Anything else that does not name exactly one
// non-empty service and method ("", "/svc/", "svc", "/a/b/c") gives nil.
//
// The result points into c.MethodConfigs; treat it as read-only. Call this
// on a config from [Parse] or [Config.Normalized] to see A6's caps applied.
// A nil c gives nil.
func (c *Config) MethodConfig(fullMethod string) *MethodConfig {
	if c == nil {
		return nil
	}
	service, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok || service == "" || method == "" || strings.Contains(method, "/") {
		return nil
	}
	var serviceWide, fallback *MethodConfig
	for i := range c.MethodConfigs {
		mc := &c.MethodConfigs[i]
		for _, n := range mc.Names {
			switch {
			case n.Service == service && n.Method == method:
				return mc
			case n.Service == service && n.Method == "" && serviceWide == nil:
				serviceWide = mc
			case n.Service == "" && n.Method == "" && fallback == nil:
				fallback = mc
			}
		}
	}
	if serviceWide != nil {
		return serviceWide
	}
	return fallback
}
