package protoclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Wire types shared by the client and the server double. Field names and JSON keys are
// exactly those on the wire (reference §4–§6); Go's encoding/json matches keys without
// regard to case, other clients do not, so the tags are spelled out.

// FlexInt is an integer that the wire carries as a JSON number or as a string of digits
// (BaseRequest.Uin is a string on the first webwxinit of the official client, a number
// afterwards; webwxsync's "rr" is either). It always encodes as a number.
type FlexInt int64

func (f *FlexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		*f = 0
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*f = 0
			return nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("protoclient: %q is not an integer", s)
		}
		*f = FlexInt(n)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	i, err := n.Int64()
	if err != nil {
		fl, ferr := n.Float64()
		if ferr != nil {
			return err
		}
		i = int64(fl)
	}
	*f = FlexInt(i)
	return nil
}

// FlexString is a string that the wire may carry as a JSON number (LocalID and
// ClientMsgId are strings from the official client, integers from ItChat and wechat4u).
// It always encodes as a string.
type FlexString string

func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = FlexString(n.String())
	return nil
}

// BaseRequest authenticates every JSON API call (§2.1).
type BaseRequest struct {
	Uin      FlexInt `json:"Uin"`
	Sid      string  `json:"Sid"`
	Skey     string  `json:"Skey"`
	DeviceID string  `json:"DeviceID"`
}

// BaseResponse starts almost every JSON answer; Ret 0 is success (§2.3–2.4).
type BaseResponse struct {
	Ret    int    `json:"Ret"`
	ErrMsg string `json:"ErrMsg"`
}

// SyncKeyItem is one cursor component.
type SyncKeyItem struct {
	Key int64 `json:"Key"`
	Val int64 `json:"Val"`
}

// SyncKey is the opaque, ordered cursor of webwxsync and synccheck (§7.1).
type SyncKey struct {
	Count int           `json:"Count"`
	List  []SyncKeyItem `json:"List"`
}

// String formats the key as synccheck wants it: Key_Val pairs joined by "|".
func (k SyncKey) String() string {
	// Every synccheck sends it: one buffer that becomes the string, rather than a string
	// per number and pair.
	var b strings.Builder
	b.Grow(24 * len(k.List))
	var num [20]byte
	for i, it := range k.List {
		if i > 0 {
			b.WriteByte('|')
		}
		b.Write(strconv.AppendInt(num[:0], it.Key, 10))
		b.WriteByte('_')
		b.Write(strconv.AppendInt(num[:0], it.Val, 10))
	}
	return b.String()
}

// Valid reports whether the key can replace a stored one (official setSyncKey: Count > 0).
func (k SyncKey) Valid() bool { return k.Count > 0 && len(k.List) > 0 }

// Normalized returns the key with Count equal to len(List), which some clients index by.
func (k SyncKey) Normalized() SyncKey {
	return SyncKey{Count: len(k.List), List: append([]SyncKeyItem(nil), k.List...)}
}

// ParseSyncKeyString parses the synccheck form "1_698325105|2_698325111".
func ParseSyncKeyString(s string) (SyncKey, error) {
	var k SyncKey
	if s == "" {
		return k, nil
	}
	for _, part := range strings.Split(s, "|") {
		kv := strings.SplitN(part, "_", 2)
		if len(kv) != 2 {
			return SyncKey{}, fmt.Errorf("protoclient: bad synckey component %q", part)
		}
		key, err := strconv.ParseInt(kv[0], 10, 64)
		if err != nil {
			return SyncKey{}, fmt.Errorf("protoclient: bad synckey key %q", kv[0])
		}
		val, err := strconv.ParseInt(kv[1], 10, 64)
		if err != nil {
			return SyncKey{}, fmt.Errorf("protoclient: bad synckey value %q", kv[1])
		}
		k.List = append(k.List, SyncKeyItem{Key: key, Val: val})
	}
	k.Count = len(k.List)
	return k, nil
}

