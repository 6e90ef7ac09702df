package wxsim_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
)

func TestOneMessagePerClientMsgId(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	names := w.names(w.sync().AddMsgList)
	// The official client sends LocalID/ClientMsgId as strings, ItChat as numbers.
	first := w.send("webwxsendmsg", map[string]any{"Type": 1, "Content": "a <b> & \"c\"\nline", "FromUserName": w.self,
		"ToUserName": names["wxid_bob"], "LocalID": "15462147414160521", "ClientMsgId": "15462147414160521"})
	again := w.send("webwxsendmsg", map[string]any{"Type": 1, "Content": "a <b> & \"c\"\nline", "FromUserName": w.self,
		"ToUserName": names["wxid_bob"], "LocalID": 15462147414160521, "ClientMsgId": 15462147414160521})
	if first.BaseResponse.Ret != 0 || len(first.MsgID) != 19 || first.LocalID != "15462147414160521" {
		t.Fatalf("send %+v", first)
	}
	if again.MsgID != first.MsgID || again.LocalID != "15462147414160521" {
		t.Fatalf("repeat %+v vs %+v", again, first)
	}
	sent := e.sent("wxid_alice")
	if len(sent) != 1 || sent[0].Attempts != 2 || sent[0].To != "wxid_bob" || sent[0].Type != 1 ||
		sent[0].Content != "a <b> & \"c\"\nline" || sent[0].ClientMsgID != "15462147414160521" || sent[0].MsgID != first.MsgID {
		t.Fatalf("sent %+v", sent)
	}
	// Echoed once, from self, with the MsgID of the send and the content as delivered.
	got := w.sync()
	if len(got.AddMsgList) != 1 {
		t.Fatalf("echo %d messages", len(got.AddMsgList))
	}
	echo := got.AddMsgList[0]
	if echo.MsgId != first.MsgID || echo.FromUserName != w.self || echo.ToUserName != names["wxid_bob"] ||
		echo.Content != "a &lt;b&gt; &amp; \"c\"<br/>line" || int64(echo.NewMsgId) == 0 {
		t.Fatalf("echo %+v", echo)
	}
}

func TestEchoSwitchAndGroups(t *testing.T) {
	e := newEnv(t, func(s *wxsim.Settings) { s.EchoOwnSends = false })
	e.setup()
	w, _ := e.login("wxid_alice")
	names := w.names(w.sync().AddMsgList)
	r := w.send("webwxsendmsg", map[string]any{"Type": 1, "Content": "to family", "FromUserName": w.self, "ToUserName": names["12345@chatroom"], "LocalID": "1", "ClientMsgId": "1"})
	if r.BaseResponse.Ret != 0 {
		t.Fatalf("group send %+v", r)
	}
	if got := w.sync(); len(got.AddMsgList) != 0 {
		t.Fatalf("echo with echo_own_sends=false: %+v", got.AddMsgList)
	}
	e.must(e.ctl.Settings(e.ctx, map[string]any{"echo_own_sends": true}))
	r2 := w.send("webwxsendmsg", map[string]any{"Type": 1, "Content": "again", "FromUserName": w.self, "ToUserName": names["12345@chatroom"], "LocalID": "2", "ClientMsgId": "2"})
	got := w.sync()
	if len(got.AddMsgList) != 1 || got.AddMsgList[0].MsgId != r2.MsgID || got.AddMsgList[0].ToUserName != names["12345@chatroom"] || got.AddMsgList[0].Content != "again" {
		t.Fatalf("group echo %+v", got.AddMsgList)
	}
	if s := e.sent("wxid_alice"); len(s) != 2 || s[1].To != "12345@chatroom" {
		t.Fatalf("sent %+v", s)
	}
	// Removed from the group: 1201.
	e.must(nil, e.ctl.GroupMembers(e.ctx, "wxid_alice", "12345@chatroom", wxsim.MembersChange{Remove: []string{"wxid_alice"}}))
	r3 := w.send("webwxsendmsg", map[string]any{"Type": 1, "Content": "x", "FromUserName": w.self, "ToUserName": names["12345@chatroom"], "LocalID": "3", "ClientMsgId": "3"})
	if r3.BaseResponse.Ret != 1201 {
		t.Fatalf("send to a group we left: %+v", r3)
	}
	// Unknown UserName.
	if r4 := w.send("webwxsendmsg", map[string]any{"Type": 1, "Content": "x", "ToUserName": "@nobody", "LocalID": "4", "ClientMsgId": "4"}); r4.BaseResponse.Ret == 0 {
		t.Fatal("send to an unknown UserName succeeded")
	}
	// filehelper needs no mapping.
	if r5 := w.send("webwxsendmsg", map[string]any{"Type": 1, "Content": "note", "ToUserName": "filehelper", "LocalID": "5", "ClientMsgId": "5"}); r5.BaseResponse.Ret != 0 {
		t.Fatalf("send to filehelper %+v", r5)
	}
}

