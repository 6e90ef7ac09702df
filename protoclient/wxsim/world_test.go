package wxsim_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
)

func TestIncomingTextEncodingAndRaw(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	names := w.names(w.sync().AddMsgList)
	e.must(e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Content: "1 < 2 & \"q\"\nsmile 😄"}))
	e.must(e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_carol", Chat: "12345@chatroom", Content: "hi all"}))
	e.must(e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Content: "ignored",
		Raw: json.RawMessage(`{"Content":"exact &amp; {{wxid_carol}}","SubMsgType":48,"Extra":"{{self}}"}`)}))
	ref, _ := e.ctl.FromPhone(e.ctx, "wxid_alice", wxsim.WorldMessage{To: "12345@chatroom", Content: "from my phone"})

	var raw struct {
		AddMsgList []map[string]any
		SyncKey    json.RawMessage
	}
	w.post(w.api("webwxsync"), map[string]any{"BaseRequest": w.br(), "SyncKey": w.key}, &raw)
	msgs := raw.AddMsgList
	w.key = raw.SyncKey
	if len(msgs) != 4 {
		t.Fatalf("%d messages", len(msgs))
	}
	if got := msgs[0]["Content"]; got != `1 &lt; 2 &amp; "q"<br/>smile <span class="emoji emoji1f604"></span>` {
		t.Fatalf("encoded %q", got)
	}
	if msgs[0]["FromUserName"] != string(names["wxid_bob"]) || msgs[0]["ToUserName"] != string(w.self) || msgs[0]["MsgType"] != 1.0 || msgs[0]["Status"] != 3.0 {
		t.Fatalf("direct %+v", msgs[0])
	}
	if msgs[1]["FromUserName"] != string(names["12345@chatroom"]) || msgs[1]["Content"] != string(names["wxid_carol"])+":<br/>hi all" {
		t.Fatalf("group %+v", msgs[1])
	}
	if msgs[2]["Content"] != "exact &amp; "+string(names["wxid_carol"]) || msgs[2]["SubMsgType"] != 48.0 || msgs[2]["Extra"] != string(w.self) {
		t.Fatalf("raw %+v", msgs[2])
	}
	if msgs[3]["MsgId"] != ref.MsgID || msgs[3]["FromUserName"] != string(w.self) || msgs[3]["ToUserName"] != string(names["12345@chatroom"]) || msgs[3]["Content"] != "from my phone" {
		t.Fatalf("from phone %+v", msgs[3])
	}
	// Every wire field is present, in the capture's order, NewMsgId as a number.
	var rawAnswer string
	e.must(e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Content: "x"}))
	_, rawAnswer = postText(w, "webwxsync", map[string]any{"BaseRequest": w.br(), "SyncKey": json.RawMessage(w.key)})
	if !regexp.MustCompile(`^\{"BaseResponse":\{"Ret":0,"ErrMsg":""\},"AddMsgCount":1,"AddMsgList":\[\{"MsgId":"\d{19}","FromUserName":"@[0-9a-f]{64}",.*"NewMsgId":\d{19},"OriContent":"","EncryFileName":""\}\],"ModContactCount":0`).MatchString(rawAnswer) {
		t.Fatalf("wire shape %.300s", rawAnswer)
	}
}

