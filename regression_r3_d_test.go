package httpcache

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

// A response refused by finishEntry for carrying more than maxTags tags
// (here 40 from Tag and 40 from Cache-Tag) releases its waiters with retry,
// after the whole response, and marks nothing hit-for-miss: concurrent
// requests for the key queue behind one fill after another (up to
// maxFillAttempts each) instead of being released at once, as a Set-Cookie
// or private response releases them (at its status: 2 s here, then 1 s per
// burst once the key is hit-for-miss). Five concurrent requests to a 1 s
// handler take 4 s, and every later burst again 4 s.
func TestRegression3TooManyTagsSerialisesWaiters(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithTTL(time.Minute), WithLogger(discardLogger()))
		defer c.Close()
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var a, b []string
			for i := 0; i < 40; i++ {
				a = append(a, fmt.Sprint("a", i))
				b = append(b, fmt.Sprint("b", i))
			}
			Tag(r.Context(), a...)
			w.Header().Set("Cache-Tag", strings.Join(b, ","))
			time.Sleep(time.Second)
			w.Write([]byte("list"))
		}))
		burst := func() time.Duration {
			start := time.Now()
			var wg sync.WaitGroup
			for i := 0; i < 5; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					do(t, h, "GET", "/list")
				}()
			}
			wg.Wait()
			return time.Since(start)
		}
		assert.LessOrEqual(t, burst(), 2*time.Second, "waiters queued behind unshareable fills")
		assert.LessOrEqual(t, burst(), time.Second, "the key is not remembered as hit-for-miss")
	})
}
