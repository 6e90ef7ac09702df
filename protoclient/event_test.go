package protoclient

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// Who wrote a message and in which chat, the way WeChat encodes it: direct messages by
// their From/To, group messages by the "@member:<br/>" prefix, the user's own messages
// (from the phone or this client) with FromUserName = self. The prefix never reaches
// the content.
func TestDecodeInfo(t *testing.T) {
	const self, bob, group = UserName("@self"), UserName("@bob"), UserName("@@family")
	for _, tc := range []struct {
		name    string
		msg     Message
		want    MessageInfo
		content Content
	}{
		{"from a contact", Message{FromUserName: bob, ToUserName: self, MsgType: MsgText, Content: "hi"},
			MessageInfo{Chat: bob, Sender: bob}, &Text{"hi"}},
		{"from the phone to a contact", Message{FromUserName: self, ToUserName: bob, MsgType: MsgText, Content: "yo"},
			MessageInfo{Chat: bob, Sender: self, FromMe: true}, &Text{"yo"}},
		{"in a group", Message{FromUserName: group, ToUserName: self, MsgType: MsgText, Content: "@bob:<br/>hello all"},
			MessageInfo{Chat: group, Sender: bob, Group: true}, &Text{"hello all"}},
		{"the user in a group, seen from another session", Message{FromUserName: group, ToUserName: self, MsgType: MsgText, Content: "@self:<br/>me too"},
			MessageInfo{Chat: group, Sender: self, FromMe: true, Group: true}, &Text{"me too"}},
		{"from the phone to a group", Message{FromUserName: self, ToUserName: group, MsgType: MsgText, Content: "sent from my phone"},
			MessageInfo{Chat: group, Sender: self, FromMe: true, Group: true}, &Text{"sent from my phone"}},
		{"a group's system text", Message{FromUserName: group, ToUserName: self, MsgType: MsgSys, Content: "Bob joined the group chat"},
			MessageInfo{Chat: group, Group: true}, &System{Text: "Bob joined the group chat"}},
	} {
		tc.msg.MsgId, tc.msg.CreateTime = "42", 1700000000
		tc.want.ID, tc.want.Type, tc.want.Time = "42", tc.msg.MsgType, time.Unix(1700000000, 0)
		ev := tc.msg.Decode(self)
		if ev.Info != tc.want {
			t.Errorf("%s: info %+v, want %+v", tc.name, ev.Info, tc.want)
		}
		if !reflect.DeepEqual(ev.Content, tc.content) {
			t.Errorf("%s: content %#v, want %#v", tc.name, ev.Content, tc.content)
		}
	}
}

func readPayloadMessage(t *testing.T, name string) *Message {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "payloads", name))
	if err != nil {
		t.Fatal(err)
	}
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// The captured messages decode to the content a client shows, with the fields that
// make the difference to the user.
func TestDecodeCaptured(t *testing.T) {
	for _, tc := range []struct {
		file  string
		check func(t *testing.T, c Content)
	}{
		{"msg_group_text.json", func(t *testing.T, c Content) {
			if x, ok := c.(*Text); !ok || x.Text == "" {
				t.Errorf("got %#v", c)
			}
		}},
		{"msg_image.json", func(t *testing.T, c Content) {
			if x, ok := c.(*Image); !ok || x.Size <= 0 {
				t.Errorf("got %#v, want an image with its announced size", c)
			}
		}},
		{"msg_voice.json", func(t *testing.T, c Content) {
			if x, ok := c.(*Voice); !ok || x.DurationMS <= 0 {
				t.Errorf("got %#v, want a voice message with its duration", c)
			}
		}},
		{"msg_video.json", func(t *testing.T, c Content) {
			if x, ok := c.(*Video); !ok || x.Seconds <= 0 || x.Size <= 0 {
				t.Errorf("got %#v, want a video with duration and size", c)
			}
		}},
		{"msg_file.json", func(t *testing.T, c Content) {
			if x, ok := c.(*File); !ok || x.Name == "" || x.Size <= 0 || x.mediaID == "" {
				t.Errorf("got %#v, want a downloadable file with name and size", c)
			}
		}},
		{"msg_location.json", func(t *testing.T, c Content) {
			if x, ok := c.(*Location); !ok || !x.HasCoords || x.Label == "" {
				t.Errorf("got %#v, want a location with coordinates and label", c)
			}
		}},
		{"msg_card.json", func(t *testing.T, c Content) {
			if x, ok := c.(*Card); !ok || x.Name == "" {
				t.Errorf("got %#v, want a named card", c)
			}
		}},
		{"msg_revoke_wwdk.json", func(t *testing.T, c Content) {
			if x, ok := c.(*Revoke); !ok || x.MsgID == "" || x.Text == "" {
				t.Errorf("got %#v, want a revoke naming its message", c)
			}
		}},
		{"msg_revoke_group.json", func(t *testing.T, c Content) {
			if x, ok := c.(*Revoke); !ok || x.MsgID == "" {
				t.Errorf("got %#v, want a revoke naming its message", c)
			}
		}},
		{"msg_friend_request.json", func(t *testing.T, c Content) {
			if x, ok := c.(*FriendRequest); !ok || !x.CanAccept() || x.WxID == "" || x.NickName == "" {
				t.Errorf("got %#v, want an acceptable request with the requester's id", c)
			}
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			m := readPayloadMessage(t, tc.file)
			tc.check(t, m.Decode("@self-not-in-these-captures").Content)
		})
	}
}