// Member is a group member entry (MemberList of a group contact, §6.1).
type Member struct {
	Uin             FlexInt  `json:"Uin"`
	UserName        UserName `json:"UserName"`
	NickName        string   `json:"NickName"`
	AttrStatus      FlexInt  `json:"AttrStatus"`
	PYInitial       string   `json:"PYInitial"`
	PYQuanPin       string   `json:"PYQuanPin"`
	RemarkPYInitial string   `json:"RemarkPYInitial"`
	RemarkPYQuanPin string   `json:"RemarkPYQuanPin"`
	MemberStatus    int      `json:"MemberStatus"`
	DisplayName     string   `json:"DisplayName"`
	KeyWord         string   `json:"KeyWord"`
}

// Contact is a user, group, official account or special account (§6.1). The same type
// carries webwxinit ContactList/User, webwxgetcontact MemberList, webwxbatchgetcontact
// ContactList and webwxsync ModContactList entries; fields absent from one shape stay zero.
type Contact struct {
	Uin               FlexInt  `json:"Uin"`
	UserName          UserName `json:"UserName"`
	NickName          string   `json:"NickName"`
	HeadImgUrl        string   `json:"HeadImgUrl"`
	ContactFlag       int      `json:"ContactFlag"`
	MemberCount       int      `json:"MemberCount"`
	MemberList        []Member `json:"MemberList"`
	RemarkName        string   `json:"RemarkName"`
	HideInputBarFlag  int      `json:"HideInputBarFlag"`
	Sex               int      `json:"Sex"`
	Signature         string   `json:"Signature"`
	VerifyFlag        int      `json:"VerifyFlag"`
	OwnerUin          FlexInt  `json:"OwnerUin"`
	PYInitial         string   `json:"PYInitial"`
	PYQuanPin         string   `json:"PYQuanPin"`
	RemarkPYInitial   string   `json:"RemarkPYInitial"`
	RemarkPYQuanPin   string   `json:"RemarkPYQuanPin"`
	StarFriend        int      `json:"StarFriend"`
	AppAccountFlag    int      `json:"AppAccountFlag"`
	Statues           int      `json:"Statues"`
	AttrStatus        FlexInt  `json:"AttrStatus"`
	Province          string   `json:"Province"`
	City              string   `json:"City"`
	Alias             string   `json:"Alias"`
	SnsFlag           int      `json:"SnsFlag"`
	UniFriend         int      `json:"UniFriend"`
	DisplayName       string   `json:"DisplayName"`
	ChatRoomId        FlexInt  `json:"ChatRoomId"`
	KeyWord           string   `json:"KeyWord"`
	EncryChatRoomId   string   `json:"EncryChatRoomId"`
	IsOwner           int      `json:"IsOwner"`
	HeadImgUpdateFlag int      `json:"HeadImgUpdateFlag,omitempty"`
	ContactType       int      `json:"ContactType,omitempty"`
	ChatRoomOwner     string   `json:"ChatRoomOwner,omitempty"`
	WebWxPluginSwitch int      `json:"WebWxPluginSwitch,omitempty"`
	HeadImgFlag       int      `json:"HeadImgFlag,omitempty"`
}

// IsGroup reports whether a UserName names a group (official isRoomContact).
func IsGroup(userName UserName) bool {
	return strings.HasPrefix(string(userName), "@@") || strings.HasSuffix(string(userName), "@chatroom")
}

// IsGroup reports whether the contact is a group.
func (c *Contact) IsGroup() bool { return IsGroup(c.UserName) }

// IsOfficialAccount reports whether the contact is an official (brand) account.
func (c *Contact) IsOfficialAccount() bool { return c.VerifyFlag&8 != 0 }

// ContactFlag bits a client acts on (CONTACTFLAG_*, §6.3).
const (
	ContactFlagNotifyClose = 0x200 // a person's chat is muted
	ContactFlagTop         = 0x800 // the chat is pinned
)

// Pinned reports whether the chat is pinned (置顶) on the phone.
func (c *Contact) Pinned() bool { return c.ContactFlag&ContactFlagTop != 0 }

