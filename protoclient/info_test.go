package protoclient

import "testing"

// Who wrote a message and in which chat, the way WeChat encodes it: direct messages by
// their From/To, group messages by the "@member:<br/>" prefix, the user's own messages
// (from the phone or this client) with FromUserName = self.
func TestMessageInfo(t *testing.T) {
	const self, bob, group = UserName("@self"), UserName("@bob"), UserName("@@family")
	for _, tc := range []struct {
		name string
		msg  Message
		want MessageInfo
	}{
		{"from a contact", Message{FromUserName: bob, ToUserName: self, Content: "hi"},
			MessageInfo{Chat: bob, Sender: bob, Body: "hi"}},
		{"from the phone to a contact", Message{FromUserName: self, ToUserName: bob, Content: "yo"},
			MessageInfo{Chat: bob, Sender: self, FromMe: true, Body: "yo"}},
		{"in a group", Message{FromUserName: group, ToUserName: self, Content: "@bob:<br/>hello all"},
			MessageInfo{Chat: group, Sender: bob, Body: "hello all"}},
		{"the user in a group, seen from another session", Message{FromUserName: group, ToUserName: self, Content: "@self:<br/>me too"},
			MessageInfo{Chat: group, Sender: self, FromMe: true, Body: "me too"}},
		{"from the phone to a group", Message{FromUserName: self, ToUserName: group, Content: "sent from my phone"},
			MessageInfo{Chat: group, Sender: self, FromMe: true, Body: "sent from my phone"}},
		{"a group's system text", Message{FromUserName: group, ToUserName: self, Content: "Bob joined the group chat"},
			MessageInfo{Chat: group, Body: "Bob joined the group chat"}},
	} {
		if got := tc.msg.Info(self); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
