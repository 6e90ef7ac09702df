//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

// TestContactsAndGroups (issue 4, "Contacts and groups"): Ivy's contacts and groups as
// ghosts and rooms — names and avatars and their changes, group renames and membership,
// recent chats at login, start-chat, group creation and invites from Matrix, messages
// from the phone, two contacts with one nickname, and identity across a re-login.
func TestContactsAndGroups(t *testing.T) {
	a := newWorld(t)
	defer a.printDelays(t)
	ctx := t.Context()
	const (
		ivy                                  = "wxid_ivy"
		june, rex, vic, wes, sam1, sam2, zoe = "wxid_june", "wxid_rex", "wxid_vic", "wxid_wes", "wxid_sam1", "wxid_sam2", "wxid_zoe"
		kit                                  = "wxid_kit"
		hikers                               = "hikers2026@chatroom"
	)
	avatarA, avatarB := testPNG(t, 24, 24), testPNG(t, 30, 30)
	acc := a.setupAccount(t, "ivy", ivy, "Ivy", 2004, []wxsim.ContactSpec{
		{Wxid: june, Nickname: new("June"), AvatarBase64: new(b64(avatarA))},
		{Wxid: rex, Nickname: new("Rex")},
		{Wxid: vic, Nickname: new("Vic")},
		{Wxid: wes, Nickname: new("Wes")},
		{Wxid: sam1, Nickname: new("Sam")},
		{Wxid: sam2, Nickname: new("Sam")},
		{Wxid: zoe, Nickname: new("Zoe")},
		{Wxid: kit, Nickname: new("Kit"), RemarkName: new("Kitty from work"), AvatarBase64: new(b64(avatarB))},
	}, []wxsim.GroupSpec{{ID: hikers, Name: "Hikers", Members: []string{june, rex, vic}}})
	u := acc.u
	loggedIn := u.Mark()
	var juneRoom, hikersRoom id.RoomID

	isMember := harness.MemberEvent
	w2m := func(t *testing.T, what string, m wxsim.WorldMessage) *harness.Seen {
		t.Helper()
		from := u.Mark()
		_, t0 := a.incomingRef(t, ivy, m)
		ev := a.awaitMessage(t, u, from, waitPortal, what, harness.MessageWithBody(m.Content))
		a.note(t, "W→M", what, ev.At.Sub(t0))
		return ev
	}

	run(t, "recent_chats_become_rooms_at_login", func(t *testing.T) {
		// No message yet: the group and the DM with June come from webwxinit's recent chats.
		// Rooms are made one after the other, the groups after the contacts: a loaded
		// machine takes seconds per room.
		// The name is asked of the homeserver: /sync of a newly joined room may leave out
		// state from the room's creation.
		names := map[id.RoomID]string{}
		// Only a joined room counts: the invite's stripped state already carries the name,
		// and the history read below needs the join (double puppeting) to have happened.
		named := a.awaitMessage(t, u, loggedIn, 2*waitPortal, "a joined room named Hikers (recent chat)", func(s *harness.Seen) bool {
			if s.Section != "join" || s.Room == acc.dm {
				return false
			}
			if s.Evt.Type == event.StateRoomName && s.Str("name") == "Hikers" {
				return true
			}
			if _, ok := names[s.Room]; !ok {
				if n := roomName(ctx, u, s.Room); n != "" {
					names[s.Room] = n
				}
			}
			return names[s.Room] == "Hikers"
		})
		hikersRoom = named.Room
		// Which room holds June's ghost is asked of the homeserver too: its member event
		// is part of the room's creation state.
		juneRoom = pollHomeserver(t, waitPortal, "a room with June's ghost (recent chat)", func() (bool, error) {
			rooms, err := u.Client.JoinedRooms(ctx)
			if err != nil {
				return false, err
			}
			for _, r := range rooms.JoinedRooms {
				if r == hikersRoom || r == acc.dm {
					continue
				}
				members, err := u.Client.JoinedMembers(ctx, r)
				if err != nil {
					continue
				}
				if _, ok := members.Joined[a.ghost(june)]; ok {
					juneRoom = r
					return true, nil
				}
			}
			return false, nil
		}, func() id.RoomID { return juneRoom })
		if n := len(u.All(loggedIn, func(s *harness.Seen) bool { return s.IsMessage() && s.Room != acc.dm })); n != 0 {
			t.Logf("note: %d messages in portals before anyone wrote", n)
		}
	}, u)

	// What Element shows of the rooms made at login, before anyone writes: each room is born
	// with its name and avatar (in the state before the user's invite, so the invite's
	// stripped state carries them and no "changed the room name" line follows), a DM's
	// invite says it is direct and the room is in the user's m.direct (double puppeting),
	// a DM named after a remark name still has the contact's avatar, and the user's own
	// ghost has the account's avatar.
	run(t, "portals_look_right_in_a_client", func(t *testing.T) {
		if juneRoom == "" || hikersRoom == "" {
			t.Skip("no recent-chat rooms (the step before failed)")
		}
		for _, r := range []struct {
			room       id.RoomID
			what, name string
			direct     bool
		}{{juneRoom, "June's DM", "June", true}, {hikersRoom, "the Hikers group", "Hikers", false}} {
			checkBornNamed(t, u, r.room, r.what, r.name, r.direct)
		}
		var kitRoom id.RoomID
		pollHomeserver(t, waitPortal, "the DM with Kit, named by the remark name", func() (bool, error) {
			rooms, err := u.Client.JoinedRooms(ctx)
			if err != nil {
				return false, err
			}
			for _, r := range rooms.JoinedRooms {
				if roomName(ctx, u, r) == "Kitty from work" {
					kitRoom = r
					return true, nil
				}
			}
			return false, nil
		}, func() id.RoomID { return kitRoom })
		checkBornNamed(t, u, kitRoom, "Kit's DM (remark name)", "Kitty from work", true)

		var direct map[id.UserID][]id.RoomID
		pollHomeserver(t, waitEvent, "June's DM in the user's m.direct", func() (bool, error) {
			if err := u.Client.GetAccountData(ctx, event.AccountDataDirectChats.Type, &direct); err != nil {
				return false, nil
			}
			return slices.Contains(direct[a.ghost(june)], juneRoom), nil
		}, func() struct{} { return struct{}{} })
		if slices.Contains(direct[a.ghost(rex)], hikersRoom) || slices.Contains(direct[a.ghost(june)], hikersRoom) {
			t.Errorf("the Hikers group is in m.direct: %v", direct)
		}

		self := id.NewUserID("wechat_uin2004", a.e.server)
		pollHomeserver(t, waitEvent, "the user's own ghost with the account's avatar", func() (bool, error) {
			p, err := u.Client.GetProfile(ctx, self)
			if err != nil {
				return false, nil
			}
			return !p.AvatarURL.IsEmpty() && p.DisplayName == "Ivy", nil
		}, func() struct{} { return struct{}{} })
	}, u)

	run(t, "ghost_name_and_avatar", func(t *testing.T) {
		ev := w2m(t, "June writes", wxsim.WorldMessage{From: june, Type: 1, Content: "Hi Ivy, June here"})
		if juneRoom != "" && ev.Room != juneRoom {
			t.Errorf("June's message landed in %s, not in the recent-chat room %s", ev.Room, juneRoom)
		}
		juneRoom = ev.Room
		if ev.Evt.Sender != a.ghost(june) {
			t.Fatalf("sender %s, want %s", ev.Evt.Sender, a.ghost(june))
		}
		// The ghost's membership with an avatar, asked of the homeserver (the member
		// event may predate what /sync shows of the room).
		var member struct{ name, avatar string }
		pollHomeserver(t, waitEvent, "June's ghost with an avatar", func() (bool, error) {
			members, err := u.Client.JoinedMembers(ctx, juneRoom)
			if err != nil {
				return false, err
			}
			m, ok := members.Joined[a.ghost(june)]
			if !ok || m.AvatarURL == "" {
				return false, nil
			}
			member.name, member.avatar = m.DisplayName, m.AvatarURL
			return true, nil
		}, func() struct{} { return struct{}{} })
		if member.name != "June" {
			t.Errorf("ghost named %q, want June", member.name)
		}
		p, err := u.Client.GetProfile(ctx, a.ghost(june))
		if err != nil {
			t.Fatal(err)
		}
		if p.AvatarURL.IsEmpty() {
			t.Fatalf("profile of %s has no avatar_url", a.ghost(june))
		}
		if got := download(t, u, p.AvatarURL.String()); sha(got) != sha(avatarA) {
			t.Errorf("ghost avatar is %d bytes sha %s, want the contact's avatar %s", len(got), sha(got), sha(avatarA))
		}
	}, u)

	run(t, "contact_changes_reach_the_ghost", func(t *testing.T) {
		if juneRoom == "" {
			t.Skip("no room with June")
		}
		old, _ := u.Client.GetAvatarURL(ctx, a.ghost(june))
		from := u.Mark()
		t0 := time.Now()
		if err := a.ctl.UpdateContact(ctx, ivy, june, wxsim.ContactSpec{Nickname: new("June R."), AvatarBase64: new(b64(avatarB))}); err != nil {
			t.Fatal(err)
		}
		n := u.Must(ctx, waitEvent, from, "June's ghost renamed", harness.And(harness.InRoom(juneRoom), isMember(a.ghost(june), "join"),
			func(s *harness.Seen) bool { return s.Str("displayname") == "June R." }))
		a.note(t, "W→M", "ModContactList → ghost renamed", n.At.Sub(t0))
		av := u.Must(ctx, waitEvent, from, "June's ghost with a new avatar", harness.And(harness.InRoom(juneRoom), isMember(a.ghost(june), "join"),
			func(s *harness.Seen) bool { return s.Str("avatar_url") != "" && s.Str("avatar_url") != old.String() }))
		if got := download(t, u, av.Str("avatar_url")); sha(got) != sha(avatarB) {
			t.Errorf("new ghost avatar sha %s, want %s", sha(got), sha(avatarB))
		}
		if p, err := u.Client.GetProfile(ctx, a.ghost(june)); err != nil || p.DisplayName != "June R." {
			t.Errorf("global profile %+v (%v), want displayname June R.", p, err)
		}
	}, u)

	run(t, "group_rename", func(t *testing.T) {
		ev := w2m(t, "Rex writes in Hikers", wxsim.WorldMessage{From: rex, Chat: hikers, Type: 1, Content: "Trail report: muddy but fine"})
		if hikersRoom != "" && ev.Room != hikersRoom {
			t.Errorf("the group message landed in %s, not in the recent-chat room %s", ev.Room, hikersRoom)
		}
		hikersRoom = ev.Room
		from := u.Mark()
		t0 := time.Now()
		if err := a.ctl.UpdateGroup(ctx, ivy, hikers, wxsim.GroupUpdate{Name: new("Hikers 2026"), By: rex}); err != nil {
			t.Fatal(err)
		}
		n := u.Must(ctx, waitEvent, from, "the room renamed", harness.And(harness.InRoom(hikersRoom), func(s *harness.Seen) bool {
			return s.Evt.Type == event.StateRoomName && s.Str("name") == "Hikers 2026"
		}))
		a.note(t, "W→M", "group renamed → m.room.name", n.At.Sub(t0))
		u.Must(ctx, waitEvent, from, "a notice about the rename", harness.And(harness.InRoom(hikersRoom), notice("Hikers 2026")))
	}, u)

	// Issue 15: renaming the group's room renames the WeChat group; when WeChat refuses
	// (Ret 1: the group lets only its owner change the name), the user is told why and the
	// room takes WeChat's name back.
	run(t, "rename_group_from_matrix", func(t *testing.T) {
		if hikersRoom == "" {
			t.Skip("no Hikers room")
		}
		rename := func(name string) id.EventID {
			t.Helper()
			resp, err := u.Client.SendStateEvent(ctx, hikersRoom, event.StateRoomName, "", &event.RoomNameEventContent{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			return resp.EventID
		}
		groupName := func() string {
			g, err := a.ctl.Group(ctx, ivy, hikers)
			if err != nil {
				t.Fatal(err)
			}
			return g.Name
		}
		from := u.Mark()
		t0 := time.Now()
		evID := rename("Hikers & friends")
		pollHomeserver(t, waitEvent, "the WeChat group renamed", func() (bool, error) {
			return groupName() == "Hikers & friends", nil
		}, func() struct{} { return struct{}{} })
		a.note(t, "M→W", "m.room.name → modtopic", time.Since(t0))
		st := u.Must(ctx, waitEvent, from, "the rename's status", harness.And(harness.InRoom(hikersRoom), statusFor(evID)))
		if st.Str("status") != "SUCCESS" {
			t.Errorf("the rename's status is %q, want SUCCESS: %v", st.Str("status"), st.Evt.Content.Raw)
		}
		if n := roomName(ctx, u, hikersRoom); n != "Hikers & friends" {
			t.Errorf("the room is named %q after WeChat took the rename", n)
		}

		fid, err := a.ctl.AddFault(ctx, wxsim.Fault{Account: ivy, Endpoint: "webwxupdatechatroom", Kind: "retcode", Value: 1, Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = a.ctl.DeleteFault(context.Background(), fid) }()
		from = u.Mark()
		evID = rename("Not allowed")
		fail := u.Must(ctx, waitEvent, from, "a notice that WeChat refused the rename", harness.And(harness.InRoom(hikersRoom), failureNoticeFor(evID)))
		if !strings.Contains(fail.Body(), "owner") {
			t.Errorf("the refusal %q does not say why", fail.Body())
		}
		u.Must(ctx, waitEvent, from, "the room's name back to WeChat's", harness.And(harness.InRoom(hikersRoom), func(s *harness.Seen) bool {
			return s.Evt.Type == event.StateRoomName && s.Str("name") == "Hikers & friends" && s.Evt.Sender == a.bot
		}))
		if g := groupName(); g != "Hikers & friends" {
			t.Errorf("the WeChat group is named %q after the refused rename", g)
		}
	}, u)

	// Issue 15: `set-remark` in a DM sets the contact's remark name on WeChat (webwxoplog
	// CmdId 2), and the room takes it as its name; a refusal is answered, not silence.
	run(t, "set_remark_from_matrix", func(t *testing.T) {
		if juneRoom == "" {
			t.Skip("no room with June")
		}
		remark := func() string { return a.wxContact(t, ivy, june).RemarkName }
		from := u.Mark()
		if _, err := u.Client.SendText(ctx, juneRoom, "!wx set-remark June from the trail"); err != nil {
			t.Fatal(err)
		}
		u.Must(ctx, waitEvent, from, "the bot's answer", harness.And(harness.InRoom(juneRoom), harness.FromSender(a.bot), notice("June from the trail")))
		if r := remark(); r != "June from the trail" {
			t.Errorf("June's remark on the phone is %q", r)
		}
		u.Must(ctx, waitEvent, from, "the DM renamed after the remark", harness.And(harness.InRoom(juneRoom), func(s *harness.Seen) bool {
			return s.Evt.Type == event.StateRoomName && s.Str("name") == "June from the trail"
		}))

		fid, err := a.ctl.AddFault(ctx, wxsim.Fault{Account: ivy, Endpoint: "webwxoplog", Kind: "retcode", Value: 1, Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = a.ctl.DeleteFault(context.Background(), fid) }()
		from = u.Mark()
		if _, err := u.Client.SendText(ctx, juneRoom, "!wx set-remark Not this one"); err != nil {
			t.Fatal(err)
		}
		u.Must(ctx, waitEvent, from, "the bot saying WeChat refused", harness.And(harness.InRoom(juneRoom), harness.FromSender(a.bot), notice("refused", "phone")))
		if r := remark(); r != "June from the trail" {
			t.Errorf("June's remark is %q after the refused change", r)
		}
	}, u)

	run(t, "group_members_follow", func(t *testing.T) {
		if hikersRoom == "" {
			t.Skip("no Hikers room")
		}
		from := u.Mark()
		t0 := time.Now()
		if err := a.ctl.GroupMembers(ctx, ivy, hikers, wxsim.MembersChange{Add: []string{wes}, Remove: []string{vic}}); err != nil {
			t.Fatal(err)
		}
		j := u.Must(ctx, waitEvent, from, "Wes's ghost joining", harness.And(harness.InRoom(hikersRoom), isMember(a.ghost(wes), "join")))
		a.note(t, "W→M", "member added → join", j.At.Sub(t0))
		u.Must(ctx, waitEvent, from, "Vic's ghost leaving", harness.And(harness.InRoom(hikersRoom), func(s *harness.Seen) bool {
			return s.Evt.Type == event.StateMember && s.Evt.StateKey != nil && *s.Evt.StateKey == string(a.ghost(vic)) &&
				(s.Membership() == "leave" || s.Membership() == "ban")
		}))
	}, u)

	run(t, "invite_ghost_adds_member", func(t *testing.T) {
		if hikersRoom == "" {
			t.Skip("no Hikers room")
		}
		t0 := time.Now()
		if _, err := u.Client.InviteUser(ctx, hikersRoom, &mautrix.ReqInviteUser{UserID: a.ghost(zoe)}); err != nil {
			t.Fatal(err)
		}
		pollUntil(t, "Zoe to be a member of the WeChat group", func() (bool, string) {
			g, err := a.ctl.Group(ctx, ivy, hikers)
			if err != nil {
				return false, err.Error()
			}
			return slices.Contains(g.Members, zoe), fmt.Sprintf("%+v", g.Members)
		})
		a.note(t, "M→W", "invite ghost → addmember", time.Since(t0))
	}, u)

	run(t, "start_chat", func(t *testing.T) {
		from := u.Mark()
		if _, err := u.Client.SendText(ctx, acc.dm, "start-chat "+rex); err != nil {
			t.Fatal(err)
		}
		r := u.Must(ctx, waitPortal, from, "the bot's answer to start-chat", harness.And(harness.InRoom(acc.dm), harness.FromSender(a.bot), func(s *harness.Seen) bool { return s.IsMessage() }))
		t.Logf("bot: %q", r.Body())
		m := regexp.MustCompile(`!([A-Za-z0-9]+):` + regexp.QuoteMeta(a.e.server)).FindString(r.Str("formatted_body") + " " + r.Body())
		if m == "" {
			t.Fatalf("start-chat answered %q, want a link to the DM room", r.Body())
		}
		room := id.RoomID(m)
		// Join the room if only invited, then check it is the DM with Rex.
		_, _ = u.Client.JoinRoomByID(ctx, room)
		if _, ok := roomMembers(t, u, room)[a.ghost(rex)]; !ok {
			t.Errorf("the start-chat room %s has no %s: %v", room, a.ghost(rex), roomMembers(t, u, room))
		}
		skip := a.sentLen(t, ivy)
		body := "Hi Rex, started from Matrix"
		if _, err := u.Client.SendText(ctx, room, body); err != nil {
			t.Fatal(err)
		}
		a.awaitSent(t, ivy, skip, body, func(m wxsim.SentMessage) bool { return m.Content == body && m.To == rex })
	}, u)

	run(t, "create_group_from_matrix", func(t *testing.T) {
		var resp struct {
			ID   string    `json:"id"`
			MXID id.RoomID `json:"mxid"`
		}
		t0 := time.Now()
		err := a.provision(t, u.ID(), "POST", "/v3/create_group/group", map[string]any{
			"participants": []string{string(a.ghost(rex)), string(a.ghost(wes))},
			"name":         map[string]string{"name": "Trip planning"},
		}, &resp)
		if err != nil {
			t.Fatal(err)
		}
		a.note(t, "M→W", "create_group → room", time.Since(t0))
		if resp.MXID == "" {
			t.Fatalf("create_group answered no room: %+v", resp)
		}
		_, _ = u.Client.JoinRoomByID(ctx, resp.MXID)
		skip := a.sentLen(t, ivy)
		body := "Welcome to the trip planning group"
		if _, err := u.Client.SendText(ctx, resp.MXID, body); err != nil {
			t.Fatal(err)
		}
		s := a.awaitSent(t, ivy, skip, body, func(m wxsim.SentMessage) bool { return m.Content == body })
		if !strings.HasSuffix(s.To, "@chatroom") || s.To == hikers {
			t.Fatalf("the message in the new group's room went to %q, want a new group", s.To)
		}
		g, err := a.ctl.Group(ctx, ivy, s.To)
		if err != nil {
			t.Fatal(err)
		}
		if g.Name != "Trip planning" || !slices.Contains(g.Members, rex) || !slices.Contains(g.Members, wes) {
			t.Errorf("wxsim's new group is %+v, want Trip planning with Rex and Wes", g)
		}
	}, u)

	run(t, "from_phone_is_the_user", func(t *testing.T) {
		if juneRoom == "" {
			t.Skip("no room with June")
		}
		text := "Sent from Ivy's phone 📱"
		from := u.Mark()
		t0 := time.Now()
		if _, err := a.ctl.FromPhone(ctx, ivy, wxsim.WorldMessage{To: june, Type: 1, Content: text}); err != nil {
			t.Fatal(err)
		}
		ev := u.Must(ctx, waitEvent, from, "the phone's message", harness.And(harness.InRoom(juneRoom), harness.MessageWithBody(text)))
		a.note(t, "W→M", "from phone", ev.At.Sub(t0))
		if ev.Evt.Sender != u.ID() {
			t.Errorf("the phone's message is from %s, want the user's own %s (double puppeting)", ev.Evt.Sender, u.ID())
		}
	}, u)

	run(t, "same_nickname_never_merged", func(t *testing.T) {
		e1 := w2m(t, "Sam (1) writes", wxsim.WorldMessage{From: sam1, Type: 1, Content: "I'm Sam from work"})
		e2 := w2m(t, "Sam (2) writes", wxsim.WorldMessage{From: sam2, Type: 1, Content: "I'm Sam from the gym"})
		if e1.Room == e2.Room {
			t.Errorf("two contacts named Sam share the room %s", e1.Room)
		}
		if e1.Evt.Sender == e2.Evt.Sender || e1.Evt.Sender != a.ghost(sam1) || e2.Evt.Sender != a.ghost(sam2) {
			t.Errorf("senders %s and %s, want %s and %s", e1.Evt.Sender, e2.Evt.Sender, a.ghost(sam1), a.ghost(sam2))
		}
	}, u)

	run(t, "relogin_keeps_rooms_and_ghosts", func(t *testing.T) {
		if juneRoom == "" || hikersRoom == "" {
			t.Skip("no rooms from before the re-login")
		}
		before, err := a.ctl.Account(ctx, ivy)
		if err != nil {
			t.Fatal(err)
		}
		from := u.Mark()
		if err := a.ctl.Logout(ctx, ivy, 1101); err != nil {
			t.Fatal(err)
		}
		if n, err := u.WaitFor(ctx, 20*time.Second, from, "the bot to say the session ended", harness.And(harness.InRoom(acc.dm), harness.FromSender(a.bot),
			func(s *harness.Seen) bool { return s.IsMessage() })); err != nil {
			t.Logf("note: no bot message about the logout: %v", err)
		} else {
			t.Logf("bot after the logout: %q", n.Body())
		}
		a.loginWithQR(t, u, acc.dm, ivy, false)
		after, err := a.ctl.Account(ctx, ivy)
		if err != nil {
			t.Fatal(err)
		}
		if after.UserName == "" || after.UserName == before.UserName || after.Sessions <= before.Sessions {
			t.Fatalf("the re-login did not start a new session: before %+v, after %+v", before, after)
		}
		t.Logf("UserName %s → %s", before.UserName, after.UserName)
		ev := w2m(t, "June after the re-login", wxsim.WorldMessage{From: june, Type: 1, Content: "Still me, June, after your re-login"})
		if ev.Room != juneRoom || ev.Evt.Sender != a.ghost(june) {
			t.Errorf("after the re-login June's message is in %s from %s, want %s from %s", ev.Room, ev.Evt.Sender, juneRoom, a.ghost(june))
		}
		ev = w2m(t, "Hikers after the re-login", wxsim.WorldMessage{From: rex, Chat: hikers, Type: 1, Content: "Hikers still here after the re-login"})
		if ev.Room != hikersRoom || ev.Evt.Sender != a.ghost(rex) {
			t.Errorf("after the re-login the group message is in %s from %s, want %s from %s", ev.Room, ev.Evt.Sender, hikersRoom, a.ghost(rex))
		}
		// And Matrix → WeChat still reaches the same person under their new UserName.
		skip := a.sentLen(t, ivy)
		body := "Welcome back, June"
		if _, err := u.Client.SendText(ctx, juneRoom, body); err != nil {
			t.Fatal(err)
		}
		a.awaitSent(t, ivy, skip, body, func(m wxsim.SentMessage) bool { return m.Content == body && m.To == june })
	}, u)
}

// checkBornNamed checks a portal as a client reads it: the room's name is name and it has
// an avatar, both set before the user was invited (so the invite's stripped state has them)
// and never changed since; a DM's invite of the user says is_direct.
func checkBornNamed(t *testing.T, u *harness.MatrixUser, room id.RoomID, what, name string, direct bool) {
	t.Helper()
	evts, err := u.History(t.Context(), room)
	if err != nil {
		t.Fatalf("%s: history: %v", what, err)
	}
	var names, avatars []*event.Event
	var invite *event.Event
	for _, e := range evts {
		if e.StateKey != nil {
			_ = e.Content.ParseRaw(e.Type)
		}
		switch {
		case e.Type == event.StateRoomName:
			names = append(names, e)
		case e.Type == event.StateRoomAvatar:
			avatars = append(avatars, e)
		case e.Type == event.StateMember && e.GetStateKey() == u.ID().String() && invite == nil:
			invite = e
		}
	}
	if invite == nil {
		t.Fatalf("%s: no membership of %s in the room's history", what, u.ID())
	}
	if len(names) != 1 || names[0].Content.AsRoomName().Name != name || names[0].Timestamp > invite.Timestamp {
		t.Errorf("%s: room name events %s, want one, %q, before the user's invite (%s at %d)", what, describe(names), name, invite.ID, invite.Timestamp)
	}
	if len(avatars) != 1 || avatars[0].Content.AsRoomAvatar().URL == "" || avatars[0].Timestamp > invite.Timestamp {
		t.Errorf("%s: room avatar events %s, want one with a URL, before the user's invite", what, describe(avatars))
	}
	m := invite.Content.AsMember()
	if m.IsDirect != direct {
		t.Errorf("%s: the user's first membership (%s from %s) has is_direct %v, want %v", what, m.Membership, invite.Sender, m.IsDirect, direct)
	}
	t.Logf("%s: invited by %s (%s), is_direct %v", what, invite.Sender, m.Membership, m.IsDirect)
}

func describe(evts []*event.Event) string {
	var parts []string
	for _, e := range evts {
		parts = append(parts, fmt.Sprintf("%s %v at %d", e.Sender, e.Content.Raw, e.Timestamp))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}
