package wxsim_test

import (
	"testing"
	"time"

	"wxbridge/protoclient/wxsim"
)

func TestSessionIdleExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Now()} // cookie expiries follow this clock; the jar uses the real one
	e := newEnvClock(t, func(s *wxsim.Settings) { s.SessionIdleExpiryS = 3600 }, clock)
	e.setup()
	w, _ := e.login("wxid_alice")
	clock.Add(59 * time.Minute)
	if got := w.sync(); got.BaseResponse.Ret != 0 {
		t.Fatalf("before expiry %+v", got.BaseResponse)
	}
	clock.Add(59 * time.Minute) // activity above reset the idle time
	if got := w.sync(); got.BaseResponse.Ret != 0 {
		t.Fatalf("activity did not keep the session alive: %+v", got.BaseResponse)
	}
	clock.Add(61 * time.Minute)
	if got := w.synccheck(); got != `window.synccheck={retcode:"1101",selector:"0"}` {
		t.Fatalf("after expiry %q", got)
	}
}

func TestRevokeWindowOnTheClock(t *testing.T) {
	clock := &fakeClock{t: time.Now()} // cookie expiries follow this clock; the jar uses the real one
	e := newEnvClock(t, nil, clock)
	e.setup()
	w, _ := e.login("wxid_alice")
	r1 := w.send("webwxsendmsg", map[string]any{"Type": 1, "Content": "a", "ToUserName": "filehelper", "LocalID": "1", "ClientMsgId": "1"})
	r2 := w.send("webwxsendmsg", map[string]any{"Type": 1, "Content": "b", "ToUserName": "filehelper", "LocalID": "2", "ClientMsgId": "2"})
	clock.Add(119 * time.Second)
	var ok, late struct{ BaseResponse struct{ Ret int } }
	w.post(w.api("webwxrevokemsg"), map[string]any{"BaseRequest": w.br(), "SvrMsgId": r1.MsgID, "ToUserName": "filehelper", "ClientMsgId": "1"}, &ok)
	clock.Add(2 * time.Second)
	w.post(w.api("webwxrevokemsg"), map[string]any{"BaseRequest": w.br(), "SvrMsgId": r2.MsgID, "ToUserName": "filehelper", "ClientMsgId": "2"}, &late)
	if ok.BaseResponse.Ret != 0 || late.BaseResponse.Ret != -1 {
		t.Fatalf("119 s: %d, 121 s: %d", ok.BaseResponse.Ret, late.BaseResponse.Ret)
	}
}

func TestQRExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Now()} // cookie expiries follow this clock; the jar uses the real one
	e := newEnvClock(t, func(s *wxsim.Settings) { s.QRExpiryS = 300 }, clock)
	w := e.client()
	uuid := w.jslogin()
	if got := w.poll(uuid); got != "window.code=408;" {
		t.Fatalf("fresh %q", got)
	}
	clock.Add(301 * time.Second)
	if got := w.poll(uuid); got != "window.code=400;" {
		t.Fatalf("after expiry %q", got)
	}
	if logins, _ := e.ctl.Logins(e.ctx); logins[0].State != "expired" {
		t.Fatalf("logins %+v", logins)
	}
}
