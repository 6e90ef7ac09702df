//go:build e2e

package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

// Issue 4, both tables, one subtest per row: every WeChat message kind reaches Matrix as
// the right event, and every Matrix event reaches WeChat or fails visibly. Media is
// compared byte for byte (Matrix media repository ↔ the bytes given to wxsim, and wxsim
// media_sha256 ↔ the bytes uploaded to Matrix).

const quoteSep = "- - - - - - - - - - - - - - -"

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// TestWeChatToMatrix: Kim (wxid_kim) gets one message of every kind from Leo, Mia and
// their group.
func TestWeChatToMatrix(t *testing.T) {
	a := newWorld(t)
	defer a.printDelays(t)
	const (
		kim, leo, mia, eve = "wxid_kim", "wxid_leo", "wxid_mia", "wxid_eve"
		crew, crewName     = "crew2026@chatroom", "Climbing Crew"
	)
	acc := a.setupAccount(t, "kim", kim, "Kim", 2001,
		[]wxsim.ContactSpec{{Wxid: leo, Nickname: new("Leo")}, {Wxid: mia, Nickname: new("Mia")}},
		[]wxsim.GroupSpec{{ID: crew, Name: crewName, Members: []string{leo, mia}}})
	u := acc.u
	var dm, group id.RoomID // Kim's portals with Leo and with the group

	// w2m makes someone write and waits for the matching event (in any room: the first
	// message of a chat finds its portal).
	w2m := func(t *testing.T, what string, m wxsim.WorldMessage, match func(*harness.Seen) bool) (*harness.Seen, wxsim.MsgRef) {
		t.Helper()
		from := u.Mark()
		ref, t0 := a.incomingRef(t, kim, m)
		ev := a.awaitMessage(t, u, from, waitPortal, what, match)
		a.note(t, "W→M", what, ev.At.Sub(t0))
		return ev, ref
	}
	inDM := func(ms ...func(*harness.Seen) bool) func(*harness.Seen) bool {
		return func(s *harness.Seen) bool { return dm != "" && s.Room == dm && harness.And(ms...)(s) }
	}
	needDM := func(t *testing.T) {
		if dm == "" {
			t.Skip("no portal with Leo (the text row failed)")
		}
	}
	isMsgType := func(mt event.MessageType) func(*harness.Seen) bool {
		return func(s *harness.Seen) bool { return s.IsMessage() && !s.IsEdit() && s.MsgType() == string(mt) }
	}
	checkMedia := func(t *testing.T, ev *harness.Seen, want []byte) {
		t.Helper()
		url := ev.Str("url")
		if !strings.HasPrefix(url, "mxc://") {
			t.Fatalf("no mxc:// url in %s: %v", ev, ev.Evt.Content.Raw)
		}
		got := download(t, u, url)
		if sha(got) != sha(want) {
			t.Errorf("the Matrix media of %s differs from what WeChat sent: %d bytes sha256 %s, want %d bytes %s", ev.MsgType(), len(got), sha(got), len(want), sha(want))
		}
		if n := num(ev.Info(), "size"); n != int64(len(want)) {
			t.Errorf("info.size = %d, want %d", n, len(want))
		}
	}

	run(t, "text_emoji_smileys_entities", func(t *testing.T) {
		text := `Morning Kim 😀 [微笑] [Smile] fish & chips <3 "quoted"`
		want := `Morning Kim 😀 🙂 🙂 fish & chips <3 "quoted"`
		ev, _ := w2m(t, "text", wxsim.WorldMessage{From: leo, Type: 1, Content: text}, bodyContains("Morning Kim"))
		dm = ev.Room
		if ev.Body() != want || ev.MsgType() != string(event.MsgText) {
			t.Errorf("got %s %q, want m.text %q", ev.MsgType(), ev.Body(), want)
		}
		if ev.Evt.Sender != a.ghost(leo) {
			t.Errorf("sender %s, want %s", ev.Evt.Sender, a.ghost(leo))
		}
	}, u)

	run(t, "group_mentions", func(t *testing.T) {
		ev, _ := w2m(t, "group text", wxsim.WorldMessage{From: mia, Chat: crew, Type: 1, Content: "Who's in for Saturday?"}, bodyContains("Who's in for Saturday?"))
		group = ev.Room
		if group == dm {
			t.Fatalf("the group message landed in the DM with Leo")
		}
		text := "@Leo\u2005bring the rope please, @Kim\u2005you too"
		ev, _ = w2m(t, "group mentions", wxsim.WorldMessage{From: mia, Chat: crew, Type: 1, Content: text},
			harness.And(harness.InRoom(group), bodyContains("bring the rope")))
		if ev.Evt.Sender != a.ghost(mia) {
			t.Errorf("sender %s, want %s", ev.Evt.Sender, a.ghost(mia))
		}
		mentioned := ev.MentionedUsers()
		for _, want := range []id.UserID{a.ghost(leo), u.ID()} {
			found := false
			for _, m := range mentioned {
				found = found || m == want
			}
			if !found {
				t.Errorf("m.mentions.user_ids = %v, want %s in it", mentioned, want)
			}
		}
		fb := ev.Str("formatted_body")
		if !strings.Contains(fb, `href="https://matrix.to/#/`+string(a.ghost(leo))+`"`) {
			t.Errorf("no pill for Leo's ghost in formatted_body %q", fb)
		}
	}, u)

	run(t, "image", func(t *testing.T) {
		needDM(t)
		img := testPNG(t, 64, 48)
		ev, _ := w2m(t, "image", wxsim.WorldMessage{From: leo, Type: 3, MediaBase64: b64(img), FileName: "photo.png"}, inDM(isMsgType(event.MsgImage)))
		info := ev.Info()
		if str(info, "mimetype") != "image/png" || num(info, "w") != 64 || num(info, "h") != 48 {
			t.Errorf("info = %v, want image/png 64×48", info)
		}
		if !strings.HasPrefix(str(info, "thumbnail_url"), "mxc://") || info["thumbnail_info"] == nil {
			t.Errorf("no thumbnail in info %v", info)
		}
		checkMedia(t, ev, img)
	}, u)

	run(t, "voice", func(t *testing.T) {
		needDM(t)
		voice := append([]byte("ID3\x03\x00\x00\x00\x00\x00\x0f"), bytes.Repeat([]byte{0xff, 0xfb, 0x90, 0x64}, 600)...)
		ev, _ := w2m(t, "voice", wxsim.WorldMessage{From: leo, Type: 34, MediaBase64: b64(voice), VoiceLengthMS: 4200}, inDM(isMsgType(event.MsgAudio)))
		if _, ok := ev.Evt.Content.Raw["org.matrix.msc3245.voice"]; !ok {
			t.Errorf("no MSC3245 voice flag: %v", ev.Evt.Content.Raw)
		}
		if d := num(ev.Info(), "duration"); d != 4200 {
			t.Errorf("info.duration = %d, want 4200", d)
		}
		checkMedia(t, ev, voice)
	}, u)

	run(t, "video", func(t *testing.T) {
		needDM(t)
		video := append([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), bytes.Repeat([]byte("mdat"), 1000)...)
		ev, _ := w2m(t, "video", wxsim.WorldMessage{From: leo, Type: 43, MediaBase64: b64(video), PlayLengthS: 7, Width: 640, Height: 360,
			ThumbBase64: b64(testPNG(t, 32, 18))}, inDM(isMsgType(event.MsgVideo)))
		info := ev.Info()
		if num(info, "duration") != 7000 || num(info, "w") != 640 || num(info, "h") != 360 {
			t.Errorf("info = %v, want duration 7000, 640×360", info)
		}
		if str(info, "mimetype") != "video/mp4" {
			t.Errorf("mimetype %q, want video/mp4", str(info, "mimetype"))
		}
		if !strings.HasPrefix(str(info, "thumbnail_url"), "mxc://") {
			t.Errorf("no thumbnail in info %v", info)
		}
		checkMedia(t, ev, video)
	}, u)

	run(t, "sticker_gif", func(t *testing.T) {
		needDM(t)
		g := testGIF(t, 40, 40)
		ev, _ := w2m(t, "sticker", wxsim.WorldMessage{From: leo, Type: 47, MediaBase64: b64(g)}, inDM(ofType(event.EventSticker)))
		if str(ev.Info(), "mimetype") != "image/gif" {
			t.Errorf("sticker mimetype %q, want image/gif", str(ev.Info(), "mimetype"))
		}
		checkMedia(t, ev, g)
	}, u)

	run(t, "sticker_store_is_notice", func(t *testing.T) {
		needDM(t)
		ev, _ := w2m(t, "store sticker", wxsim.WorldMessage{From: leo, Type: 47, MediaBase64: b64(testGIF(t, 20, 20)),
			Raw: raw(t, map[string]any{"HasProductId": 1})}, inDM(func(s *harness.Seen) bool { return s.IsMessage() || s.Evt.Type == event.EventSticker }))
		if ev.MsgType() != string(event.MsgNotice) || !strings.Contains(ev.Body(), "Sticker") || !strings.Contains(ev.Body(), "phone") {
			t.Errorf("a store sticker became %s %s %q, want a notice about a sticker to see on the phone", ev.Evt.Type.Type, ev.MsgType(), ev.Body())
		}
	}, u)

	run(t, "file", func(t *testing.T) {
		needDM(t)
		data := append([]byte("%PDF-1.4\n% minutes of the club meeting\n"), bytes.Repeat([]byte("0123456789abcdef"), 1280)...)
		ev, _ := w2m(t, "file", wxsim.WorldMessage{From: leo, Type: 49, AppMsgType: 6, MediaBase64: b64(data), FileName: "minutes.pdf"}, inDM(isMsgType(event.MsgFile)))
		if ev.Body() != "minutes.pdf" && ev.Str("filename") != "minutes.pdf" {
			t.Errorf("file named %q / %q, want minutes.pdf", ev.Body(), ev.Str("filename"))
		}
		checkMedia(t, ev, data)
	}, u)

	run(t, "file_over_limit_is_notice", func(t *testing.T) {
		needDM(t)
		limit := a.config(t).Network.Media.MaxDownloadSize
		if limit <= 0 || limit > 8<<20 {
			t.Fatalf("network.media.max_download_size is %d; test/e2e/cmd/e2ectl sets 2 MiB", limit)
		}
		data := bytes.Repeat([]byte("big holiday video "), int(limit+limit/2)/18+1)[:limit+limit/2]
		name := "holiday-raw.mov"
		ev, _ := w2m(t, "file over the limit", wxsim.WorldMessage{From: leo, Type: 49, AppMsgType: 6, MediaBase64: b64(data), FileName: name},
			inDM(func(s *harness.Seen) bool { return s.IsMessage() && strings.Contains(s.Body(), name) }))
		if ev.MsgType() != string(event.MsgNotice) || !strings.Contains(ev.Body(), "3.0 MiB") {
			t.Errorf("got %s %q, want a notice with the name and the size (3.0 MiB)", ev.MsgType(), ev.Body())
		}
	}, u)

	run(t, "link_card", func(t *testing.T) {
		needDM(t)
		title, link := "Route guide: the north face", "https://example.org/guides/north-face?id=42"
		ev, _ := w2m(t, "link card", wxsim.WorldMessage{From: leo, Type: 49, AppMsgType: 5, Content: title, URL: link}, inDM(bodyContains(title)))
		if ev.MsgType() != string(event.MsgText) || !strings.Contains(ev.Body(), link) {
			t.Errorf("got %s %q, want m.text with the title and %s", ev.MsgType(), ev.Body(), link)
		}
		if fb := ev.Str("formatted_body"); !strings.Contains(fb, `href="https://example.org/guides/north-face?id=42"`) {
			t.Errorf("formatted_body has no link: %q", fb)
		}
	}, u)

	run(t, "location", func(t *testing.T) {
		needDM(t)
		ori := `<?xml version="1.0"?>` + "\n" + `<msg>` + "\n\t" + `<location x="22.5431" y="114.0579" scale="16" label="Futian, Shenzhen" maptype="0" poiname="Ping An Finance Centre" poiid="" />` + "\n</msg>\n"
		ev, _ := w2m(t, "location", wxsim.WorldMessage{From: leo, Type: 1, Raw: raw(t, map[string]any{
			"SubMsgType": 48,
			"OriContent": ori,
			"Content":    "Futian, Shenzhen:<br/>/cgi-bin/mmwebwx-bin/webwxgetpubliclinkimg?url=xxx&amp;msgid=1&amp;pictype=location",
			"Url":        "http://apis.map.qq.com/uri/v1/geocoder?coord=22.5431,114.0579",
		})}, inDM(isMsgType(event.MsgLocation)))
		if geo := ev.Str("geo_uri"); geo != "geo:22.5431,114.0579" {
			t.Errorf("geo_uri = %q, want geo:22.5431,114.0579", geo)
		}
		if !strings.Contains(ev.Body(), "Ping An Finance Centre") {
			t.Errorf("body %q does not name the place", ev.Body())
		}
	}, u)

	run(t, "contact_card_is_notice", func(t *testing.T) {
		needDM(t)
		card := `&lt;?xml version="1.0"?&gt;<br/>&lt;msg bigheadimgurl="" smallheadimgurl="" username="wxid_nora" nickname="Nora" shortpy="" alias="nora_climbs" imagestatus="3" scene="17" province="" city="" sign="" sex="2" certflag="0" certinfo="" /&gt;<br/>`
		ev, _ := w2m(t, "contact card", wxsim.WorldMessage{From: leo, Type: 42, Raw: raw(t, map[string]any{
			"Content":       card,
			"RecommendInfo": map[string]any{"UserName": "@0123456789abcdef0123456789abcdef", "NickName": "Nora", "Sex": 2, "Scene": 17},
		})}, inDM(bodyContains("Nora")))
		if ev.MsgType() != string(event.MsgNotice) || !strings.Contains(ev.Body(), "nora_climbs") {
			t.Errorf("got %s %q, want a notice with the card's name and WeChat ID", ev.MsgType(), ev.Body())
		}
	}, u)

	run(t, "quote_becomes_reply", func(t *testing.T) {
		needDM(t)
		earlier := "Is the gym open on Sunday?"
		first, _ := w2m(t, "quoted text", wxsim.WorldMessage{From: leo, Type: 1, Content: earlier}, inDM(harness.MessageWithBody(earlier)))
		quote := "「Leo：" + earlier + "」\n" + quoteSep + "\nNever mind, found it"
		ev, _ := w2m(t, "quote reply", wxsim.WorldMessage{From: leo, Type: 1, Content: quote}, inDM(bodyContains("Never mind, found it")))
		if ev.ReplyTo() != first.Evt.ID {
			t.Errorf("the quote is not a Matrix reply to %s: m.relates_to = %v, body %q", first.Evt.ID, ev.Evt.Content.Raw["m.relates_to"], ev.Body())
		}
		if strings.Contains(ev.Body(), quoteSep) {
			t.Errorf("the reply still carries WeChat's quote text: %q", ev.Body())
		}
	}, u)

	run(t, "system_is_notice", func(t *testing.T) {
		needDM(t)
		text := "Leo has turned on friend verification."
		ev, _ := w2m(t, "system 10000", wxsim.WorldMessage{From: leo, Type: 10000, Content: text}, inDM(bodyContains(text)))
		if ev.MsgType() != string(event.MsgNotice) {
			t.Errorf("system message is %s, want m.notice", ev.MsgType())
		}
	}, u)

	run(t, "revoke_redacts", func(t *testing.T) {
		needDM(t)
		text := "oops, wrong chat"
		ev, ref := w2m(t, "message to revoke", wxsim.WorldMessage{From: leo, Type: 1, Content: text}, inDM(harness.MessageWithBody(text)))
		from := u.Mark()
		t0 := time.Now()
		if err := a.ctl.Revoke(t.Context(), kim, ref.MsgID); err != nil {
			t.Fatal(err)
		}
		red := u.Must(t.Context(), waitEvent, from, "the redaction of the revoked message", harness.And(harness.InRoom(dm), ofType(event.EventRedaction),
			func(s *harness.Seen) bool { return s.Redacts() == ev.Evt.ID }))
		a.note(t, "W→M", "revoke → redaction", red.At.Sub(t0))
	}, u)

	run(t, "friend_request_accept_then_chat", func(t *testing.T) {
		ctx := t.Context()
		from := u.Mark()
		t0 := time.Now()
		if _, err := a.ctl.FriendRequest(ctx, kim, eve, "Eve", "Hi Kim, it's Eve from the climbing gym"); err != nil {
			t.Fatal(err)
		}
		cmd := "accept-friend " + eve
		n := u.Must(ctx, waitEvent, from, "the friend request notice in the management room", harness.And(harness.InRoom(acc.dm), harness.FromSender(a.bot), bodyContains(cmd)))
		a.note(t, "W→M", "friend request → notice", n.At.Sub(t0))
		if !strings.Contains(n.Body(), "Eve") || !strings.Contains(n.Body(), "climbing gym") {
			t.Errorf("the notice does not say who and what: %q", n.Body())
		}
		from = u.Mark()
		if _, err := u.Client.SendText(ctx, acc.dm, cmd); err != nil {
			t.Fatal(err)
		}
		r := u.Must(ctx, waitEvent, from, "the bot's answer to accept-friend", harness.And(harness.InRoom(acc.dm), harness.FromSender(a.bot), func(s *harness.Seen) bool { return s.IsMessage() }))
		if !strings.Contains(r.Body(), "Accepted") {
			t.Errorf("bot answered %q, want the request accepted", r.Body())
		}
		pollUntil(t, "wxsim to record the friend request as accepted", func() (bool, string) {
			reqs, err := a.ctl.FriendRequests(ctx, kim)
			if err != nil {
				return false, err.Error()
			}
			for _, fr := range reqs {
				if fr.From == eve && fr.State == "accepted" {
					return true, ""
				}
			}
			return false, fmt.Sprintf("%+v", reqs)
		})
		text := "Thanks for adding me, see you at the wall!"
		ev, _ := w2m(t, "first message of the new friend", wxsim.WorldMessage{From: eve, Type: 1, Content: text}, harness.MessageWithBody(text))
		if ev.Room == acc.dm || ev.Room == dm || ev.Room == group {
			t.Errorf("Eve's message landed in an existing room %s", ev.Room)
		}
		if ev.Evt.Sender != a.ghost(eve) {
			t.Errorf("Eve's message is from %s, want %s", ev.Evt.Sender, a.ghost(eve))
		}
	}, u)

	for _, c := range []struct {
		name  string
		m     wxsim.WorldMessage
		parts []string
	}{
		{"red_packet_is_notice", wxsim.WorldMessage{Type: 49, AppMsgType: 2001, Content: "微信红包"}, []string{"Red packet", "phone"}},
		{"transfer_is_notice", wxsim.WorldMessage{Type: 49, AppMsgType: 2000, Content: "微信转账"}, []string{"transfer", "phone"}},
		{"voip_is_notice", wxsim.WorldMessage{Type: 50, Content: "<voipmsg type=\"VoIPBubbleMsg\"><VoIPBubbleMsg><msg><![CDATA[Call ended]]></msg></VoIPBubbleMsg></voipmsg>"}, []string{"Call", "phone"}},
		{"unknown_type_is_notice", wxsim.WorldMessage{Type: 4242, Content: "something new"}, []string{"phone"}},
	} {
		run(t, c.name, func(t *testing.T) {
			needDM(t)
			m := c.m
			m.From = leo
			ev, _ := w2m(t, c.name, m, inDM(func(s *harness.Seen) bool { return s.IsMessage() && !s.IsEdit() }))
			if ev.MsgType() != string(event.MsgNotice) {
				t.Errorf("got %s %q, want a notice", ev.MsgType(), ev.Body())
			}
			for _, p := range c.parts {
				if !strings.Contains(strings.ToLower(ev.Body()), strings.ToLower(p)) {
					t.Errorf("notice %q does not say %q", ev.Body(), p)
				}
			}
		}, u)
	}
}

