package wxsim_test

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
)

// logout_after_login_ms: WeChat ending web sessions seconds after they started.

func synccheckRetcode(code int) string {
	return `window.synccheck={retcode:"` + strconv.Itoa(code) + `",selector:"0"}`
}

// wantAlive fails unless webwxsync works and a synccheck with a message waiting
// answers selector 2 (a waiting message keeps synccheck from holding).
func wantAlive(e *env, w *wx, when string) {
	e.t.Helper()
	if got := w.sync(); got.BaseResponse.Ret != 0 {
		e.t.Fatalf("%s: webwxsync Ret %d", when, got.BaseResponse.Ret)
	}
	e.must(e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Content: "still there?"}))
	if got := w.synccheck(); got != `window.synccheck={retcode:"0",selector:"2"}` {
		e.t.Fatalf("%s: synccheck %q", when, got)
	}
	if got := w.sync(); got.BaseResponse.Ret != 0 {
		e.t.Fatalf("%s: webwxsync Ret %d", when, got.BaseResponse.Ret)
	}
}

// wantEnded fails unless synccheck and every JSON API answer code.
func wantEnded(e *env, w *wx, code int, when string) {
	e.t.Helper()
	if got := w.synccheck(); got != synccheckRetcode(code) {
		e.t.Fatalf("%s: synccheck %q", when, got)
	}
	if got := w.sync(); got.BaseResponse.Ret != code {
		e.t.Fatalf("%s: webwxsync Ret %d", when, got.BaseResponse.Ret)
	}
	if got := w.send("webwxsendmsg", map[string]any{"Type": 1, "Content": "hi", "ToUserName": "filehelper", "LocalID": "9", "ClientMsgId": "9"}); got.BaseResponse.Ret != code {
		e.t.Fatalf("%s: webwxsendmsg Ret %d", when, got.BaseResponse.Ret)
	}
	var notify protoclient.StatusNotifyResponse
	w.post(w.api("webwxstatusnotify"), map[string]any{"BaseRequest": w.br(), "Code": 3, "FromUserName": w.self, "ToUserName": w.self, "ClientMsgId": 1}, &notify)
	if notify.BaseResponse.Ret != code {
		e.t.Fatalf("%s: webwxstatusnotify Ret %d", when, notify.BaseResponse.Ret)
	}
	if got := w.init(); got.BaseResponse.Ret != code {
		e.t.Fatalf("%s: webwxinit Ret %d", when, got.BaseResponse.Ret)
	}
	if info, err := e.ctl.Account(e.ctx, "wxid_alice"); err != nil || info.LoggedIn {
		e.t.Fatalf("%s: account %+v %v", when, info, err)
	}
}

// pushLogin logs w in again without a QR scan and stops before webwxinit.
func pushLogin(e *env, w *wx) {
	e.t.Helper()
	_, body := w.get("https://wx2.qq.com/cgi-bin/mmwebwx-bin/webwxpushloginurl?uin=1001")
	m := regexp.MustCompile(`"uuid":"([A-Za-z0-9]{10}==)"`).FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("pushloginurl = %q", body)
	}
	if _, err := e.ctl.PushLoginConfirm(e.ctx, "wxid_alice"); err != nil {
		e.t.Fatal(err)
	}
	r := reRedirect.FindStringSubmatch(w.poll(m[1]))
	if r == nil {
		e.t.Fatal("no redirect after push confirm")
	}
	if _, x := w.newLoginPage(r[1]); x.Ret != 0 {
		e.t.Fatalf("newloginpage %+v", x)
	}
}

