package wxsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
	"wxbridge/protoclient/wxsim/wxsimtest"
)

// The tests drive the protocol face with plain net/http, the way a client written from
// the public descriptions would: real host names in URLs and in the cookie jar, and a
// transport that sends everything to the one wxsim listener.

type env struct {
	t   *testing.T
	sim *wxsim.Server
	ts  *httptest.Server
	ctl *wxsim.Control
	ctx context.Context
}

func newEnv(t *testing.T, tweak func(*wxsim.Settings)) *env {
	t.Helper()
	return newEnvClock(t, tweak, nil)
}

// fakeClock is a clock the test moves by hand, for windows and expiries. Its timers
// fire inside Add, so whatever they do has happened when Add returns.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c    *fakeClock
	at   time.Time
	f    func()
	done bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	var due, left []*fakeTimer
	for _, tm := range c.timers {
		switch {
		case tm.done:
		case !tm.at.After(c.t):
			tm.done = true
			due = append(due, tm)
		default:
			left = append(left, tm)
		}
	}
	c.timers = left
	c.mu.Unlock()
	// Outside the lock: the functions read the clock.
	for _, tm := range due {
		tm.f()
	}
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) wxsim.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &fakeTimer{c: c, at: c.t.Add(d), f: f}
	c.timers = append(c.timers, tm)
	return tm
}

func (tm *fakeTimer) Stop() bool {
	tm.c.mu.Lock()
	defer tm.c.mu.Unlock()
	was := !tm.done
	tm.done = true
	return was
}

