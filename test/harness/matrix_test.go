package harness

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// What a scripted user makes of /sync answers, without a homeserver: the answers are
// decoded from JSON the way the client decodes them, and handed to the log.

const me = id.UserID("@me:hs")

func answer(t *testing.T, js string) *mautrix.RespSync {
	t.Helper()
	var resp mautrix.RespSync
	if err := json.Unmarshal([]byte(js), &resp); err != nil {
		t.Fatal(err)
	}
	return &resp
}

func newUser(opts Options) *MatrixUser {
	return newMatrixUser(&mautrix.Client{UserID: me}, opts)
}

// An invite (stripped state, no event IDs), a joined room's state and timeline.
const firstAnswer = `{"next_batch": "s1", "rooms": {
	"invite": {"!dm:hs": {"invite_state": {"events": [
		{"type": "m.room.member", "state_key": "@me:hs", "sender": "@bot:hs", "content": {"membership": "invite"}}
	]}}},
	"join": {"!chat:hs": {
		"state": {"events": [
			{"type": "m.room.name", "state_key": "", "sender": "@bot:hs", "event_id": "$name", "content": {"name": "Chat"}}
		]},
		"timeline": {"events": [
			{"type": "m.room.message", "sender": "@ghost:hs", "event_id": "$hello", "content": {"msgtype": "m.text", "body": "hello"}},
			{"type": "m.room.message", "sender": "@ghost:hs", "event_id": "$edit", "content": {"msgtype": "m.text", "body": "* hi",
				"m.new_content": {"msgtype": "m.text", "body": "hi"}, "m.relates_to": {"rel_type": "m.replace", "event_id": "$hello"}}},
			{"type": "m.room.message", "sender": "@bot:hs", "event_id": "$notice", "content": {"msgtype": "m.notice", "body": "not bridged",
				"m.relates_to": {"m.in_reply_to": {"event_id": "$hello"}}}}
		]}
	}}
}}`

// The same invite again, an event of the first answer again, a second copy of "hello",
// the user's join of the invited room, and a timeline cut off by the limit.
const secondAnswer = `{"next_batch": "s2", "rooms": {
	"invite": {"!dm:hs": {"invite_state": {"events": [
		{"type": "m.room.member", "state_key": "@me:hs", "sender": "@bot:hs", "content": {"membership": "invite"}}
	]}}},
	"join": {
		"!chat:hs": {"timeline": {"events": [
			{"type": "m.room.message", "sender": "@bot:hs", "event_id": "$notice", "content": {"msgtype": "m.notice", "body": "not bridged",
				"m.relates_to": {"m.in_reply_to": {"event_id": "$hello"}}}},
			{"type": "m.room.message", "sender": "@ghost:hs", "event_id": "$hello2", "content": {"msgtype": "m.text", "body": "hello"}}
		]}},
		"!dm:hs": {"timeline": {"events": [
			{"type": "m.room.member", "state_key": "@me:hs", "sender": "@me:hs", "event_id": "$join", "content": {"membership": "join"}}
		]}},
		"!busy:hs": {"timeline": {"limited": true, "events": [
			{"type": "m.room.message", "sender": "@a:hs", "event_id": "$b1", "content": {"msgtype": "m.text", "body": "b1"}},
			{"type": "m.room.message", "sender": "@a:hs", "event_id": "$b2", "content": {"msgtype": "m.text", "body": "b2"}},
			{"type": "m.room.message", "sender": "@a:hs", "event_id": "$b3", "content": {"msgtype": "m.text", "body": "b3"}}
		]}}
	}
}}`

