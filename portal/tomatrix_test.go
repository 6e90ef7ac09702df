package portal

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient"
)

// toMatrixCase is one row of the "WeChat → Matrix" table.
type toMatrixCase struct {
	name  string
	msg   func(t *testing.T) *protoclient.Message
	media *fakeMedia
	up    *fakeUploader
	dir   Directory
	opts  Options
	check func(t *testing.T, c *Converted, m *fakeMedia, u *fakeUploader)
}

func textMsg(body string) func(*testing.T) *protoclient.Message {
	return func(*testing.T) *protoclient.Message {
		return &protoclient.Message{MsgId: "1", MsgType: protoclient.MsgText, Content: body}
	}
}

func kindMsg(msgType protoclient.MsgType, appMsgType protoclient.AppMsgType, body string) func(*testing.T) *protoclient.Message {
	return func(*testing.T) *protoclient.Message {
		return &protoclient.Message{MsgId: "2", MsgType: msgType, AppMsgType: appMsgType, Content: body}
	}
}

func fromPayload(name string, edit func(*protoclient.Message)) func(*testing.T) *protoclient.Message {
	return func(t *testing.T) *protoclient.Message {
		m := payload(t, name)
		if edit != nil {
			edit(m)
		}
		return m
	}
}

// appMsg is a MsgType 49 message whose content is a payload XML file, escaped as the
// server delivers it.
func appMsg(file string, appMsgType protoclient.AppMsgType) func(*testing.T) *protoclient.Message {
	return func(t *testing.T) *protoclient.Message {
		body := protoclient.EncodeContent(payloadText(t, file))
		return &protoclient.Message{MsgId: "3", MsgType: protoclient.MsgApp, AppMsgType: appMsgType, Content: body}
	}
}

func one(t *testing.T, c *Converted) *event.MessageEventContent {
	t.Helper()
	if c == nil || len(c.Parts) != 1 || c.Parts[0] == nil {
		t.Fatalf("want one part, got %+v", c)
	}
	return c.Parts[0]
}

func wantNotice(t *testing.T, c *Converted, contains ...string) *event.MessageEventContent {
	t.Helper()
	p := one(t, c)
	if p.MsgType != event.MsgNotice {
		t.Fatalf("msgtype %q, want m.notice (body %q)", p.MsgType, p.Body)
	}
	for _, s := range contains {
		if !strings.Contains(p.Body, s) {
			t.Errorf("notice %q does not contain %q", p.Body, s)
		}
	}
	return p
}

func wantText(t *testing.T, c *Converted, body string) *event.MessageEventContent {
	t.Helper()
	p := one(t, c)
	if p.MsgType != event.MsgText || p.Body != body {
		t.Fatalf("got %q %q, want m.text %q", p.MsgType, p.Body, body)
	}
	return p
}

func wantMentions(t *testing.T, p *event.MessageEventContent, users ...id.UserID) {
	t.Helper()
	if p.Mentions == nil {
		t.Fatal("m.mentions missing")
	}
	got := slices.Clone(p.Mentions.UserIDs)
	slices.Sort(got)
	want := slices.Clone(users)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("m.mentions %v, want %v", got, want)
	}
}

func noUploads(t *testing.T, u *fakeUploader) {
	t.Helper()
	if len(u.uploads) != 0 {
		t.Errorf("%d uploads, want none", len(u.uploads))
	}
}

const quoteBody = "「张三：为什么这么冷」<br/>- - - - - - - - - - - - - - -<br/>多穿点[微笑] @Alice\u2005"

var earlierMsg = &Earlier{EventID: "$quoted", SenderMXID: "@wechat_zhangsan:hs.test", MessageID: "6469713913745187012"}

const emojiXML = `&lt;msg&gt;&lt;emoji fromusername="wxid_a" tousername="wxid_b" type="2" idbuffer="media:0_0" md5="0d8fe9c1f0d2b8a6e0f1a2b3c4d5e6f7" len="2048" productid="" androidmd5="0d8f" cdnurl="http://emoji.qpic.cn/wx_emoji/abc/" thumburl="" encrypturl="" aeskey="" externurl="" externmd5="" width="640" height="320"&gt;&lt;/emoji&gt;&lt;gameext type="0" content="0"&gt;&lt;/gameext&gt;&lt;/msg&gt;`

const linkXML = `&lt;msg&gt;&lt;appmsg appid="" sdkver="0"&gt;&lt;title&gt;Go 1.26 is released&lt;/title&gt;&lt;des&gt;What's new &amp;amp; improved&lt;/des&gt;&lt;type&gt;5&lt;/type&gt;&lt;url&gt;https://go.dev/blog/go1.26?a=1&amp;amp;b=2&lt;/url&gt;&lt;/appmsg&gt;&lt;/msg&gt;`

const musicXML = `&lt;msg&gt;&lt;appmsg appid="wx5aa333606550dfd5" sdkver="0"&gt;&lt;title&gt;晴天&lt;/title&gt;&lt;des&gt;周杰伦&lt;/des&gt;&lt;type&gt;3&lt;/type&gt;&lt;url&gt;https://y.qq.com/n/yqq/song/0039MnYb0qxYhV.html&lt;/url&gt;&lt;dataurl&gt;https://ws.stream.qqmusic.qq.com/C400.m4a&lt;/dataurl&gt;&lt;/appmsg&gt;&lt;/msg&gt;`

