package wxsim

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"wxbridge/protoclient"
)

// webwxinit, synccheck and webwxsync. The SyncKey is a cursor into the account's event
// log: Key 1 carries keyBase+seq, so an old key replays what came after it (§7.3).

const keyBase = 600_000_000

func (s *Server) initKey(sess *session, seq int64) protoclient.SyncKey {
	v := keyBase + seq
	return protoclient.SyncKey{Count: 4, List: []protoclient.SyncKeyItem{
		{Key: 1, Val: v}, {Key: 2, Val: v}, {Key: 3, Val: v}, {Key: 1000, Val: sess.loginTime},
	}}
}

func (s *Server) syncKey(sess *session, seq int64) protoclient.SyncKey {
	v := keyBase + seq
	return protoclient.SyncKey{Count: 7, List: []protoclient.SyncKeyItem{
		{Key: 1, Val: v}, {Key: 2, Val: v}, {Key: 3, Val: v}, {Key: 11, Val: v},
		{Key: 201, Val: s.now().Unix()}, {Key: 1000, Val: sess.loginTime}, {Key: 1001, Val: sess.loginTime + 73},
	}}
}

// cursor decodes a presented key into a sequence number the session may start from.
// A key without Key 1 (or garbage) counts as the start of the session.
func (sess *session) cursor(k protoclient.SyncKey) int64 {
	seq := sess.startSeq
	for _, it := range k.List {
		if it.Key == 1 {
			seq = it.Val - keyBase
			break
		}
	}
	if seq < sess.startSeq {
		seq = sess.startSeq
	}
	if seq > sess.acct.seq {
		seq = sess.acct.seq
	}
	return seq
}

// initRecentLimit bounds the recent chats of webwxinit, which is not the contact list.
const initRecentLimit = 20

func (s *Server) handleInit(c *call) {
	br, _ := bodyBaseRequest(c.body)
	sess, code := s.authenticate(c, &br, needSession, nil)
	if code.Ret != 0 {
		s.writeJSON(c, errorBody(c.name, code.Ret))
		return
	}
	s.mu.Lock()
	acct := sess.acct
	ans := protoclient.InitResponse{
		ContactList:         []protoclient.Contact{s.specialContact(sess, "filehelper")},
		User:                s.selfContact(sess),
		SKey:                sess.skey,
		ClientVersion:       385876258,
		SystemTime:          s.now().Unix(),
		GrayScale:           1,
		InviteStartCount:    40,
		MPSubscribeMsgList:  []protoclient.MPSubscribeMsg{},
		ClickReportInterval: 600000,
	}
	for i, p := range acct.friends() {
		if i == initRecentLimit {
			break
		}
		ans.ContactList = append(ans.ContactList, s.personContact(sess, p))
	}
	for i, g := range acct.memberGroups() {
		if i == initRecentLimit {
			break
		}
		gc := s.groupContact(sess, g, false)
		// Recent groups come with a partial member list (§4.1, §9.3).
		gc.MemberList = gc.MemberList[:min(1, len(gc.MemberList))]
		for j := range gc.MemberList {
			gc.MemberList[j].NickName = ""
			gc.MemberList[j].DisplayName = ""
		}
		gc.ContactFlag = 0
		ans.ContactList = append(ans.ContactList, gc)
	}
	var set strings.Builder
	for _, ct := range ans.ContactList {
		set.WriteString(string(ct.UserName) + ",")
	}
	ans.ChatSet = set.String()
	ans.Count = len(ans.ContactList)
	ans.SyncKey = s.initKey(sess, sess.ackSeq)
	s.queueSyncConv(sess)
	s.armEnd(sess)
	s.mu.Unlock()
	s.writeJSON(c, ans)
}

// queueSyncConv queues the MsgType 51 code 4 message the phone pushes after init; its
// <username> list pairs the session UserNames with stable ids (§5.4.7). Callers hold
// s.mu.
func (s *Server) queueSyncConv(sess *session) {
	acct := sess.acct
	var ids []string
	for _, p := range acct.friends() {
		ids = append(ids, p.wxid)
	}
	ids = append(ids, "filehelper")
	for _, g := range acct.memberGroups() {
		ids = append(ids, g.id)
	}
	body := "&lt;msg&gt;<br/>&lt;op id='4'&gt;<br/>&lt;username&gt;" + strings.Join(ids, ",") +
		"&lt;/username&gt;<br/>&lt;unreadchatlist&gt;<br/>&lt;/unreadchatlist&gt;<br/>&lt;unreadfunctionlist&gt;<br/>&lt;/unreadfunctionlist&gt;<br/>&lt;/op&gt;<br/>&lt;/msg&gt;<br/>"
	id, nid := newMsgID()
	acct.append(&event{kind: evMsg, only: sess, msg: &msgEvent{
		id: id, newID: nid, msgType: protoclient.MsgStatusNotify, from: acct.wxid, to: acct.wxid,
		body: body, status: 3, imgStatus: 1, created: s.now().Unix(),
		notifyCode: protoclient.StatusNotifySyncConv, notifyIDs: ids,
	}})
}

