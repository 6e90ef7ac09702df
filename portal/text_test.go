package portal

import (
	"context"
	"testing"
	"wxbridge/protoclient"

	"maunium.net/go/mautrix/event"
)

func TestTextToMatrix(t *testing.T) {
	cases := []struct{ wire, want string }{
		{"hello", "hello"},
		{"a &lt;b&gt; &amp; c<br/>second line", "a <b> & c\nsecond line"},
		{`hi <span class="emoji emoji1f604"></span>!`, "hi 😄!"},
		{`flag <span class="emoji emoji1f1e81f1f3"></span>`, "flag 🇨🇳"},
		{"为什么这么冷", "为什么这么冷"},
	}
	for _, c := range cases {
		conv, err := ToMatrix(context.Background(), decode(&protoclient.Message{MsgType: protoclient.MsgText, Content: c.wire}), nil, nil, nil, Options{})
		if err != nil || len(conv.Parts) != 1 {
			t.Fatalf("%q: %v %+v", c.wire, err, conv)
		}
		if got := conv.Parts[0]; got.MsgType != event.MsgText || got.Body != c.want {
			t.Errorf("%q became %q %q, want m.text %q", c.wire, got.MsgType, got.Body, c.want)
		}
	}
}

func TestTextFromMatrix(t *testing.T) {
	cases := []struct {
		content event.MessageEventContent
		want    string
	}{
		{event.MessageEventContent{MsgType: event.MsgText, Body: "plain 😄"}, "plain 😄"},
		{event.MessageEventContent{MsgType: event.MsgText, Body: "**bold**", Format: event.FormatHTML, FormattedBody: "<strong>bold</strong> and <a href=\"https://example.org\">link</a>"}, "**bold** and link (https://example.org)"},
		{event.MessageEventContent{MsgType: event.MsgNotice, Body: "a\nb\n"}, "a\nb"},
		{event.MessageEventContent{MsgType: event.MsgEmote, Body: "waves"}, "/me waves"},
	}
	for _, c := range cases {
		content := c.content
		if got := TextFromMatrix(&content); got != c.want {
			t.Errorf("TextFromMatrix(%+v) = %q, want %q", c.content, got, c.want)
		}
	}
}

func TestIDs(t *testing.T) {
	id := MakeUserLoginID(176666155)
	if uin, ok := ParseUserLoginID(id); !ok || uin != 176666155 {
		t.Fatalf("login id round trip: %q %d", id, uin)
	}
	if _, ok := ParseUserLoginID("@abc"); ok {
		t.Fatal("a session UserName parsed as a login id")
	}
	k := MakePortalKey("12345@chatroom", id)
	if !IsGroupID(ParsePortalID(k.ID)) || k.Receiver != id {
		t.Fatalf("portal key %+v", k)
	}
	if IsGroupID("wxid_bob") {
		t.Fatal("a person is not a group")
	}
}
