package httpcache

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// WithVary takes names, but a list as a Vary field writes it ("Accept-Language,
// Cookie") is taken as one bogus name that no request has: entries vary on
// nothing, and one user's page is served to another. An invalid field name
// must panic, as the other invalid option values do (or be split as a Vary
// field is).
func TestRegression6WithVaryListIsNotOneName(t *testing.T) {
	defer func() {
		if v := recover(); v != nil {
			assert.Contains(t, v, "httpcache: ", "an invalid WithVary name panics with the package's prefix")
		}
	}()
	c := New(WithVary("Accept-Language, Cookie"), WithTTL(60e9), WithLogger(discardLogger()))
	defer c.Close()
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello " + r.Header.Get("Cookie")))
	}))
	w := do(t, h, "GET", "/", "Cookie", "user=alice")
	assert.Equal(t, "hello user=alice", w.Body.String())
	w = do(t, h, "GET", "/", "Cookie", "user=bob")
	assert.Equal(t, "hello user=bob", w.Body.String(), "bob must not get alice's page")
}
