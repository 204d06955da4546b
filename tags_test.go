package httpcache

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hdr returns a header holding the given name, value pairs, in order.
func hdr(kv ...string) http.Header {
	h := make(http.Header)
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// tagList returns n distinct tags: prefix0, prefix1, ...
func tagList(prefix string, n int) []string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprint(prefix, i)
	}
	return tags
}

// sfList serialises tags as an RFC 8941 List of Strings.
func sfList(tags []string) string {
	quoted := make([]string, len(tags))
	for i, tag := range tags {
		tag = strings.ReplaceAll(tag, `\`, `\\`)
		quoted[i] = `"` + strings.ReplaceAll(tag, `"`, `\"`) + `"`
	}
	return strings.Join(quoted, ", ")
}

func TestValidTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tag  string
		want bool
	}{
		{"plain", "product:42", true},
		{"one byte", "a", true},
		{"inner space", "a b", true},
		{"punctuation", `a,b;"c"\d`, true},
		{"utf-8", "café", true},
		{"max length", strings.Repeat("x", maxTagLen), true},
		{"empty", "", false},
		{"too long", strings.Repeat("x", maxTagLen+1), false},
		{"nul", "a\x00", false},
		{"leading control", "\x01url", false},
		{"tab", "a\tb", false},
		{"newline", "a\nb", false},
		{"unit separator", "\x1f", false},
		{"del", "a\x7f", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, validTag(tc.tag))
		})
	}
}

func TestHeaderTags(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", maxTagLen+1)
	tests := []struct {
		name    string
		h       http.Header
		want    []string
		wantErr error
	}{
		{"none", hdr("Content-Type", "text/plain"), nil, nil},
		{"cache-tag", hdr("Cache-Tag", "a,b"), []string{"a", "b"}, nil},
		{"cache-tag spaces", hdr("Cache-Tag", " a ,\tb\t, c d "), []string{"a", "b", "c d"}, nil},
		{"cache-tag empty items", hdr("Cache-Tag", ",, a,,b ,"), []string{"a", "b"}, nil},
		{"cache-tag empty", hdr("Cache-Tag", ""), nil, nil},
		{"cache-tag lines", hdr("Cache-Tag", "a", "Cache-Tag", "b,a"), []string{"a", "b"}, nil},
		{"surrogate-key", hdr("Surrogate-Key", "a b"), []string{"a", "b"}, nil},
		{"surrogate-key runs", hdr("Surrogate-Key", "  a \t\t b  \tc "), []string{"a", "b", "c"}, nil},
		{"surrogate-key commas", hdr("Surrogate-Key", "a,b c"), []string{"a,b", "c"}, nil},
		{"surrogate-key lines", hdr("Surrogate-Key", "a", "Surrogate-Key", "b"), []string{"a", "b"}, nil},
		{"cache-groups", hdr("Cache-Groups", `"a", "b c"`), []string{"a", "b c"}, nil},
		{"cache-groups params", hdr("Cache-Groups", `"a";x=1;y, "b";z="q,r"`), []string{"a", "b"}, nil},
		{"cache-groups lines", hdr("Cache-Groups", `"a"`, "Cache-Groups", `"b"`), []string{"a", "b"}, nil},
		{"cache-groups escapes", hdr("Cache-Groups", `"a\"b", "c\\d"`), []string{`a"b`, `c\d`}, nil},
		{"dupes across sources", hdr("Cache-Tag", "a, b", "Surrogate-Key", "b c a", "Cache-Groups", `"c", "d"`), []string{"a", "b", "c", "d"}, nil},
		{"too many", hdr("Surrogate-Key", strings.Join(tagList("t", maxTags+6), " ")), tagList("t", maxTags), errTooManyTags},
		{"too many across sources", hdr("Cache-Tag", strings.Join(tagList("t", maxTags), ","), "Surrogate-Key", "t0 extra"), tagList("t", maxTags), errTooManyTags},
		{"dupes do not count", hdr("Cache-Tag", strings.Join(tagList("t", maxTags), ","), "Surrogate-Key", "t0 t1"), tagList("t", maxTags), nil},
		{"too long", hdr("Cache-Tag", "a,"+long+",b"), []string{"a", "b"}, errInvalidTag},
		{"control char", hdr("Cache-Tag", "a\x01b, c", "Surrogate-Key", "d\x7f e"), []string{"c", "e"}, errInvalidTag},
		{"empty group", hdr("Cache-Groups", `"", "a"`), []string{"a"}, errInvalidTag},
		{"control char in group", hdr("Cache-Groups", "\"a\x01\", \"b\""), nil, errGroupSyntax},
		{"bad groups keep others", hdr("Cache-Tag", "a", "Cache-Groups", `"b", c`), []string{"a"}, errGroupSyntax},
		{"bad groups line spoils field", hdr("Cache-Groups", `"a"`, "Cache-Groups", `"b`), nil, errGroupSyntax},
		{"invalidation field not a tag", hdr("Cache-Group-Invalidation", `"a"`), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tags, err := headerTags(tc.h)
			assert.Equal(t, tc.want, tags)
			if tc.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.wantErr)
			}
		})
	}
}