// Each event is in the log once, in the order the answers brought it, with the room, the
// section and the time of the answer; repeats (an invite's stripped state has no event ID)
// are not logged again.
func TestLogOfSyncAnswers(t *testing.T) {
	u := newUser(Options{TimelineLimit: 3})
	t1 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if w := u.record(answer(t, firstAnswer), t1); len(w) != 0 {
		t.Errorf("warnings for a complete answer: %v", w)
	}
	mark := u.Mark()
	if mark != 5 {
		t.Fatalf("after the first answer the log has %d events, want 5:\n%s", mark, u.Dump(0))
	}
	inv := u.Find(0, func(s *Seen) bool { return s.IsInviteFor(me) })
	if inv == nil || inv.Room != "!dm:hs" || inv.Section != "invite" || !inv.At.Equal(t1) {
		t.Fatalf("the invite: %v", inv)
	}
	if got := u.takeInvites(); len(got) != 1 || got[0] != "!dm:hs" {
		t.Errorf("invites to join = %v, want [!dm:hs]", got)
	}
	if got := u.takeInvites(); len(got) != 0 {
		t.Errorf("the invite is to be joined again: %v", got)
	}

	t2 := t1.Add(time.Second)
	warns := u.record(answer(t, secondAnswer), t2)
	if len(warns) != 1 || !strings.Contains(warns[0], "!busy:hs") {
		t.Errorf("warnings = %q, want one about the limited timeline of !busy:hs", warns)
	}
	evs := u.Events(0)
	if len(evs) != 10 {
		t.Fatalf("after the second answer the log has %d events, want 10:\n%s", len(evs), u.Dump(0))
	}
	for i, s := range evs {
		if s.Idx != i {
			t.Errorf("event %d has Idx %d", i, s.Idx)
		}
		want := t1
		if i >= mark {
			want = t2
		}
		if !s.At.Equal(want) {
			t.Errorf("%s: arrived at %s, want %s", s, s.At, want)
		}
		if s.Evt.RoomID != s.Room {
			t.Errorf("%s: the event's room is %s", s, s.Evt.RoomID)
		}
	}
	if got := u.All(mark, func(s *Seen) bool { return s.Evt.ID == "$notice" }); len(got) != 0 {
		t.Errorf("the notice is logged again: %v", got)
	}
	if !u.Joined("!dm:hs") || !u.Joined("!chat:hs") || u.Joined("!other:hs") {
		t.Error("Joined does not follow the join section")
	}

	// The first "hello" is the one that counts for its arrival; edits are no message of
	// their own.
	if s := u.FirstMessage("hello"); s == nil || s.Evt.ID != "$hello" {
		t.Errorf("FirstMessage(hello) = %v, want $hello", s)
	}
	if s := u.FirstMessage("* hi"); s != nil {
		t.Errorf("an edit counts as a message: %v", s)
	}
	if c := u.BodyCounts("!chat:hs"); c["hello"] != 2 || c["not bridged"] != 1 || len(c) != 2 {
		t.Errorf("BodyCounts = %v", c)
	}
	if s := u.Find(mark, MessageWithBody("hello")); s == nil || s.Evt.ID != "$hello2" {
		t.Errorf("Find from the mark = %v, want the second copy", s)
	}
	if s := u.Find(0, And(InRoom("!dm:hs"), MemberEvent(me, "join"))); s == nil || s.Section != "join" {
		t.Errorf("the user's join: %v", s)
	}
	if dump := u.Dump(0); !strings.Contains(dump, `"* hi" (edit)`) || !strings.Contains(dump, `name="Chat"`) {
		t.Errorf("Dump:\n%s", dump)
	}
	if dump := u.Dump(u.Mark()); dump != "  (none)\n" {
		t.Errorf("Dump of nothing: %q", dump)
	}
}

