package httpcache

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// articles is a tiny read/write application: GET renders an article with
// its revision and tags it; PUT bumps the revision and calls the hook.
type articles struct {
	mu    sync.Mutex
	rev   map[string]int
	reads atomic.Int64
}

func (a *articles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	slug := r.URL.Path
	switch r.Method {
	case http.MethodGet:
		a.reads.Add(1)
		a.mu.Lock()
		rev := a.rev[slug]
		a.mu.Unlock()
		Tag(r.Context(), "article:"+slug)
		w.Header().Set("Cache-Control", "max-age=600, stale-while-revalidate=600")
		fmt.Fprintf(w, "%s@%d", slug, rev)
	case http.MethodPut:
		a.mu.Lock()
		a.rev[slug]++
		a.mu.Unlock()
		if err := Invalidate(r.Context(), "article:"+slug); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func newArticles() *articles { return &articles{rev: map[string]int{}} }

func TestInvalidateHook(t *testing.T) {
	t.Parallel()
	a := newArticles()
	c := New()
	defer c.Close()
	h := c.Handler(a)
	checkResponse(t, do(t, h, "GET", "/x"), 200, "/x@0", statusStored)
	checkResponse(t, do(t, h, "GET", "/x"), 200, "/x@0", "httpcache; hit; ttl=600")
	assert.Equal(t, http.StatusNoContent, do(t, h, "PUT", "/x").Code)
	checkResponse(t, do(t, h, "GET", "/x"), 200, "/x@1", statusStored)
	assert.EqualValues(t, 2, a.reads.Load())
}

func TestInvalidateWithoutCache(t *testing.T) {
	t.Parallel()
	assert.ErrorIs(t, Invalidate(context.Background(), "a"), ErrNoCache)
	Tag(context.Background(), "a") // does nothing, does not panic
}

func TestInvalidateInvalidTags(t *testing.T) {
	t.Parallel()
	c := New()
	defer c.Close()
	o := newOrigin("x", "Cache-Control", "max-age=60", "Cache-Tag", "good")
	h := c.Handler(o)
	do(t, h, "GET", "/")
	err := c.Invalidate(context.Background(), "", "bad\x00tag", "good")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "httpcache: invalid tags")
	checkResponse(t, do(t, h, "GET", "/"), 200, "x", statusStored) // "good" was invalidated all the same
}

func TestInvalidateAcrossPolicies(t *testing.T) {
	t.Parallel()
	a := newArticles()
	c := New()
	defer c.Close()
	reader := c.With(WithTTL(0)).Handler(a)
	writer := c.With(WithVary("X-Tenant")).Handler(a)
	do(t, reader, "GET", "/y")
	do(t, writer, "PUT", "/y")
	checkResponse(t, do(t, reader, "GET", "/y"), 200, "/y@1", statusStored)
}

func TestInvalidateUnsafeMethod(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	c := New()
	defer c.Close()
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch r.Method {
		case http.MethodGet:
			w.Header().Set("Cache-Control", "max-age=60")
			fmt.Fprint(w, n)
		case "DELETE":
			w.WriteHeader(http.StatusForbidden)
		case "POST":
			w.Header().Set("Location", "/other")
			w.Header().Set("Content-Location", "https://elsewhere.example/list")
			w.WriteHeader(http.StatusCreated)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	body := func(target string) string { return do(t, h, "GET", target).Body.String() }
	first, other := body("/list?page=2"), body("/other")
	assert.Equal(t, first, body("/list?page=2"))
	do(t, h, "DELETE", "/list") // a 403 invalidates nothing
	assert.Equal(t, first, body("/list?page=2"))
	do(t, h, "POST", "/list") // invalidates /list (every query), and same-origin Location
	assert.NotEqual(t, first, body("/list?page=2"))
	assert.NotEqual(t, other, body("/other"))
	third := body("/list?page=2")
	do(t, h, "BREW", "/list") // unknown methods are unsafe
	assert.NotEqual(t, third, body("/list?page=2"))
}

func TestInvalidateHeaderTags(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	c := New()
	defer c.Close()
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.Method == "POST" {
			w.Header().Set("Cache-Group-Invalidation", `"group-b"`)
			return
		}
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Cache-Tag", "tag-a, shared")
		w.Header().Set("Surrogate-Key", "key-a  shared")
		w.Header().Set("Cache-Groups", `"group-b"`)
		fmt.Fprint(w, n)
	}))
	w := do(t, h, "GET", "/r")
	for _, name := range []string{"Cache-Tag", "Surrogate-Key", "Cache-Groups"} {
		assert.Empty(t, w.Header().Get(name), name)
	}
	for i, tag := range []string{"tag-a", "key-a", "shared"} {
		require.NoError(t, c.Invalidate(context.Background(), tag))
		assert.Equal(t, strconv.Itoa(i+2), do(t, h, "GET", "/r").Body.String(), tag)
	}
	pw := do(t, h, "POST", "/elsewhere")
	assert.Empty(t, pw.Header().Get("Cache-Group-Invalidation"))
	assert.Equal(t, "6", do(t, h, "GET", "/r").Body.String())
}

