package protoclient_test

import (
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
)

// recordingTransport keeps each request's endpoint and raw query, as WeChat sees them.
type recordingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[string][]string // endpoint → raw queries
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	ep := path.Base(req.URL.Path)
	r.seen[ep] = append(r.seen[ep], req.URL.RawQuery)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recordingTransport) last(t *testing.T, ep string) string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	qs := r.seen[ep]
	if len(qs) == 0 {
		t.Fatalf("no %s request was made", ep)
	}
	return qs[len(qs)-1]
}

func queryKeys(raw string) []string {
	var keys []string
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, _, _ := strings.Cut(part, "=")
		keys = append(keys, k)
	}
	return keys
}

// The parameters of each request go on the wire in the order the official web client
// writes them (the captures of the protocol reference, §3–§9), not sorted by name: a
// server comparing the order would tell the bridge from a browser, and WeChat restricts
// accounts it takes for bots.
func TestQueryParametersInBrowserOrder(t *testing.T) {
	e := newEnv(t, func(s *wxsim.Settings) { s.SynccheckHoldMS = 0 })
	rec := &recordingTransport{next: e.ts.Client().Transport, seen: map[string][]string{}}
	c := e.client(func(o *protoclient.Options) { o.HTTPClient = &http.Client{Transport: rec} })

	redirect := e.confirmedRedirect(c, "wxid_alice")
	e.must(c.CompleteLogin(e.ctx, redirect))
	contacts, err := c.GetContacts(e.ctx)
	e.must(err)
	e.must(c.SyncCheck(e.ctx))
	e.must(c.Sync(e.ctx))
	var bob, family protoclient.UserName
	var bobIcon string
	for _, ct := range contacts {
		switch ct.NickName {
		case "Bob":
			bob, bobIcon = ct.UserName, ct.HeadImgUrl
		case "Family":
			family = ct.UserName
		}
	}
	if bob == "" || family == "" {
		t.Fatal("Bob or Family is not among the contacts")
	}
	// A group's avatar URL from webwxbatchgetcontact comes with an empty skey (§9.4).
	groups, err := c.BatchGetUsers(e.ctx, family)
	e.must(err)
	if len(groups) != 1 || !strings.HasSuffix(groups[0].HeadImgUrl, "&skey=") {
		t.Fatalf("batch answer for the group: %+v", groups)
	}
	familyIcon := groups[0].HeadImgUrl
	e.must(c.SendText(e.ctx, bob, "hello", "17000000000000001"))
	// Requests about things that do not exist still go out; only their URLs matter here.
	_, _ = c.SendFile(e.ctx, bob, protoclient.FileInfo{Name: "a.txt", Size: 1, MediaID: "@crypt_x"}, "17000000000000002")
	_, _ = c.DownloadImage(e.ctx, "123", protoclient.ImageBig, 1<<20)
	_, _ = c.DownloadVideo(e.ctx, "123", 1<<20)
	for _, icon := range []string{bobIcon, familyIcon} {
		avatar, err := c.DownloadAvatar(e.ctx, icon, 1<<20)
		e.must(err)
		_ = avatar.Body.Close()
	}

	for ep, want := range map[string][]string{
		"jslogin":              {"appid", "redirect_uri", "fun", "lang", "_"},
		"login":                {"loginicon", "uuid", "tip", "r", "_"},
		"webwxinit":            {"r", "lang", "pass_ticket"},
		"webwxstatusnotify":    {"lang", "pass_ticket"},
		"webwxgetcontact":      {"lang", "pass_ticket", "r", "seq", "skey"},
		"webwxbatchgetcontact": {"type", "r", "lang", "pass_ticket"},
		"synccheck":            {"r", "skey", "sid", "uin", "deviceid", "synckey", "_"},
		"webwxsync":            {"sid", "skey", "lang", "pass_ticket"},
		"webwxsendmsg":         {"lang", "pass_ticket"},
		"webwxsendappmsg":      {"fun", "f", "lang", "pass_ticket", "mod"},
		"webwxgetmsgimg":       {"MsgID", "skey", "type"},
		"webwxgetvideo":        {"msgid", "skey"},
	} {
		if got := queryKeys(rec.last(t, ep)); !slices.Equal(got, want) {
			t.Errorf("%s: parameters %v, the official client sends %v", ep, got, want)
		}
	}
	// skey is written as the captures show it: "@" as it is where the official client
	// concatenates the URL, "%40" where jQuery encodes it.
	for ep, want := range map[string]string{"webwxsync": "skey=@crypt_", "webwxgetcontact": "skey=@crypt_",
		"synccheck": "skey=%40crypt_", "webwxgetmsgimg": "skey=%40crypt_", "webwxgetvideo": "skey=%40crypt_"} {
		if q := rec.last(t, ep); !strings.Contains(q, want) {
			t.Errorf("%s query %q, the official client's has %s…", ep, q, want)
		}
	}
	// webwxgetmsgimg's URL starts "?&MsgID=" in the capture (§9.9).
	if q := rec.last(t, "webwxgetmsgimg"); !strings.HasPrefix(q, "&MsgID=") {
		t.Errorf("webwxgetmsgimg query %q, the official client's starts with &MsgID=", q)
	}
	// URLs the server hands out are followed as they came, with the client's own
	// parameters after them.
	_, redirectQuery, _ := strings.Cut(redirect, "?")
	if q := rec.last(t, "webwxnewloginpage"); q != redirectQuery+"&fun=new&version=v2&mod=desktop" {
		t.Errorf("webwxnewloginpage query %q, want the redirect_uri's %q followed by fun, version, mod", q, redirectQuery)
	}
	_, iconQuery, _ := strings.Cut(bobIcon, "?")
	if q := rec.last(t, "webwxgeticon"); q != iconQuery {
		t.Errorf("avatar query %q, want HeadImgUrl's %q as it came", q, iconQuery)
	}
	// The group's empty skey is filled in where it stands, with the session's.
	_, familyQuery, _ := strings.Cut(familyIcon, "?")
	if q := rec.last(t, "webwxgetheadimg"); !strings.HasPrefix(q, familyQuery+"%40crypt_") || strings.Count(q, "skey=") != 1 {
		t.Errorf("group avatar query %q, want %q with the session's skey", q, familyQuery)
	}
}

// A redirect_uri that already carries one of the client's own parameters keeps it once.
func TestRedirectParametersNotDoubled(t *testing.T) {
	e := newEnv(t, nil)
	rec := &recordingTransport{next: e.ts.Client().Transport, seen: map[string][]string{}}
	c := e.client(func(o *protoclient.Options) { o.HTTPClient = &http.Client{Transport: rec} })
	redirect := e.confirmedRedirect(c, "wxid_alice")
	e.must(c.CompleteLogin(e.ctx, redirect+"&mod=desktop"))
	_, redirectQuery, _ := strings.Cut(redirect, "?")
	if q := rec.last(t, "webwxnewloginpage"); q != redirectQuery+"&mod=desktop&fun=new&version=v2" {
		t.Errorf("webwxnewloginpage query %q, want the redirect_uri's own followed by fun and version only", q)
	}
}
