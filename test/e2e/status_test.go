//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

// TestMessageStatus (issue 3, Matrix → WeChat): with matrix.message_status_events on
// (test/e2e/cmd/e2ectl), a message WeChat accepted gets a com.beeper.message_send_status
// SUCCESS; one WeChat refuses gets FAIL with a reason a person understands, and a notice
// in the room (matrix.message_error_notices, on by default), and is not in /sent.
func TestMessageStatus(t *testing.T) {
	a := newWorld(t)
	defer a.printDelays(t)
	ctx := t.Context()
	if !a.config(t).Matrix.MessageStatusEvents {
		t.Fatal("matrix.message_status_events is off in the bridge config; test/e2e/cmd/e2ectl turns it on")
	}
	const (
		sol, tom, uma = "wxid_sol", "wxid_tom", "wxid_uma"
		board         = "board2026@chatroom"
	)
	acc := a.setupAccount(t, "sol", sol, "Sol", 2003,
		[]wxsim.ContactSpec{{Wxid: tom, Nickname: new("Tom")}, {Wxid: uma, Nickname: new("Uma")}},
		[]wxsim.GroupSpec{{ID: board, Name: "Board Games", Members: []string{tom, uma}}})
	u := acc.u
	from := u.Mark()
	a.incomingRef(t, sol, wxsim.WorldMessage{From: tom, Type: 1, Content: "Game night on Thursday?"})
	dm := a.awaitMessage(t, u, from, waitPortal, "Tom's message", harness.MessageWithBody("Game night on Thursday?")).Room
	from = u.Mark()
	a.incomingRef(t, sol, wxsim.WorldMessage{From: uma, Chat: board, Type: 1, Content: "I'll bring Catan"})
	group := a.awaitMessage(t, u, from, waitPortal, "Uma's group message", harness.MessageWithBody("I'll bring Catan")).Room

	run(t, "success_is_delivered", func(t *testing.T) {
		body := "Thursday works for me"
		from := u.Mark()
		skip := a.sentLen(t, sol)
		evID, t0 := sendContent(t, u, dm, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body})
		st := u.Must(ctx, waitEvent, from, "the message status of "+string(evID), harness.And(harness.InRoom(dm), statusFor(evID)))
		a.note(t, "M→M", "send → status "+st.Str("status"), st.At.Sub(t0))
		if st.Str("status") != "SUCCESS" {
			t.Errorf("status %q, want SUCCESS: %v", st.Str("status"), st.Evt.Content.Raw)
		}
		if st.Evt.Sender != a.bot {
			t.Errorf("status sent by %s, want the bridge bot %s", st.Evt.Sender, a.bot)
		}
		a.awaitSent(t, sol, skip, body, func(m wxsim.SentMessage) bool { return m.Content == body && m.To == tom })
		if n := len(u.All(from, harness.And(harness.InRoom(dm), failureNoticeFor(evID)))); n != 0 {
			t.Errorf("a delivered message got %d failure notices", n)
		}
	}, u)

	run(t, "failure_is_failed_with_reason", func(t *testing.T) {
		fid, err := a.ctl.AddFault(ctx, wxsim.Fault{Account: sol, Endpoint: "webwxsendmsg", Kind: "retcode", Value: 1201, Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = a.ctl.DeleteFault(t.Context(), fid) }()
		body := "Count me in for Catan"
		from := u.Mark()
		skip := a.sentLen(t, sol)
		evID, t0 := sendContent(t, u, group, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body})
		st := u.Must(ctx, waitEvent, from, "the message status of "+string(evID), harness.And(harness.InRoom(group), statusFor(evID)))
		a.note(t, "M→M", "send (WeChat Ret 1201) → status "+st.Str("status"), st.At.Sub(t0))
		reason := st.Str("message")
		t.Logf("status %s reason %s message %q", st.Str("status"), st.Str("reason"), reason)
		if st.Str("status") != string(event.MessageStatusFail) {
			t.Errorf("a message WeChat refused (Ret 1201, not retryable) got status %q, want %s: %v", st.Str("status"), event.MessageStatusFail, st.Evt.Content.Raw)
		}
		if reason == "" || strings.Contains(reason, "1201") && !strings.Contains(reason, " ") {
			t.Errorf("the failure status has no human reason: %v", st.Evt.Content.Raw)
		}
		n := u.Must(ctx, waitEvent, from, "the failure notice in the room", harness.And(harness.InRoom(group), failureNoticeFor(evID)))
		if !strings.Contains(n.Body(), "not") || (reason != "" && !strings.Contains(n.Body(), reason)) {
			t.Errorf("failure notice %q does not say it failed with the reason %q", n.Body(), reason)
		}
		// A sentinel: the failed message must not have reached WeChat, then or later.
		sentinel := "sentinel after the failed message"
		t1 := time.Now()
		if _, err := u.Client.SendText(ctx, group, sentinel); err != nil {
			t.Fatal(err)
		}
		a.awaitSent(t, sol, skip, sentinel, func(m wxsim.SentMessage) bool { return m.Content == sentinel })
		a.note(t, "M→W", sentinel, time.Since(t1))
		sent, err := a.ctl.Sent(ctx, sol)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range sent[skip:] {
			if m.Content == body {
				t.Errorf("the refused message is in wxsim /sent: %+v", m)
			}
		}
	}, u)
}
