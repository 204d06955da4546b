package httpcache

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSurrogateControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		kv     []string
		stored bool
	}{
		{"max-age", []string{"Surrogate-Control", "max-age=60"}, true},
		{"targeted at us", []string{"Surrogate-Control", "max-age=60;httpcache"}, true},
		{"targeted elsewhere", []string{"Surrogate-Control", "max-age=60;edge-9"}, false},
		{"overrides cc no-store", []string{"Cache-Control", "no-store", "Surrogate-Control", "max-age=60"}, true},
		{"no-store overrides cc", []string{"Cache-Control", "max-age=60", "Surrogate-Control", "no-store"}, false},
		{"zero overrides cc", []string{"Cache-Control", "max-age=60", "Surrogate-Control", "max-age=0"}, false},
		{"malformed ignored", []string{"Cache-Control", "max-age=60", "Surrogate-Control", "max-age= 100"}, true},
		{"extension and case", []string{"Surrogate-Control", `foobar, content="a, b", MaX-aGe=60`}, true},
		{"fresh plus stale", []string{"Surrogate-Control", "max-age=60+30"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := New()
			defer c.Close()
			h := c.Handler(newOrigin("x", tc.kv...))
			first := do(t, h, "GET", "/")
			assert.Empty(t, first.Header().Get("Surrogate-Control"), "stripped for clients")
			second := do(t, h, "GET", "/")
			assert.Equal(t, tc.stored, isHit(second), second.Header().Get("Cache-Status"))
			assert.Empty(t, second.Header().Get("Surrogate-Control"))
		})
	}
}

func FuzzParseSurrogateControl(f *testing.F) {
	for _, s := range []string{"max-age=60", "max-age=60;httpcache, no-store;x", `content="a,\"b", max-age=1+2`, "max-age=99999999999999999999", `"`, ";", "=,="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc := parseSurrogateControl([]string{s})
		if sc.maxAge < -1 || sc.maxAge > maxDelta {
			t.Fatalf("max-age %d out of range", sc.maxAge)
		}
	})
}

// Review 9: a no-store or private hidden by malformed Cache-Control syntax
// (junk after a value, an unterminated quote) still forbids storing.
func TestMalformedCacheControlHidesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cc     string
		stored bool
	}{
		{"max-age=60 private", false},
		{`max-age=60, foo="x, no-store`, false},
		{"max-age=60, public no-store", false},
		{`max-age=60, private="X-User"`, true},
		{"max-age=60, no-store=1", false},
		{"max-age=60, x-private-thing", true},
		{"max-age=60", true},
	}
	for _, tc := range tests {
		t.Run(tc.cc, func(t *testing.T) {
			t.Parallel()
			c := New()
			defer c.Close()
			h := c.Handler(newOrigin("x", "Cache-Control", tc.cc, "Etag", `"e"`))
			do(t, h, "GET", "/")
			w := do(t, h, "GET", "/")
			assert.Equal(t, tc.stored, isHit(w), w.Header().Get("Cache-Status"))
		})
	}
}
