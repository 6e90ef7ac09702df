package protoclient

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for every parser of server text. Each checks that nothing panics and,
// where a parser promises something on success, that it holds; generative properties
// build well-formed input from the fuzzed values and check the parser gives them back.
//
// Run one with -fuzzminimizetime=200x: the seeds are kilobytes of XML, and minimizing
// each new interesting input for the default 60 s leaves the XML targets almost no time
// to fuzz.

// seedFiles adds the named payload files as seeds.
func seedFiles(f *testing.F, names ...string) {
	f.Helper()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", "payloads", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
}

// contents returns the Content (or OriContent) of the named message payloads.
func contents(f *testing.F, ori bool, names ...string) []string {
	f.Helper()
	var out []string
	for _, n := range names {
		var m Message
		b, err := os.ReadFile(filepath.Join("testdata", "payloads", n))
		if err != nil {
			f.Fatal(err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			f.Fatal(err)
		}
		if ori {
			out = append(out, m.OriContent)
		} else {
			out = append(out, m.Content)
		}
	}
	return out
}

// seedContents adds those contents as single-value seeds.
func seedContents(f *testing.F, ori bool, names ...string) {
	f.Helper()
	for _, c := range contents(f, ori, names...) {
		f.Add(c)
	}
}

// xmlSafe reports whether s survives a trip through XML text unchanged: valid UTF-8,
// only characters XML allows, no "\r" (which XML turns into "\n").
func xmlSafe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n':
		case r < 0x20 || r == '\r':
			return false
		case r >= 0xd800 && r <= 0xdfff, r == 0xfffe, r == 0xffff:
			return false
		}
	}
	return true
}

