package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/database"
	"maunium.net/go/mautrix/bridgev2/networkid"
	"maunium.net/go/mautrix/event"

	"wxbridge/portal"
	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
	"wxbridge/protoclient/wxsim/wxsimtest"
)

func testDirectory() *directory {
	d := newDirectory("1001")
	d.setSelf("@self", "")
	d.addContacts([]protoclient.Contact{
		{UserName: "@self", NickName: "Me", ContactFlag: 3},
		{UserName: "@bob", NickName: "Bob", Alias: "bobby88", ContactFlag: 3},
		{UserName: "@carol", NickName: "Carol", RemarkName: "Aunt C", ContactFlag: 3},
		{UserName: "@lin1", NickName: "Lin", City: "Beijing", ContactFlag: 3},
		{UserName: "@lin2", NickName: "lin", City: "Shanghai", ContactFlag: 3},
		{UserName: "@emoji", NickName: "Zoe😄", ContactFlag: 1},
		{UserName: "@stranger", NickName: "Stranger", ContactFlag: 0},
		{UserName: "@brand", NickName: "Daily News", VerifyFlag: 24, ContactFlag: 3},
		{UserName: "@@family", NickName: "Family", ContactFlag: 3},
		{UserName: "filehelper", NickName: "文件传输助手", ContactFlag: 1},
		{UserName: "weixin", NickName: "微信团队", ContactFlag: 1},
	})
	d.learn(map[protoclient.UserName]protoclient.WxID{"@bob": "wxid_bob", "@carol": "wxid_carol", "@@family": "1@chatroom"})
	return d
}

func TestFriendsList(t *testing.T) {
	d := testDirectory()
	var got []string
	for _, f := range d.friends() {
		got = append(got, string(f.userName))
	}
	// Sorted by what the user sees: remark first, else nickname; equal names by id.
	want := "@carol @bob " + linOrder(d) + " @emoji"
	if strings.Join(got, " ") != want {
		t.Fatalf("friends = %v, want %s (no self, stranger, official account, group or special account)", got, want)
	}
}

// linOrder: the two Lins sort by their (derived) ids.
func linOrder(d *directory) string {
	a, _ := d.stableID("@lin1")
	b, _ := d.stableID("@lin2")
	if a < b {
		return "@lin1 @lin2"
	}
	return "@lin2 @lin1"
}

