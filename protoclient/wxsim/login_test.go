package wxsim_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"wxbridge/protoclient/wxsim"
)

var reAvatar = regexp.MustCompile(`^window\.code=201;window\.userAvatar = 'data:img/jpg;base64,[A-Za-z0-9+/=]+';$`)

func TestQRLoginExactTexts(t *testing.T) {
	e := newEnv(t, func(s *wxsim.Settings) { s.LoginPollHoldMS = 150 })
	e.setup()
	w := e.client()
	uuid := w.jslogin()

	resp, img := w.get("https://login.weixin.qq.com/qrcode/" + uuid)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || !strings.HasPrefix(img, "\xff\xd8") {
		t.Fatalf("qrcode: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := w.poll(uuid); got != "window.code=408;" {
		t.Fatalf("waiting poll = %q", got)
	}
	got, err := e.ctl.WaitLogin(e.ctx)
	if err != nil || got != uuid {
		t.Fatalf("WaitLogin = %q, %v", got, err)
	}

	// A poll in progress wakes as soon as the phone scans: hold it for far longer
	// than the test takes, and scan while it waits.
	e.must(e.ctl.Settings(e.ctx, map[string]any{"login_poll_hold_ms": 10000}))
	done := make(chan string)
	go func() { done <- w.poll(uuid) }()
	waitStat(e, "login", 2)
	start := time.Now()
	e.must(nil, e.ctl.Scan(e.ctx, uuid, "wxid_alice"))
	if body := <-done; !reAvatar.MatchString(body) {
		t.Fatalf("scanned poll = %.80q", body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("poll did not wake on scan (%v)", d)
	}
	// The 201 is told once; the next poll waits for the confirmation.
	go func() { done <- w.poll(uuid) }()
	waitStat(e, "login", 3)
	e.must(nil, e.ctl.Confirm(e.ctx, uuid))
	m := reRedirect.FindStringSubmatch(<-done)
	if m == nil || m[2] != "wx2.qq.com" {
		t.Fatalf("confirmed poll: %v", m)
	}
	_, x := w.newLoginPage(m[1])
	if x.Ret != 0 || !strings.HasPrefix(x.Skey, "@crypt_") || x.Wxuin != 1001 || len(x.Wxsid) != 16 {
		t.Fatalf("credentials %+v", x)
	}
	if !strings.Contains(x.PassTicket, "%2B") || !strings.HasSuffix(x.PassTicket, "%3D") {
		t.Fatalf("pass_ticket is not URL-encoded in the XML: %q", x.PassTicket)
	}
	// The ticket is one-shot.
	if _, again := w.newLoginPage(m[1]); again.Ret == 0 {
		t.Fatal("ticket accepted twice")
	}
	info, _ := e.ctl.Account(e.ctx, "wxid_alice")
	if !info.LoggedIn || info.Sessions != 1 || !strings.HasPrefix(info.UserName, "@") {
		t.Fatalf("account %+v", info)
	}
}

func waitStat(e *env, endpoint string, n int64) {
	e.t.Helper()
	for {
		st, err := e.ctl.Stats(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if st.Requests[endpoint] >= n {
			return
		}
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("%s never reached %d requests", endpoint, n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestQRLoginCancelAndExpire(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w := e.client()
	uuid := w.jslogin()
	e.must(nil, e.ctl.Scan(e.ctx, uuid, "wxid_alice"))
	if !reAvatar.MatchString(w.poll(uuid)) {
		t.Fatal("no 201")
	}
	e.must(nil, e.ctl.Cancel(e.ctx, uuid))
	if got := w.poll(uuid); got != "window.code=202;" {
		t.Fatalf("cancelled poll = %q", got)
	}
	uuid2 := w.jslogin()
	e.must(nil, e.ctl.Expire(e.ctx, uuid2))
	if got := w.poll(uuid2); got != "window.code=400;" {
		t.Fatalf("expired poll = %q", got)
	}
	if err := e.ctl.Confirm(e.ctx, uuid2); err == nil {
		t.Fatal("confirmed an expired login")
	}
	logins, _ := e.ctl.Logins(e.ctx)
	if len(logins) != 2 || logins[0].UUID != uuid2 || logins[0].State != "expired" || logins[1].State != "cancelled" {
		t.Fatalf("logins %+v", logins)
	}
}

func TestCookiesHaveRealDomains(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w := e.client()
	uuid := w.jslogin()
	e.must(nil, e.ctl.Scan(e.ctx, uuid, "wxid_alice"))
	e.must(nil, e.ctl.Confirm(e.ctx, uuid))
	m := reRedirect.FindStringSubmatch(w.poll(uuid))
	resp, _ := w.newLoginPage(m[1])
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain;charset=utf-8" {
		t.Fatalf("newloginpage Content-Type %q", ct)
	}
	domains := map[string]string{}
	for _, line := range resp.Header.Values("Set-Cookie") {
		name := line[:strings.IndexByte(line, '=')]
		d := regexp.MustCompile(`; Domain=([^;]+); Path=/; Expires=\w{3}, \d\d-\w{3}-\d{4} \d\d:\d\d:\d\d GMT; Secure$`).FindStringSubmatch(line)
		if d == nil {
			t.Fatalf("cookie line %q", line)
		}
		domains[name] = d[1]
	}
	want := map[string]string{"wxuin": "wx2.qq.com", "wxsid": "wx2.qq.com", "wxloadtime": "wx2.qq.com", "mm_lang": "wx2.qq.com",
		"webwxuvid": "wx2.qq.com", "webwx_auth_ticket": "wx2.qq.com", "webwx_data_ticket": ".qq.com"}
	for k, v := range want {
		if domains[k] != v {
			t.Errorf("cookie %s domain %q, want %q", k, domains[k], v)
		}
	}
	w.init()
	// The jar sends them to the push host; synccheck accepts the session.
	if got := w.synccheck(); got != `window.synccheck={retcode:"0",selector:"2"}` {
		t.Fatalf("synccheck = %q", got)
	}
	var sync http.Header
	{
		req := w.br()
		_ = req
		resp := w.post("https://wx2.qq.com/cgi-bin/mmwebwx-bin/webwxsync?sid="+w.sid, map[string]any{"BaseRequest": w.br(), "SyncKey": w.key}, nil)
		sync = resp.Header
	}
	joined := strings.Join(sync.Values("Set-Cookie"), "\n")
	for _, want := range []string{"wxloadtime=", "_expired; Domain=wx2.qq.com", "wxpluginkey=", "wxsid=" + w.sid, "webwx_data_ticket="} {
		if !strings.Contains(joined, want) {
			t.Errorf("webwxsync cookies lack %q:\n%s", want, joined)
		}
	}
}

func TestNewUserNamesAtEveryLogin(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w1, ini1 := e.login("wxid_alice")
	n1 := w1.names(w1.sync().AddMsgList)
	w2, ini2 := e.login("wxid_alice")
	n2 := w2.names(w2.sync().AddMsgList)
	if ini1.User.UserName == ini2.User.UserName || ini1.User.Uin != 1001 || ini2.User.Uin != 1001 {
		t.Fatalf("self %q / %q", ini1.User.UserName, ini2.User.UserName)
	}
	for _, id := range []string{"wxid_bob", "12345@chatroom"} {
		if n1[id] == "" || n1[id] == n2[id] {
			t.Errorf("%s: %q then %q", id, n1[id], n2[id])
		}
	}
	if !strings.HasPrefix(string(n2["12345@chatroom"]), "@@") || len(n2["12345@chatroom"]) != 66 || len(n2["wxid_bob"]) != 65 {
		t.Errorf("UserName shapes %q %q", n2["12345@chatroom"], n2["wxid_bob"])
	}
	// The first session died when the second logged in.
	if got := w1.synccheck(); got != `window.synccheck={retcode:"1101",selector:"0"}` {
		t.Fatalf("old session synccheck = %q", got)
	}
	if info, _ := e.ctl.Account(e.ctx, "wxid_alice"); info.Sessions != 2 || info.UserName != string(ini2.User.UserName) {
		t.Fatalf("account %+v", info)
	}
}

func TestLoginForbidden1203(t *testing.T) {
	e := newEnv(t, func(s *wxsim.Settings) { s.LoginForbidden = true })
	e.setup()
	w := e.client()
	uuid := w.jslogin()
	e.must(nil, e.ctl.Scan(e.ctx, uuid, "wxid_alice"))
	e.must(nil, e.ctl.Confirm(e.ctx, uuid))
	m := reRedirect.FindStringSubmatch(w.poll(uuid))
	_, body := w.get(m[1] + "&fun=new&version=v2")
	want := "<error><ret>1203</ret><message>当前登录环境异常。为了你的帐号安全，暂时不能登录web微信。你可以通过Windows微信、Mac微信或者手机客户端微信登录。</message></error>"
	if body != want {
		t.Fatalf("got %q", body)
	}
}

func TestPushLogin(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	oldSelf := w.self

	// Without the device cookies there is no push login.
	stranger := e.client()
	_, body := stranger.get("https://wx2.qq.com/cgi-bin/mmwebwx-bin/webwxpushloginurl?uin=1001")
	if strings.Contains(body, `"ret":"0"`) {
		t.Fatalf("push login without cookies: %s", body)
	}

	_, body = w.get("https://wx2.qq.com/cgi-bin/mmwebwx-bin/webwxpushloginurl?uin=1001")
	m := regexp.MustCompile(`^\{"ret":"0","msg":"all ok","uuid":"([A-Za-z0-9]{10}==)"\}$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("pushloginurl = %q", body)
	}
	if got := w.poll(m[1]); got != "window.code=408;" {
		t.Fatalf("unconfirmed push poll = %q", got)
	}
	if uuid, err := e.ctl.PushLoginConfirm(e.ctx, "wxid_alice"); err != nil || uuid != m[1] {
		t.Fatalf("confirm %q %v", uuid, err)
	}
	r := reRedirect.FindStringSubmatch(w.poll(m[1]))
	if r == nil {
		t.Fatal("no redirect after push confirm")
	}
	if _, x := w.newLoginPage(r[1]); x.Ret != 0 {
		t.Fatalf("newloginpage %+v", x)
	}
	if ini := w.init(); ini.BaseResponse.Ret != 0 || ini.User.UserName == oldSelf {
		t.Fatalf("init after push login %+v", ini.BaseResponse)
	}
	if _, err := e.ctl.PushLoginConfirm(e.ctx, "wxid_alice"); err == nil {
		t.Fatal("confirmed a push login that was not pending")
	}
}

func TestLogoutRetcode(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	w.sync()
	// A synccheck waiting when the session dies answers at once with the retcode.
	e.must(e.ctl.Settings(e.ctx, map[string]any{"synccheck_hold_ms": 10000}))
	done := make(chan string)
	go func() { done <- w.synccheck() }()
	waitStat(e, "synccheck", 1)
	e.must(nil, e.ctl.Logout(e.ctx, "wxid_alice", 1102))
	if got := <-done; got != `window.synccheck={retcode:"1102",selector:"0"}` {
		t.Fatalf("synccheck = %q", got)
	}
	if got := w.sync(); got.BaseResponse.Ret != 1101 {
		t.Fatalf("webwxsync Ret %d", got.BaseResponse.Ret)
	}
	if info, _ := e.ctl.Account(e.ctx, "wxid_alice"); info.LoggedIn || info.UserName != "" {
		t.Fatalf("account %+v", info)
	}
	if err := e.ctl.Logout(e.ctx, "wxid_alice", 0); err == nil {
		t.Fatal("logout of a dead session succeeded")
	}
}

func TestClientLogout(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	resp, body := w.get("https://wx2.qq.com/cgi-bin/mmwebwx-bin/webwxlogout?redirect=1&type=1&skey=" + w.skey)
	if resp.StatusCode != 200 || body != "" {
		t.Fatalf("logout %d %q", resp.StatusCode, body)
	}
	if got := w.synccheck(); got != `window.synccheck={retcode:"1101",selector:"0"}` {
		t.Fatalf("synccheck after logout = %q", got)
	}
}
