package protoclient_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
)

// userNameOf finds the session UserName of a contact by nickname in the init/contacts.
func userNameOf(t *testing.T, e *env, c *protoclient.Client, nick string) protoclient.UserName {
	t.Helper()
	contacts, err := c.GetContacts(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range contacts {
		if ct.NickName == nick {
			return ct.UserName
		}
	}
	t.Fatalf("no contact %q", nick)
	return ""
}

func TestSendTextRecordedOnceWithItsClientMsgID(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	bob := userNameOf(t, e, c, "Bob")
	id := protoclient.NewClientMsgID()
	if len(id) != 17 {
		t.Fatalf("ClientMsgId %q is not the official 17-digit form", id)
	}
	res, err := c.SendText(e.ctx, bob, "hi Bob 😄 <b>&", id)
	if err != nil {
		t.Fatal(err)
	}
	// The same ClientMsgId again is the same message (a retry after a lost answer).
	res2, err := c.SendText(e.ctx, bob, "hi Bob 😄 <b>&", id)
	if err != nil {
		t.Fatal(err)
	}
	if res.MsgID == "" || res2.MsgID != res.MsgID {
		t.Fatalf("MsgIDs %q and %q: a repeated ClientMsgId must be one message", res.MsgID, res2.MsgID)
	}
	sent, err := e.ctl.Sent(e.ctx, "wxid_alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 || sent[0].To != "wxid_bob" || sent[0].Content != "hi Bob 😄 <b>&" ||
		sent[0].ClientMsgID != id || sent[0].MsgID != res.MsgID || sent[0].Attempts != 2 {
		t.Fatalf("wxsim /sent = %+v", sent)
	}
}

// A connection reset before or after the server processed the send: the client retries
// with the same ClientMsgId and the server holds one message.
func TestSendRetriedAfterResetCountedOnce(t *testing.T) {
	for _, kind := range []string{"reset", "lost_answer"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, nil)
			c := e.client()
			e.qrLogin(c, "wxid_alice")
			bob := userNameOf(t, e, c, "Bob")
			if err := e.ctl.ResetStats(e.ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := e.ctl.AddFault(e.ctx, wxsim.Fault{Account: "wxid_alice", Endpoint: "webwxsendmsg", Kind: kind, Count: 1}); err != nil {
				t.Fatal(err)
			}
			id := protoclient.NewClientMsgID()
			res, err := c.SendText(e.ctx, bob, "through a reset", id)
			if err != nil {
				t.Fatalf("send with one %s: %v", kind, err)
			}
			sent, err := e.ctl.Sent(e.ctx, "wxid_alice")
			if err != nil {
				t.Fatal(err)
			}
			wantAttempts := 1
			if kind == "lost_answer" {
				wantAttempts = 2 // the server saw it twice and kept one message
			}
			if len(sent) != 1 || sent[0].MsgID != res.MsgID || sent[0].ClientMsgID != id || sent[0].Attempts != wantAttempts {
				t.Fatalf("wxsim /sent after a %s = %+v, want exactly one message with %d attempts", kind, sent, wantAttempts)
			}
			st, err := e.ctl.Stats(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Requests["webwxsendmsg"] != 2 {
				t.Fatalf("webwxsendmsg requests = %d, want 2 (the failed one and the retry)", st.Requests["webwxsendmsg"])
			}
		})
	}
}

// A server error that persists ends in a typed error after a bounded number of tries.
func TestSendGivesUpAfterBoundedRetries(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	bob := userNameOf(t, e, c, "Bob")
	if _, err := e.ctl.AddFault(e.ctx, wxsim.Fault{Endpoint: "webwxsendmsg", Kind: "http_status", Value: 502}); err != nil {
		t.Fatal(err)
	}
	_, err := c.SendText(e.ctx, bob, "never", protoclient.NewClientMsgID())
	var he *protoclient.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 502 {
		t.Fatalf("err = %v, want HTTPError 502", err)
	}
	st, _ := e.ctl.Stats(e.ctx)
	if n := st.Requests["webwxsendmsg"]; n != 4 {
		t.Fatalf("webwxsendmsg requests = %d, want 4 (1 + 3 retries)", n)
	}
	if err := e.ctl.ClearFaults(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.AddFault(e.ctx, wxsim.Fault{Endpoint: "webwxsendmsg", Kind: "retcode", Value: 1201, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = c.SendText(e.ctx, bob, "not a member", protoclient.NewClientMsgID())
	var ae *protoclient.APIError
	if !errors.As(err, &ae) || ae.Ret != 1201 {
		t.Fatalf("err = %v, want APIError 1201 without retry", err)
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// A 3 MiB file goes up in 512 KiB chunks, is sent as a file message whose bytes wxsim
// recorded, and a 3 MiB file from a contact downloads byte for byte.
func TestThreeMiBFileUploadAndDownload(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	bob := userNameOf(t, e, c, "Bob")
	data := randomBytes(t, 3<<20)
	if err := e.ctl.ResetStats(e.ctx); err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadMedia(e.ctx, protoclient.Upload{To: bob, FileName: "report.pdf", MimeType: "application/pdf", Data: bytes.NewReader(data), Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := e.ctl.Stats(e.ctx)
	if n := st.Requests["webwxuploadmedia"]; n != 6 {
		t.Fatalf("upload requests = %d, want 6 chunks of 512 KiB", n)
	}
	if _, err := c.SendFile(e.ctx, bob, protoclient.FileInfo{Name: "report.pdf", Size: up.Size, MediaID: up.MediaID}, protoclient.NewClientMsgID()); err != nil {
		t.Fatal(err)
	}
	sent, _ := e.ctl.Sent(e.ctx, "wxid_alice")
	if len(sent) != 1 || sent[0].FileName != "report.pdf" || sent[0].MediaSHA256 != sha(data) {
		t.Fatalf("wxsim /sent = %+v, want the file with sha256 %s", sent, sha(data))
	}

	in := randomBytes(t, 3<<20)
	if _, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Type: 49, AppMsgType: 6, FileName: "photos.zip", MediaBase64: base64.StdEncoding.EncodeToString(in)}); err != nil {
		t.Fatal(err)
	}
	var fileMsg *protoclient.File
	e.syncUntil(c, func(b *protoclient.SyncBatch) bool {
		for _, ev := range b.Events {
			if f, ok := ev.Content.(*protoclient.File); ok {
				fileMsg = f
			}
		}
		return fileMsg != nil
	})
	if fileMsg.Name != "photos.zip" || fileMsg.Size != 3145728 {
		t.Fatalf("file message = name %q size %d", fileMsg.Name, fileMsg.Size)
	}
	m, err := c.DownloadFile(e.ctx, fileMsg, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(m.Body)
	m.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, in) {
		t.Fatalf("downloaded %d bytes, differ from the %d sent", len(got), len(in))
	}
	// The same file over a smaller cap is refused before it is read.
	_, err = c.DownloadFile(e.ctx, fileMsg, 1<<20)
	var tl *protoclient.TooLargeError
	if !errors.As(err, &tl) || tl.Size != int64(len(in)) {
		t.Fatalf("download over the cap: %v, want TooLargeError", err)
	}
}

func TestMediaKindsSendAndDownload(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	bob := userNameOf(t, e, c, "Bob")
	img := randomBytes(t, 70_000)
	up, err := c.UploadMedia(e.ctx, protoclient.Upload{To: bob, FileName: "a.jpg", MimeType: "image/jpeg", Data: bytes.NewReader(img), Size: int64(len(img))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendImage(e.ctx, bob, up.MediaID, protoclient.NewClientMsgID()); err != nil {
		t.Fatal(err)
	}
	vid := randomBytes(t, 600_000)
	upv, err := c.UploadMedia(e.ctx, protoclient.Upload{To: bob, FileName: "v.mp4", MimeType: "video/mp4", Data: bytes.NewReader(vid), Size: int64(len(vid))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendVideo(e.ctx, bob, upv.MediaID, protoclient.NewClientMsgID()); err != nil {
		t.Fatal(err)
	}
	gif := randomBytes(t, 5_000)
	upg, err := c.UploadMedia(e.ctx, protoclient.Upload{To: bob, FileName: "s.gif", MimeType: "image/gif", Data: bytes.NewReader(gif), Size: int64(len(gif))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendEmoticon(e.ctx, bob, upg.MediaID, "", protoclient.NewClientMsgID()); err != nil {
		t.Fatal(err)
	}
	sent, _ := e.ctl.Sent(e.ctx, "wxid_alice")
	wantTypes := []int{3, 43, 47}
	wantSHA := []string{sha(img), sha(vid), sha(gif)}
	if len(sent) != 3 {
		t.Fatalf("sent = %+v", sent)
	}
	for i, s := range sent {
		if s.Type != wantTypes[i] || s.MediaSHA256 != wantSHA[i] {
			t.Errorf("sent[%d] = type %d sha %s, want type %d sha %s", i, s.Type, s.MediaSHA256, wantTypes[i], wantSHA[i])
		}
	}

	// Incoming image, voice and video download as sent.
	kinds := []struct {
		typ  int
		data []byte
	}{{3, randomBytes(t, 40_000)}, {34, randomBytes(t, 9_000)}, {43, randomBytes(t, 700_000)}}
	ids := map[int]string{}
	for _, k := range kinds {
		ref, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Type: k.typ, MediaBase64: base64.StdEncoding.EncodeToString(k.data)})
		if err != nil {
			t.Fatal(err)
		}
		ids[k.typ] = ref.MsgID
	}
	for _, k := range kinds {
		var m *protoclient.Media
		var err error
		switch k.typ {
		case 3:
			m, err = c.DownloadImage(e.ctx, ids[3], protoclient.ImageFull, 1<<20)
		case 34:
			m, err = c.DownloadVoice(e.ctx, ids[34], 1<<20)
		case 43:
			m, err = c.DownloadVideo(e.ctx, ids[43], 1<<20)
		}
		if err != nil {
			t.Fatalf("type %d: %v", k.typ, err)
		}
		got, err := io.ReadAll(m.Body)
		m.Body.Close()
		if err != nil || !bytes.Equal(got, k.data) {
			t.Fatalf("type %d: got %d bytes (%v), want %d equal", k.typ, len(got), err, len(k.data))
		}
		if k.typ == 43 && m.Size != int64(len(k.data)) {
			t.Fatalf("video size from Content-Range = %d", m.Size)
		}
	}
	if _, err := c.DownloadImage(e.ctx, ids[3], protoclient.ImageThumb, 1<<20); err != nil {
		t.Fatalf("thumbnail: %v", err)
	}
}

func TestAvatarOnlyFromSessionHost(t *testing.T) {
	e := newEnv(t, nil)
	avatar := randomBytes(t, 2_000)
	e.must(e.ctl.AddContact(e.ctx, "wxid_alice", wxsim.ContactSpec{Wxid: "wxid_dan", Nickname: ptr("Dan"), AvatarBase64: ptr(base64.StdEncoding.EncodeToString(avatar))}))
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	contacts, err := c.GetContacts(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var head string
	for _, ct := range contacts {
		if ct.NickName == "Dan" {
			head = ct.HeadImgUrl
		}
	}
	m, err := c.DownloadAvatar(e.ctx, head, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(m.Body)
	m.Body.Close()
	if !bytes.Equal(got, avatar) {
		t.Fatalf("avatar: got %d bytes, want %d", len(got), len(avatar))
	}
	for _, evil := range []string{"https://evil.example/cgi-bin/mmwebwx-bin/webwxgeticon?x=1", "/cgi-bin/mmwebwx-bin/webwxlogout", "http://169.254.169.254/latest"} {
		if _, err := c.DownloadAvatar(e.ctx, evil, 1<<20); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("DownloadAvatar(%q) = %v, want refusal", evil, err)
		}
	}
}

// Files over 25 MiB are announced with webwxcheckupload; a file the server already has
// is not uploaded again.
func TestBigFileUsesCheckUpload(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	bob := userNameOf(t, e, c, "Bob")
	data := randomBytes(t, 26<<20)
	if err := e.ctl.ResetStats(e.ctx); err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadMedia(e.ctx, protoclient.Upload{To: bob, FileName: "big.zip", Data: bytes.NewReader(data), Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := e.ctl.Stats(e.ctx)
	if st.Requests["webwxcheckupload"] != 1 || st.Requests["webwxuploadmedia"] != 52 {
		t.Fatalf("checkupload %d, upload chunks %d; want 1 and 52", st.Requests["webwxcheckupload"], st.Requests["webwxuploadmedia"])
	}
	if up.Signature == "" {
		t.Fatal("no Signature kept from webwxcheckupload")
	}
	again, err := c.UploadMedia(e.ctx, protoclient.Upload{To: bob, FileName: "big.zip", Data: bytes.NewReader(data), Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	st, _ = e.ctl.Stats(e.ctx)
	if again.MediaID != up.MediaID || st.Requests["webwxuploadmedia"] != 52 {
		t.Fatalf("second upload of the same file: media %q vs %q, chunks now %d", again.MediaID, up.MediaID, st.Requests["webwxuploadmedia"])
	}
	if _, err := c.SendFile(e.ctx, bob, protoclient.FileInfo{Name: "big.zip", Size: up.Size, MediaID: up.MediaID, Signature: up.Signature}, protoclient.NewClientMsgID()); err != nil {
		t.Fatal(err)
	}
	sent, _ := e.ctl.Sent(e.ctx, "wxid_alice")
	if len(sent) != 1 || sent[0].MediaSHA256 != sha(data) {
		t.Fatalf("sent = %+v", sent)
	}
}

// A message's ClientMsgId is the same however often it is made, in the official format,
// and different for another message written in the same millisecond.
func TestClientMsgIDFor(t *testing.T) {
	at := time.UnixMilli(1795729642565)
	a := protoclient.ClientMsgIDFor(at, "$event-a")
	if again := protoclient.ClientMsgIDFor(at, "$event-a"); again != a {
		t.Errorf("two ClientMsgIds for one message: %s, %s", a, again)
	}
	if len(a) != 17 || !strings.HasPrefix(a, "1795729642565") {
		t.Errorf("ClientMsgId %q is not 13-digit milliseconds + 4 digits", a)
	}
	if b := protoclient.ClientMsgIDFor(at, "$event-b"); b == a {
		t.Errorf("two messages of the same millisecond share ClientMsgId %s", a)
	}
}
