package wxsim_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"wxbridge/protoclient/wxsim"
)

func TestFaultHTTPStatusAndCount(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	id, err := e.ctl.AddFault(e.ctx, wxsim.Fault{Account: "wxid_alice", Endpoint: "webwxsync", Kind: "http_status", Value: 502, Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if resp := w.post(w.api("webwxsync"), map[string]any{"BaseRequest": w.br(), "SyncKey": w.key}, nil); resp.StatusCode != 502 {
			t.Fatalf("attempt %d: %d", i, resp.StatusCode)
		}
	}
	if got := w.sync(); got.BaseResponse.Ret != 0 {
		t.Fatalf("after count: %+v", got.BaseResponse)
	}
	if err := e.ctl.DeleteFault(e.ctx, id); err == nil {
		t.Fatal("a spent fault was still there")
	}
	// Faults for another account do not apply.
	e.must(e.ctl.AddFault(e.ctx, wxsim.Fault{Account: "wxid_zed", Endpoint: "*", Kind: "http_status", Value: 500}))
	if got := w.sync(); got.BaseResponse.Ret != 0 {
		t.Fatalf("other account's fault applied: %+v", got.BaseResponse)
	}
	e.must(nil, e.ctl.ClearFaults(e.ctx))
	if f, _ := e.ctl.Faults(e.ctx); len(f) != 0 {
		t.Fatalf("faults after clear: %+v", f)
	}
	if _, err := e.ctl.AddFault(e.ctx, wxsim.Fault{Endpoint: "*", Kind: "meteor"}); err == nil {
		t.Fatal("unknown kind accepted")
	}
}

func TestFaultRetcodes(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	e.must(e.ctl.AddFault(e.ctx, wxsim.Fault{Endpoint: "synccheck", Kind: "retcode", Value: 1205, Count: 1}))
	if got := w.synccheck(); got != `window.synccheck={retcode:"1205",selector:"0"}` {
		t.Fatalf("synccheck = %q", got)
	}
	e.must(e.ctl.AddFault(e.ctx, wxsim.Fault{Endpoint: "webwxsendmsg", Kind: "retcode", Value: 1205, Count: 1}))
	if r := w.send("webwxsendmsg", map[string]any{"Type": 1, "Content": "x", "ToUserName": "filehelper", "LocalID": "1", "ClientMsgId": "1"}); r.BaseResponse.Ret != 1205 || r.MsgID != "" {
		t.Fatalf("send = %+v", r)
	}
	if s := e.sent("wxid_alice"); len(s) != 0 {
		t.Fatalf("a refused send was recorded: %+v", s)
	}
	e.must(e.ctl.AddFault(e.ctx, wxsim.Fault{Endpoint: "webwxinit", Kind: "retcode", Value: 1100, Count: 1}))
	if ini := w.init(); ini.BaseResponse.Ret != 1100 {
		t.Fatalf("init = %+v", ini.BaseResponse)
	}
}

func TestFaultDelayHangReset(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	w.sync()

	e.must(e.ctl.AddFault(e.ctx, wxsim.Fault{Endpoint: "webwxsync", Kind: "delay", Value: 150, Count: 1}))
	start := time.Now()
	if got := w.sync(); got.BaseResponse.Ret != 0 || time.Since(start) < 150*time.Millisecond {
		t.Fatalf("delay: %v after %v", got.BaseResponse, time.Since(start))
	}

	e.must(e.ctl.AddFault(e.ctx, wxsim.Fault{Endpoint: "synccheck", Kind: "hang", Count: 1}))
	ctx, cancel := context.WithTimeout(e.ctx, 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.synccheckURL(w.checkKey), nil)
	if _, err := w.hc.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang: %v", err)
	}

	// Count 0: Go's transport retries a GET once when a reused connection is reset.
	resetID, _ := e.ctl.AddFault(e.ctx, wxsim.Fault{Endpoint: "synccheck", Kind: "reset"})
	req, _ = http.NewRequestWithContext(e.ctx, http.MethodGet, w.synccheckURL(w.checkKey), nil)
	if resp, err := w.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("reset answered %d", resp.StatusCode)
	}
	e.must(nil, e.ctl.DeleteFault(e.ctx, resetID))

	e.must(e.ctl.AddFault(e.ctx, wxsim.Fault{Endpoint: "synccheck", Kind: "bad_status", Count: 1}))
	req, _ = http.NewRequestWithContext(e.ctx, http.MethodGet, w.synccheckURL(w.checkKey), nil)
	if resp, err := w.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("bad_status answered %d", resp.StatusCode)
	}
	// Everything works again afterwards.
	if got := w.synccheck(); got != `window.synccheck={retcode:"0",selector:"0"}` {
		t.Fatalf("after faults: %q", got)
	}
	st, _ := e.ctl.Stats(e.ctx)
	if st.Requests["synccheck"] < 4 || st.Requests["webwxsync"] != 2 || st.Requests["webwxinit"] != 1 {
		t.Fatalf("stats %+v", st.Requests)
	}
}

func TestFaultDuplicate(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	w.sync()
	e.must(e.ctl.AddFault(e.ctx, wxsim.Fault{Endpoint: "webwxsync", Kind: "duplicate", Count: 1}))
	// A batch without messages does not use the fault.
	e.must(nil, e.ctl.UpdateContact(e.ctx, "wxid_alice", "wxid_bob", wxsim.ContactSpec{Nickname: ptr("B")}))
	w.sync()
	ref, _ := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Content: "twice"})
	first := w.sync()
	if got := msgIDs(first.AddMsgList); len(got) != 1 || got[0] != ref.MsgID {
		t.Fatalf("first %v", got)
	}
	if got := w.synccheck(); got != `window.synccheck={retcode:"0",selector:"2"}` {
		t.Fatalf("synccheck before the duplicate = %q", got)
	}
	second := w.sync()
	if got := msgIDs(second.AddMsgList); len(got) != 1 || got[0] != ref.MsgID {
		t.Fatalf("second %v", got)
	}
	if third := w.sync(); len(third.AddMsgList) != 0 {
		t.Fatalf("third %v", msgIDs(third.AddMsgList))
	}
}

func TestNewLoginPage301Fault(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	e.must(e.ctl.AddFault(e.ctx, wxsim.Fault{Endpoint: "webwxnewloginpage", Kind: "http_status", Value: 301, Count: 1}))
	w := e.client()
	uuid := w.jslogin()
	e.must(nil, e.ctl.Scan(e.ctx, uuid, "wxid_alice"))
	e.must(nil, e.ctl.Confirm(e.ctx, uuid))
	m := reRedirect.FindStringSubmatch(w.poll(uuid))
	resp, x := w.newLoginPage(m[1])
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "" || x.Ret != 0 || x.Skey == "" {
		t.Fatalf("301: %d %+v", resp.StatusCode, x)
	}
}

func TestFaultEmptySyncKey(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	e.must(e.ctl.AddFault(e.ctx, wxsim.Fault{Endpoint: "webwxsync", Kind: "empty_synckey", Count: 1}))
	first := w.sync() // keeps the old key, as the official client does
	if first.SyncKey.Count != 0 || len(first.SyncKey.List) != 0 || len(first.AddMsgList) != 1 {
		t.Fatalf("first %+v", first.SyncKey)
	}
	if again := w.sync(); len(again.AddMsgList) != 1 || again.AddMsgList[0].MsgId != first.AddMsgList[0].MsgId || again.SyncKey.Count != 7 {
		t.Fatalf("replay after the empty key: %v", msgIDs(again.AddMsgList))
	}
}
