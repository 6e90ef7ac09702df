package portal

import (
	"context"
	"encoding/json"
	"testing"

	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// The conversions of a text message, each with a baseline that the bridge pays for the
// same message anyway, so that the ratio says how much conversion adds:
//   - WeChat → Matrix: json.Marshal of the resulting content (bridgev2 serialises it
//     to send it to the homeserver);
//   - Matrix → WeChat: json.Unmarshal of the event content (mautrix parses it before
//     the connector sees it).

func benchTexts() (private, group *protoclient.Message) {
	private = &protoclient.Message{MsgId: "6929942228714500001", FromUserName: "@b1", ToUserName: "@me",
		MsgType: protoclient.MsgText, Content: protoclient.EncodeContent("see you at 8 <3 & bring the cake 🎂\nok? 你好，明天见")}
	group = &protoclient.Message{MsgId: "6929942228714500002", FromUserName: "@@g1", ToUserName: "@me",
		MsgType: protoclient.MsgText, Content: "@b2:<br/>" + protoclient.EncodeContent("@我自己\u2005 message in the group, with some ordinary length of text 你好")}
	return private, group
}

func BenchmarkToMatrixText(b *testing.B) {
	ctx := context.Background()
	private, group := benchTexts()
	dir := groupDir()
	for _, tc := range []struct {
		name string
		msg  *protoclient.Message
	}{{"private", private}, {"group-mention", group}} {
		conv, err := ToMatrix(ctx, decode(tc.msg), nil, nil, dir, Options{})
		if err != nil || len(conv.Parts) != 1 {
			b.Fatalf("%s: %v %+v", tc.name, err, conv)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			// Decoding is part of what a message costs, as before it moved to protoclient.
			for b.Loop() {
				if _, err := ToMatrix(ctx, decode(tc.msg), nil, nil, dir, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/baseline-json.Marshal-content", func(b *testing.B) {
			content := conv.Parts[0]
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(content); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFromMatrixText(b *testing.B) {
	ctx := context.Background()
	dir := groupDir()
	for _, tc := range []struct {
		name string
		raw  string
	}{
		{"plain", `{"msgtype":"m.text","body":"see you at 8 <3 & bring the cake 🎂\nok? 你好，明天见"}`},
		{"html-pill", `{"msgtype":"m.text","body":"Bob Smith: lunch?","format":"org.matrix.custom.html",` +
			`"formatted_body":"<a href=\"https://matrix.to/#/@wechat_bobsmith:hs.test\">Bob Smith</a>: lunch at <strong>12</strong>? 🍜"}`},
	} {
		var content event.MessageEventContent
		if err := json.Unmarshal([]byte(tc.raw), &content); err != nil {
			b.Fatal(err)
		}
		if out, err := FromMatrix(ctx, &content, nil, dir); err != nil || out.Kind != OutText || out.Text == "" {
			b.Fatalf("%s: %v %+v", tc.name, err, out)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := FromMatrix(ctx, &content, nil, dir); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/baseline-json.Unmarshal-content", func(b *testing.B) {
			raw := []byte(tc.raw)
			b.ReportAllocs()
			for b.Loop() {
				var c event.MessageEventContent
				if err := json.Unmarshal(raw, &c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