// newEnvClock runs wxsim on clock; nil is the real clock.
func newEnvClock(t *testing.T, tweak func(*wxsim.Settings), clock *fakeClock) *env {
	t.Helper()
	srv := wxsimtest.New(t, tweak, func(o *wxsim.Options) {
		if clock != nil {
			o.Now, o.AfterFunc = clock.Now, clock.AfterFunc
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return &env{t: t, sim: srv.Sim, ts: srv.TS, ctl: srv.Ctl, ctx: ctx}
}

// setup creates Alice on wx2.qq.com with Bob, Carol and a group.
func (e *env) setup() {
	e.t.Helper()
	e.must(e.ctl.CreateAccount(e.ctx, wxsim.AccountSpec{Wxid: "wxid_alice", Nickname: "Alice", Uin: 1001, Host: "wx2.qq.com"}))
	e.must(e.ctl.AddContact(e.ctx, "wxid_alice", wxsim.ContactSpec{Wxid: "wxid_bob", Nickname: ptr("Bob")}))
	e.must(e.ctl.AddContact(e.ctx, "wxid_alice", wxsim.ContactSpec{Wxid: "wxid_carol", Nickname: ptr("Carol")}))
	e.must(e.ctl.CreateGroup(e.ctx, "wxid_alice", wxsim.GroupSpec{ID: "12345@chatroom", Name: "Family",
		Members: []string{"wxid_bob", "wxid_carol"}, DisplayNames: map[string]string{"wxid_bob": "Uncle Bob"}}))
}

func ptr[T any](v T) *T { return &v }

func (e *env) must(v ...any) {
	e.t.Helper()
	if err, ok := v[len(v)-1].(error); ok && err != nil {
		e.t.Fatal(err)
	}
}

type rewrite struct {
	base *url.URL
	rt   http.RoundTripper
}

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.Host = req.URL.Host
	out.URL.Scheme, out.URL.Host = r.base.Scheme, r.base.Host
	return r.rt.RoundTrip(out)
}

// wx is a hand-written protocol client.
type wx struct {
	e          *env
	hc         *http.Client
	web        string
	sid, skey  string
	uin        int64
	passTicket string // as in the XML (URL-encoded once)
	self       protoclient.UserName
	key        json.RawMessage
	checkKey   string
	// before go ahead of the jar's cookies on every request, as a stale cookie of an
	// earlier login would.
	before []*http.Cookie
}

func (e *env) client() *wx {
	jar, _ := cookiejar.New(nil)
	base, _ := url.Parse(e.ts.URL)
	hc := &http.Client{
		Jar:       jar,
		Transport: rewrite{base: base, rt: e.ts.Client().Transport},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return &wx{e: e, hc: hc, web: "wx.qq.com"}
}

func (w *wx) do(req *http.Request) (*http.Response, string) {
	w.e.t.Helper()
	for _, ck := range w.before {
		req.AddCookie(ck) // the client adds the jar's cookies after these
	}
	resp, err := w.hc.Do(req)
	if err != nil {
		w.e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.e.t.Fatal(err)
	}
	return resp, string(b)
}

func (w *wx) get(rawURL string) (*http.Response, string) {
	w.e.t.Helper()
	req, _ := http.NewRequestWithContext(w.e.ctx, http.MethodGet, rawURL, nil)
	return w.do(req)
}

func (w *wx) post(rawURL string, body any, out any) *http.Response {
	w.e.t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	req, _ := http.NewRequestWithContext(w.e.ctx, http.MethodPost, rawURL, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	resp, text := w.do(req)
	if out != nil {
		if err := json.Unmarshal([]byte(text), out); err != nil {
			w.e.t.Fatalf("POST %s: %v in %q", rawURL, err, text)
		}
	}
	return resp
}

func (w *wx) api(name string) string {
	return "https://" + w.web + "/cgi-bin/mmwebwx-bin/" + name + "?lang=zh_CN&pass_ticket=" + w.passTicket
}

func (w *wx) br() map[string]any {
	return map[string]any{"Uin": w.uin, "Sid": w.sid, "Skey": w.skey, "DeviceID": "e123456789012345"}
}

var (
	reUUID     = regexp.MustCompile(`^window\.QRLogin\.code = 200; window\.QRLogin\.uuid = "([A-Za-z0-9]{10}==)";$`)
	reRedirect = regexp.MustCompile(`^window\.code=200;window\.redirect_uri="(https://([a-z0-9.]+)/cgi-bin/mmwebwx-bin/webwxnewloginpage\?ticket=[A-Za-z0-9]+@qrticket_0&uuid=[A-Za-z0-9=]+&lang=zh_CN&scan=\d+)";$`)
)

func (w *wx) jslogin() string {
	w.e.t.Helper()
	_, body := w.get("https://login.wx.qq.com/jslogin?appid=wx782c26e4c19acffb&fun=new&lang=zh_CN&_=1")
	m := reUUID.FindStringSubmatch(body)
	if m == nil {
		w.e.t.Fatalf("jslogin answered %q", body)
	}
	return m[1]
}

func (w *wx) poll(uuid string) string {
	w.e.t.Helper()
	_, body := w.get("https://login.wx.qq.com/cgi-bin/mmwebwx-bin/login?loginicon=true&uuid=" + uuid + "&tip=0&r=-1&_=2")
	return body
}

type loginXML struct {
	Ret        int    `xml:"ret"`
	Message    string `xml:"message"`
	Skey       string `xml:"skey"`
	Wxsid      string `xml:"wxsid"`
	Wxuin      int64  `xml:"wxuin"`
	PassTicket string `xml:"pass_ticket"`
}

// newLoginPage follows a confirmed redirect_uri and keeps the credentials.
func (w *wx) newLoginPage(redirect string) (*http.Response, loginXML) {
	w.e.t.Helper()
	resp, body := w.get(redirect + "&fun=new&version=v2")
	var x loginXML
	if err := xml.Unmarshal([]byte(body), &x); err != nil {
		w.e.t.Fatalf("newloginpage: %v in %q", err, body)
	}
	if x.Ret == 0 {
		u, _ := url.Parse(redirect)
		w.web, w.sid, w.skey, w.uin, w.passTicket = u.Host, x.Wxsid, x.Skey, x.Wxuin, x.PassTicket
	}
	return resp, x
}

// login runs QR login for wxid through webwxinit.
func (e *env) login(wxid string) (*wx, protoclient.InitResponse) {
	e.t.Helper()
	w := e.client()
	uuid := w.jslogin()
	e.must(e.ctl.Scan(e.ctx, uuid, wxid))
	e.must(e.ctl.Confirm(e.ctx, uuid))
	m := reRedirect.FindStringSubmatch(w.poll(uuid))
	if m == nil {
		e.t.Fatal("no redirect after confirm")
	}
	if _, x := w.newLoginPage(m[1]); x.Ret != 0 {
		e.t.Fatalf("newloginpage ret %d", x.Ret)
	}
	return w, w.init()
}

func (w *wx) init() protoclient.InitResponse {
	w.e.t.Helper()
	var ini protoclient.InitResponse
	// The official client sends Uin as a string on init (§2.1).
	br := w.br()
	br["Uin"] = itoa(w.uin)
	w.post(w.api("webwxinit")+"&r=-23072231", map[string]any{"BaseRequest": br}, &ini)
	if ini.BaseResponse.Ret == 0 {
		w.self = ini.User.UserName
		w.key, _ = json.Marshal(ini.SyncKey)
		w.checkKey = ini.SyncKey.String()
	}
	return ini
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// sync calls webwxsync with the stored key and stores the new one.
func (w *wx) sync() protoclient.SyncResponse {
	w.e.t.Helper()
	var out protoclient.SyncResponse
	w.post("https://"+w.web+"/cgi-bin/mmwebwx-bin/webwxsync?sid="+w.sid+"&skey="+w.skey+"&lang=zh_CN&pass_ticket="+w.passTicket,
		map[string]any{"BaseRequest": w.br(), "SyncKey": w.key, "rr": "-23314857"}, &out)
	if out.BaseResponse.Ret == 0 && out.SyncKey.Valid() {
		w.key, _ = json.Marshal(out.SyncKey)
		w.checkKey = out.SyncKey.String()
		if out.SyncCheckKey != nil {
			w.checkKey = out.SyncCheckKey.String()
		}
	}
	return out
}

func (w *wx) synccheck() string {
	w.e.t.Helper()
	_, body := w.get(w.synccheckURL(w.checkKey))
	return body
}

func (w *wx) synccheckURL(key string) string {
	q := url.Values{"r": {"1"}, "skey": {w.skey}, "sid": {w.sid}, "uin": {itoa(w.uin)}, "deviceid": {"e1"}, "synckey": {key}, "_": {"2"}}
	return "https://webpush." + w.web + "/cgi-bin/mmwebwx-bin/synccheck?" + q.Encode()
}

// names maps stable ids to this session's UserNames through the op-4 message.
func (w *wx) names(msgs []protoclient.Message) map[string]protoclient.UserName {
	w.e.t.Helper()
	for _, m := range msgs {
		if m.MsgType == protoclient.MsgStatusNotify && m.StatusNotifyCode == protoclient.StatusNotifySyncConv {
			pairs, err := protoclient.PairStatusNotify(m)
			if err != nil {
				w.e.t.Fatal(err)
			}
			out := map[string]protoclient.UserName{}
			for name, id := range pairs {
				out[string(id)] = name
			}
			return out
		}
	}
	w.e.t.Fatal("no op-4 status notify in the batch")
	return nil
}

func (w *wx) send(endpoint string, msg map[string]any) protoclient.SendResponse {
	w.e.t.Helper()
	var out protoclient.SendResponse
	w.post(w.api(endpoint)+"&fun=async&f=json", map[string]any{"BaseRequest": w.br(), "Msg": msg, "Scene": 0}, &out)
	return out
}

func (e *env) sent(wxid string) []wxsim.SentMessage {
	e.t.Helper()
	s, err := e.ctl.Sent(e.ctx, wxid)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// decoded is a message as a client reads it.
func decoded(m protoclient.Message) protoclient.Content {
	return m.Decode("@not-the-sender").Content
}

// wireField reads one element's text from a message's escaped XML, for what the server
// puts on the wire that no client shows (a revoke's session and legacy id).
func wireField(content, name string) string {
	m := regexp.MustCompile(`<` + name + `>([^<]*)</` + name + `>`).FindStringSubmatch(html.UnescapeString(content))
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}
