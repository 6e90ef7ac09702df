//go:build e2e

package e2e

import (
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

// TestRelayMode (issue 15, "Relay mode"): Rosa is logged in and lets her WeChat account
// relay in her group's portal (`!wx set-relay`); Lou, a Matrix user with no WeChat login
// (test/e2e/cmd/e2ectl gives @lou only the "relay" permission level), writes there. WeChat
// sees his texts as `Lou M.: text` in plain text, his image and file followed by a text
// naming him, his replies as quotes and his pills as mentions; what WeChat cannot carry
// (reactions, edits) is answered, not silence; after `!wx unset-relay` his message is
// refused with a notice.
func TestRelayMode(t *testing.T) {
	a := newWorld(t)
	defer a.printDelays(t)
	ctx := t.Context()
	const (
		rosa, tim, una, vera = "wxid_rosa", "wxid_tim", "wxid_una", "wxid_vera"
		choir                = "choir2026@chatroom"
		louName              = "Lou M."
	)
	acc := a.setupAccount(t, "rosa", rosa, "Rosa", 2015,
		[]wxsim.ContactSpec{{Wxid: tim, Nickname: new("Tim")}, {Wxid: una, Nickname: new("Una")}, {Wxid: vera, Nickname: new("Vera")}},
		[]wxsim.GroupSpec{{ID: choir, Name: "Choir", Members: []string{tim, una}}})
	u := acc.u
	timText := "Rehearsal moved to 7"
	from := u.Mark()
	a.incomingRef(t, rosa, wxsim.WorldMessage{From: tim, Chat: choir, Type: 1, Content: timText})
	timMsg := a.awaitMessage(t, u, from, waitPortal, "Tim's group message", harness.MessageWithBody(timText))
	room := timMsg.Room

	lou := registerUser(ctx, t, a.e.hsURL, "lou", matrixPass)
	if err := lou.Client.SetDisplayName(ctx, louName); err != nil {
		t.Fatal(err)
	}

	// bot waits for the bridge bot's answer to a command Rosa sent in the portal: its
	// first message after the command in the room's timeline.
	bot := func(t *testing.T, cmd string, want ...string) {
		t.Helper()
		from := u.Mark()
		cmdID, err := u.Client.SendText(ctx, room, cmd)
		if err != nil {
			t.Fatal(err)
		}
		sent := u.Must(ctx, waitEvent, from, cmd, func(s *harness.Seen) bool { return s.Evt.ID == cmdID.EventID })
		r := u.Must(ctx, waitEvent, sent.Idx+1, "the bot's answer to "+cmd, harness.And(harness.InRoom(room), harness.FromSender(a.bot),
			func(s *harness.Seen) bool { return s.IsMessage() }))
		for _, w := range want {
			if !strings.Contains(r.Body(), w) {
				t.Fatalf("the bot answered %q to %s, want it to say %q", r.Body(), cmd, w)
			}
		}
	}
	// relayed sends content as Lou and waits for the /sent entry match accepts.
	relayed := func(t *testing.T, what string, typ event.Type, content any, match func(wxsim.SentMessage) bool) (id.EventID, wxsim.SentMessage) {
		t.Helper()
		skip := a.sentLen(t, rosa)
		evID, t0 := sendContent(t, lou, room, typ, content)
		s := a.awaitSent(t, rosa, skip, what, match)
		a.note(t, "M→W", "relayed "+what, time.Since(t0))
		return evID, s
	}
	content := func(want string) func(wxsim.SentMessage) bool {
		return func(m wxsim.SentMessage) bool { return m.Content == want }
	}
	var louText id.EventID

	run(t, "set_relay", func(t *testing.T) {
		bot(t, "!wx set-relay", "relayed through", "Rosa")
		if _, err := u.Client.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: lou.ID()}); err != nil {
			t.Fatal(err)
		}
		inv := lou.Must(ctx, waitEvent, 0, "Lou's invite to the Choir room", func(s *harness.Seen) bool { return s.Room == room && s.IsInviteFor(lou.ID()) })
		if _, err := lou.Client.JoinRoomByID(ctx, inv.Room); err != nil {
			t.Fatal(err)
		}
	}, u, lou)

	run(t, "text_is_name_colon_text", func(t *testing.T) {
		body := "Hi all, Lou here ✓"
		want := louName + ": " + body
		from := u.Mark()
		var s wxsim.SentMessage
		louText, s = relayed(t, "text", event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body}, content(want))
		if s.To != choir || s.Type != 1 {
			t.Errorf("the relayed text went as type %d to %s, want type 1 to %s", s.Type, s.To, choir)
		}
		st := u.Must(ctx, waitEvent, from, "the relayed text's status", harness.And(harness.InRoom(room), statusFor(louText)))
		if st.Str("status") != "SUCCESS" {
			t.Errorf("the relayed text's status is %q, want SUCCESS: %v", st.Str("status"), st.Evt.Content.Raw)
		}
	}, u, lou)

	run(t, "formatting_dropped_pill_is_mention", func(t *testing.T) {
		ghost := a.ghost(tim)
		c := &event.MessageEventContent{
			MsgType:       event.MsgText,
			Body:          "**Bring** the scores, Tim: page 4",
			Format:        event.FormatHTML,
			FormattedBody: `<strong>Bring</strong> the scores, <a href="https://matrix.to/#/` + string(ghost) + `">Tim</a>: page 4`,
			Mentions:      &event.Mentions{UserIDs: []id.UserID{ghost}},
		}
		want := louName + ": Bring the scores, @Tim\u2005page 4"
		_, s := relayed(t, "formatted text with a pill", event.EventMessage, c, func(m wxsim.SentMessage) bool { return strings.Contains(m.Content, "page 4") })
		if s.Content != want {
			t.Errorf("sent as %q, want %q (plain text, the pill as WeChat's mention)", s.Content, want)
		}
	}, u, lou)

	run(t, "emote_names_lou_once", func(t *testing.T) {
		_, s := relayed(t, "emote", event.EventMessage, &event.MessageEventContent{MsgType: event.MsgEmote, Body: "hums the alto line"},
			func(m wxsim.SentMessage) bool { return strings.Contains(m.Content, "hums the alto line") })
		if want := "* " + louName + " hums the alto line"; s.Content != want {
			t.Errorf("the relayed emote went as %q, want %q", s.Content, want)
		}
	}, u, lou)

	run(t, "reply_is_quote", func(t *testing.T) {
		c := &event.MessageEventContent{MsgType: event.MsgText, Body: "7 works for me"}
		c.RelatesTo = (&event.RelatesTo{}).SetReplyTo(timMsg.Evt.ID)
		want := "「Tim：" + timText + "」\n" + quoteSep + "\n" + louName + ": 7 works for me"
		_, s := relayed(t, "reply", event.EventMessage, c, func(m wxsim.SentMessage) bool { return strings.Contains(m.Content, "7 works for me") })
		if s.Content != want {
			t.Errorf("the relayed reply went as %q, want %q", s.Content, want)
		}
	}, u, lou)

	// media sends an upload as Lou and waits for the media and the text after it.
	media := func(t *testing.T, what string, c *event.MessageEventContent, data []byte, typ int, wantText string) {
		t.Helper()
		c.URL = upload(t, lou, data, c.Info.MimeType)
		c.Info.Size = len(data)
		skip := a.sentLen(t, rosa)
		_, m := relayed(t, what, event.EventMessage, c, func(m wxsim.SentMessage) bool { return m.MediaSHA256 != "" })
		if m.MediaSHA256 != sha(data) || m.Type != typ || m.To != choir {
			t.Errorf("%s reached WeChat as type %d to %s with media_sha256 %s, want type %d to %s with %s", what, m.Type, m.To, m.MediaSHA256, typ, choir, sha(data))
		}
		n := a.awaitSent(t, rosa, skip, "the text naming Lou after the "+what, content(wantText))
		sent, err := a.ctl.Sent(ctx, rosa)
		if err != nil {
			t.Fatal(err)
		}
		mi := slices.IndexFunc(sent, func(s wxsim.SentMessage) bool { return s.MsgID == m.MsgID })
		ni := slices.IndexFunc(sent, func(s wxsim.SentMessage) bool { return s.MsgID == n.MsgID })
		if ni < mi || n.To != choir {
			t.Errorf("the text naming Lou (#%d, to %s) does not follow the %s (#%d) in the group: %s", ni, n.To, what, mi, sentDump(sent[skip:]))
		}
	}

	run(t, "image_then_name", func(t *testing.T) {
		media(t, "image", &event.MessageEventContent{MsgType: event.MsgImage, Body: "score.png",
			Info: &event.FileInfo{MimeType: "image/png", Width: 64, Height: 48}}, testPNG(t, 64, 48), 3, louName+" sent an image")
	}, u, lou)

	run(t, "image_with_caption", func(t *testing.T) {
		media(t, "captioned image", &event.MessageEventContent{MsgType: event.MsgImage, Body: "page 2, bar 12", FileName: "bar12.png",
			Info: &event.FileInfo{MimeType: "image/png", Width: 40, Height: 30}}, testPNG(t, 40, 30), 3, louName+" sent an image: page 2, bar 12")
	}, u, lou)

	run(t, "file_then_name", func(t *testing.T) {
		media(t, "file", &event.MessageEventContent{MsgType: event.MsgFile, Body: "programme.pdf",
			Info: &event.FileInfo{MimeType: "application/pdf"}}, append([]byte("%PDF-1.4\n"), []byte(strings.Repeat("choir ", 300))...), 49, louName+" sent a file")
	}, u, lou)

	// The relayed messages leave from Rosa's account; their echoes in WeChat's sync must
	// not come back into the room as Rosa's messages.
	run(t, "no_echo", func(t *testing.T) {
		sentinel := "Una: see you all at 7"
		from := u.Mark()
		a.incomingRef(t, rosa, wxsim.WorldMessage{From: una, Chat: choir, Type: 1, Content: sentinel})
		u.Must(ctx, waitEvent, from, "Una's message", harness.And(harness.InRoom(room), harness.MessageWithBody(sentinel)))
		for _, s := range u.All(0, harness.And(harness.InRoom(room), func(s *harness.Seen) bool { return s.IsMessage() })) {
			if s.Evt.Sender != lou.ID() && strings.HasPrefix(s.Body(), louName) {
				t.Errorf("a relayed message came back into the room from %s: %q", s.Evt.Sender, s.Body())
			}
		}
	}, u, lou)

	// unbridged checks that nothing Lou did since skip reached WeChat: a sentinel Rosa
	// sends is the first entry after skip.
	unbridged := func(t *testing.T, skip int, what string) {
		t.Helper()
		sentinel := "sentinel after Lou's " + what
		if _, err := u.Client.SendText(ctx, room, sentinel); err != nil {
			t.Fatal(err)
		}
		a.awaitSent(t, rosa, skip, sentinel, content(sentinel))
		sent, err := a.ctl.Sent(ctx, rosa)
		if err != nil {
			t.Fatal(err)
		}
		if sent[skip].Content != sentinel {
			t.Errorf("Lou's %s reached WeChat: %s", what, sentDump(sent[skip:]))
		}
	}

	// The relay sends Lou's messages; it does not let him run Rosa's WeChat group. The
	// room lets every member rename it and invite (WeChat lets every member do both).
	group := func(t *testing.T) wxsim.GroupInfo {
		t.Helper()
		g, err := a.ctl.Group(ctx, rosa, choir)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	run(t, "rename_is_refused", func(t *testing.T) {
		from := lou.Mark()
		resp, err := lou.Client.SendStateEvent(ctx, room, event.StateRoomName, "", &event.RoomNameEventContent{Name: "Lou's choir"})
		if err != nil {
			t.Fatal(err)
		}
		n := lou.Must(ctx, waitEvent, from, "a notice refusing Lou's rename", harness.And(harness.InRoom(room), failureNoticeFor(resp.EventID)))
		t.Logf("Lou's rename: %q", n.Body())
		if !strings.Contains(n.Body(), "relay") || !strings.Contains(n.Body(), "log in") {
			t.Errorf("the notice %q does not say that the relay does not rename groups", n.Body())
		}
		lou.Must(ctx, waitEvent, from, "the room's name back to WeChat's", harness.And(harness.InRoom(room), func(s *harness.Seen) bool {
			return s.Evt.Type == event.StateRoomName && s.Str("name") == "Choir" && s.Evt.Sender == a.bot
		}))
		if g := group(t); g.Name != "Choir" {
			t.Errorf("Lou renamed the WeChat group to %q through the relay", g.Name)
		}
	}, u, lou)

	run(t, "invite_is_refused", func(t *testing.T) {
		from := lou.Mark()
		if _, err := lou.Client.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: a.ghost(vera)}); err != nil {
			t.Fatal(err)
		}
		// Lou has the bridge's "relay" permission only: bridgev2 has the ghost turn down
		// the invite with the reason. (A user-level user without a login gets the
		// connector's refusal instead: bridge/handlematrix_test.go.)
		rej := lou.Must(ctx, waitEvent, from, "Vera's ghost turning Lou's invite down", harness.And(harness.InRoom(room), harness.MemberEvent(a.ghost(vera), "leave")))
		t.Logf("Lou's invite: %s left: %q", a.ghost(vera), rej.Str("reason"))
		if !strings.Contains(rej.Str("reason"), "permission") {
			t.Errorf("the invite was turned down without a reason: %v", rej.Evt.Content.Raw)
		}
		if g := group(t); slices.Contains(g.Members, vera) {
			t.Errorf("Lou added Vera to the WeChat group through the relay: %v", g.Members)
		}
	}, u, lou)

	run(t, "reaction_is_answered", func(t *testing.T) {
		skip := a.sentLen(t, rosa)
		from := lou.Mark()
		resp, err := lou.Client.SendReaction(ctx, room, timMsg.Evt.ID, "👍")
		if err != nil {
			t.Fatal(err)
		}
		n := lou.Must(ctx, waitEvent, from, "a notice answering Lou's reaction", harness.And(harness.InRoom(room), failureNoticeFor(resp.EventID)))
		t.Logf("Lou's reaction: %q", n.Body())
		if !strings.Contains(n.Body(), "reaction") || !strings.Contains(n.Body(), "WeChat") {
			t.Errorf("the notice %q does not say why the reaction did not reach WeChat", n.Body())
		}
		unbridged(t, skip, "reaction")
	}, u, lou)

	run(t, "edit_is_answered", func(t *testing.T) {
		if louText == "" {
			t.Skip("no relayed text to edit")
		}
		skip := a.sentLen(t, rosa)
		from := lou.Mark()
		c := &event.MessageEventContent{MsgType: event.MsgText, Body: "* Hi all, Lou here (edited)",
			NewContent: &event.MessageEventContent{MsgType: event.MsgText, Body: "Hi all, Lou here (edited)"}}
		c.RelatesTo = (&event.RelatesTo{}).SetReplace(louText)
		evID, _ := sendContent(t, lou, room, event.EventMessage, c)
		st := lou.Must(ctx, waitEvent, from, "the edit's status", harness.And(harness.InRoom(room), statusFor(evID)))
		t.Logf("Lou's edit: status %s %q", st.Str("status"), st.Str("message"))
		if st.Str("status") == "SUCCESS" || !strings.Contains(st.Str("message"), "edit") {
			t.Errorf("the relayed edit's status does not say edits are not bridged: %v", st.Evt.Content.Raw)
		}
		unbridged(t, skip, "edit")
	}, u, lou)

	run(t, "redaction_recalls_own_message", func(t *testing.T) {
		body := "wrong room, sorry"
		evID, s := relayed(t, "text to recall", event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body}, content(louName+": "+body))
		red, err := lou.Client.RedactEvent(ctx, room, evID)
		if err != nil {
			t.Fatal(err)
		}
		recalled := func() bool {
			rev, err := a.ctl.Revoked(ctx, rosa)
			return err == nil && slices.ContainsFunc(rev, func(r wxsim.RevokeRecord) bool { return r.MsgID == s.MsgID && r.Ret == 0 })
		}
		a.skipIfNotPushed(t, red.EventID, 15*time.Second, recalled)
		pollUntil(t, "wxsim /revoked to have Lou's message", func() (bool, string) { return recalled(), "" })
	}, u, lou)

	run(t, "unset_relay_refuses", func(t *testing.T) {
		bot(t, "!wx unset-relay", "Stopped relaying")
		skip := a.sentLen(t, rosa)
		from := lou.Mark()
		evID, _ := sendContent(t, lou, room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: "Is this still going through?"})
		n := lou.Must(ctx, waitEvent, from, "a notice that Lou's message was not bridged", harness.And(harness.InRoom(room), failureNoticeFor(evID)))
		t.Logf("Lou without relay: %q", n.Body())
		if !strings.Contains(n.Body(), "not logged in") {
			t.Errorf("the notice %q does not say Lou needs a login (or a relay)", n.Body())
		}
		st := lou.Must(ctx, waitEvent, from, "the refused message's status", harness.And(harness.InRoom(room), statusFor(evID)))
		if st.Str("status") == "SUCCESS" {
			t.Errorf("the message sent without a relay got status SUCCESS: %v", st.Evt.Content.Raw)
		}
		unbridged(t, skip, "message without a relay")
	}, u, lou)
}