func xmlText(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// serverForm is what the server makes of an XML document in Content.
func serverForm(xmlDoc string) string { return EncodeContent(xmlDoc) }

// throughServer is what becomes of text that went through serverForm and back: emoji
// normalised (U+FE0F dropped or restored, cat faces fixed), everything else unchanged.
func throughServer(s string) string { return DecodeText(EncodeContent(s)) }

func FuzzParseJSLogin(f *testing.F) {
	seedFiles(f, "jslogin.txt", "jslogin_wechat4u.txt")
	f.Add(`window.QRLogin.code = 400;`)
	f.Fuzz(func(t *testing.T, body string) {
		r, err := ParseJSLogin(body)
		if err == nil && r.Code == 200 && r.UUID == "" {
			t.Fatalf("code 200 without uuid accepted: %q", body)
		}
	})
}

func FuzzParseLoginPoll(f *testing.F) {
	seedFiles(f, "loginpoll_408.txt", "loginpoll_201.txt", "loginpoll_201_wechat4u.txt", "loginpoll_200.txt", "loginpoll_200_wechat4u.txt")
	f.Fuzz(func(t *testing.T, body string) {
		r, err := ParseLoginPoll(body)
		if err == nil && r.Code == 200 && r.RedirectURI == "" {
			t.Fatalf("code 200 without redirect accepted: %q", body)
		}
	})
}

func FuzzParseSyncCheck(f *testing.F) {
	seedFiles(f, "synccheck_0_0.txt", "synccheck_0_2.txt", "synccheck_1100.txt", "synccheck_1101.txt", "synccheck_1102.txt")
	f.Add(`window.synccheck={retcode:0,selector:7}`)
	f.Add(`retcode:"1", retcode : "-0" ,selector:2"`)
	f.Add(`retcode:"99999999999999999999",selector:"0"`)
	f.Add(`{retcode: "0", selector: "2"}`)
	// What the parser reads by hand, as a regular expression: the two must agree.
	oracle := regexp.MustCompile(`retcode\s*:\s*"?(-?\d+)"?\s*,\s*selector\s*:\s*"?(-?\d+)"?`)
	f.Fuzz(func(t *testing.T, body string) {
		r, err := ParseSyncCheck(body)
		want, wantOK := SyncCheckResult{}, false
		if m := oracle.FindStringSubmatch(body); m != nil {
			rc, err1 := strconv.Atoi(m[1])
			sel, err2 := strconv.Atoi(m[2])
			if err1 == nil && err2 == nil {
				want, wantOK = SyncCheckResult{Retcode: rc, Selector: sel}, true
			}
		}
		if (err == nil) != wantOK || r != want {
			t.Fatalf("%q: parsed %+v, %v; the regular expression gives %+v, %v", body, r, err, want, wantOK)
		}
		if err != nil {
			return
		}
		again, err := ParseSyncCheck(fmt.Sprintf(`window.synccheck={retcode:"%d",selector:"%d"}`, r.Retcode, r.Selector))
		if err != nil || again != r {
			t.Fatalf("%+v does not survive formatting: %+v, %v", r, again, err)
		}
	})
}

// Encode writes what url.QueryEscape writes, with '@' kept where SetLiteralAt asked.
func FuzzQueryEncode(f *testing.F) {
	f.Add("synckey", "1_698325105|2_698325111", false)
	f.Add("skey", "@crypt_3c6ad2b4_6ac9 ~.-ü\x00+&=", true)
	f.Fuzz(func(t *testing.T, key, value string, literalAt bool) {
		var q query
		q.Set("r", "1")
		if literalAt {
			q.SetLiteralAt(key, value)
		} else {
			q.Set(key, value)
		}
		v := url.QueryEscape(value)
		if literalAt {
			v = strings.ReplaceAll(v, "%40", "@")
		}
		want := "r=1&" + url.QueryEscape(key) + "=" + v
		if key == "r" {
			want = "r=" + v
		}
		if got := q.Encode(); got != want {
			t.Fatalf("Encode() = %q, url.QueryEscape gives %q", got, want)
		}
	})
}

// A synccheck's query is one allocation (Encode's reason to be written by hand).
func TestQueryEncodeAllocatesOnce(t *testing.T) {
	var q query
	q.Set("r", "1733300000000")
	q.SetLiteralAt("skey", "@crypt_3c6ad2b4_6ac9e7e0d5bb1b4cc6a2b7f8e1f0c3a9")
	q.Set("synckey", "1_698325105|2_698325111|3_698325075|1000_1733299960")
	if n := testing.AllocsPerRun(100, func() { _ = q.Encode() }); n != 1 {
		t.Errorf("Encode allocates %v times, want once", n)
	}
}

func FuzzParseNewLoginPage(f *testing.F) {
	seedFiles(f, "newloginpage.xml", "newloginpage_wechat4u.xml", "newloginpage_1203.xml", "newloginpage_1203_pre.html")
	f.Fuzz(func(t *testing.T, body string) {
		info, err := ParseNewLoginPage([]byte(body))
		if err == nil {
			if info.Ret != 0 || info.Skey == "" || info.Wxsid == "" || info.Wxuin == 0 {
				t.Fatalf("accepted without credentials: %+v", info)
			}
			return
		}
		var refused *LoginRefusedError
		if errors.As(err, &refused) && refused.Ret == 0 {
			t.Fatalf("refusal with ret 0: %v", err)
		}
	})
}

func FuzzContentRoundTrip(f *testing.F) {
	for _, s := range roundTripCorpus {
		f.Add(s)
	}
	seedContents(f, false, "msg_group_text.json", "msg_location.json")
	f.Add(`吃圡死月不會碼代碼<span class="emoji emoji1f31b"></span><span class="emoji emoji1f450"></span`)
	f.Fuzz(func(t *testing.T, s string) {
		checkRoundTrip(t, s)
		_ = DecodeText(s)
		_ = DecodeName(s)
	})
}

func FuzzSplitGroupSender(f *testing.F) {
	seedContents(f, false, "msg_group_text.json", "msg_file.json", "msg_location.json", "msg_revoke_group.json")
	f.Add("@abc:<br/>label:<br/>/cgi-bin/x")
	f.Fuzz(func(t *testing.T, content string) {
		sender, rest, ok := SplitGroupSender(content)
		if !ok {
			if sender != "" || rest != content {
				t.Fatalf("no prefix but %q, %q", sender, rest)
			}
			return
		}
		if sender == "" || sender+":<br/>"+rest != content || strings.ContainsAny(sender, ":<") {
			t.Fatalf("split %q into %q, %q", content, sender, rest)
		}
		// Whatever follows a valid prefix, later separators included, is left intact.
		s2, r2, ok2 := SplitGroupSender(sender + ":<br/>" + content)
		if !ok2 || s2 != sender || r2 != content {
			t.Fatalf("prefix + %q split into %q, %q", content, s2, r2)
		}
	})
}

func FuzzParseAppMsg(f *testing.F) {
	for _, c := range contents(f, false, "msg_file.json") {
		f.Add(c, "fileName.zip", int64(1024))
	}
	for _, n := range []string{"appmsg_file.xml", "appmsg_article_list.xml", "appmsg_miniprogram.xml", "appmsg_refer.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "payloads", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), "title", int64(1024))
		f.Add(serverForm(string(b)), "标题 & <x>\n😄☀\ufe0f", int64(0))
	}
	f.Add("<msg><appmsg><title>x", "", int64(-1))
	f.Fuzz(func(t *testing.T, content, title string, totalLen int64) {
		if a, err := parseAppMsg(content); err == nil && a == nil {
			t.Fatal("nil app message without error")
		}
		if !xmlSafe(title) {
			return
		}
		doc := "<?xml version=\"1.0\"?>\n<msg><appmsg appid=\"wx1\" sdkver=\"0\"><title>" + xmlText(title) +
			"</title><type>6</type><appattach><totallen>" + strconv.FormatInt(totalLen, 10) +
			"</totallen><attachid>@cdn_1</attachid></appattach></appmsg><appinfo><appname>" + xmlText(title) + "</appname></appinfo></msg>"
		for i, in := range []string{doc, serverForm(doc), "@abc:<br/>" + serverForm(doc)} {
			a, err := parseAppMsg(in)
			if err != nil {
				t.Fatalf("generated appmsg %q: %v", in, err)
			}
			if i > 0 {
				title = throughServer(title)
			}
			if a.Title != title || a.Type != 6 || int64(a.AppAttach.TotalLen) != totalLen || a.AppAttach.AttachID != "@cdn_1" || a.AppID != "wx1" || string(a.AppName) != strings.TrimSpace(title) {
				t.Fatalf("generated appmsg %q parsed as %+v", in, a)
			}
		}
	})
}

func FuzzParseRevoke(f *testing.F) {
	for _, c := range contents(f, false, "msg_revoke_wwdk.json", "msg_revoke_group.json") {
		f.Add(c, "5538097630@chatroom", uint64(4241293912041778012), `"xx" 撤回了一条消息`)
	}
	f.Add(`<sysmsg type="revokemsg"><revokemsg><msgid>0</msgid></revokemsg></sysmsg>`, "wxid_a", uint64(0), "你撤回了一条消息")
	f.Fuzz(func(t *testing.T, content, session string, msgID uint64, replace string) {
		if r, err := parseRevoke(content); err == nil && !isDigits(string(r.MsgID)) {
			t.Fatalf("accepted msgid %q", r.MsgID)
		}
		_, _ = parseSysMsgType(content)
		if !xmlSafe(session) || !xmlSafe(replace) || strings.Contains(replace, "]]>") {
			return
		}
		id := strconv.FormatUint(msgID, 10)
		doc := "<sysmsg type=\"revokemsg\">\n\t<revokemsg>\n\t\t<session>" + xmlText(session) + "</session>\n\t\t<oldmsgid>1</oldmsgid>\n\t\t<msgid>" + id +
			"</msgid>\n\t\t<replacemsg><![CDATA[" + replace + "]]></replacemsg>\n\t</revokemsg>\n</sysmsg>\n"
		r, err := parseRevoke("@9abc:<br/>" + serverForm(doc))
		if err != nil {
			t.Fatalf("generated revoke: %v", err)
		}
		if string(r.MsgID) != id || string(r.Session) != strings.TrimSpace(throughServer(session)) || string(r.ReplaceMsg) != strings.TrimSpace(throughServer(replace)) {
			t.Fatalf("generated revoke parsed as %+v", r)
		}
	})
}

func FuzzParseStatusNotifyOp(f *testing.F) {
	for _, c := range contents(f, false, "msg_revoke_wwdk.json") {
		f.Add(c, "", "")
	}
	var m Message
	b, err := os.ReadFile(filepath.Join("testdata", "payloads", "webwxsync_wechat4u.json"))
	if err != nil {
		f.Fatal(err)
	}
	var r SyncResponse
	if err := json.Unmarshal(b, &r); err != nil {
		f.Fatal(err)
	}
	m = r.AddMsgList[0]
	f.Add(m.Content, m.StatusNotifyUserName, "wxid_1,filehelper,123@chatroom")
	f.Add("&lt;msg&gt;&lt;op id='1'&gt;&lt;username&gt;wxid_abc&lt;/username&gt;&lt;/op&gt;&lt;/msg&gt;", "filehelper", "")
	f.Fuzz(func(t *testing.T, content, sessions, ids string) {
		op, err := parseStatusNotifyOp(content)
		if err == nil {
			if n := len(op.UserNames); n > 0 && op.UserNames[n-1] == "" {
				t.Fatalf("trailing empty name kept: %q", op.UserNames)
			}
		}
		msg := Message{MsgType: MsgStatusNotify, StatusNotifyCode: 4, Content: content, StatusNotifyUserName: sessions}
		if pairs, err := PairStatusNotify(msg); err == nil {
			for s, id := range pairs {
				if s == "" || id == "" {
					t.Fatalf("empty pair %q -> %q", s, id)
				}
			}
		}
		// Generated: permanent ids from the fuzzed list, session names by position.
		var names, sess []string
		for i, id := range strings.Split(ids, ",") {
			id = strings.Map(func(r rune) rune {
				if r < 0x80 && (r == '_' || r == '@' || r == '.' || r == '-' || (r >= '0' && r <= '9') || (r|0x20 >= 'a' && r|0x20 <= 'z')) {
					return r
				}
				return -1
			}, id)
			if id == "" {
				continue
			}
			names = append(names, id)
			sess = append(sess, "@s"+strconv.Itoa(i))
		}
		if len(names) == 0 {
			return
		}
		doc := "<msg>\n<op id='4'>\n<username>" + strings.Join(names, ",") + "</username>\n<unreadchatlist>\n</unreadchatlist>\n</op>\n</msg>\n"
		gen := Message{MsgType: MsgStatusNotify, StatusNotifyCode: 4, Content: serverForm(doc), StatusNotifyUserName: strings.Join(sess, ",")}
		pairs, err := PairStatusNotify(gen)
		if err != nil {
			t.Fatalf("generated op: %v", err)
		}
		for i, s := range sess {
			if pairs[UserName(s)] != WxID(names[i]) {
				t.Fatalf("%s paired with %q, want %q", s, pairs[UserName(s)], names[i])
			}
		}
		gen.StatusNotifyUserName += ",@extra"
		if _, err := PairStatusNotify(gen); err == nil {
			t.Fatal("lists of different length paired")
		}
	})
}

func FuzzParseLocationGenerated(f *testing.F) {
	f.Add(22.0, 113.0, "深圳市xxxx")
	f.Add(-33.8688, 151.2093, `A & "B" <C>`)
	f.Fuzz(func(t *testing.T, lat, lng float64, label string) {
		if !xmlSafe(label) || math.IsNaN(lat) || math.IsNaN(lng) || math.Abs(lat) > 90 || math.Abs(lng) > 180 {
			return
		}
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(label))
		ori := fmt.Sprintf("<?xml version=\"1.0\"?>\n<msg>\n\t<location x=\"%f\" y=\"%f\" scale=\"16\" label=\"%s\" maptype=\"0\" poiname=\"[位置]\" poiid=\"\" />\n</msg>\n", lat, lng, b.String())
		for i, in := range []string{ori, serverForm(ori)} {
			l, err := parseLocation(in)
			if err != nil {
				t.Fatalf("generated location %q: %v", in, err)
			}
			if i > 0 {
				label = throughServer(label)
			}
			if math.Abs(l.Lat-lat) > 1e-6 || math.Abs(l.Lng-lng) > 1e-6 || l.Label != strings.TrimSpace(label) || l.Scale != 16 {
				t.Fatalf("generated location parsed as %+v", l)
			}
		}
	})
}