func TestHeaderTagsError(t *testing.T) {
	t.Parallel()
	h := hdr("Cache-Tag", "\x00a, \x01b, "+strings.Join(tagList("t", maxTags+2), ","), "Cache-Groups", `"x",`)
	tags, err := headerTags(h)
	assert.Equal(t, tagList("t", maxTags), tags)
	require.Error(t, err)
	assert.ErrorIs(t, err, errInvalidTag)
	assert.ErrorIs(t, err, errTooManyTags)
	assert.ErrorIs(t, err, errGroupSyntax)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 3)
	for _, line := range lines {
		assert.True(t, strings.HasPrefix(line, "httpcache: "), line)
	}
	assert.Contains(t, lines[0], `dropped 2, the first "\x00a"`)
	assert.Contains(t, lines[1], "dropped 2 past the limit of 64")
	assert.Contains(t, lines[2], "trailing comma at byte 4; Cache-Groups ignored")
}

func TestHeaderTagsNoAlloc(t *testing.T) {
	h := hdr("Content-Type", "text/html", "Cache-Control", "max-age=60", "Etag", `"x"`)
	allocs := testing.AllocsPerRun(100, func() {
		if tags, err := headerTags(h); tags != nil || err != nil {
			panic("tags from a header without tag fields")
		}
	})
	assert.Zero(t, allocs)
}

func TestStripTagHeaders(t *testing.T) {
	t.Parallel()
	h := hdr("Cache-Tag", "a", "Surrogate-Key", "b", "Cache-Groups", `"c"`,
		"Cache-Group-Invalidation", `"d"`, "Content-Type", "text/plain", "Cache-Control", "max-age=1")
	stripTagHeaders(h)
	assert.Equal(t, hdr("Content-Type", "text/plain", "Cache-Control", "max-age=1"), h)
}

