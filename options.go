package httpcache

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

// Defaults of the options, as their docs state them.
const (
	// DefaultMaxBodyBytes is the largest body stored when WithMaxBodyBytes
	// is not given.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultLockTimeout is how long a request waits for another request's
	// fill of the same key when WithLockTimeout is not given (nginx's
	// proxy_cache_lock_timeout).
	DefaultLockTimeout = 5 * time.Second
	// DefaultHitForMiss is how long a key whose response could not be shared
	// is remembered as such when WithHitForMiss is not given.
	DefaultHitForMiss = 30 * time.Second
	// DefaultMaxRefreshes bounds the background refreshes running at once
	// when WithMaxRefreshes is not given.
	DefaultMaxRefreshes = 64
	// DefaultRefreshTimeout bounds one background refresh when
	// WithRefreshTimeout is not given.
	DefaultRefreshTimeout = 30 * time.Second
)

// An Option configures a [Cache]; pass it to [New] or [Cache.With].
type Option func(*config)

// config is the policy of one Cache value. Fields marked core configure what
// every policy derived with With shares, and are refused by With.
type config struct {
	ttl, swr, sie      time.Duration
	maxBody            int64
	vary               []string // canonical, sorted, unique
	keyFunc            KeyFunc  // nil: the default, built without allocating
	version            string
	lockTimeout        time.Duration
	hitForMiss         time.Duration
	softPurge          bool
	store              Store        // core
	versions           Versions     // core
	logger             *slog.Logger // core
	maxRefreshes       int          // core
	refreshTimeout     time.Duration
	coreOptionsApplied []string // names of core options, for With's check
}

func defaultConfig() config {
	return config{
		maxBody:        DefaultMaxBodyBytes,
		lockTimeout:    DefaultLockTimeout,
		hitForMiss:     DefaultHitForMiss,
		maxRefreshes:   DefaultMaxRefreshes,
		refreshTimeout: DefaultRefreshTimeout,
	}
}

// WithTTL sets the freshness lifetime of responses that state none (no
// s-maxage, max-age or Expires) and whose status is 200, 203, 204, 300, 301
// or 308. By default such responses are not stored: only what the handler
// declares fresh is. New panics if d is negative.
func WithTTL(d time.Duration) Option {
	return func(c *config) { c.ttl = nonNegative("WithTTL", d) }
}

// WithStaleWhileRevalidate lets an entry be served stale for d past its
// lifetime while one background request refreshes it, for responses that do
// not set their own stale-while-revalidate directive. The default is 0: off.
func WithStaleWhileRevalidate(d time.Duration) Option {
	return func(c *config) { c.swr = nonNegative("WithStaleWhileRevalidate", d) }
}

// WithStaleIfError lets an entry be served stale for d past its lifetime
// when refilling it fails (a 5xx, a panic, a timeout), for responses that do
// not set their own stale-if-error directive. The default is 0: off.
func WithStaleIfError(d time.Duration) Option {
	return func(c *config) { c.sie = nonNegative("WithStaleIfError", d) }
}

// WithMaxBodyBytes sets the largest body that is stored; a larger response
// streams to its client whole and is not stored. The default is
// [DefaultMaxBodyBytes]. New panics if n is not positive.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) {
		if n <= 0 {
			panic(fmt.Sprintf("httpcache: WithMaxBodyBytes(%d): must be positive", n))
		}
		c.maxBody = n
	}
}

// WithVary makes every entry vary on the named request header fields, as if
// each response listed them in its Vary field. Use it for headers a handler
// reads without saying so. The default is none. New panics if a name is
// not a field name (one name per argument: "Accept-Language, Cookie" is
// two arguments) or is "*".
func WithVary(headers ...string) Option {
	return func(c *config) {
		for _, h := range headers {
			if h == "*" || !isToken(h) {
				panic(fmt.Sprintf("httpcache: WithVary(%q): not a header field name; pass one name per argument", h))
			}
			c.vary = append(c.vary, http.CanonicalHeaderKey(h))
		}
		slices.Sort(c.vary)
		c.vary = slices.Compact(c.vary)
	}
}

// WithKeyFunc sets how a request names its resource (see [KeyFunc]). The
// default is [DefaultKey]. New panics if f is nil.
func WithKeyFunc(f KeyFunc) Option {
	return func(c *config) {
		if f == nil {
			panic("httpcache: WithKeyFunc(nil)")
		}
		c.keyFunc = f
	}
}

