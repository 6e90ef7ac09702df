//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
	prov "wxbridge/test/provision"
)

// Timeouts for one awaited event. Dendrite sometimes holds a transaction for seconds, and
// a new portal needs a room, invites and profile updates first.
const (
	waitEvent  = 45 * time.Second
	waitPortal = 60 * time.Second
	waitLogin  = 60 * time.Second
	waitSent   = 30 * time.Second
)

const qrPrefix = prov.QRPrefix

// The WeChat world of the afternoon.
const (
	aliceWx = "wxid_alice"
	beaWx   = "wxid_bea"
	bobWx   = "wxid_bob"
	carolWx = "wxid_carol"
	doraWx  = "wxid_dora"
	groupID = "12345@chatroom"

	groupName   = "Family"
	bobRemark   = "Bobby (work)" // Alice's private remark name for Bob: must never name the shared ghost
	matrixPass  = "correct horse battery staple"
	loginMarker = "Successfully logged in"
)

type delay struct {
	dir, what string
	d         time.Duration
}

// afternoon is the state shared by the steps of TestAfternoon, in order.
type afternoon struct {
	e   *env
	ctl *wxsim.Control
	bot id.UserID

	alice, bea *harness.MatrixUser
	aliceDM    id.RoomID
	beaDM      id.RoomID
	aliceUUID  string

	bobRoom   id.RoomID // Alice's DM portal with Bob
	groupRoom id.RoomID // Alice's portal of the group
	bobGhost  id.UserID
	sentReply string // Alice's answer to Bob (step 3)

	delays []delay
}

func (a *afternoon) ghost(wxid string) id.UserID {
	return id.NewUserID("wechat_"+id.EncodeUserLocalpart(wxid), a.e.server)
}

func (a *afternoon) bind(t *testing.T) {
	for _, u := range []*harness.MatrixUser{a.alice, a.bea} {
		if u != nil {
			u.Bind(t)
		}
	}
}

func (a *afternoon) note(t *testing.T, dir, what string, d time.Duration) {
	t.Helper()
	a.delays = append(a.delays, delay{dir, what, d})
	t.Logf("delay %s %-44q %7.0f ms", dir, what, float64(d.Microseconds())/1000)
}

func TestAfternoon(t *testing.T) {
	e := loadEnv(t)
	a := &afternoon{
		e:   e,
		ctl: &wxsim.Control{BaseURL: e.wxsimURL},
		bot: id.NewUserID("wechatbot", e.server),
	}
	steps := []struct {
		name     string
		fn       func(*testing.T)
		required bool // later steps make no sense without it
	}{
		{"1_login_with_QR", a.step1Login, true},
		{"2_contact_writes", a.step2ContactWrites, false},
		{"3_user_answers", a.step3UserAnswers, false},
		{"4_group_writes", a.step4Group, false},
		{"5_from_phone", a.step5FromPhone, false},
		{"6_bridge_restart", a.step6Restart, false},
		{"7_second_user", a.step7SecondUser, false},
	}
	for _, s := range steps {
		ok := t.Run(s.name, func(t *testing.T) {
			a.bind(t)
			s.fn(t)
		})
		if !ok && s.required {
			t.Fatalf("step %s failed; the later steps need it (bridge log: %s)", s.name, e.bridgeLog)
		}
	}
	var b strings.Builder
	b.WriteString("delays observed (W→M: wxsim call to the event in /sync; M→W: Matrix send to the entry in wxsim /sent):\n")
	for _, d := range a.delays {
		fmt.Fprintf(&b, "  %s  %-46q %7.0f ms\n", d.dir, d.what, float64(d.d.Microseconds())/1000)
	}
	t.Log(b.String())
	if t.Failed() {
		t.Logf("bridge log: %s (stdout: %s)", e.bridgeLog, e.bridge.Stdout)
	}
}

// --- shared actions -------------------------------------------------------------------

