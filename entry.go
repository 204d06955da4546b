package httpcache

import (
	"net/http"
	"time"
)

// Entry is one stored response: what a [Store] keeps under a key and what the
// cache replays on a hit.
//
// An Entry is immutable once it has been passed to [Store.Set]: neither the
// cache nor a store may modify it, or anything it points to, afterwards. The
// cache copies Header value by value when it replays an entry, so a client
// never aliases the stored map. A store that keeps entries in process (as
// [MemoryStore] does) returns the same *Entry to many goroutines at once; a
// store that keeps them elsewhere encodes them with [Entry.MarshalBinary] and
// decodes them with [Entry.UnmarshalBinary].
type Entry struct {
	// Status is the response's status code.
	Status int

	// Header holds the response's header fields as they are replayed:
	// hop-by-hop fields, fields named by a qualified no-cache or private
	// directive, and the tag fields (Cache-Tag, Surrogate-Key, Cache-Groups)
	// are already removed.
	Header http.Header

	// Body is the complete response body.
	Body []byte

	// RequestTime and ResponseTime are the times the fill started and the
	// response was received (request_time and response_time of RFC 9111
	// Section 4.2.3).
	RequestTime, ResponseTime time.Time

	// InitialAge is the response's corrected initial age (RFC 9111
	// Section 4.2.3): how old it already was when it was received.
	InitialAge time.Duration

	// Lifetime is the freshness lifetime (RFC 9111 Section 4.2.1).
	Lifetime time.Duration

	// StaleWhileRevalidate and StaleIfError are how long past its lifetime
	// the entry may be served stale while it is refreshed in the background,
	// or when a refresh fails (RFC 5861).
	StaleWhileRevalidate, StaleIfError time.Duration

	// MustRevalidate reports whether the entry must never be served stale
	// (must-revalidate, proxy-revalidate or s-maxage).
	MustRevalidate bool

	// NoCache reports whether the entry must be revalidated with the handler
	// before each use (an unqualified no-cache directive).
	NoCache bool

	// Vary lists, in canonical form and sorted, the request header fields the
	// response varies on, and RequestHeader holds the values those fields had
	// in the request that produced it (a field absent from the request is
	// absent from RequestHeader).
	Vary          []string
	RequestHeader http.Header

	// Tags are the invalidation tags the entry carries, its URL's implicit
	// tag included.
	Tags []string

	// Epoch is the invalidation counter read before the fill started: the
	// entry is current as long as none of its tags has been invalidated
	// after that point (see [Versions]).
	Epoch uint64

	memo *memoCell // the Age and Cache-Status of its hits, set by the cache
}

// entryOverhead approximates the bytes an entry costs beyond its body and
// header strings: the struct, map buckets and slice headers.
const entryOverhead = 512

// Size reports the approximate number of bytes e holds in memory. It is what
// [MemoryStore] counts against its budget.
func (e *Entry) Size() int64 {
	n := int64(entryOverhead + len(e.Body))
	n += headerSize(e.Header) + headerSize(e.RequestHeader)
	for _, s := range e.Vary {
		n += int64(len(s)) + 16
	}
	for _, s := range e.Tags {
		n += int64(len(s)) + 16
	}
	return n
}

func headerSize(h http.Header) int64 {
	var n int64
	for k, vv := range h {
		n += int64(len(k)) + 48
		for _, v := range vv {
			n += int64(len(v)) + 16
		}
	}
	return n
}

// Expires reports the time after which e can no longer be served, not even
// stale: a store may drop it then.
func (e *Entry) Expires() time.Time {
	keep := max(e.StaleWhileRevalidate, e.StaleIfError)
	if e.MustRevalidate || e.NoCache {
		keep = 0
	}
	if hasValidator(e.Header) {
		// An entry with validators stays useful past its lifetime: the
		// fill that replaces it asks the handler whether it changed.
		keep = max(keep, min(e.Lifetime, 1<<31*time.Second), time.Hour)
	}
	// Durations come from delta-seconds clamped to 2^31 s, so this sum
	// cannot overflow; a decoded entry may hold anything, so clamp again.
	const limit = 1 << 31 * time.Second
	life := min(max(e.Lifetime, 0), limit) - min(max(e.InitialAge, 0), limit)
	return e.ResponseTime.Add(life + min(keep, limit))
}
