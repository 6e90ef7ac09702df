package protoclient

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Every captured payload of the protocol reference (§5.4, §9) is decoded here into the
// wire types and the content parsers, and the values a bridge relies on are checked.

func payload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "payloads", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodePayload(t testing.TB, name string, v any) {
	t.Helper()
	if err := json.Unmarshal(payload(t, name), v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestPayloadsJSLoginAndPoll(t *testing.T) {
	for _, tt := range []struct {
		file string
		uuid string
	}{{"jslogin.txt", "gbyKnbsmqQ=="}, {"jslogin_wechat4u.txt", "4dcaWx3uBw=="}} {
		r, err := ParseJSLogin(string(payload(t, tt.file)))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		eq(t, tt.file+" code", r.Code, 200)
		eq(t, tt.file+" uuid", r.UUID, tt.uuid)
	}
	for _, tt := range []struct {
		file     string
		code     int
		avatar   string
		redirect string
	}{
		{"loginpoll_408.txt", 408, "", ""},
		{"loginpoll_201.txt", 201, "data:img/jpg;base64,/9j/4AAQSkZJRgABAQEASABIAAD......", ""},
		{"loginpoll_201_wechat4u.txt", 201, "", ""},
		{"loginpoll_200.txt", 200, "", "https://wx.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage?ticket=AaXdHpmbWGYo_ZOk7ylAnnCY@qrticket_0&uuid=gbyKnbsmqQ==&lang=zh_CN&scan=1546211468"},
		{"loginpoll_200_wechat4u.txt", 200, "", "https://wx2.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage?ticket=A6NZxcl2chBSJUFYj9hPlKMV@qrticket_0&uuid=4dcaWx3uBw==&lang=zh_CN&scan=1463755895"},
	} {
		r, err := ParseLoginPoll(string(payload(t, tt.file)))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		eq(t, tt.file+" code", r.Code, tt.code)
		eq(t, tt.file+" avatar", r.UserAvatar, tt.avatar)
		eq(t, tt.file+" redirect", r.RedirectURI, tt.redirect)
	}
}

func TestPayloadsNewLoginPage(t *testing.T) {
	info, err := ParseNewLoginPage(payload(t, "newloginpage.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := LoginInfo{Skey: "@crypt_63d18dea_a7de6934c67e2f89ac399fa35b689a50", Wxsid: "5YpLHmVgWwH5LxN1",
		Wxuin: 176666155, PassTicket: "kbmy5Jt9nj%2BJzBaJZYNpUBQyBwRTejeXq1sM%2FYH7iOI%3D", IsGrayScale: 1}
	if info != want {
		t.Errorf("newloginpage = %+v, want %+v", info, want)
	}
	info, err = ParseNewLoginPage(payload(t, "newloginpage_wechat4u.xml"))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "wechat4u wxuin", info.Wxuin, 155217200)
	eq(t, "wechat4u message", info.Message, "OK")
	for _, f := range []string{"newloginpage_1203.xml", "newloginpage_1203_pre.html"} {
		_, err := ParseNewLoginPage(payload(t, f))
		var refused *LoginRefusedError
		if !errors.As(err, &refused) {
			t.Fatalf("%s: err = %v, want *LoginRefusedError", f, err)
		}
		eq(t, f+" ret", refused.Ret, 1203)
		if !strings.HasPrefix(refused.Message, "当前登录环境异常") {
			t.Errorf("%s: message %q", f, refused.Message)
		}
	}
}

func TestPayloadsSyncCheck(t *testing.T) {
	for _, tt := range []struct {
		file          string
		ret, selector int
	}{
		{"synccheck_0_0.txt", 0, 0}, {"synccheck_0_2.txt", 0, 2},
		{"synccheck_1100.txt", 1100, 0}, {"synccheck_1101.txt", 1101, 0}, {"synccheck_1102.txt", 1102, 0},
	} {
		r, err := ParseSyncCheck(string(payload(t, tt.file)))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if r != (SyncCheckResult{Retcode: tt.ret, Selector: tt.selector}) {
			t.Errorf("%s = %+v", tt.file, r)
		}
	}
}

func TestPayloadsInit(t *testing.T) {
	var r InitResponse
	decodePayload(t, "webwxinit.json", &r)
	eq(t, "Ret", r.BaseResponse.Ret, 0)
	eq(t, "Count", r.Count, 9)
	if len(r.ContactList) != 2 {
		t.Fatalf("ContactList has %d entries", len(r.ContactList))
	}
	friend, group := r.ContactList[0], r.ContactList[1]
	eq(t, "friend UserName", friend.UserName, "@a53c1fbfce2d6ece47a39329ca2e95071e05cddbd94f0ec3973ffe39a06ccbe6")
	eq(t, "friend NickName", friend.NickName, "杨爽")
	eq(t, "friend RemarkName", friend.RemarkName, "亲爱的大宝贝")
	eq(t, "friend ContactFlag", friend.ContactFlag, 34819)
	eq(t, "friend AttrStatus", friend.AttrStatus, FlexInt(135461))
	eq(t, "friend PYQuanPin", friend.PYQuanPin, "yangshuang")
	eq(t, "friend HeadImgUrl", friend.HeadImgUrl, "/cgi-bin/mmwebwx-bin/webwxgeticon?seq=696335334&username=@a53c1fbfce2d6ece47a39329ca2e95071e05cddbd94f0ec3973ffe39a06ccbe6&skey=@crypt_63d18dea_a7de6934c67e2f89ac399fa35b689a50")
	if friend.IsGroup() || !group.IsGroup() {
		t.Errorf("IsGroup: friend %v, group %v", friend.IsGroup(), group.IsGroup())
	}
	eq(t, "group MemberCount", group.MemberCount, 14)
	if len(group.MemberList) != 1 || group.MemberList[0].UserName != friend.UserName {
		t.Errorf("group MemberList = %+v", group.MemberList)
	}
	wantKey := SyncKey{Count: 4, List: []SyncKeyItem{{1, 698325105}, {2, 698325109}, {3, 698325051}, {1000, 1546210682}}}
	if !reflect.DeepEqual(r.SyncKey, wantKey) {
		t.Errorf("SyncKey = %+v", r.SyncKey)
	}
	eq(t, "SyncKey string", r.SyncKey.String(), "1_698325105|2_698325109|3_698325051|1000_1546210682")
	eq(t, "User.Uin", r.User.Uin, FlexInt(176666155))
	eq(t, "User.UserName", r.User.UserName, "@f0c04abe389590b02d91684d99584439")
	eq(t, "User.NickName", r.User.NickName, "秦习淳")
	eq(t, "User.Signature", r.User.Signature, "赚钱养家")
	eq(t, "User.Sex", r.User.Sex, 1)
	eq(t, "User.HeadImgFlag", r.User.HeadImgFlag, 1)
	eq(t, "User.SnsFlag", r.User.SnsFlag, 17)
	if !strings.HasPrefix(r.ChatSet, "filehelper,weixin,@d77f22c1") || !strings.HasSuffix(r.ChatSet, "@@35c78783e0906eb43b070ef4425a965cf06933f67cc45a436d89d7e31267348e,") {
		t.Errorf("ChatSet = %q", r.ChatSet)
	}
	eq(t, "ChatSet entries", len(strings.Split(strings.TrimSuffix(r.ChatSet, ","), ",")), 9)
	eq(t, "SKey", r.SKey, "@crypt_63d18dea_a7de6934c67e2f89ac399fa35b689a50")
	eq(t, "ClientVersion", r.ClientVersion, 385876258)
	eq(t, "SystemTime", r.SystemTime, 1546211541)
	eq(t, "InviteStartCount", r.InviteStartCount, 40)
	eq(t, "ClickReportInterval", r.ClickReportInterval, 600000)
	if len(r.MPSubscribeMsgList) != 1 || r.MPSubscribeMsgList[0].NickName != "dotNET跨平台" ||
		r.MPSubscribeMsgList[0].MPArticleCount != 5 || r.MPSubscribeMsgList[0].Time != 1546210870 ||
		len(r.MPSubscribeMsgList[0].MPArticleList) != 1 {
		t.Errorf("MPSubscribeMsgList = %+v", r.MPSubscribeMsgList)
	}

	var req struct{ BaseRequest BaseRequest }
	decodePayload(t, "webwxinit_request.json", &req)
	eq(t, "request Uin as string", req.BaseRequest.Uin, FlexInt(176666155))
	eq(t, "request DeviceID", req.BaseRequest.DeviceID, "e940492848928413")
}

func TestPayloadsContacts(t *testing.T) {
	var gc GetContactResponse
	decodePayload(t, "webwxgetcontact.json", &gc)
	eq(t, "getcontact Seq", gc.Seq, FlexInt(0))
	eq(t, "getcontact MemberCount", gc.MemberCount, 64)
	if len(gc.MemberList) != 1 || gc.MemberList[0].RemarkPYQuanPin != "qinaidedabaobei" || gc.MemberList[0].RemarkPYInitial != "QADDBB" {
		t.Errorf("getcontact MemberList = %+v", gc.MemberList)
	}

	var breq BatchGetContactRequest
	decodePayload(t, "webwxbatchgetcontact_request.json", &breq)
	eq(t, "batch request Count", breq.Count, 2)
	if len(breq.List) != 2 || breq.List[1].UserName != "@@0d9ad8ab75097485e5f22cda0d84c837b086361207759fafbbf16316bbd22663" {
		t.Errorf("batch request List = %+v", breq.List)
	}

	var b BatchGetContactResponse
	decodePayload(t, "webwxbatchgetcontact.json", &b)
	eq(t, "batch Count", b.Count, 2)
	if len(b.ContactList) != 1 {
		t.Fatalf("batch ContactList has %d entries", len(b.ContactList))
	}
	g := b.ContactList[0]
	eq(t, "group EncryChatRoomId", g.EncryChatRoomId, "@a8893c6bf328cdbca926222211bc33dc")
	eq(t, "group NickName", g.NickName, "相亲相爱的一家人")
	eq(t, "group PYQuanPin", g.PYQuanPin, "xiangqinxiangaideyijiaren")
	eq(t, "group ContactFlag", g.ContactFlag, 2)
	eq(t, "group MemberCount", g.MemberCount, 14)
	if len(g.MemberList) != 1 {
		t.Fatalf("group MemberList has %d entries", len(g.MemberList))
	}
	m := g.MemberList[0]
	eq(t, "member UserName", m.UserName, "@a53c1fbfce2d6ece47a39329ca2e95071e05cddbd94f0ec3973ffe39a06ccbe6")
	eq(t, "member NickName", m.NickName, "亲爱的大宝贝")
	eq(t, "member AttrStatus", m.AttrStatus, FlexInt(135461))

	var snReq StatusNotifyRequest
	decodePayload(t, "webwxstatusnotify_request.json", &snReq)
	eq(t, "statusnotify Code", snReq.Code, StatusNotifyInited)
	eq(t, "statusnotify numeric ClientMsgId", snReq.ClientMsgId, FlexString("1546211539889"))
	eq(t, "statusnotify Uin", snReq.BaseRequest.Uin, FlexInt(176666155))
	for file, id := range map[string]string{
		"webwxstatusnotify_response.json":          "8032721323945545465",
		"webwxstatusnotify_response_wechat4u.json": "3199705316661781423",
	} {
		var sn StatusNotifyResponse
		decodePayload(t, file, &sn)
		eq(t, file+" MsgID", sn.MsgID, id)
	}
}

func TestPayloadsSyncQJesus(t *testing.T) {
	var r SyncResponse
	decodePayload(t, "webwxsync_qjesus.json", &r)
	eq(t, "AddMsgCount (as the capture says)", r.AddMsgCount, 1)
	if len(r.AddMsgList) != 4 {
		t.Fatalf("AddMsgList has %d entries", len(r.AddMsgList))
	}
	wantKey := SyncKey{Count: 7, List: []SyncKeyItem{{1, 698325105}, {2, 698325111}, {3, 698325051}, {11, 698322408}, {201, 1546211542}, {1000, 1546210682}, {1001, 1546210755}}}
	if !reflect.DeepEqual(r.SyncKey, wantKey) {
		t.Errorf("SyncKey = %+v", r.SyncKey)
	}
	if r.SyncCheckKey == nil || !reflect.DeepEqual(*r.SyncCheckKey, wantKey) {
		t.Errorf("SyncCheckKey = %+v", r.SyncCheckKey)
	}
	// The synccheck request of §9.7 sends exactly this.
	eq(t, "SyncCheckKey string", r.SyncCheckKey.String(), "1_698325105|2_698325111|3_698325051|11_698322408|201_1546211542|1000_1546210682|1001_1546210755")
	eq(t, "SKey", r.SKey, "")
	eq(t, "Profile.BitFlag", r.Profile.BitFlag, 0)

	emo := r.AddMsgList[0]
	eq(t, "MsgId", emo.MsgId, "6929942228714508460")
	eq(t, "NewMsgId", int64(emo.NewMsgId), int64(6929942228714508460))
	eq(t, "MsgType", emo.MsgType, MsgEmoticon)
	eq(t, "ImgStatus", emo.ImgStatus, 2)
	eq(t, "CreateTime", emo.CreateTime, 1546215540)
	eq(t, "ImgWidth", emo.ImgWidth, 240)
	eq(t, "ImgHeight", emo.ImgHeight, 210)
	e, err := parseEmojiMsg(emo.Content)
	if err != nil {
		t.Fatal(err)
	}
	want := emojiMsg{FromUserName: "xxx", ToUserName: "xxx", Type: 2, MD5: "594560af0d32d92224682ee2c292877a", Len: 447446,
		CDNURL:     "http://emoji.qpic.cn/wx_emoji/NBYII27icz3UvDVcCrK2sXzjZeTXzicxmtdRw9NT55ONgEB4VQHCsmTA/",
		EncryptURL: "http://emoji.qpic.cn/wx_emoji/NBYII27icz3UvDVcCrK2sXzjZeTXzicxmtgwJAQBfFGKalttRyL1HHTQ/",
		AESKey:     "f63eaffcd7e1b1efce4ca891a7034ade",
		ExternURL:  "http://emoji.qpic.cn/wx_emoji/nqlcrTzic7Dp3lMHWq1iczdNbFKgUpk5Sib5zZZqNhw1yib6cBTXSicEMPR7lyx7HBRhr/",
		ExternMD5:  "627c87c363940e825cc92bbfc09235b7", Width: 240, Height: 210}
	if *e != want {
		t.Errorf("emoji = %+v\nwant    %+v", *e, want)
	}

	notify := r.AddMsgList[1]
	eq(t, "notify MsgType", notify.MsgType, MsgStatusNotify)
	eq(t, "notify code", notify.StatusNotifyCode, StatusNotifyRead)
	eq(t, "notify user", notify.StatusNotifyUserName, "@d77f22c1444fcbd7092fa2464899391a3cc0d6a9ec79b0770ce91be01a66a09b")
	if _, err := parseStatusNotifyOp(notify.Content); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty status notify content: err = %v", err)
	}

	video := r.AddMsgList[2]
	eq(t, "video MsgId", video.MsgId, "3835382370273594705")
	eq(t, "video NewMsgId", int64(video.NewMsgId), int64(3835382370273594705))
	eq(t, "video PlayLength", video.PlayLength, 10)
	eq(t, "video ImgWidth", video.ImgWidth, 290)
	eq(t, "video ImgHeight", video.ImgHeight, 512)
	if _, err := parseVideoMsg(video.Content); err == nil {
		t.Error("the opaque @hex video content parsed as XML")
	}

	text := r.AddMsgList[3]
	eq(t, "text MsgId", text.MsgId, "6469713913745187012")
	eq(t, "text NewMsgId", int64(text.NewMsgId), int64(6469713913745187012))
	eq(t, "text", DecodeText(text.Content), "为什么这么冷")
	eq(t, "text FileSize", text.FileSize, "")
	if _, _, ok := SplitGroupSender(text.Content); ok {
		t.Error("direct text split as group text")
	}

	var req struct {
		BaseRequest BaseRequest
		SyncKey     SyncKey
		RR          FlexInt `json:"rr"`
	}
	decodePayload(t, "webwxsync_request.json", &req)
	eq(t, "request rr", req.RR, FlexInt(-23314857))
	eq(t, "request SyncKey count", req.SyncKey.Count, 4)
}

func TestPayloadsSyncWcap(t *testing.T) {
	var r SyncResponse
	decodePayload(t, "webwxsync_wcap.json", &r)
	eq(t, "AddMsgCount", r.AddMsgCount, 4)
	if len(r.AddMsgList) != 4 {
		t.Fatalf("AddMsgList has %d entries", len(r.AddMsgList))
	}
	codes := []int{r.AddMsgList[0].StatusNotifyCode, r.AddMsgList[3].StatusNotifyCode}
	if codes[0] != StatusNotifyEnterSession || codes[1] != StatusNotifyQuitSession {
		t.Errorf("status notify codes = %v", codes)
	}
	for _, i := range []int{0, 3} {
		eq(t, "notify user", r.AddMsgList[i].StatusNotifyUserName, "filehelper")
	}
	eq(t, "text 1", r.AddMsgList[1].Content, "hi")
	eq(t, "text 2", r.AddMsgList[2].Content, "here")
	eq(t, "text 2 MsgId", r.AddMsgList[2].MsgId, "1095875908197653519")
	eq(t, "text 2 NewMsgId", int64(r.AddMsgList[2].NewMsgId), int64(1095875908197653519))
	eq(t, "sent to", r.AddMsgList[1].ToUserName, "filehelper")
	eq(t, "SyncKey count", r.SyncKey.Count, 7)
	eq(t, "SyncKey 201", r.SyncKey.List[4], SyncKeyItem{201, 1515164492})
	if r.SyncCheckKey == nil || !reflect.DeepEqual(*r.SyncCheckKey, r.SyncKey) {
		t.Errorf("SyncCheckKey = %+v", r.SyncCheckKey)
	}
}

func TestPayloadsSyncWechat4u(t *testing.T) {
	var r SyncResponse
	decodePayload(t, "webwxsync_wechat4u.json", &r)
	if r.SyncCheckKey != nil {
		t.Errorf("2016 fixture has no SyncCheckKey, got %+v", r.SyncCheckKey)
	}
	eq(t, "SyncKey count", r.SyncKey.Count, 10)
	eq(t, "SyncKey valid", r.SyncKey.Valid(), true)
	if len(r.ModContactList) != 1 {
		t.Fatalf("ModContactList has %d entries", len(r.ModContactList))
	}
	g := r.ModContactList[0]
	eq(t, "group NickName", g.NickName, "Vue.js Podcast 群二")
	eq(t, "group HeadImgUpdateFlag", g.HeadImgUpdateFlag, 1)
	eq(t, "group ChatRoomOwner", g.ChatRoomOwner, "@944995d2a2106a4544d2752e605ef09fdd5698e63b9fa40e9c824b5388dd73f8")
	eq(t, "group MemberCount", g.MemberCount, 462)
	eq(t, "group ContactFlag", g.ContactFlag, 3)
	if len(g.MemberList) != 1 {
		t.Fatalf("MemberList has %d entries", len(g.MemberList))
	}
	eq(t, "member Uin", g.MemberList[0].Uin, FlexInt(195765975))
	eq(t, "member AttrStatus", g.MemberList[0].AttrStatus, FlexInt(37851687))
	eq(t, "member NickName decoded", DecodeName(g.MemberList[0].NickName), "吃圡死月不會碼代碼🌛")

	if len(r.AddMsgList) != 1 {
		t.Fatalf("AddMsgList has %d entries", len(r.AddMsgList))
	}
	msg := r.AddMsgList[0]
	eq(t, "code", msg.StatusNotifyCode, StatusNotifySyncConv)
	op, err := parseStatusNotifyOp(msg.Content)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "op id", op.ID, 4)
	if want := []string{"wxid_7313013130512", "filehelper", "902809793@chatroom", "2914059377@chatroom"}; !reflect.DeepEqual(op.UserNames, want) {
		t.Errorf("op usernames = %q", op.UserNames)
	}
	if want := []unreadChat{{"902809793@chatroom", 1463754424}, {"MomentsUnreadMsgStatus", 1463158935}}; !reflect.DeepEqual(op.UnreadChat, want) {
		t.Errorf("unread = %+v", op.UnreadChat)
	}
	pairs, err := PairStatusNotify(msg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[UserName]WxID{
		"@339651ba569948c2c1f18e547e5fcb49cc2672af2a4ece71ed97e1c3a572858a": "wxid_7313013130512",
		"filehelper": "filehelper",
		"@@22e2e1f42c303adeda023a1affa9a9be06f94c1d55189cedf28aa5ad78d09466": "902809793@chatroom",
		"@@5ce8c3e2a4d8b1f77f2b4e10d0e1c0e3e7d2a1f5b6c4d3e2f1a0b9c8d7e6f5a4": "2914059377@chatroom",
	}
	if !reflect.DeepEqual(pairs, want) {
		t.Errorf("pairs = %v", pairs)
	}

	short := msg
	short.StatusNotifyUserName = "@339651ba569948c2c1f18e547e5fcb49cc2672af2a4ece71ed97e1c3a572858a,filehelper"
	if _, err := PairStatusNotify(short); !errors.Is(err, ErrMalformed) {
		t.Errorf("lists of different length: err = %v", err)
	}
	trailing := msg
	trailing.StatusNotifyUserName += ","
	if p, err := PairStatusNotify(trailing); err != nil || len(p) != 4 {
		t.Errorf("trailing comma: %v, %v", p, err)
	}
	wrongType := msg
	wrongType.MsgType = MsgText
	if _, err := PairStatusNotify(wrongType); err == nil {
		t.Error("paired a text message")
	}
}

func TestStatusNotifyOpSmall(t *testing.T) {
	// Code 1 content of terry-fei/wechat-bot#4 (§5.4.7), single-quoted attribute.
	op, err := parseStatusNotifyOp("&lt;msg&gt;&lt;op id='1'&gt;&lt;username&gt;wxid_abc&lt;/username&gt;&lt;/op&gt;&lt;/msg&gt;")
	if err != nil {
		t.Fatal(err)
	}
	if op.ID != 1 || !reflect.DeepEqual(op.UserNames, []string{"wxid_abc"}) || op.UnreadChat != nil {
		t.Errorf("op = %+v", op)
	}
	if _, err := parseStatusNotifyOp("<msg><op id='x'></op></msg>"); err == nil {
		t.Error("non-numeric op id accepted")
	}
}

func TestPayloadsSend(t *testing.T) {
	var req SendRequest
	decodePayload(t, "webwxsendmsg_request.json", &req)
	eq(t, "Msg.Type", req.Msg.Type, int(MsgText))
	eq(t, "Msg.LocalID", req.Msg.LocalID, FlexString("15462147414160521"))
	eq(t, "Msg.ClientMsgId", req.Msg.ClientMsgId, FlexString("15462147414160521"))
	eq(t, "Scene", req.Scene, 0)
	var resp SendResponse
	decodePayload(t, "webwxsendmsg_response.json", &resp)
	eq(t, "MsgID", resp.MsgID, "3053194738703673101")
	eq(t, "LocalID", resp.LocalID, "15462147414160521")

	var up UploadMediaRequest
	decodePayload(t, "uploadmediarequest.json", &up)
	eq(t, "ClientMediaId", up.ClientMediaId, FlexString("1546218776042"))
	eq(t, "TotalLen", up.TotalLen, 63048)
	eq(t, "MediaType", up.MediaType, UploadMediaTypeAtt)
	eq(t, "FileMd5", up.FileMd5, "d5703346bc99a77c1fe276f94b2d9fd4")
	var upr UploadMediaResponse
	decodePayload(t, "webwxuploadmedia_response.json", &upr)
	eq(t, "StartPos", upr.StartPos, 63048)
	eq(t, "CDNThumbImgHeight", upr.CDNThumbImgHeight, 100)
	eq(t, "EncryFileName", upr.EncryFileName, "IMG%5F1854%2EJPG")
	if !strings.HasPrefix(upr.MediaId, "@crypt_ca8428f8_") {
		t.Errorf("MediaId = %q", upr.MediaId)
	}
}

func TestPayloadsMisc(t *testing.T) {
	var rv RevokeResponse
	decodePayload(t, "webwxrevokemsg_response.json", &rv)
	eq(t, "revoke SysWording", rv.SysWording, "已撤回")
	decodePayload(t, "webwxrevokemsg_response_late.json", &rv)
	eq(t, "late revoke Ret", rv.BaseResponse.Ret, -1)
	var cr ChatRoomResponse
	decodePayload(t, "webwxcreatechatroom_response.json", &cr)
	eq(t, "create ErrMsg", cr.BaseResponse.ErrMsg, "Everything is OK")
	eq(t, "create ChatRoomName", cr.ChatRoomName, "@@cccc")
	eq(t, "create members", len(cr.MemberList), 2)
	var del ChatRoomResponse
	decodePayload(t, "webwxupdatechatroom_delmember_denied.json", &del)
	eq(t, "delmember Ret", del.BaseResponse.Ret, 1)
	var push PushLoginResponse
	decodePayload(t, "webwxpushloginurl_response.json", &push)
	eq(t, "push ret", push.Ret, FlexString("0"))
	eq(t, "push uuid", push.UUID, "Ye9aG3sZCw==")
}

func TestPayloadsFriendRequest(t *testing.T) {
	var m Message
	decodePayload(t, "msg_friend_request.json", &m)
	eq(t, "MsgId", m.MsgId, "3225371967511173931")
	// The fixture went through JavaScript, which rounded NewMsgId; it still decodes as int64.
	eq(t, "NewMsgId", int64(m.NewMsgId), int64(3225371967511174000))
	eq(t, "MsgType", m.MsgType, MsgVerify)
	eq(t, "From", m.FromUserName, "fmessage")
	ri := m.RecommendInfo
	eq(t, "RecommendInfo.UserName", ri.UserName, "@04a0fa314d0d8d50dc54e2ec908744ebf46b87404d143fd9a6692182dd90bd49")
	eq(t, "RecommendInfo.Ticket", ri.Ticket, "v2_ba70dfbdb1b10168d61c1ab491be19e219db11ed5c28701f605efb4dccbf132f664d8a4c9ef6e852b2a4e8d8638be81d125c2e641f01903669539c53f1e582b2@stranger")
	eq(t, "RecommendInfo.Content", ri.Content, `我是群聊"Wechaty"的李卓桓.PreAngel`)
	eq(t, "RecommendInfo.Scene", ri.Scene, 14)
	eq(t, "RecommendInfo.OpCode", ri.OpCode, 2)
	eq(t, "RecommendInfo.AttrStatus", ri.AttrStatus, FlexInt(233251))
	eq(t, "RecommendInfo.HeadImgUrl", strings.HasPrefix(ri.HeadImgUrl, "/cgi-bin/mmwebwx-bin/webwxgeticon?seq=0&username=@04a0"), true)

	fr, err := parseFriendRequest(m.Content)
	if err != nil {
		t.Fatal(err)
	}
	want := friendRequestMsg{
		FromUserName:     "wxid_a8d806dzznm822",
		EncryptUserName:  "v1_c1e03a32c60dd9a9e14f1092132808a2de0ad363f79b303693654282954fbe4d3e12481166f4b841f28de3dd58b0bd54@stranger",
		FromNickName:     "李卓桓.PreAngel",
		Content:          `我是群聊"Wechaty"的李卓桓.PreAngel`,
		Ticket:           xmlStr(ri.Ticket),
		Scene:            14,
		OpCode:           2,
		Alias:            "zixia008",
		ChatRoomUserName: "2332413729@chatroom",
		Sign:             "投资人中最会飞的程序员。好友请加 918999 ，因为本号好友已满。",
		BigHeadImgURL:    "http://wx.qlogo.cn/mmhead/ver_1/…/0",
		SmallHeadImgURL:  "http://wx.qlogo.cn/mmhead/ver_1/…/132",
		Province:         "Beijing",
		City:             "Haidian",
		Sex:              1,
	}
	if *fr != want {
		t.Errorf("friend request = %+v\nwant             %+v", *fr, want)
	}

	var added Message
	decodePayload(t, "msg_friend_added.json", &added)
	eq(t, "added MsgType", added.MsgType, MsgSys)
	eq(t, "added Status", added.Status, 4)
	if _, ok := parseSysMsgType(added.Content); ok {
		t.Error("plain system text taken for a sysmsg")
	}
}

func TestPayloadsRevoke(t *testing.T) {
	tests := []struct {
		file string
		want revokeMsg
		grp  bool
	}{
		{"msg_revoke_wwdk.json", revokeMsg{Session: "wxid_xxxxxxx", OldMsgID: "1660000000", MsgID: "41000000000000000", ReplaceMsg: `"xx" 撤回了一条消息`}, false},
		{"msg_revoke_group.json", revokeMsg{Session: "5538097630@chatroom", OldMsgID: "1096526481", MsgID: "4241293912041778012", ReplaceMsg: "你撤回了一条消息"}, true},
	}
	for _, tt := range tests {
		var m Message
		decodePayload(t, tt.file, &m)
		eq(t, tt.file+" MsgType", m.MsgType, MsgRecalled)
		eq(t, tt.file+" Status", m.Status, 4)
		r, err := parseRevoke(m.Content)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if *r != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.file, *r, tt.want)
		}
		if typ, ok := parseSysMsgType(m.Content); !ok || typ != "revokemsg" {
			t.Errorf("%s: sysmsg type %q, %v", tt.file, typ, ok)
		}
		// Revokes by other members carry the sender prefix (§5.4.2).
		prefixed := "@9abcdef:<br/>" + m.Content
		if r2, err := parseRevoke(prefixed); err != nil || *r2 != tt.want {
			t.Errorf("%s with sender prefix: %+v, %v", tt.file, r2, err)
		}
	}
	// msgid 0 means "self's last message" (official), and is accepted.
	if r, err := parseRevoke(`<sysmsg type="revokemsg"><revokemsg><session>wxid_a</session><msgid>0</msgid></revokemsg></sysmsg>`); err != nil || r.MsgID != "0" {
		t.Errorf("msgid 0: %+v, %v", r, err)
	}
	for _, bad := range []string{
		"", "hello", "<sysmsg type=\"pat\"><pat/></sysmsg>",
		"<sysmsg type=\"revokemsg\"><revokemsg><msgid>12a</msgid></revokemsg></sysmsg>",
		"<msg><revokemsg><msgid>1</msgid></revokemsg></msg>",
	} {
		if _, err := parseRevoke(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("parseRevoke(%q) err = %v", bad, err)
		}
	}
	if typ, ok := parseSysMsgType(`&lt;sysmsg type="pat"&gt;&lt;pat&gt;&lt;/pat&gt;&lt;/sysmsg&gt;`); !ok || typ != "pat" {
		t.Errorf("pat sysmsg: %q, %v", typ, ok)
	}
	if typ, ok := parseSysMsgType(`<sysmsg type='sysmsgtemplate'></sysmsg>`); !ok || typ != "sysmsgtemplate" {
		t.Errorf("template sysmsg: %q, %v", typ, ok)
	}
}