func TestLogoutAfterLogin(t *testing.T) {
	clock := &fakeClock{t: time.Now()} // cookie expiries follow this clock; the jar uses the real one
	e := newEnvClock(t, func(s *wxsim.Settings) { s.LogoutAfterLoginMS = 5000 }, clock)
	e.setup()
	w, ini := e.login("wxid_alice")
	if ini.BaseResponse.Ret != 0 {
		t.Fatalf("init %+v", ini.BaseResponse)
	}
	clock.Add(4999 * time.Millisecond)
	wantAlive(e, w, "1 ms before the deadline")

	// A synccheck held across the deadline answers at it, not at the end of its hold
	// (which would answer retcode 0).
	const hold = 10 * time.Second
	e.must(e.ctl.Settings(e.ctx, map[string]any{"synccheck_hold_ms": hold.Milliseconds()}))
	st, err := e.ctl.Stats(e.ctx)
	e.must(err)
	done := make(chan string, 1)
	start := time.Now()
	go func() { done <- w.synccheck() }()
	waitStat(e, "synccheck", st.Requests["synccheck"]+1)
	clock.Add(time.Millisecond)
	if got := <-done; got != synccheckRetcode(1102) {
		t.Fatalf("held synccheck = %q", got)
	}
	if took := time.Since(start); took >= hold {
		t.Fatalf("held synccheck answered after %v", took)
	}
	e.must(e.ctl.Settings(e.ctx, map[string]any{"synccheck_hold_ms": 300}))
	wantEnded(e, w, 1102, "after the deadline")

	// Every new session ends again: a QR login ...
	w2, _ := e.login("wxid_alice")
	clock.Add(4999 * time.Millisecond)
	wantAlive(e, w2, "second login, 1 ms before its deadline")
	clock.Add(time.Millisecond)
	wantEnded(e, w2, 1102, "second login after its deadline")

	// ... and a push login, counted from its webwxinit, not its newloginpage.
	pushLogin(e, w2)
	clock.Add(time.Minute)
	if ini := w2.init(); ini.BaseResponse.Ret != 0 {
		t.Fatalf("init after push login %+v", ini.BaseResponse)
	}
	clock.Add(4999 * time.Millisecond)
	wantAlive(e, w2, "push login, 1 ms before its deadline")
	clock.Add(time.Millisecond)
	wantEnded(e, w2, 1102, "push login after its deadline")

	// Off again: sessions created from now on stay.
	e.must(e.ctl.Settings(e.ctx, map[string]any{"logout_after_login_ms": 0}))
	w3, _ := e.login("wxid_alice")
	clock.Add(time.Hour)
	wantAlive(e, w3, "an hour after a login with the setting off")
}

func TestLogoutAfterLoginOffByDefault(t *testing.T) {
	if st := wxsim.DefaultSettings(); st.LogoutAfterLoginMS != 0 || st.LogoutAfterLoginRetcode != 1102 {
		t.Fatalf("defaults %+v", st)
	}
	clock := &fakeClock{t: time.Now()}
	e := newEnvClock(t, nil, clock)
	e.setup()
	w, _ := e.login("wxid_alice")
	clock.Add(24 * time.Hour)
	wantAlive(e, w, "a day after login")
}

func TestLogoutAfterLoginRetcode(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newEnvClock(t, nil, clock)
	e.setup()
	st, err := e.ctl.Settings(e.ctx, map[string]any{"logout_after_login_ms": 2000, "logout_after_login_retcode": 1101})
	if err != nil || st.LogoutAfterLoginMS != 2000 || st.LogoutAfterLoginRetcode != 1101 {
		t.Fatalf("settings %+v %v", st, err)
	}
	for _, bad := range []map[string]any{{"logout_after_login_ms": -1}, {"logout_after_login_retcode": 0}} {
		if _, err := e.ctl.Settings(e.ctx, bad); err == nil {
			t.Fatalf("settings %v accepted", bad)
		}
	}
	w, _ := e.login("wxid_alice")
	clock.Add(1999 * time.Millisecond)
	wantAlive(e, w, "before the deadline")
	clock.Add(time.Millisecond)
	wantEnded(e, w, 1101, "after the deadline")
}

// On the real clock (no Options.AfterFunc) the held synccheck is woken by a real timer.
func TestLogoutAfterLoginRealClock(t *testing.T) {
	const hold = 10 * time.Second
	e := newEnv(t, func(s *wxsim.Settings) {
		s.LogoutAfterLoginMS = 500
		s.SynccheckHoldMS = int(hold.Milliseconds())
	})
	e.setup()
	start := time.Now()
	w, _ := e.login("wxid_alice")
	w.sync() // takes the op-4 message, so that synccheck holds; may already be too late
	if got := w.synccheck(); got != synccheckRetcode(1102) {
		t.Fatalf("synccheck = %q", got)
	}
	if took := time.Since(start); took >= hold {
		t.Fatalf("synccheck answered after %v", took)
	}
}