func FuzzParseFriendRequest(f *testing.F) {
	for _, c := range contents(f, false, "msg_friend_request.json") {
		f.Add(c, "wxid_a8d806dzznm822", "我是群聊&quot;Wechaty&quot;")
	}
	f.Add("", "wxid_1", `我是群聊"Wechaty"的李卓桓`)
	f.Fuzz(func(t *testing.T, content, from, greeting string) {
		fr, err := parseFriendRequest(content)
		if err == nil && fr.FromUserName == "" && fr.EncryptUserName == "" {
			t.Fatal("accepted without requester")
		}
		if !xmlSafe(from) || !xmlSafe(greeting) || strings.TrimSpace(from) == "" {
			return
		}
		doc := `<msg fromusername="` + xmlText(from) + `" encryptusername="v1_x@stranger" content="` + xmlText(greeting) +
			`" ticket="v2_t@stranger" scene="14"><brandlist count="0" ver="1"></brandlist></msg>`
		fr, err = parseFriendRequest(serverForm(doc))
		if err != nil {
			t.Fatalf("generated request: %v", err)
		}
		if string(fr.FromUserName) != strings.TrimSpace(throughServer(from)) || fr.Content != throughServer(greeting) || fr.Ticket != "v2_t@stranger" || fr.Scene != 14 {
			t.Fatalf("generated request parsed as %+v", fr)
		}
	})
}

