package httpcache

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// epoch returns v's epoch, failing the test on error.
func epoch(t testing.TB, v Versions) uint64 {
	t.Helper()
	e, err := v.Epoch(context.Background())
	require.NoError(t, err)
	return e
}

// latest returns v's latest version of tags, failing the test on error.
func latest(t testing.TB, v Versions, tags ...string) uint64 {
	t.Helper()
	l, err := v.Latest(context.Background(), tags)
	require.NoError(t, err)
	return l
}

// bump bumps tags in v, failing the test on error.
func bump(t testing.TB, v Versions, tags ...string) {
	t.Helper()
	require.NoError(t, v.Bump(context.Background(), tags))
}

func TestMemoryVersionsEpochMonotonic(t *testing.T) {
	t.Parallel()
	v := NewMemoryVersions()
	prev := epoch(t, v)
	assert.Positive(t, prev, "a new MemoryVersions starts at the wall clock, above an earlier process's epochs")
	for _, tags := range [][]string{{"a"}, {"a"}, {"b", "c"}, nil, {"a", "b"}} {
		bump(t, v, tags...)
		e := epoch(t, v)
		assert.Greater(t, e, prev, "Bump(%q) must advance the epoch", tags)
		assert.Equal(t, e, epoch(t, v), "Epoch without Bump must not move")
		prev = e
	}
}

func TestMemoryVersionsLatestUnbumped(t *testing.T) {
	t.Parallel()
	v := NewMemoryVersions()
	assert.Zero(t, latest(t, v))
	assert.Zero(t, latest(t, v, "a"))
	bump(t, v, "a")
	assert.Zero(t, latest(t, v, "b", "c"), "tags never bumped")
	assert.Zero(t, latest(t, v), "no tags")
}

func TestMemoryVersionsBump(t *testing.T) {
	t.Parallel()
	v := NewMemoryVersions()
	bump(t, v, "a", "b")
	e1 := epoch(t, v)
	bump(t, v, "b")
	e2 := epoch(t, v)
	require.Greater(t, e2, e1)

	assert.GreaterOrEqual(t, latest(t, v, "a"), e1)
	assert.Less(t, latest(t, v, "a"), e2, "a was not bumped again")
	assert.GreaterOrEqual(t, latest(t, v, "b"), e2)
	assert.Equal(t, latest(t, v, "b"), latest(t, v, "a", "b", "z"), "Latest is the highest")
	assert.LessOrEqual(t, latest(t, v, "a", "b"), epoch(t, v), "no version above the epoch")
}

// TestMemoryVersionsSnapshot checks the rule the cache relies on: an entry
// filled with the epoch E0 is current iff none of its tags was bumped after
// E0 was read.
func TestMemoryVersionsSnapshot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		before, after [][]string // bumps before and after the fill read E0
		tags          []string   // the entry's tags
		current       bool
	}{
		{"nothing bumped", nil, nil, []string{"a"}, true},
		{"own tag bumped before", [][]string{{"a"}}, nil, []string{"a"}, true},
		{"own tag bumped after", nil, [][]string{{"a"}}, []string{"a"}, false},
		{"other tag bumped after", nil, [][]string{{"b"}}, []string{"a"}, true},
		{"one of several bumped after", nil, [][]string{{"c"}}, []string{"a", "b", "c"}, false},
		{"bumped in a batch after", nil, [][]string{{"x", "b", "y"}}, []string{"a", "b"}, false},
		{"bumped before and after", [][]string{{"a"}}, [][]string{{"a"}}, []string{"a"}, false},
		{"many before, other after", [][]string{{"a"}, {"a", "b"}, {"a"}}, [][]string{{"c"}}, []string{"a", "b"}, true},
		{"no tags", [][]string{{"a"}}, [][]string{{"a"}}, nil, true},
		{"bumped with nothing after", nil, [][]string{nil}, []string{"a"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := NewMemoryVersions()
			for _, tags := range tc.before {
				bump(t, v, tags...)
			}
			e0 := epoch(t, v)
			for _, tags := range tc.after {
				bump(t, v, tags...)
			}
			assert.Equal(t, tc.current, latest(t, v, tc.tags...) <= e0)
		})
	}
}

func TestMemoryVersionsFold(t *testing.T) {
	t.Parallel()
	v := newMemoryVersions(3)
	bump(t, v, "a")
	bump(t, v, "b")
	beforeFold := epoch(t, v)
	require.Zero(t, latest(t, v, "z"), "no fold yet")
	require.Len(t, v.tags, 2)

	bump(t, v, "c", "d") // 2 + 2 tags > 3: fold
	floor := epoch(t, v)
	assert.Empty(t, v.tags, "a fold forgets every tag")
	for _, tag := range []string{"a", "b", "c", "d", "z"} {
		assert.Equal(t, floor, latest(t, v, tag), "%q after the fold", tag)
	}
	assert.Greater(t, latest(t, v, "z"), beforeFold, "entries filled before the fold are misses")
	assert.Zero(t, latest(t, v), "no tags: nothing can invalidate the entry")

	afterFold := epoch(t, v)
	bump(t, v, "a")
	assert.Greater(t, latest(t, v, "a"), afterFold, "a bumped after the fold")
	assert.Equal(t, floor, latest(t, v, "b"), "b filled after the fold stays current")
	assert.Equal(t, latest(t, v, "a"), latest(t, v, "a", "b"))
	assert.Len(t, v.tags, 1)
}

func TestMemoryVersionsLatestAllocs(t *testing.T) {
	v := NewMemoryVersions()
	bump(t, v, "a", "b")
	tags := []string{"a", "b", "c"}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() { _, _ = v.Latest(ctx, tags) })
	assert.Zero(t, allocs)
}

