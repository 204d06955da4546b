package httpcache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Versions keeps the invalidation state shared by every policy of a Cache:
// a global counter, the epoch, and for each tag the epoch at which it was
// last invalidated. The cache never scans or deletes entries to invalidate
// them; it compares versions instead. A fill reads the epoch E0 before it
// runs the handler and stores it in [Entry.Epoch] with the entry's tags; the
// entry is current as long as Latest(entry.Tags) <= E0.
//
// The interface is shaped for a remote, fallible implementation such as one
// kept in Redis and shared by several processes: every method takes a
// context and may fail, and Latest and Bump take a batch of tags so that one
// round trip serves a whole entry or a whole invalidation. The cache fails
// open on errors: a failed Latest or Epoch is a miss that is not stored, and
// a failed Bump is returned to the caller of Invalidate.
//
// An implementation must be safe for concurrent use and keep this contract
// for every caller in every process that shares it:
//
//   - Epoch is monotonic: it never returns less than it returned before.
//   - Once Bump(tags) returns, Epoch returns more than any value it
//     returned before Bump was called, and Latest of any set holding one of
//     tags returns at least that new epoch, now and later.
//   - Latest may overstate a version, which only turns hits into misses (a
//     [MemoryVersions] does after it folds), but should not exceed the
//     epoch current when it answers, or entries filled since would be
//     misses too.
//
// Concurrent Bumps of a tag must leave it at the highest of their epochs:
// see [MemoryVersions.Bump] for why, and why seeing a Bump's new epoch
// before its tags' versions is harmless.
type Versions interface {
	// Epoch returns the current invalidation counter.
	Epoch(ctx context.Context) (uint64, error)

	// Latest returns the highest epoch at which any of tags was last
	// invalidated, or 0 if none of them ever was.
	Latest(ctx context.Context, tags []string) (uint64, error)

	// Bump invalidates tags: it advances the epoch and records the new value
	// for each tag.
	Bump(ctx context.Context, tags []string) error
}

// maxVersionTags bounds the number of tags a MemoryVersions remembers before
// it folds them into its floor.
const maxVersionTags = 1 << 20

// MemoryVersions is the in-process [Versions] a Cache uses by default. Its
// methods never fail and ignore their context.
//
// Latest, the call made on every cache hit, takes a read lock and looks the
// tags up in a map: it does not allocate. Bump takes the write lock for
// O(len(tags)) map writes; Epoch is one atomic load.
//
// The tag map grows with the number of distinct tags ever invalidated. When
// it would exceed about a million tags, MemoryVersions folds: it forgets
// every tag and raises a floor to the current epoch, below which no tag
// version can go. This conservatively invalidates every entry filled before
// the fold that carries any tag at all (every entry the cache stores carries
// at least its URL), and nothing filled after it.
//
// A MemoryVersions must be created with [NewMemoryVersions] and must not be
// copied after first use.
type MemoryVersions struct {
	// epoch is the current epoch. It is written only with mu held, so that
	// an increment and the tag versions it produces appear to Bump's other
	// callers as one step; it is read without mu (see Bump).
	epoch atomic.Uint64

	limit int // the most tags kept before folding

	mu    sync.RWMutex      // guards tags and floor
	tags  map[string]uint64 // tag -> epoch of its last invalidation
	floor uint64            // the least version of any tag, known or not
}

var _ Versions = (*MemoryVersions)(nil)

// NewMemoryVersions returns the in-process Versions a Cache uses by default.
func NewMemoryVersions() *MemoryVersions {
	return newMemoryVersions(maxVersionTags)
}

// newMemoryVersions returns a MemoryVersions that folds once it would hold
// more than limit tags.
//
// Its epoch starts at the wall clock in nanoseconds, not at zero: entries a
// shared store kept from an earlier process carry that process's epochs,
// and a restarted counter must not fall below them.
func newMemoryVersions(limit int) *MemoryVersions {
	v := &MemoryVersions{limit: limit, tags: make(map[string]uint64)}
	v.epoch.Store(uint64(max(time.Now().UnixNano(), 0)))
	return v
}

// Epoch returns the current epoch. It never fails.
func (v *MemoryVersions) Epoch(context.Context) (uint64, error) {
	return v.epoch.Load(), nil
}

// Latest returns the highest version of tags: the epoch at which one of them
// was last invalidated, no less than the floor left by a fold, or 0 if none
// of them ever was (or tags is empty). It never fails and does not allocate.
func (v *MemoryVersions) Latest(_ context.Context, tags []string) (uint64, error) {
	if len(tags) == 0 {
		return 0, nil
	}
	v.mu.RLock()
	latest := v.floor
	for _, t := range tags {
		latest = max(latest, v.tags[t])
	}
	v.mu.RUnlock()
	return latest, nil
}

// Bump invalidates tags: it advances the epoch by one and records the new
// epoch as the version of each tag. It never fails.
//
// Why Epoch needs no lock but Bump does: take a fill that snapshots
// E0 := Epoch() concurrently with Bump, which moves the epoch from E to E+1
// and then writes E+1 for tag t.
//
//   - If E0 >= E+1, the snapshot was taken after the increment, so the
//     handler ran after Bump started, hence after the write Bump announces:
//     its data is new, and Latest(t) = E+1 <= E0 rightly keeps the entry.
//     Seeing the new epoch before t's version is written is harmless.
//   - If E0 <= E, the snapshot was taken before the increment, and once
//     Bump returns Latest(t) >= E+1 > E0: the entry is a miss.
//
// The second case needs t's version to be at least E+1 from Bump's return
// on, whatever other Bumps do. Without the lock, two Bumps of t could
// increment to E+1 and E+2 and then write t in the opposite order, leaving
// t at E+1: an entry that snapshot E0 = E+1 and read its data before the
// change the second Bump announces would stay current after that Bump
// returned, serving data it invalidated. Under the lock Bumps are serialised, so each tag's version
// only grows, and a fold cannot interleave with the writes either.
func (v *MemoryVersions) Bump(_ context.Context, tags []string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	e := v.epoch.Add(1)
	if len(v.tags)+len(tags) > v.limit {
		v.foldLocked(e)
		return nil
	}
	for _, t := range tags {
		v.tags[t] = e
	}
	return nil
}

// foldLocked forgets every tag version and raises the floor to e, the epoch
// of the Bump in progress. Every forgotten version was at most e, so Latest
// still returns at least what it returned before for any set of tags: only
// entries filled before e become misses. v.mu must be held.
func (v *MemoryVersions) foldLocked(e uint64) {
	v.tags = make(map[string]uint64) // clear would keep the buckets
	v.floor = e
}
