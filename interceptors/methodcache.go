package interceptors

import (
	"sync"
	"sync/atomic"
)

// maxCachedMethods bounds each per-method cache of a client. A client
// calls a fixed set of methods, but a proxy forwards whatever method names
// its callers send (as retry-proxy does), and a cache keyed by a hostile
// caller's names must not grow without bound. Past the bound, a method's
// entry is computed for each call and not kept.
const maxCachedMethods = 4096

// methodCache is a concurrent map from full method names to V that keeps
// at most maxCachedMethods entries.
type methodCache[V any] struct {
	m sync.Map // string -> V
	n atomic.Int64
}

func (c *methodCache[V]) load(method string) (V, bool) {
	v, ok := c.m.Load(method)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

// store keeps v for method if there is room and no entry yet, and returns
// the entry that stands: the one kept before, or v.
func (c *methodCache[V]) store(method string, v V) V {
	if c.n.Load() >= maxCachedMethods {
		return v
	}
	prev, loaded := c.m.LoadOrStore(method, v)
	if loaded {
		return prev.(V)
	}
	c.n.Add(1)
	return v
}

// len returns how many entries the cache keeps.
func (c *methodCache[V]) len() int { return int(c.n.Load()) }