// Muted reports whether the chat is muted (消息免打扰): a person by a ContactFlag bit, a
// group by Statues 0 (CHATROOM_NOTIFY_CLOSE), as the official client's isMuted decides.
func (c *Contact) Muted() bool {
	if c.IsGroup() {
		return c.Statues == 0
	}
	return c.ContactFlag&ContactFlagNotifyClose != 0
}

// DelContact is an entry of webwxsync DelContactList.
type DelContact struct {
	UserName    UserName `json:"UserName"`
	ContactFlag int      `json:"ContactFlag"`
}

// RecommendInfo accompanies friend requests (37) and contact cards (42).
type RecommendInfo struct {
	UserName   UserName `json:"UserName"`
	NickName   string   `json:"NickName"`
	QQNum      FlexInt  `json:"QQNum"`
	Province   string   `json:"Province"`
	City       string   `json:"City"`
	Content    string   `json:"Content"`
	Signature  string   `json:"Signature"`
	Alias      string   `json:"Alias"`
	Scene      int      `json:"Scene"`
	VerifyFlag int      `json:"VerifyFlag"`
	AttrStatus FlexInt  `json:"AttrStatus"`
	Sex        int      `json:"Sex"`
	Ticket     string   `json:"Ticket"`
	OpCode     int      `json:"OpCode"`
	HeadImgUrl string   `json:"HeadImgUrl,omitempty"`
}

// AppInfo names the app that sent an app message.
type AppInfo struct {
	AppID string `json:"AppID"`
	Type  int    `json:"Type"`
}

// Message is an AddMsgList entry (§5.1). MsgId is a 19-digit decimal string; NewMsgId the
// same value as a number above 2^53, so it is kept as an int64 and never a float.
type Message struct {
	MsgId                string        `json:"MsgId"`
	FromUserName         UserName      `json:"FromUserName"`
	ToUserName           UserName      `json:"ToUserName"`
	MsgType              MsgType       `json:"MsgType"`
	Content              string        `json:"Content"`
	Status               int           `json:"Status"`
	ImgStatus            int           `json:"ImgStatus"`
	CreateTime           int64         `json:"CreateTime"`
	VoiceLength          int64         `json:"VoiceLength"`
	PlayLength           int64         `json:"PlayLength"`
	FileName             string        `json:"FileName"`
	FileSize             string        `json:"FileSize"`
	MediaId              string        `json:"MediaId"`
	Url                  string        `json:"Url"`
	AppMsgType           AppMsgType    `json:"AppMsgType"`
	StatusNotifyCode     int           `json:"StatusNotifyCode"`
	StatusNotifyUserName string        `json:"StatusNotifyUserName"`
	RecommendInfo        RecommendInfo `json:"RecommendInfo"`
	ForwardFlag          int           `json:"ForwardFlag"`
	AppInfo              AppInfo       `json:"AppInfo"`
	HasProductId         int           `json:"HasProductId"`
	Ticket               string        `json:"Ticket"`
	ImgHeight            int           `json:"ImgHeight"`
	ImgWidth             int           `json:"ImgWidth"`
	SubMsgType           int           `json:"SubMsgType"`
	NewMsgId             FlexInt       `json:"NewMsgId"`
	OriContent           string        `json:"OriContent"`
	EncryFileName        string        `json:"EncryFileName"`
}

// Buff wraps a string in the Profile object.
type Buff struct {
	Buff string `json:"Buff"`
}

// Profile is the self-profile block of webwxsync; BitFlag 190 means it changed.
type Profile struct {
	BitFlag           int     `json:"BitFlag"`
	UserName          Buff    `json:"UserName"`
	NickName          Buff    `json:"NickName"`
	BindUin           FlexInt `json:"BindUin"`
	BindEmail         Buff    `json:"BindEmail"`
	BindMobile        Buff    `json:"BindMobile"`
	Status            int     `json:"Status"`
	Sex               int     `json:"Sex"`
	PersonalCard      int     `json:"PersonalCard"`
	Alias             string  `json:"Alias"`
	HeadImgUpdateFlag int     `json:"HeadImgUpdateFlag"`
	HeadImgUrl        string  `json:"HeadImgUrl"`
	Signature         string  `json:"Signature"`
}

