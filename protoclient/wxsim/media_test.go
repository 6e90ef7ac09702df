package wxsim_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
)

// upload sends data in 512 KiB chunks like the official uploader and returns every
// answer.
func (w *wx) upload(name, mediatype string, data []byte, toUser protoclient.UserName) []protoclient.UploadMediaResponse {
	w.e.t.Helper()
	const chunk = 512 * 1024
	chunks := (len(data) + chunk - 1) / chunk
	if chunks == 0 {
		chunks = 1
	}
	sum := md5.Sum(data)
	umr, _ := json.Marshal(map[string]any{"UploadType": 2, "BaseRequest": w.br(), "ClientMediaId": 1546218776042,
		"TotalLen": len(data), "StartPos": 0, "DataLen": len(data), "MediaType": 4, "FromUserName": w.self,
		"ToUserName": toUser, "FileMd5": hex.EncodeToString(sum[:])})
	var out []protoclient.UploadMediaResponse
	for i := 0; i < chunks; i++ {
		part := data[min(i*chunk, len(data)):min((i+1)*chunk, len(data))]
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fields := [][2]string{{"id", "WU_FILE_0"}, {"name", name}, {"type", "application/octet-stream"},
			{"lastModifiedDate", "Tue Nov 06 2018 08:45:19 GMT+0800 (中国标准时间)"}, {"size", strconv.Itoa(len(data))}}
		if chunks > 1 {
			fields = append(fields, [2]string{"chunks", strconv.Itoa(chunks)}, [2]string{"chunk", strconv.Itoa(i)})
		}
		fields = append(fields, [2]string{"mediatype", mediatype}, [2]string{"uploadmediarequest", string(umr)},
			[2]string{"webwx_data_ticket", "undefined"}, [2]string{"pass_ticket", "undefined"})
		for _, f := range fields {
			_ = mw.WriteField(f[0], f[1])
		}
		fw, _ := mw.CreateFormFile("filename", name)
		_, _ = fw.Write(part)
		_ = mw.Close()
		req, _ := http.NewRequestWithContext(w.e.ctx, http.MethodPost, "https://file."+w.web+"/cgi-bin/mmwebwx-bin/webwxuploadmedia?f=json", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		_, text := w.do(req)
		var r protoclient.UploadMediaResponse
		if err := json.Unmarshal([]byte(text), &r); err != nil {
			w.e.t.Fatalf("upload answer %q", text)
		}
		out = append(out, r)
	}
	return out
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestChunkedUploadSendAndDownload(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	names := w.names(w.sync().AddMsgList)
	data := pattern(1200 * 1024)
	answers := w.upload("report.pdf", "doc", data, names["wxid_bob"])
	if len(answers) != 3 {
		t.Fatalf("%d answers", len(answers))
	}
	for i, a := range answers[:2] {
		if a.BaseResponse.Ret != 0 || a.MediaId != "" {
			t.Fatalf("chunk %d answer %+v", i, a)
		}
	}
	last := answers[2]
	if last.BaseResponse.Ret != 0 || !strings.HasPrefix(last.MediaId, "@crypt_") || last.StartPos != int64(len(data)) || last.EncryFileName != "report%2Epdf" {
		t.Fatalf("last answer %+v", last)
	}
	content := fmt.Sprintf("<appmsg appid='wxeb7ec651dd0aefa9' sdkver=''><title>report.pdf</title><des></des><action></action><type>6</type><content></content><url></url><lowurl></lowurl><appattach><totallen>%d</totallen><attachid>%s</attachid><fileext>pdf</fileext></appattach><extinfo></extinfo></appmsg>", len(data), last.MediaId)
	r := w.send("webwxsendappmsg", map[string]any{"Type": 6, "Content": content, "FromUserName": w.self, "ToUserName": names["wxid_bob"], "LocalID": "21", "ClientMsgId": "21"})
	if r.BaseResponse.Ret != 0 {
		t.Fatalf("sendappmsg %+v", r)
	}
	sent := e.sent("wxid_alice")
	if len(sent) != 1 || sent[0].FileName != "report.pdf" || sent[0].MediaSHA256 != sha(data) || sent[0].Type != 49 || sent[0].AppMsgType != 6 {
		t.Fatalf("sent %+v", sent)
	}
	// The echo carries the file; webwxgetmedia on the file host serves it.
	echo := w.sync().AddMsgList[0]
	if echo.MsgType != 49 || echo.AppMsgType != 6 || echo.MediaId != last.MediaId || echo.FileSize != strconv.Itoa(len(data)) {
		t.Fatalf("echo %+v", echo)
	}
	resp, got := w.get("https://file.wx2.qq.com/cgi-bin/mmwebwx-bin/webwxgetmedia?sender=" + string(w.self) + "&mediaid=" + last.MediaId +
		"&encryfilename=report%252Epdf&fromuser=1001&pass_ticket=" + w.passTicket + "&webwx_data_ticket=x")
	if resp.StatusCode != 200 || got != string(data) || !strings.Contains(resp.Header.Get("Content-Disposition"), "report.pdf") {
		t.Fatalf("getmedia %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Disposition"), len(got))
	}
	// An image: one chunk, sent with sendmsgimg, echoed with ImgStatus 2.
	img := w.upload("pic.jpg", "pic", pattern(1000), names["wxid_bob"])[0]
	if img.CDNThumbImgWidth == 0 {
		t.Fatalf("image upload %+v", img)
	}
	ri := w.send("webwxsendmsgimg", map[string]any{"Type": 3, "MediaId": img.MediaId, "Content": "", "ToUserName": names["wxid_bob"], "LocalID": "22", "ClientMsgId": "22"})
	if s := e.sent("wxid_alice"); s[1].Type != 3 || s[1].MediaSHA256 != sha(pattern(1000)) || ri.BaseResponse.Ret != 0 {
		t.Fatalf("image send %+v", s[1])
	}
}

func TestUploadRefusals(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	if a := w.upload("empty.txt", "doc", nil, "filehelper"); a[0].BaseResponse.Ret == 0 {
		t.Fatal("empty file accepted")
	}
	// Without the data ticket cookie (require_cookies) the file host refuses.
	bare := e.client()
	bare.web, bare.sid, bare.skey, bare.uin, bare.self = w.web, w.sid, w.skey, w.uin, w.self
	if a := bare.upload("a.txt", "doc", []byte("x"), "filehelper"); a[0].BaseResponse.Ret != 1102 {
		t.Fatalf("upload without cookies: %+v", a[0])
	}
	// A send referring to an unknown MediaId fails.
	if r := w.send("webwxsendmsgimg", map[string]any{"Type": 3, "MediaId": "@crypt_nope", "ToUserName": "filehelper", "LocalID": "1", "ClientMsgId": "1"}); r.BaseResponse.Ret == 0 {
		t.Fatal("unknown MediaId accepted")
	}
}

func TestIncomingMediaDownloads(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	w.sync()
	video := pattern(5000)
	vref, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Type: 43, MediaBase64: base64.StdEncoding.EncodeToString(video), PlayLengthS: 3})
	if err != nil {
		t.Fatal(err)
	}
	imgBytes := pattern(700)
	iref, _ := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Type: 3, MediaBase64: base64.StdEncoding.EncodeToString(imgBytes)})
	voice := pattern(3000)
	aref, _ := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Type: 34, MediaBase64: base64.StdEncoding.EncodeToString(voice), VoiceLengthMS: 2340})
	file := pattern(2048)
	fref, _ := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Chat: "12345@chatroom", Type: 49, AppMsgType: 6, FileName: "notes.txt", MediaBase64: base64.StdEncoding.EncodeToString(file)})
	msgs := w.sync().AddMsgList
	if len(msgs) != 4 {
		t.Fatalf("%d messages", len(msgs))
	}
	v, im, vo, f := msgs[0], msgs[1], msgs[2], msgs[3]
	if v.MsgId != vref.MsgID || v.PlayLength != 3 || v.ImgWidth == 0 {
		t.Fatalf("video %+v", v)
	}
	if vm, ok := decoded(v).(*protoclient.Video); !ok || vm.Size != int64(len(video)) {
		t.Fatalf("video xml %+v", vm)
	}
	if im.MsgId != iref.MsgID || im.ImgStatus != 2 {
		t.Fatalf("image %+v", im)
	}
	if ix, ok := decoded(im).(*protoclient.Image); !ok || ix.Size != int64(len(imgBytes)) {
		t.Fatalf("image xml %+v", ix)
	}
	if vo.MsgId != aref.MsgID || vo.VoiceLength != 2340 {
		t.Fatalf("voice %+v", vo)
	}
	if f.MsgId != fref.MsgID || f.FileName != "notes.txt" || f.FileSize != "2048" || f.EncryFileName != "notes%2Etxt" || !strings.HasPrefix(f.MediaId, "@crypt_") {
		t.Fatalf("file %+v", f)
	}
	ev := f.Decode("@not-the-sender")
	if ev.Info.Sender == "" {
		t.Fatalf("group file without sender prefix: %.60q", f.Content)
	}
	if am, ok := ev.Content.(*protoclient.File); !ok || am.Name != "notes.txt" || am.Size != 2048 {
		t.Fatalf("app xml %+v", ev.Content)
	}

	base := "https://wx2.qq.com/cgi-bin/mmwebwx-bin/"
	// Range on the video: 206 with Content-Range, as in the capture.
	req, _ := http.NewRequestWithContext(e.ctx, http.MethodGet, base+"webwxgetvideo?msgid="+v.MsgId+"&skey="+w.skey, nil)
	req.Header.Set("Range", "bytes=0-")
	resp, body := w.do(req)
	if resp.StatusCode != 206 || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 0-%d/%d", len(video)-1, len(video)) ||
		resp.Header.Get("Content-Type") != "video/mp4" || body != string(video) {
		t.Fatalf("getvideo %d %q", resp.StatusCode, resp.Header.Get("Content-Range"))
	}
	req, _ = http.NewRequestWithContext(e.ctx, http.MethodGet, base+"webwxgetvideo?msgid="+v.MsgId+"&skey="+w.skey, nil)
	req.Header.Set("Range", "bytes=100-199")
	if resp, body = w.do(req); resp.StatusCode != 206 || body != string(video[100:200]) {
		t.Fatalf("partial getvideo %d, %d bytes", resp.StatusCode, len(body))
	}
	for _, typ := range []string{"", "&type=slave", "&type=big"} {
		if resp, body = w.get(base + "webwxgetmsgimg?&MsgID=" + im.MsgId + "&skey=" + w.skey + typ); resp.StatusCode != 200 || body != string(imgBytes) {
			t.Fatalf("getmsgimg%s %d", typ, resp.StatusCode)
		}
	}
	if resp, body = w.get(base + "webwxgetvoice?msgid=" + vo.MsgId + "&skey=" + w.skey); resp.StatusCode != 200 || body != string(voice) {
		t.Fatalf("getvoice %d", resp.StatusCode)
	}
	if resp, body = w.get("https://file.wx2.qq.com/cgi-bin/mmwebwx-bin/webwxgetmedia?mediaid=" + f.MediaId + "&encryfilename=" + f.EncryFileName + "&fromuser=1001"); resp.StatusCode != 200 || body != string(file) {
		t.Fatalf("getmedia %d", resp.StatusCode)
	}
	// Downloads need the session cookies.
	if resp, _ = e.client().get(base + "webwxgetvoice?msgid=" + vo.MsgId + "&skey=" + w.skey); resp.StatusCode == 200 {
		t.Fatal("download without cookies succeeded")
	}
}

