package httpcache

import (
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"strings"
)

// KeyFunc returns the string that names the resource a request asks for. The
// cache combines it, length-prefixed and hashed, with the global version
// ([WithVersion]), the method class (HEAD reads what GET stored) and the
// request header fields the response varies on, so a KeyFunc needs none of
// those. Returning "" makes the request bypass the cache.
//
// The default ([DefaultKey]) is the request's scheme, host, path and raw
// query. A KeyFunc that drops part of the URL (a tracking parameter, say)
// must only drop what cannot change the response, or one user's response is
// served to another. Invalidation by URL (unsafe methods,
// [Cache.InvalidateURL]) reaches the entries of one host and decoded path:
// a KeyFunc that merges several paths or hosts into one resource (case
// folding, www and the bare domain) must tag its responses ([Tag]) and
// invalidate those tags, or a write through one spelling leaves the entry
// stored under another.
type KeyFunc func(r *http.Request) string

// maxKeyInput bounds the bytes of a request's URL the cache will key on;
// longer requests bypass the cache (they are rarely worth a slot and cost a
// hash of their whole length).
const maxKeyInput = 8 << 10

// DefaultKey is the default [KeyFunc]: the request's scheme, its host
// (lower-cased), its escaped path and its raw query, each length-prefixed so
// that no two distinct requests share a key. The scheme is "https" when the
// request came over TLS, "http" otherwise (never what the request line
// claims): an http-to-https redirect must never answer an https request.
// Behind a proxy that terminates TLS every request is "http"; a handler
// that reads X-Forwarded-Proto must say so in Vary, or the cache be given
// WithVary("X-Forwarded-Proto").
func DefaultKey(r *http.Request) string {
	return string(appendResource(nil, r))
}

// appendResource appends the length-prefixed host, path and raw query of r.
func appendResource(b []byte, r *http.Request) []byte {
	b = appendPart(b, scheme(r))
	b = appendPart(b, strings.ToLower(r.Host))
	b = appendPart(b, r.URL.EscapedPath())
	return appendPart(b, r.URL.RawQuery)
}

// scheme returns the scheme r was made with.
func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// appendPart appends s prefixed with its length as a uvarint, which makes any
// sequence of parts decodable, hence injective.
func appendPart(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// keyHash is a key: the SHA-256 of its length-prefixed parts.
type keyHash [sha256.Size]byte

// keyBufSize is the stack buffer key parts are assembled in; longer inputs
// spill to the heap.
const keyBufSize = 256

// primaryKey returns the hash of version, method class and resource: the
// key under which the cache remembers what the resource varies on, and the
// entry's key when it varies on nothing. ok is false when r must bypass the
// cache.
func (c *Cache) primaryKey(r *http.Request) (key keyHash, ok bool) {
	var buf [keyBufSize]byte
	b := appendPart(buf[:0], c.cfg.version)
	b = appendPart(b, methodClass(r.Method))
	if c.cfg.keyFunc != nil {
		res := c.cfg.keyFunc(r)
		if res == "" || len(res) > maxKeyInput {
			return key, false
		}
		// The last part needs no length prefix (nothing follows it), and
		// without one WithKeyFunc(DefaultKey) keys as the default does.
		b = append(b, res...)
	} else {
		if len(r.Host)+len(r.URL.Path)+len(r.URL.RawPath)+len(r.URL.RawQuery) > maxKeyInput {
			return key, false
		}
		b = appendResource(b, r)
	}
	return sha256.Sum256(b), true
}

// variantKey returns the key of the variant of primary selected by the values
// that h has for the (canonical, sorted) header names in vary. With no names
// it is primary itself.
func variantKey(primary keyHash, vary []string, h http.Header) keyHash {
	if len(vary) == 0 {
		return primary
	}
	var buf [keyBufSize]byte
	b := append(buf[:0], primary[:]...)
	return sha256.Sum256(appendVaryValues(b, vary, h))
}

// appendVaryValues appends, for each name, the name, whether the header is
// present, and each of its field lines. An absent header and an empty one
// encode differently.
func appendVaryValues(b []byte, vary []string, h http.Header) []byte {
	b = binary.AppendUvarint(b, uint64(len(vary)))
	for _, name := range vary {
		b = appendPart(b, name)
		vv, present := h[name]
		if !present {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(vv)))
		for _, v := range vv {
			b = appendPart(b, v)
		}
	}
	return b
}

// methodClass reports the method whose entries a request reads: HEAD reads
// what GET stored.
func methodClass(method string) string {
	if method == http.MethodHead {
		return http.MethodGet
	}
	return method
}
