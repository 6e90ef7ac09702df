package protoclient

import (
	"net/url"
	"strings"
)

// query is a URL query that keeps its parameters in the order they were set. The
// official web client writes each request's parameters in its own fixed order (synccheck:
// r, skey, sid, uin, deviceid, synckey, _; the captures in the protocol reference), while
// url.Values.Encode sorts them by name, which no browser does: a server that looks at
// the order would tell the bridge from a browser.
type query []queryParam

type queryParam struct {
	key, value string
	// literalAt: '@' is written as it is, not as %40 (SetLiteralAt).
	literalAt bool
}

// Set replaces the value of key where it stands, or appends key at the end.
func (q *query) Set(key, value string) { q.set(queryParam{key: key, value: value}) }

// SetLiteralAt is Set for a value whose '@' goes on the wire unescaped: the official
// client concatenates skey into some URLs (webwxsync, webwxgetcontact: "skey=@crypt_…" in
// the captures) where it lets jQuery encode it into others (synccheck: "skey=%40crypt_…").
func (q *query) SetLiteralAt(key, value string) {
	q.set(queryParam{key: key, value: value, literalAt: true})
}

func (q *query) set(p queryParam) {
	for i := range *q {
		if (*q)[i].key == p.key {
			(*q)[i] = p
			return
		}
	}
	*q = append(*q, p)
}

// Encode escapes keys and values as url.Values.Encode does, in the order they were set.
// It writes them into one buffer of the exact size: every idle login's synccheck builds a
// query, and url.QueryEscape made a string for each escaped value on the way.
func (q query) Encode() string {
	n := max(2*len(q)-1, 0) // the '=' of each parameter and the '&' between them
	for _, p := range q {
		n += escapedLen(p.key, false) + escapedLen(p.value, p.literalAt)
	}
	var b strings.Builder
	b.Grow(n)
	for i, p := range q {
		if i > 0 {
			b.WriteByte('&')
		}
		writeEscaped(&b, p.key, false)
		b.WriteByte('=')
		writeEscaped(&b, p.value, p.literalAt)
	}
	return b.String()
}

// escaped reports whether c goes on the wire as %XX: what url.QueryEscape does not keep
// (RFC 3986's unreserved characters) and does not write as '+' (space), except '@' when
// literalAt.
func escaped(c byte, literalAt bool) bool {
	unreserved := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
	return !unreserved && c != ' ' && (c != '@' || !literalAt)
}

func escapedLen(s string, literalAt bool) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if escaped(s[i], literalAt) {
			n += 2
		}
	}
	return n
}

// writeEscaped writes s as url.QueryEscape does, with '@' as it is when literalAt.
func writeEscaped(b *strings.Builder, s string, literalAt bool) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case escaped(c, literalAt):
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte(c)
		}
	}
}

// fillEmpty returns a raw query (as a server gave it) with key set to value where the
// query lacks key or has it empty, leaving every other parameter as it came: a browser
// follows a URL the server gave it as it is, escaping and order included.
func fillEmpty(raw, key, value string) string {
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, v, _ := strings.Cut(p, "=")
		if k != key {
			continue
		}
		if v == "" {
			parts[i] = key + "=" + url.QueryEscape(value)
		}
		return strings.Join(parts, "&")
	}
	added := query{{key: key, value: value}}.Encode()
	if raw == "" {
		return added
	}
	return raw + "&" + added
}
