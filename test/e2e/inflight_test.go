//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

// TestMatrixSendInFlightAtKill (issue 5): the user's message is in the bridge's hands —
// the homeserver has its 200 for the transaction, WeChat has not answered the send — when
// the bridge is SIGKILLed. After the restart the message reaches WeChat once (or is shown
// as failed), never lost and never twice.
func TestMatrixSendInFlightAtKill(t *testing.T) {
	a := newWorld(t)
	defer a.printDelays(t)
	ctx := t.Context()
	const vic, wes = "wxid_vic", "wxid_wes"
	acc := a.setupAccount(t, "vic", vic, "Vic", 2006, []wxsim.ContactSpec{{Wxid: wes, Nickname: new("Wes")}}, nil)
	u := acc.u
	from := u.Mark()
	a.incomingRef(t, vic, wxsim.WorldMessage{From: wes, Type: 1, Content: "ping before the crash"})
	dm := a.awaitMessage(t, u, from, waitPortal, "Wes's message", harness.MessageWithBody("ping before the crash")).Room

	cases := []struct {
		name, fault, body string
	}{
		// WeChat never answers and never took it: the next process must send it.
		{"send_hangs", "hang", "sent while the bridge dies (hang)"},
		// WeChat took it, the answer is lost, the bridge dies before its retry: the next
		// process sends it again with the same ClientMsgId, which WeChat keeps as one.
		{"answer_lost", "lost_answer", "sent while the bridge dies (lost answer)"},
	}
	for _, c := range cases {
		run(t, c.name, func(t *testing.T) {
			skip := a.sentLen(t, vic)
			fid, err := a.ctl.AddFault(ctx, wxsim.Fault{Account: vic, Endpoint: "webwxsendmsg", Kind: c.fault, Count: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = a.ctl.DeleteFault(context.Background(), fid) }()
			from := u.Mark()
			evID, _ := sendContent(t, u, dm, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: c.body})
			a.awaitFaultApplied(t, fid, "the bridge to be sending "+string(evID))
			a.restartBridge(t)
			t0 := time.Now()
			failed := a.awaitSentOrFailed(t, u, from, dm, evID, vic, skip, c.body)
			a.note(t, "M→W", c.body+" (after the restart)", time.Since(t0))
			// A sentinel after it: anything sent twice late is in /sent before it.
			sentinel := "sentinel after " + c.name
			if _, err := u.Client.SendText(ctx, dm, sentinel); err != nil {
				t.Fatal(err)
			}
			a.awaitSent(t, vic, skip, sentinel, func(m wxsim.SentMessage) bool { return m.Content == sentinel })
			u.Must(ctx, waitEvent, from, "the sentinel in the room", harness.And(harness.InRoom(dm), harness.MessageWithBody(sentinel)))
			a.checkOnceInWeChat(t, vic, skip, c.body, failed)
			if got := u.BodyCounts(dm)[c.body]; got != 1 {
				t.Errorf("%q is in the room %d times (WeChat's echo bridged back?)", c.body, got)
			}
		}, u)
	}
}

// awaitFaultApplied waits until wxsim has applied the fault (the bridge is in the request
// it hangs or answers wrongly).
func (a *afternoon) awaitFaultApplied(t *testing.T, fid, what string) {
	t.Helper()
	ctx := t.Context()
	pollHomeserver(t, waitPortal, what, func() (bool, error) {
		fs, err := a.ctl.Faults(ctx)
		if err != nil {
			return false, err
		}
		for _, f := range fs {
			if f.ID == fid {
				return f.Applied > 0, nil
			}
		}
		return true, nil // consumed and gone
	}, func() bool { return true })
}

// checkOnceInWeChat: body reached WeChat once, or never and was shown as failed.
func (a *afternoon) checkOnceInWeChat(t *testing.T, account string, skip int, body string, failed bool) {
	t.Helper()
	sent, err := a.ctl.Sent(t.Context(), account)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range sent[skip:] {
		if m.Content == body {
			n++
			t.Logf("in /sent: msg_id %s client_msg_id %s attempts %d", m.MsgID, m.ClientMsgID, m.Attempts)
		}
	}
	switch {
	case n > 1:
		t.Errorf("%q reached WeChat %d times", body, n)
	case n == 0 && !failed:
		t.Errorf("%q was lost: not in wxsim /sent and not shown as failed", body)
	case n == 1 && failed:
		t.Errorf("%q reached WeChat but was shown as failed", body)
	case failed:
		t.Logf("%q was shown as failed (allowed)", body)
	}
}
