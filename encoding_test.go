package httpcache

import (
	"bytes"
	"encoding/binary"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fullEntry returns an entry with every field set, its times carrying a
// monotonic clock reading and a zone.
func fullEntry() *Entry {
	now := time.Now()
	return &Entry{
		Status: http.StatusOK,
		Header: http.Header{
			"Content-Type":  {"text/html; charset=utf-8"},
			"Etag":          {`"v1"`},
			"Cache-Control": {"max-age=60", "stale-while-revalidate=30"},
			"X-Empty":       {""},
		},
		Body:                 []byte("<p>hello</p>"),
		RequestTime:          now.Add(-time.Second),
		ResponseTime:         now,
		InitialAge:           3 * time.Second,
		Lifetime:             time.Minute,
		StaleWhileRevalidate: 30 * time.Second,
		StaleIfError:         time.Hour,
		MustRevalidate:       true,
		NoCache:              true,
		Vary:                 []string{"Accept-Encoding", "Accept-Language"},
		RequestHeader:        http.Header{"Accept-Encoding": {"gzip", "br"}},
		Tags:                 []string{"example.com/a", "user:42"},
		Epoch:                math.MaxUint64,
	}
}

// normalized returns a copy of e as UnmarshalBinary returns it: times in UTC
// without a monotonic reading, empty slices and maps nil.
func normalized(e *Entry) *Entry {
	n := *e
	n.RequestTime, n.ResponseTime = e.RequestTime.UTC(), e.ResponseTime.UTC()
	n.Header, n.RequestHeader = normalizedHeader(e.Header), normalizedHeader(e.RequestHeader)
	n.Body = []byte(nilIfEmpty(e.Body))
	n.Vary, n.Tags = nilIfEmpty(e.Vary), nilIfEmpty(e.Tags)
	return &n
}

func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}

func normalizedHeader(h http.Header) http.Header {
	if len(h) == 0 {
		return nil
	}
	n := make(http.Header, len(h))
	for k, vv := range h {
		n[k] = nilIfEmpty(vv)
	}
	return n
}

func TestEntryBinaryRoundTrip(t *testing.T) {
	t.Parallel()
	binaryBody := make([]byte, 300)
	for i := range binaryBody {
		binaryBody[i] = byte(i)
	}
	tests := []struct {
		name  string
		entry *Entry
	}{
		{"minimal", &Entry{Status: 200}},
		{"full", fullEntry()},
		{"status bounds low", &Entry{Status: 100}},
		{"status bounds high", &Entry{Status: 999}},
		{"multiple values", &Entry{Status: 200, Header: http.Header{"Link": {"<a>", "<b>", "<c>"}, "Vary": {"A", "B"}}}},
		{"empty values", &Entry{Status: 204, Header: http.Header{"X-A": {""}, "X-B": {}, "X-C": nil, "": {"", ""}}}},
		{"empty containers", &Entry{Status: 200, Header: http.Header{}, RequestHeader: http.Header{}, Body: []byte{}, Vary: []string{}, Tags: []string{}}},
		{"binary body", &Entry{Status: 200, Body: binaryBody}},
		{"nul and utf8 strings", &Entry{Status: 200, Tags: []string{"\x00", "ünïcødé", strings.Repeat("t", 200)}}},
		{"pre-1970 times", &Entry{Status: 200, RequestTime: time.Date(1900, 1, 2, 3, 4, 5, 6, time.UTC), ResponseTime: time.Unix(-1, 999999999)}},
		{"far future times", &Entry{Status: 200, RequestTime: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), ResponseTime: time.Date(3000, 1, 1, 0, 0, 0, 1, time.FixedZone("X", 3600))}},
		{"max durations", &Entry{Status: 200, InitialAge: math.MaxInt64, Lifetime: math.MaxInt64, StaleWhileRevalidate: 1, StaleIfError: math.MaxInt64}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, err := tc.entry.MarshalBinary()
			require.NoError(t, err)
			assert.Equal(t, tc.entry.encodedSize(), len(data), "precomputed size")
			assert.Equal(t, len(data), cap(data), "one exact allocation")

			got := fullEntry() // every field is overwritten
			require.NoError(t, got.UnmarshalBinary(data))
			assert.Equal(t, normalized(tc.entry), got)
			assert.True(t, tc.entry.RequestTime.Equal(got.RequestTime))
			assert.True(t, tc.entry.ResponseTime.Equal(got.ResponseTime))

			clear(data) // nothing decoded aliases data
			assert.Equal(t, normalized(tc.entry), got)
		})
	}
}

func TestEntryBinaryZeroTime(t *testing.T) {
	t.Parallel()
	data, err := (&Entry{Status: 200}).MarshalBinary()
	require.NoError(t, err)
	var got Entry
	require.NoError(t, got.UnmarshalBinary(data))
	assert.True(t, got.RequestTime.IsZero())
	assert.Equal(t, time.Time{}, got.ResponseTime)
}

func TestEntryMarshalBinaryInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		entry *Entry
	}{
		{"zero entry", &Entry{}},
		{"status 99", &Entry{Status: 99}},
		{"status 1000", &Entry{Status: 1000}},
		{"negative status", &Entry{Status: -200}},
		{"negative initial age", &Entry{Status: 200, InitialAge: -1}},
		{"negative lifetime", &Entry{Status: 200, Lifetime: -time.Second}},
		{"negative swr", &Entry{Status: 200, StaleWhileRevalidate: -1}},
		{"negative sie", &Entry{Status: 200, StaleIfError: math.MinInt64}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, err := tc.entry.MarshalBinary()
			require.ErrorIs(t, err, errBadEntry)
			assert.True(t, strings.HasPrefix(err.Error(), "httpcache: "), err.Error())
			assert.Nil(t, data)
		})
	}
}