func synccheckText(retcode, selector int) string {
	return `window.synccheck={retcode:"` + strconv.Itoa(retcode) + `",selector:"` + strconv.Itoa(selector) + `"}`
}

func (s *Server) handleSyncCheck(c *call) {
	sess, code := s.authenticate(c, nil, needSession, nil)
	if code.Ret != 0 {
		s.writeJS(c, synccheckText(code.Retcode, 0))
		return
	}
	raw := c.q.Get("synckey")
	key, err := protoclient.ParseSyncKeyString(raw)
	if raw == "" || err != nil || len(key.List) == 0 {
		// The real server answers at once when synckey is missing (§4.5).
		s.writeJS(c, synccheckText(0, 0))
		return
	}
	deadline := time.Now().Add(ms(s.Settings().SynccheckHoldMS))
	for {
		s.mu.Lock()
		if sess.dead {
			code := sess.deadAs.Retcode
			s.mu.Unlock()
			s.writeJS(c, synccheckText(code, 0))
			return
		}
		sel := s.selector(sess, sess.cursor(key))
		ch := sess.acct.notify
		s.mu.Unlock()
		left := time.Until(deadline)
		if sel != 0 || left <= 0 {
			s.writeJS(c, synccheckText(0, sel))
			return
		}
		if !s.wait(c, ch, left) {
			return
		}
	}
}

// selector is 2 when messages wait after seq, the contact selector when only contacts
// changed, else 0. Callers hold s.mu.
func (s *Server) selector(sess *session, seq int64) int {
	if len(sess.dupBatch) > 0 {
		return 2
	}
	other := false
	for _, e := range sess.acct.log[seq:] {
		if !sess.visible(e) {
			continue
		}
		if e.messages() > 0 {
			return 2
		}
		other = true
	}
	if other {
		return s.settings.ContactSelector
	}
	return 0
}

type syncAnswer struct {
	BaseResponse           protoclient.BaseResponse `json:"BaseResponse"`
	AddMsgCount            int                      `json:"AddMsgCount"`
	AddMsgList             []json.RawMessage        `json:"AddMsgList"`
	ModContactCount        int                      `json:"ModContactCount"`
	ModContactList         []json.RawMessage        `json:"ModContactList"`
	DelContactCount        int                      `json:"DelContactCount"`
	DelContactList         []json.RawMessage        `json:"DelContactList"`
	ModChatRoomMemberCount int                      `json:"ModChatRoomMemberCount"`
	ModChatRoomMemberList  []json.RawMessage        `json:"ModChatRoomMemberList"`
	Profile                json.RawMessage          `json:"Profile"`
	ContinueFlag           int                      `json:"ContinueFlag"`
	SyncKey                protoclient.SyncKey      `json:"SyncKey"`
	SKey                   string                   `json:"SKey"`
	SyncCheckKey           *protoclient.SyncKey     `json:"SyncCheckKey,omitempty"`
}

func emptySyncAnswer(ret int) syncAnswer {
	return syncAnswer{
		BaseResponse:          protoclient.BaseResponse{Ret: ret},
		AddMsgList:            []json.RawMessage{},
		ModContactList:        []json.RawMessage{},
		DelContactList:        []json.RawMessage{},
		ModChatRoomMemberList: []json.RawMessage{},
		Profile:               marshalJSON(protoclient.Profile{}),
		SyncKey:               protoclient.SyncKey{List: []protoclient.SyncKeyItem{}},
	}
}