// openBotDM creates a DM with the bridge bot, as Element's "start chat" does, and waits
// until the bot has joined.
func (a *afternoon) openBotDM(t *testing.T, u *harness.MatrixUser) id.RoomID {
	t.Helper()
	ctx := t.Context()
	from := u.Mark()
	dm, err := u.CreateDM(ctx, a.bot, "")
	if err != nil {
		t.Fatal(err)
	}
	u.Must(ctx, waitEvent, from, "the bridge bot to join the DM", harness.And(harness.InRoom(dm), harness.MemberEvent(a.bot, "join")))
	// bridgev2 marks the room as the management room after the join and before its welcome
	// message: whoever asks the bridge about it next must not beat that.
	u.Must(ctx, waitEvent, from, "the bot's welcome in the DM", harness.And(harness.InRoom(dm), harness.FromSender(a.bot),
		func(s *harness.Seen) bool { return s.IsMessage() && strings.HasPrefix(s.Body(), "Hello, I'm a") }))
	return dm
}

// loginWithQR sends "login" in the bot DM, takes the QR code image, scans and confirms it
// with the phone of wxid (wxsim control API) and waits for the bot's confirmation. With
// expireFirst, the first QR code expires before the scan: the bot must replace the image in
// place (an m.replace edit carrying the new QR data), and the phone scans the new one.
func (a *afternoon) loginWithQR(t *testing.T, u *harness.MatrixUser, dm id.RoomID, wxid string, expireFirst bool) string {
	t.Helper()
	ctx := t.Context()
	fromBot := harness.And(harness.InRoom(dm), harness.FromSender(a.bot), func(s *harness.Seen) bool { return s.IsMessage() })

	from := u.Mark()
	start := from // this login's events (a user may log in again later)
	t0 := time.Now()
	if _, err := u.Client.SendText(ctx, dm, "login"); err != nil {
		t.Fatalf("send login: %v", err)
	}
	qr := u.Must(ctx, waitLogin, from, "the QR code image from the bot", harness.And(fromBot, func(s *harness.Seen) bool {
		return !s.IsEdit() && s.MsgType() == string(event.MsgImage)
	}))
	a.note(t, "M→M", "login → QR image", qr.At.Sub(t0))
	body := qr.Body()
	if !strings.HasPrefix(body, qrPrefix) || len(body) == len(qrPrefix) {
		t.Fatalf("QR image body = %q, want the QR data %s<uuid>", body, qrPrefix)
	}
	if url := qr.Str("url"); !strings.HasPrefix(url, "mxc://") {
		t.Errorf("QR image has no mxc:// url (url=%q)", url)
	}
	uuid := strings.TrimPrefix(body, qrPrefix)
	logins, err := a.ctl.Logins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range logins {
		if l.UUID == uuid {
			found = true
			if l.State != "waiting" {
				t.Fatalf("wxsim login %s is %q, want waiting", uuid, l.State)
			}
		}
	}
	if !found {
		t.Fatalf("the QR body's uuid %q is not a login wxsim knows: %+v", uuid, logins)
	}

	if expireFirst {
		from = u.Mark()
		t0 = time.Now()
		if err := a.ctl.Expire(ctx, uuid); err != nil {
			t.Fatalf("expire %s: %v", uuid, err)
		}
		edit := u.Must(ctx, waitLogin, from, "the bot to replace the expired QR code in place", harness.And(fromBot, func(s *harness.Seen) bool {
			rel, _ := s.Evt.Content.Raw["m.relates_to"].(map[string]any)
			return s.IsEdit() && rel["event_id"] == string(qr.Evt.ID)
		}))
		a.note(t, "W→M", "QR expired → edited in place", edit.At.Sub(t0))
		nc, _ := edit.Evt.Content.Raw["m.new_content"].(map[string]any)
		newBody, _ := nc["body"].(string)
		if !strings.HasPrefix(newBody, qrPrefix) || strings.TrimPrefix(newBody, qrPrefix) == uuid {
			t.Fatalf("the edited QR code has body %q, want new QR data %s<uuid> (old uuid %s)", newBody, qrPrefix, uuid)
		}
		uuid = strings.TrimPrefix(newBody, qrPrefix)
		t.Logf("QR code refreshed in place: new uuid %s", uuid)
	}

	from = u.Mark()
	t0 = time.Now()
	if err := a.ctl.Scan(ctx, uuid, wxid); err != nil {
		t.Fatalf("scan: %v", err)
	}
	scanned := u.Must(ctx, waitLogin, from, "the bot to say the QR code was scanned (confirm on the phone)",
		harness.And(fromBot, func(s *harness.Seen) bool { return strings.Contains(strings.ToLower(s.Body()), "confirm") }))
	a.note(t, "W→M", "scan → \"confirm on phone\"", scanned.At.Sub(t0))
	t.Logf("bot after scan: %q", scanned.Body())

	from = u.Mark()
	t0 = time.Now()
	if err := a.ctl.Confirm(ctx, uuid); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	ok := u.Must(ctx, waitLogin, from, "the bot to confirm the login",
		harness.And(fromBot, func(s *harness.Seen) bool { return strings.Contains(s.Body(), loginMarker) }))
	a.note(t, "W→M", "confirm → \"Successfully logged in\"", ok.At.Sub(t0))
	t.Logf("bot: %q", ok.Body())
	if n := len(u.All(start, harness.And(fromBot, func(s *harness.Seen) bool { return !s.IsEdit() && s.MsgType() == string(event.MsgImage) }))); n != 1 {
		t.Errorf("the bot sent %d QR images (not edits), want 1", n)
	}
	return uuid
}