func FuzzParseQuote(f *testing.F) {
	sep := "\n" + QuoteSeparator + "\n"
	f.Add("「张三：为什么这么冷」"+sep+"因为冬天", "张三", "为什么这么冷", "因为冬天")
	f.Add("「Bob: hi」\n—————————\nr", "Bob", "l1\nl2", "")
	f.Add("「Bob：a&amp;b」<br/>"+QuoteSeparator+"<br/>ok", "", "」", "」<br/>")
	f.Fuzz(func(t *testing.T, text, name, quoted, reply string) {
		if q, ok := parseQuote(text); ok {
			again := FormatQuote(q.Name, q.Quoted, q.Reply)
			if !strings.Contains(again, "」<br") {
				if q2, ok2 := parseQuote(again); !ok2 || q2 != q {
					t.Fatalf("%+v reformatted as %q parses as %+v, %v", q, again, q2, ok2)
				}
			}
		}
		if strings.ContainsAny(name, "：:") || strings.Contains(quoted, "」\n") {
			return
		}
		formatted := FormatQuote(name, quoted, reply)
		if strings.Contains(formatted, "」<br") {
			return
		}
		q, ok := parseQuote(formatted)
		if !ok || q != (Quote{name, quoted, reply}) {
			t.Fatalf("FormatQuote(%q, %q, %q) parses as %+v, %v", name, quoted, reply, q, ok)
		}
	})
}