func TestRevokeByContact(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	names := w.names(w.sync().AddMsgList)
	direct, _ := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Content: "secret"})
	inGroup, _ := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Chat: "12345@chatroom", Content: "oops"})
	w.sync()
	e.must(nil, e.ctl.Revoke(e.ctx, "wxid_alice", direct.MsgID))
	e.must(nil, e.ctl.Revoke(e.ctx, "wxid_alice", inGroup.MsgID))
	msgs := w.sync().AddMsgList
	if len(msgs) != 2 || msgs[0].MsgType != 10002 || msgs[0].Status != 4 || msgs[0].FromUserName != names["wxid_bob"] {
		t.Fatalf("revokes %+v", msgs)
	}
	rv, ok := decoded(msgs[0]).(*protoclient.Revoke)
	if !ok || wireField(msgs[0].Content, "session") != "wxid_bob" || rv.MsgID != direct.MsgID || rv.Text != `"Bob" 撤回了一条消息` {
		t.Fatalf("direct revoke %+v", rv)
	}
	ev := msgs[1].Decode("@not-the-sender")
	if ev.Info.Sender != names["wxid_bob"] || msgs[1].FromUserName != names["12345@chatroom"] {
		t.Fatalf("group revoke %+v", msgs[1])
	}
	rv, ok = ev.Content.(*protoclient.Revoke)
	if !ok || wireField(msgs[1].Content, "session") != "12345@chatroom" || rv.MsgID != inGroup.MsgID || rv.Text != `"Uncle Bob" 撤回了一条消息` {
		t.Fatalf("group revoke %+v", rv)
	}
	if rest := strings.TrimPrefix(msgs[1].Content, string(names["wxid_bob"])+":<br/>"); !strings.HasPrefix(rest, `&lt;sysmsg type="revokemsg"&gt;`) {
		t.Fatalf("escaping %q", rest)
	}
	if err := e.ctl.Revoke(e.ctx, "wxid_alice", "123"); err == nil {
		t.Fatal("revoke of an unknown message succeeded")
	}
}

func TestFriendRequestAccepted(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	w.sync()
	ref, err := e.ctl.FriendRequest(e.ctx, "wxid_alice", "wxid_eve", "Eve", `Hi, I'm "Eve"`)
	if err != nil {
		t.Fatal(err)
	}
	msgs := w.sync().AddMsgList
	if len(msgs) != 1 || msgs[0].MsgType != 37 || msgs[0].FromUserName != "fmessage" || msgs[0].MsgId != ref.MsgID {
		t.Fatalf("request %+v", msgs)
	}
	ri := msgs[0].RecommendInfo
	if !strings.HasPrefix(string(ri.UserName), "@") || ri.NickName != "Eve" || ri.Content != `Hi, I'm "Eve"` || !regexp.MustCompile(`^v2_[0-9a-f]+@stranger$`).MatchString(ri.Ticket) {
		t.Fatalf("RecommendInfo %+v", ri)
	}
	fr, ok := decoded(msgs[0]).(*protoclient.FriendRequest)
	if !ok || fr.WxID != "wxid_eve" || fr.Ticket != ri.Ticket || fr.Greeting != `Hi, I'm "Eve"` || fr.NickName != "Eve" {
		t.Fatalf("request XML %+v", fr)
	}
	if !strings.Contains(msgs[0].Content, "&amp;quot;Eve&amp;quot;") {
		t.Fatalf("XML entities are not escaped twice: %q", msgs[0].Content)
	}
	var out protoclient.BaseResponse
	var ans struct{ BaseResponse protoclient.BaseResponse }
	w.post(w.api("webwxverifyuser")+"&r=1", map[string]any{"BaseRequest": w.br(), "Opcode": 3, "VerifyUserListSize": 1,
		"VerifyUserList": []map[string]string{{"Value": string(ri.UserName), "VerifyUserTicket": ri.Ticket}},
		"VerifyContent":  "", "SceneListCount": 1, "SceneList": []int{33}, "skey": w.skey}, &ans)
	out = ans.BaseResponse
	if out.Ret != 0 {
		t.Fatalf("verifyuser %+v", out)
	}
	got := w.sync()
	if len(got.ModContactList) != 1 || got.ModContactList[0].UserName != ri.UserName || got.ModContactList[0].ContactFlag&1 == 0 {
		t.Fatalf("mod contact %+v", got.ModContactList)
	}
	if len(got.AddMsgList) != 1 || got.AddMsgList[0].MsgType != 10000 || got.AddMsgList[0].Content != "你已添加了Eve，现在可以开始聊天了。" || got.AddMsgList[0].FromUserName != ri.UserName {
		t.Fatalf("added text %+v", got.AddMsgList)
	}
	reqs, _ := e.ctl.FriendRequests(e.ctx, "wxid_alice")
	if len(reqs) != 1 || reqs[0].From != "wxid_eve" || reqs[0].State != "accepted" {
		t.Fatalf("friend requests %+v", reqs)
	}
	// A reused ticket does nothing.
	w.post(w.api("webwxverifyuser"), map[string]any{"BaseRequest": w.br(), "Opcode": 3,
		"VerifyUserList": []map[string]string{{"Value": string(ri.UserName), "VerifyUserTicket": ri.Ticket}}}, &ans)
	if ans.BaseResponse.Ret == 0 {
		t.Fatal("ticket accepted twice")
	}
}