func TestPayloadsLocation(t *testing.T) {
	var m Message
	decodePayload(t, "msg_location.json", &m)
	eq(t, "MsgType", m.MsgType, MsgText)
	eq(t, "SubMsgType", m.SubMsgType, SubMsgTypeLocation)
	eq(t, "Url", m.Url, "http://apis.map.qq.com/uri/v1/geocoder?coord=22.000000,113.000000")
	loc, err := parseLocation(m.OriContent)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Location{HasCoords: true, Lat: 22, Lng: 113, Scale: 16, Label: "深圳市xxxx", PoiName: "[位置]"}); *loc != want {
		t.Errorf("location = %+v, want %+v", *loc, want)
	}
	label, img, ok := locationText(m.Content)
	if !ok || label != "深圳市xxxx" || img != "/cgi-bin/mmwebwx-bin/webwxgetpubliclinkimg?url=xxx&msgid=790000000000000&pictype=location" {
		t.Errorf("LocationText = %q, %q, %v", label, img, ok)
	}
	// In a group the label follows the sender prefix and must survive the split.
	_, rest, _ := SplitGroupSender("@abc:<br/>" + m.Content)
	if label2, _, ok := locationText(rest); !ok || label2 != "深圳市xxxx" {
		t.Errorf("group location label = %q, %v", label2, ok)
	}
	// The escaped form, as it would appear in Content, parses the same.
	if loc2, err := parseLocation(EncodeContent(m.OriContent)); err != nil || *loc2 != *loc {
		t.Errorf("escaped OriContent: %+v, %v", loc2, err)
	}
	for _, bad := range []string{
		`<msg><location x="NaN" y="1"/></msg>`, `<msg><location x="91" y="1"/></msg>`,
		`<msg><location x="1" y="-181"/></msg>`, `<msg><location x="" y=""/></msg>`, `<msg></msg>`, "",
	} {
		if _, err := parseLocation(bad); err == nil {
			t.Errorf("parseLocation(%q) succeeded", bad)
		}
	}
	if _, img, ok := locationText("x:<br/>/cgi-bin/a?url=1&amp;para=2&not=3"); !ok || img != "/cgi-bin/a?url=1&para=2&not=3" {
		t.Errorf("query string mangled: %q", img)
	}
	if _, _, ok := locationText("just text"); ok {
		t.Error("LocationText accepted plain text")
	}
}