// pollUntil polls an external process (wxsim) on a short ticker until cond holds.
func pollUntil(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitSent)
	for {
		ok, last := cond()
		if ok {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("timed out after %s waiting for %s; last: %s", waitSent, what, last)
		case <-tick.C:
		}
	}
}

// TestMatrixToWeChat: Max (wxid_max) does everything a Matrix client can in his portals
// with Ned and with the group Rope Team.
func TestMatrixToWeChat(t *testing.T) {
	a := newWorld(t)
	defer a.printDelays(t)
	ctx := t.Context()
	const (
		maxWx, ned, ola = "wxid_max", "wxid_ned", "wxid_ola"
		rope            = "ropeteam@chatroom"
	)
	acc := a.setupAccount(t, "max", maxWx, "Max", 2002,
		[]wxsim.ContactSpec{{Wxid: ned, Nickname: new("Ned")}, {Wxid: ola, Nickname: new("Ola")}},
		[]wxsim.GroupSpec{{ID: rope, Name: "Rope Team", Members: []string{ned, ola}}})
	u := acc.u

	nedText := "Are we still on for Friday?"
	from := u.Mark()
	a.incomingRef(t, maxWx, wxsim.WorldMessage{From: ned, Type: 1, Content: nedText})
	nedMsg := a.awaitMessage(t, u, from, waitPortal, "Ned's first message", harness.MessageWithBody(nedText))
	dm := nedMsg.Room
	from = u.Mark()
	a.incomingRef(t, maxWx, wxsim.WorldMessage{From: ola, Chat: rope, Type: 1, Content: "Hi team"})
	group := a.awaitMessage(t, u, from, waitPortal, "Ola's group message", harness.MessageWithBody("Hi team")).Room

	// m2w sends content and waits for the /sent entry that match accepts.
	m2w := func(t *testing.T, what string, room id.RoomID, typ event.Type, content any, match func(wxsim.SentMessage) bool) (id.EventID, wxsim.SentMessage) {
		t.Helper()
		skip := a.sentLen(t, maxWx)
		evID, t0 := sendContent(t, u, room, typ, content)
		s := a.awaitSent(t, maxWx, skip, what, match)
		a.note(t, "M→W", what, time.Since(t0))
		return evID, s
	}
	text := func(body string) func(wxsim.SentMessage) bool {
		return func(m wxsim.SentMessage) bool { return m.Content == body }
	}
	to := func(t *testing.T, s wxsim.SentMessage, chat string, typ int) {
		t.Helper()
		if s.To != chat || s.Type != typ {
			t.Errorf("sent type %d to %s, want type %d to %s: %+v", s.Type, s.To, typ, chat, s)
		}
	}
	var firstText id.EventID

	run(t, "text", func(t *testing.T) {
		body := "Yes! Friday at 6 ✓ 🎉"
		firstText, _ = m2w(t, "m.text", dm, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body}, text(body))
		s := a.awaitSent(t, maxWx, 0, "m.text", text(body))
		to(t, s, ned, 1)
	}, u)

	run(t, "notice", func(t *testing.T) {
		body := "Reminder: bring your harness"
		_, s := m2w(t, "m.notice", dm, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgNotice, Body: body}, text(body))
		to(t, s, ned, 1)
	}, u)

	run(t, "emote", func(t *testing.T) {
		_, s := m2w(t, "m.emote", dm, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgEmote, Body: "waves from the car park"},
			func(m wxsim.SentMessage) bool { return strings.Contains(m.Content, "waves from the car park") })
		to(t, s, ned, 1)
		if s.Content != "/me waves from the car park" {
			t.Errorf("emote sent as %q, want %q", s.Content, "/me waves from the car park")
		}
	}, u)

	run(t, "formatted_html", func(t *testing.T) {
		content := &event.MessageEventContent{
			MsgType:       event.MsgText,
			Body:          "Plan for Friday:\n* buy chalk\n* read the topo (https://example.org/topo)",
			Format:        event.FormatHTML,
			FormattedBody: `<p>Plan for <b>Friday</b>:</p><ul><li>buy chalk</li><li>read <a href="https://example.org/topo">the topo</a></li></ul>`,
		}
		_, s := m2w(t, "formatted body", dm, event.EventMessage, content, func(m wxsim.SentMessage) bool { return strings.Contains(m.Content, "buy chalk") })
		to(t, s, ned, 1)
		c := s.Content
		if strings.ContainsAny(c, "<>") || !strings.Contains(c, "Friday") || !strings.Contains(c, "https://example.org/topo") || !strings.Contains(c, "the topo") {
			t.Errorf("formatted body sent as %q: want plain text with the link target", c)
		}
		if i, j := strings.Index(c, "buy chalk"), strings.Index(c, "read"); i < 0 || j < 0 || !strings.Contains(c[i:j], "\n") {
			t.Errorf("list items are not on lines of their own: %q", c)
		}
	}, u)

	run(t, "pill_becomes_mention", func(t *testing.T) {
		ghost := a.ghost(ned)
		content := &event.MessageEventContent{
			MsgType:       event.MsgText,
			Body:          "Ned: belay check at 7?",
			Format:        event.FormatHTML,
			FormattedBody: `<a href="https://matrix.to/#/` + string(ghost) + `">Ned</a>: belay check at 7?`,
			Mentions:      &event.Mentions{UserIDs: []id.UserID{ghost}},
		}
		_, s := m2w(t, "pill", group, event.EventMessage, content, func(m wxsim.SentMessage) bool { return strings.Contains(m.Content, "belay check") })
		to(t, s, rope, 1)
		if want := "@Ned\u2005belay check at 7?"; s.Content != want {
			t.Errorf("pill sent as %q, want %q", s.Content, want)
		}
	}, u)

	media := func(t *testing.T, what string, msgtype event.MessageType, typ event.Type, data []byte, mime, name string, w, h int) wxsim.SentMessage {
		t.Helper()
		url := upload(t, u, data, mime)
		content := &event.MessageEventContent{MsgType: msgtype, Body: name, URL: url,
			Info: &event.FileInfo{MimeType: mime, Size: len(data), Width: w, Height: h}}
		if typ == event.EventSticker {
			content.MsgType = ""
		}
		want := sha(data)
		_, s := m2w(t, what, dm, typ, content, func(m wxsim.SentMessage) bool { return m.MediaSHA256 != "" })
		if s.MediaSHA256 != want {
			t.Errorf("%s reached WeChat with media_sha256 %s, want %s (the uploaded bytes)", what, s.MediaSHA256, want)
		}
		if s.To != ned {
			t.Errorf("%s went to %s, want %s", what, s.To, ned)
		}
		return s
	}

	run(t, "image", func(t *testing.T) {
		s := media(t, "m.image", event.MsgImage, event.EventMessage, testPNG(t, 80, 60), "image/png", "crag.png", 80, 60)
		if s.Type != 3 {
			t.Errorf("m.image sent as type %d, want 3", s.Type)
		}
	}, u)

	run(t, "video", func(t *testing.T) {
		video := append([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), bytes.Repeat([]byte("moov"), 700)...)
		s := media(t, "m.video", event.MsgVideo, event.EventMessage, video, "video/mp4", "send.mp4", 320, 240)
		if s.Type != 43 {
			t.Errorf("m.video sent as type %d, want 43", s.Type)
		}
	}, u)

	run(t, "file", func(t *testing.T) {
		s := media(t, "m.file", event.MsgFile, event.EventMessage, append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("topo "), 900)...), "application/pdf", "topo.pdf", 0, 0)
		if s.Type != 49 || s.FileName != "topo.pdf" {
			t.Errorf("m.file sent as type %d named %q, want 49 topo.pdf", s.Type, s.FileName)
		}
	}, u)

	run(t, "audio", func(t *testing.T) {
		s := media(t, "m.audio", event.MsgAudio, event.EventMessage, append([]byte("ID3\x03\x00\x00\x00\x00\x00\x0f"), bytes.Repeat([]byte{0xff, 0xfb, 0x90, 0x64}, 500)...), "audio/mpeg", "memo.mp3", 0, 0)
		if s.Type != 49 || s.FileName != "memo.mp3" {
			t.Errorf("m.audio sent as type %d named %q, want 49 memo.mp3", s.Type, s.FileName)
		}
	}, u)

	run(t, "sticker", func(t *testing.T) {
		s := media(t, "m.sticker", "", event.EventSticker, testGIF(t, 48, 48), "image/gif", "Sticker", 48, 48)
		if s.Type != 47 {
			t.Errorf("m.sticker (GIF) sent as type %d, want 47", s.Type)
		}
	}, u)

	run(t, "location", func(t *testing.T) {
		content := &event.MessageEventContent{MsgType: event.MsgLocation, Body: "Eiffel Tower", GeoURI: "geo:48.8584,2.2945"}
		_, s := m2w(t, "m.location", dm, event.EventMessage, content, func(m wxsim.SentMessage) bool { return strings.Contains(m.Content, "Eiffel Tower") })
		to(t, s, ned, 1)
		if !strings.Contains(s.Content, "https://www.openstreetmap.org/?mlat=48.8584&mlon=2.2945") {
			t.Errorf("location sent as %q, want the place and a map link", s.Content)
		}
	}, u)

	run(t, "reply_becomes_quote", func(t *testing.T) {
		content := &event.MessageEventContent{MsgType: event.MsgText, Body: "Yes, Friday works"}
		content.RelatesTo = (&event.RelatesTo{}).SetReplyTo(nedMsg.Evt.ID)
		want := "「Ned：" + nedText + "」\n" + quoteSep + "\nYes, Friday works"
		_, s := m2w(t, "reply", dm, event.EventMessage, content, func(m wxsim.SentMessage) bool { return strings.Contains(m.Content, "Yes, Friday works") })
		to(t, s, ned, 1)
		if s.Content != want {
			t.Errorf("reply sent as %q, want the WeChat quote %q", s.Content, want)
		}
	}, u)

	run(t, "redaction_recalls", func(t *testing.T) {
		body := "typo, ignore this"
		evID, s := m2w(t, "message to recall", dm, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body}, text(body))
		t0 := time.Now()
		red, err := u.Client.RedactEvent(ctx, dm, evID)
		if err != nil {
			t.Fatal(err)
		}
		a.skipIfNotPushed(t, red.EventID, 15*time.Second, func() bool {
			rev, err := a.ctl.Revoked(ctx, maxWx)
			return err == nil && slices.ContainsFunc(rev, func(r wxsim.RevokeRecord) bool { return r.MsgID == s.MsgID })
		})
		pollUntil(t, "wxsim /revoked to have the message", func() (bool, string) {
			rev, err := a.ctl.Revoked(ctx, maxWx)
			if err != nil {
				return false, err.Error()
			}
			for _, r := range rev {
				if r.MsgID == s.MsgID {
					if r.Ret != 0 {
						t.Errorf("webwxrevokemsg for %s answered Ret %d, want 0", s.MsgID, r.Ret)
					}
					return true, ""
				}
			}
			return false, fmt.Sprintf("%+v", rev)
		})
		a.note(t, "M→W", "redaction → webwxrevokemsg", time.Since(t0))
	}, u)

	run(t, "redaction_outside_window_fails_visibly", func(t *testing.T) {
		if _, err := a.ctl.Settings(ctx, map[string]any{"revoke_window_s": 0}); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if _, err := a.ctl.Settings(t.Context(), map[string]any{"revoke_window_s": 120}); err != nil {
				t.Errorf("restore revoke_window_s: %v", err)
			}
		}()
		body := "this one stays"
		evID, _ := m2w(t, "message to recall too late", dm, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body}, text(body))
		from := u.Mark()
		red, err := u.Client.RedactEvent(ctx, dm, evID)
		if err != nil {
			t.Fatal(err)
		}
		a.skipIfNotPushed(t, red.EventID, 15*time.Second, func() bool {
			_, err := u.WaitFor(ctx, 50*time.Millisecond, from, "a failure notice for the redaction", harness.And(harness.InRoom(dm), failureNoticeFor(red.EventID)))
			return err == nil
		})
		n := u.Must(ctx, waitEvent, from, "a failure notice for the redaction", harness.And(harness.InRoom(dm), failureNoticeFor(red.EventID)))
		if !strings.Contains(n.Body(), "2 minutes") {
			t.Errorf("failure notice %q does not give the reason (the 2-minute window)", n.Body())
		}
		st := u.Must(ctx, waitEvent, from, "a message status for the redaction", harness.And(harness.InRoom(dm), statusFor(red.EventID)))
		if s := st.Str("status"); s == "SUCCESS" || s == "" {
			t.Errorf("the late redaction got status %q, want a failure: %v", s, st.Evt.Content.Raw)
		}
	}, u)

	unsupported := func(t *testing.T, what string, send func() id.EventID, forbidden string) {
		t.Helper()
		skip := a.sentLen(t, maxWx)
		from := u.Mark()
		evID := send()
		st := u.Must(ctx, waitEvent, from, "a message status for the "+what, harness.And(harness.InRoom(dm), statusFor(evID)))
		if s := st.Str("status"); s == "SUCCESS" || s == "" {
			t.Errorf("the %s got status %q, want a failure: %v", what, s, st.Evt.Content.Raw)
		}
		if st.Str("message") == "" && st.Str("reason") == "" {
			t.Errorf("the %s's failure status gives no reason: %v", what, st.Evt.Content.Raw)
		}
		t.Logf("%s: status %s (%s) %q", what, st.Str("status"), st.Str("reason"), st.Str("message"))
		// A sentinel after it: if the edit or reaction had gone out, it would be before this.
		sentinel := "sentinel after the " + what
		m2w(t, "sentinel", dm, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: sentinel}, text(sentinel))
		sent, err := a.ctl.Sent(ctx, maxWx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range sent[skip:] {
			if m.Content != sentinel || (forbidden != "" && strings.Contains(m.Content, forbidden)) {
				t.Errorf("the %s reached WeChat: %+v", what, m)
			}
		}
	}

	run(t, "edit_fails_visibly", func(t *testing.T) {
		if firstText == "" {
			t.Skip("no message to edit (the text row failed)")
		}
		unsupported(t, "edit", func() id.EventID {
			content := &event.MessageEventContent{MsgType: event.MsgText, Body: "* Yes! Friday at 7",
				NewContent: &event.MessageEventContent{MsgType: event.MsgText, Body: "Yes! Friday at 7"}}
			content.RelatesTo = (&event.RelatesTo{}).SetReplace(firstText)
			evID, _ := sendContent(t, u, dm, event.EventMessage, content)
			return evID
		}, "Friday at 7")
	}, u)

	run(t, "reaction_fails_visibly", func(t *testing.T) {
		unsupported(t, "reaction", func() id.EventID {
			resp, err := u.Client.SendReaction(ctx, dm, nedMsg.Evt.ID, "👍")
			if err != nil {
				t.Fatal(err)
			}
			return resp.EventID
		}, "👍")
	}, u)

	run(t, "read_receipt_marks_read", func(t *testing.T) {
		before, err := a.ctl.MarkedRead(ctx, maxWx)
		if err != nil {
			t.Fatal(err)
		}
		from := u.Mark()
		a.incomingRef(t, maxWx, wxsim.WorldMessage{From: ned, Type: 1, Content: "Did you read this?"})
		ev := u.Must(ctx, waitEvent, from, "Ned's message", harness.And(harness.InRoom(dm), harness.MessageWithBody("Did you read this?")))
		if err := u.Client.SendReceipt(ctx, dm, ev.Evt.ID, event.ReceiptTypeRead, struct{}{}); err != nil {
			t.Fatal(err)
		}
		// wxsim is polled; Dendrite v0.13.8 never pushes receipts (EDUs) to appservices
		// (test/e2e/README.md), so a bridge can only see them on homeservers that do.
		deadline := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for time.Now().Before(deadline) {
			after, err := a.ctl.MarkedRead(ctx, maxWx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range after[len(before):] {
				if m.Chat == ned {
					return
				}
			}
			<-tick.C
		}
		if a.e.onSynapse() {
			t.Fatal("the read receipt did not reach WeChat within 10 s: Synapse pushes receipts to appservices " +
				"(receive_ephemeral), so the bridge should have marked the chat read")
		}
		t.Skip("the read receipt did not reach the bridge within 10 s: Dendrite v0.13.8 does not push " +
			"ephemeral events (receipts) to appservices, so read receipt → webwxstatusnotify cannot be proven " +
			"end to end here (E2E_HS=synapse proves it)")
	}, u)
}

// skipIfNotPushed waits up to timeout for done; if it does not happen and the bridge's
// log never mentions the Matrix event evt, the homeserver did not push evt to the
// appservice, and the row cannot be proven here: the test is skipped saying so.
// Dendrite v0.13.8 was seen not to push m.room.redaction events of users to appservices.
func (a *afternoon) skipIfNotPushed(t *testing.T, evt id.EventID, timeout time.Duration, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		if done() {
			return
		}
		<-tick.C
	}
	b, err := os.ReadFile(a.e.bridgeLog)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(evt)) {
		if a.e.onSynapse() {
			t.Fatalf("Synapse did not push %s to the bridge within %s (it is not in %s)", evt, timeout, a.e.bridgeLog)
		}
		t.Skipf("the homeserver never pushed %s to the bridge (it is not in %s after %s): "+
			"Dendrite v0.13.8 does not deliver users' redactions to appservices, so this row cannot be proven end to end here", evt, a.e.bridgeLog, timeout)
	}
}