// ProfileBitFlagChange is PROFILE_BITFLAG_CHANGE.
const ProfileBitFlagChange = 190

// MPArticle and MPSubscribeMsg are the official-account digests of webwxinit.
type MPArticle struct {
	Title  string `json:"Title"`
	Digest string `json:"Digest"`
	Cover  string `json:"Cover"`
	Url    string `json:"Url"`
}

type MPSubscribeMsg struct {
	UserName       UserName    `json:"UserName"`
	MPArticleCount int         `json:"MPArticleCount"`
	MPArticleList  []MPArticle `json:"MPArticleList"`
	Time           int64       `json:"Time"`
	NickName       string      `json:"NickName"`
}

// InitResponse is the answer of webwxinit (§4.1).
type InitResponse struct {
	BaseResponse        BaseResponse     `json:"BaseResponse"`
	Count               int              `json:"Count"`
	ContactList         []Contact        `json:"ContactList"`
	SyncKey             SyncKey          `json:"SyncKey"`
	User                Contact          `json:"User"`
	ChatSet             string           `json:"ChatSet"`
	SKey                string           `json:"SKey"`
	ClientVersion       int64            `json:"ClientVersion"`
	SystemTime          int64            `json:"SystemTime"`
	GrayScale           int              `json:"GrayScale"`
	InviteStartCount    int              `json:"InviteStartCount"`
	MPSubscribeMsgCount int              `json:"MPSubscribeMsgCount"`
	MPSubscribeMsgList  []MPSubscribeMsg `json:"MPSubscribeMsgList"`
	ClickReportInterval int64            `json:"ClickReportInterval"`
}

// SyncResponse is the answer of webwxsync (§4.6).
type SyncResponse struct {
	BaseResponse           BaseResponse      `json:"BaseResponse"`
	AddMsgCount            int               `json:"AddMsgCount"`
	AddMsgList             []Message         `json:"AddMsgList"`
	ModContactCount        int               `json:"ModContactCount"`
	ModContactList         []Contact         `json:"ModContactList"`
	DelContactCount        int               `json:"DelContactCount"`
	DelContactList         []DelContact      `json:"DelContactList"`
	ModChatRoomMemberCount int               `json:"ModChatRoomMemberCount"`
	ModChatRoomMemberList  []json.RawMessage `json:"ModChatRoomMemberList"`
	Profile                Profile           `json:"Profile"`
	ContinueFlag           int               `json:"ContinueFlag"`
	SyncKey                SyncKey           `json:"SyncKey"`
	SKey                   string            `json:"SKey"`
	SyncCheckKey           *SyncKey          `json:"SyncCheckKey,omitempty"`
}

// GetContactResponse is the answer of webwxgetcontact (§4.3).
type GetContactResponse struct {
	BaseResponse BaseResponse `json:"BaseResponse"`
	Seq          FlexInt      `json:"Seq"`
	MemberCount  int          `json:"MemberCount"`
	MemberList   []Contact    `json:"MemberList"`
}

// BatchContactItem is one entry of a webwxbatchgetcontact request. Sources disagree on
// the second key (§4.4), so both are present.
type BatchContactItem struct {
	UserName        UserName `json:"UserName"`
	EncryChatRoomId string   `json:"EncryChatRoomId"`
	ChatRoomId      string   `json:"ChatRoomId,omitempty"`
}

// BatchGetContactRequest is the body of webwxbatchgetcontact.
type BatchGetContactRequest struct {
	BaseRequest BaseRequest        `json:"BaseRequest"`
	Count       int                `json:"Count"`
	List        []BatchContactItem `json:"List"`
}

// BatchGetContactResponse is the answer of webwxbatchgetcontact.
type BatchGetContactResponse struct {
	BaseResponse BaseResponse `json:"BaseResponse"`
	Count        int          `json:"Count"`
	ContactList  []Contact    `json:"ContactList"`
}