func (s *Server) handleSync(c *call) {
	var req struct {
		BaseRequest protoclient.BaseRequest `json:"BaseRequest"`
		SyncKey     protoclient.SyncKey     `json:"SyncKey"`
		RR          protoclient.FlexInt     `json:"rr"`
	}
	if err := json.Unmarshal(c.body, &req); err != nil {
		s.writeJSON(c, emptySyncAnswer(retParam))
		return
	}
	sess, code := s.authenticate(c, &req.BaseRequest, needSession, nil)
	if code.Ret != 0 {
		s.writeJSON(c, emptySyncAnswer(code.Ret))
		return
	}
	s.mu.Lock()
	acct := sess.acct
	seq := sess.cursor(req.SyncKey)
	if seq > sess.ackSeq {
		sess.ackSeq = seq
	}
	events, last, more := s.batch(sess, seq)
	// A duplicate fault redelivers the previous batch ahead of whatever is new.
	if dup := sess.dupBatch; len(dup) > 0 {
		sess.dupBatch = nil
		seen := map[int64]bool{}
		for _, e := range events {
			seen[e.seq] = true
		}
		var again []*event
		for _, e := range dup {
			if !seen[e.seq] {
				again = append(again, e)
			}
		}
		events = append(again, events...)
	}
	ans := emptySyncAnswer(0)
	withMsgs := []*event{}
	for _, e := range events {
		if e.messages() > 0 {
			withMsgs = append(withMsgs, e)
		}
		s.renderEvent(sess, e, &ans)
	}
	if len(withMsgs) > 0 && s.takeFault(acct.wxid, "webwxsync", faultDuplicate) {
		sess.dupBatch = withMsgs
		s.log.Info().Str("account", acct.wxid).Int("messages", len(withMsgs)).Msg("fault: batch will be delivered twice")
	}
	if last > acct.deliveredSeq {
		acct.deliveredSeq = last
	}
	ans.AddMsgCount = len(ans.AddMsgList)
	ans.ModContactCount = len(ans.ModContactList)
	ans.DelContactCount = len(ans.DelContactList)
	ans.ModChatRoomMemberCount = len(ans.ModChatRoomMemberList)
	if more {
		ans.ContinueFlag = 1
	}
	ans.SyncKey = s.syncKey(sess, last)
	switch s.settings.SyncCheckKey {
	case "equal":
		k := ans.SyncKey
		ans.SyncCheckKey = &k
	case "ahead":
		k := s.syncKey(sess, acct.seq)
		ans.SyncCheckKey = &k
	}
	if s.takeFault(acct.wxid, "webwxsync", faultEmptySyncKey) {
		empty := protoclient.SyncKey{List: []protoclient.SyncKeyItem{}}
		ans.SyncKey = empty
		if ans.SyncCheckKey != nil {
			ans.SyncCheckKey = &empty
		}
	}
	secure := s.settings.CookieSecure
	s.mu.Unlock()
	s.setSessionCookies(c, sess, secure, true)
	s.writeJSON(c, ans)
}

// batch collects the events after seq, at most sync_batch_max messages; last is the
// cursor after them and more says whether visible events remain. Callers hold s.mu.
func (s *Server) batch(sess *session, seq int64) (events []*event, last int64, more bool) {
	max := s.settings.SyncBatchMax
	n := 0
	last = seq
	for _, e := range sess.acct.log[seq:] {
		if !sess.visible(e) {
			last = e.seq
			continue
		}
		m := e.messages()
		if m > 0 && n > 0 && n+m > max {
			return events, last, true
		}
		events = append(events, e)
		n += m
		last = e.seq
	}
	return events, last, false
}

// renderEvent writes one event in the session's UserNames. Callers hold s.mu.
func (s *Server) renderEvent(sess *session, e *event, ans *syncAnswer) {
	switch e.kind {
	case evMsg:
		ans.AddMsgList = append(ans.AddMsgList, s.renderMsg(sess, e.msg))
	case evModContact:
		ans.ModContactList = append(ans.ModContactList, marshalJSON(s.modContact(sess, e.id)))
	case evDelContact:
		ans.DelContactList = append(ans.DelContactList, marshalJSON(protoclient.DelContact{UserName: sess.userName(e.id)}))
	case evProfile:
		a := sess.acct
		ans.Profile = marshalJSON(protoclient.Profile{
			BitFlag: protoclient.ProfileBitFlagChange, UserName: protoclient.Buff{Buff: string(sess.selfName)},
			NickName: protoclient.Buff{Buff: a.nickname}, HeadImgUpdateFlag: 1,
			HeadImgUrl: iconURL("webwxgeticon", avatarSeq(a.wxid, a.avatar), sess.selfName, sess.skey),
		})
	case evRaw:
		for _, m := range e.raw.AddMsgList {
			ans.AddMsgList = append(ans.AddMsgList, replacePlaceholders(sess, m))
		}
		for _, m := range e.raw.ModContactList {
			ans.ModContactList = append(ans.ModContactList, replacePlaceholders(sess, m))
		}
		for _, m := range e.raw.DelContactList {
			ans.DelContactList = append(ans.DelContactList, replacePlaceholders(sess, m))
		}
		for _, m := range e.raw.ModChatRoomMemberList {
			ans.ModChatRoomMemberList = append(ans.ModChatRoomMemberList, replacePlaceholders(sess, m))
		}
		if len(e.raw.Profile) > 0 {
			ans.Profile = replacePlaceholders(sess, e.raw.Profile)
		}
	}
}
