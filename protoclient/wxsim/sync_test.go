package wxsim_test

import (
	"encoding/json"
	"strings"
	"testing"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
)

func msgIDs(msgs []protoclient.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.MsgId)
	}
	return out
}

func TestInitAndSyncConvList(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, ini := e.login("wxid_alice")
	if ini.BaseResponse.Ret != 0 || ini.User.Uin != 1001 || ini.User.NickName != "Alice" || ini.SKey != w.skey {
		t.Fatalf("init %+v", ini.User)
	}
	if ini.SyncKey.Count != 4 || len(ini.SyncKey.List) != 4 || ini.SyncKey.List[3].Key != 1000 {
		t.Fatalf("init SyncKey %+v", ini.SyncKey)
	}
	if !strings.HasSuffix(ini.ChatSet, ",") || !strings.HasPrefix(ini.ChatSet, "filehelper,") || ini.Count != len(ini.ContactList) {
		t.Fatalf("ChatSet %q", ini.ChatSet)
	}
	var group *protoclient.Contact
	for i, c := range ini.ContactList {
		if c.IsGroup() {
			group = &ini.ContactList[i]
		}
	}
	if group == nil || group.MemberCount != 3 || len(group.MemberList) >= 3 {
		t.Fatalf("init group %+v", group)
	}

	got := w.sync()
	if len(got.AddMsgList) != 1 {
		t.Fatalf("first sync %d messages", len(got.AddMsgList))
	}
	op := got.AddMsgList[0]
	if op.MsgType != 51 || op.StatusNotifyCode != 4 || op.FromUserName != w.self || op.ToUserName != w.self {
		t.Fatalf("op-4 %+v", op)
	}
	wantStart := "&lt;msg&gt;<br/>&lt;op id='4'&gt;<br/>&lt;username&gt;wxid_bob,wxid_carol,filehelper,12345@chatroom&lt;/username&gt;<br/>"
	if !strings.HasPrefix(op.Content, wantStart) {
		t.Fatalf("op-4 content %q", op.Content)
	}
	names := w.names(got.AddMsgList)
	if names["filehelper"] != "filehelper" || names["12345@chatroom"] != group.UserName {
		t.Fatalf("names %v", names)
	}
	if got.SyncKey.Count != 7 || len(got.SyncKey.List) != 7 || got.SyncCheckKey == nil || got.SyncCheckKey.String() != got.SyncKey.String() {
		t.Fatalf("sync keys %+v %+v", got.SyncKey, got.SyncCheckKey)
	}
	var keys []int64
	for _, k := range got.SyncKey.List {
		keys = append(keys, k.Key)
	}
	if want := []int64{1, 2, 3, 11, 201, 1000, 1001}; !equalInts(keys, want) {
		t.Fatalf("keys %v", keys)
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSyncIsAReplayableCursorWithContinueFlag(t *testing.T) {
	e := newEnv(t, func(s *wxsim.Settings) { s.SyncBatchMax = 2 })
	e.setup()
	w, _ := e.login("wxid_alice")
	w.sync() // op-4
	var sent []string
	for _, text := range []string{"one", "two", "three", "four", "five"} {
		ref, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Content: text})
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, ref.MsgID)
	}
	before := w.key
	b1 := w.sync()
	if got := msgIDs(b1.AddMsgList); len(got) != 2 || got[0] != sent[0] || b1.ContinueFlag != 1 || b1.AddMsgCount != 2 {
		t.Fatalf("batch 1: %v flag %d", got, b1.ContinueFlag)
	}
	b2 := w.sync()
	if got := msgIDs(b2.AddMsgList); len(got) != 2 || got[0] != sent[2] || b2.ContinueFlag != 1 {
		t.Fatalf("batch 2: %v", got)
	}
	// An old key replays what came after it.
	w.key = before
	again := w.sync()
	if got := msgIDs(again.AddMsgList); len(got) != 2 || got[0] != sent[0] || got[1] != sent[1] {
		t.Fatalf("replay: %v", got)
	}
	w.sync()
	b3 := w.sync()
	if got := msgIDs(b3.AddMsgList); len(got) != 1 || got[0] != sent[4] || b3.ContinueFlag != 0 {
		t.Fatalf("batch 3: %v flag %d", got, b3.ContinueFlag)
	}
	if b3.AddMsgList[0].Content != "five" || b3.AddMsgList[0].FromUserName == "" || b3.AddMsgList[0].ToUserName != w.self {
		t.Fatalf("message %+v", b3.AddMsgList[0])
	}
	if empty := w.sync(); len(empty.AddMsgList) != 0 || empty.SyncKey.Count != 7 {
		t.Fatalf("empty sync %+v", empty)
	}
}