// SendMsg is the Msg object of the send endpoints (§4.7–4.11).
type SendMsg struct {
	Type         int        `json:"Type"`
	Content      string     `json:"Content"`
	FromUserName UserName   `json:"FromUserName"`
	ToUserName   UserName   `json:"ToUserName"`
	LocalID      FlexString `json:"LocalID"`
	ClientMsgId  FlexString `json:"ClientMsgId"`
	MediaId      string     `json:"MediaId,omitempty"`
	EmojiFlag    int        `json:"EmojiFlag,omitempty"`
	EMoticonMd5  string     `json:"EMoticonMd5,omitempty"`
	Signature    string     `json:"Signature,omitempty"`
	MsgSource    string     `json:"MsgSource,omitempty"`
}

// SendRequest is the body of the send endpoints.
type SendRequest struct {
	BaseRequest BaseRequest `json:"BaseRequest"`
	Msg         SendMsg     `json:"Msg"`
	Scene       int         `json:"Scene"`
}

// SendResponse is their answer: MsgID is the server's id of the message.
type SendResponse struct {
	BaseResponse BaseResponse `json:"BaseResponse"`
	MsgID        string       `json:"MsgID"`
	LocalID      string       `json:"LocalID"`
}

// StatusNotifyRequest is the body of webwxstatusnotify (§4.2).
type StatusNotifyRequest struct {
	BaseRequest  BaseRequest `json:"BaseRequest"`
	Code         int         `json:"Code"`
	FromUserName UserName    `json:"FromUserName"`
	ToUserName   UserName    `json:"ToUserName"`
	ClientMsgId  FlexString  `json:"ClientMsgId"`
}

// StatusNotifyResponse is its answer.
type StatusNotifyResponse struct {
	BaseResponse BaseResponse `json:"BaseResponse"`
	MsgID        string       `json:"MsgID"`
}

// StatusNotify codes (StatusNotifyCode_*).
const (
	StatusNotifyRead         = 1
	StatusNotifyEnterSession = 2
	StatusNotifyInited       = 3
	StatusNotifySyncConv     = 4
	StatusNotifyQuitSession  = 5
)

// UploadMediaRequest is the JSON in the uploadmediarequest form field (§4.13).
type UploadMediaRequest struct {
	UploadType    int         `json:"UploadType"`
	BaseRequest   BaseRequest `json:"BaseRequest"`
	ClientMediaId FlexString  `json:"ClientMediaId"`
	TotalLen      int64       `json:"TotalLen"`
	StartPos      int64       `json:"StartPos"`
	DataLen       int64       `json:"DataLen"`
	MediaType     int         `json:"MediaType"`
	FromUserName  UserName    `json:"FromUserName"`
	ToUserName    UserName    `json:"ToUserName"`
	FileMd5       string      `json:"FileMd5,omitempty"`
	AESKey        string      `json:"AESKey,omitempty"`
	Signature     string      `json:"Signature,omitempty"`
}

// UploadMediaResponse is the answer of webwxuploadmedia.
type UploadMediaResponse struct {
	BaseResponse      BaseResponse `json:"BaseResponse"`
	MediaId           string       `json:"MediaId"`
	StartPos          int64        `json:"StartPos"`
	CDNThumbImgHeight int          `json:"CDNThumbImgHeight"`
	CDNThumbImgWidth  int          `json:"CDNThumbImgWidth"`
	EncryFileName     string       `json:"EncryFileName"`
}

// CheckUploadRequest is the body of webwxcheckupload (§4.12).
type CheckUploadRequest struct {
	BaseRequest  BaseRequest `json:"BaseRequest"`
	FileMd5      string      `json:"FileMd5"`
	FileName     string      `json:"FileName"`
	FileSize     int64       `json:"FileSize"`
	FileType     int         `json:"FileType"`
	FromUserName UserName    `json:"FromUserName"`
	ToUserName   UserName    `json:"ToUserName"`
}

// CheckUploadResponse is its answer.
type CheckUploadResponse struct {
	BaseResponse  BaseResponse `json:"BaseResponse"`
	MediaId       string       `json:"MediaId"`
	AESKey        string       `json:"AESKey"`
	Signature     string       `json:"Signature"`
	EncryFileName string       `json:"EncryFileName"`
}

