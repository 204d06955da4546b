package httpcache

import (
	"net/http"
	"reflect"
	"strconv"
	"sync/atomic"
	"time"
)

// This file holds what a hit replays: the stored header, copied value by
// value, and the Age and Cache-Status values, memoized per entry.

// copyHeader copies e's header into dst as copyHeader does, from the list
// of its fields made when it was stored, which is faster to walk than the
// map; an entry without one (one decoded from a shared store) is copied
// from its map. Surrogate-Control, kept for revalidations, is never
// replayed: the list leaves it out.
func (e *Entry) copyHeader(dst http.Header, extra int) (spare []string) {
	if e.memo == nil || e.memo.fields == nil || !e.memo.of(e) {
		spare = copyHeader(dst, e.Header, extra)
		if _, ok := e.Header[headerSurrogateControl]; ok {
			delete(dst, headerSurrogateControl)
		}
		return spare
	}
	all := make([]string, e.memo.values+extra)
	i := 0
	for _, f := range e.memo.fields {
		j := i + copy(all[i:], f.values)
		dst[f.name] = all[i:j:j]
		i = j
	}
	return all[i:]
}

// copyHeader copies src into dst value by value, with one allocation for all
// the values and extra spare slots, which it returns; each value slice is
// capped so an append on one cannot write into its neighbour.
func copyHeader(dst, src http.Header, extra int) (spare []string) {
	n := extra
	for _, vv := range src {
		n += len(vv)
	}
	all := make([]string, n)
	i := 0
	for k, vv := range src {
		j := i + copy(all[i:], vv)
		dst[k] = all[i:j:j]
		i = j
	}
	return all[i:]
}

// replayMemo holds an entry's Age and hit Cache-Status values for one whole
// second of its age, so that the hits within that second format nothing.
type replayMemo struct {
	ageSecs, ttlSecs int64
	age, status      string
}

// memoCell is what the hits of an entry reuse: its replayMemo, replaced
// once a second, and its header as a list, made when it is stored.
type memoCell struct {
	p      atomic.Pointer[replayMemo]
	fields []headerField // the entry's Header; immutable
	values int           // the number of values in fields
	header uintptr       // identifies the map fields was made from
}

// headerField is one field of a stored header.
type headerField struct {
	name   string
	values []string
}

// of reports whether m was made for e's header: a store that copies an
// Entry and changes its Header carries the memo along, which then no
// longer describes it.
func (m *memoCell) of(e *Entry) bool { return m.header == mapID(e.Header) }

// mapID identifies a map by its address.
func mapID(h http.Header) uintptr { return uintptr(reflect.ValueOf(h).UnsafePointer()) }

// newMemoCell returns the memo of an entry whose header is h.
func newMemoCell(h http.Header) *memoCell {
	m := &memoCell{fields: make([]headerField, 0, len(h)), header: mapID(h)}
	for k, vv := range h {
		if k == headerSurrogateControl {
			continue // for revalidations, not for clients
		}
		m.fields = append(m.fields, headerField{k, vv})
		m.values += len(vv)
	}
	return m
}

// replayValues returns e's Age value at now and the Cache-Status of a hit.
func (e *Entry) replayValues(now time.Time) (age, status string) {
	a := e.age(now)
	secs := int64(a / time.Second)
	// A lifetime that is not whole seconds (WithTTL) makes ttl change
	// within one second of age: the memo holds for both.
	ttl := ttlSeconds(e.Lifetime - a)
	if e.memo != nil {
		if m := e.memo.p.Load(); m != nil && m.ageSecs == secs && m.ttlSecs == ttl {
			return m.age, m.status
		}
	}
	age, status = seconds(a), hitStatusSecs(ttl)
	if e.memo != nil {
		e.memo.p.Store(&replayMemo{ageSecs: secs, ttlSecs: ttl, age: age, status: status})
	}
	return age, status
}

// prependCacheStatus adds the cache's member in front of any Cache-Status
// an upstream cache set (RFC 9211 Section 2).
func prependCacheStatus(h http.Header, status string) {
	if prev := h[headerCacheStatus]; len(prev) > 0 {
		h[headerCacheStatus] = append([]string{status}, prev...)
		return
	}
	h[headerCacheStatus] = []string{status}
}

// hitStatus is the Cache-Status of a hit with ttl of freshness left
// (negative when stale), counted in the whole seconds Age counts in.
func hitStatus(ttl time.Duration) string { return hitStatusSecs(ttlSeconds(ttl)) }

// hitStatusSecs is the Cache-Status of a hit with secs of ttl.
func hitStatusSecs(secs int64) string {
	return "httpcache; hit; ttl=" + strconv.FormatInt(secs, 10)
}

// ttlSeconds is ttl as hitStatus reports it.
func ttlSeconds(ttl time.Duration) int64 {
	secs := int64(ttl / time.Second)
	switch {
	case ttl > 0 && ttl%time.Second != 0:
		secs++ // the lifetime less the whole seconds of Age
	case ttl <= 0 && secs == 0:
		secs = -1 // stale, if by less than a second
	}
	return secs
}

// seconds formats d as whole non-negative seconds, the form of Age.
func seconds(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return strconv.FormatInt(int64(d/time.Second), 10)
}