// TestMemoryVersionsRace hammers Bump, Latest and Epoch together, playing the
// parts of the cache: writers change a tag's data and then invalidate it,
// fillers snapshot the epoch and then read the data into an entry, and
// readers check read-your-writes: an entry that Latest says is current holds
// every write whose Bump returned before the lookup began. Entries are kept
// in a few slots, as a store keeps old entries until they age out. A second
// run folds all the time, with a churn of distinct tags.
func TestMemoryVersionsRace(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{maxVersionTags, 4} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			t.Parallel()
			r := &versionsRace{t: t, v: newMemoryVersions(limit)}
			r.run(limit < 10)
			assert.Zero(t, r.violations.Load(), "current entries missing invalidated writes")
			assert.Positive(t, r.checks.Load(), "no current entry was ever checked")
		})
	}
}

// versionsRace is the state of one run of TestMemoryVersionsRace.
type versionsRace struct {
	t                  *testing.T
	v                  Versions
	writing, filling   atomic.Bool  // writers, fillers still running
	checks, violations atomic.Int64 // current entries seen, and stale ones
}

// raceTag is one tag of TestMemoryVersionsRace.
type raceTag struct {
	name  string
	data  atomic.Uint64                // the origin's data: how many writes
	done  atomic.Uint64                // the last write whose Bump returned
	fills atomic.Uint64                // fills so far, to pick a slot
	slots [8]atomic.Pointer[raceEntry] // the last entries filled, nil before
}

// raceEntry is an entry cached by TestMemoryVersionsRace.
type raceEntry struct{ epoch, data uint64 }

// run runs writers, fillers and readers on three tags, and with churn a
// writer that bumps a new tag each time. Readers go on after the writers
// stop until they have checked some current entries.
func (r *versionsRace) run(churn bool) {
	const writes = 2000
	r.writing.Store(true)
	r.filling.Store(true)
	var writers, readers, fillers sync.WaitGroup
	for i := range 3 {
		tg := &raceTag{name: fmt.Sprint("t", i)}
		writers.Go(func() { r.write(tg, writes) })
		writers.Go(func() { r.write(tg, writes) })
		fillers.Go(func() { r.fill(tg) })
		readers.Go(func() { r.read(tg) })
	}
	if churn {
		writers.Go(func() {
			for i := range writes {
				assert.NoError(r.t, r.v.Bump(context.Background(), []string{fmt.Sprint("churn", i)}))
			}
		})
	}
	writers.Wait()
	r.writing.Store(false)
	readers.Wait()
	r.filling.Store(false)
	fillers.Wait()
}

// write changes tg's data and invalidates it, n times. Two writers share
// each tag, so that their Bumps of it can race.
func (r *versionsRace) write(tg *raceTag, n int) {
	ctx := context.Background()
	for range n {
		before, _ := r.v.Epoch(ctx)
		d := tg.data.Add(1)
		assert.NoError(r.t, r.v.Bump(ctx, []string{tg.name}))
		after, _ := r.v.Epoch(ctx)
		l, _ := r.v.Latest(ctx, []string{tg.name})
		if !assert.Greater(r.t, after, before) || !assert.Greater(r.t, l, before) {
			return
		}
		for done := tg.done.Load(); done < d && !tg.done.CompareAndSwap(done, d); {
			done = tg.done.Load()
		}
	}
}

// fill caches tg's data the way a fill does, until the readers are done.
func (r *versionsRace) fill(tg *raceTag) {
	ctx := context.Background()
	for r.filling.Load() {
		e0, err := r.v.Epoch(ctx)
		if !assert.NoError(r.t, err) {
			return
		}
		runtime.Gosched() // the handler runs: let writers in
		ent := &raceEntry{epoch: e0, data: tg.data.Load()}
		tg.slots[tg.fills.Add(1)%uint64(len(tg.slots))].Store(ent)
	}
}

// read looks tg's entries up the way a hit does and counts current entries
// that miss a write whose invalidation had returned, until the writers are
// done and it has checked 100 current entries (or given up on that).
func (r *versionsRace) read(tg *raceTag) {
	ctx := context.Background()
	var last uint64
	for checked, idle := 0, 0; r.writing.Load() || checked < 100 && idle < 1e6; idle++ {
		done := tg.done.Load()
		e, _ := r.v.Epoch(ctx)
		if !assert.GreaterOrEqual(r.t, e, last, "epoch went backwards") {
			return
		}
		last = e
		var ents [len(tg.slots)]*raceEntry
		for i := range ents {
			ents[i] = tg.slots[i].Load()
		}
		l, err := r.v.Latest(ctx, []string{tg.name})
		if !assert.NoError(r.t, err) {
			return
		}
		for _, ent := range ents {
			if ent == nil || l > ent.epoch {
				continue // a miss
			}
			checked++
			r.checks.Add(1)
			if ent.data < done {
				r.violations.Add(1)
			}
		}
	}
}

func BenchmarkMemoryVersionsLatest(b *testing.B) {
	v := NewMemoryVersions()
	for i := range 10_000 {
		bump(b, v, fmt.Sprint("tag", i))
	}
	ctx := context.Background()
	for _, n := range []int{1, 4} {
		tags := make([]string, n)
		for i := range tags {
			tags[i] = fmt.Sprint("tag", i*997)
		}
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = v.Latest(ctx, tags)
			}
		})
		b.Run(fmt.Sprintf("tags=%d/parallel", n), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_, _ = v.Latest(ctx, tags)
				}
			})
		})
	}
}

func BenchmarkMemoryVersionsBump(b *testing.B) {
	v := NewMemoryVersions()
	ctx := context.Background()
	tags := []string{"a", "b"}
	b.ReportAllocs()
	for b.Loop() {
		_ = v.Bump(ctx, tags)
	}
}