// RevokeRequest is the body of webwxrevokemsg (§4.15).
type RevokeRequest struct {
	BaseRequest BaseRequest `json:"BaseRequest"`
	SvrMsgId    string      `json:"SvrMsgId"`
	ToUserName  UserName    `json:"ToUserName"`
	ClientMsgId FlexString  `json:"ClientMsgId"`
}

// RevokeResponse is its answer.
type RevokeResponse struct {
	BaseResponse BaseResponse `json:"BaseResponse"`
	Introduction string       `json:"Introduction"`
	SysWording   string       `json:"SysWording"`
}

// VerifyUser is one entry of VerifyUserList.
type VerifyUser struct {
	Value            UserName `json:"Value"`
	VerifyUserTicket string   `json:"VerifyUserTicket"`
}

// VerifyUserRequest is the body of webwxverifyuser (§4.17). Note the lower-case skey.
type VerifyUserRequest struct {
	BaseRequest        BaseRequest  `json:"BaseRequest"`
	Opcode             int          `json:"Opcode"`
	VerifyUserListSize int          `json:"VerifyUserListSize"`
	VerifyUserList     []VerifyUser `json:"VerifyUserList"`
	VerifyContent      string       `json:"VerifyContent"`
	SceneListCount     int          `json:"SceneListCount"`
	SceneList          []int        `json:"SceneList"`
	Skey               string       `json:"skey"`
}

// VERIFYUSER_OPCODE_* values.
const (
	VerifyOpAddContact  = 1
	VerifyOpSendRequest = 2
	VerifyOpVerifyOK    = 3
	VerifyOpReject      = 4
)

// UpdateChatRoomRequest is the body of webwxupdatechatroom (§4.19); lists are
// comma-joined strings.
type UpdateChatRoomRequest struct {
	BaseRequest      BaseRequest `json:"BaseRequest"`
	ChatRoomName     UserName    `json:"ChatRoomName"`
	AddMemberList    string      `json:"AddMemberList,omitempty"`
	InviteMemberList string      `json:"InviteMemberList,omitempty"`
	DelMemberList    string      `json:"DelMemberList,omitempty"`
	NewTopic         string      `json:"NewTopic,omitempty"`
}

// ChatRoomResponse answers webwxupdatechatroom and webwxcreatechatroom.
type ChatRoomResponse struct {
	BaseResponse BaseResponse `json:"BaseResponse"`
	Topic        string       `json:"Topic,omitempty"`
	PYInitial    string       `json:"PYInitial,omitempty"`
	QuanPin      string       `json:"QuanPin,omitempty"`
	MemberCount  int          `json:"MemberCount"`
	MemberList   []Member     `json:"MemberList"`
	ChatRoomName UserName     `json:"ChatRoomName,omitempty"`
	BlackList    string       `json:"BlackList,omitempty"`
}

// CreateChatRoomMember is a MemberList entry of webwxcreatechatroom.
type CreateChatRoomMember struct {
	UserName UserName `json:"UserName"`
}

// CreateChatRoomRequest is the body of webwxcreatechatroom (§4.18).
type CreateChatRoomRequest struct {
	BaseRequest BaseRequest            `json:"BaseRequest"`
	MemberCount int                    `json:"MemberCount"`
	MemberList  []CreateChatRoomMember `json:"MemberList"`
	Topic       string                 `json:"Topic"`
}

// PushLoginResponse is the answer of webwxpushloginurl; ret is a string in practice.
type PushLoginResponse struct {
	Ret  FlexString `json:"ret"`
	Msg  string     `json:"msg"`
	UUID string     `json:"uuid"`
}

// MsgType is the kind of a message (official MSGTYPE_*, §5.2).
type MsgType int

// MsgType values.
const (
	MsgText           MsgType = 1
	MsgImage          MsgType = 3
	MsgVoice          MsgType = 34
	MsgVerify         MsgType = 37
	MsgPossibleFriend MsgType = 40
	MsgShareCard      MsgType = 42
	MsgVideo          MsgType = 43
	MsgEmoticon       MsgType = 47
	MsgLocation       MsgType = 48
	MsgApp            MsgType = 49
	MsgVoip           MsgType = 50
	MsgStatusNotify   MsgType = 51
	MsgVoipNotify     MsgType = 52
	MsgVoipInvite     MsgType = 53
	MsgMicroVideo     MsgType = 62
	MsgSysNotice      MsgType = 9999
	MsgSys            MsgType = 10000
	MsgRecalled       MsgType = 10002
)

