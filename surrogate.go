package httpcache

import (
	"strconv"
	"strings"
)

// SurrogateCapability is the Surrogate-Capability request field value by
// which a reverse proxy built on this cache tells its upstream that it
// understands Surrogate-Control (W3C Edge Architecture Specification 1.0),
// as device "httpcache". The middleware does not add it to requests itself:
// an in-process handler has no use for it.
const SurrogateCapability = `httpcache="Surrogate/1.0"`

// surrogateDevice is the device token Surrogate-Control directives may
// target (max-age=60;httpcache).
const surrogateDevice = "httpcache"

const headerSurrogateControl = "Surrogate-Control"

// surrogateControl is what the Surrogate-Control directives addressed to this
// cache say: untargeted ones, and those targeted at surrogateDevice.
type surrogateControl struct {
	maxAge  int64 // seconds; -1 when absent
	noStore bool
}

// parseSurrogateControl parses the field lines of Surrogate-Control. A
// directive targeted at another device, or with a malformed value, is
// ignored.
func parseSurrogateControl(lines []string) surrogateControl {
	sc := surrogateControl{maxAge: -1}
	for _, line := range lines {
		for _, elem := range splitOutsideQuotes(line) {
			sc.apply(strings.Trim(elem, " \t"))
		}
	}
	return sc
}

// apply records one list element: name[=value][;target].
func (sc *surrogateControl) apply(elem string) {
	if i := strings.IndexByte(elem, ';'); i >= 0 {
		if !strings.EqualFold(strings.Trim(elem[i+1:], " \t"), surrogateDevice) {
			return
		}
		elem = elem[:i]
	}
	name, value, hasValue := strings.Cut(elem, "=")
	switch {
	case strings.EqualFold(name, "no-store") && !hasValue:
		sc.noStore = true
	case strings.EqualFold(name, "max-age") && hasValue && sc.maxAge < 0:
		// Edge Architecture allows max-age=fresh+stale; the stale part is
		// not used.
		value, _, _ = strings.Cut(value, "+")
		if n, ok := deltaSeconds(value); ok {
			sc.maxAge = n
		}
	}
}

// deltaSeconds parses RFC 9111 delta-seconds, clamped to maxDelta.
func deltaSeconds(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > maxDelta {
		n = maxDelta // only digits, so the error is an overflow
	}
	return n, true
}

// splitOutsideQuotes splits a comma-separated list, keeping commas inside
// quoted strings (content="a, b").
func splitOutsideQuotes(s string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