func TestSeenAccessors(t *testing.T) {
	u := newUser(Options{})
	u.record(answer(t, `{"rooms": {"join": {"!r:hs": {"timeline": {"events": [
		{"type": "m.room.message", "sender": "@bot:hs", "event_id": "$n", "content": {"msgtype": "m.notice", "body": "hi @me",
			"m.mentions": {"user_ids": ["@me:hs"]}, "m.relates_to": {"m.in_reply_to": {"event_id": "$x"}}}},
		{"type": "m.room.message", "sender": "@bot:hs", "event_id": "$img", "content": {"msgtype": "m.image", "body": "a.png",
			"info": {"mimetype": "image/png", "size": 3}}},
		{"type": "m.room.redaction", "sender": "@bot:hs", "event_id": "$r10", "redacts": "$x", "content": {}},
		{"type": "m.room.redaction", "sender": "@bot:hs", "event_id": "$r11", "content": {"redacts": "$y"}},
		{"type": "m.room.member", "state_key": "@g:hs", "sender": "@g:hs", "event_id": "$m", "content": {"membership": "join", "displayname": "G"}}
	]}}}}}`), time.Now())
	evs := u.Events(0)
	n, img, r10, r11, m := evs[0], evs[1], evs[2], evs[3], evs[4]
	if n.ReplyTo() != "$x" || n.MsgType() != "m.notice" || n.IsEdit() || !n.IsMessage() {
		t.Errorf("notice: reply to %q, msgtype %q, edit %v", n.ReplyTo(), n.MsgType(), n.IsEdit())
	}
	if got := n.MentionedUsers(); len(got) != 1 || got[0] != me {
		t.Errorf("mentions %v", got)
	}
	if img.Info()["mimetype"] != "image/png" || n.Info() != nil {
		t.Errorf("info %v / %v", img.Info(), n.Info())
	}
	if r10.Redacts() != "$x" || r11.Redacts() != "$y" || n.Redacts() != "" {
		t.Errorf("redacts %q %q %q", r10.Redacts(), r11.Redacts(), n.Redacts())
	}
	if m.Membership() != "join" || n.Membership() != "" || m.IsMessage() || m.IsInviteFor("@g:hs") {
		t.Errorf("member event: membership %q", m.Membership())
	}
	if s := m.String(); !strings.Contains(s, `state_key="@g:hs"`) || !strings.Contains(s, `displayname="G"`) || !strings.HasPrefix(s, "#4 ") {
		t.Errorf("String() = %s", s)
	}
	if !And()(n) || And(FromSender("@bot:hs"), InRoom("!other:hs"))(n) || !And(FromSender("@bot:hs"), InRoom("!r:hs"))(n) {
		t.Error("And")
	}
}

// A wait returns as soon as an answer brings what it waits for; its error after the time
// is up lists what did come.
func TestWaitForAnswers(t *testing.T) {
	u := newUser(Options{})
	u.background = true // answers come from elsewhere: here, the test
	ctx := t.Context()

	got := make(chan *Seen, 1)
	go func() {
		s, err := u.WaitFor(ctx, time.Minute, 0, "hello", MessageWithBody("hello"))
		if err != nil {
			t.Error(err)
		}
		got <- s
	}()
	u.record(answer(t, `{"rooms": {"join": {"!r:hs": {"timeline": {"events": [
		{"type": "m.room.message", "sender": "@a:hs", "event_id": "$1", "content": {"msgtype": "m.text", "body": "other"}}
	]}}}}}`), time.Now())
	u.record(answer(t, `{"rooms": {"join": {"!r:hs": {"timeline": {"events": [
		{"type": "m.room.message", "sender": "@a:hs", "event_id": "$2", "content": {"msgtype": "m.text", "body": "hello"}}
	]}}}}}`), time.Now())
	select {
	case s := <-got:
		if s == nil || s.Evt.ID != "$2" {
			t.Fatalf("WaitFor = %v", s)
		}
	case <-time.After(waitPoll / 2): // only the answer waking the wait is this quick
		t.Fatal("WaitFor did not return after the answer it waits for")
	}

	_, err := u.WaitFor(ctx, 10*time.Millisecond, 0, "nothing", func(*Seen) bool { return false })
	if err == nil || !strings.Contains(err.Error(), "timed out after 10ms waiting for nothing") || !strings.Contains(err.Error(), `"other"`) {
		t.Errorf("WaitFor error: %v", err)
	}
	err = u.WaitBodies(ctx, 10*time.Millisecond, []string{"hello", "missing"})
	if err == nil || !strings.Contains(err.Error(), "1 of 2 messages never reached @me:hs") {
		t.Errorf("WaitBodies error: %v", err)
	}
	if err := u.WaitBodies(ctx, 0, []string{"hello", "other"}); err != nil {
		t.Errorf("WaitBodies with everything there: %v", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := u.WaitFor(cctx, time.Minute, 0, "nothing", func(*Seen) bool { return false }); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("WaitFor with its context ended: %v", err)
	}
}
