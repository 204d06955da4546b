package httpcache

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Response header fields that name tags. They are canonical, so they index
// an http.Header directly.
const (
	cacheTagHeader               = "Cache-Tag"                // comma-separated (Cloudflare)
	surrogateKeyHeader           = "Surrogate-Key"            // space-separated (Fastly)
	cacheGroupsHeader            = "Cache-Groups"             // structured list of strings (IETF draft)
	cacheGroupInvalidationHeader = "Cache-Group-Invalidation" // same syntax, groups to invalidate
)

// maxTags is the most tags one response may carry, from all its header
// fields together (Cache-Tag, Surrogate-Key and Cache-Groups) after
// duplicates are removed. A tag costs a lookup on every hit of the entry, so
// the bound keeps hits cheap whatever a handler sends; tags past it are
// dropped and reported.
const maxTags = 64

// maxTagLen is the longest tag, in bytes.
const maxTagLen = 256

var (
	// errInvalidTag matches the error headerTags returns when it dropped
	// tags that validTag rejects.
	errInvalidTag = errors.New("httpcache: invalid tag")

	// errTooManyTags matches the error headerTags returns when it dropped
	// tags past maxTags.
	errTooManyTags = errors.New("httpcache: too many tags")

	// errGroupSyntax matches the error parseCacheGroups returns for a field
	// that is not a structured-field list of strings.
	errGroupSyntax = errors.New("httpcache: malformed cache group list")
)