func TestPayloadsMedia(t *testing.T) {
	var img Message
	decodePayload(t, "msg_image.json", &img)
	eq(t, "image MsgType", img.MsgType, MsgImage)
	im, err := parseImageMsg(img.Content)
	if err != nil {
		t.Fatal(err)
	}
	wantImg := imageMsg{AESKey: "e9c981d695c5461b8daceadbb2b75c93", CDNThumbAESKey: "e9c981d695c5461b8daceadbb2b75c93",
		CDNThumbURL: "3043020100043c303a…", CDNThumbLength: 4146, CDNThumbWidth: 89, CDNThumbHeight: 120,
		CDNMidImgURL: "3043020100043c303a…", Length: 52523, MD5: "442f7391e62b12f90a4121e331d3a1e2"}
	if *im != wantImg {
		t.Errorf("image = %+v\nwant    %+v", *im, wantImg)
	}
	// The same content with the server's `<br/>` instead of the "\n" ItChat put there.
	if im2, err := parseImageMsg(strings.ReplaceAll(img.Content, "\n", "<br/>")); err != nil || *im2 != wantImg {
		t.Errorf("<br/> form: %+v, %v", im2, err)
	}

	var voice Message
	decodePayload(t, "msg_voice.json", &voice)
	eq(t, "voice VoiceLength", voice.VoiceLength, 2340)
	v, err := parseVoiceMsg(voice.Content)
	if err != nil {
		t.Fatal(err)
	}
	wantVoice := voiceMsg{VoiceLength: 2340, Length: 3898, VoiceFormat: 4, EndFlag: 1, BufID: "289997841361207642",
		ClientMsgID: "490b0778a4b4b3ba804b98b8f43017aezyfandlzz1777_1493608371", FromUserName: "zyfandlzz"}
	if *v != wantVoice {
		t.Errorf("voice = %+v\nwant    %+v", *v, wantVoice)
	}

	var video Message
	decodePayload(t, "msg_video.json", &video)
	eq(t, "video PlayLength", video.PlayLength, 2)
	vd, err := parseVideoMsg(video.Content)
	if err != nil {
		t.Fatal(err)
	}
	wantVideo := videoMsg{AESKey: "5f355e9a1df64dc2a924e68fb2d53d69", CDNVideoURL: "3043…", CDNThumbURL: "3043…", CDNThumbAESKey: "…",
		Length: 311854, PlayLength: 2, CDNThumbLength: 23032, CDNThumbWidth: 944, CDNThumbHeight: 540,
		FromUserName: "zyfandlzz", MD5: "94d985a231c2fbde6b2ece72a300b78d", NewMD5: "e17fcce9058e2d962d877cb0f1e586a3"}
	if *vd != wantVideo {
		t.Errorf("video = %+v\nwant    %+v", *vd, wantVideo)
	}

	for _, bad := range []string{"", "@70a713006499022939c7", "<msg></msg>", "<msg><img/></msg>x"} {
		if _, err := parseVoiceMsg(bad); err == nil {
			t.Errorf("parseVoiceMsg(%q) succeeded", bad)
		}
		if _, err := parseEmojiMsg(bad); err == nil {
			t.Errorf("parseEmojiMsg(%q) succeeded", bad)
		}
	}
}