var msgTypeNames = map[MsgType]string{
	MsgText: "MsgText", MsgImage: "MsgImage", MsgVoice: "MsgVoice", MsgVerify: "MsgVerify",
	MsgPossibleFriend: "MsgPossibleFriend", MsgShareCard: "MsgShareCard", MsgVideo: "MsgVideo",
	MsgEmoticon: "MsgEmoticon", MsgLocation: "MsgLocation", MsgApp: "MsgApp", MsgVoip: "MsgVoip",
	MsgStatusNotify: "MsgStatusNotify", MsgVoipNotify: "MsgVoipNotify", MsgVoipInvite: "MsgVoipInvite",
	MsgMicroVideo: "MsgMicroVideo", MsgSysNotice: "MsgSysNotice", MsgSys: "MsgSys", MsgRecalled: "MsgRecalled",
}

// String is the constant's name, for logs (portal.KindName names kinds for people).
func (t MsgType) String() string { return constName(msgTypeNames, t, "MsgType") }

// constName is a named number's constant name, or Type(n) for one without a name.
func constName[T ~int](names map[T]string, v T, typeName string) string {
	if n, ok := names[v]; ok {
		return n
	}
	return typeName + "(" + strconv.Itoa(int(v)) + ")"
}

// AppMsgType is the kind of an app message (MsgType 49; APPMSGTYPE_* and newer, §5.3).
type AppMsgType int

// AppMsgType values.
const (
	AppMsgText         AppMsgType = 1
	AppMsgImg          AppMsgType = 2
	AppMsgAudio        AppMsgType = 3
	AppMsgVideo        AppMsgType = 4
	AppMsgURL          AppMsgType = 5
	AppMsgAttach       AppMsgType = 6
	AppMsgOpen         AppMsgType = 7
	AppMsgEmoji        AppMsgType = 8
	AppMsgRealtimeLoc  AppMsgType = 17
	AppMsgChatHistory  AppMsgType = 19
	AppMsgMiniProgram  AppMsgType = 33
	AppMsgMiniProgApp  AppMsgType = 36
	AppMsgChannels     AppMsgType = 51
	AppMsgRefer        AppMsgType = 57
	AppMsgTransfers    AppMsgType = 2000
	AppMsgRedEnvelopes AppMsgType = 2001
)

var appMsgTypeNames = map[AppMsgType]string{
	AppMsgText: "AppMsgText", AppMsgImg: "AppMsgImg", AppMsgAudio: "AppMsgAudio", AppMsgVideo: "AppMsgVideo",
	AppMsgURL: "AppMsgURL", AppMsgAttach: "AppMsgAttach", AppMsgOpen: "AppMsgOpen", AppMsgEmoji: "AppMsgEmoji",
	AppMsgRealtimeLoc: "AppMsgRealtimeLoc", AppMsgChatHistory: "AppMsgChatHistory",
	AppMsgMiniProgram: "AppMsgMiniProgram", AppMsgMiniProgApp: "AppMsgMiniProgApp",
	AppMsgChannels: "AppMsgChannels", AppMsgRefer: "AppMsgRefer", AppMsgTransfers: "AppMsgTransfers",
	AppMsgRedEnvelopes: "AppMsgRedEnvelopes",
}

// String is the constant's name, for logs (portal.KindName names kinds for people).
func (t AppMsgType) String() string { return constName(appMsgTypeNames, t, "AppMsgType") }

// Other protocol numbers.
const (
	SubMsgTypeLocation  = 48
	UploadMediaTypeAtt  = 4
	EmojiFlagGIF        = 2
	FileTypeBigFile     = 7
	ChunkSize           = 512 * 1024
	CheckUploadMinBytes = 25 * 1024 * 1024
)