// knownRooms lists the rooms in u's log before index from.
func knownRooms(u *harness.MatrixUser, from int) map[id.RoomID]bool {
	out := map[id.RoomID]bool{}
	for _, s := range u.Events(0)[:from] {
		out[s.Room] = true
	}
	return out
}

// awaitNewPortal waits for the first message of a new portal. Like a person in Element, the
// user accepts every invite that arrives meanwhile (the portal's, and the bridge's personal
// filtering space); with double puppeting the portal may also appear already joined. It
// returns the message event.
func (a *afternoon) awaitNewPortal(t *testing.T, u *harness.MatrixUser, from int, body string) *harness.Seen {
	t.Helper()
	ctx := t.Context()
	known := knownRooms(u, from)
	joined := map[id.RoomID]bool{}
	deadline := time.Now().Add(waitPortal)
	for {
		ev := u.Must(ctx, time.Until(deadline), from, fmt.Sprintf("the message %q in a new portal", body),
			func(s *harness.Seen) bool {
				if known[s.Room] {
					return false
				}
				invite := s.Section == "invite" && harness.MemberEvent(u.ID(), "invite")(s) && !joined[s.Room]
				return invite || harness.MessageWithBody(body)(s)
			})
		if ev.Section != "invite" {
			if inv := u.Find(from, harness.And(harness.InRoom(ev.Room), harness.MemberEvent(u.ID(), "invite"))); inv == nil {
				t.Logf("%s: portal %s appeared already joined", u.ID(), ev.Room)
			} else if !joined[ev.Room] {
				t.Logf("%s: invited to portal %s by %s and joined by double puppeting", u.ID(), ev.Room, inv.Evt.Sender)
			}
			return ev
		}
		joined[ev.Room] = true
		t.Logf("%s: invited to %s by %s (+%s); joining", u.ID(), ev.Room, ev.Evt.Sender, time.Since(deadline.Add(-waitPortal)).Round(time.Millisecond))
		if _, err := u.Client.JoinRoomByID(ctx, ev.Room); err != nil {
			// With double puppeting the bridge has joined the user already; Dendrite then
			// sometimes refuses the second join as if the user had left ("join rule invite
			// forbids it"). What counts is that the user is in the room.
			var m event.MemberEventContent
			if serr := u.Client.StateEvent(ctx, ev.Room, event.StateMember, string(u.ID()), &m); serr != nil || m.Membership != event.MembershipJoin {
				t.Fatalf("join %s: %v (membership %q, %v)", ev.Room, err, m.Membership, serr)
			}
			t.Logf("%s: the join was refused, but double puppeting had joined %s already (%v)", u.ID(), ev.Room, err)
		}
	}
}

// incoming makes a contact write (wxsim control API) and returns when wxsim took it.
func (a *afternoon) incoming(t *testing.T, account string, m wxsim.WorldMessage) time.Time {
	t.Helper()
	t0 := time.Now()
	if _, err := a.ctl.Incoming(t.Context(), account, m); err != nil {
		t.Fatalf("wxsim incoming %+v: %v", m, err)
	}
	return t0
}

