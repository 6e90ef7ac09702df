package wxsim

import (
	"encoding/json"
	"hash/crc32"
	"strings"
	"time"

	"wxbridge/protoclient"
)

// The world as wxsim knows it. Everything is keyed by stable WeChat ids (wxid_…,
// …@chatroom); sessions translate them to their own UserNames when they render the wire.

type person struct {
	wxid      string
	nickname  string
	remark    string
	signature string
	sex       int
	province  string
	city      string
	alias     string
	avatar    []byte
	friend    bool
	pinned    bool // ContactFlag TOPCONTACT (§6.3)
	muted     bool // ContactFlag NOTIFYCLOSECONTACT
	// verifyFlag is non-zero for official accounts (8 personal, 24 service, §6.1).
	verifyFlag int
}

// avatarSeq changes whenever the avatar bytes change; clients use it as an avatar id.
func avatarSeq(id string, avatar []byte) uint32 {
	if len(avatar) == 0 {
		return crc32.ChecksumIEEE([]byte(id)) % 1_000_000_000
	}
	return crc32.ChecksumIEEE(avatar) % 1_000_000_000
}

type group struct {
	id      string
	name    string
	members []string
	display map[string]string
	owner   string
	avatar  []byte
	pinned  bool // ContactFlag TOPCONTACT, as for people
	muted   bool // Statues 0 (CHATROOM_NOTIFY_CLOSE, §6.1)
}

func (g *group) has(wxid string) bool {
	for _, m := range g.members {
		if m == wxid {
			return true
		}
	}
	return false
}

// SentMessage is an entry of GET /sent: a message the account sent through a send
// endpoint. Type is the MsgType it has on the wire (49 for files; AppMsgType then says
// which app message); Endpoint is an extension.
type SentMessage struct {
	MsgID       string `json:"msg_id"`
	ClientMsgID string `json:"client_msg_id"`
	Type        int    `json:"type"`
	AppMsgType  int    `json:"app_msg_type,omitempty"`
	To          string `json:"to"`
	Content     string `json:"content"`
	FileName    string `json:"file_name"`
	MediaSHA256 string `json:"media_sha256"`
	Attempts    int    `json:"attempts"`
	Created     int64  `json:"created"`
	Endpoint    string `json:"endpoint"`

	at time.Time
}

// RevokeRecord is an entry of GET /revoked.
type RevokeRecord struct {
	MsgID       string `json:"msg_id"`
	ClientMsgID string `json:"client_msg_id"`
	Ret         int    `json:"ret"`
}

// MarkRead is an entry of GET /marked-read.
type MarkRead struct {
	Chat string `json:"chat"`
	At   int64  `json:"at"`
}

// FriendRequest is an entry of GET /friend-requests; State is pending, accepted or
// rejected; Nickname, Ticket and MsgID are extensions.
type FriendRequest struct {
	From     string `json:"from"`
	Nickname string `json:"nickname"`
	State    string `json:"state"`
	Ticket   string `json:"ticket"`
	MsgID    string `json:"msg_id"`
}

type account struct {
	wxid     string
	nickname string
	uin      int64
	host     string
	avatar   []byte

	people      map[string]*person
	friendOrder []string
	groups      map[string]*group
	groupOrder  []string

	log          []*event
	seq          int64
	deliveredSeq int64
	notify       chan struct{}

	sessionCount int
	live         *session

	sent         []*SentMessage
	sentByClient map[string]*SentMessage
	sentByMsgID  map[string]*SentMessage
	revoked      []RevokeRecord
	markedRead   []MarkRead
	friendReqs   []*FriendRequest

	// devices maps webwx_auth_ticket to webwxuvid of every login, for push login.
	devices map[string]string
	msgs    map[string]*msgEvent
}

func newAccount(wxid, nickname string, uin int64, host string) *account {
	return &account{
		wxid: wxid, nickname: nickname, uin: uin, host: host,
		people:       map[string]*person{},
		groups:       map[string]*group{},
		notify:       make(chan struct{}),
		sentByClient: map[string]*SentMessage{},
		sentByMsgID:  map[string]*SentMessage{},
		devices:      map[string]string{},
		msgs:         map[string]*msgEvent{},
	}
}

// wake releases every long poll waiting on this account.
func (a *account) wake() {
	close(a.notify)
	a.notify = make(chan struct{})
}

// personFor returns the person with that wxid, creating a stranger when unknown
// (group members and requesters need not be friends).
func (a *account) personFor(wxid string) *person {
	p := a.people[wxid]
	if p == nil {
		p = &person{wxid: wxid, nickname: wxid}
		a.people[wxid] = p
	}
	return p
}

func (a *account) friends() []*person {
	var out []*person
	for _, id := range a.friendOrder {
		if p := a.people[id]; p != nil && p.friend {
			out = append(out, p)
		}
	}
	return out
}

func (a *account) memberGroups() []*group {
	var out []*group
	for _, id := range a.groupOrder {
		if g := a.groups[id]; g != nil && g.has(a.wxid) {
			out = append(out, g)
		}
	}
	return out
}

// displayName is how a person is named in texts of a chat: the group nickname, else
// the remark, else the nickname.
func (a *account) displayName(wxid string, g *group) string {
	if wxid == a.wxid {
		return a.nickname
	}
	if g != nil {
		if d := g.display[wxid]; d != "" {
			return d
		}
	}
	p := a.people[wxid]
	if p == nil {
		return wxid
	}
	if p.remark != "" {
		return p.remark
	}
	return p.nickname
}

// specialNames are accounts whose UserName is fixed and equal to their id.
var specialNames = map[string]string{
	"filehelper": "文件传输助手",
	"fmessage":   "朋友推荐消息",
	"weixin":     "微信团队",
	"newsapp":    "腾讯新闻",
}