func TestResolveFriend(t *testing.T) {
	d := testDirectory()
	derivedLin1, _ := d.stableID("@lin1")
	for _, tt := range []struct {
		in, want string
	}{
		{"wxid_bob", "@bob"},
		{"WXID_BOB", "@bob"},
		{"wechat:wxid_bob", "@bob"},
		{"bobby88", "@bob"},  // WeChat ID
		{"BOBBY88", "@bob"},  // case-insensitive
		{"aunt c", "@carol"}, // remark name
		{"Carol", "@carol"},  // nickname
		{"  bob ", "@bob"},
		{"Zoe😄", "@emoji"}, // an emoji in the name (decoded by protoclient)
		{string(derivedLin1), "@lin1"},
		{"filehelper", "filehelper"},
		{"Bo", ""},               // exact only
		{"Stranger", ""},         // not a friend
		{"Daily News", "@brand"}, // a followed official account: start-chat opens its room
		{"Family", ""},           // group
		{"1@chatroom", ""},
		{"weixin", ""},
		{"", ""},
	} {
		f, err := d.resolveFriend(tt.in)
		if err != nil {
			t.Errorf("resolveFriend(%q): %v", tt.in, err)
			continue
		}
		got := ""
		if f != nil {
			got = string(f.userName)
		}
		if got != tt.want {
			t.Errorf("resolveFriend(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Two contacts called Lin: never a guess; the error lists both ids.
	_, err := d.resolveFriend("LIN")
	var amb *errAmbiguous
	if !errors.As(err, &amb) || len(amb.matches) != 2 {
		t.Fatalf("ambiguous name: %v", err)
	}
	id2, _ := d.stableID("@lin2")
	if msg := err.Error(); !strings.Contains(msg, string(derivedLin1)) || !strings.Contains(msg, string(id2)) || !strings.Contains(msg, "WeChat ID") {
		t.Fatalf("ambiguity error does not help choose: %s", msg)
	}
	// An id beats a name: someone whose nickname is another's wxid does not shadow them.
	d.addContacts([]protoclient.Contact{{UserName: "@tricky", NickName: "wxid_bob", ContactFlag: 3}})
	if f, err := d.resolveFriend("wxid_bob"); err != nil || f == nil || f.userName != "@bob" {
		t.Fatalf("id vs nickname: %+v %v", f, err)
	}
}

func TestSearchFriends(t *testing.T) {
	d := testDirectory()
	names := func(fs []friend) string {
		var s []string
		for _, f := range fs {
			s = append(s, string(f.userName))
		}
		return strings.Join(s, " ")
	}
	for _, tt := range []struct{ q, want string }{
		{"li", linOrder(d)},
		{"AUNT", "@carol"},
		{"by8", "@bob"}, // alias
		{"o", "@carol @bob @emoji"},
		{"news", ""}, // official accounts are not searched
		{"stranger", ""},
		{"  ", ""},
	} {
		if got := names(d.searchFriends(tt.q)); got != tt.want {
			t.Errorf("searchFriends(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
}

func TestAddMemberFunc(t *testing.T) {
	for _, tt := range []struct {
		members, adding int
		want            string
	}{
		{3, 1, protoclient.ChatRoomAddMember},
		{38, 1, protoclient.ChatRoomAddMember},
		{39, 1, protoclient.ChatRoomInviteMember},
		{40, 1, protoclient.ChatRoomInviteMember},
		{35, 5, protoclient.ChatRoomInviteMember},
		{200, 1, protoclient.ChatRoomInviteMember},
	} {
		if got := addMemberFunc(tt.members, tt.adding); got != tt.want {
			t.Errorf("addMemberFunc(%d, %d) = %s, want %s", tt.members, tt.adding, got, tt.want)
		}
	}
}

func TestChatRoomFailure(t *testing.T) {
	api := func(ret int) error {
		return &protoclient.APIError{Endpoint: "webwxupdatechatroom", Ret: ret}
	}
	for _, tt := range []struct {
		err  error
		what string
		want string
	}{
		{api(1), "remove them", "only the group owner can remove members"},
		{api(1), "add them", "WeChat refused to add them"},
		{api(1201), "add them", "no longer a member"},
		{api(1205), "create the group", "too often"},
		{&protoclient.LoggedOutError{Retcode: 1101, Endpoint: "webwxupdatechatroom"}, "add them", "send `login`"},
		{protoclient.ErrNotLoggedIn, "add them", "not connected to WeChat"},
		{errors.New("connection reset"), "add them", "WeChat could not add them: connection reset"},
	} {
		err := chatRoomFailure(tt.err, tt.what)
		var ws bridgev2.MessageStatus
		if !errors.As(err, &ws) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("chatRoomFailure(%v, %q) = %v, want a status error containing %q", tt.err, tt.what, err, tt.want)
		}
	}
}

func TestNotAdded(t *testing.T) {
	got := notAdded([]protoclient.UserName{"@a", "@b", "@c"}, []protoclient.Member{{UserName: "@a"}, {UserName: "@b", MemberStatus: 4}})
	if fmt.Sprint(got) != "[@b @c]" {
		t.Fatalf("notAdded = %v", got)
	}
	if got := notAdded([]protoclient.UserName{"@a"}, nil); got != nil {
		t.Fatalf("no list = %v", got)
	}
}

func TestProvisioningCapabilities(t *testing.T) {
	caps := provisioningCapabilities()
	g, ok := caps.GroupCreation[GroupTypeWeChat]
	if !caps.ResolveIdentifier.CreateDM || !caps.ResolveIdentifier.ContactList || !caps.ResolveIdentifier.Search ||
		!ok || g.Participants.MinLength != minGroupOthers || !g.Name.Allowed || g.Avatar.Allowed || g.Topic.Allowed {
		t.Fatalf("capabilities = %+v", caps)
	}
}

// simEnv is a wxsim server with Alice logged in through protoclient, and a WeChatClient
// around that session without a homeserver.
type simEnv struct {
	t   *testing.T
	ctx context.Context
	ctl *wxsim.Control
	wx  *protoclient.Client
	c   *WeChatClient
}

func newSimEnv(t *testing.T, wc *WeChatConnector) *simEnv {
	t.Helper()
	srv := wxsimtest.New(t, nil)
	ts := srv.TS
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	e := &simEnv{t: t, ctx: ctx, ctl: srv.Ctl}
	e.must(e.ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: "wxid_alice", Nickname: "Alice", Uin: 1001}))
	for _, p := range []string{"Bob", "Carol", "Dave"} {
		e.must(e.ctl.AddContact(ctx, "wxid_alice", wxsim.ContactSpec{Wxid: "wxid_" + strings.ToLower(p), Nickname: ptr(p)}))
	}
	e.must(e.ctl.CreateGroup(ctx, "wxid_alice", wxsim.GroupSpec{ID: "777@chatroom", Name: "Bob's club",
		Members: []string{"wxid_alice", "wxid_bob", "wxid_carol"}, Owner: "wxid_bob"}))

	wx, err := protoclient.New(protoclient.Options{ServerURL: ts.URL, HTTPClient: ts.Client(), LongPollTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	uuid, err := wx.NewQRLogin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.must(e.ctl.Scan(ctx, uuid, "wxid_alice"))
	e.must(e.ctl.Confirm(ctx, uuid))
	var res protoclient.LoginPollResult
	for res.Code != protoclient.LoginConfirmed {
		if res, err = wx.PollLogin(ctx, uuid, 0); err != nil {
			t.Fatal(err)
		}
	}
	init, err := wx.CompleteLogin(ctx, res.RedirectURI)
	if err != nil {
		t.Fatal(err)
	}
	if wc == nil {
		wc = &WeChatConnector{}
	}
	login := &bridgev2.UserLogin{UserLogin: &database.UserLogin{ID: "1001", RemoteName: "Alice"}}
	e.wx, e.c = wx, newClient(wc, login, wx)
	e.c.dir.setSelf(init.User.UserName, "")
	e.c.dir.addContacts(init.ContactList)
	contacts, err := wx.GetContacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.c.dir.addContacts(contacts)
	e.c.loggedIn.Store(true)
	return e
}

func (e *simEnv) must(v ...any) {
	e.t.Helper()
	if err, ok := v[len(v)-1].(error); ok && err != nil {
		e.t.Fatal(err)
	}
}

// userName is a contact's or group's session name by nickname.
func (e *simEnv) userName(nick string) protoclient.UserName {
	e.t.Helper()
	for _, ct := range e.c.dir.contactsSnapshot() {
		if ct.NickName == nick {
			return ct.UserName
		}
	}
	e.t.Fatalf("%q not in the contact list", nick)
	return ""
}

// ghostID is the ghost of a contact by nickname, as the bridge names it.
func (e *simEnv) ghostID(nick string) networkid.UserID {
	e.t.Helper()
	f, err := e.c.dir.resolveFriend(nick)
	if err != nil || f == nil {
		e.t.Fatalf("no contact %q: %v", nick, err)
	}
	return portal.MakeUserID(f.id)
}

// groupMembers reads a group's members from the server as nicknames.
func (e *simEnv) groupMembers(userName protoclient.UserName) map[string]bool {
	e.t.Helper()
	got, err := e.wx.BatchGetUsers(e.ctx, userName)
	if err != nil || len(got) != 1 {
		e.t.Fatalf("batchgetcontact %s: %v %v", userName, got, err)
	}
	e.c.dir.addContacts(got)
	out := map[string]bool{}
	for _, m := range got[0].MemberList {
		out[m.NickName] = true
	}
	return out
}

func membership(p *bridgev2.Portal, target bridgev2.GhostOrUserLogin, typ bridgev2.MembershipChangeType) *bridgev2.MatrixMembershipChange {
	return &bridgev2.MatrixMembershipChange{
		MatrixRoomMeta: bridgev2.MatrixRoomMeta[*event.MemberEventContent]{
			MatrixEventBase: bridgev2.MatrixEventBase[*event.MemberEventContent]{Portal: p, Content: &event.MemberEventContent{}},
		},
		Target: target,
		Type:   typ,
	}
}

func TestCreateGroupAndMembership(t *testing.T) {
	e := newSimEnv(t, nil)
	ctx, c := e.ctx, e.c
	bob, carol, dave := e.ghostID("Bob"), e.ghostID("Carol"), e.ghostID("Dave")

	// One other person is not enough for WeChat; who is not a contact is named.
	if _, err := c.CreateGroup(ctx, &bridgev2.GroupCreateParams{Type: GroupTypeWeChat, Participants: []networkid.UserID{bob, c.selfID()}}); err == nil ||
		!strings.Contains(err.Error(), "at least 2 other people") {
		t.Fatalf("one member: %v", err)
	}
	if _, err := c.CreateGroup(ctx, &bridgev2.GroupCreateParams{Participants: []networkid.UserID{bob, "wxid_nobody"}}); err == nil ||
		!strings.Contains(err.Error(), "wxid_nobody") {
		t.Fatalf("unknown member: %v", err)
	}

	resp, err := c.CreateGroup(ctx, &bridgev2.GroupCreateParams{
		Type:         GroupTypeWeChat,
		Participants: []networkid.UserID{bob, carol, bob},
		Name:         &event.RoomNameEventContent{Name: "Weekend"},
	})
	if err != nil {
		t.Fatal(err)
	}
	gid := portal.ParsePortalID(resp.PortalKey.ID)
	if !portal.IsGroupID(gid) || resp.PortalKey.Receiver != "1001" || resp.PortalInfo == nil ||
		resp.PortalInfo.Name == nil || *resp.PortalInfo.Name != "Weekend" || resp.PortalInfo.Members == nil ||
		len(resp.PortalInfo.Members.MemberMap) != 3 || len(resp.FailedParticipants) != 0 {
		t.Fatalf("create response: key %+v info %+v failed %v", resp.PortalKey, resp.PortalInfo, resp.FailedParticipants)
	}
	room := c.dir.userName(gid)
	if !protoclient.IsGroup(room) {
		t.Fatalf("group %s has no session name (%q)", gid, room)
	}
	if got := e.groupMembers(room); !got["Bob"] || !got["Carol"] || !got["Alice"] || len(got) != 3 {
		t.Fatalf("members after create: %v", got)
	}

	weekend := &bridgev2.Portal{Portal: &database.Portal{PortalKey: resp.PortalKey}}
	ghost := func(id networkid.UserID) *bridgev2.Ghost { return &bridgev2.Ghost{Ghost: &database.Ghost{ID: id}} }

	// Invite → addmember; kick → delmember (Alice created the group, so she owns it).
	if _, err := c.HandleMatrixMembership(ctx, membership(weekend, ghost(dave), bridgev2.Invite)); err != nil {
		t.Fatal(err)
	}
	if got := e.groupMembers(room); !got["Dave"] {
		t.Fatalf("Dave not added: %v", got)
	}
	if _, err := c.HandleMatrixMembership(ctx, membership(weekend, ghost(dave), bridgev2.Kick)); err != nil {
		t.Fatal(err)
	}
	if got := e.groupMembers(room); got["Dave"] {
		t.Fatalf("Dave not removed: %v", got)
	}

	// Bob owns his club: Alice may add, not remove.
	clubRoom := e.userName("Bob's club")
	e.groupMembers(clubRoom)
	clubID, _ := c.dir.stableID(clubRoom)
	club := &bridgev2.Portal{Portal: &database.Portal{PortalKey: portal.MakePortalKey(clubID, "1001")}}
	_, err = c.HandleMatrixMembership(ctx, membership(club, ghost(carol), bridgev2.Kick))
	if err == nil || !strings.Contains(err.Error(), "only the group owner can remove members") {
		t.Fatalf("kick in someone else's group: %v", err)
	}

	// What WeChat cannot do is refused in words; the user's own joins need nothing.
	for _, tt := range []struct {
		p    *bridgev2.Portal
		tgt  bridgev2.GhostOrUserLogin
		typ  bridgev2.MembershipChangeType
		want string
	}{
		{weekend, ghost(carol), bridgev2.BanJoined, "does not support"},
		{weekend, ghost(carol), bridgev2.BanLeft, "does not support"},
		{weekend, c.Login, bridgev2.Leave, "leave it on your phone"},
		{weekend, nil, bridgev2.Invite, "only your WeChat contacts"},
		{weekend, c.Login, bridgev2.Invite, "only your WeChat contacts"},
		{weekend, ghost("wxm_0123456789abcdef"), bridgev2.Invite, "only your WeChat contacts"},
		{weekend, ghost("wxm_0123456789abcdef"), bridgev2.Kick, "not a member"},
		{&bridgev2.Portal{Portal: &database.Portal{PortalKey: portal.MakePortalKey(portal.ParseUserID(bob), "1001")}}, ghost(carol), bridgev2.Invite, "direct chat"},
	} {
		_, err := c.HandleMatrixMembership(ctx, membership(tt.p, tt.tgt, tt.typ))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v on %s: %v, want %q", tt.typ, tt.p.ID, err, tt.want)
		}
	}
	for _, typ := range []bridgev2.MembershipChangeType{bridgev2.AcceptInvite, bridgev2.Join, bridgev2.ProfileChange} {
		if _, err := c.HandleMatrixMembership(ctx, membership(weekend, c.Login, typ)); err != nil {
			t.Errorf("%+v: %v", typ, err)
		}
	}
}

// contactsSnapshot lists the directory's contacts (tests only).
func (d *directory) contactsSnapshot() []protoclient.Contact {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]protoclient.Contact, 0, len(d.contacts))
	for _, ct := range d.contacts {
		out = append(out, *ct)
	}
	return out
}
