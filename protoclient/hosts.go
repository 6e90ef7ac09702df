package protoclient

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Hosts are the role hosts of one account (§1). WeChat assigns the web host at login
// (the host of redirect_uri); every later request must stay in that family or the
// server answers 1100/1101, so the other roles are derived from it, never configured.
type Hosts struct {
	Login string `json:"login"`
	Web   string `json:"web"`
	Push  string `json:"push"`
	File  string `json:"file"`
}

// DefaultLoginHost serves jslogin and the login poll before a web host is known.
const DefaultLoginHost = "login.wx.qq.com"

// QRHost is the host in the QR code content the phone scans (§3.3).
const QRHost = "login.weixin.qq.com"

// HostsForWeb derives every role from the web host the way the official client does:
// webpush./file./login. prefixes of the assigned host (equal to the official table for
// every real host, §1.2).
func HostsForWeb(web string) Hosts {
	web = strings.ToLower(strings.TrimSpace(web))
	return Hosts{
		Login: "login." + web,
		Web:   web,
		Push:  "webpush." + web,
		File:  "file." + web,
	}
}

// HostsFromRedirect derives the hosts from the login poll's redirect_uri.
func HostsFromRedirect(redirectURI string) (Hosts, error) {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Host == "" {
		return Hosts{}, fmt.Errorf("%w: redirect_uri is not a URL", ErrMalformed)
	}
	host := u.Hostname()
	if !isWeChatHost(host) {
		return Hosts{}, fmt.Errorf("%w: redirect_uri points at %q, not a WeChat web host", ErrMalformed, host)
	}
	return HostsForWeb(host), nil
}

// isWeChatHost keeps a forged redirect_uri from sending the session's cookies and
// credentials anywhere but WeChat.
func isWeChatHost(host string) bool {
	host = strings.ToLower(host)
	for _, suffix := range []string{".qq.com", ".wechat.com"} {
		if strings.HasSuffix(host, suffix) || host == strings.TrimPrefix(suffix, ".") {
			return true
		}
	}
	return false
}

// rewriteTransport sends every request to one base URL while the Host header keeps the
// real role host: that is how a client reaches the server double, and the cookie jar
// still sees the real https URL, so domains, paths and Secure behave as against WeChat.
type rewriteTransport struct {
	base *url.URL
	next http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// A shallow copy with its own URL: the headers and body are only read, and a deep
	// copy (Clone) of each long poll's headers lived as long as the poll.
	r := new(http.Request)
	*r = *req
	u := *req.URL
	r.URL = &u
	if r.Host == "" {
		r.Host = req.URL.Host
	}
	r.URL.Scheme = t.base.Scheme
	r.URL.Host = t.base.Host
	if p := strings.TrimSuffix(t.base.Path, "/"); p != "" {
		r.URL.Path = p + r.URL.Path
		if r.URL.RawPath != "" {
			r.URL.RawPath = p + r.URL.RawPath
		}
	}
	return t.next.RoundTrip(r)
}
