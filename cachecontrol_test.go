package httpcache

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// absentCC is what parseCacheControl returns for a header without directives.
func absentCC() cacheControl {
	return cacheControl{maxAge: -1, sMaxAge: -1, minFresh: -1, staleWhileRevalidate: -1, staleIfError: -1, maxStale: -1}
}

// cacheControlTests are the table of TestParseCacheControl; in holds the
// field lines separated by "\n", and set turns absentCC into the result.
var cacheControlTests = []struct {
	name string
	in   string
	set  func(*cacheControl)
}{
	{"empty", "", func(*cacheControl) {}},
	{"only commas and spaces", " , ,\t,", func(*cacheControl) {}},
	{"max-age", "max-age=60", func(c *cacheControl) { c.maxAge = 60 }},
	{"s-maxage", "s-maxage=120", func(c *cacheControl) { c.sMaxAge = 120 }},
	{"zero", "max-age=0", func(c *cacheControl) { c.maxAge = 0 }},
	{"leading zeros", "max-age=007", func(c *cacheControl) { c.maxAge = 7 }},
	{"upper case", "MAX-AGE=5, No-Store", func(c *cacheControl) { c.maxAge = 5; c.noStore = true }},
	{"mixed case s-maxage", "S-MaxAge=9", func(c *cacheControl) { c.sMaxAge = 9 }},
	{"non-ASCII fold is not a match", "no-\u017ftore, \u017f-maxage=1, mu\u017ft-revalidate", func(*cacheControl) {}},
	{"spaces around equals", "max-age = 60 ,\tpublic\t", func(c *cacheControl) { c.maxAge = 60; c.public = true }},
	{"empty elements", ",,public,,,max-age=1,", func(c *cacheControl) { c.public = true; c.maxAge = 1 }},
	{"all flags", "no-store, public, must-revalidate, proxy-revalidate, only-if-cached, no-transform, must-understand, immutable", func(c *cacheControl) {
		c.noStore, c.public, c.mustRevalidate, c.proxyRevalidate = true, true, true, true
		c.onlyIfCached, c.noTransform, c.mustUnderstand, c.immutable = true, true, true, true
	}},
	{"request directives", "max-stale=10, min-fresh=20, only-if-cached", func(c *cacheControl) { c.maxStale = 10; c.minFresh = 20; c.onlyIfCached = true }},
	{"rfc 5861", "stale-while-revalidate=30, stale-if-error=600", func(c *cacheControl) { c.staleWhileRevalidate = 30; c.staleIfError = 600 }},
	{"max-stale without value", "max-stale", func(c *cacheControl) { c.maxStale = 1 << 31; c.maxStaleAny = true }},
	{"max-stale empty value", "max-stale=", func(*cacheControl) {}},
	{"max-stale malformed", "max-stale=abc", func(*cacheControl) {}},
	{"quoted delta", `max-age="5"`, func(c *cacheControl) { c.maxAge = 5 }},
	{"quoted delta with escape", `max-age="\5"`, func(c *cacheControl) { c.maxAge = 5 }},
	{"clamp at 2^31", "max-age=2147483648", func(c *cacheControl) { c.maxAge = 1 << 31 }},
	{"clamp above 2^31", "max-age=2147483649, s-maxage=99999999999999999999999999", func(c *cacheControl) { c.maxAge = 1 << 31; c.sMaxAge = 1 << 31 }},
	{"below 2^31 kept", "max-age=2147483647", func(c *cacheControl) { c.maxAge = 1<<31 - 1 }},
	{"max-age letters", "max-age=abc", func(c *cacheControl) { c.maxAge = 0 }},
	{"max-age negative", "max-age=-1", func(c *cacheControl) { c.maxAge = 0 }},
	{"max-age fraction", "max-age=1.5", func(c *cacheControl) { c.maxAge = 0 }},
	{"max-age without value", "max-age", func(c *cacheControl) { c.maxAge = 0 }},
	{"max-age empty value", "max-age=, public", func(c *cacheControl) { c.maxAge = 0; c.public = true }},
	{"max-age plus sign", "s-maxage=+5", func(c *cacheControl) { c.sMaxAge = 0 }},
	{"max-age trailing junk", "max-age=5 6", func(c *cacheControl) { c.maxAge = 0 }},
	{"max-age non-ASCII digit", "max-age=\u0665", func(c *cacheControl) { c.maxAge = 0 }},
	{"min-fresh malformed", "min-fresh=x", func(*cacheControl) {}},
	{"swr and sie malformed", "stale-while-revalidate=-3, stale-if-error=1e3", func(*cacheControl) {}},
	{"duplicate first wins", "max-age=10, max-age=20", func(c *cacheControl) { c.maxAge = 10 }},
	{"duplicate malformed first wins", "max-age=x, max-age=20, max-stale=y, max-stale=3", func(c *cacheControl) { c.maxAge = 0 }},
	{"duplicate across lines", "max-age=10\nmax-age=20, s-maxage=3", func(c *cacheControl) { c.maxAge = 10; c.sMaxAge = 3 }},
	{"multiple lines", "public\nmax-age=60\n\nstale-while-revalidate=5", func(c *cacheControl) { c.public = true; c.maxAge = 60; c.staleWhileRevalidate = 5 }},
	{"flag with argument", "no-store=1, public=yes, immutable=\"x\"", func(c *cacheControl) { c.noStore = true; c.public = true; c.immutable = true }},
	{"flag with junk", "no-store junk", func(c *cacheControl) { c.noStore = true }},
	{"unknown directives", "foo, bar=baz, community=\"UCI\", max-age=1", func(c *cacheControl) { c.maxAge = 1 }},
	{"unknown quoted value with commas", `foo="a,max-age=5", public`, func(c *cacheControl) { c.public = true }},
	{"unknown quoted value with escaped quote", `foo="a\",max-age=5", s-maxage=2`, func(c *cacheControl) { c.sMaxAge = 2 }},
	{"unterminated quote", `foo="a, max-age=5`, func(*cacheControl) {}},
	{"unterminated quote ends at line end", "foo=\"a, max-age=5\nmax-age=7", func(c *cacheControl) { c.maxAge = 7 }},
	{"unterminated quoted delta", `max-age="60`, func(c *cacheControl) { c.maxAge = 0 }},
	{"trailing backslash", `foo="\`, func(*cacheControl) {}},
	{"quoted string as junk", `public "x,max-age=5", private`, func(c *cacheControl) { c.public = true; c.private = true }},
	{"no-cache", "no-cache", func(c *cacheControl) { c.noCache = true }},
	{"private", "PRIVATE", func(c *cacheControl) { c.private = true }},
	{"qualified no-cache", `no-cache="set-cookie, x-foo"`, func(c *cacheControl) { c.noCacheFields = []string{"Set-Cookie", "X-Foo"} }},
	{"qualified private token", "private=x-user", func(c *cacheControl) { c.privateFields = []string{"X-User"} }},
	{"qualified list empties", `private=" ,a,, b ,"`, func(c *cacheControl) { c.privateFields = []string{"A", "B"} }},
	{"qualified list escapes", `no-cache="set\-cookie"`, func(c *cacheControl) { c.noCacheFields = []string{"Set-Cookie"} }},
	{"qualified empty is unqualified", `no-cache="", private=`, func(c *cacheControl) { c.noCache = true; c.private = true }},
	{"qualified blank is unqualified", `no-cache=" , "`, func(c *cacheControl) { c.noCache = true }},
	{"qualified invalid names skipped", `private="a b, c"`, func(c *cacheControl) { c.privateFields = []string{"C"} }},
	{"qualified unterminated is unqualified", `no-cache="a, b`, func(c *cacheControl) { c.noCache = true }},
	{"qualified then unqualified", `no-cache="a", no-cache`, func(c *cacheControl) { c.noCache = true; c.noCacheFields = []string{"A"} }},
	{"qualified lists union", "private=a\nprivate=\"b, A\"", func(c *cacheControl) { c.privateFields = []string{"A", "B"} }},
	{"qualified does not leak", `no-cache="max-age", max-age=3`, func(c *cacheControl) { c.noCacheFields = []string{"Max-Age"}; c.maxAge = 3 }},
	{"name with quote", `no-cache"a", max-age=1`, func(c *cacheControl) { c.noCache = true; c.maxAge = 1 }},
	{"value without name", `=5, "x", public`, func(c *cacheControl) { c.public = true }},
	{"typical response", "public, max-age=60, stale-while-revalidate=30", func(c *cacheControl) { c.public = true; c.maxAge = 60; c.staleWhileRevalidate = 30 }},
}

// splitLines turns a table input into field lines; "" is no line at all.
func splitLines(in string) []string {
	if in == "" {
		return nil
	}
	return strings.Split(in, "\n")
}

func TestParseCacheControl(t *testing.T) {
	t.Parallel()
	for _, tc := range cacheControlTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := absentCC()
			tc.set(&want)
			assert.Equal(t, want, parseCacheControl(splitLines(tc.in)))
		})
	}
}

