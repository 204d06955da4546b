package httpcache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/http"
	"time"
)

// errBadEntry is wrapped by every error [Entry.MarshalBinary] and
// [Entry.UnmarshalBinary] return.
var errBadEntry = errors.New("httpcache: malformed entry")

// entryFormatV1 is the first byte of every encoding [Entry.MarshalBinary]
// produces. A new layout gets a new value, so that a store shared by
// several versions of the program rejects what it cannot read (and the
// cache treats it as a miss) instead of misreading it.
const entryFormatV1 = 0xE1

// Bits of the flags byte.
const (
	flagMustRevalidate = 1 << iota
	flagNoCache
	flagsKnown = flagMustRevalidate | flagNoCache
)

// MarshalBinary encodes e (encoding.BinaryMarshaler). The format is versioned
// (its first byte) and length-prefixed:
//
//	format byte, uvarint len(Body),
//	uvarint Status, flags byte (MustRevalidate, NoCache),
//	RequestTime and ResponseTime as varint Unix seconds + uvarint nanoseconds,
//	varint InitialAge, Lifetime, StaleWhileRevalidate, StaleIfError,
//	uvarint Epoch, Header, Vary, RequestHeader, Tags, then Body.
//
// A header is a uvarint count of names, each followed by a uvarint count of
// values; a list is a uvarint count of strings; a string is a uvarint length
// and its bytes. Header names are written in map order, so two encodings of
// one entry may differ in bytes. Time zones and monotonic clock readings are
// not kept.
//
// MarshalBinary fails only if e could not be decoded again: a Status outside
// 100–999 or a negative duration.
func (e *Entry) MarshalBinary() ([]byte, error) {
	if err := e.validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, e.encodedSize())
	b = append(b, entryFormatV1)
	b = binary.AppendUvarint(b, uint64(len(e.Body)))
	b = binary.AppendUvarint(b, uint64(e.Status))
	b = append(b, e.flags())
	b = appendTime(b, e.RequestTime)
	b = appendTime(b, e.ResponseTime)
	for _, d := range e.durations() {
		b = binary.AppendVarint(b, int64(d))
	}
	b = binary.AppendUvarint(b, e.Epoch)
	b = appendHeader(b, e.Header)
	b = appendList(b, e.Vary)
	b = appendHeader(b, e.RequestHeader)
	b = appendList(b, e.Tags)
	return append(b, e.Body...), nil
}

// UnmarshalBinary decodes data produced by MarshalBinary into e
// (encoding.BinaryUnmarshaler). Data it cannot decode (truncated, trailing
// bytes, another format version, a Status outside 100–999, a negative
// duration, a header name given twice) yields an error and leaves e as it
// was.
//
// Empty bodies, headers and lists decode as nil, and a header name without
// values decodes to a nil slice: an entry does not keep the distinction
// between nil and empty. Times decode in UTC. Decoded strings share one
// allocation, and nothing decoded aliases data.
func (e *Entry) UnmarshalBinary(data []byte) error {
	if len(data) == 0 || data[0] != entryFormatV1 {
		return fmt.Errorf("%w: unknown format", errBadEntry)
	}
	d := entryDecoder{buf: data, off: 1}
	bodyLen := d.count(1)
	if d.err != nil {
		return d.err
	}
	end := len(data) - bodyLen
	d.buf, d.base, d.meta = data[:end], d.off, string(data[d.off:end])
	v := d.entry()
	if d.err == nil && d.off != end {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return d.err
	}
	if bodyLen > 0 {
		v.Body = append([]byte(nil), data[end:]...)
	}
	*e = v
	return nil
}

// validate returns an error if e could not be decoded once encoded.
func (e *Entry) validate() error {
	if !validStatus(uint64(e.Status)) { // a negative Status converts to a huge value
		return fmt.Errorf("%w: status %d", errBadEntry, e.Status)
	}
	for _, d := range e.durations() {
		if d < 0 {
			return fmt.Errorf("%w: negative duration %v", errBadEntry, d)
		}
	}
	return nil
}

// validStatus reports whether s is a three-digit status code.
func validStatus(s uint64) bool { return s >= 100 && s <= 999 }

// durations returns e's durations in encoding order.
func (e *Entry) durations() [4]time.Duration {
	return [4]time.Duration{e.InitialAge, e.Lifetime, e.StaleWhileRevalidate, e.StaleIfError}
}

// flags returns e's boolean fields as the flags byte.
func (e *Entry) flags() byte {
	var f byte
	if e.MustRevalidate {
		f |= flagMustRevalidate
	}
	if e.NoCache {
		f |= flagNoCache
	}
	return f
}

