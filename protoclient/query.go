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
func (q query) Encode() string {
	var b strings.Builder
	for i, p := range q {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.key))
		b.WriteByte('=')
		v := url.QueryEscape(p.value)
		if p.literalAt {
			v = strings.ReplaceAll(v, "%40", "@")
		}
		b.WriteString(v)
	}
	return b.String()
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