func TestAvatars(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	names := w.names(w.sync().AddMsgList)
	var list protoclient.GetContactResponse
	_, body := w.get("https://wx2.qq.com/cgi-bin/mmwebwx-bin/webwxgetcontact?lang=zh_CN&pass_ticket=" + w.passTicket + "&r=1&seq=0&skey=" + w.skey)
	_ = json.Unmarshal([]byte(body), &list)
	var bobURL string
	for _, c := range list.MemberList {
		if c.UserName == names["wxid_bob"] {
			bobURL = c.HeadImgUrl
		}
	}
	if !strings.HasPrefix(bobURL, "/cgi-bin/mmwebwx-bin/webwxgeticon?seq=") || !strings.Contains(bobURL, "&username="+string(names["wxid_bob"])+"&skey="+w.skey) {
		t.Fatalf("HeadImgUrl %q", bobURL)
	}
	avatar := pattern(300)
	e.must(nil, e.ctl.UpdateContact(e.ctx, "wxid_alice", "wxid_bob", wxsim.ContactSpec{AvatarBase64: ptr(base64.StdEncoding.EncodeToString(avatar))}))
	mod := w.sync().ModContactList
	if len(mod) != 1 || mod[0].HeadImgUrl == bobURL {
		t.Fatalf("avatar change did not change the seq: %+v", mod)
	}
	if resp, got := w.get("https://wx2.qq.com" + mod[0].HeadImgUrl); resp.StatusCode != 200 || got != string(avatar) {
		t.Fatalf("geticon %d", resp.StatusCode)
	}
}

