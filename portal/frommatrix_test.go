package portal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/bridgev2/bridgeconfig"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient"
)

func TestFromMatrix(t *testing.T) {
	replyTo := &QuotedMessage{SenderName: "张三", Text: "为什么这么冷"}
	img := func(name, fileName, mimeType string) *event.MessageEventContent {
		c := &event.MessageEventContent{MsgType: event.MsgImage, Body: name, FileName: fileName, URL: "mxc://hs/x"}
		if mimeType != "" {
			c.Info = &event.FileInfo{MimeType: mimeType}
		}
		return c
	}
	withType := func(c *event.MessageEventContent, t event.MessageType) *event.MessageEventContent {
		c.MsgType = t
		return c
	}
	cases := []struct {
		name    string
		content *event.MessageEventContent
		reply   *QuotedMessage
		want    Outgoing
		wantErr string // substring of the ErrUnsupported reason
	}{
		{name: "text/plain", content: &event.MessageEventContent{MsgType: event.MsgText, Body: "hello 😄\n"}, want: Outgoing{Kind: OutText, Text: "hello 😄"}},
		{name: "notice", content: &event.MessageEventContent{MsgType: event.MsgNotice, Body: "a\nb"}, want: Outgoing{Kind: OutText, Text: "a\nb"}},
		{name: "emote", content: &event.MessageEventContent{MsgType: event.MsgEmote, Body: "waves"}, want: Outgoing{Kind: OutText, Text: "/me waves"}},
		{name: "text/formatted: links, lists, no markup", content: &event.MessageEventContent{
			MsgType: event.MsgText, Body: "x", Format: event.FormatHTML,
			FormattedBody: `<strong>Plan</strong> for <em>today</em>: see <a href="https://example.org/p">the page</a> or https://go.dev<ul><li>one</li><li>two</li></ul><ol><li>first</li></ol>`,
		}, want: Outgoing{Kind: OutText, Text: "Plan for today: see the page (https://example.org/p) or https://go.dev\n* one\n* two\n\n1. first"}},
		{name: "text/pills become WeChat mentions", content: &event.MessageEventContent{
			MsgType: event.MsgText, Body: "Alice: hi", Format: event.FormatHTML,
			FormattedBody: `<a href="https://matrix.to/#/@wechat_alice:hs.test">Alice</a>: hi <a href="https://matrix.to/#/@wechat_bobsmith:hs.test">Bob Smith</a> and <a href="https://matrix.to/#/@stranger:hs.test">Stranger</a>`,
		}, want: Outgoing{Kind: OutText, Text: "@Alice\u2005hi @Bob Smith\u2005and Stranger"}},
		{name: "text/reply quotes the original, fallback removed", content: &event.MessageEventContent{
			MsgType: event.MsgText, Body: "> <@wechat_zhangsan:hs.test> 为什么这么冷\n\n多穿点", Format: event.FormatHTML,
			FormattedBody: `<mx-reply><blockquote>In reply to 为什么这么冷</blockquote></mx-reply>多穿点`,
			RelatesTo:     (&event.RelatesTo{}).SetReplyTo("$quoted"),
		}, reply: replyTo, want: Outgoing{Kind: OutText, Text: "「张三：为什么这么冷」\n" + protoclient.QuoteSeparator + "\n多穿点"}},
		{name: "text/reply to a long text abbreviates it", content: &event.MessageEventContent{MsgType: event.MsgText, Body: "ok"},
			reply: &QuotedMessage{SenderName: "Bob", Text: strings.Repeat("长", 150) + "\nsecond line"},
			want:  Outgoing{Kind: OutText, Text: "「Bob：" + strings.Repeat("长", 100) + "…」\n" + protoclient.QuoteSeparator + "\nok"}},
		{name: "location", content: &event.MessageEventContent{MsgType: event.MsgLocation, Body: "Brandenburger Tor", GeoURI: "geo:52.5163,13.3777;u=35"},
			want: Outgoing{Kind: OutText, Text: "Location: Brandenburger Tor\nhttps://www.openstreetmap.org/?mlat=52.5163&mlon=13.3777#map=16/52.5163/13.3777"}},
		{name: "location/body is the URI", content: &event.MessageEventContent{MsgType: event.MsgLocation, Body: "geo:-33.8568,151.2153", GeoURI: "geo:-33.8568,151.2153"},
			want: Outgoing{Kind: OutText, Text: "Location\nhttps://www.openstreetmap.org/?mlat=-33.8568&mlon=151.2153#map=16/-33.8568/151.2153"}},
		{name: "location/bad URI", content: &event.MessageEventContent{MsgType: event.MsgLocation, Body: "x", GeoURI: "geo:200,1"}, wantErr: "coordinates"},
		{name: "image/png", content: img("photo.png", "", "image/png"), want: Outgoing{Kind: OutImage, FileName: "photo.png", MimeType: "image/png"}},
		{name: "image/no extension gets one", content: img("photo", "", "image/jpeg"), want: Outgoing{Kind: OutImage, FileName: "photo.jpg", MimeType: "image/jpeg"}},
		{name: "image/GIF is an emoticon", content: img("cat.gif", "", "image/gif"), want: Outgoing{Kind: OutEmoticon, FileName: "cat.gif", MimeType: "image/gif"}},
		{name: "image/caption goes in Text", content: img("look at this", "a.png", "image/png"), reply: replyTo,
			want: Outgoing{Kind: OutImage, FileName: "a.png", MimeType: "image/png", Text: protoclient.FormatQuote("张三", "为什么这么冷", "look at this")}},
		{name: "image/no info, type from the name", content: img("scan.webp", "", ""), want: Outgoing{Kind: OutImage, FileName: "scan.webp", MimeType: "image/webp"}},
		{name: "video", content: &event.MessageEventContent{MsgType: event.MsgVideo, Body: "clip.mp4", URL: "mxc://hs/v", Info: &event.FileInfo{MimeType: "video/mp4"}},
			want: Outgoing{Kind: OutVideo, FileName: "clip.mp4", MimeType: "video/mp4"}},
		{name: "file", content: &event.MessageEventContent{MsgType: event.MsgFile, Body: "report.pdf", FileName: "report.pdf", URL: "mxc://hs/f", Info: &event.FileInfo{MimeType: "application/pdf"}},
			want: Outgoing{Kind: OutFile, FileName: "report.pdf", MimeType: "application/pdf"}},
		{name: "file/path in the name is dropped", content: &event.MessageEventContent{MsgType: event.MsgFile, Body: "../../etc/passwd", URL: "mxc://hs/f"},
			want: Outgoing{Kind: OutFile, FileName: "passwd", MimeType: "application/octet-stream"}},
		{name: "audio/voice message", content: &event.MessageEventContent{MsgType: event.MsgAudio, Body: "Voice message", URL: "mxc://hs/a",
			Info: &event.FileInfo{MimeType: "audio/ogg; codecs=opus"}, MSC3245Voice: &event.MSC3245Voice{}},
			want: Outgoing{Kind: OutFile, FileName: "Voice message.ogg", MimeType: "audio/ogg"}},
		{name: "sticker/GIF", content: withType(img("dance", "", "image/gif"), event.MessageType(event.CapMsgSticker)),
			want: Outgoing{Kind: OutEmoticon, FileName: "dance.gif", MimeType: "image/gif"}},
		{name: "sticker/PNG is an image", content: withType(img("thumbs up", "", "image/png"), event.MessageType(event.CapMsgSticker)),
			want: Outgoing{Kind: OutImage, FileName: "thumbs up.png", MimeType: "image/png"}},
		{name: "encrypted media", content: &event.MessageEventContent{MsgType: event.MsgImage, Body: "p.jpg", File: &event.EncryptedFileInfo{URL: "mxc://hs/e"}},
			want: Outgoing{Kind: OutImage, FileName: "p.jpg", MimeType: "image/jpeg"}},
		{name: "unsupported/poll-like msgtype", content: &event.MessageEventContent{MsgType: "org.matrix.msc3381.poll.start", Body: "Q?"}, wantErr: "cannot be sent"},
		{name: "unsupported/verification request", content: &event.MessageEventContent{MsgType: event.MsgVerificationRequest, Body: "verify"}, wantErr: "cannot be sent"},
		{name: "unsupported/edit", content: &event.MessageEventContent{MsgType: event.MsgText, Body: "* fixed", RelatesTo: (&event.RelatesTo{}).SetReplace("$orig")}, wantErr: "edits"},
		{name: "unsupported/empty text", content: &event.MessageEventContent{MsgType: event.MsgText, Body: "  "}, wantErr: "empty"},
		{name: "unsupported/media without URL", content: &event.MessageEventContent{MsgType: event.MsgImage, Body: "x.png"}, wantErr: "no media"},
		{name: "unsupported/nil", content: nil, wantErr: "empty"},
	}
	dir := groupDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before event.MessageEventContent
			if tc.content != nil {
				before = *tc.content
			}
			got, err := FromMatrix(context.Background(), tc.content, tc.reply, dir)
			if tc.wantErr != "" {
				var u *ErrUnsupported
				if !errors.As(err, &u) || !strings.Contains(u.Reason, tc.wantErr) {
					t.Fatalf("error %v, want ErrUnsupported with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tc.want.Kind || got.Text != tc.want.Text || got.FileName != tc.want.FileName || got.MimeType != tc.want.MimeType || got.Data != nil {
				t.Errorf("\n got %+v\nwant %+v", *got, tc.want)
			}
			if tc.content.Body != before.Body || tc.content.FormattedBody != before.FormattedBody {
				t.Error("the caller's content was modified")
			}
		})
	}
}