func TestParseCacheControlNilAndHeader(t *testing.T) {
	t.Parallel()
	assert.Equal(t, absentCC(), parseCacheControl(nil))
	h := http.Header{}
	h.Add("Cache-Control", "max-age=1")
	h.Add("Cache-Control", "no-cache=\"Set-Cookie\"")
	got := parseCacheControl(h["Cache-Control"])
	assert.Equal(t, int64(1), got.maxAge)
	assert.Equal(t, []string{"Set-Cookie"}, got.noCacheFields)
	assert.False(t, got.noCache)
}

func TestParseCacheControlAllocs(t *testing.T) {
	for _, in := range []string{
		"public, max-age=60, stale-while-revalidate=30",
		"private, no-cache, no-store, must-revalidate, max-age=0",
		`max-age="5", foo="a,b", s-maxage=10, stale-if-error=2147483649, X-Unknown-Directive`,
	} {
		lines := []string{in, "immutable"}
		allocs := testing.AllocsPerRun(100, func() { parseCacheControl(lines) })
		assert.Zero(t, allocs, in)
	}
}

func TestParseHTTPDate(t *testing.T) {
	t.Parallel()
	want := time.Date(1994, time.November, 6, 8, 49, 37, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", true},
		{"RFC 850", "Sunday, 06-Nov-94 08:49:37 GMT", true},
		{"asctime", "Sun Nov  6 08:49:37 1994", true},
		{"zero", "0", false},
		{"empty", "", false},
		{"garbage", "tomorrow", false},
		{"negative", "-1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseHTTPDate(tc.in)
			require.Equal(t, tc.ok, ok)
			if tc.ok {
				assert.True(t, want.Equal(got), "got %v", got)
			}
		})
	}
}

