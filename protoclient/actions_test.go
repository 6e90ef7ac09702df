package protoclient_test

import (
	"errors"
	"fmt"
	"testing"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
)

// 120 contacts over pages of 25; details of all of them in batches of 50.
func TestContactsPagedAndBatched(t *testing.T) {
	e := newEnv(t, func(s *wxsim.Settings) { s.ContactPageSize = 25 })
	for i := range 120 {
		e.must(e.ctl.AddContact(e.ctx, "wxid_alice", wxsim.ContactSpec{Wxid: fmt.Sprintf("wxid_c%03d", i), Nickname: ptr(fmt.Sprintf("C%03d", i))}))
	}
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	if err := e.ctl.ResetStats(e.ctx); err != nil {
		t.Fatal(err)
	}
	contacts, err := c.GetContacts(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	nicks := map[string]bool{}
	var names []protoclient.UserName
	for _, ct := range contacts {
		nicks[ct.NickName] = true
		if ct.UserName != "" && !ct.IsGroup() {
			names = append(names, ct.UserName)
		}
	}
	for i := range 120 {
		if !nicks[fmt.Sprintf("C%03d", i)] {
			t.Fatalf("contact C%03d missing after paging (%d contacts)", i, len(contacts))
		}
	}
	st, _ := e.ctl.Stats(e.ctx)
	if n := st.Requests["webwxgetcontact"]; n < 5 {
		t.Fatalf("webwxgetcontact requests = %d, want ≥ 5 pages of 25", n)
	}
	details, err := c.BatchGetUsers(e.ctx, names...)
	if err != nil {
		t.Fatal(err)
	}
	if len(details) != len(names) {
		t.Fatalf("batch details: %d of %d", len(details), len(names))
	}
	st, _ = e.ctl.Stats(e.ctx)
	want := int64((len(names) + 49) / 50)
	if n := st.Requests["webwxbatchgetcontact"]; n != want {
		t.Fatalf("webwxbatchgetcontact requests = %d, want %d batches of 50", n, want)
	}
}

func TestGroupDetailsAndChatRoomOps(t *testing.T) {
	e := newEnv(t, nil)
	e.must(e.ctl.AddContact(e.ctx, "wxid_alice", wxsim.ContactSpec{Wxid: "wxid_carol", Nickname: ptr("Carol")}))
	e.must(e.ctl.AddContact(e.ctx, "wxid_alice", wxsim.ContactSpec{Wxid: "wxid_dave", Nickname: ptr("Dave")}))
	c := e.client()
	init := e.qrLogin(c, "wxid_alice")
	var group protoclient.UserName
	for _, n := range init.ChatSetNames() {
		if protoclient.IsGroup(n) {
			group = n
		}
	}
	if group == "" {
		for _, ct := range init.ContactList {
			if ct.IsGroup() {
				group = ct.UserName
			}
		}
	}
	if group == "" {
		t.Fatal("the group is neither in ChatSet nor in ContactList of webwxinit")
	}
	details, err := c.BatchGetContact(e.ctx, []protoclient.BatchContactItem{{UserName: group}})
	if err != nil || len(details) != 1 {
		t.Fatalf("group details: %v %v", details, err)
	}
	g := details[0]
	if g.NickName != "Family" || len(g.EncryChatRoomId) != 33 || len(g.MemberList) != 3 {
		t.Fatalf("group = name %q encry %q members %d", g.NickName, g.EncryChatRoomId, len(g.MemberList))
	}
	var uncle bool
	for _, m := range g.MemberList {
		uncle = uncle || m.DisplayName == "Uncle Bob"
	}
	if !uncle {
		t.Fatal("group display name of Bob lost")
	}

	dave := userNameOf(t, e, c, "Dave")
	carol := userNameOf(t, e, c, "Carol")
	if _, err := c.UpdateChatRoom(e.ctx, group, protoclient.ChatRoomAddMember, []protoclient.UserName{dave}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateChatRoom(e.ctx, group, protoclient.ChatRoomModTopic, nil, "Family 2"); err != nil {
		t.Fatal(err)
	}
	info, err := e.ctl.Group(e.ctx, "wxid_alice", "12345@chatroom")
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "Family 2" || !containsStr(info.Members, "wxid_dave") {
		t.Fatalf("group after update = %+v", info)
	}
	res, err := c.CreateChatRoom(e.ctx, "", []protoclient.UserName{dave, carol})
	if err != nil {
		t.Fatal(err)
	}
	if !protoclient.IsGroup(res.ChatRoomName) || res.MemberCount < 2 {
		t.Fatalf("created room = %+v", res)
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestRevokeWindowMarkReadAndFriendRequest(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	bob := userNameOf(t, e, c, "Bob")

	id := protoclient.NewClientMsgID()
	res, err := c.SendText(e.ctx, bob, "oops", id)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Revoke(e.ctx, bob, res.MsgID, id); err != nil {
		t.Fatalf("revoke inside the window: %v", err)
	}
	if _, err := e.ctl.Settings(e.ctx, map[string]any{"revoke_window_s": 0}); err != nil {
		t.Fatal(err)
	}
	id2 := protoclient.NewClientMsgID()
	res2, err := c.SendText(e.ctx, bob, "too late", id2)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Revoke(e.ctx, bob, res2.MsgID, id2)
	var ae *protoclient.APIError
	if !errors.As(err, &ae) || ae.Ret != -1 {
		t.Fatalf("revoke outside the window = %v, want APIError Ret -1", err)
	}
	rv, _ := e.ctl.Revoked(e.ctx, "wxid_alice")
	if len(rv) != 2 || rv[0].Ret != 0 || rv[0].MsgID != res.MsgID || rv[1].Ret != -1 {
		t.Fatalf("wxsim /revoked = %+v", rv)
	}

	if err := c.MarkRead(e.ctx, bob); err != nil {
		t.Fatal(err)
	}
	mr, _ := e.ctl.MarkedRead(e.ctx, "wxid_alice")
	if len(mr) != 1 || mr[0].Chat != "wxid_bob" {
		t.Fatalf("wxsim /marked-read = %+v", mr)
	}

	if _, err := e.ctl.FriendRequest(e.ctx, "wxid_alice", "wxid_eve", "Eve", "Hi, I'm Eve"); err != nil {
		t.Fatal(err)
	}
	var req *protoclient.Message
	e.syncUntil(c, func(b *protoclient.SyncBatch) bool {
		for i := range b.Messages {
			if b.Messages[i].MsgType == protoclient.MsgVerify {
				req = &b.Messages[i]
			}
		}
		return req != nil
	})
	if req.RecommendInfo.Content != "Hi, I'm Eve" || req.RecommendInfo.Ticket == "" {
		t.Fatalf("friend request = %+v", req.RecommendInfo)
	}
	if err := c.AcceptFriendRequest(e.ctx, req.RecommendInfo.UserName, req.RecommendInfo.Ticket); err != nil {
		t.Fatal(err)
	}
	frs, _ := e.ctl.FriendRequests(e.ctx, "wxid_alice")
	if len(frs) != 1 || frs[0].From != "wxid_eve" || frs[0].State != "accepted" {
		t.Fatalf("wxsim /friend-requests = %+v", frs)
	}
}

func TestLogoutKeepsDeviceCookiesForPushLogin(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	if err := c.Logout(e.ctx); err != nil {
		t.Fatal(err)
	}
	acct, _ := e.ctl.Account(e.ctx, "wxid_alice")
	if acct.LoggedIn {
		t.Fatal("wxsim still sees the session after webwxlogout")
	}
	if _, err := c.Sync(e.ctx); !errors.Is(err, protoclient.ErrNotLoggedIn) {
		t.Fatalf("sync after logout = %v", err)
	}
	if _, err := c.PushLogin(e.ctx); err != nil {
		t.Fatalf("push login after a logout: %v", err)
	}
}

// A remark name set by the client is the contact's remark on the phone (wxsim's contact
// list) and comes back in the contact's ModContactList entry; an unknown contact is
// refused with WeChat's Ret, not ignored.
func TestSetRemarkName(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	var bob protoclient.UserName
	before, err := e.ctl.Contacts(e.ctx, "wxid_alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range before {
		if ct.Wxid == "wxid_bob" {
			bob = protoclient.UserName(ct.UserName)
		}
	}
	if bob == "" {
		t.Fatal("wxsim's world has no wxid_bob in the session")
	}
	if err := c.SetRemarkName(e.ctx, bob, "Bobby from school 😄"); err != nil {
		t.Fatal(err)
	}
	contacts, err := e.ctl.Contacts(e.ctx, "wxid_alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range contacts {
		if ct.Wxid == "wxid_bob" && ct.RemarkName != "Bobby from school 😄" {
			t.Errorf("Bob's remark on the phone is %q", ct.RemarkName)
		}
	}
	var got string
	e.syncUntil(c, func(b *protoclient.SyncBatch) bool {
		for _, ct := range b.ModContacts {
			if ct.UserName == bob {
				got = ct.RemarkName
			}
		}
		return got != ""
	})
	if got != "Bobby from school 😄" {
		t.Errorf("ModContactList remark %q", got)
	}
	var ae *protoclient.APIError
	if err := c.SetRemarkName(e.ctx, "@nobody", "x"); !errors.As(err, &ae) {
		t.Errorf("remark for an unknown contact: %v, want an APIError", err)
	}
}

// Pinning keeps the remark it is given (WeChat overwrites it with what CmdId 3 carries)
// and shows on the phone and in the next ModContactList; groups are pinned alike.
func TestSetPinned(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	if err := e.ctl.UpdateContact(e.ctx, "wxid_alice", "wxid_bob", wxsim.ContactSpec{RemarkName: ptr("Bobby"), Muted: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	names := map[string]protoclient.UserName{}
	contacts, err := e.ctl.Contacts(e.ctx, "wxid_alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range contacts {
		names[ct.Wxid] = protoclient.UserName(ct.UserName)
	}
	groups, err := e.ctl.Groups(e.ctx, "wxid_alice")
	if err != nil || len(groups) == 0 {
		t.Fatalf("groups %v %v", groups, err)
	}
	family := groups[0]
	if err := c.SetPinned(e.ctx, names["wxid_bob"], true, "Bobby"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPinned(e.ctx, protoclient.UserName(family.UserName), true, ""); err != nil {
		t.Fatal(err)
	}
	var bob, fam *protoclient.Contact
	e.syncUntil(c, func(b *protoclient.SyncBatch) bool {
		for i := range b.ModContacts {
			switch ct := &b.ModContacts[i]; ct.UserName {
			case names["wxid_bob"]:
				if ct.Pinned() {
					bob = ct
				}
			case protoclient.UserName(family.UserName):
				if ct.Pinned() {
					fam = ct
				}
			}
		}
		return bob != nil && fam != nil
	})
	if bob.RemarkName != "Bobby" || !bob.Muted() {
		t.Errorf("pinned Bob: remark %q muted %v, want the remark kept and still muted", bob.RemarkName, bob.Muted())
	}
	if fam.Muted() {
		t.Error("the pinned group reads as muted")
	}
	contacts, _ = e.ctl.Contacts(e.ctx, "wxid_alice")
	for _, ct := range contacts {
		if ct.Wxid == "wxid_bob" && (!ct.Pinned || ct.RemarkName != "Bobby") {
			t.Errorf("on the phone Bob is %+v", ct)
		}
	}
	if g, _ := e.ctl.Group(e.ctx, "wxid_alice", family.ID); !g.Pinned {
		t.Error("on the phone the group is not pinned")
	}
	if err := c.SetPinned(e.ctx, names["wxid_bob"], false, "Bobby"); err != nil {
		t.Fatal(err)
	}
	contacts, _ = e.ctl.Contacts(e.ctx, "wxid_alice")
	for _, ct := range contacts {
		if ct.Wxid == "wxid_bob" && ct.Pinned {
			t.Error("Bob is still pinned after unpinning")
		}
	}
}