// validTag reports whether tag is usable: 1 to maxTagLen bytes, none of them
// an ASCII control character (0x00-0x1F, 0x7F). The cache reserves tags that
// start with a control byte for internal use (such as a URL's implicit tag),
// so user tags can never collide with them.
func validTag(tag string) bool {
	if len(tag) == 0 || len(tag) > maxTagLen {
		return false
	}
	for i := 0; i < len(tag); i++ {
		if c := tag[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// headerTags returns the tags named by h's Cache-Tag field (comma-separated,
// as Cloudflare; spaces around tags trimmed, empty ones skipped), its
// Surrogate-Key field (separated by runs of SP and HTAB, as Fastly) and its
// Cache-Groups field (an RFC 8941 list of strings, see parseCacheGroups),
// without duplicates, in the order first seen. Each field may have several
// lines.
//
// It returns at most maxTags tags. Invalid tags (see validTag) and tags past
// the limit are dropped, and a malformed Cache-Groups field is ignored as a
// whole; err then says what was dropped, and matches errInvalidTag,
// errTooManyTags or errGroupSyntax. The caller reports err and keeps the
// tags returned. When h has none of these fields headerTags does not
// allocate.
func headerTags(h http.Header) (tags []string, err error) {
	ct, sk, cg := h[cacheTagHeader], h[surrogateKeyHeader], h[cacheGroupsHeader]
	if len(ct) == 0 && len(sk) == 0 && len(cg) == 0 {
		return nil, nil
	}
	var c tagCollector
	for _, line := range ct {
		for tag := range strings.SplitSeq(line, ",") {
			if tag = strings.Trim(tag, " \t"); tag != "" {
				c.add(tag)
			}
		}
	}
	for _, line := range sk {
		for tag := range strings.FieldsFuncSeq(line, isOWSRune) {
			c.add(tag)
		}
	}
	groups, err := parseCacheGroups(cg)
	for _, tag := range groups {
		c.add(tag)
	}
	return c.tags, c.err(err)
}

// isOWSRune reports whether r is a space or a tab.
func isOWSRune(r rune) bool { return r == ' ' || r == '\t' }

// tagCollector gathers the tags of one response for headerTags.
type tagCollector struct {
	tags           []string // valid, distinct, at most maxTags
	invalid, extra int      // tags dropped as invalid, and past maxTags
	firstInvalid   string   // the first invalid tag, for the error
}

// add adds tag to c.tags unless it is invalid, already there or one too many.
func (c *tagCollector) add(tag string) {
	switch {
	case !validTag(tag):
		if c.invalid == 0 {
			c.firstInvalid = tag
		}
		c.invalid++
	case slices.Contains(c.tags, tag):
	case len(c.tags) == maxTags:
		c.extra++
	default:
		c.tags = append(c.tags, tag)
	}
}

// err returns an error reporting what c dropped and groupErr, the error
// from parsing Cache-Groups, one per line, or nil if there is none.
func (c *tagCollector) err(groupErr error) error {
	var errs []error
	if c.invalid > 0 {
		first := c.firstInvalid
		if len(first) > 64 {
			first = first[:64] + "..."
		}
		errs = append(errs, fmt.Errorf("%w: dropped %d, the first %q", errInvalidTag, c.invalid, first))
	}
	if c.extra > 0 {
		errs = append(errs, fmt.Errorf("%w: dropped %d past the limit of %d", errTooManyTags, c.extra, maxTags))
	}
	if groupErr != nil {
		errs = append(errs, fmt.Errorf("%w; %s ignored", groupErr, cacheGroupsHeader))
	}
	return errors.Join(errs...)
}

// stripTagHeaders deletes the tag fields, Cache-Tag, Surrogate-Key,
// Cache-Groups and Cache-Group-Invalidation, from h: they are meant for the
// cache and never reach the client.
func stripTagHeaders(h http.Header) {
	delete(h, cacheTagHeader)
	delete(h, surrogateKeyHeader)
	delete(h, cacheGroupsHeader)
	delete(h, cacheGroupInvalidationHeader)
}

// parseCacheGroups parses the field lines of a Cache-Groups or
// Cache-Group-Invalidation field (draft-ietf-httpbis-cache-groups): an
// RFC 8941 structured-field List whose members are all strings. Lines are
// combined as if joined with ", ", skipping lines that hold only spaces.
// Parameters are allowed and ignored (their values are checked just enough
// to tell where they end). An empty field is an empty list. Any other
// member, an inner list or a token say, and any syntax error make the whole
// field invalid: parseCacheGroups then returns an error matching
// errGroupSyntax and no groups.
func parseCacheGroups(lines []string) ([]string, error) {
	p := sfParser{s: joinFieldLines(lines)}
	return p.stringList()
}

// joinFieldLines combines the lines of a field into one value, separated by
// ", ", leaving out lines that hold only spaces.
func joinFieldLines(lines []string) string {
	if len(lines) == 1 {
		return lines[0]
	}
	var b strings.Builder
	for _, line := range lines {
		if strings.Trim(line, " ") == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(line)
	}
	return b.String()
}

// sfParser parses a structured field value (RFC 8941 Section 4.2): s is the
// field and i the offset of the next byte to read.
type sfParser struct {
	s string
	i int
}

// fail returns a syntax error at the parser's offset.
func (p *sfParser) fail(what string) error {
	return fmt.Errorf("%w: %s at byte %d", errGroupSyntax, what, p.i)
}

// peek returns the next byte, or 0 at the end of the field.
func (p *sfParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// skip advances past the bytes at the offset for which ok is true.
func (p *sfParser) skip(ok func(byte) bool) {
	for p.i < len(p.s) && ok(p.s[p.i]) {
		p.i++
	}
}

// stringList parses a List whose members are Strings (Section 4.2.1).
func (p *sfParser) stringList() ([]string, error) {
	var out []string
	p.skip(isSP)
	for p.i < len(p.s) {
		s, err := p.stringMember()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		p.skip(isSFOWS)
		if p.i == len(p.s) {
			break
		}
		if p.s[p.i] != ',' {
			return nil, p.fail("expected a comma")
		}
		p.i++
		p.skip(isSFOWS)
		if p.i == len(p.s) {
			return nil, p.fail("trailing comma")
		}
	}
	return out, nil
}

// stringMember parses a list member that must be a String, with
// parameters.
func (p *sfParser) stringMember() (string, error) {
	switch p.peek() {
	case '"':
	case '(':
		return "", p.fail("inner list member")
	default:
		return "", p.fail("member is not a string")
	}
	s, err := p.sfString()
	if err != nil {
		return "", err
	}
	return s, p.params()
}

// sfString parses a String (Section 4.2.5) at the offset, a DQUOTE.
func (p *sfParser) sfString() (string, error) {
	p.i++
	start := p.i
	var b []byte // the string so far, once it has an escape
	for ; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			if b == nil {
				return p.s[start : p.i-1], nil
			}
			return string(b), nil
		case c == '\\':
			if b == nil {
				b = []byte(p.s[start:p.i])
			}
			p.i++
			if c = p.peek(); c != '"' && c != '\\' {
				return "", p.fail("bad escape in string")
			}
			b = append(b, c)
		case c < 0x20 || c > 0x7e:
			return "", p.fail("non-printable byte in string")
		case b != nil:
			b = append(b, c)
		}
	}
	return "", p.fail("unterminated string")
}

// params parses and ignores Parameters (Section 4.2.3.2).
func (p *sfParser) params() error {
	for p.peek() == ';' {
		p.i++
		p.skip(isSP)
		if c := p.peek(); !isLCAlpha(c) && c != '*' {
			return p.fail("bad parameter key")
		}
		p.skip(isKeyChar)
		if p.peek() == '=' {
			p.i++
			if err := p.bareItem(); err != nil {
				return err
			}
		}
	}
	return nil
}

// bareItem parses and ignores a Bare Item (Section 4.2.3.1), including the
// Date and Display String types of RFC 9651. Dates and Display Strings are
// checked loosely (a Date may have a fraction, a Display String's escapes
// are not decoded), which cannot change where they end: a Display String's
// only delimiter, DQUOTE, is always escaped inside it.
func (p *sfParser) bareItem() error {
	switch c := p.peek(); {
	case c == '-' || isDigit(c):
		return p.number()
	case c == '"':
		_, err := p.sfString()
		return err
	case c == '*' || isAlpha(c): // Token
		p.i++
		p.skip(isTokenChar)
	case c == ':': // Byte Sequence
		p.i++
		p.skip(isBase64)
		return p.expect(':', "bad byte sequence")
	case c == '?': // Boolean
		p.i++
		if c = p.peek(); c != '0' && c != '1' {
			return p.fail("bad boolean")
		}
		p.i++
	case c == '@': // Date
		p.i++
		return p.number()
	case c == '%': // Display String
		p.i++
		if err := p.expect('"', "bad display string"); err != nil {
			return err
		}
		p.skip(isDisplayChar)
		return p.expect('"', "unterminated display string")
	default:
		return p.fail("bad parameter value")
	}
	return nil
}

// expect consumes c, or fails with what.
func (p *sfParser) expect(c byte, what string) error {
	if p.peek() != c {
		return p.fail(what)
	}
	p.i++
	return nil
}

// number parses an Integer or Decimal (Section 4.2.4).
func (p *sfParser) number() error {
	if p.peek() == '-' {
		p.i++
	}
	start := p.i
	p.skip(isDigit)
	n := p.i - start
	if n == 0 || n > 15 {
		return p.fail("bad number")
	}
	if p.peek() != '.' {
		return nil
	}
	p.i++
	start = p.i
	p.skip(isDigit)
	if f := p.i - start; n > 12 || f == 0 || f > 3 {
		return p.fail("bad decimal")
	}
	return nil
}

// isSP reports whether c is a space.
func isSP(c byte) bool { return c == ' ' }

// isSFOWS reports whether c is optional white space: a space or a tab.
func isSFOWS(c byte) bool { return c == ' ' || c == '\t' }

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isLCAlpha reports whether c is a lowercase ASCII letter.
func isLCAlpha(c byte) bool { return 'a' <= c && c <= 'z' }

// isAlpha reports whether c is an ASCII letter.
func isAlpha(c byte) bool { return isLCAlpha(c) || 'A' <= c && c <= 'Z' }

// isDisplayChar reports whether c may appear inside a Display String.
func isDisplayChar(c byte) bool { return 0x20 <= c && c <= 0x7e && c != '"' }

// isKeyChar reports whether c may follow the first character of a key.
func isKeyChar(c byte) bool {
	return isLCAlpha(c) || isDigit(c) || strings.IndexByte("_-.*", c) >= 0
}

// isTokenChar reports whether c may follow the first character of a Token:
// a tchar (RFC 9110), ':' or '/'.
func isTokenChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || strings.IndexByte("!#$%&'*+-.^_`|~:/", c) >= 0
}

// isBase64 reports whether c is in the base64 alphabet, padding included.
func isBase64(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '+' || c == '/' || c == '='
}
