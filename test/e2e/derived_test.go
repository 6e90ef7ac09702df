//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

// A chat WeChat gives no permanent id for (a stranger, not in the id list the phone
// pushes after login) gets a room of its own under a derived id, and the room says so,
// rather than the bridge guessing which older room it could belong to.
func TestChatWithoutPermanentIDGetsANoticedRoom(t *testing.T) {
	a := newWorld(t)
	acc := a.setupAccount(t, "uma", "wxid_uma", "Uma", 4004, nil, nil)
	u := acc.u
	a.bind(t)
	from := u.Mark()
	if err := a.ctl.SyncRaw(t.Context(), acc.wxid, wxsim.SyncFragment{
		ModContactList: []json.RawMessage{raw(t, map[string]any{"UserName": "@5f3a9c0d1e2b4a6f8c7d9e0f1a2b3c4d", "NickName": "Stranger", "Sex": 2, "City": "Hangzhou", "ContactFlag": 3})},
		AddMsgList: []json.RawMessage{raw(t, map[string]any{
			"MsgId": "9100000000000000001", "FromUserName": "@5f3a9c0d1e2b4a6f8c7d9e0f1a2b3c4d", "ToUserName": "{{self}}",
			"MsgType": 1, "Content": "hello from someone without an id", "Status": 3, "CreateTime": 1795700000, "NewMsgId": 9100000000000000001,
		})},
	}); err != nil {
		t.Fatal(err)
	}
	msg := a.awaitNewPortal(t, u, from, "hello from someone without an id")
	if strings.Contains(string(msg.Evt.Sender), "5f3a9c0d") {
		t.Errorf("the ghost %s is named after a session UserName, which changes at every login", msg.Evt.Sender)
	}
	u.Must(t.Context(), waitEvent, from, "the notice that this room stands on a derived id",
		harness.And(harness.InRoom(msg.Room), func(s *harness.Seen) bool {
			return s.MsgType() == "m.notice" && strings.Contains(s.Body(), "permanent id")
		}))
}