func TestGroupChangesFromTheWorld(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	e.must(nil, e.ctl.UpdateContact(e.ctx, "wxid_alice", "wxid_bob", wxsim.ContactSpec{Nickname: ptr("Bob")}))
	w, _ := e.login("wxid_alice")
	names := w.names(w.sync().AddMsgList)
	e.must(nil, e.ctl.UpdateGroup(e.ctx, "wxid_alice", "12345@chatroom", wxsim.GroupUpdate{Name: ptr("新名字"), By: "wxid_carol"}))
	e.must(nil, e.ctl.GroupMembers(e.ctx, "wxid_alice", "12345@chatroom", wxsim.MembersChange{Add: []string{"wxid_dave"}, By: "wxid_bob"}))
	e.must(nil, e.ctl.GroupMembers(e.ctx, "wxid_alice", "12345@chatroom", wxsim.MembersChange{Remove: []string{"wxid_alice"}, By: "wxid_bob"}))
	got := w.sync()
	var texts []string
	for _, m := range got.AddMsgList {
		if m.MsgType != 10000 || m.FromUserName != names["12345@chatroom"] {
			t.Fatalf("system message %+v", m)
		}
		texts = append(texts, m.Content)
	}
	want := []string{`"Carol"修改群名为“新名字”`, `"Uncle Bob"邀请"wxid_dave"加入了群聊`, `你被"Uncle Bob"移出群聊`}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Fatalf("texts %q", texts)
	}
	if len(got.ModContactList) != 3 {
		t.Fatalf("%d ModContact", len(got.ModContactList))
	}
	last := got.ModContactList[2]
	if last.NickName != "新名字" || last.MemberCount != 3 || len(last.MemberList) != 3 || last.ChatRoomOwner != string(w.self) {
		t.Fatalf("group %+v", last)
	}
	info, _ := e.ctl.Group(e.ctx, "wxid_alice", "12345@chatroom")
	if strings.Join(info.Members, ",") != "wxid_bob,wxid_carol,wxid_dave" {
		t.Fatalf("members %v", info.Members)
	}
}

func TestGroupChangesFromTheClient(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	e.must(e.ctl.AddContact(e.ctx, "wxid_alice", wxsim.ContactSpec{Wxid: "wxid_dave", Nickname: ptr("Dave")}))
	w, _ := e.login("wxid_alice")
	names := w.names(w.sync().AddMsgList)
	room := names["12345@chatroom"]
	var upd struct {
		BaseResponse protoclient.BaseResponse
		MemberCount  int
		MemberList   []protoclient.Member
	}
	w.post(w.api("webwxupdatechatroom")+"&fun=addmember", map[string]any{"BaseRequest": w.br(), "ChatRoomName": room, "AddMemberList": names["wxid_dave"]}, &upd)
	if upd.BaseResponse.Ret != 0 || upd.MemberCount != 1 || upd.MemberList[0].UserName != names["wxid_dave"] {
		t.Fatalf("addmember %+v", upd)
	}
	w.post(w.api("webwxupdatechatroom")+"&fun=delmember", map[string]any{"BaseRequest": w.br(), "ChatRoomName": room, "DelMemberList": names["wxid_carol"]}, &upd)
	w.post(w.api("webwxupdatechatroom")+"&fun=modtopic", map[string]any{"BaseRequest": w.br(), "ChatRoomName": room, "NewTopic": "Clan"}, &upd)
	var texts []string
	for _, m := range w.sync().AddMsgList {
		texts = append(texts, m.Content)
	}
	if want := `你邀请"Dave"加入了群聊|你将"Carol"移出了群聊|你修改群名为“Clan”`; strings.Join(texts, "|") != want {
		t.Fatalf("texts %q", texts)
	}
	_, body := postText(w, "webwxcreatechatroom", map[string]any{"BaseRequest": w.br(), "MemberCount": 2,
		"MemberList": []map[string]protoclient.UserName{{"UserName": names["wxid_bob"]}, {"UserName": names["wxid_dave"]}}, "Topic": ""})
	var cr struct {
		BaseResponse protoclient.BaseResponse
		ChatRoomName string
		MemberCount  int
	}
	_ = json.Unmarshal([]byte(body), &cr)
	if !strings.HasPrefix(body, `{"BaseResponse":{"Ret":0,"ErrMsg":"Everything is OK"},"Topic":"","PYInitial":"","QuanPin":"","MemberCount":2,`) ||
		!strings.HasPrefix(cr.ChatRoomName, "@@") || !strings.HasSuffix(body, `"BlackList":""}`) {
		t.Fatalf("createchatroom %s", body)
	}
	// The new group answers batchgetcontact with members and an EncryChatRoomId.
	var batch protoclient.BatchGetContactResponse
	w.post(w.api("webwxbatchgetcontact")+"&type=ex&r=1", map[string]any{"BaseRequest": w.br(), "Count": 2,
		"List": []map[string]protoclient.UserName{{"UserName": protoclient.UserName(cr.ChatRoomName), "ChatRoomId": ""}, {"UserName": names["wxid_dave"], "EncryChatRoomId": protoclient.UserName(cr.ChatRoomName)}}}, &batch)
	if batch.Count != 2 || len(batch.ContactList[0].MemberList) != 3 || !regexp.MustCompile(`^@[0-9a-f]{32}$`).MatchString(batch.ContactList[0].EncryChatRoomId) ||
		!strings.HasSuffix(batch.ContactList[0].HeadImgUrl, "&skey=") || batch.ContactList[1].NickName != "Dave" {
		t.Fatalf("batch %+v", batch)
	}
}

