package portal

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// FuzzToMatrix feeds random content with random kinds through the conversion, calling
// the unguarded toMatrix so that a panic fails the fuzzer instead of being turned into
// a notice by ToMatrix's recover. The media fake returns the content's own bytes, so
// the image/sticker/file paths see hostile data too.
func FuzzToMatrix(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "protoclient", "testdata", "payloads", "msg_*.json"))
	for _, p := range seeds {
		m := payload(f, filepath.Base(p))
		f.Add(m.Content, int(m.MsgType), int(m.AppMsgType), m.SubMsgType, m.OriContent, m.Url, false)
	}
	xmls, _ := filepath.Glob(filepath.Join("..", "protoclient", "testdata", "payloads", "appmsg_*.xml"))
	for _, p := range xmls {
		raw, _ := os.ReadFile(p)
		f.Add(string(raw), int(protoclient.MsgApp), 5, 0, "", "", true)
		f.Add(protoclient.EncodeContent(string(raw)), int(protoclient.MsgApp), 57, 0, "", "", false)
	}
	f.Add(quoteBody, 1, 0, 0, "", "", false)
	f.Add(emojiXML, 47, 0, 0, "", "", true)
	f.Add(sysTemplateXML, 10000, 0, 0, "", "", false)
	f.Add("@Alice\u2005@Bob Smith [微笑]", 1, 0, 48, "<msg><location x='1' y='2'/></msg>", "http://x/?coord=1,2", false)

	dir := groupDir()
	f.Fuzz(func(t *testing.T, content string, msgType, appMsgType, subMsgType int, ori, url string, hasProduct bool) {
		msg := &protoclient.Message{
			MsgId: "1", MsgType: protoclient.MsgType(msgType), AppMsgType: protoclient.AppMsgType(appMsgType), SubMsgType: subMsgType,
			Content: content, OriContent: ori, Url: url, FileName: content, FileSize: url,
			VoiceLength: int64(len(content)) * 1000, PlayLength: int64(appMsgType), ImgWidth: subMsgType, ImgHeight: appMsgType,
		}
		if hasProduct {
			msg.HasProductId = 1
		}
		data := []byte(content)
		media := &fakeMedia{files: map[MediaKind]*Media{
			MediaImage: {Data: data, MimeType: ori}, MediaThumb: {Data: data}, MediaEmoticon: {Data: data},
			MediaVoice: {Data: data}, MediaVideo: {Data: data}, MediaFile: {Data: data, FileName: url},
		}}
		c, err := toMatrix(context.Background(), decode(msg), media, &fakeUploader{}, dir, Options{MaxFileSize: 1 << 10})
		if err != nil {
			t.Fatalf("error for content: %v", err)
		}
		for _, p := range c.Parts {
			if p == nil {
				t.Fatal("nil part")
			}
			if !c.Sticker && p.MsgType == "" {
				t.Fatal("part without msgtype")
			}
			if p.Format == event.FormatHTML && strings.Contains(p.FormattedBody, "javascript:") && strings.Contains(p.FormattedBody, `href="javascript:`) {
				t.Fatalf("unsafe link %q", p.FormattedBody)
			}
		}
		if mt := msg.MsgType; mt != protoclient.MsgStatusNotify && mt != protoclient.MsgSysNotice && mt != protoclient.MsgPossibleFriend && len(c.Parts) == 0 {
			t.Fatal("a message became silence")
		}
	})
}

// FuzzFromMatrix checks the HTML path, which reads whatever a Matrix client sent.
func FuzzFromMatrix(f *testing.F) {
	f.Add(`<a href="https://matrix.to/#/@wechat_alice:hs.test">Alice</a>: <ul><li>x</li></ul>`, "m.text", "geo:1,2")
	f.Add(`<mx-reply>x</mx-reply>y`, "m.location", "geo:91,0")
	f.Add("", "m.image", "")
	dir := groupDir()
	f.Fuzz(func(t *testing.T, formatted, msgType, geo string) {
		c := &event.MessageEventContent{MsgType: event.MessageType(msgType), Body: formatted, Format: event.FormatHTML, FormattedBody: formatted, GeoURI: geo, URL: "mxc://a/b"}
		_, _ = FromMatrix(context.Background(), c, &QuotedMessage{SenderName: formatted, Text: formatted}, dir)
	})
}