// expectMessageIn makes a contact write into a portal that exists and waits for it.
func (a *afternoon) expectMessageIn(t *testing.T, u *harness.MatrixUser, room id.RoomID, account string, m wxsim.WorldMessage, sender id.UserID) *harness.Seen {
	t.Helper()
	from := u.Mark()
	t0 := a.incoming(t, account, m)
	ev := u.Must(t.Context(), waitEvent, from, fmt.Sprintf("%q in %s", m.Content, room), harness.And(harness.InRoom(room), harness.MessageWithBody(m.Content)))
	a.note(t, "W→M", m.Content, ev.At.Sub(t0))
	if ev.Evt.Sender != sender {
		t.Errorf("%q was sent by %s, want %s", m.Content, ev.Evt.Sender, sender)
	}
	return ev
}

// displayName returns the member's displayname in the room, as a client shows it.
func displayName(t *testing.T, u *harness.MatrixUser, room id.RoomID, user id.UserID) (string, bool) {
	t.Helper()
	members, err := u.Client.JoinedMembers(t.Context(), room)
	if err != nil {
		t.Fatalf("joined members of %s: %v", room, err)
	}
	m, ok := members.Joined[user]
	if !ok {
		return "", false
	}
	return m.DisplayName, true
}

func roomName(ctx context.Context, u *harness.MatrixUser, room id.RoomID) string {
	var c event.RoomNameEventContent
	if err := u.Client.StateEvent(ctx, room, event.StateRoomName, "", &c); err != nil {
		return ""
	}
	return c.Name
}

// sendAndAwaitSent sends text into a portal and waits until wxsim's /sent of account has it.
func (a *afternoon) sendAndAwaitSent(t *testing.T, u *harness.MatrixUser, room id.RoomID, account, to, text string) {
	t.Helper()
	ctx := t.Context()
	t0 := time.Now()
	mark := u.Mark()
	resp, err := u.Client.SendText(ctx, room, text)
	if err != nil {
		t.Fatalf("send %q: %v", text, err)
	}
	m := a.awaitSent(t, account, 0, fmt.Sprintf("%q", text), func(m wxsim.SentMessage) bool { return m.Content == text })
	a.note(t, "M→W", text, time.Since(t0))
	if a.config(t).Matrix.MessageStatusEvents {
		// The bridge is done with the message once its status is in the room. A test
		// that kills the bridge next must not cut that request short: Dendrite's SQLite
		// writer was seen to stay broken after a write request was cancelled halfway.
		u.Must(ctx, waitEvent, mark, fmt.Sprintf("the status of %q", text), harness.And(harness.InRoom(room), statusFor(resp.EventID)))
	}
	if m.To != to {
		t.Errorf("%q went to %q, want %q", text, m.To, to)
	}
	if m.Type != 1 {
		t.Errorf("%q was sent as type %d, want 1 (text)", text, m.Type)
	}
}

// sentCount counts what account sent with exactly this text.
func (a *afternoon) sentCount(t *testing.T, account, text string) (n int, all []wxsim.SentMessage) {
	t.Helper()
	sent, err := a.ctl.Sent(t.Context(), account)
	if err != nil {
		t.Fatalf("wxsim sent: %v", err)
	}
	for _, m := range sent {
		if m.Content == text {
			n++
		}
	}
	return n, sent
}

// --- the steps ------------------------------------------------------------------------

