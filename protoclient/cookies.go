package protoclient

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Cookie is a stored cookie with every attribute that decides where it is sent. The
// session persists these: openwechat persisted only name=value per host, so after a
// reload the .qq.com and wx2.qq.com cookies no longer reached webpush./file. hosts and
// synccheck failed with 1102 (§7.4). Keeping Domain/Path/HostOnly avoids that bug.
type Cookie struct {
	Name     string    `json:"name"`
	Value    string    `json:"value"`
	Domain   string    `json:"domain"`
	Path     string    `json:"path"`
	HostOnly bool      `json:"host_only,omitempty"`
	Secure   bool      `json:"secure,omitempty"`
	HttpOnly bool      `json:"http_only,omitempty"`
	Expires  time.Time `json:"expires,omitzero"`
}

func (c *Cookie) expired(now time.Time) bool {
	return !c.Expires.IsZero() && !c.Expires.After(now)
}

// Jar is an http.CookieJar following RFC 6265 domain and path matching, whose content
// can be exported and imported with all attributes.
type Jar struct {
	mu      sync.Mutex
	cookies []Cookie
	now     func() time.Time
	// version counts the changes to cookies; lines are Cookie headers made at a version.
	version uint64
	lines   [4]cookieLine
	next    int
}

// cookieLine is the Cookie header for one URL (host, scheme, path), valid while the jar
// is at version and until the first cookie in it expires.
type cookieLine struct {
	host, scheme, path string
	version            uint64
	until              time.Time
	line               string
}

var _ http.CookieJar = (*Jar)(nil)

// NewJar returns an empty jar.
func NewJar() *Jar { return &Jar{now: time.Now} }

// SetCookies stores the cookies a response to u set.
func (j *Jar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	host := canonicalHost(u.Host)
	now := j.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, hc := range cookies {
		c := Cookie{Name: hc.Name, Value: hc.Value, Path: hc.Path, Secure: hc.Secure, HttpOnly: hc.HttpOnly}
		if hc.Domain == "" {
			c.Domain, c.HostOnly = host, true
		} else {
			d := strings.ToLower(strings.TrimPrefix(hc.Domain, "."))
			// A server may only set cookies for its own domain, and not for a bare TLD.
			if !domainMatch(host, d) || !strings.Contains(d, ".") {
				continue
			}
			c.Domain = d
		}
		if c.Path == "" || c.Path[0] != '/' {
			c.Path = defaultPath(u.Path)
		}
		switch {
		case hc.MaxAge < 0:
			c.Expires = now.Add(-time.Second)
		case hc.MaxAge > 0:
			c.Expires = now.Add(time.Duration(hc.MaxAge) * time.Second)
		case !hc.Expires.IsZero():
			c.Expires = hc.Expires
		}
		j.put(c, now)
	}
}

func (j *Jar) put(c Cookie, now time.Time) {
	j.version++
	for i := range j.cookies {
		old := &j.cookies[i]
		if old.Name == c.Name && old.Domain == c.Domain && old.Path == c.Path {
			if c.expired(now) {
				j.cookies = append(j.cookies[:i], j.cookies[i+1:]...)
			} else {
				*old = c
			}
			return
		}
	}
	if !c.expired(now) {
		j.cookies = append(j.cookies, c)
	}
}

// Cookies returns the cookies to send with a request to u.
func (j *Jar) Cookies(u *url.URL) []*http.Cookie {
	host := canonicalHost(u.Host)
	path := u.Path
	if path == "" {
		path = "/"
	}
	secure := u.Scheme == "https"
	now := j.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	type match struct {
		c       *http.Cookie
		pathLen int
	}
	var out []match
	kept := j.cookies[:0]
	for _, c := range j.cookies {
		if c.expired(now) {
			continue
		}
		kept = append(kept, c)
		if c.HostOnly && host != c.Domain || !c.HostOnly && !domainMatch(host, c.Domain) {
			continue
		}
		if !pathMatch(path, c.Path) || c.Secure && !secure {
			continue
		}
		out = append(out, match{&http.Cookie{Name: c.Name, Value: c.Value}, len(c.Path)})
	}
	if len(kept) != len(j.cookies) {
		j.version++
	}
	j.cookies = kept
	// Longer paths first, as RFC 6265 §5.4 asks.
	sort.SliceStable(out, func(a, b int) bool { return out[a].pathLen > out[b].pathLen })
	res := make([]*http.Cookie, len(out))
	for i, m := range out {
		res[i] = m.c
	}
	return res
}

// Header is the Cookie header a request to u carries ("" for none), exactly as
// net/http's client makes it from Cookies. An idle login sends the same synccheck every
// 25 s; remade each time, the header cost an allocation and a fmt.Sprintf per cookie,
// a sixth of the idle CPU. The last few lines are kept until the jar changes or one of
// their cookies expires.
func (j *Jar) Header(u *url.URL) string {
	host, now := canonicalHost(u.Host), j.now()
	j.mu.Lock()
	for i := range j.lines {
		l := &j.lines[i]
		if l.version == j.version && l.line != "" && l.host == host && l.scheme == u.Scheme && l.path == u.Path &&
			(l.until.IsZero() || now.Before(l.until)) {
			j.mu.Unlock()
			return l.line
		}
	}
	j.mu.Unlock()
	cookies := j.Cookies(u)
	if len(cookies) == 0 {
		return ""
	}
	r := http.Request{Header: http.Header{}}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	line := r.Header.Get("Cookie")
	j.mu.Lock()
	defer j.mu.Unlock()
	var until time.Time
	for _, c := range j.cookies {
		if !c.Expires.IsZero() && (until.IsZero() || c.Expires.Before(until)) {
			until = c.Expires
		}
	}
	j.lines[j.next] = cookieLine{host: host, scheme: u.Scheme, path: u.Path, version: j.version, until: until, line: line}
	j.next = (j.next + 1) % len(j.lines)
	return line
}

// Value returns the value of the named cookie that would be sent to u, or "".
func (j *Jar) Value(u *url.URL, name string) string {
	for _, c := range j.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// Export returns a copy of every live cookie.
func (j *Jar) Export() []Cookie {
	now := j.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Cookie, 0, len(j.cookies))
	for _, c := range j.cookies {
		if !c.expired(now) {
			out = append(out, c)
		}
	}
	return out
}

// Import replaces the jar's content.
func (j *Jar) Import(cookies []Cookie) {
	now := j.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	j.version++
	j.cookies = j.cookies[:0]
	for _, c := range cookies {
		c.Domain = strings.ToLower(strings.TrimPrefix(c.Domain, "."))
		if c.Path == "" {
			c.Path = "/"
		}
		j.put(c, now)
	}
}

func canonicalHost(h string) string {
	if host, _, ok := strings.Cut(h, ":"); ok && !strings.Contains(host, "[") {
		h = host
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

func domainMatch(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}

func pathMatch(reqPath, cookiePath string) bool {
	if reqPath == cookiePath {
		return true
	}
	if strings.HasPrefix(reqPath, cookiePath) {
		return strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/'
	}
	return false
}

// defaultPath is RFC 6265 §5.1.4: the directory of the request path.
func defaultPath(p string) string {
	if p == "" || p[0] != '/' {
		return "/"
	}
	i := strings.LastIndex(p, "/")
	if i == 0 {
		return "/"
	}
	return p[:i]
}