func TestParseCacheGroups(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"no field", nil, nil},
		{"empty", []string{""}, nil},
		{"spaces only", []string{"   "}, nil},
		{"one", []string{`"a"`}, []string{"a"}},
		{"two", []string{`"a","b"`}, []string{"a", "b"}},
		{"ows around comma", []string{`"a" ,	 "b"`}, []string{"a", "b"}},
		{"leading and trailing sp", []string{`  "a"  `}, []string{"a"}},
		{"trailing tab", []string{"\"a\"\t"}, []string{"a"}},
		{"duplicates kept", []string{`"a", "a"`}, []string{"a", "a"}},
		{"escapes", []string{`"a\"b\\c"`}, []string{`a"b\c`}},
		{"empty string", []string{`""`}, []string{""}},
		{"punctuation", []string{`"a,b;c=(d) 'e'"`}, []string{"a,b;c=(d) 'e'"}},
		{"flag param", []string{`"a";x, "b";*y`}, []string{"a", "b"}},
		{"params", []string{`"a";x=1;y=?0;z=-2.5, "b"`}, []string{"a", "b"}},
		{"sp before key", []string{`"a"; x=1;  y=2`}, []string{"a"}},
		{"key chars", []string{`"a";a0_-.*=1`}, []string{"a"}},
		{"string param with delimiters", []string{`"a";x="s;, \"t", "b"`}, []string{"a", "b"}},
		{"token param", []string{`"a";x=tok/en:x!#, "b"`}, []string{"a", "b"}},
		{"byte sequence param", []string{`"a";x=:aGk+/w==:, "b"`}, []string{"a", "b"}},
		{"date param", []string{`"a";x=@1659578233`}, []string{"a"}},
		{"display string param", []string{`"a";x=%"caf%c3%a9, yes";y=1, "b"`}, []string{"a", "b"}},
		{"integer bounds", []string{`"a";x=-999999999999999;y=999999999999.999`}, []string{"a"}},
		{"lines", []string{`"a"`, `"b", "c"`}, []string{"a", "b", "c"}},
		{"empty line skipped", []string{`"a"`, "", " ", `"b"`}, []string{"a", "b"}},
		{"string across lines", []string{`"a`, `b"`}, []string{"a, b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseCacheGroups(tc.lines)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseCacheGroupsMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		field string
		at    string // the error's end
	}{
		{"unterminated string", `"a`, "unterminated string at byte 2"},
		{"unterminated after escape", `"a\"`, "unterminated string at byte 4"},
		{"bad escape", `"a\x"`, "bad escape in string at byte 3"},
		{"escape at end", `"a\`, "bad escape in string at byte 3"},
		{"token member", `"a", b`, "member is not a string at byte 5"},
		{"integer member", `1`, "member is not a string at byte 0"},
		{"boolean member", `?1`, "member is not a string at byte 0"},
		{"inner list", `("a" "b")`, "inner list member at byte 0"},
		{"trailing comma", `"a",`, "trailing comma at byte 4"},
		{"trailing comma and space", `"a", `, "trailing comma at byte 5"},
		{"leading comma", `,"a"`, "member is not a string at byte 0"},
		{"empty member", `"a",,"b"`, "member is not a string at byte 4"},
		{"missing comma", `"a" "b"`, "expected a comma at byte 4"},
		{"leading tab", "\t\"a\"", "member is not a string at byte 0"},
		{"non-ascii in string", `"café"`, "non-printable byte in string at byte 4"},
		{"non-ascii member", `é`, "member is not a string at byte 0"},
		{"control in string", "\"a\x01\"", "non-printable byte in string at byte 2"},
		{"tab in string", "\"a\tb\"", "non-printable byte in string at byte 2"},
		{"uppercase key", `"a";X=1`, "bad parameter key at byte 4"},
		{"empty key", `"a";=1`, "bad parameter key at byte 4"},
		{"double semicolon", `"a";;x`, "bad parameter key at byte 4"},
		{"missing value", `"a";x=`, "bad parameter value at byte 6"},
		{"bad decimal", `"a";x=1.`, "bad decimal at byte 8"},
		{"long fraction", `"a";x=1.2345`, "bad decimal at byte 12"},
		{"long integer", `"a";x=1234567890123456`, "bad number at byte 22"},
		{"long decimal", `"a";x=1234567890123.1`, "bad decimal at byte 21"},
		{"minus alone", `"a";x=-`, "bad number at byte 7"},
		{"bad boolean", `"a";x=?2`, "bad boolean at byte 7"},
		{"unterminated bytes", `"a";x=:abc`, "bad byte sequence at byte 10"},
		{"bad display string", `"a";x=%abc`, "bad display string at byte 7"},
		{"unterminated display", `"a";x=%"abc`, "unterminated display string at byte 11"},
		{"unterminated param string", `"a";x="b`, "unterminated string at byte 8"},
		{"space before equals", `"a";x =1`, "expected a comma at byte 6"},
		{"garbage after param", `"a";x=1)`, "expected a comma at byte 7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseCacheGroups([]string{tc.field})
			assert.Nil(t, got)
			require.ErrorIs(t, err, errGroupSyntax)
			assert.True(t, strings.HasSuffix(err.Error(), tc.at), "%q does not end with %q", err, tc.at)
		})
	}
}

func FuzzParseCacheGroups(f *testing.F) {
	for _, s := range []string{
		``, `"a"`, `"a", "b"`, `"a\"b\\c";x=1;y=?0`, `"a";x="s;,"`, "\"a\"\n\"b\"",
		`"a";x=:aGk=:;y=tok/en;z=@-1;w=%"%c3%a9"`, `"a";x=1.5, ("b")`, `"a`, `"a",`,
		"\"a\"\t,\t\"b\"  ", `"a` + "\n" + `b"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		groups, err := parseCacheGroups(strings.Split(s, "\n"))
		if err != nil {
			require.ErrorIs(t, err, errGroupSyntax)
			require.Nil(t, groups)
			return
		}
		for _, g := range groups {
			for i := 0; i < len(g); i++ {
				require.True(t, 0x20 <= g[i] && g[i] <= 0x7e, "byte %#x in %q", g[i], g)
			}
		}
		again, err := parseCacheGroups([]string{sfList(groups)})
		require.NoError(t, err, "reparsing %q", sfList(groups))
		require.Equal(t, groups, again)
	})
}

func FuzzHeaderTags(f *testing.F) {
	f.Add("a,b", "b c", `"c", "d"`)
	f.Add(" a ,, b", "\ta  b\t", `"a";x=1`)
	f.Add("a\x01", "x\x7f", `"a`)
	f.Add(strings.Join(tagList("t", 70), ","), "", `"", "e"`)
	f.Add("", strings.Repeat("y", 300), "")
	f.Fuzz(func(t *testing.T, cacheTag, surrogateKey, cacheGroups string) {
		h := hdr("Cache-Tag", cacheTag, "Surrogate-Key", surrogateKey)
		h["Cache-Groups"] = strings.Split(cacheGroups, "\n")
		tags, _ := headerTags(h)
		require.LessOrEqual(t, len(tags), maxTags)
		seen := make(map[string]bool, len(tags))
		for _, tag := range tags {
			require.True(t, validTag(tag), "invalid tag %q", tag)
			require.False(t, seen[tag], "duplicate tag %q", tag)
			seen[tag] = true
		}
	})
}
