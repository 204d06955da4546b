package httpcache

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyInput is everything a key is made of.
type keyInput struct {
	version, method, host, path, query string
	vary                               []string
	header                             http.Header
}

// keyOf returns the full key of in, the way a lookup builds it.
func keyOf(t testing.TB, in keyInput) string {
	t.Helper()
	c := New(WithVersion(in.version))
	defer c.Close()
	r := &http.Request{Method: in.method, Host: in.host, URL: &url.URL{Path: in.path, RawQuery: in.query}, Header: in.header}
	p, ok := c.primaryKey(r)
	require.True(t, ok)
	k := variantKey(p, in.vary, in.header)
	return string(k[:])
}

func TestKeysDistinct(t *testing.T) {
	t.Parallel()
	base := keyInput{method: "GET", host: "example.com", path: "/a", query: "b=c"}
	tests := []struct {
		name string
		a, b keyInput
		same bool
	}{
		{"identical", base, base, true},
		{"head reads get", base, keyInput{method: "HEAD", host: "example.com", path: "/a", query: "b=c"}, true},
		{"host case", base, keyInput{method: "GET", host: "EXAMPLE.com", path: "/a", query: "b=c"}, true},
		{"version", base, keyInput{version: "2", method: "GET", host: "example.com", path: "/a", query: "b=c"}, false},
		{"boundary path/query", keyInput{method: "GET", host: "h", path: "/a?b", query: ""}, keyInput{method: "GET", host: "h", path: "/a", query: "b"}, false},
		{"boundary host/path", keyInput{method: "GET", host: "h/a", path: "/b"}, keyInput{method: "GET", host: "h", path: "/a/b"}, false},
		{"empty query vs none", keyInput{method: "GET", host: "h", path: "/"}, keyInput{method: "GET", host: "h", path: "/", query: ""}, true},
		{"absent vs empty header",
			keyInput{method: "GET", host: "h", path: "/", vary: []string{"Accept"}, header: http.Header{}},
			keyInput{method: "GET", host: "h", path: "/", vary: []string{"Accept"}, header: http.Header{"Accept": {""}}}, false},
		{"two lines vs joined",
			keyInput{method: "GET", host: "h", path: "/", vary: []string{"Accept"}, header: http.Header{"Accept": {"a", "b"}}},
			keyInput{method: "GET", host: "h", path: "/", vary: []string{"Accept"}, header: http.Header{"Accept": {"ab"}}}, false},
		{"varied value", keyInput{method: "GET", host: "h", path: "/", vary: []string{"Accept-Language"}, header: http.Header{"Accept-Language": {"en"}}},
			keyInput{method: "GET", host: "h", path: "/", vary: []string{"Accept-Language"}, header: http.Header{"Accept-Language": {"fr"}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := keyOf(t, tc.a), keyOf(t, tc.b)
			assert.Equal(t, tc.same, a == b)
		})
	}
}

func TestKeyBypass(t *testing.T) {
	t.Parallel()
	c := New()
	defer c.Close()
	_, ok := c.primaryKey(httptest.NewRequest("GET", "/"+strings.Repeat("a", maxKeyInput), nil))
	assert.False(t, ok, "a huge URL bypasses")
	empty := c.With(WithKeyFunc(func(*http.Request) string { return "" }))
	_, ok = empty.primaryKey(httptest.NewRequest("GET", "/", nil))
	assert.False(t, ok, "an empty custom key bypasses")
	assert.NotEqual(t, DefaultKey(httptest.NewRequest("GET", "/a?b", nil)), DefaultKey(httptest.NewRequest("GET", "/a%3Fb", nil)))
}

// encodeKeyInput is the byte string a key hashes, for the fuzz target.
func encodeKeyInput(version, host, path, query, name string, present bool, value string) []byte {
	b := appendPart(nil, version)
	b = appendPart(b, methodClass("GET"))
	b = appendPart(b, host)
	b = appendPart(b, path)
	b = appendPart(b, query)
	h := http.Header{}
	if present {
		h[name] = []string{value}
	}
	return appendVaryValues(b, []string{name}, h)
}

// FuzzKeyEncoding checks that the bytes a key hashes are injective: two
// distinct inputs never encode the same.
func FuzzKeyEncoding(f *testing.F) {
	f.Add("", "h", "/a", "b", "Accept", true, "x", "", "h", "/a?b", "", "Accept", true, "x")
	f.Add("v", "h", "/", "", "Accept", false, "", "v", "h", "/", "", "Accept", true, "")
	f.Add("a", "bc", "", "", "X", true, "1", "ab", "c", "", "", "X", true, "1")
	f.Fuzz(func(t *testing.T, v1, h1, p1, q1, n1 string, pr1 bool, val1 string, v2, h2, p2, q2, n2 string, pr2 bool, val2 string) {
		if !pr1 {
			val1 = ""
		}
		if !pr2 {
			val2 = ""
		}
		same := v1 == v2 && h1 == h2 && p1 == p2 && q1 == q2 && n1 == n2 && pr1 == pr2 && val1 == val2
		e1 := encodeKeyInput(v1, h1, p1, q1, n1, pr1, val1)
		e2 := encodeKeyInput(v2, h2, p2, q2, n2, pr2, val2)
		if same != (string(e1) == string(e2)) {
			t.Fatalf("inputs same=%v but encodings equal=%v", same, !same)
		}
	})
}