func TestInvalidateAllAndVersion(t *testing.T) {
	t.Parallel()
	o := newOrigin("x", "Cache-Control", "max-age=60")
	c := New()
	defer c.Close()
	do(t, c.Handler(o), "GET", "/")
	checkResponse(t, do(t, c.Handler(o), "GET", "/"), 200, "x", "httpcache; hit; ttl=60")
	checkResponse(t, do(t, c.With(WithVersion("v2")).Handler(o), "GET", "/"), 200, "x", statusStored)
	require.NoError(t, c.InvalidateAll(context.Background()))
	checkResponse(t, do(t, c.Handler(o), "GET", "/"), 200, "x", statusStored)
	require.NoError(t, c.InvalidateURL(context.Background(), "http://example.com/"))
	checkResponse(t, do(t, c.Handler(o), "GET", "/"), 200, "x", statusStored)
	assert.Error(t, c.InvalidateURL(context.Background(), "/relative"))
}

// TestInvalidateDuringFill: a fill that started before an invalidation of
// its tags is neither stored nor shared.
func TestInvalidateDuringFill(t *testing.T) {
	t.Parallel()
	c := New()
	defer c.Close()
	var calls atomic.Int64
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		Tag(r.Context(), "t")
		if n == 1 {
			require.NoError(t, c.Invalidate(context.Background(), "t")) // a write lands mid-render
		}
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, n)
	}))
	checkResponse(t, do(t, h, "GET", "/"), 200, "1", statusStored)
	checkResponse(t, do(t, h, "GET", "/"), 200, "2", statusStored)
	checkResponse(t, do(t, h, "GET", "/"), 200, "2", "httpcache; hit; ttl=60")
}

// TestInvalidateRace hammers readers and writers: once a writer's
// Invalidate returns, no reader that starts afterwards sees an older
// revision. Run with -race.
func TestInvalidateRace(t *testing.T) {
	t.Parallel()
	a := newArticles()
	c := New(WithStaleWhileRevalidate(0))
	defer c.Close()
	h := c.Handler(a)
	const slugs, writes, readers = 4, 50, 4
	var committed [slugs]atomic.Int64 // the revision each writer saw committed
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range readers {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				s := (i + n) % slugs
				min := committed[s].Load()
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/"+strconv.Itoa(s), nil))
				var got int64
				_, err := fmt.Sscanf(w.Body.String(), "/"+strconv.Itoa(s)+"@%d", &got)
				if assert.NoError(t, err) && !assert.GreaterOrEqual(t, got, min, "stale read after Invalidate returned") {
					return
				}
			}
		})
	}
	for n := range writes {
		s := n % slugs
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("PUT", "/"+strconv.Itoa(s), nil))
		require.Equal(t, http.StatusNoContent, w.Code)
		a.mu.Lock()
		rev := a.rev["/"+strconv.Itoa(s)]
		a.mu.Unlock()
		committed[s].Store(int64(rev))
	}
	close(stop)
	wg.Wait()
}

// TestRefillWriteThrough: a write that calls Refill leaves a fresh entry
// behind, so the next reader gets a hit.
func TestRefillWriteThrough(t *testing.T) {
	t.Parallel()
	a := newArticles()
	c := New()
	defer c.Close()
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			assert.NoError(t, Refill(r.Context(), r.URL.Path, "/x?y", "http://example.com/z"))
			assert.Error(t, Refill(r.Context(), "https://other.example/"))
		}
		a.ServeHTTP(w, r)
	}))
	checkResponse(t, do(t, h, "GET", "/x"), 200, "/x@0", statusStored)
	assert.Equal(t, http.StatusNoContent, do(t, h, "PUT", "/x").Code)
	c.Wait()
	checkResponse(t, do(t, h, "GET", "/x"), 200, "/x@1", "httpcache; hit; ttl=600")
	checkResponse(t, do(t, h, "GET", "/z"), 200, "/z@0", "httpcache; hit; ttl=600")
	assert.ErrorIs(t, Refill(context.Background(), "/"), ErrNoCache)
}
