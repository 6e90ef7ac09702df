package bridge

import (
	"errors"
	"strings"
	"testing"

	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/database"
	"maunium.net/go/mautrix/bridgev2/networkid"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/portal"
	"wxbridge/protoclient"
)

// Recalls and read markers go to WeChat. The end-to-end suite cannot prove them on
// Dendrite, which does not pass redactions and receipts to appservices, so they are
// tested here against wxsim with the connector's own code paths.
func TestRecallAndMarkRead(t *testing.T) {
	e := newSimEnv(t, nil)
	ctx, ctl, wx, c := e.ctx, e.ctl, e.wx, e.c
	c.dir.learn(map[protoclient.UserName]protoclient.WxID{e.userName("Bob"): "wxid_bob"})
	p := &bridgev2.Portal{Portal: &database.Portal{PortalKey: portal.MakePortalKey("wxid_bob", "1001")}}

	send := func(text string) *database.Message {
		id := protoclient.NewClientMsgID()
		r, err := wx.SendText(ctx, c.dir.userName("wxid_bob"), text, id)
		if err != nil {
			t.Fatal(err)
		}
		return &database.Message{ID: portal.MakeMessageID(r.MsgID), SenderID: c.selfID(), Metadata: &MessageMetadata{ClientMsgID: id}}
	}
	remove := func(target *database.Message) error {
		return c.HandleMatrixMessageRemove(ctx, &bridgev2.MatrixMessageRemove{
			MatrixEventBase: bridgev2.MatrixEventBase[*event.RedactionEventContent]{Portal: p},
			TargetMessage:   target,
		})
	}

	first := send("recall me")
	if err := remove(first); err != nil {
		t.Fatalf("recall inside the window: %v", err)
	}
	if _, err := ctl.Settings(ctx, map[string]any{"revoke_window_s": 0}); err != nil {
		t.Fatal(err)
	}
	late := send("too late")
	err := remove(late)
	var ms bridgev2.MessageStatus
	if !errors.As(err, &ms) || !strings.Contains(err.Error(), "2 minutes") {
		t.Fatalf("recall outside the window: %v, want a status with the 2-minute reason", err)
	}
	// Someone else's message cannot be recalled.
	err = remove(&database.Message{ID: "123", SenderID: networkid.UserID("wxid_bob"), Metadata: &MessageMetadata{}})
	if err == nil || !strings.Contains(err.Error(), "only messages you sent") {
		t.Fatalf("recalling Bob's message: %v", err)
	}
	revoked, err := ctl.Revoked(ctx, "wxid_alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(revoked) != 2 || revoked[0].Ret != 0 || revoked[1].Ret != -1 {
		t.Fatalf("wxsim /revoked = %+v", revoked)
	}

	if err := c.HandleMatrixReadReceipt(ctx, &bridgev2.MatrixReadReceipt{Portal: p}); err != nil {
		t.Fatal(err)
	}
	read, err := ctl.MarkedRead(ctx, "wxid_alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(read) != 1 || read[0].Chat != "wxid_bob" {
		t.Fatalf("wxsim /marked-read = %+v", read)
	}
}

// Relay mode: someone without a login whose messages a portal relays through Alice's
// account may recall their own messages, and nothing else goes to WeChat in their name:
// not Alice's messages, not members added to her group.
func TestRelayedUserOnlySends(t *testing.T) {
	e := newSimEnv(t, nil)
	ctx, ctl, wx, c := e.ctx, e.ctl, e.wx, e.c
	lou := &bridgev2.OrigSender{UserID: "@lou:hs.test", DisambiguatedName: "Lou"}
	clubRoom := e.userName("Bob's club")
	e.groupMembers(clubRoom)
	clubID, _ := c.dir.stableID(clubRoom)
	club := &bridgev2.Portal{Portal: &database.Portal{PortalKey: portal.MakePortalKey(clubID, "1001")}}

	invite := membership(club, &bridgev2.Ghost{Ghost: &database.Ghost{ID: e.ghostID("Dave")}}, bridgev2.Invite)
	invite.OrigSender = lou
	if _, err := c.HandleMatrixMembership(ctx, invite); err == nil || !strings.Contains(err.Error(), "relay") {
		t.Fatalf("a relayed user's invite: %v, want a refusal naming the relay", err)
	}
	if got := e.groupMembers(clubRoom); got["Dave"] {
		t.Fatalf("the relayed invite added Dave: %v", got)
	}

	send := func(text string, by id.UserID) *database.Message {
		id := protoclient.NewClientMsgID()
		r, err := wx.SendText(ctx, clubRoom, text, id)
		if err != nil {
			t.Fatal(err)
		}
		return &database.Message{ID: portal.MakeMessageID(r.MsgID), SenderID: c.selfID(), SenderMXID: by, Metadata: &MessageMetadata{ClientMsgID: id}}
	}
	remove := func(target *database.Message) error {
		return c.HandleMatrixMessageRemove(ctx, &bridgev2.MatrixMessageRemove{
			MatrixEventBase: bridgev2.MatrixEventBase[*event.RedactionEventContent]{Portal: club, OrigSender: lou},
			TargetMessage:   target,
		})
	}
	if err := remove(send("Alice: see you there", "@alice:hs.test")); err == nil || !strings.Contains(err.Error(), "your own") {
		t.Fatalf("a relayed user recalling Alice's message: %v", err)
	}
	if err := remove(send("Lou: wrong chat", lou.UserID)); err != nil {
		t.Fatalf("a relayed user recalling their own message: %v", err)
	}
	revoked, err := ctl.Revoked(ctx, "wxid_alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(revoked) != 1 || revoked[0].Ret != 0 {
		t.Fatalf("wxsim /revoked = %+v, want only Lou's message", revoked)
	}
}

// The favourite tag goes to the phone when the user sets it, and not while the bridge
// is still bringing the phone's own change of that chat to the room: then the room's
// tags are the old ones, and sending them would undo the change on the phone (and start
// the two sides echoing each other).
func TestRoomTagWaitsForThePhonesChange(t *testing.T) {
	e := newSimEnv(t, nil)
	bob := e.userName("Bob")
	e.c.dir.learn(map[protoclient.UserName]protoclient.WxID{bob: "wxid_bob"})
	p := &bridgev2.Portal{Portal: &database.Portal{PortalKey: portal.MakePortalKey("wxid_bob", "1001")}}
	favourite := func() error {
		return e.c.HandleRoomTag(e.ctx, &bridgev2.MatrixRoomTag{MatrixEventBase: bridgev2.MatrixEventBase[*event.TagEventContent]{
			Portal: p, Content: &event.TagEventContent{Tags: event.Tags{event.RoomTagFavourite: {Order: "0.5"}}},
		}})
	}
	pinned := func() bool {
		cs, err := e.ctl.Contacts(e.ctx, "wxid_alice")
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range cs {
			if ct.Wxid == "wxid_bob" {
				return ct.Pinned
			}
		}
		t.Fatal("no Bob")
		return false
	}

	done := e.c.changingOnPhone([]protoclient.Contact{{UserName: bob}})
	if err := favourite(); err != nil {
		t.Fatal(err)
	}
	if st, err := e.ctl.Stats(e.ctx); err != nil || st.Requests["webwxoplog"] != 0 || pinned() {
		t.Fatalf("a tag read while the phone's change was on its way went to WeChat: %d oplog calls, pinned %v (%v)", st.Requests["webwxoplog"], pinned(), err)
	}
	done()
	if err := favourite(); err != nil {
		t.Fatal(err)
	}
	if !pinned() {
		t.Fatal("the user's favourite did not pin the chat on the phone")
	}
}