// Step 1: Alice registers, opens a DM with the bot, sends "login", gets the QR image,
// scans and confirms it on her phone (wxsim), and the bot confirms.
func (a *afternoon) step1Login(t *testing.T) {
	ctx := t.Context()
	if _, err := a.ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: aliceWx, Nickname: "Alice", Uin: 1001, Host: "wx2.qq.com"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []wxsim.ContactSpec{
		{Wxid: bobWx, Nickname: new("Bob"), RemarkName: new(bobRemark)},
		{Wxid: carolWx, Nickname: new("Carol")},
	} {
		if _, err := a.ctl.AddContact(ctx, aliceWx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.ctl.CreateGroup(ctx, aliceWx, wxsim.GroupSpec{ID: groupID, Name: groupName, Members: []string{bobWx, carolWx}}); err != nil {
		t.Fatal(err)
	}

	a.alice = registerUser(ctx, t, a.e.hsURL, "alice", matrixPass)
	t.Logf("registered %s", a.alice.ID())
	a.aliceDM = a.openBotDM(t, a.alice)
	a.aliceUUID = a.loginWithQR(t, a.alice, a.aliceDM, aliceWx, false)
	acct, err := a.ctl.Account(ctx, aliceWx)
	if err != nil {
		t.Fatal(err)
	}
	if !acct.LoggedIn {
		t.Errorf("wxsim says %s is not logged in after the bot confirmed: %+v", aliceWx, acct)
	}
}

// Step 2: Bob writes; a portal invite arrives, the message is there from a ghost named
// after Bob's own nickname, and the emoji span is Unicode.
func (a *afternoon) step2ContactWrites(t *testing.T) {
	u := a.alice
	text := "Hi Alice 😄 are you free this afternoon?"
	from := u.Mark()
	t0 := a.incoming(t, aliceWx, wxsim.WorldMessage{From: bobWx, Type: 1, Content: text})
	msg := a.awaitNewPortal(t, u, from, text)
	a.note(t, "W→M", text+" (new portal)", msg.At.Sub(t0))
	a.bobRoom = msg.Room

	if strings.Contains(msg.Body(), "<span") || strings.Contains(msg.Str("formatted_body"), "emoji1f604") {
		t.Errorf("emoji not converted: body=%q formatted_body=%q", msg.Body(), msg.Str("formatted_body"))
	}
	a.bobGhost = msg.Evt.Sender
	if want := a.ghost(bobWx); msg.Evt.Sender != want {
		t.Errorf("Bob's message is from %s, want the ghost %s (stable id %s)", msg.Evt.Sender, want, bobWx)
	}
	name, ok := displayName(t, u, msg.Room, msg.Evt.Sender)
	switch {
	case !ok:
		t.Errorf("sender %s is not a joined member of %s", msg.Evt.Sender, msg.Room)
	case name == bobRemark:
		t.Errorf("the shared ghost %s carries Alice's private remark name %q", msg.Evt.Sender, name)
	case name != "Bob":
		t.Errorf("ghost %s is named %q, want Bob's nickname %q", msg.Evt.Sender, name, "Bob")
	}
	if profile, err := u.Client.GetDisplayName(t.Context(), msg.Evt.Sender); err != nil {
		t.Errorf("profile of %s: %v", msg.Evt.Sender, err)
	} else if profile.DisplayName != "Bob" {
		t.Errorf("global profile of %s is named %q, want %q", msg.Evt.Sender, profile.DisplayName, "Bob")
	}
	t.Logf("portal %s (name %q), ghost %s", msg.Room, roomName(t.Context(), u, msg.Room), msg.Evt.Sender)
}

// Step 3: Alice answers in the portal; wxsim /sent has exactly that text to Bob, once.
func (a *afternoon) step3UserAnswers(t *testing.T) {
	if a.bobRoom == "" {
		t.Skip("no portal with Bob (step 2 failed)")
	}
	a.sentReply = "Yes! 👍 See you at the café at 3"
	a.sendAndAwaitSent(t, a.alice, a.bobRoom, aliceWx, bobWx, a.sentReply)
	if n, sent := a.sentCount(t, aliceWx, a.sentReply); n != 1 {
		t.Errorf("wxsim /sent has %q %d times, want once: %+v", a.sentReply, n, sent)
	}
}

// Step 4: the group of three (Alice, Bob, Carol) writes; one group room with the group's
// name and the right sender ghosts.
func (a *afternoon) step4Group(t *testing.T) {
	u := a.alice
	ctx := t.Context()
	bobText := "Dinner at 7 tonight?"
	from := u.Mark()
	t0 := a.incoming(t, aliceWx, wxsim.WorldMessage{From: bobWx, Chat: groupID, Type: 1, Content: bobText})
	msg := a.awaitNewPortal(t, u, from, bobText)
	a.note(t, "W→M", bobText+" (new group portal)", msg.At.Sub(t0))
	a.groupRoom = msg.Room
	if msg.Room == a.bobRoom {
		t.Fatalf("the group message landed in the DM portal with Bob (%s)", msg.Room)
	}
	if want := a.ghost(bobWx); msg.Evt.Sender != want {
		t.Errorf("Bob's group message is from %s, want %s", msg.Evt.Sender, want)
	}
	carolText := "Yes! 🎉 I'll bring dessert"
	a.expectMessageIn(t, u, a.groupRoom, aliceWx, wxsim.WorldMessage{From: carolWx, Chat: groupID, Type: 1, Content: carolText}, a.ghost(carolWx))

	if name := roomName(ctx, u, a.groupRoom); name != groupName {
		t.Errorf("group room name = %q, want %q", name, groupName)
	}
	members, err := u.Client.JoinedMembers(ctx, a.groupRoom)
	if err != nil {
		t.Fatal(err)
	}
	for wx, nick := range map[string]string{bobWx: "Bob", carolWx: "Carol"} {
		m, ok := members.Joined[a.ghost(wx)]
		if !ok {
			t.Errorf("%s (%s) is not a member of the group room", a.ghost(wx), wx)
			continue
		}
		if m.DisplayName != nick {
			t.Errorf("%s is named %q in the group room, want %q", a.ghost(wx), m.DisplayName, nick)
		}
	}
	if _, ok := members.Joined[u.ID()]; !ok {
		t.Errorf("%s is not joined to the group room", u.ID())
	}
	rooms, err := u.Client.JoinedRooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rooms.JoinedRooms {
		if roomName(ctx, u, r) == groupName {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d joined rooms are named %q, want exactly one", n, groupName)
	}
	if c := u.BodyCounts(a.bobRoom); c[bobText] != 0 || c[carolText] != 0 {
		t.Errorf("group messages leaked into the DM portal: %v", c)
	}
}

// Step 5: Alice writes from her phone; it shows in the portal as her own message (double
// puppeting through the second appservice registration).
func (a *afternoon) step5FromPhone(t *testing.T) {
	if a.bobRoom == "" {
		t.Skip("no portal with Bob (step 2 failed)")
	}
	u := a.alice
	text := "On my way 🚗 (sent from my phone)"
	from := u.Mark()
	t0 := time.Now()
	if _, err := a.ctl.FromPhone(t.Context(), aliceWx, wxsim.WorldMessage{To: bobWx, Type: 1, Content: text}); err != nil {
		t.Fatal(err)
	}
	ev := u.Must(t.Context(), waitEvent, from, fmt.Sprintf("%q in the portal with Bob", text), harness.And(harness.InRoom(a.bobRoom), harness.MessageWithBody(text)))
	a.note(t, "W→M", text, ev.At.Sub(t0))
	if ev.Evt.Sender != u.ID() {
		t.Errorf("the message from the phone was sent by %s, want the user's own %s", ev.Evt.Sender, u.ID())
	}
	if n, _ := a.sentCount(t, aliceWx, text); n != 0 {
		t.Errorf("the phone's message was sent back to WeChat %d times", n)
	}
}

// Step 6: the bridge is killed (-9) and started again: new messages arrive, no QR code,
// nothing twice.
func (a *afternoon) step6Restart(t *testing.T) {
	ctx := t.Context()
	u := a.alice
	loginsBefore, err := a.ctl.Logins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sentBefore, err := a.ctl.Sent(ctx, aliceWx)
	if err != nil {
		t.Fatal(err)
	}
	from := u.Mark()

	t0 := time.Now()
	pid := a.restartBridge(t)
	t.Logf("bridge killed and restarted (pid %d), ready after %s", pid, time.Since(t0).Round(time.Millisecond))

	var bobSeen, groupSeen bool
	if a.bobRoom != "" {
		a.expectMessageIn(t, u, a.bobRoom, aliceWx, wxsim.WorldMessage{From: bobWx, Type: 1, Content: "Are you still there? 🙂"}, a.ghost(bobWx))
		bobSeen = true
	}
	if a.groupRoom != "" {
		a.expectMessageIn(t, u, a.groupRoom, aliceWx, wxsim.WorldMessage{From: carolWx, Chat: groupID, Type: 1, Content: "Back online, see you all later"}, a.ghost(carolWx))
		groupSeen = true
	}
	if !bobSeen && !groupSeen {
		// No portal from the earlier steps: a new one must still arrive after the restart.
		text := "Anyone home after the restart?"
		f := u.Mark()
		t1 := a.incoming(t, aliceWx, wxsim.WorldMessage{From: bobWx, Type: 1, Content: text})
		msg := a.awaitNewPortal(t, u, f, text)
		a.note(t, "W→M", text, msg.At.Sub(t1))
	}
	// Sentinels: anything replayed from before the restart would come before these.
	if a.bobRoom != "" {
		a.expectMessageIn(t, u, a.bobRoom, aliceWx, wxsim.WorldMessage{From: bobWx, Type: 1, Content: "sentinel after restart (Bob)"}, a.ghost(bobWx))
	}
	if a.groupRoom != "" {
		a.expectMessageIn(t, u, a.groupRoom, aliceWx, wxsim.WorldMessage{From: bobWx, Chat: groupID, Type: 1, Content: "sentinel after restart (group)"}, a.ghost(bobWx))
	}

	// No QR: no new wxsim login, no new QR image, no new message from the bot at all.
	loginsAfter, err := a.ctl.Logins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(loginsAfter) != len(loginsBefore) {
		t.Errorf("the restart started a new WeChat login: before %+v, after %+v", loginsBefore, loginsAfter)
	}
	if qr := u.Find(from, harness.And(harness.InRoom(a.aliceDM), harness.FromSender(a.bot), func(s *harness.Seen) bool { return s.MsgType() == string(event.MsgImage) })); qr != nil {
		t.Errorf("the bot sent a QR code after the restart: %s", qr)
	}
	for _, s := range u.All(from, harness.And(harness.InRoom(a.aliceDM), harness.FromSender(a.bot), func(s *harness.Seen) bool { return s.IsMessage() })) {
		t.Logf("note: bot message after restart: %s", s)
	}
	if acct, err := a.ctl.Account(ctx, aliceWx); err != nil {
		t.Fatal(err)
	} else if !acct.LoggedIn {
		t.Errorf("%s is not logged in on wxsim after the restart: %+v", aliceWx, acct)
	}

	// Nothing twice: every message body appears once per room, and nothing was re-sent.
	for _, room := range []id.RoomID{a.bobRoom, a.groupRoom} {
		if room == "" {
			continue
		}
		for body, n := range u.BodyCounts(room) {
			if n != 1 {
				t.Errorf("%q appears %d times in %s", body, n, room)
			}
		}
	}
	sentAfter, err := a.ctl.Sent(ctx, aliceWx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sentAfter) != len(sentBefore) {
		t.Errorf("the restarted bridge sent to WeChat again: before %+v, after %+v", sentBefore, sentAfter)
	}
	if a.sentReply != "" {
		if n, sent := a.sentCount(t, aliceWx, a.sentReply); n != 1 {
			t.Errorf("wxsim /sent has %q %d times, want once: %+v", a.sentReply, n, sent)
		}
	}
}

// Step 7: a second Matrix user logs in with a second WeChat account; their chats stay apart.
func (a *afternoon) step7SecondUser(t *testing.T) {
	ctx := t.Context()
	if _, err := a.ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: beaWx, Nickname: "Bea", Uin: 1002}); err != nil {
		t.Fatal(err)
	}
	// Bob is a contact of both accounts (without Alice's remark); Dora only of Bea's.
	for _, c := range []wxsim.ContactSpec{{Wxid: bobWx, Nickname: new("Bob")}, {Wxid: doraWx, Nickname: new("Dora")}} {
		if _, err := a.ctl.AddContact(ctx, beaWx, c); err != nil {
			t.Fatal(err)
		}
	}
	a.bea = registerUser(ctx, t, a.e.hsURL, "bea", matrixPass)
	a.bea.Bind(t)
	u := a.bea
	a.beaDM = a.openBotDM(t, u)
	uuid := a.loginWithQR(t, u, a.beaDM, beaWx, true)
	if uuid == a.aliceUUID {
		t.Errorf("Bea got Alice's QR uuid %s", uuid)
	}

	bobText := "Hi Bea, it's Bob. Lunch tomorrow?"
	from := u.Mark()
	t0 := a.incoming(t, beaWx, wxsim.WorldMessage{From: bobWx, Type: 1, Content: bobText})
	bobMsg := a.awaitNewPortal(t, u, from, bobText)
	a.note(t, "W→M", bobText+" (Bea's new portal)", bobMsg.At.Sub(t0))
	beaBob := bobMsg.Room

	doraText := "Dora here 🌸 did you get my parcel?"
	from = u.Mark()
	t0 = a.incoming(t, beaWx, wxsim.WorldMessage{From: doraWx, Type: 1, Content: doraText})
	doraMsg := a.awaitNewPortal(t, u, from, doraText)
	a.note(t, "W→M", doraText+" (Bea's new portal)", doraMsg.At.Sub(t0))
	beaDora := doraMsg.Room

	if beaBob == a.bobRoom {
		t.Errorf("Bea's chat with Bob is Alice's portal %s", beaBob)
	}
	if beaBob == beaDora {
		t.Errorf("Bob's and Dora's messages to Bea share one room %s", beaBob)
	}
	if bobMsg.Evt.Sender != a.ghost(bobWx) {
		t.Errorf("Bob's message to Bea is from %s, want the shared ghost %s", bobMsg.Evt.Sender, a.ghost(bobWx))
	}
	if a.bobGhost != "" && bobMsg.Evt.Sender != a.bobGhost {
		t.Errorf("Bob has two ghosts: %s (Alice) and %s (Bea)", a.bobGhost, bobMsg.Evt.Sender)
	}
	if doraMsg.Evt.Sender != a.ghost(doraWx) {
		t.Errorf("Dora's message is from %s, want %s", doraMsg.Evt.Sender, a.ghost(doraWx))
	}
	if name, _ := displayName(t, u, beaBob, bobMsg.Evt.Sender); name != "Bob" {
		t.Errorf("in Bea's room Bob's ghost is named %q, want %q", name, "Bob")
	}

	// Bea answers Bob: it leaves from Bea's account, not Alice's.
	reply := "Sure Bob, lunch at noon"
	a.sendAndAwaitSent(t, u, beaBob, beaWx, bobWx, reply)
	if n, _ := a.sentCount(t, aliceWx, reply); n != 0 {
		t.Errorf("Bea's answer went out from Alice's account too (%d times)", n)
	}

	// Alice is in none of Bea's rooms.
	for _, room := range []id.RoomID{beaBob, beaDora} {
		members, err := u.Client.JoinedMembers(ctx, room)
		if err != nil {
			t.Fatal(err)
		}
		for m := range members.Joined {
			if m == a.alice.ID() {
				t.Errorf("Alice (%s) is a member of Bea's room %s", m, room)
			}
		}
	}
	// Bea's portals hold only what Bea's contacts wrote to her and what she wrote.
	allowed := map[string]bool{bobText: true, doraText: true, reply: true}
	for _, s := range u.All(0, func(s *harness.Seen) bool { return s.IsMessage() && s.Room != a.beaDM }) {
		if !allowed[s.Body()] {
			t.Errorf("a message that is not Bea's is in her room %s: %s", s.Room, s)
		}
	}
	// Alice's side: after a sentinel from Bob to Alice, nothing of Bea's reached her.
	if a.alice != nil && a.bobRoom != "" {
		a.alice.Bind(t)
		a.expectMessageIn(t, a.alice, a.bobRoom, aliceWx, wxsim.WorldMessage{From: bobWx, Type: 1, Content: "sentinel for Alice after Bea's chats"}, a.ghost(bobWx))
		for _, s := range a.alice.Events(0) {
			if s.Room == beaBob || s.Room == beaDora || s.Room == a.beaDM {
				t.Errorf("Alice saw an event of Bea's room: %s", s)
			}
			if s.IsMessage() && allowed[s.Body()] {
				t.Errorf("Alice saw Bea's message: %s", s)
			}
		}
	}
}