// A reply sent from Matrix reads back on the WeChat side as the same quote.
func TestQuoteRoundTrip(t *testing.T) {
	out, err := FromMatrix(context.Background(), &event.MessageEventContent{MsgType: event.MsgText, Body: "多穿点"},
		&QuotedMessage{SenderName: "张三", Text: "为什么这么冷"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wire := protoclient.EncodeContent(out.Text)
	dir := &fakeDir{quoted: map[quoteQuery]*Earlier{{"张三", "为什么这么冷"}: earlierMsg}}
	c, err := ToMatrix(context.Background(), decode(&protoclient.Message{MsgType: 1, Content: wire}), nil, nil, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if wantText(t, c, "多穿点"); c.ReplyTo != earlierMsg {
		t.Errorf("ReplyTo %+v", c.ReplyTo)
	}
}

// A mention sent from Matrix reads back as a pill of the same person.
func TestMentionRoundTrip(t *testing.T) {
	out, err := FromMatrix(context.Background(), &event.MessageEventContent{
		MsgType: event.MsgText, Body: "Bob Smith: hi", Format: event.FormatHTML,
		FormattedBody: `<a href="https://matrix.to/#/@wechat_bobsmith:hs.test">Bob Smith</a>: hi`,
	}, nil, groupDir())
	if err != nil {
		t.Fatal(err)
	}
	wire := protoclient.EncodeContent(out.Text)
	c, err := ToMatrix(context.Background(), decode(&protoclient.Message{MsgType: 1, Content: wire}), nil, nil, groupDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := wantText(t, c, "@Bob Smith\u2005hi")
	wantMentions(t, p, id.UserID("@wechat_bobsmith:hs.test"))
}

// What WeChat gets from a user without a login who writes through another user's login
// (relay mode): bridgev2 renders the message with the relay templates of the example
// config (bridge.relay.message_formats, mautrix's HTML defaults), and FromMatrixRelayed
// must turn that into plain text with the sender's name in front, not markup.
func TestFromMatrixRelayed(t *testing.T) {
	var cfg struct {
		Bridge struct {
			Relay bridgeconfig.RelayConfig `yaml:"relay"`
		} `yaml:"bridge"`
	}
	raw, err := os.ReadFile(filepath.Join("..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	relay := &cfg.Bridge.Relay
	// The fields of bridgev2.OrigSender the templates read.
	type sender struct{ DisambiguatedName string }
	lou := sender{"Lou M."}
	pill := func(m Member) string {
		return `<a href="https://matrix.to/#/` + string(m.MXID) + `">` + m.DisplayName + `</a>`
	}
	cases := []struct {
		name    string
		sender  sender
		content *event.MessageEventContent
		reply   *QuotedMessage
		want    Outgoing
	}{
		{name: "text", sender: lou, content: &event.MessageEventContent{MsgType: event.MsgText, Body: "Hi <all> & welcome"},
			want: Outgoing{Kind: OutText, Text: "Lou M.: Hi <all> & welcome"}},
		{name: "formatted text with a pill", sender: lou, content: &event.MessageEventContent{MsgType: event.MsgText, Body: "x", Format: event.FormatHTML,
			FormattedBody: "<strong>Bring</strong> the scores, " + pill(alice) + ": page 4"},
			want: Outgoing{Kind: OutText, Text: "Lou M.: Bring the scores, @Alice\u2005page 4"}},
		{name: "multi-line text", sender: lou, content: &event.MessageEventContent{MsgType: event.MsgText, Body: "line one\nline two"},
			want: Outgoing{Kind: OutText, Text: "Lou M.: line one\nline two"}},
		{name: "notice", sender: lou, content: &event.MessageEventContent{MsgType: event.MsgNotice, Body: "automated"},
			want: Outgoing{Kind: OutText, Text: "Lou M.: automated"}},
		{name: "emote names the sender once, no /me", sender: lou, content: &event.MessageEventContent{MsgType: event.MsgEmote, Body: "waves"},
			want: Outgoing{Kind: OutText, Text: "* Lou M. waves"}},
		{name: "reply quotes above the name", sender: lou, content: &event.MessageEventContent{MsgType: event.MsgText, Body: "7 works",
			RelatesTo: (&event.RelatesTo{}).SetReplyTo("$quoted")}, reply: &QuotedMessage{SenderName: "Tim", Text: "Rehearsal at 7"},
			want: Outgoing{Kind: OutText, Text: "「Tim：Rehearsal at 7」\n" + protoclient.QuoteSeparator + "\nLou M.: 7 works"}},
		{name: "a disambiguated name", sender: sender{"Lou (@lou:hs.test)"}, content: &event.MessageEventContent{MsgType: event.MsgText, Body: "hi"},
			want: Outgoing{Kind: OutText, Text: "Lou (@lou:hs.test): hi"}},
		{name: "image: the media, then who sent it", sender: lou, content: &event.MessageEventContent{MsgType: event.MsgImage, Body: "score.png", URL: "mxc://hs/x",
			Info: &event.FileInfo{MimeType: "image/png"}},
			want: Outgoing{Kind: OutImage, FileName: "score.png", MimeType: "image/png", Text: "Lou M. sent an image"}},
		{name: "image with a caption", sender: lou, content: &event.MessageEventContent{MsgType: event.MsgImage, Body: "page 2, bar 12", FileName: "bar12.png",
			URL: "mxc://hs/x", Info: &event.FileInfo{MimeType: "image/png"}},
			want: Outgoing{Kind: OutImage, FileName: "bar12.png", MimeType: "image/png", Text: "Lou M. sent an image: page 2, bar 12"}},
		{name: "file", sender: lou, content: &event.MessageEventContent{MsgType: event.MsgFile, Body: "programme.pdf", URL: "mxc://hs/x",
			Info: &event.FileInfo{MimeType: "application/pdf"}},
			want: Outgoing{Kind: OutFile, FileName: "programme.pdf", MimeType: "application/pdf", Text: "Lou M. sent a file"}},
		{name: "video", sender: lou, content: &event.MessageEventContent{MsgType: event.MsgVideo, Body: "clip.mp4", URL: "mxc://hs/x",
			Info: &event.FileInfo{MimeType: "video/mp4"}},
			want: Outgoing{Kind: OutVideo, FileName: "clip.mp4", MimeType: "video/mp4", Text: "Lou M. sent a video"}},
		{name: "audio", sender: lou, content: &event.MessageEventContent{MsgType: event.MsgAudio, Body: "memo.mp3", URL: "mxc://hs/x",
			Info: &event.FileInfo{MimeType: "audio/mpeg"}},
			want: Outgoing{Kind: OutFile, FileName: "memo.mp3", MimeType: "audio/mpeg", Text: "Lou M. sent an audio file"}},
		{name: "location: the template's line, then the map", sender: lou, content: &event.MessageEventContent{MsgType: event.MsgLocation, Body: "Town hall",
			GeoURI: "geo:52.5163,13.3777"},
			want: Outgoing{Kind: OutText, Text: "Lou M. sent a location\nhttps://www.openstreetmap.org/?mlat=52.5163&mlon=13.3777#map=16/52.5163/13.3777"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			formatted, err := relay.FormatMessage(tc.content, tc.sender)
			if err != nil {
				t.Fatal(err)
			}
			got, err := FromMatrixRelayed(context.Background(), formatted, tc.reply, groupDir())
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tc.want.Kind || got.Text != tc.want.Text || got.FileName != tc.want.FileName || got.MimeType != tc.want.MimeType {
				t.Errorf("\n got %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}
