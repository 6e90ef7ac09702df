package wxsim

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"

	"wxbridge/protoclient"
)

// Contact objects in a session's UserNames (§6.1) and the contact endpoints (§4.3, §4.4,
// §4.14 icons, §4.16 oplog).

const (
	flagContact     = 0x1 | 0x2
	flagNotifyClose = 0x200
	flagTop         = 0x800
)

func attrStatus(id string) protoclient.FlexInt {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return protoclient.FlexInt(h.Sum32() % 1_000_000)
}

func iconURL(endpoint string, seq uint32, name protoclient.UserName, skey string) string {
	return fmt.Sprintf("/cgi-bin/mmwebwx-bin/%s?seq=%d&username=%s&skey=%s", endpoint, seq, name, skey)
}

func (s *Server) selfContact(sess *session) protoclient.Contact {
	a := sess.acct
	return protoclient.Contact{
		Uin: protoclient.FlexInt(a.uin), UserName: sess.selfName, NickName: a.nickname,
		HeadImgUrl: iconURL("webwxgeticon", avatarSeq(a.wxid, a.avatar), sess.selfName, sess.skey),
		MemberList: []protoclient.Member{}, HeadImgFlag: 1, SnsFlag: 17,
	}
}

func (s *Server) specialContact(sess *session, id string) protoclient.Contact {
	return protoclient.Contact{
		UserName: protoclient.UserName(id), NickName: specialNames[id], ContactFlag: flagContact,
		HeadImgUrl: iconURL("webwxgeticon", avatarSeq(id, nil), protoclient.UserName(id), sess.skey),
		MemberList: []protoclient.Member{}, KeyWord: id[:min(3, len(id))],
	}
}

func (s *Server) personContact(sess *session, p *person) protoclient.Contact {
	name := sess.userName(p.wxid)
	flag := 0
	if p.friend {
		flag = flagContact
	}
	if p.pinned {
		flag |= flagTop
	}
	if p.muted {
		flag |= flagNotifyClose
	}
	return protoclient.Contact{
		UserName: name, NickName: p.nickname,
		HeadImgUrl:  iconURL("webwxgeticon", avatarSeq(p.wxid, p.avatar), name, sess.skey),
		ContactFlag: flag, MemberList: []protoclient.Member{}, RemarkName: p.remark, Sex: p.sex,
		Signature: p.signature, AttrStatus: attrStatus(p.wxid), Province: p.province, City: p.city,
		Alias: p.alias, SnsFlag: 1, VerifyFlag: p.verifyFlag,
	}
}

func (s *Server) members(sess *session, g *group) []protoclient.Member {
	out := make([]protoclient.Member, 0, len(g.members))
	for _, id := range g.members {
		m := protoclient.Member{UserName: sess.userName(id), DisplayName: g.display[id], AttrStatus: attrStatus(id)}
		if id == sess.acct.wxid {
			m.NickName = sess.acct.nickname
		} else if p := sess.acct.people[id]; p != nil {
			m.NickName = p.nickname
		} else {
			m.NickName = id
		}
		out = append(out, m)
	}
	return out
}

// groupContact renders a group; batch answers carry EncryChatRoomId and an empty skey in
// HeadImgUrl like the capture (§9.4).
func (s *Server) groupContact(sess *session, g *group, batch bool) protoclient.Contact {
	name := sess.userName(g.id)
	skey := sess.skey
	if batch {
		skey = ""
	}
	flag, statues := flagContact, 1
	if g.pinned {
		flag |= flagTop
	}
	if g.muted {
		statues = 0
	}
	ct := protoclient.Contact{
		UserName: name, NickName: g.name,
		HeadImgUrl:  iconURL("webwxgetheadimg", avatarSeq(g.id, g.avatar), name, skey),
		ContactFlag: flag, MemberCount: len(g.members), MemberList: s.members(sess, g),
		Statues: statues, EncryChatRoomId: sess.encID(g.id),
	}
	if g.owner == sess.acct.wxid {
		ct.IsOwner = 1
		ct.OwnerUin = protoclient.FlexInt(sess.acct.uin)
	}
	return ct
}

// modContact is a ModContactList entry: the current state of a contact or group.
func (s *Server) modContact(sess *session, id string) protoclient.Contact {
	a := sess.acct
	if g := a.groups[id]; g != nil {
		ct := s.groupContact(sess, g, false)
		ct.HeadImgUpdateFlag = 1
		if g.owner != "" {
			ct.ChatRoomOwner = string(sess.userName(g.owner))
		}
		return ct
	}
	if p := a.people[id]; p != nil {
		ct := s.personContact(sess, p)
		ct.HeadImgUpdateFlag = 1
		return ct
	}
	if isSpecial(id) {
		return s.specialContact(sess, id)
	}
	return protoclient.Contact{UserName: sess.userName(id), MemberList: []protoclient.Member{}}
}

type getContactAnswer struct {
	BaseResponse protoclient.BaseResponse `json:"BaseResponse"`
	Seq          int64                    `json:"Seq"`
	MemberCount  int                      `json:"MemberCount"`
	MemberList   []protoclient.Contact    `json:"MemberList"`
}