const sysTemplateXML = `&lt;sysmsg type="sysmsgtemplate"&gt;&lt;sysmsgtemplate&gt;&lt;content_template type="tmpl_type_profile"&gt;&lt;plain&gt;&lt;![CDATA[]]&gt;&lt;/plain&gt;&lt;template&gt;&lt;![CDATA["$username$"邀请"$names$"加入了群聊]]&gt;&lt;/template&gt;&lt;link_list&gt;&lt;link name="username" type="link_profile"&gt;&lt;memberlist&gt;&lt;member&gt;&lt;username&gt;&lt;![CDATA[wxid_1]]&gt;&lt;/username&gt;&lt;nickname&gt;&lt;![CDATA[管理员]]&gt;&lt;/nickname&gt;&lt;/member&gt;&lt;/memberlist&gt;&lt;/link&gt;&lt;link name="names" type="link_profile"&gt;&lt;memberlist&gt;&lt;member&gt;&lt;username&gt;&lt;![CDATA[wxid_2]]&gt;&lt;/username&gt;&lt;nickname&gt;&lt;![CDATA[宁锐锋]]&gt;&lt;/nickname&gt;&lt;/member&gt;&lt;member&gt;&lt;username&gt;&lt;![CDATA[wxid_3]]&gt;&lt;/username&gt;&lt;nickname&gt;&lt;![CDATA[李佳芮]]&gt;&lt;/nickname&gt;&lt;/member&gt;&lt;/memberlist&gt;&lt;/link&gt;&lt;/link_list&gt;&lt;/content_template&gt;&lt;/sysmsgtemplate&gt;&lt;/sysmsg&gt;`