// checkJSONStable decodes body into v and, when that works, checks that encoding is
// stable: the server double encodes these types, and a value that cannot be re-encoded
// the same way would break it.
func checkJSONStable[T any](t *testing.T, body []byte) {
	var v T
	if json.Unmarshal(body, &v) != nil {
		return
	}
	b1, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("decoded value does not encode: %v", err)
	}
	var w T
	if err := json.Unmarshal(b1, &w); err != nil {
		t.Fatalf("encoded value does not decode: %v\n%s", err, b1)
	}
	b2, err := json.Marshal(w)
	if err != nil || !bytes.Equal(b1, b2) {
		t.Fatalf("encoding not stable:\n%s\n%s", b1, b2)
	}
}

func FuzzSyncResponseJSON(f *testing.F) {
	seedFiles(f, "webwxsync_qjesus.json", "webwxsync_wcap.json", "webwxsync_wechat4u.json")
	f.Add(`{"AddMsgList":[{"NewMsgId":"12","MsgId":1}],"SyncKey":{"Count":"x"}}`)
	f.Fuzz(func(t *testing.T, body string) {
		checkJSONStable[SyncResponse](t, []byte(body))
		checkJSONStable[Message](t, []byte(body))
	})
}

func FuzzInitResponseJSON(f *testing.F) {
	seedFiles(f, "webwxinit.json", "webwxbatchgetcontact.json", "webwxgetcontact.json")
	f.Add(`{"User":{"Uin":"176666155"},"Count":1e3}`)
	f.Fuzz(func(t *testing.T, body string) {
		checkJSONStable[InitResponse](t, []byte(body))
		checkJSONStable[BatchGetContactResponse](t, []byte(body))
		checkJSONStable[GetContactResponse](t, []byte(body))
	})
}