// encodedSize returns the exact length of e's encoding.
func (e *Entry) encodedSize() int {
	n := 1 + uvarintSize(uint64(len(e.Body))) + len(e.Body)
	n += uvarintSize(uint64(e.Status)) + 1
	n += timeSize(e.RequestTime) + timeSize(e.ResponseTime)
	for _, d := range e.durations() {
		n += varintSize(int64(d))
	}
	n += uvarintSize(e.Epoch)
	n += headerEncodedSize(e.Header) + headerEncodedSize(e.RequestHeader)
	return n + listSize(e.Vary) + listSize(e.Tags)
}

func uvarintSize(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

func varintSize(x int64) int { return uvarintSize(uint64(x<<1) ^ uint64(x>>63)) }

func stringSize(s string) int { return uvarintSize(uint64(len(s))) + len(s) }

func timeSize(t time.Time) int {
	return varintSize(t.Unix()) + uvarintSize(uint64(t.Nanosecond()))
}

func listSize(l []string) int {
	n := uvarintSize(uint64(len(l)))
	for _, s := range l {
		n += stringSize(s)
	}
	return n
}

func headerEncodedSize(h http.Header) int {
	n := uvarintSize(uint64(len(h)))
	for k, vv := range h {
		n += stringSize(k) + listSize(vv)
	}
	return n
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func appendList(b []byte, l []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(l)))
	for _, s := range l {
		b = appendString(b, s)
	}
	return b
}

func appendHeader(b []byte, h http.Header) []byte {
	b = binary.AppendUvarint(b, uint64(len(h)))
	for k, vv := range h {
		b = appendList(appendString(b, k), vv)
	}
	return b
}

// entryDecoder reads an encoding up to its body. Its first error sticks:
// every later read returns a zero value.
type entryDecoder struct {
	buf  []byte // the encoding, without the body
	meta string // buf[base:] as one string, which decoded strings slice
	base int
	off  int // next byte to read in buf
	err  error
}

// entry decodes the fields between the body length and the body.
func (d *entryDecoder) entry() Entry {
	var e Entry
	if status := d.uvarint(); validStatus(status) {
		e.Status = int(status)
	} else {
		d.fail("status out of range")
	}
	f := d.readByte()
	if f&^flagsKnown != 0 {
		d.fail("unknown flags")
	}
	e.MustRevalidate, e.NoCache = f&flagMustRevalidate != 0, f&flagNoCache != 0
	e.RequestTime, e.ResponseTime = d.time(), d.time()
	e.InitialAge, e.Lifetime = d.duration(), d.duration()
	e.StaleWhileRevalidate, e.StaleIfError = d.duration(), d.duration()
	e.Epoch = d.uvarint()
	e.Header, e.Vary = d.header(), d.list()
	e.RequestHeader, e.Tags = d.header(), d.list()
	return e
}

// fail records the first error.
func (d *entryDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", errBadEntry, what, d.off)
	}
}

func (d *entryDecoder) readByte() byte {
	if d.err != nil || d.off >= len(d.buf) {
		d.fail("truncated")
		return 0
	}
	d.off++
	return d.buf[d.off-1]
}

func (d *entryDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	if n <= 0 {
		d.fail("truncated or overlong varint")
		return 0
	}
	d.off += n
	return v
}

func (d *entryDecoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// count reads a length or a count of items that each take at least size
// bytes, and checks that the rest of the encoding can hold them, so that
// nothing larger than the input is ever allocated.
func (d *entryDecoder) count(size int) int {
	n := d.uvarint()
	if n > uint64((len(d.buf)-d.off)/size) {
		d.fail("count exceeds input")
		return 0
	}
	return int(n)
}

func (d *entryDecoder) duration() time.Duration {
	v := d.varint()
	if v < 0 {
		d.fail("negative duration")
		return 0
	}
	return time.Duration(v)
}

func (d *entryDecoder) time() time.Time {
	sec, nsec := d.varint(), d.uvarint()
	if nsec >= uint64(time.Second) {
		d.fail("nanoseconds out of range")
		return time.Time{}
	}
	// The zero time is Unix second -62135596800, which decodes as time.Time{}.
	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *entryDecoder) str() string {
	n := d.count(1)
	if d.err != nil {
		return ""
	}
	s := d.meta[d.off-d.base : d.off-d.base+n]
	d.off += n
	return s
}

func (d *entryDecoder) list() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	l := make([]string, n)
	for i := 0; i < n && d.err == nil; i++ {
		l[i] = d.str()
	}
	return l
}

func (d *entryDecoder) header() http.Header {
	n := d.count(2) // a name takes at least its length and its value count
	if n == 0 {
		return nil
	}
	h := make(http.Header, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		if _, dup := h[k]; dup {
			d.fail("duplicate header name")
		}
		h[k] = d.list()
	}
	return h
}