func uv(x uint64) []byte { return binary.AppendUvarint(nil, x) }
func sv(x int64) []byte  { return binary.AppendVarint(nil, x) }

// rawEntry builds an encoding by hand from its parts in order, replacing
// the parts named in with; the defaults form a valid minimal entry.
func rawEntry(with map[string][]byte) []byte {
	parts := []struct {
		name string
		def  []byte
	}{
		{"format", []byte{entryFormatV1}},
		{"bodyLen", uv(0)},
		{"status", uv(200)},
		{"flags", []byte{0}},
		{"times", bytes.Repeat(append(sv(0), uv(0)...), 2)},
		{"durations", bytes.Repeat(sv(0), 4)},
		{"epoch", uv(0)},
		{"header", uv(0)},
		{"vary", uv(0)},
		{"requestHeader", uv(0)},
		{"tags", uv(0)},
		{"body", nil},
	}
	var b []byte
	for _, p := range parts {
		if v, ok := with[p.name]; ok {
			b = append(b, v...)
		} else {
			b = append(b, p.def...)
		}
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestEntryUnmarshalBinaryMalformed(t *testing.T) {
	t.Parallel()
	var valid Entry
	require.NoError(t, valid.UnmarshalBinary(rawEntry(nil)), "the default raw entry is valid")
	huge := uv(1 << 60)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "unknown format"},
		{"format", rawEntry(map[string][]byte{"format": {0xE2}}), "unknown format"},
		{"trailing byte", append(rawEntry(nil), 0), "trailing bytes"},
		{"status 0", rawEntry(map[string][]byte{"status": uv(0)}), "status out of range"},
		{"status 99", rawEntry(map[string][]byte{"status": uv(99)}), "status out of range"},
		{"status 1000", rawEntry(map[string][]byte{"status": uv(1000)}), "status out of range"},
		{"status 2^64-1", rawEntry(map[string][]byte{"status": uv(math.MaxUint64)}), "status out of range"},
		{"unknown flag", rawEntry(map[string][]byte{"flags": {4}}), "unknown flags"},
		{"negative duration", rawEntry(map[string][]byte{"durations": cat(sv(0), sv(-1), sv(0), sv(0))}), "negative duration"},
		{"nanoseconds", rawEntry(map[string][]byte{"times": cat(sv(0), uv(1e9), sv(0), uv(0))}), "nanoseconds out of range"},
		{"overlong varint", rawEntry(map[string][]byte{"epoch": bytes.Repeat([]byte{0xff}, 11)}), "overlong varint"},
		{"body length 2^60", rawEntry(map[string][]byte{"bodyLen": huge}), "count exceeds input"},
		{"body length off by one", rawEntry(map[string][]byte{"bodyLen": uv(3), "body": []byte("ab")}), "truncated"},
		{"header count 2^60", rawEntry(map[string][]byte{"header": huge}), "count exceeds input"},
		{"header value count 2^60", rawEntry(map[string][]byte{"header": cat(uv(1), uv(1), []byte("A"), huge)}), "count exceeds input"},
		{"list count 2^60", rawEntry(map[string][]byte{"tags": huge}), "count exceeds input"},
		{"string length 2^60", rawEntry(map[string][]byte{"vary": cat(uv(1), huge)}), "count exceeds input"},
		{"duplicate header name", rawEntry(map[string][]byte{"requestHeader": cat(uv(2), uv(1), []byte("A"), uv(0), uv(1), []byte("A"), uv(0))}), "duplicate header name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := fullEntry()
			before := *e
			err := e.UnmarshalBinary(tc.data)
			require.ErrorIs(t, err, errBadEntry)
			assert.ErrorContains(t, err, tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "httpcache: "), err.Error())
			assert.Equal(t, before, *e, "e is unchanged on error")
		})
	}
}

func TestEntryUnmarshalBinaryTruncated(t *testing.T) {
	t.Parallel()
	data, err := fullEntry().MarshalBinary()
	require.NoError(t, err)
	for i := range data {
		var e Entry
		assert.ErrorIs(t, e.UnmarshalBinary(data[:i]), errBadEntry, "truncated to %d of %d bytes", i, len(data))
	}
}

func FuzzEntryUnmarshal(f *testing.F) {
	for _, e := range []*Entry{{Status: 200}, fullEntry(), {Status: 304, Header: http.Header{"A": {"1", "2"}, "B": nil}, Body: []byte{0, 1, 2}}} {
		data, err := e.MarshalBinary()
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add(rawEntry(map[string][]byte{"header": uv(1 << 60)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Entry
		if e.UnmarshalBinary(data) != nil {
			return
		}
		again, err := e.MarshalBinary()
		require.NoError(t, err, "a decoded entry encodes")
		assert.LessOrEqual(t, len(again), len(data), "re-encoding is no longer than the input")
		var e2 Entry
		require.NoError(t, e2.UnmarshalBinary(again))
		assert.Equal(t, e, e2)
	})
}

func BenchmarkEntryMarshal(b *testing.B) {
	e := benchEntry()
	b.ReportAllocs()
	b.SetBytes(int64(e.encodedSize()))
	for b.Loop() {
		if _, err := e.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEntryUnmarshal(b *testing.B) {
	data, err := benchEntry().MarshalBinary()
	require.NoError(b, err)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var e Entry
		if err := e.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
	}
}

// benchEntry returns a typical entry: a 1 KiB body and a handful of headers.
func benchEntry() *Entry {
	e := fullEntry()
	e.Body = bytes.Repeat([]byte("x"), 1024)
	e.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	e.Header.Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
	return e
}