func isSpecial(id string) bool { _, ok := specialNames[id]; return ok }

// session is one web login: its credentials and its own UserNames for everyone.
type session struct {
	acct       *account
	sid        string
	skey       string
	passTicket string
	dataTicket string
	uin        int64
	host       string
	selfName   protoclient.UserName
	loginTime  int64

	names  map[string]protoclient.UserName // stable id -> UserName
	byName map[protoclient.UserName]string // UserName -> stable id
	encIDs map[string]string               // group id -> EncryChatRoomId
	byEnc  map[string]string

	startSeq int64
	ackSeq   int64
	lastSeen time.Time
	dead     bool
	deadAs   denial // how requests of the dead session are refused
	dupBatch []*event

	// logout_after_login_ms as it was when the session was created, so that changing
	// the setting affects only later sessions; endAt is set at the first webwxinit.
	endAfter time.Duration
	endCode  int
	endAt    time.Time
	endTimer Timer
}

func (s *session) userName(id string) protoclient.UserName {
	if id == s.acct.wxid || id == "self" {
		return s.selfName
	}
	if isSpecial(id) || id == "" {
		return protoclient.UserName(id) // a special account's fixed name is its UserName
	}
	if n, ok := s.names[id]; ok {
		return n
	}
	var n protoclient.UserName
	if strings.HasSuffix(id, "@chatroom") {
		n = newGroupName()
	} else {
		n = newUserName()
	}
	s.names[id] = n
	s.byName[n] = id
	return n
}

// idOf maps a UserName of this session back to the stable id; "" when unknown.
func (s *session) idOf(name protoclient.UserName) string {
	switch {
	case name == "":
		return ""
	case name == s.selfName:
		return s.acct.wxid
	case isSpecial(string(name)):
		return string(name)
	}
	return s.byName[name]
}

func (s *session) encID(gid string) string {
	if e, ok := s.encIDs[gid]; ok {
		return e
	}
	e := newEncryChatRoomID()
	s.encIDs[gid] = e
	s.byEnc[e] = gid
	return e
}

// kill ends the session the way the contract's logout does: synccheck answers code,
// the APIs 1101.
func (s *session) kill(code int) {
	s.end(denial{Ret: retSessionInvalid, Retcode: code})
}

// end makes the session dead on the server; every later request is refused with d,
// and waiting long polls wake to say so.
func (s *session) end(d denial) {
	if s.dead {
		return
	}
	s.dead = true
	s.deadAs = d
	if s.endTimer != nil {
		s.endTimer.Stop()
	}
	if s.acct.live == s {
		s.acct.live = nil
	}
	s.acct.wake()
}

// event is one entry of an account's change log; its seq is what a SyncKey encodes.
type eventKind int

const (
	evMsg eventKind = iota
	evModContact
	evDelContact
	evRaw
	evProfile
)

type event struct {
	seq  int64
	kind eventKind
	only *session // set for events that belong to one session (the op-4 message)
	msg  *msgEvent
	id   string // evModContact / evDelContact
	raw  *SyncFragment
}

func (e *event) messages() int {
	switch e.kind {
	case evMsg:
		return 1
	case evRaw:
		return len(e.raw.AddMsgList)
	}
	return 0
}

// SyncFragment is the body of POST /sync-raw: webwxsync lists delivered verbatim.
type SyncFragment struct {
	AddMsgList            []json.RawMessage `json:"AddMsgList"`
	ModContactList        []json.RawMessage `json:"ModContactList"`
	DelContactList        []json.RawMessage `json:"DelContactList"`
	ModChatRoomMemberList []json.RawMessage `json:"ModChatRoomMemberList"`
	// Profile (extension) replaces the answer's Profile block verbatim.
	Profile json.RawMessage `json:"Profile,omitempty"`
}

// msgEvent is a message in stable ids; render turns it into a session's wire Message.
type msgEvent struct {
	id         string
	newID      int64
	msgType    protoclient.MsgType
	from, to   string
	sender     string // group messages from others: prefixes "@sender:<br/>"
	body       string // wire content without the prefix
	status     int
	imgStatus  int
	created    int64
	voiceLen   int64
	playLen    int64
	imgW, imgH int
	fileName   string
	fileSize   string
	mediaID    string
	encFile    string
	url        string
	appMsgType protoclient.AppMsgType
	appInfo    protoclient.AppInfo
	notifyCode int
	notifyIDs  []string
	recommend  *recommend
	raw        json.RawMessage

	media *mediaObj
	thumb []byte
}

type recommend struct {
	wxid     string
	nickname string
	content  string
	ticket   string
}

func (a *account) append(e *event) {
	a.seq++
	e.seq = a.seq
	a.log = append(a.log, e)
	if e.msg != nil {
		a.msgs[e.msg.id] = e.msg
	}
	a.wake()
}

// visible reports whether the session may see the event at all.
func (s *session) visible(e *event) bool {
	return e.seq > s.startSeq && (e.only == nil || e.only == s)
}

// chatOf names the conversation of a message in stable ids, as the revoke XML does.
func (m *msgEvent) chat(self string) string {
	switch {
	case isGroupID(m.from):
		return m.from
	case isGroupID(m.to):
		return m.to
	case m.from == self:
		return m.to
	}
	return m.from
}

func hostFamilyDataDomain(host string) string {
	if strings.HasSuffix(host, "wechat.com") {
		return ".wechat.com"
	}
	if strings.HasSuffix(host, "qq.com") {
		return ".qq.com"
	}
	parts := strings.Split(host, ".")
	if len(parts) >= 2 {
		return "." + strings.Join(parts[len(parts)-2:], ".")
	}
	return host
}
