package httpcache

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// K: a background refresh does not see the Vary that outer middleware adds
// (gorilla/csrf adds Vary: Cookie): the refreshed entry varies on nothing,
// the vary index forgets Cookie, and one user's page goes to everyone.
func TestRegression2RefreshDropsOuterVary(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithTTL(time.Second), WithStaleWhileRevalidate(time.Minute), WithLogger(discardLogger()))
		defer c.Close()
		inner := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			who := "anon"
			if ck, err := r.Cookie("sid"); err == nil {
				who = ck.Value
			}
			io.WriteString(w, "token-for-"+who)
		}))
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Vary", "Cookie")
			inner.ServeHTTP(w, r)
		})
		do(t, h, "GET", "/form")
		do(t, h, "GET", "/form", "Cookie", "sid=alice")
		time.Sleep(2 * time.Second)
		do(t, h, "GET", "/form", "Cookie", "sid=alice") // stale hit: refresh as alice
		c.Wait()
		w := do(t, h, "GET", "/form", "Cookie", "sid=bob")
		assert.Equal(t, "token-for-bob", w.Body.String(), w.Header().Get("Cache-Status"))
	})
}

// blockingStore is a remote store whose Set hangs until its context ends.
type blockingStore struct {
	*MemoryStore
	stop chan struct{}
}

func (s *blockingStore) Set(ctx context.Context, k string, e *Entry) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stop:
		return context.Canceled
	}
}

// L: finishEntry gives Store.Set (and Versions.Latest) a context without
// cancellation or deadline: a hung remote store holds the leader (its
// chunked response never ends) and its waiters, even after the client left.
func TestRegression2StoreSetWithoutDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := &blockingStore{MemoryStore: NewMemoryStore(1 << 20), stop: make(chan struct{})}
		defer close(s.stop)
		c := New(WithStore(s), WithLogger(discardLogger()))
		defer c.Close()
		h := c.Handler(newOrigin("x", "Cache-Control", "max-age=60"))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/s", nil).WithContext(ctx))
		}()
		time.Sleep(time.Second)
		cancel() // the client gives up
		time.Sleep(time.Minute)
		select {
		case <-done:
		default:
			t.Error("leader still blocked in Store.Set a minute after its client left")
		}
		<-done
	})
}

// M: a 5xx held back for stale-if-error and replayed (the entry was
// invalidated during the fill) carries Surrogate-Control and no Cache-Status.
func TestRegression2ReplayedErrorLeaksSurrogateControl(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithLogger(discardLogger()))
		defer c.Close()
		fail := false
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if fail {
				c.InvalidateAll(context.Background()) // a write lands during the fill
				w.Header().Set("Surrogate-Control", "no-store")
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Cache-Control", "max-age=1, stale-if-error=60")
			io.WriteString(w, "old")
		}))
		do(t, h, "GET", "/e")
		time.Sleep(2 * time.Second)
		fail = true
		w := do(t, h, "GET", "/e")
		require.Equal(t, http.StatusServiceUnavailable, w.Code)
		assert.Empty(t, w.Header().Get("Surrogate-Control"))
		assert.NotEmpty(t, w.Header().Get("Cache-Status"))
	})
}

// N: a 304 whose strong ETag differs from the stored one must not update
// the stored response (RFC 9111 Section 4.3.4): the client is answered by
// an unconditional fill.
func TestRegression2NotModifiedWithOtherETagFreshens(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithLogger(discardLogger()))
		defer c.Close()
		v := "a"
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=1")
			w.Header().Set("Etag", `"`+v+`"`)
			w.Header().Set("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
			if r.Header.Get("If-Modified-Since") != "" { // checks only the date
				w.WriteHeader(http.StatusNotModified)
				return
			}
			io.WriteString(w, "body-"+v)
		}))
		do(t, h, "GET", "/n")
		time.Sleep(2 * time.Second)
		v = "b"
		w := do(t, h, "GET", "/n")
		assert.Equal(t, "body-b", w.Body.String(), "304 with ETag \"b\" freshened the entry with ETag \"a\" (%s)", w.Header().Get("Cache-Status"))
	})
}

// O: the fill's context drops the request's deadline (context.WithoutCancel):
// a handler under http.TimeoutHandler or a server deadline no longer sees it.
func TestRegression2FillLosesDeadline(t *testing.T) {
	t.Parallel()
	var has bool
	h := New(WithLogger(discardLogger())).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, has = r.Context().Deadline()
		io.WriteString(w, "x")
	}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/d", nil).WithContext(ctx))
	assert.True(t, has, "handler lost its deadline")
}
