package httpcache

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzETagList checks the If-None-Match parser: no panic, an entity-tag
// always matches a list made of itself, and the loop always ends.
func FuzzETagList(f *testing.F) {
	for _, s := range []string{`"a"`, `W/"a", "b"`, `*`, `a, "`, `W/`, `"a" "b"`, `,,,`} {
		f.Add(s, `"a"`)
	}
	f.Fuzz(func(t *testing.T, list, etag string) {
		etagListMatches([]string{list}, etag)
		if strings.Count(etag, `"`) == 2 && strings.HasPrefix(etag, `"`) && strings.HasSuffix(etag, `"`) && !etagListMatches([]string{etag}, etag) {
			t.Fatalf("%q does not match itself", etag)
		}
	})
}

// FuzzVaryNames checks the Vary parser: no panic, and every name it returns
// is a canonical token, sorted and unique.
func FuzzVaryNames(f *testing.F) {
	for _, s := range []string{"Accept", "accept, Accept-Language", "*", "a b", ",,", "X\x00"} {
		f.Add(s)
	}
	c := New()
	defer c.Close()
	f.Fuzz(func(t *testing.T, vary string) {
		names, ok := c.varyNames(http.Header{"Vary": {vary}})
		if !ok {
			return
		}
		for i, n := range names {
			if !isToken(n) || n != http.CanonicalHeaderKey(n) || (i > 0 && names[i-1] >= n) {
				t.Fatalf("bad names %q from %q", names, vary)
			}
		}
	})
}

// FuzzAgeValue checks the Age parser: no panic, and the result is within
// [0, maxDelta] seconds.
func FuzzAgeValue(f *testing.F) {
	for _, s := range []string{"0", "60", "abc", "-1", "1.5", "0, 0", "99999999999999999999", " 7 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := ageValue([]string{s})
		if d < 0 || d > maxDelta*time.Second {
			t.Fatalf("Age %q gave %v", s, d)
		}
	})
}