func TestSyncCheckSelectorsAndWake(t *testing.T) {
	e := newEnv(t, func(s *wxsim.Settings) { s.SynccheckHoldMS = 100 })
	e.setup()
	w, _ := e.login("wxid_alice")
	if got := w.synccheck(); got != `window.synccheck={retcode:"0",selector:"2"}` {
		t.Fatalf("after init = %q", got)
	}
	w.sync()
	if got := w.synccheck(); got != `window.synccheck={retcode:"0",selector:"0"}` {
		t.Fatalf("idle = %q", got)
	}
	// A missing synckey answers at once even with a long hold.
	e.must(e.ctl.Settings(e.ctx, map[string]any{"synccheck_hold_ms": 10000}))
	if _, got := w.get(strings.Replace(w.synccheckURL(w.checkKey), "synckey=", "syncKey=", 1)); got != `window.synccheck={retcode:"0",selector:"0"}` {
		t.Fatalf("no synckey = %q", got)
	}
	// A waiting synccheck wakes on a new message.
	done := make(chan string)
	go func() { done <- w.synccheck() }()
	waitStat(e, "synccheck", 4)
	e.must(e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Content: "hi"}))
	if got := <-done; got != `window.synccheck={retcode:"0",selector:"2"}` {
		t.Fatalf("woken = %q", got)
	}
	w.sync()
	// Only a contact changed: selector 4.
	e.must(nil, e.ctl.UpdateContact(e.ctx, "wxid_alice", "wxid_bob", wxsim.ContactSpec{Nickname: ptr("Robert")}))
	if got := w.synccheck(); got != `window.synccheck={retcode:"0",selector:"4"}` {
		t.Fatalf("contact change = %q", got)
	}
	got := w.sync()
	if len(got.ModContactList) != 1 || got.ModContactList[0].NickName != "Robert" || got.ModContactCount != 1 {
		t.Fatalf("mod contact %+v", got.ModContactList)
	}
}

func TestSyncCheckKeyModes(t *testing.T) {
	e := newEnv(t, func(s *wxsim.Settings) { s.SyncBatchMax = 1; s.SyncCheckKey = "ahead" })
	e.setup()
	w, _ := e.login("wxid_alice")
	w.sync()
	e.must(e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Content: "a"}))
	e.must(e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Content: "b"}))
	got := w.sync()
	if got.ContinueFlag != 1 || got.SyncCheckKey == nil || got.SyncCheckKey.String() == got.SyncKey.String() {
		t.Fatalf("ahead: %+v / %+v", got.SyncKey, got.SyncCheckKey)
	}
	e.must(e.ctl.Settings(e.ctx, map[string]any{"sync_check_key": "omit"}))
	var raw map[string]json.RawMessage
	w.post(w.api("webwxsync"), map[string]any{"BaseRequest": w.br(), "SyncKey": w.key}, &raw)
	if _, has := raw["SyncCheckKey"]; has {
		t.Fatal("SyncCheckKey not omitted")
	}
	if _, err := e.ctl.Settings(e.ctx, map[string]any{"sync_check_key": "sideways"}); err == nil {
		t.Fatal("bad setting accepted")
	}
	if _, err := e.ctl.Settings(e.ctx, map[string]any{"no_such_setting": 1}); err == nil {
		t.Fatal("unknown setting accepted")
	}
}

func TestSyncRawWithPlaceholders(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	names := w.names(w.sync().AddMsgList)
	frag := wxsim.SyncFragment{
		AddMsgList:     []json.RawMessage{json.RawMessage(`{"MsgId":"42","FromUserName":"{{wxid_bob}}","ToUserName":"{{self}}","MsgType":1,"Content":"raw","NewMsgId":"42","Odd":true}`)},
		DelContactList: []json.RawMessage{json.RawMessage(`{"UserName":"{{12345@chatroom}}","ContactFlag":0}`)},
	}
	e.must(nil, e.ctl.SyncRaw(e.ctx, "wxid_alice", frag))
	var raw struct {
		AddMsgList     []map[string]any
		DelContactList []map[string]any
		AddMsgCount    int
	}
	w.post(w.api("webwxsync"), map[string]any{"BaseRequest": w.br(), "SyncKey": w.key}, &raw)
	if raw.AddMsgCount != 1 || raw.AddMsgList[0]["FromUserName"] != string(names["wxid_bob"]) || raw.AddMsgList[0]["ToUserName"] != string(w.self) ||
		raw.AddMsgList[0]["NewMsgId"] != "42" || raw.AddMsgList[0]["Odd"] != true {
		t.Fatalf("raw message %+v", raw.AddMsgList)
	}
	if raw.DelContactList[0]["UserName"] != string(names["12345@chatroom"]) {
		t.Fatalf("raw del %+v", raw.DelContactList)
	}
}

func TestOfflineDelivery(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	ref, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Content: "while you were out"})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := e.login("wxid_alice")
	found := false
	for _, m := range w.sync().AddMsgList {
		found = found || m.MsgId == ref.MsgID
	}
	if !found {
		t.Fatal("message sent before login not delivered")
	}
	// Delivered once: a later session does not get it again.
	w2, _ := e.login("wxid_alice")
	for _, m := range w2.sync().AddMsgList {
		if m.MsgId == ref.MsgID {
			t.Fatal("delivered to the next session too")
		}
	}
}

func TestProfileChange(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	w.sync()
	e.must(nil, e.ctl.UpdateProfile(e.ctx, "wxid_alice", wxsim.ProfileUpdate{Nickname: ptr("Alicia")}))
	if got := w.synccheck(); got != `window.synccheck={retcode:"0",selector:"4"}` {
		t.Fatalf("synccheck %q", got)
	}
	got := w.sync()
	if got.Profile.BitFlag != 190 || got.Profile.NickName.Buff != "Alicia" || got.Profile.UserName.Buff != string(w.self) {
		t.Fatalf("profile %+v", got.Profile)
	}
	if again := w.sync(); again.Profile.BitFlag != 0 {
		t.Fatalf("profile repeated %+v", again.Profile)
	}
}