func TestContactsPagingAndChurn(t *testing.T) {
	e := newEnv(t, func(s *wxsim.Settings) { s.ContactPageSize = 2 })
	e.setup()
	w, _ := e.login("wxid_alice")
	names := w.names(w.sync().AddMsgList)
	var all []protoclient.Contact
	seq := "0"
	for pages := 0; ; pages++ {
		var page protoclient.GetContactResponse
		_, body := w.get(w.api("webwxgetcontact") + "&r=1&seq=" + seq + "&skey=" + w.skey)
		if err := json.Unmarshal([]byte(body), &page); err != nil || page.BaseResponse.Ret != 0 || pages > 5 {
			t.Fatalf("getcontact %q", body)
		}
		all = append(all, page.MemberList...)
		if page.Seq == 0 {
			break
		}
		seq = itoa(int64(page.Seq))
	}
	if len(all) != 4 { // filehelper, bob, carol, the group
		t.Fatalf("%d contacts", len(all))
	}
	// POST works too.
	var post protoclient.GetContactResponse
	w.post(w.api("webwxgetcontact"), map[string]any{"BaseRequest": w.br()}, &post)
	if post.BaseResponse.Ret != 0 || post.MemberCount != 2 {
		t.Fatalf("POST getcontact %+v", post.BaseResponse)
	}
	e.must(nil, e.ctl.DeleteContact(e.ctx, "wxid_alice", "wxid_carol"))
	got := w.sync()
	if len(got.DelContactList) != 1 || got.DelContactList[0].UserName != names["wxid_carol"] {
		t.Fatalf("del %+v", got.DelContactList)
	}
	u, err := e.ctl.AddContact(e.ctx, "wxid_alice", wxsim.ContactSpec{Wxid: "wxid_frank", Nickname: ptr("Frank"), RemarkName: ptr("F")})
	if err != nil || !strings.HasPrefix(u, "@") {
		t.Fatalf("add contact %q %v", u, err)
	}
	got = w.sync()
	if len(got.ModContactList) != 1 || string(got.ModContactList[0].UserName) != u || got.ModContactList[0].RemarkName != "F" {
		t.Fatalf("mod %+v", got.ModContactList)
	}
	var ans struct{ BaseResponse protoclient.BaseResponse }
	w.post(w.api("webwxoplog"), map[string]any{"BaseRequest": w.br(), "CmdId": 2, "RemarkName": "Franky", "UserName": u}, &ans)
	if got = w.sync(); ans.BaseResponse.Ret != 0 || got.ModContactList[0].RemarkName != "Franky" {
		t.Fatalf("oplog %+v", got.ModContactList)
	}
}