// A client that logged in twice may send two webwx_data_ticket cookies, the stale one
// first; one right ticket is enough.
func TestTwoDataTicketCookies(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w, _ := e.login("wxid_alice")
	w.sync()
	img := pattern(700)
	ref, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Type: 3, MediaBase64: base64.StdEncoding.EncodeToString(img)})
	e.must(err)
	w.sync()
	stale := &http.Cookie{Name: "webwx_data_ticket", Value: "StaleTicketOfTheLastLogin"}
	w.before = []*http.Cookie{stale}
	get := "https://wx2.qq.com/cgi-bin/mmwebwx-bin/webwxgetmsgimg?&MsgID=" + ref.MsgID + "&skey=" + w.skey
	if resp, body := w.get(get); resp.StatusCode != 200 || body != string(img) {
		t.Fatalf("download with the stale ticket first: %d", resp.StatusCode)
	}
	if a := w.upload("a.txt", "doc", []byte("x"), "filehelper"); a[0].BaseResponse.Ret != 0 {
		t.Fatalf("upload with the stale ticket first: %+v", a[0])
	}

	// The stale ticket alone is refused.
	bare := e.client()
	bare.web, bare.sid, bare.skey, bare.uin, bare.self = w.web, w.sid, w.skey, w.uin, w.self
	bare.before = []*http.Cookie{{Name: "wxuin", Value: itoa(w.uin)}, {Name: "wxsid", Value: w.sid}, stale}
	if resp, _ := bare.get(get); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("download with only the stale ticket: %d", resp.StatusCode)
	}
	if a := bare.upload("a.txt", "doc", []byte("x"), "filehelper"); a[0].BaseResponse.Ret != 1102 {
		t.Fatalf("upload with only the stale ticket: %+v", a[0])
	}
}