func TestToMatrix(t *testing.T) {
	png40x30, jpeg20x15, gif64 := pngBytes(40, 30), jpegBytes(20, 15), gifBytes(64, 32)
	zip := append([]byte("PK\x03\x04"), make([]byte, 60)...)

	cases := []toMatrixCase{
		// ---- text (1)
		{name: "text/group payload", msg: fromPayload("msg_group_text.json", nil), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			p := wantText(t, c, "Test Message")
			if p.Format != "" || p.FormattedBody != "" {
				t.Errorf("plain text got HTML %q", p.FormattedBody)
			}
			wantMentions(t, p)
		}},
		{name: "text/emoji spans, entities, smileys", msg: textMsg(`hi <span class="emoji emoji1f604"></span> &lt;b&gt; &amp; [微笑][Smile][旺柴][not a face]<br/>line`), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantText(t, c, "hi 😄 <b> & 🙂🙂[旺柴][not a face]\nline")
		}},
		{name: "text/mentions become pills", msg: textMsg("@Alice\u2005look @Bob Smith at mail@Alice.com, @Bob and @&lt;Tom&amp;Co&gt; @Nobody @我自己"), dir: groupDir(), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			p := wantText(t, c, "@Alice\u2005look @Bob Smith at mail@Alice.com, @Bob and @<Tom&Co> @Nobody @我自己")
			wantMentions(t, p, alice.MXID, bobSmith.MXID, bob.MXID, tag.MXID, me.MXID)
			want := `<a href="https://matrix.to/#/@wechat_alice:hs.test">Alice</a>` + "\u2005look " +
				`<a href="https://matrix.to/#/@wechat_bobsmith:hs.test">Bob Smith</a> at mail@Alice.com, ` +
				`<a href="https://matrix.to/#/@wechat_bob:hs.test">Bob</a> and ` +
				`<a href="https://matrix.to/#/@wechat_tom:hs.test">&lt;Tom&amp;Co&gt;</a> @Nobody ` +
				`<a href="https://matrix.to/#/@user:hs.test">我自己</a>`
			if p.Format != event.FormatHTML || p.FormattedBody != want {
				t.Errorf("formatted_body\n got %q\nwant %q", p.FormattedBody, want)
			}
		}},
		{name: "text/markup is escaped next to a pill", msg: textMsg("@Alice &lt;script&gt;x&lt;/script&gt; [强]"), dir: groupDir(), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			p := wantText(t, c, "@Alice <script>x</script> 👍")
			if strings.Contains(p.FormattedBody, "<script>") || !strings.Contains(p.FormattedBody, "&lt;script&gt;") {
				t.Errorf("formatted body not escaped: %q", p.FormattedBody)
			}
		}},
		// ---- quotes (§5.4.6, 49/57)
		{name: "quote/matched becomes a reply", msg: textMsg(quoteBody), dir: &fakeDir{members: []Member{alice}, quoted: map[quoteQuery]*Earlier{{"张三", "为什么这么冷"}: earlierMsg}}, check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			p := wantText(t, c, "多穿点🙂 @Alice\u2005")
			if c.ReplyTo != earlierMsg {
				t.Errorf("ReplyTo %+v", c.ReplyTo)
			}
			wantMentions(t, p, alice.MXID, earlierMsg.SenderMXID)
		}},
		{name: "quote/unmatched stays a quote block", msg: textMsg(quoteBody), dir: &fakeDir{}, check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			p := wantText(t, c, "> 张三: 为什么这么冷\n\n多穿点🙂 @Alice\u2005")
			if c.ReplyTo != nil {
				t.Error("ReplyTo set without a match")
			}
			if !strings.HasPrefix(p.FormattedBody, "<blockquote><b>张三</b>: 为什么这么冷</blockquote>") {
				t.Errorf("formatted %q", p.FormattedBody)
			}
		}},
		{name: "quote/49-57 found by MsgId", msg: appMsg("appmsg_refer.xml", protoclient.AppMsgRefer), dir: &fakeFinderDir{byID: map[string]*Earlier{"6469713913745187012": earlierMsg}}, check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantText(t, c, "好的，收到")
			if c.ReplyTo != earlierMsg {
				t.Errorf("ReplyTo %+v", c.ReplyTo)
			}
		}},
		{name: "quote/49-57 found by name and text", msg: appMsg("appmsg_refer.xml", protoclient.AppMsgRefer), dir: &fakeDir{quoted: map[quoteQuery]*Earlier{{"张三", "为什么这么冷"}: earlierMsg}}, check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantText(t, c, "好的，收到")
			if c.ReplyTo != earlierMsg {
				t.Errorf("ReplyTo %+v", c.ReplyTo)
			}
		}},
		{name: "quote/49-57 unmatched", msg: appMsg("appmsg_refer.xml", protoclient.AppMsgRefer), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantText(t, c, "> 张三: 为什么这么冷\n\n好的，收到")
		}},
		// ---- image (3)
		{name: "image/payload with thumbnail", msg: fromPayload("msg_image.json", nil),
			media: &fakeMedia{files: map[MediaKind]*Media{MediaImage: {Data: png40x30}, MediaThumb: {Data: jpeg20x15, MimeType: "image/jpeg"}}},
			check: func(t *testing.T, c *Converted, m *fakeMedia, u *fakeUploader) {
				p := one(t, c)
				if p.MsgType != event.MsgImage || p.Body != "image.png" || p.URL != "mxc://test/1" {
					t.Fatalf("got %q %q %q", p.MsgType, p.Body, p.URL)
				}
				i := p.Info
				if i.MimeType != "image/png" || i.Size != len(png40x30) || i.Width != 40 || i.Height != 30 {
					t.Errorf("info %+v", i)
				}
				if len(u.uploads) != 2 || string(u.uploads[0].data) != string(png40x30) {
					t.Fatalf("uploads %d", len(u.uploads))
				}
				if i.ThumbnailURL != u.uploads[1].url || i.ThumbnailInfo == nil || i.ThumbnailInfo.Width != 20 || i.ThumbnailInfo.Height != 15 || i.ThumbnailInfo.MimeType != "image/jpeg" {
					t.Errorf("thumbnail %q %+v", i.ThumbnailURL, i.ThumbnailInfo)
				}
			}},
		{name: "image/GIF labelled jpeg is sniffed", msg: fromPayload("msg_image.json", nil),
			media: &fakeMedia{files: map[MediaKind]*Media{MediaImage: {Data: gif64, MimeType: "image/jpeg"}}},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
				p := one(t, c)
				if p.Info.MimeType != "image/gif" || p.Body != "image.gif" || p.Info.Width != 64 {
					t.Errorf("info %+v body %q", p.Info, p.Body)
				}
				if p.Info.ThumbnailURL != "" {
					t.Error("a failed thumbnail left a URL")
				}
			}},
		{name: "image/undecodable falls back to ImgWidth/ImgHeight", msg: fromPayload("msg_image.json", nil),
			media: &fakeMedia{files: map[MediaKind]*Media{MediaImage: {Data: []byte("\xff\xd8\xff\xe0 truncated jpeg")}}},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
				p := one(t, c)
				if p.Info.MimeType != "image/jpeg" || p.Info.Width != 89 || p.Info.Height != 120 {
					t.Errorf("info %+v", p.Info)
				}
			}},
		{name: "image/thumbnail upload failure is not fatal", msg: fromPayload("msg_image.json", nil),
			media: &fakeMedia{files: map[MediaKind]*Media{MediaImage: {Data: png40x30}, MediaThumb: {Data: jpeg20x15}}},
			up:    &fakeUploader{failAfter: 1},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, u *fakeUploader) {
				p := one(t, c)
				if p.MsgType != event.MsgImage || p.Info.ThumbnailURL != "" || p.Info.ThumbnailInfo != nil {
					t.Errorf("got %+v", p.Info)
				}
			}},
		{name: "image/encrypted room", msg: fromPayload("msg_image.json", nil),
			media: &fakeMedia{files: map[MediaKind]*Media{MediaImage: {Data: png40x30}, MediaThumb: {Data: jpeg20x15}}},
			up:    &fakeUploader{encrypted: true},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
				p := one(t, c)
				if p.URL != "" || p.File == nil || p.File.URL != "mxc://test/1" || p.Info.ThumbnailFile == nil || p.Info.ThumbnailURL != "" {
					t.Errorf("got url %q file %+v thumb %+v", p.URL, p.File, p.Info.ThumbnailFile)
				}
			}},
		{name: "image/download failure is a notice", msg: fromPayload("msg_image.json", nil), check: func(t *testing.T, c *Converted, _ *fakeMedia, u *fakeUploader) {
			wantNotice(t, c, "Image", "phone")
			noUploads(t, u)
		}},
		{name: "image/too large is a notice", msg: fromPayload("msg_image.json", nil), opts: Options{MaxFileSize: 1 << 20},
			media: &fakeMedia{errs: map[MediaKind]error{MediaImage: &protoclient.TooLargeError{Limit: 1 << 20, Size: 3 << 20}}},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, u *fakeUploader) {
				wantNotice(t, c, "Image", "3.0 MiB", "1.0 MiB")
				noUploads(t, u)
			}},
		// ---- voice (34)
		{name: "voice/payload", msg: fromPayload("msg_voice.json", nil),
			media: &fakeMedia{files: map[MediaKind]*Media{MediaVoice: {Data: []byte("ID3\x03mp3 frames"), MimeType: "audio/mp3"}}},
			check: func(t *testing.T, c *Converted, m *fakeMedia, u *fakeUploader) {
				p := one(t, c)
				if p.MsgType != event.MsgAudio || p.Info.MimeType != "audio/mpeg" || p.Info.Duration != 2340 {
					t.Fatalf("got %q %+v", p.MsgType, p.Info)
				}
				if p.MSC3245Voice == nil || p.MSC1767Audio == nil || p.MSC1767Audio.Duration != 2340 {
					t.Errorf("voice flags %+v %+v", p.MSC3245Voice, p.MSC1767Audio)
				}
				raw, _ := json.Marshal(p)
				if !strings.Contains(string(raw), `"org.matrix.msc3245.voice":{}`) || !strings.Contains(string(raw), `"org.matrix.msc1767.audio":{"duration":2340`) {
					t.Errorf("JSON %s", raw)
				}
				if u.uploads[0].mime != "audio/mpeg" || !strings.HasSuffix(u.uploads[0].fileName, ".mp3") {
					t.Errorf("upload %+v", u.uploads[0])
				}
			}},
		// ---- video (43, 62)
		{name: "video/payload with thumbnail", msg: fromPayload("msg_video.json", nil),
			media: &fakeMedia{files: map[MediaKind]*Media{MediaVideo: {Data: []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), MimeType: "application/octet-stream"}, MediaThumb: {Data: jpeg20x15}}},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, u *fakeUploader) {
				p := one(t, c)
				if p.MsgType != event.MsgVideo || p.Info.MimeType != "video/mp4" || p.Info.Duration != 2000 || p.Info.Width != 944 || p.Info.Height != 540 {
					t.Fatalf("got %q %+v", p.MsgType, p.Info)
				}
				if len(u.uploads) != 2 || p.Info.ThumbnailURL != u.uploads[1].url {
					t.Errorf("thumbnail %q", p.Info.ThumbnailURL)
				}
			}},
		{name: "video/62 short video", msg: fromPayload("msg_video.json", func(m *protoclient.Message) { m.MsgType = protoclient.MsgMicroVideo; m.PlayLength = 0; m.ImgWidth = 0 }),
			media: &fakeMedia{files: map[MediaKind]*Media{MediaVideo: {Data: []byte("not sniffable"), MimeType: "video/mp4"}}},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
				p := one(t, c)
				// Duration and size from the XML when the fields are missing.
				if p.MsgType != event.MsgVideo || p.Info.Duration != 2000 || p.Info.Width != 944 {
					t.Fatalf("got %q %+v", p.MsgType, p.Info)
				}
			}},
		// ---- emoticon (47, 49/8)
		{name: "sticker/GIF uploaded unchanged", msg: kindMsg(protoclient.MsgEmoticon, 0, emojiXML),
			media: &fakeMedia{files: map[MediaKind]*Media{MediaEmoticon: {Data: gif64, MimeType: "image/jpeg"}}},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, u *fakeUploader) {
				p := one(t, c)
				if !c.Sticker || p.MsgType != "" || p.URL != "mxc://test/1" || p.Info.MimeType != "image/gif" || !p.Info.IsAnimated {
					t.Fatalf("got sticker=%v %+v %+v", c.Sticker, p, p.Info)
				}
				if len(u.uploads) != 1 || string(u.uploads[0].data) != string(gif64) || u.uploads[0].mime != "image/gif" {
					t.Error("the GIF was not uploaded as it came")
				}
				if p.Info.Width != 64 || p.Info.Height != 32 {
					t.Errorf("size %dx%d", p.Info.Width, p.Info.Height)
				}
			}},
		{name: "sticker/big sticker shown at most 256", msg: kindMsg(protoclient.MsgEmoticon, 0, emojiXML),
			media: &fakeMedia{files: map[MediaKind]*Media{MediaEmoticon: {Data: gifBytes(640, 320)}}},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
				if p := one(t, c); p.Info.Width != 256 || p.Info.Height != 128 {
					t.Errorf("size %dx%d", p.Info.Width, p.Info.Height)
				}
			}},
		{name: "sticker/49-8 app emoji", msg: kindMsg(protoclient.MsgApp, protoclient.AppMsgEmoji, "&lt;msg&gt;&lt;appmsg&gt;&lt;type&gt;8&lt;/type&gt;&lt;/appmsg&gt;&lt;/msg&gt;"),
			media: &fakeMedia{files: map[MediaKind]*Media{MediaEmoticon: {Data: png40x30}}},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
				if p := one(t, c); !c.Sticker || p.Info.MimeType != "image/png" {
					t.Errorf("got %v %+v", c.Sticker, p.Info)
				}
			}},
		{name: "sticker/store sticker is a notice", msg: func(*testing.T) *protoclient.Message {
			return &protoclient.Message{MsgType: protoclient.MsgEmoticon, HasProductId: 1, Content: emojiXML}
		}, check: func(t *testing.T, c *Converted, m *fakeMedia, u *fakeUploader) {
			if p := wantNotice(t, c); p.Body != "[Sticker — open WeChat on your phone to see it]" || c.Sticker {
				t.Errorf("got %q", p.Body)
			}
			if len(m.calls) != 0 {
				t.Error("downloaded a store sticker")
			}
		}},
		{name: "sticker/empty content is a notice", msg: kindMsg(protoclient.MsgEmoticon, 0, ""), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "Sticker", "phone")
		}},
		{name: "sticker/download failure is a notice", msg: kindMsg(protoclient.MsgEmoticon, 0, emojiXML), check: func(t *testing.T, c *Converted, m *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "Sticker", "phone")
			if !m.called(MediaEmoticon) {
				t.Error("not even tried")
			}
		}},
		// ---- file (49/6)
		{name: "file/payload", msg: fromPayload("msg_file.json", nil),
			media: &fakeMedia{files: map[MediaKind]*Media{MediaFile: {Data: zip, MimeType: "application/octet-stream"}}},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, u *fakeUploader) {
				p := one(t, c)
				if p.MsgType != event.MsgFile || p.Body != "fileName.zip" || p.FileName != "fileName.zip" || p.Info.Size != len(zip) || p.Info.MimeType != "application/zip" {
					t.Fatalf("got %q %q %+v", p.MsgType, p.Body, p.Info)
				}
				if len(u.uploads) != 1 || u.uploads[0].fileName != "fileName.zip" {
					t.Errorf("uploads %+v", u.uploads)
				}
			}},
		{name: "file/over the limit is not downloaded", msg: fromPayload("msg_file.json", nil), opts: Options{MaxFileSize: 512},
			media: &fakeMedia{files: map[MediaKind]*Media{MediaFile: {Data: zip}}},
			check: func(t *testing.T, c *Converted, m *fakeMedia, u *fakeUploader) {
				wantNotice(t, c, "fileName.zip", "1.0 KiB", "512 bytes")
				if len(m.calls) != 0 {
					t.Error("downloaded a file over the limit")
				}
				noUploads(t, u)
			}},
		{name: "file/too large found while downloading", msg: fromPayload("msg_file.json", func(m *protoclient.Message) { m.FileSize = "" }), opts: Options{MaxFileSize: 2000},
			media: &fakeMedia{errs: map[MediaKind]error{MediaFile: &protoclient.TooLargeError{Limit: 2000, Size: 5000}}},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, u *fakeUploader) {
				wantNotice(t, c, "fileName.zip", "4.9 KiB")
				noUploads(t, u)
			}},
		{name: "file/pdf by extension", msg: func(*testing.T) *protoclient.Message {
			return &protoclient.Message{MsgType: protoclient.MsgApp, AppMsgType: 6, FileName: "a/../report.pdf", FileSize: "5", Content: "broken <xml"}
		}, media: &fakeMedia{files: map[MediaKind]*Media{MediaFile: {Data: []byte("%PDF-")}}}, check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			if p := one(t, c); p.Body != "report.pdf" || p.Info.MimeType != "application/pdf" {
				t.Errorf("got %q %+v", p.Body, p.Info)
			}
		}},
		// ---- link cards, music, mini programs, article lists
		{name: "link/49-5", msg: kindMsg(protoclient.MsgApp, protoclient.AppMsgURL, linkXML), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			p := wantText(t, c, "Go 1.26 is released\nWhat's new & improved\nhttps://go.dev/blog/go1.26?a=1&b=2")
			want := `<a href="https://go.dev/blog/go1.26?a=1&amp;b=2"><b>Go 1.26 is released</b></a><br/>What&#39;s new &amp; improved`
			if p.FormattedBody != want {
				t.Errorf("formatted\n got %q\nwant %q", p.FormattedBody, want)
			}
		}},
		{name: "link/javascript URL is not a link", msg: kindMsg(protoclient.MsgApp, protoclient.AppMsgURL, strings.ReplaceAll(linkXML, "https://go.dev/blog/go1.26?a=1&amp;amp;b=2", "javascript:alert(1)")), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			p := one(t, c)
			if strings.Contains(p.FormattedBody, "href") || strings.Contains(p.Body, "javascript") {
				t.Errorf("got %q / %q", p.Body, p.FormattedBody)
			}
		}},
		{name: "link/music 49-3", msg: kindMsg(protoclient.MsgApp, protoclient.AppMsgAudio, musicXML), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			p := wantText(t, c, "Music: 晴天\n周杰伦\nhttps://y.qq.com/n/yqq/song/0039MnYb0qxYhV.html\nhttps://ws.stream.qqmusic.qq.com/C400.m4a")
			if !strings.Contains(p.FormattedBody, `<a href="https://y.qq.com/n/yqq/song/0039MnYb0qxYhV.html"><b>晴天</b></a>`) {
				t.Errorf("formatted %q", p.FormattedBody)
			}
		}},
		{name: "link/mini program 49-33", msg: appMsg("appmsg_miniprogram.xml", protoclient.AppMsgMiniProgram), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			p := wantText(t, c, "Mini program 某小程序: 小程序标题\nopen it in WeChat on your phone")
			if strings.Contains(p.FormattedBody, "waerrpage") {
				t.Errorf("upgrade page linked: %q", p.FormattedBody)
			}
		}},
		{name: "link/mini program 49-36", msg: appMsg("appmsg_miniprogram.xml", protoclient.AppMsgMiniProgApp), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantText(t, c, "Mini program 某小程序: 小程序标题\nopen it in WeChat on your phone")
		}},
		{name: "link/article list", msg: appMsg("appmsg_article_list.xml", protoclient.AppMsgURL), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			p := wantText(t, c, "今日头条\n• 第一篇\n  http://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1&sn=a#rd\n  第一篇摘要\n• 第二篇 & 更多\n  http://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=2&sn=b#rd")
			if strings.Count(p.FormattedBody, "<li>") != 2 || !strings.Contains(p.FormattedBody, `<a href="http://mp.weixin.qq.com/s?__biz=MzA&amp;mid=1&amp;idx=2&amp;sn=b#rd">第二篇 &amp; 更多</a>`) {
				t.Errorf("formatted %q", p.FormattedBody)
			}
		}},
		{name: "link/XML broken, fields still give a link", msg: func(*testing.T) *protoclient.Message {
			return &protoclient.Message{MsgType: protoclient.MsgApp, AppMsgType: 5, FileName: "Title &amp; more", Url: "https://example.org/?a=1&amp;b=2", Content: "&lt;msg&gt;&lt;appmsg"}
		}, check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantText(t, c, "Title & more\nhttps://example.org/?a=1&b=2")
		}},
		// ---- location (1 + SubMsgType 48, 49/17)
		{name: "location/payload", msg: fromPayload("msg_location.json", nil), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			p := one(t, c)
			if p.MsgType != event.MsgLocation || p.GeoURI != "geo:22,113" || p.Body != "深圳市xxxx" {
				t.Errorf("got %q %q %q", p.MsgType, p.GeoURI, p.Body)
			}
		}},
		{name: "location/POI name and address", msg: fromPayload("msg_location.json", func(m *protoclient.Message) {
			m.OriContent = strings.Replace(m.OriContent, `poiname="[位置]"`, `poiname="腾讯大厦"`, 1)
		}), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			if p := one(t, c); p.Body != "腾讯大厦\n深圳市xxxx" {
				t.Errorf("body %q", p.Body)
			}
		}},
		{name: "location/only the Url", msg: fromPayload("msg_location.json", func(m *protoclient.Message) { m.OriContent = "" }), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			if p := one(t, c); p.GeoURI != "geo:22,113" || p.Body != "深圳市xxxx" {
				t.Errorf("got %q %q", p.GeoURI, p.Body)
			}
		}},
		{name: "location/no coordinates", msg: fromPayload("msg_location.json", func(m *protoclient.Message) { m.OriContent, m.Url = "", "" }), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "深圳市xxxx", "phone")
		}},
		{name: "location/49-17 live location start", msg: kindMsg(protoclient.MsgApp, protoclient.AppMsgRealtimeLoc, "&lt;msg&gt;&lt;appmsg&gt;&lt;title&gt;我发起了位置共享&lt;/title&gt;&lt;type&gt;17&lt;/type&gt;&lt;/appmsg&gt;&lt;/msg&gt;"), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "Live location", "phone", "我发起了位置共享")
		}},
		{name: "location/49-17 with coordinates", msg: func(t *testing.T) *protoclient.Message {
			m := payload(t, "msg_location.json")
			body := "&lt;msg&gt;&lt;appmsg&gt;&lt;title&gt;我发起了位置共享&lt;/title&gt;&lt;type&gt;17&lt;/type&gt;&lt;/appmsg&gt;&lt;/msg&gt;"
			return &protoclient.Message{MsgType: 49, AppMsgType: 17, Content: body, OriContent: m.OriContent}
		}, check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			if p := one(t, c); p.MsgType != event.MsgLocation || p.Body != "Live location: 深圳市xxxx" {
				t.Errorf("got %q %q", p.MsgType, p.Body)
			}
		}},
		// ---- contact card (42)
		{name: "card/payload", msg: fromPayload("msg_card.json", nil), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			if p := wantNotice(t, c); p.Body != "Contact card: yaphone (WeChat ID: wxid_a6p74rz9ovbz21)" {
				t.Errorf("got %q", p.Body)
			}
		}},
		{name: "card/broken XML uses RecommendInfo", msg: fromPayload("msg_card.json", func(m *protoclient.Message) { m.Content = "garbage" }), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "Contact card: yaphone")
		}},
		// ---- system (10000)
		{name: "system/friend added", msg: fromPayload("msg_friend_added.json", nil), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			if p := wantNotice(t, c); p.Body != "You have added 李卓桓.PreAngel as your WeChat contact. Start chatting!" {
				t.Errorf("got %q", p.Body)
			}
		}},
		{name: "system/group join", msg: kindMsg(protoclient.MsgSys, 0, `"管理员"邀请"宁锐锋"加入了群聊`), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			if p := wantNotice(t, c); p.Body != `"管理员"邀请"宁锐锋"加入了群聊` {
				t.Errorf("got %q", p.Body)
			}
		}},
		{name: "system/sysmsgtemplate", msg: kindMsg(protoclient.MsgSys, 0, sysTemplateXML), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			if p := wantNotice(t, c); p.Body != `"管理员"邀请"宁锐锋、李佳芮"加入了群聊` {
				t.Errorf("got %q", p.Body)
			}
		}},
		{name: "system/pat", msg: kindMsg(protoclient.MsgSys, 0, `&lt;sysmsg type="pat"&gt;&lt;pat&gt;&lt;fromusername&gt;wxid_a&lt;/fromusername&gt;&lt;template&gt;&lt;![CDATA["${wxid_a}" 拍了拍我]]&gt;&lt;/template&gt;&lt;/pat&gt;&lt;/sysmsg&gt;`), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "拍了拍我")
		}},
		{name: "system/red packet text", msg: kindMsg(protoclient.MsgSys, 0, "收到红包，请在手机上查看"), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "Red packet", "phone", "收到红包")
		}},
		// ---- revoke (10002): handled by the bridge; ToMatrix only shows the text
		{name: "revoke/parsable", msg: fromPayload("msg_revoke_group.json", nil), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "你撤回了一条消息")
		}},
		{name: "revoke/unparsable", msg: kindMsg(protoclient.MsgRecalled, 0, "&lt;sysmsg type=&quot;revokemsg"), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "recalled")
		}},
		// ---- friend request (37) reaching ToMatrix anyway
		{name: "friend request/notice", msg: fromPayload("msg_friend_request.json", nil), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "李卓桓.PreAngel", AcceptFriendCommand+" wxid_a8d806dzznm822")
		}},
		// ---- red packet, transfer, voip, unknown
		{name: "other/red packet 49-2001", msg: kindMsg(protoclient.MsgApp, protoclient.AppMsgRedEnvelopes, "&lt;msg&gt;&lt;appmsg&gt;&lt;title&gt;恭喜发财，大吉大利&lt;/title&gt;&lt;type&gt;2001&lt;/type&gt;&lt;/appmsg&gt;&lt;/msg&gt;"), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "Red packet", "phone", "恭喜发财")
		}},
		{name: "other/transfer 49-2000", msg: func(*testing.T) *protoclient.Message {
			b := "&lt;msg&gt;&lt;appmsg&gt;&lt;title&gt;&lt;![CDATA[微信转账]]&gt;&lt;/title&gt;&lt;des&gt;&lt;![CDATA[收到转账0.01元]]&gt;&lt;/des&gt;&lt;type&gt;2000&lt;/type&gt;&lt;/appmsg&gt;&lt;/msg&gt;"
			return &protoclient.Message{MsgType: 49, AppMsgType: 2000, FileName: "微信转账", Content: b}
		}, check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "Money transfer", "phone", "收到转账0.01元")
		}},
		{name: "other/voip 50", msg: kindMsg(protoclient.MsgVoip, 0, "&lt;voipmsg type=\"VoIPBubbleMsg\"&gt;"), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "Call", "phone")
		}},
		{name: "other/voip 52", msg: kindMsg(protoclient.MsgVoipNotify, 0, ""), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "Call")
		}},
		{name: "other/voip 53", msg: kindMsg(protoclient.MsgVoipInvite, 0, ""), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "Call")
		}},
		{name: "other/chat history 49-19", msg: kindMsg(protoclient.MsgApp, protoclient.AppMsgChatHistory, "&lt;msg&gt;&lt;appmsg&gt;&lt;title&gt;群聊的聊天记录&lt;/title&gt;&lt;des&gt;张三: 你好<br/>李四: 好&lt;/des&gt;&lt;type&gt;19&lt;/type&gt;&lt;/appmsg&gt;&lt;/msg&gt;"), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "Chat history", "群聊的聊天记录", "张三: 你好\n李四: 好")
		}},
		{name: "other/unknown app type", msg: kindMsg(protoclient.MsgApp, 12345, "&lt;msg&gt;&lt;appmsg&gt;&lt;title&gt;新东西&lt;/title&gt;&lt;/appmsg&gt;&lt;/msg&gt;"), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "App message", "phone", "新东西")
		}},
		{name: "other/unknown MsgType", msg: kindMsg(4242, 0, "?"), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "Unsupported WeChat message", "phone")
		}},
		// ---- led by the sender's name (the official accounts' room)
		{name: "lead/text", msg: textMsg("Today's <news> & more"), opts: Options{Lead: "Daily <News>"},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
				p := one(t, c)
				if p.Body != "Daily <News>: Today's <news> & more" || p.FormattedBody != "<b>Daily &lt;News&gt;</b>: Today&#39;s &lt;news&gt; &amp; more" {
					t.Errorf("body %q, html %q", p.Body, p.FormattedBody)
				}
			}},
		{name: "lead/article list", msg: appMsg("appmsg_article_list.xml", protoclient.AppMsgURL), opts: Options{Lead: "Daily News"},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
				p := one(t, c)
				if !strings.HasPrefix(p.Body, "Daily News: ") || !strings.HasPrefix(p.FormattedBody, "<b>Daily News</b>: <b>今日头条</b><ul><li><a href=") {
					t.Errorf("body %q, html %q", p.Body, p.FormattedBody)
				}
			}},
		{name: "lead/image gets a line of its own", msg: fromPayload("msg_image.json", nil), opts: Options{Lead: "Daily News"},
			media: &fakeMedia{files: map[MediaKind]*Media{MediaImage: {Data: png40x30}}},
			check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
				if len(c.Parts) != 2 || c.Parts[0].Body != "Daily News" || c.Parts[0].FormattedBody != "<b>Daily News</b>" || c.Parts[1].MsgType != event.MsgImage {
					t.Fatalf("parts %+v", c.Parts)
				}
			}},
		{name: "other/app XML broken", msg: kindMsg(protoclient.MsgApp, 0, "&lt;msg&gt;&lt;appmsg&lt;&lt;"), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			wantNotice(t, c, "could not be shown")
		}},
		{name: "other/status notify is not a message", msg: kindMsg(protoclient.MsgStatusNotify, 0, ""), check: func(t *testing.T, c *Converted, _ *fakeMedia, _ *fakeUploader) {
			if c == nil || len(c.Parts) != 0 {
				t.Errorf("got %+v", c)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.msg(t)
			m, u := tc.media, tc.up
			if m == nil {
				m = &fakeMedia{}
			}
			if u == nil {
				u = &fakeUploader{}
			}
			dir := tc.dir
			if dir == nil {
				dir = &fakeDir{}
			}
			c, err := ToMatrix(context.Background(), decode(msg), m, u, dir, tc.opts)
			if err != nil {
				t.Fatalf("error %v", err)
			}
			tc.check(t, c, m, u)
			for _, p := range c.Parts {
				if _, err := json.Marshal(p); err != nil {
					t.Errorf("content does not marshal: %v", err)
				}
			}
		})
	}
}