func TestLenientAuthAndHostCheck(t *testing.T) {
	e := newEnv(t, func(s *wxsim.Settings) { s.RequireCookies = false })
	e.setup()
	w, _ := e.login("wxid_alice")
	// A client that lost its cookies still works by BaseRequest (Uin as a string) and a
	// double-encoded pass_ticket.
	bare := e.client()
	bare.web, bare.sid, bare.skey, bare.uin, bare.key, bare.checkKey = w.web, w.sid, w.skey, w.uin, w.key, w.checkKey
	bare.passTicket = strings.NewReplacer("%", "%25").Replace(w.passTicket)
	var out protoclient.SyncResponse
	br := bare.br()
	br["Uin"] = itoa(bare.uin)
	bare.post(bare.api("webwxsync"), map[string]any{"BaseRequest": br, "SyncKey": bare.key, "rr": -23314857}, &out)
	if out.BaseResponse.Ret != 0 || len(out.AddMsgList) != 1 {
		t.Fatalf("sync without cookies %+v", out.BaseResponse)
	}
	if got := bare.synccheck(); !strings.HasPrefix(got, `window.synccheck={retcode:"0"`) {
		t.Fatalf("synccheck by query %q", got)
	}
	// With cookies required it is refused (bare got cookies from that webwxsync, so
	// use a fresh jar).
	e.must(e.ctl.Settings(e.ctx, map[string]any{"require_cookies": true, "check_host": true}))
	fresh := e.client()
	fresh.web, fresh.passTicket = bare.web, bare.passTicket
	fresh.post(bare.api("webwxsync"), map[string]any{"BaseRequest": br, "SyncKey": bare.key}, &out)
	if out.BaseResponse.Ret != 1102 {
		t.Fatalf("sync without cookies when required: %+v", out.BaseResponse)
	}
	// check_host: the right family works, another answers 1100.
	if got := w.sync(); got.BaseResponse.Ret != 0 {
		t.Fatalf("right host %+v", got.BaseResponse)
	}
	// The jar does not send wx2.qq.com cookies to wx.qq.com; authenticate by BaseRequest
	// so that only the host is wrong.
	e.must(e.ctl.Settings(e.ctx, map[string]any{"require_cookies": false}))
	w.web = "wx.qq.com"
	if got := w.sync(); got.BaseResponse.Ret != 1100 {
		t.Fatalf("wrong host %+v", got.BaseResponse)
	}
}

func TestGzipBothWays(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	var zbody bytes.Buffer
	zw := gzip.NewWriter(&zbody)
	b, _ := json.Marshal(map[string]any{"BaseRequest": w.br(), "SyncKey": w.key})
	_, _ = zw.Write(b)
	_ = zw.Close()
	req, _ := http.NewRequestWithContext(e.ctx, http.MethodPost, w.api("webwxsync"), &zbody)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := w.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("headers %v", resp.Header)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	var out protoclient.SyncResponse
	if err := json.Unmarshal(plain, &out); err != nil || out.BaseResponse.Ret != 0 || len(out.AddMsgList) != 1 {
		t.Fatalf("gzip sync %v %+v", err, out.BaseResponse)
	}
}

func TestControlErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	var ce *wxsim.ControlError
	if _, err := e.ctl.CreateAccount(e.ctx, wxsim.AccountSpec{Wxid: "wxid_alice"}); !asControl(err, &ce) || ce.Status != 409 {
		t.Fatalf("duplicate account: %v", err)
	}
	if _, err := e.ctl.Account(e.ctx, "wxid_nobody"); !asControl(err, &ce) || ce.Status != 404 || ce.Message == "" {
		t.Fatalf("unknown account: %v", err)
	}
	resp, err := http.Post(e.ts.URL+"/_wxsim/v1/accounts", "application/json", strings.NewReader(`{"wxid":"x","bogus":1}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.HasPrefix(string(b), `{"error":`) {
		t.Fatalf("unknown field: %d %s", resp.StatusCode, b)
	}
	st, err := e.ctl.Settings(e.ctx, nil)
	if err != nil || !st.EchoOwnSends || st.SyncBatchMax != 100 || st.RevokeWindowS != 120 || !st.RequireCookies || st.CheckHost {
		t.Fatalf("settings %+v %v", st, err)
	}
}

func asControl(err error, target **wxsim.ControlError) bool {
	ce, ok := err.(*wxsim.ControlError)
	if ok {
		*target = ce
	}
	return ok
}

// <oldmsgid> is a legacy 32-bit id (reference §5.4.5); clients may parse it as uint32.
func TestRevokeOldMsgIDIs32Bit(t *testing.T) {
	e := newEnv(t, func(s *wxsim.Settings) { s.SyncBatchMax = 2000 })
	e.setup()
	w, _ := e.login("wxid_alice")
	w.sync()
	ref, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Content: "secret"})
	e.must(err)
	const n = 1000
	for range n {
		e.must(nil, e.ctl.Revoke(e.ctx, "wxid_alice", ref.MsgID))
	}
	seen := 0
	for _, m := range w.sync().AddMsgList {
		if m.MsgType != 10002 {
			continue
		}
		if rv, ok := decoded(m).(*protoclient.Revoke); !ok || rv.MsgID != ref.MsgID {
			t.Fatalf("revoke %+v", rv)
		}
		old := wireField(m.Content, "oldmsgid")
		if id, err := strconv.ParseUint(old, 10, 64); err != nil || id > 4294967295 || len(old) != 10 {
			t.Fatalf("oldmsgid %q", old)
		}
		seen++
	}
	if seen != n {
		t.Fatalf("%d revokes", seen)
	}
}

// The phone's mute and pin switches and official accounts reach the session as the real
// server shows them: ContactFlag bits for people, Statues for groups, VerifyFlag.
func TestPinnedMutedOfficial(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	e.must(e.ctl.AddContact(e.ctx, "wxid_alice", wxsim.ContactSpec{Wxid: "gh_news", Nickname: ptr("Daily News"), VerifyFlag: ptr(24)}))
	w, _ := e.login("wxid_alice")
	names := w.names(w.sync().AddMsgList)
	e.must(nil, e.ctl.UpdateContact(e.ctx, "wxid_alice", "wxid_bob", wxsim.ContactSpec{Muted: ptr(true), Pinned: ptr(true)}))
	e.must(nil, e.ctl.UpdateGroup(e.ctx, "wxid_alice", "12345@chatroom", wxsim.GroupUpdate{Muted: ptr(true)}))
	byName := map[protoclient.UserName]protoclient.Contact{}
	for _, ct := range w.sync().ModContactList {
		byName[ct.UserName] = ct
	}
	bob, fam := byName[names["wxid_bob"]], byName[names["12345@chatroom"]]
	if bob.ContactFlag != 0x800|0x200|0x3 || !bob.Muted() || !bob.Pinned() {
		t.Errorf("Bob muted and pinned has ContactFlag %#x", bob.ContactFlag)
	}
	if fam.Statues != 0 || !fam.Muted() || fam.Pinned() {
		t.Errorf("the muted group has Statues %d, ContactFlag %#x", fam.Statues, fam.ContactFlag)
	}
	e.must(nil, e.ctl.UpdateGroup(e.ctx, "wxid_alice", "12345@chatroom", wxsim.GroupUpdate{Muted: ptr(false)}))
	for _, ct := range w.sync().ModContactList {
		if ct.UserName == names["12345@chatroom"] && ct.Statues != 1 {
			t.Errorf("the unmuted group has Statues %d", ct.Statues)
		}
	}
	var page protoclient.GetContactResponse
	_, body := w.get(w.api("webwxgetcontact") + "&r=1&seq=0&skey=" + w.skey)
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ct := range page.MemberList {
		if ct.NickName == "Daily News" {
			found = ct.IsOfficialAccount() && ct.VerifyFlag == 24
		}
	}
	if !found {
		t.Error("the official account is not in the contact list with VerifyFlag 24")
	}
	cs, _ := e.ctl.Contacts(e.ctx, "wxid_alice")
	for _, c := range cs {
		if c.Wxid == "wxid_bob" && (!c.Pinned || !c.Muted) || c.Wxid == "gh_news" && c.VerifyFlag != 24 {
			t.Errorf("the control API shows %+v", c)
		}
	}
	if g, _ := e.ctl.Group(e.ctx, "wxid_alice", "12345@chatroom"); g.Muted {
		t.Error("the control API shows the unmuted group muted")
	}
}
