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
//
// Every lookup reads it, so reads take no lock: a sync.Map's Load is
// lock-free and, with a keyHash key, does not allocate. (An RWMutex cost
// every hit an atomic add on a cache line all cores share.)
type varyIndex struct {
	m sync.Map // keyHash → []string

	mu sync.Mutex // serialises set; guards n
	n  int        // the entries in m
}

// get returns the fields primary's responses vary on, or policy (WithVary)
// when none were learned.
func (x *varyIndex) get(primary keyHash, policy []string) []string {
	if names, ok := x.m.Load(primary); ok {
		return names.([]string)
	}
	return policy
}

// set records names for primary; names equal to policy need no record.
func (x *varyIndex) set(primary keyHash, names, policy []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(names) == len(policy) {
		if _, had := x.m.LoadAndDelete(primary); had {
			x.n--
		}
		return
	}
	if x.n >= maxIndexed {
		x.m.Clear()
		x.n = 0
	}
	if _, had := x.m.Swap(primary, names); !had {
		x.n++
	}
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
