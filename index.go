package httpcache

import (
	"sync"
	"time"
)

// maxIndexed bounds the keys the vary index and the hit-for-miss set
// remember; past it they forget everything and learn again, which costs
// misses, never correctness.
const maxIndexed = 1 << 16

// varyIndex remembers, for the primary key of each resource whose responses
// vary, the request fields they vary on, so that a lookup can build the
// variant's key before it has seen the response.
type varyIndex struct {
	mu sync.RWMutex         // guards m
	m  map[keyHash][]string // nil until the first set
}

// get returns the fields primary's responses vary on, or policy (WithVary)
// when none were learned.
func (x *varyIndex) get(primary keyHash, policy []string) []string {
	x.mu.RLock()
	names, ok := x.m[primary]
	x.mu.RUnlock()
	if !ok {
		return policy
	}
	return names
}

// set records names for primary; names equal to policy need no record.
func (x *varyIndex) set(primary keyHash, names, policy []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(names) == len(policy) {
		delete(x.m, primary)
		return
	}
	if x.m == nil || len(x.m) >= maxIndexed {
		x.m = make(map[keyHash][]string)
	}
	x.m[primary] = names
}

// hitForMiss remembers keys whose last response could not be shared, and
// until when, so that requests for them do not queue behind a fill.
type hitForMiss struct {
	mu sync.Mutex           // guards m
	m  map[string]time.Time // nil until the first add
}

func (h *hitForMiss) add(key string, until time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxIndexed {
		h.m = make(map[string]time.Time)
	}
	h.m[key] = until
}

// has reports whether key is marked as not shareable at now.
func (h *hitForMiss) has(key string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	until, ok := h.m[key]
	if ok && !now.Before(until) {
		delete(h.m, key)
		return false
	}
	return ok
}

func (h *hitForMiss) remove(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, key)
}