func TestPayloadsCard(t *testing.T) {
	var m Message
	decodePayload(t, "msg_card.json", &m)
	eq(t, "MsgType", m.MsgType, MsgShareCard)
	eq(t, "RecommendInfo.UserName", m.RecommendInfo.UserName, "@d8c8f3e3f29504be95e1a3fb6498b4639b74bed0593d0defe08e3d595a71c0c8")
	eq(t, "RecommendInfo.Sex", m.RecommendInfo.Sex, 2)
	c, err := parseCard(m.Content)
	if err != nil {
		t.Fatal(err)
	}
	want := cardMsg{UserName: "wxid_a6p74rz9ovbz21", NickName: "yaphone", Province: "重庆", City: "中国", Sex: 2,
		BigHeadImgURL: "http://wx.qlogo.cn/mmhead/ver_1/…/0", SmallHeadImgURL: "http://wx.qlogo.cn/mmhead/ver_1/…/132",
		Scene: 17, RegionCode: "CN_Chongqing_South Bank"}
	if *c != want {
		t.Errorf("card = %+v\nwant   %+v", *c, want)
	}
	if _, err := parseCard(`<msg nickname="x"/>`); err == nil {
		t.Error("card without username accepted")
	}
}

func TestPayloadsGroupText(t *testing.T) {
	var m Message
	decodePayload(t, "msg_group_text.json", &m)
	if !IsGroup(m.FromUserName) {
		t.Fatalf("From %q is not a group", m.FromUserName)
	}
	sender, rest, ok := SplitGroupSender(m.Content)
	if !ok || sender != "@xxxxxxxxxxxxxxxxxxxxx" || DecodeText(rest) != "Test Message" {
		t.Errorf("split = %q, %q, %v", sender, rest, ok)
	}
}