// Broken content is never dropped: it decodes to Undecodable with the raw text, or to
// the kind with what the message's own fields still say.
func TestDecodeLenient(t *testing.T) {
	app := (&Message{MsgType: MsgApp, Content: "<msg><appmsg"}).Decode("@me")
	if u, ok := app.Content.(*Undecodable); !ok || u.Raw != "<msg><appmsg" || u.Type != MsgApp {
		t.Errorf("broken app message: %#v", app.Content)
	}
	file := (&Message{MsgType: MsgApp, AppMsgType: AppMsgAttach, FileName: "a&amp;b.pdf", FileSize: "12", Content: "junk"}).Decode("@me")
	if f, ok := file.Content.(*File); !ok || f.Name != "a&b.pdf" || f.Size != 12 {
		t.Errorf("file with broken XML: %#v", file.Content)
	}
	card := (&Message{MsgType: MsgShareCard, Content: "junk"}).Decode("@me")
	if _, ok := card.Content.(*Undecodable); !ok {
		t.Errorf("unreadable card: %#v", card.Content)
	}
	rv := (&Message{MsgType: MsgRecalled, Content: "junk"}).Decode("@me")
	if r, ok := rv.Content.(*Revoke); !ok || r.MsgID != "" {
		t.Errorf("unreadable revoke: %#v", rv.Content)
	}
	// A revoke names its message also behind a group sender prefix; msgid 0 ("the
	// sender's last message") names none, and the text is still shown.
	grp := (&Message{MsgType: MsgRecalled, FromUserName: "@@g", Content: "@abc:<br/>&lt;sysmsg type=\"revokemsg\"&gt;&lt;revokemsg&gt;&lt;msgid&gt;123&lt;/msgid&gt;&lt;/revokemsg&gt;&lt;/sysmsg&gt;"}).Decode("@me")
	if r, ok := grp.Content.(*Revoke); !ok || r.MsgID != "123" || grp.Info.Sender != "@abc" {
		t.Errorf("group revoke: %+v %#v", grp.Info, grp.Content)
	}
	zero := (&Message{MsgType: MsgRecalled, Content: "&lt;sysmsg type=\"revokemsg\"&gt;&lt;revokemsg&gt;&lt;msgid&gt;0&lt;/msgid&gt;&lt;replacemsg&gt;你撤回了一条消息&lt;/replacemsg&gt;&lt;/revokemsg&gt;&lt;/sysmsg&gt;"}).Decode("@me")
	if r, ok := zero.Content.(*Revoke); !ok || r.MsgID != "" || r.Text != "你撤回了一条消息" {
		t.Errorf("revoke of msgid 0: %#v", zero.Content)
	}
	if u, ok := (&Message{MsgType: 12345}).Decode("@me").Content.(*Unsupported); !ok || u.Type != 12345 {
		t.Errorf("unknown kind: %#v", u)
	}
}
