package httpcache

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// floodBudget is the MemoryStore budget of the flood: far less than the
// 20,000 distinct responses of 1 to 16 KiB that go through it.
const (
	floodBudget = 4 << 20
	floodKeys   = 20000
)

// floodOrigin answers /k/<i> with 1 to 16 KiB (varying with i), fresh
// for 10 minutes.
func floodOrigin() http.Handler {
	text := []byte(strings.Repeat("x", 16<<10))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i int
		fmt.Sscanf(r.URL.Path, "/k/%d", &i)
		w.Header()["Cache-Control"] = []string{"max-age=600"}
		w.Write(text[:1<<10+(i*7919)%(15<<10)])
	})
}

// floodRequests returns GETs of the flood's keys.
func floodRequests() []*http.Request {
	reqs := make([]*http.Request, floodKeys)
	for i := range reqs {
		reqs[i] = httptest.NewRequest("GET", fmt.Sprintf("/k/%d", i), nil)
	}
	return reqs
}

// maxBytes records the largest value it is shown.
type maxBytes struct{ v atomic.Int64 }

func (m *maxBytes) see(n int64) {
	for old := m.v.Load(); n > old && !m.v.CompareAndSwap(old, n); old = m.v.Load() {
	}
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryStoreFloodStaysInBudget floods a 4 MiB MemoryStore, through
// Handler and from four goroutines, with 20,000 distinct responses of 1 to
// 16 KiB, each goroutine checking every 64 requests that the store holds no
// more than its budget + 5%. It logs the live heap the flood left against the budget.
//
// It does not call t.Parallel: the heap it reports is the process's.
func TestMemoryStoreFloodStaysInBudget(t *testing.T) {
	store := NewMemoryStore(floodBudget)
	c := New(WithStore(store))
	defer c.Close()
	h := c.Handler(floodOrigin())
	reqs := floodRequests()
	before := liveHeap()

	var peak maxBytes
	var wg sync.WaitGroup
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			for n, i := 0, w; i < len(reqs); n, i = n+1, i+workers {
				h.ServeHTTP(httptest.NewRecorder(), reqs[i])
				if n%64 == 0 {
					peak.see(store.Bytes())
				}
			}
		})
	}
	wg.Wait()
	peak.see(store.Bytes())

	limit := int64(floodBudget) * 105 / 100
	assert.LessOrEqual(t, peak.v.Load(), limit, "store bytes above budget + 5%")
	require.Positive(t, store.Len(), "the flood stored nothing")
	assert.Greater(t, store.Bytes(), int64(floodBudget/2), "the store is mostly empty: eviction too eager")
	do(t, h, "GET", "/k/20000") // a new key, after the flood
	w := do(t, h, "GET", "/k/20000")
	assert.True(t, strings.HasPrefix(w.Header().Get("Cache-Status"), "httpcache; hit"), "a new key is not kept")

	heap := int64(liveHeap()) - int64(before)
	runtime.KeepAlive(reqs) // counted in before: keep it in after
	t.Logf("budget %d KiB: store peak %d KiB (%.2f× budget), %d entries; live heap +%d KiB (%.2f× budget)",
		floodBudget>>10, peak.v.Load()>>10, float64(peak.v.Load())/floodBudget, store.Len(), heap>>10, float64(heap)/floodBudget)
}

// BenchmarkMemoryFlood serves a request for a new key per operation,
// cycling over 20,000 keys of 1 to 16 KiB through a 4 MiB MemoryStore. It
// reports the store's peak bytes over its budget (store/budget) and the live
// heap the flood added over the budget (heap/budget).
func BenchmarkMemoryFlood(b *testing.B) {
	store := NewMemoryStore(floodBudget)
	c := New(WithStore(store))
	defer c.Close()
	h := c.Handler(floodOrigin())
	reqs := floodRequests()
	before := liveHeap()
	var peak maxBytes
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), reqs[i%len(reqs)])
		if i%250 == 0 {
			peak.see(store.Bytes())
		}
		i++
	}
	peak.see(store.Bytes())
	b.StopTimer()
	heap := int64(liveHeap()) - int64(before)
	runtime.KeepAlive(reqs) // counted in before: keep it in after
	b.ReportMetric(float64(peak.v.Load())/floodBudget, "store/budget")
	b.ReportMetric(float64(heap)/floodBudget, "heap/budget")
}
