package protoclient

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func names(cs []*http.Cookie) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	sort.Strings(out)
	return out
}

// The cookies set by webwxnewloginpage (capture §9.1) must reach the webpush. and file.
// hosts, before and after the session is serialised and restored: the openwechat jar
// lost their domains on reload and synccheck went out without cookies (§7.4).
func TestJarKeepsDomainsAcrossExportImport(t *testing.T) {
	exp := time.Now().Add(12 * time.Hour)
	set := []*http.Cookie{
		{Name: "wxuin", Value: "176666155", Domain: "wx2.qq.com", Path: "/", Expires: exp, Secure: true},
		{Name: "wxsid", Value: "5YpLHmVgWwH5LxN1", Domain: "wx2.qq.com", Path: "/", Expires: exp, Secure: true},
		{Name: "webwx_data_ticket", Value: "gSehWtnDWTMh38gmz0IjaFv0", Domain: ".qq.com", Path: "/", Expires: exp, Secure: true},
		{Name: "hostonly", Value: "x"},
	}
	j := NewJar()
	j.SetCookies(mustURL(t, "https://wx2.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage?ticket=1"), set)

	check := func(j *Jar, when string) {
		t.Helper()
		cases := map[string][]string{
			"https://wx2.qq.com/cgi-bin/mmwebwx-bin/webwxinit":          {"hostonly", "webwx_data_ticket", "wxsid", "wxuin"},
			"https://webpush.wx2.qq.com/cgi-bin/mmwebwx-bin/synccheck":  {"webwx_data_ticket", "wxsid", "wxuin"},
			"https://file.wx2.qq.com/cgi-bin/mmwebwx-bin/webwxgetmedia": {"webwx_data_ticket", "wxsid", "wxuin"},
			"https://wx.qq.com/cgi-bin/mmwebwx-bin/webwxinit":           {"webwx_data_ticket"},
			"http://wx2.qq.com/cgi-bin/mmwebwx-bin/webwxinit":           {"hostonly"}, // Secure cookies stay off plain http
			"https://example.com/":                                      nil,
		}
		for u, want := range cases {
			got := names(j.Cookies(mustURL(t, u)))
			if len(got) != len(want) {
				t.Errorf("%s: %s got %v, want %v", when, u, got, want)
				continue
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s: %s got %v, want %v", when, u, got, want)
					break
				}
			}
		}
	}
	check(j, "before export")

	raw, err := json.Marshal(j.Export())
	if err != nil {
		t.Fatal(err)
	}
	var back []Cookie
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	j2 := NewJar()
	j2.Import(back)
	check(j2, "after import")
}

func TestJarRejectsForeignDomainAndExpires(t *testing.T) {
	j := NewJar()
	now := time.Now()
	j.now = func() time.Time { return now }
	u := mustURL(t, "https://wx.qq.com/cgi-bin/mmwebwx-bin/webwxsync")
	j.SetCookies(u, []*http.Cookie{
		{Name: "evil", Value: "1", Domain: "example.com"},
		{Name: "tld", Value: "1", Domain: "com"},
		{Name: "short", Value: "1", Domain: "wx.qq.com", Path: "/", MaxAge: 60},
		{Name: "path", Value: "1"}, // default path: /cgi-bin/mmwebwx-bin
	})
	if got := names(j.Cookies(u)); len(got) != 2 || got[0] != "path" || got[1] != "short" {
		t.Fatalf("got %v, want [path short]", got)
	}
	if got := names(j.Cookies(mustURL(t, "https://wx.qq.com/other"))); len(got) != 1 || got[0] != "short" {
		t.Fatalf("path-scoped cookie leaked to /other: %v", got)
	}
	now = now.Add(2 * time.Minute)
	if got := names(j.Cookies(u)); len(got) != 1 || got[0] != "path" {
		t.Fatalf("after expiry got %v, want [path]", got)
	}
	j.SetCookies(u, []*http.Cookie{{Name: "path", Value: "", MaxAge: -1}})
	if got := j.Cookies(u); len(got) != 0 {
		t.Fatalf("deleted cookie still sent: %v", names(got))
	}
	if v := j.Value(u, "path"); v != "" {
		t.Fatalf("Value of deleted cookie = %q", v)
	}
}

func TestHostsFromRedirect(t *testing.T) {
	h, err := HostsFromRedirect("https://wx2.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage?ticket=A@qrticket_0&uuid=x&lang=zh_CN&scan=1")
	if err != nil {
		t.Fatal(err)
	}
	want := Hosts{Login: "login.wx2.qq.com", Web: "wx2.qq.com", Push: "webpush.wx2.qq.com", File: "file.wx2.qq.com"}
	if h != want {
		t.Fatalf("got %+v, want %+v", h, want)
	}
	h, err = HostsFromRedirect("https://web.wechat.com/cgi-bin/mmwebwx-bin/webwxnewloginpage?ticket=x")
	if err != nil || h.Push != "webpush.web.wechat.com" || h.File != "file.web.wechat.com" {
		t.Fatalf("wechat.com family: %+v %v", h, err)
	}
	// A forged redirect must not send credentials elsewhere.
	if _, err := HostsFromRedirect("https://evil.example/cgi-bin/mmwebwx-bin/webwxnewloginpage"); err == nil {
		t.Fatal("accepted a redirect_uri outside WeChat")
	}
}

// The Cookie header a request carries is the one net/http's client would make from the
// jar, and stays right when the jar changes or a cookie expires between requests.
func TestJarHeaderFollowsTheJar(t *testing.T) {
	j := NewJar()
	now := time.Now()
	j.now = func() time.Time { return now }
	u := mustURL(t, "https://webpush.wx2.qq.com/cgi-bin/mmwebwx-bin/synccheck")
	netHTTP := func() string {
		r := http.Request{Header: http.Header{}}
		for _, c := range j.Cookies(u) {
			r.AddCookie(c)
		}
		return r.Header.Get("Cookie")
	}
	if got := j.Header(u); got != "" {
		t.Fatalf("empty jar sent %q", got)
	}
	j.SetCookies(mustURL(t, "https://wx2.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage"), []*http.Cookie{
		{Name: "wxuin", Value: "1234", Domain: "wx2.qq.com", Path: "/"},
		{Name: "wxsid", Value: "sid one", Domain: "wx2.qq.com", Path: "/"},
		{Name: "short", Value: "x", Domain: "qq.com", Path: "/", MaxAge: 60},
	})
	want := netHTTP()
	if want == "" || j.Header(u) != want || j.Header(u) != want {
		t.Fatalf("Header %q, net/http %q", j.Header(u), want)
	}
	j.SetCookies(u, []*http.Cookie{{Name: "wxsid", Value: "two", Domain: "wx2.qq.com", Path: "/"}})
	if got, want := j.Header(u), netHTTP(); got != want || !strings.Contains(got, "wxsid=two") {
		t.Fatalf("after a new wxsid: Header %q, net/http %q", got, want)
	}
	now = now.Add(2 * time.Minute)
	if got := j.Header(u); strings.Contains(got, "short=") {
		t.Fatalf("expired cookie still sent: %q", got)
	}
	j.Import(nil)
	if got := j.Header(u); got != "" {
		t.Fatalf("after Import(nil) the header is %q", got)
	}
}