// FuzzDecode runs the whole message decoder (every kind, with any content, OriContent
// and Url) on random input, seeded with every captured message and XML: it must not
// panic, always give a content, and keep what it promises (valid coordinates, a
// revoke's msgid a number, raw text kept when nothing could be read).
func FuzzDecode(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "payloads", "msg_*.json"))
	for _, p := range names {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		var m Message
		if err := json.Unmarshal(b, &m); err != nil {
			f.Fatal(err)
		}
		f.Add(m.Content, int(m.MsgType), int(m.AppMsgType), m.SubMsgType, m.OriContent, m.Url, string(m.FromUserName))
		f.Add(m.OriContent, int(m.MsgType), int(m.AppMsgType), m.SubMsgType, "", "", "")
	}
	xmls, _ := filepath.Glob(filepath.Join("testdata", "payloads", "appmsg_*.xml"))
	for _, p := range xmls {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), int(MsgApp), 0, 0, "", "", "@@group")
		f.Add(serverForm(string(b)), int(MsgApp), int(AppMsgRefer), 0, "", "", "@abc")
	}
	var r SyncResponse
	b, _ := os.ReadFile(filepath.Join("testdata", "payloads", "webwxsync_qjesus.json"))
	if err := json.Unmarshal(b, &r); err != nil {
		f.Fatal(err)
	}
	for _, m := range r.AddMsgList {
		f.Add(m.Content, int(m.MsgType), int(m.AppMsgType), m.SubMsgType, m.OriContent, m.Url, string(m.FromUserName))
	}
	f.Add("<msg username='wxid_1' nickname='n'/>", int(MsgShareCard), 0, 0, "", "", "")
	f.Add("@a:<br/>&lt;sysmsg type=\"pat\"&gt;&lt;pat&gt;&lt;template&gt;${a} 拍了拍 ${b}&lt;/template&gt;&lt;/pat&gt;&lt;/sysmsg&gt;", int(MsgSys), 0, 0, "", "", "@@g")
	f.Add("label:<br/>/cgi-bin/mmwebwx-bin/webwxgetpubliclinkimg?url=x&amp;msgid=1", int(MsgText), 0, SubMsgTypeLocation, "", "http://apis.map.qq.com/?coord=22.5,113.9", "")
	f.Fuzz(func(t *testing.T, content string, msgType, appMsgType, subMsgType int, ori, url, from string) {
		m := &Message{MsgId: "1", FromUserName: UserName(from), ToUserName: "@me", MsgType: MsgType(msgType),
			AppMsgType: AppMsgType(appMsgType), SubMsgType: subMsgType, Content: content, OriContent: ori, Url: url,
			FileName: ori, FileSize: url, StatusNotifyCode: subMsgType, StatusNotifyUserName: url}
		ev := m.Decode("@me")
		switch c := ev.Content.(type) {
		case nil:
			t.Fatal("no content")
		case *Location:
			if c.HasCoords && (math.IsNaN(c.Lat) || math.IsNaN(c.Lng) || math.Abs(c.Lat) > 90 || math.Abs(c.Lng) > 180) {
				t.Fatalf("accepted coordinates %+v", c)
			}
		case *Revoke:
			if c.MsgID != "" && !isDigits(c.MsgID) {
				t.Fatalf("revoke of msgid %q", c.MsgID)
			}
		case *Undecodable:
			if !strings.HasSuffix(content, c.Raw) {
				t.Fatalf("raw %q is not the content %q", c.Raw, content)
			}
		case *IDList:
			for s, id := range c.Pairs {
				if s == "" || id == "" {
					t.Fatalf("empty pair %q -> %q", s, id)
				}
			}
		}
		if label, path, ok := locationText(content); ok && path == "" {
			t.Fatalf("location text %q without path", label)
		}
		if ev.Info.Sender != "" && ev.Info.Chat == "" && !ev.Info.FromMe {
			t.Fatalf("a sender without a chat: %+v", ev.Info)
		}
	})
}