// WithVersion sets the global key version. Every key includes it, so
// changing it (on a deploy that changes how pages render, say) orphans every
// stored entry at once; they age out of the store. The default is "".
func WithVersion(v string) Option {
	return func(c *config) { c.version = v }
}

// WithLockTimeout sets how long a request waits for another request that
// is filling the same key before it runs the handler itself. The default is
// [DefaultLockTimeout]. New panics if d is not positive.
func WithLockTimeout(d time.Duration) Option {
	return func(c *config) { c.lockTimeout = positive("WithLockTimeout", d) }
}

// WithHitForMiss sets how long a key whose response could not be shared
// (Set-Cookie, private, too large, a stream) is remembered as such, so that
// requests for it run the handler at once instead of queueing behind a fill
// that will not be shared (Varnish's hit-for-miss). The default is
// [DefaultHitForMiss]; 0 turns it off.
func WithHitForMiss(d time.Duration) Option {
	return func(c *config) { c.hitForMiss = nonNegative("WithHitForMiss", d) }
}

// WithSoftPurge makes invalidated entries behave as stale ones instead of
// misses: they are served while one background request refills them, as
// Fastly's and Varnish's soft purges do. It gives up read-your-writes, so
// the default is false.
func WithSoftPurge(on bool) Option {
	return func(c *config) { c.softPurge = on }
}

// WithRefreshTimeout bounds each background refresh. The default is
// [DefaultRefreshTimeout]. New panics if d is not positive.
func WithRefreshTimeout(d time.Duration) Option {
	return func(c *config) { c.refreshTimeout = positive("WithRefreshTimeout", d) }
}

// WithMaxRefreshes bounds the background refreshes that run at once; past
// the bound, stale entries are served without starting one. The default is
// [DefaultMaxRefreshes]. It configures the shared core, so [Cache.With]
// refuses it. New panics if n is not positive.
func WithMaxRefreshes(n int) Option {
	return func(c *config) {
		if n <= 0 {
			panic(fmt.Sprintf("httpcache: WithMaxRefreshes(%d): must be positive", n))
		}
		c.maxRefreshes = n
		c.coreOptionsApplied = append(c.coreOptionsApplied, "WithMaxRefreshes")
	}
}

// WithStore sets where entries are kept. The default is a [MemoryStore] of
// [DefaultMemoryBytes]; use NewMemoryStore for another budget. It configures
// the shared core, so [Cache.With] refuses it. New panics if s is nil.
func WithStore(s Store) Option {
	return func(c *config) {
		if s == nil {
			panic("httpcache: WithStore(nil)")
		}
		c.store = s
		c.coreOptionsApplied = append(c.coreOptionsApplied, "WithStore")
	}
}

// WithVersions sets where tag versions are kept. The default is a
// [MemoryVersions]; several processes sharing one store must share one
// Versions too. It configures the shared core, so [Cache.With] refuses it.
// New panics if v is nil.
func WithVersions(v Versions) Option {
	return func(c *config) {
		if v == nil {
			panic("httpcache: WithVersions(nil)")
		}
		c.versions = v
		c.coreOptionsApplied = append(c.coreOptionsApplied, "WithVersions")
	}
}

// WithLogger sets where the cache reports what it cannot tell a client:
// store and versions errors (the request was served by the handler),
// panics in background refreshes, malformed tags. The default is
// slog.Default() as of New. It configures the shared core, so [Cache.With]
// refuses it. New panics if l is nil.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l == nil {
			panic("httpcache: WithLogger(nil)")
		}
		c.logger = l
		c.coreOptionsApplied = append(c.coreOptionsApplied, "WithLogger")
	}
}

func nonNegative(name string, d time.Duration) time.Duration {
	if d < 0 {
		panic(fmt.Sprintf("httpcache: %s(%v): must not be negative", name, d))
	}
	return d
}

func positive(name string, d time.Duration) time.Duration {
	if d <= 0 {
		panic(fmt.Sprintf("httpcache: %s(%v): must be positive", name, d))
	}
	return d
}

// applyOptions applies opts to cfg; a nil Option is a programmer error.
func applyOptions(cfg *config, opts []Option) {
	for _, opt := range opts {
		if opt == nil {
			panic("httpcache: nil Option")
		}
		opt(cfg)
	}
}