func BenchmarkParseCacheControl(b *testing.B) {
	lines := []string{"public, max-age=60, stale-while-revalidate=30"}
	b.ReportAllocs()
	for b.Loop() {
		parseCacheControl(lines)
	}
}

func FuzzParseCacheControl(f *testing.F) {
	for _, tc := range cacheControlTests {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		lines := splitLines(in)
		cc := parseCacheControl(lines)
		checkCCInvariants(t, cc)
		if !strings.Contains(in, `"`) {
			assert.Equal(t, cc, parseCacheControl([]string{strings.Join(lines, ",")}), "joined lines")
		}
	})
}

// checkCCInvariants checks what holds for every parse result.
func checkCCInvariants(t *testing.T, cc cacheControl) {
	t.Helper()
	for _, d := range []int64{cc.maxAge, cc.sMaxAge, cc.minFresh, cc.staleWhileRevalidate, cc.staleIfError, cc.maxStale} {
		assert.True(t, d == -1 || 0 <= d && d <= 1<<31, "delta %d", d)
	}
	assert.True(t, !cc.maxStaleAny || cc.maxStale == 1<<31, "maxStaleAny with %d", cc.maxStale)
	for _, list := range [][]string{cc.noCacheFields, cc.privateFields} {
		for _, name := range list {
			assert.NotEmpty(t, name)
			assert.Equal(t, http.CanonicalHeaderKey(name), name)
		}
	}
}