func TestRevokeWindow(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	names := w.names(w.sync().AddMsgList)
	r := w.send("webwxsendmsg", map[string]any{"Type": 1, "Content": "oops", "ToUserName": names["wxid_bob"], "LocalID": "11", "ClientMsgId": "11"})
	_, body := postText(w, "webwxrevokemsg", map[string]any{"BaseRequest": w.br(), "SvrMsgId": r.MsgID, "ToUserName": names["wxid_bob"], "ClientMsgId": "11"})
	if want := `{"BaseResponse":{"Ret":0,"ErrMsg":""},"Introduction":"你可以撤回2分钟内发送的消息（部分旧版本微信不支持这个功能）。","SysWording":"已撤回"}`; body != want {
		t.Fatalf("revoke = %s", body)
	}
	// The own-device notice arrives after the echo.
	got := w.sync()
	if n := len(got.AddMsgList); n != 2 || got.AddMsgList[1].MsgType != 10002 {
		t.Fatalf("after revoke %+v", got.AddMsgList)
	}
	rv, ok := decoded(got.AddMsgList[1]).(*protoclient.Revoke)
	if !ok || rv.MsgID != r.MsgID || wireField(got.AddMsgList[1].Content, "session") != "wxid_bob" || rv.Text != "你撤回了一条消息" {
		t.Fatalf("revoke notice %+v", rv)
	}

	e.must(e.ctl.Settings(e.ctx, map[string]any{"revoke_window_s": 0}))
	r2 := w.send("webwxsendmsg", map[string]any{"Type": 1, "Content": "late", "ToUserName": names["wxid_bob"], "LocalID": "12", "ClientMsgId": "12"})
	_, body = postText(w, "webwxrevokemsg", map[string]any{"BaseRequest": w.br(), "SvrMsgId": r2.MsgID, "ToUserName": names["wxid_bob"], "ClientMsgId": 12})
	if want := `{"BaseResponse":{"Ret":-1,"ErrMsg":""},"Introduction":"","SysWording":""}`; body != want {
		t.Fatalf("late revoke = %s", body)
	}
	revoked, _ := e.ctl.Revoked(e.ctx, "wxid_alice")
	if len(revoked) != 2 || revoked[0].Ret != 0 || revoked[1].Ret != -1 || revoked[1].ClientMsgID != "12" || revoked[1].MsgID != r2.MsgID {
		t.Fatalf("revoked %+v", revoked)
	}
}

// postText returns the exact answer text of a JSON API.
func postText(w *wx, endpoint string, body any) (int, string) {
	w.e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(w.e.ctx, http.MethodPost, w.api(endpoint), bytes.NewReader(b))
	resp, text := w.do(req)
	return resp.StatusCode, text
}

func TestStatusNotifyMarksRead(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	names := w.names(w.sync().AddMsgList)
	var out protoclient.StatusNotifyResponse
	w.post(w.api("webwxstatusnotify"), map[string]any{"BaseRequest": w.br(), "Code": 3, "FromUserName": w.self, "ToUserName": w.self, "ClientMsgId": 1546211539889}, &out)
	w.post(w.api("webwxstatusnotify"), map[string]any{"BaseRequest": w.br(), "Code": 1, "FromUserName": w.self, "ToUserName": names["12345@chatroom"], "ClientMsgId": "1546211539890"}, &out)
	if out.BaseResponse.Ret != 0 || len(out.MsgID) != 19 {
		t.Fatalf("statusnotify %+v", out)
	}
	marks, _ := e.ctl.MarkedRead(e.ctx, "wxid_alice")
	if len(marks) != 1 || marks[0].Chat != "12345@chatroom" || marks[0].At == 0 {
		t.Fatalf("marked read %+v", marks)
	}
	if !strings.HasPrefix(string(names["wxid_bob"]), "@") {
		t.Fatal("no name for bob")
	}
}