func TestPayloadsAppMsgFile(t *testing.T) {
	var m Message
	decodePayload(t, "msg_file.json", &m)
	eq(t, "MsgType", m.MsgType, MsgApp)
	eq(t, "AppMsgType", m.AppMsgType, AppMsgAttach)
	eq(t, "FileName", m.FileName, "fileName.zip")
	eq(t, "FileSize", m.FileSize, "1024")
	eq(t, "EncryFileName", m.EncryFileName, "fileName%2Ezip")
	eq(t, "AppInfo.AppID", m.AppInfo.AppID, "wx6618f1cfc6c132f8")
	sender, rest, ok := SplitGroupSender(m.Content)
	if !ok || sender != "@xxxxxxxxxxxxxxxxx" {
		t.Fatalf("split = %q, %v", sender, ok)
	}
	want := appMsg{
		AppID: "wx6618f1cfc6c132f8", Title: "fileName.zip", Action: "view", Type: xmlInt(AppMsgAttach), MD5: "xxxx",
		AppAttach: appAttach{TotalLen: 1024, AttachID: "@cdn_qwerty_abcd_1", FileExt: "zip", CDNAttachURL: "qwerty", AESKey: "abcd", EncryVer: 1},
		AppName:   "微信电脑版", AppVersion: 7,
	}
	for name, in := range map[string]string{
		"with prefix":  m.Content,
		"split":        rest,
		"unescaped":    unescapeXML(rest),
		"plain §5.4.9": string(payload(t, "appmsg_file.xml")),
	} {
		a, err := parseAppMsg(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(*a, want) {
			t.Errorf("%s: appmsg = %+v\nwant %+v", name, *a, want)
		}
	}
}

func TestAppMsgKinds(t *testing.T) {
	a, err := parseAppMsg(EncodeContent(string(payload(t, "appmsg_article_list.xml"))))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "article Type", AppMsgType(a.Type), AppMsgURL)
	eq(t, "article Title", a.Title, "今日头条")
	eq(t, "article URL", a.URL, "http://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1&sn=a#rd")
	eq(t, "article FromUserName", a.FromUserName, "gh_0123456789ab")
	wantItems := []ArticleItem{
		{Title: "第一篇", URL: "http://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1&sn=a#rd", Digest: "第一篇摘要", Cover: "http://mmbiz.qpic.cn/a/0", PubTime: 1546210870},
		{Title: "第二篇 & 更多", URL: "http://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=2&sn=b#rd", Cover: "http://mmbiz.qpic.cn/b/0", PubTime: 1546210871},
	}
	if !reflect.DeepEqual(a.articles(), wantItems) {
		t.Errorf("articles = %+v", a.articles())
	}

	a, err = parseAppMsg(string(payload(t, "appmsg_miniprogram.xml")))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "mini Type", AppMsgType(a.Type), AppMsgMiniProgram)
	if want := (weAppInfo{PagePath: "pages/index/index.html?id=42", UserName: "gh_abcdef123456@app", AppID: "wx1234567890abcdef"}); a.WeAppInfo != want {
		t.Errorf("weappinfo = %+v", a.WeAppInfo)
	}
	eq(t, "mini SourceDisplayName", a.SourceDisplayName, "某小程序")
	eq(t, "mini URL entity", a.URL, "https://mp.weixin.qq.com/mp/waerrpage?appid=wx1234567890abcdef&type=upgrade")
	eq(t, "mini FromUserName", a.FromUserName, "wxid_sender123")

	a, err = parseAppMsg("@abc:<br/>" + EncodeContent(string(payload(t, "appmsg_refer.xml"))))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "refer Type", AppMsgType(a.Type), AppMsgRefer)
	eq(t, "refer Title (the reply)", a.Title, "好的，收到")
	want := referMsg{Type: 1, SvrID: "6469713913745187012", FromUsr: "wxid_quoted001", ChatUsr: "wxid_quoted001", DisplayName: "张三", Content: "为什么这么冷", CreateTime: 1546217453}
	if a.ReferMsg == nil || *a.ReferMsg != want {
		t.Errorf("refermsg = %+v", a.ReferMsg)
	}
	eq(t, "refer Content not taken from refermsg", a.Content, "")

	// Tolerance: attributes in single quotes, a charset declaration, CDATA, unknown tags,
	// a garbled number, an unclosed trailing tag.
	a, err = parseAppMsg(`<?xml version='1.0' encoding='gbk'?><msg><appmsg appid='wx1'><title><![CDATA[a<b]]></title><type>x6</type><zzz>?</zzz><appattach><totallen>99999999999</totallen></appattach></appmsg><appinfo><appname>n</appname>`)
	if err != nil {
		t.Fatal(err)
	}
	if a.AppID != "wx1" || a.Title != "a<b" || a.Type != 0 || a.AppAttach.TotalLen != 99999999999 || a.AppName != "n" {
		t.Errorf("tolerant appmsg = %+v", a)
	}
	for _, bad := range []string{"", "text", "<msg></msg>", "<appmsg><title>x</title></appmsg>", "&lt;msg&gt;"} {
		if _, err := parseAppMsg(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("parseAppMsg(%q) err = %v", bad, err)
		}
	}
}