func TestToMatrixErrors(t *testing.T) {
	msg := payload(t, "msg_image.json")
	ev := decode(msg)
	media := &fakeMedia{files: map[MediaKind]*Media{MediaImage: {Data: pngBytes(2, 2)}}}

	// A Matrix upload failure is the bridge's to retry.
	_, err := ToMatrix(context.Background(), ev, media, &fakeUploader{err: errors.New("502")}, &fakeDir{}, Options{})
	if err == nil {
		t.Fatal("upload failure not returned")
	}

	// A cancelled context stops the conversion, even when the download fails because of it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ToMatrix(ctx, ev, media, &fakeUploader{}, &fakeDir{}, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}

	// Missing media interfaces are a notice, not a panic.
	c, err := ToMatrix(context.Background(), ev, nil, nil, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantNotice(t, c, "Image")
	if c, err := ToMatrix(context.Background(), nil, nil, nil, nil, Options{}); err != nil || len(c.Parts) != 1 {
		t.Fatalf("nil message: %v %+v", err, c)
	}
}

func TestFriendRequestNotice(t *testing.T) {
	msg := payload(t, "msg_friend_request.json")
	ev := decode(msg)
	content, ft := FriendRequestNotice(ev.Info, ev.Content.(*protoclient.FriendRequest))
	want := FriendRequest{ID: "wxid_a8d806dzznm822", FriendRequest: protoclient.FriendRequest{
		UserName:        "@04a0fa314d0d8d50dc54e2ec908744ebf46b87404d143fd9a6692182dd90bd49",
		Ticket:          "v2_ba70dfbdb1b10168d61c1ab491be19e219db11ed5c28701f605efb4dccbf132f664d8a4c9ef6e852b2a4e8d8638be81d125c2e641f01903669539c53f1e582b2@stranger",
		WxID:            "wxid_a8d806dzznm822",
		EncryptUserName: "v1_c1e03a32c60dd9a9e14f1092132808a2de0ad363f79b303693654282954fbe4d3e12481166f4b841f28de3dd58b0bd54@stranger",
		NickName:        "李卓桓.PreAngel",
		Alias:           "zixia008",
		Greeting:        `我是群聊"Wechaty"的李卓桓.PreAngel`,
		ChatRoom:        "2332413729@chatroom",
	}}
	if ft != want {
		t.Errorf("ticket\n got %+v\nwant %+v", ft, want)
	}
	wantBody := "李卓桓.PreAngel (WeChat ID: zixia008) wants to add you as a WeChat contact.\n" +
		"Message: 我是群聊\"Wechaty\"的李卓桓.PreAngel\n" +
		"They found you in the group 2332413729@chatroom.\n" +
		"To accept, send: accept-friend wxid_a8d806dzznm822"
	if content.MsgType != event.MsgNotice || content.Body != wantBody {
		t.Errorf("body\n got %q\nwant %q", content.Body, wantBody)
	}
	if !strings.Contains(content.FormattedBody, "<code>accept-friend wxid_a8d806dzznm822</code>") || !strings.Contains(content.FormattedBody, "&#34;Wechaty&#34;") {
		t.Errorf("formatted %q", content.FormattedBody)
	}

	// Without the XML and the ticket: still a notice, and it says to use the phone.
	bare := &protoclient.Message{MsgId: "9", MsgType: 37, RecommendInfo: protoclient.RecommendInfo{NickName: "X"}}
	bareEv := decode(bare)
	content, ft = FriendRequestNotice(bareEv.Info, bareEv.Content.(*protoclient.FriendRequest))
	if ft.CanAccept() || ft.ID != "9" || !strings.Contains(content.Body, "phone") {
		t.Errorf("bare: %+v %q", ft, content.Body)
	}
}

func TestReplaceSmileys(t *testing.T) {
	for in, want := range map[string]string{
		"[微笑]":                               "🙂",
		"[Smile][强]":                         "🙂👍",
		"[[微笑]]":                             "[🙂]",
		"[旺柴] [unknown]":                     "[旺柴] [unknown]",
		"a[b":                                "a[b",
		"[" + strings.Repeat("x", 100) + "]": "[" + strings.Repeat("x", 100) + "]",
		"[OK]":                               "👌",
		"[叹气]":                               "😮‍💨",
		"no face":                            "no face",
	} {
		if got := ReplaceSmileys(in); got != want {
			t.Errorf("ReplaceSmileys(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 1023: "1023 bytes", 1024: "1.0 KiB", 5000: "4.9 KiB", 3 << 20: "3.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWebPSize(t *testing.T) {
	vp8x := []byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\x3f\x01\x00\xc7\x00\x00")
	if w, h, ok := imageSize(vp8x); !ok || w != 320 || h != 200 {
		t.Errorf("VP8X: %d %d %v", w, h, ok)
	}
	if _, _, ok := imageSize([]byte("RIFF")); ok {
		t.Error("short data has a size")
	}
}

// A group's member list is built only for text that can mention someone: most messages
// have no '@', and listing a big group for each of them was a measurable share of the
// bridge's CPU per message.
func TestMembersListedOnlyForMentions(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		body   string
		listed int
	}{{"good morning", 0}, {"@Alice\u2005good morning", 1}} {
		dir := groupDir()
		msg := &protoclient.Message{MsgId: "1", MsgType: protoclient.MsgText, Content: tc.body}
		c, err := ToMatrix(ctx, decode(msg), nil, nil, dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Parts[0].Body; got != tc.body {
			t.Errorf("%q became %q", tc.body, got)
		}
		if dir.listed != tc.listed {
			t.Errorf("%q: member list built %d times, want %d", tc.body, dir.listed, tc.listed)
		}
	}
}
