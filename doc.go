// Package httpcache is an HTTP response cache for net/http handlers: a
// middleware that keeps the responses of GET requests, serves them again
// (HEAD and conditional requests included), serves them stale while one
// background request refreshes them, and drops them the moment a handler
// that writes data says so.
//
//	c := httpcache.New(httpcache.WithTTL(10 * time.Minute))
//	defer c.Close()
//	mux.Handle("GET /articles/{slug}", c.Handler(articleHandler))
//	// or, with a router: r.Use(c.Handler)
//
// The cache is shared: an entry is served to every client whose request has
// the same key. It follows the rules of a shared cache in [RFC 9111].
//
// What is stored: the complete response to a GET request whose status may
// be stored and which states its freshness (Cache-Control s-maxage or
// max-age, or Expires), or to which [WithTTL] gives one, with a body of at
// most [WithMaxBodyBytes]. A response stored under Cache-Control no-cache is
// revalidated with the handler before each use.
//
// What is never stored:
//
//   - responses with Cache-Control no-store or private, with Set-Cookie,
//     with Vary: *, that declare trailers, or of type text/event-stream;
//   - 1xx, 206 Partial Content, 304 Not Modified, 412 Precondition Failed,
//     416 Range Not Satisfiable, and 500, 502, 503 and 504 responses; 404,
//     405, 410, 414 and 501 only when the handler states their freshness
//     ([WithTTL] never applies to them);
//   - responses whose handler hijacked the connection or panicked, whose
//     body exceeds [WithMaxBodyBytes], or whose body is shorter or longer
//     than their Content-Length;
//   - responses to HEAD requests: a HEAD miss goes to the handler as HEAD
//     and leaves nothing behind, so an empty body never answers a GET.
//
// What passes the cache by: requests with a method other than GET or HEAD
// (unsafe methods invalidate, see below), and GET and HEAD requests that
// carry Authorization, Upgrade, a body, a method-override field
// (X-HTTP-Method-Override and the like) or Cache-Control no-store, whose
// host, path and query exceed 8 KiB, or for which the [KeyFunc] returns "".
// They reach the handler untouched, but for the removal of the fields meant
// for the cache (tag fields, Surrogate-Control) from their responses, which
// an Upgrade request's response keeps. A Range request is
// answered from a complete stored entry (206 Partial Content, with
// http.ServeContent's handling of Range and If-Range); on a miss it passes
// by, and nothing is filled.
//
// A handler that personalises a response (from a cookie, say) without
// marking it private, or without listing the field it read in Vary, has
// that response served to everyone: mark it, or do not wrap that handler.
//
// # Keys and invalidation
//
// A key is the hash of length-prefixed parts, so two distinct requests never
// share one: the global version ([WithVersion]), the method class (HEAD
// reads what GET stored), the resource named by the [KeyFunc] (by default
// [DefaultKey]: scheme, host, path and raw query), and the values of the request
// fields the response varies on. Those fields are learned per resource
// from the response's Vary field, plus those named by [WithVary]; an absent
// field and an empty one make different keys.
//
// Invalidation bumps versions and deletes nothing. Every entry carries tags:
// its URL (host and path), those a handler gives with [Tag], and those its
// response names in a Cache-Tag (comma-separated), Surrogate-Key
// (space-separated) or Cache-Groups (a structured list of strings) field;
// those fields never reach the client. [Invalidate], called by a handler
// with its request's context, and [Cache.Invalidate], called from anywhere,
// bump the versions of the tags they are given in O(number of tags); an
// entry whose tags moved on is a miss, and ages out of the store.
// [Cache.InvalidateURL] drops a URL's entries, [Cache.InvalidateAll] and a
// change of [WithVersion] drop them all. A URL's implicit tag is normalised
// (decoded path, lower-case host without a default port), so /%7Eu and /~u
// are one resource.
//
// Write-through: a handler that writes can call [Refill] after [Invalidate]
// to have the cache fill URLs again in the background, through the handler
// that served the request, so that the first reader after the write gets a
// hit.
//
// A 2xx or 3xx response to an unsafe method (POST, PUT, PATCH, DELETE or any
// method other than GET, HEAD, OPTIONS and TRACE) through [Cache.Handler]
// invalidates its URL, the same-origin URLs of its Location and
// Content-Location fields, and the groups its Cache-Group-Invalidation field
// names, as soon as its status is written ([RFC 9111], Section 4.4).
//
// Reads follow writes: once an invalidation returns, no request is served
// an entry filled before it, not even stale, and a fill that started before
// it is not stored. [WithSoftPurge] trades this for serving invalidated
// entries stale while they are refilled.
//
// # Freshness
//
// A response's freshness lifetime comes from its own fields, s-maxage first,
// then max-age, then Expires less Date; an invalid Expires means already
// expired. [WithTTL] gives a lifetime to 200, 203, 204, 300, 301 and 308
// responses that state none; without it they are not stored. Other
// statuses with a stated lifetime follow [RFC 9111] (a 302 with max-age is
// stored). The age of an entry counts the Age a response arrived with.
//
// Responses through [Cache.Handler] carry an [RFC 9211] Cache-Status field
// (but for GET and HEAD responses after [Cache.Close]), and those served
// from an entry carry Age:
//
//	httpcache; hit; ttl=N                  fresh, N seconds of freshness left
//	httpcache; hit; ttl=-N                 stale by N seconds, served within its window
//	httpcache; hit; ttl=-N; detail=D       stale, served because the refill failed:
//	                                       D is status-5xx, panic or lock-timeout
//	httpcache; fwd=uri-miss; stored        not in the cache; the handler ran; stored
//	httpcache; fwd=uri-miss                not in the cache; the handler ran; not stored
//	httpcache; fwd=uri-miss; collapsed     served the response another request's fill stored
//	httpcache; fwd=stale; stored           the entry was stale; the handler's new response was stored
//	httpcache; fwd=request; stored         the client asked for revalidation (no-cache, max-age)
//	...; fwd-status=304                    the handler confirmed the stored entry with 304
//	httpcache; fwd=bypass                  the request passed the cache by
//	httpcache; fwd=method                  not GET or HEAD
//
// A fwd=stale or fwd=request response that was not stored lacks "; stored".
//
// A conditional GET or HEAD (If-None-Match, compared weakly, or
// If-Modified-Since) that a 2xx entry satisfies is answered 304 Not Modified
// from the entry. On a fill, the cache removes the client's own conditions
// from the request the handler sees, so that a full response can be stored;
// that client gets the full response too.
//
// Surrogate-Control (W3C Edge Architecture 1.0) speaks to this cache when
// a directive is untargeted or targeted at the device "httpcache"
// (max-age=60;httpcache): its max-age overrides every freshness directive of
// Cache-Control, no-store included, and its no-store forbids storing. It is
// removed before the client sees the response. [SurrogateCapability] is
// what a reverse proxy built on the cache announces upstream.
//
// The request's Cache-Control is honoured: no-store passes the cache by;
// no-cache, and max-age=N for an older entry, make the cache revalidate with
// the handler; min-fresh and max-stale are honoured; only-if-cached gets
// 504 Gateway Timeout when nothing suitable is stored. Pragma is ignored.
//
// # Stale responses
//
// With stale-while-revalidate ([RFC 5861]: the response directive, or
// [WithStaleWhileRevalidate] for responses without one), a stale entry is
// served at once within its window while one background request per key
// refreshes it. The refresh is detached from the request that started it,
// bounded in time ([WithRefreshTimeout]) and in number ([WithMaxRefreshes];
// past the bound stale entries are served without one), and its panics are
// recovered and logged. When the entry has an ETag or Last-Modified, the
// refresh is a conditional request, and a 304 renews the entry's lifetime
// and header fields. A refresh that fails (5xx, panic, timeout) never
// replaces the entry. [Cache.Wait] waits for running refreshes, for tests
// that need their effect without sleeping; [Cache.Close] waits for them
// too.
//
// With stale-if-error (the response or request directive, or
// [WithStaleIfError]), a stale entry within its window answers a refill
// that returns a 5xx, panics before writing its response, or waits for
// another request's fill past [WithLockTimeout].
//
// must-revalidate, proxy-revalidate, s-maxage and no-cache forbid serving
// an entry stale.
//
// # Concurrent misses
//
// Requests that miss on the same key while a fill is running wait for it
// rather than run the handler again: the handler runs once, and the waiters
// are served what it stored. Each waiter stops on its own request's context
// and waits at most [WithLockTimeout], then runs the handler itself. A
// waiter whose request differs from the filling one in a field the response
// varies on fills for itself. The filling handler runs detached from its
// client's cancellation while its response can still be shared: when that
// client hangs up, the handler's writes keep succeeding and being captured
// (for at most [WithRefreshTimeout]), so the waiters and the store still
// get the whole response. Once the response is a stream, or cannot be
// shared, a client that left cancels the handler's context.
//
// A fill whose response turns out not to be shareable (Set-Cookie, private,
// no freshness, too large) releases its waiters at once to run the handler
// themselves, and its key is remembered for [WithHitForMiss] so that later
// requests do not queue behind a fill that will not be shared. A response
// that flushes releases its waiters too, and is still stored if it
// completes within the limits. A handler panic is never stored, never
// wedges the key, and reaches net/http on the request that ran it (unless
// stale-if-error serves an entry in its place).
//
// # Placement relative to compression middleware
//
// A compressor changes the body and with it Content-Length, Content-Encoding,
// Vary and, in some compressors, ETag. Where it sits decides what the cache
// stores.
//
// Compression outside the cache (recommended):
//
//	handler := gzhttp.GzipHandler(c.Handler(app))
//
// The cache stores identity bodies, with the handler's ETag and a
// Content-Length that describes them; the compressor compresses every
// response, hits included, on its way out and drops Content-Length. Two
// details matter. A compressor that adds Vary: Accept-Encoding to the header before
// calling the cache (gzhttp does) is taken at its word: the cache keeps one
// identity copy per distinct Accept-Encoding value, correct but larger. And
// a compressor that rewrites the ETag of compressed responses (a suffix, as
// gzhttp's SuffixETag option adds) hands clients a tag the cache does not
// hold, so their If-None-Match never matches and they get full responses;
// one that leaves the ETag alone or marks it weak keeps 304s working, since
// the cache compares entity tags weakly.
//
// Cache outside compression, when the CPU spent compressing each hit matters
// more than memory:
//
//	handler := c.Handler(gzhttp.GzipHandler(app))
//
// The cache stores compressed bodies, so a hit costs no compression. This is
// correct only if the compressor sets Vary: Accept-Encoding on every
// response it could have compressed, compressed or not: without it, the
// first client's encoding is served to every client, including those that
// cannot decode it. With it, the cache keeps one entry per distinct
// Accept-Encoding value. The compressor must also drop or correct the
// handler's Content-Length: the cache sets Content-Length from the stored
// body and does not store a response whose body disagrees with its
// Content-Length. Here an ETag suffix does no harm to the cache (each
// encoding's entry holds its own tag), but a refresh then sends the suffixed
// tag to the handler, which will not recognise it and answers 200.
//
// # Limitations
//
//   - One process. The default [MemoryStore] and [MemoryVersions] live in
//     memory; [WithStore] and [WithVersions] accept shared implementations,
//     but none ships yet (Redis and groupcache tiers are planned).
//   - Requests with Authorization or a body are never served from the
//     cache, even when RFC 9111 would allow it (public, s-maxage).
//   - No heuristic freshness (RFC 9111, Section 4.2.2): a response without
//     s-maxage, max-age or Expires is stored only through [WithTTL].
//   - 500, 502, 503 and 504 responses are never stored, even with explicit
//     freshness, which RFC 9111 would allow.
//   - An entry with a validator (ETag, Last-Modified) is kept for its
//     lifetime again (at least an hour) past it, so that its refill is a
//     conditional request; one without is kept only for its stale windows.
//   - Header fields that middleware outside the cache sets before calling
//     it count when the cache decides whether to store (its Vary or
//     Cache-Control: private apply) but are not stored: on a hit, that
//     middleware's own fields (a request ID, a session cookie) stay as it
//     set them. A Set-Cookie set that way does not make the response
//     unstorable.
//   - Tags are 1 to 256 bytes; invalid ones are dropped and logged
//     ([WithLogger]). A response with more than 64 tags is not stored.
//   - A background refresh runs with the context values of the request that
//     started it (not its cancellation). A router that recycles a
//     per-request context object once the request ends (chi's route
//     context) must be wrapped by the cache, c.Handler(router), rather than
//     take it as route middleware, when stale-while-revalidate is on.
//   - Store and versions errors fail open: the handler serves the request,
//     and the error goes to the logger, never to the client.
//   - After [Cache.Close], requests go straight to the handler.
//
// [RFC 9111]: https://www.rfc-editor.org/rfc/rfc9111.html
// [RFC 9211]: https://www.rfc-editor.org/rfc/rfc9211.html
// [RFC 5861]: https://www.rfc-editor.org/rfc/rfc5861.html
package httpcache