func (s *Server) handleGetContact(c *call) {
	var brp *protoclient.BaseRequest
	if br, ok := bodyBaseRequest(c.body); ok {
		brp = &br
	}
	sess, code := s.authenticate(c, brp, needSession, nil)
	if code.Ret != 0 {
		s.writeJSON(c, errorBody(c.name, code.Ret))
		return
	}
	offset := parseInt(c.q.Get("seq"))
	if offset == 0 && len(c.body) > 0 {
		var v struct {
			Seq protoclient.FlexInt `json:"Seq"`
		}
		if json.Unmarshal(c.body, &v) == nil {
			offset = int64(v.Seq)
		}
	}
	s.mu.Lock()
	all := []protoclient.Contact{s.specialContact(sess, "filehelper")}
	for _, p := range sess.acct.friends() {
		all = append(all, s.personContact(sess, p))
	}
	for _, g := range sess.acct.memberGroups() {
		// Saved groups come without members (§4.3).
		gc := s.groupContact(sess, g, false)
		gc.MemberList, gc.MemberCount, gc.EncryChatRoomId = []protoclient.Member{}, 0, ""
		all = append(all, gc)
	}
	size := int64(s.settings.ContactPageSize)
	s.mu.Unlock()
	if offset < 0 || offset > int64(len(all)) {
		offset = int64(len(all))
	}
	page, next := all[offset:], int64(0)
	if size > 0 && int64(len(page)) > size {
		page, next = page[:size], offset+size
	}
	s.writeJSON(c, getContactAnswer{Seq: next, MemberCount: len(page), MemberList: page})
}

func (s *Server) handleBatchGetContact(c *call) {
	var req protoclient.BatchGetContactRequest
	sess := s.decodeAuthed(c, &req, &req.BaseRequest)
	if sess == nil {
		return
	}
	s.mu.Lock()
	a := sess.acct
	out := []protoclient.Contact{}
	for _, it := range req.List {
		id := sess.idOf(it.UserName)
		switch {
		case id == "":
			continue
		case id == a.wxid:
			out = append(out, s.selfContact(sess))
		case isSpecial(id):
			out = append(out, s.specialContact(sess, id))
		case a.groups[id] != nil:
			out = append(out, s.groupContact(sess, a.groups[id], true))
		case a.people[id] != nil:
			ct := s.personContact(sess, a.people[id])
			room := it.EncryChatRoomId
			if room == "" {
				room = it.ChatRoomId
			}
			gid := sess.byEnc[room]
			if gid == "" {
				gid = sess.idOf(protoclient.UserName(room))
			}
			if g := a.groups[gid]; g != nil {
				ct.DisplayName = g.display[id]
			}
			out = append(out, ct)
		}
	}
	s.mu.Unlock()
	s.writeJSON(c, protoclient.BatchGetContactResponse{Count: len(out), ContactList: out})
}

func (s *Server) handleGetIcon(c *call) {
	sess, code := s.authenticate(c, nil, needSession, nil)
	if code.Ret != 0 {
		c.w.WriteHeader(http.StatusForbidden)
		return
	}
	s.mu.Lock()
	a := sess.acct
	id := sess.idOf(protoclient.UserName(c.q.Get("username")))
	var img []byte
	known := true
	switch {
	case id == "":
		known = false
	case id == a.wxid:
		img = a.avatar
	case a.groups[id] != nil:
		img = a.groups[id].avatar
	case a.people[id] != nil:
		img = a.people[id].avatar
	}
	s.mu.Unlock()
	c.w.Header().Set("Content-Type", "image/jpeg")
	if !known {
		// The real server sometimes answers an empty image (§4.14).
		c.w.Header().Set("Content-Length", "0")
		c.w.WriteHeader(http.StatusOK)
		return
	}
	if len(img) == 0 {
		img = defaultAvatar(id)
	} else {
		c.w.Header().Set("Content-Type", http.DetectContentType(img))
	}
	c.w.Header().Set("Content-Length", strconv.Itoa(len(img)))
	_, _ = c.w.Write(img)
}

func (s *Server) handleOplog(c *call) {
	var req struct {
		BaseRequest protoclient.BaseRequest `json:"BaseRequest"`
		CmdId       int                     `json:"CmdId"`
		OP          int                     `json:"OP"`
		RemarkName  string                  `json:"RemarkName"`
		UserName    protoclient.UserName    `json:"UserName"`
	}
	if err := json.Unmarshal(c.body, &req); err != nil {
		s.writeJSON(c, errorBody(c.name, retParam))
		return
	}
	sess, code := s.authenticate(c, &req.BaseRequest, needSession, nil)
	if code.Ret != 0 {
		s.writeJSON(c, errorBody(c.name, code.Ret))
		return
	}
	s.mu.Lock()
	a := sess.acct
	id := sess.idOf(req.UserName)
	p, g := a.people[id], a.groups[id]
	ret := 0
	switch {
	case g != nil && req.CmdId == 3:
		// Groups are pinned the same way; a group has no remark to keep.
		g.pinned = req.OP == 1
	case p == nil:
		ret = retParam
	case req.CmdId == 2:
		p.remark = req.RemarkName
	case req.CmdId == 3:
		// Without the current RemarkName the remark is overwritten (§4.16).
		p.pinned = req.OP == 1
		p.remark = req.RemarkName
	default:
		ret = retParam
	}
	if ret == 0 {
		a.append(&event{kind: evModContact, id: id})
	}
	s.mu.Unlock()
	s.writeJSON(c, errorBody(c.name, ret))
}
